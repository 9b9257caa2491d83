"""The clock, injectable so tests move time instead of sleeping."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock(Clock):
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("aware datetime required")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, t: datetime) -> None:
        self._now = t

    def advance(self, **kw: float) -> datetime:
        self._now += timedelta(**kw)
        return self._now


class OffsetClock(Clock):
    """Real time plus an offset that only grows: the sandbox's clock.

    Time flows as usual and can be moved forward (never back, like real time) to watch
    reminders and escalations come due. With ``path`` the offset is kept in that JSON file, so
    a restarted sandbox keeps the offset: the time it shows went on while it was stopped, as
    real time does. It never goes backwards, even if the machine's clock is stepped back.
    """

    def __init__(self, path: Path | None = None, *, start: datetime | None = None) -> None:
        """``start``: the time to begin at when ``path`` holds no saved offset yet."""
        self.path = path
        self._offset = timedelta(0)
        self._last: datetime | None = None
        if path is not None and path.exists():
            try:
                self._offset = timedelta(seconds=float(json.loads(path.read_text("utf-8"))["offset_seconds"]))
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f"{path}: not a sandbox clock file ({type(e).__name__})") from None
        elif start is not None:
            if start.tzinfo is None:
                raise ValueError("aware datetime required")
            self._offset = start - datetime.now(UTC)
            self._save()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        t = datetime.now(UTC) + self._offset
        if self._last is not None and t < self._last:  # the machine's clock was stepped back: hold still
            return self._last
        self._last = t
        return t

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._save(self._offset + delta)  # on disk first: a failed write leaves the clock as it was
        self._offset += delta
        return self.now()

    def advance_to(self, t: datetime) -> datetime:
        """Move forward to ``t`` (a moment already passed leaves the clock as it is)."""
        if t.tzinfo is None:
            raise ValueError("aware datetime required")
        delta = t - self.now()
        return self.advance(delta) if delta > timedelta(0) else self.now()

    def _save(self, offset: timedelta | None = None) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".clock-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"offset_seconds": (self._offset if offset is None else offset).total_seconds()}, f)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
