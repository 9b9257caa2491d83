from __future__ import annotations

import pytest

from sandbox.telegram import TelegramEmulator
from tests.e2e.harness import Harness


@pytest.fixture
async def emu():
    e = TelegramEmulator()
    await e.start()
    yield e
    await e.stop()


@pytest.fixture
async def h(emu: TelegramEmulator, db_url: str):
    harness = Harness(emu, db_url)
    await harness.start()
    await harness.cast()
    yield harness
    await harness.close()
