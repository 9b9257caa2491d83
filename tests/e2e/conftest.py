from __future__ import annotations

import pytest

from sandbox.telegram import TelegramEmulator
from tests.e2e.harness import Harness, fail_on_refusals


@pytest.fixture
async def emu(request: pytest.FixtureRequest):
    e = TelegramEmulator()
    await e.start()
    yield e
    await e.stop()
    fail_on_refusals(e, request)


@pytest.fixture
async def h(emu: TelegramEmulator, db_url: str):
    harness = Harness(emu, db_url)
    await harness.start()
    await harness.cast()
    yield harness
    await harness.close()
