"""Browser tests of the sandbox page: Debian's Chromium driven by Playwright (no browser download).

Under CI=true they must run (a missing Chromium or Playwright fails them); elsewhere they are
skipped with the reason. Screenshots go to tests/artifacts/browser/ (not versioned)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
# The machine may have no internet: without the background-networking switches Chromium's own
# connections (updates, sync, field trials) are refused and slow everything down.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 2600, "height": 1000}  # seven phone panes side by side


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    problem = None
    path = _chromium()
    if path is None:
        problem = "Chromium is not installed (apt-get install -y chromium; .ci/run does it)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        problem = "Playwright for Python is not installed (pip install -e '.[test]')"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"browser tests must run under CI=true: {problem}")
        pytest.skip(problem)
    assert path is not None
    return path


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
