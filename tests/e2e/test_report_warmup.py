"""The activity report's PDF library is imported ahead of the report: when a request reaches the
report step, in a worker thread after commit, so the executor's first report after a start does not
wait most of a second for fpdf2 inside its transaction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bot.services.chain
from tests.e2e.flows import to_executor
from tests.e2e.harness import EXEC1, Harness

ROOT = Path(__file__).resolve().parents[2]


async def test_reaching_the_report_step_warms_the_pdf_library(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(bot.services.chain, "warm_up_report_library", calls.append)
    await h.submit()
    ex = await to_executor(h)
    await h.tap(EXEC1, ex, text=h.button(ex, "Lengkap"))
    assert calls == []  # not for the steps before the report
    reg = await h.wait_msg(EXEC1, "Kartu data untuk portal SPLP")
    await h.tap(EXEC1, reg, text=h.button(reg, "Catat akun"), expect="nama pengguna akun SPLP")
    choice = await h.say(EXEC1, "dinkes.simpus", expect="Bagaimana kredensial awal")
    await h.tap(EXEC1, choice, text=h.button(choice, "melalui email"), expect="Akun tercatat")
    assert len(calls) == 1 and (await h.request()).stage == "report"


def test_the_warm_up_imports_the_library_in_a_thread_after_commit() -> None:
    """In a process of its own (the test process has long imported fpdf2)."""
    script = """
import asyncio, sys, time
from types import SimpleNamespace
from bot.services.reports import warm_up_report_library

assert "fpdf" not in sys.modules
scope = SimpleNamespace(after_commit=[])
warm_up_report_library(scope)
assert "fpdf" not in sys.modules and len(scope.after_commit) == 1  # nothing before commit

async def main():
    for fn in scope.after_commit:
        await fn()  # returns at once: the import runs in a worker thread
    deadline = time.monotonic() + 30
    while "bot.report" not in sys.modules or not hasattr(sys.modules["bot.report"], "render_report"):
        assert time.monotonic() < deadline, "not imported"
        await asyncio.sleep(0.01)
    again = SimpleNamespace(after_commit=[])
    warm_up_report_library(again)
    assert again.after_commit == []  # loaded: nothing more to do
    print("fpdf" in sys.modules)

asyncio.run(main())
"""
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stdout + r.stderr
