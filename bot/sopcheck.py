"""The SOP file checked in a child process.

pydantic validates an SOP file against its schema (``workflow/sopdoc.py``); in a running bot it
would stay in memory for nothing (about 10 MB: the library, and the validator built from the
schema). So a bot that has not loaded pydantic has its file checked by a child process, which
answers with the validated document (or every problem with the file) as JSON and exits; the bot
builds its SOP from that answer without validating it again. ``main.py run`` starts the check
first and reads its answer after importing its libraries, so the two overlap.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workflow.sop import Sop
from workflow.sopdoc import from_checked, parse, read

ROOT = Path(__file__).resolve().parents[1]
# The child builds pydantic's validator first, then reads the file's text from its stdin.
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); from workflow.sopdoc import checked, validator; "
          "validator(); sys.stdout.write(checked(sys.stdin.read(), sys.argv[2]))")
_CHECKED: dict[tuple[str, str], Sop] = {}  # (file's text, source) -> its SOP, for this process


class SopCheck:
    """The check of one SOP file, started when made; :meth:`result` waits for it."""

    def __init__(self, path: str | Path) -> None:
        self.source = str(Path(path))
        self.text = read(path)  # SopInvalid when it cannot be read
        self._proc: subprocess.Popen[bytes] | None = None
        if (self.text, self.source) in _CHECKED or "pydantic" in sys.modules:
            return  # known, or checked here at no extra memory (a CLI, the sandbox, the tests)
        self._proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(ROOT), self.source],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def result(self) -> Sop:
        """The validated SOP; :class:`workflow.sopdoc.SopInvalid` with every problem otherwise."""
        key = (self.text, self.source)
        if key not in _CHECKED:
            _CHECKED[key] = self._from_child() if self._proc else parse(self.text, self.source)
        return _CHECKED[key]

    def _from_child(self) -> Sop:
        assert self._proc is not None
        try:
            out, err = self._proc.communicate(self.text.encode(), timeout=120)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            raise RuntimeError("checking the SOP file took over 120 s (child process killed)") from None
        if self._proc.returncode != 0:
            raise RuntimeError(f"checking the SOP file failed (exit {self._proc.returncode}): "
                               f"{err.decode(errors='replace')[-1000:]}")
        return from_checked(out, self.source)
