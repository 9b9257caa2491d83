"""Code run in a new interpreter at the project's root: what a process loads at start (imports
that must wait for their first use) can only be seen in a process nothing else has touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def in_fresh_process(code: str, timeout: float = 60) -> None:
    """Run ``code`` in a fresh Python at the project's root; fail with its stderr if it fails."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
