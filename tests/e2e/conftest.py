from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.telegram import TelegramEmulator
from tests.e2e.harness import Harness, fail_on_refusals
from tests.sopfiles import BOGOR_FILE, SOP_FILES

# For the tests that run under both shipped SOP files:
#     @BOTH_SOPS
#     async def test_...(h: Harness) -> None: ...
BOTH_SOPS = pytest.mark.parametrize("sop_file", SOP_FILES, indirect=True, ids=["bogor", "sukamaju"])


@pytest.fixture
def sop_file(request: pytest.FixtureRequest) -> Path:
    """The SOP file the harness runs: Bogor's, unless the test is parametrized (``BOTH_SOPS``)."""
    return getattr(request, "param", BOGOR_FILE)


@pytest.fixture
async def emu(request: pytest.FixtureRequest):
    e = TelegramEmulator()
    await e.start()
    yield e
    await e.stop()
    fail_on_refusals(e, request)


@pytest.fixture
async def h(emu: TelegramEmulator, db_url: str, sop_file: Path):
    harness = Harness(emu, db_url, sop_file=sop_file)
    await harness.start()
    await harness.cast()
    yield harness
    await harness.close()
