"""The sandbox's clock: real time plus an offset that only grows, kept in a file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import OffsetClock

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_starts_where_told_and_flows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = OffsetClock(tmp_path / "clock.json", start=MONDAY_9)
    assert abs(c.now() - MONDAY_9) < timedelta(seconds=2)
    assert c.now().tzinfo is not None
    later = c.advance(timedelta(hours=1))
    assert timedelta(hours=1) <= later - MONDAY_9 < timedelta(hours=1, seconds=2)
    with pytest.raises(ValueError):
        c.advance(timedelta(seconds=-1))
    before = c.now()
    assert c.advance_to(MONDAY_9) >= before  # the past: nothing moves back
    target = MONDAY_9 + timedelta(days=1)
    assert abs(c.advance_to(target) - target) < timedelta(seconds=2)


def test_offset_is_kept_and_start_applies_only_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "clock.json"
    OffsetClock(path, start=MONDAY_9).advance(timedelta(days=2))
    again = OffsetClock(path, start=datetime(2030, 1, 1, tzinfo=UTC))  # saved offset wins
    assert abs(again.now() - (MONDAY_9 + timedelta(days=2))) < timedelta(seconds=2)
    assert json.loads(path.read_text())["offset_seconds"] == again.offset.total_seconds()
    assert abs(OffsetClock().now() - datetime.now(UTC)) < timedelta(seconds=2)  # no file: real time
    path.write_text("nonsense")
    with pytest.raises(ValueError, match="not a sandbox clock file"):
        OffsetClock(path)


def test_offset_clock_never_goes_back_and_moves_only_when_saved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    import pytest as _pytest

    from bot.clock import OffsetClock

    c = OffsetClock(tmp_path / "clock.json")
    seen = c.now()
    c._offset -= timedelta(hours=1)  # as if the machine's clock were stepped back an hour
    assert c.now() >= seen
    c._offset += timedelta(hours=1)

    (tmp_path / "a-file").write_text("x")
    c.path = tmp_path / "a-file" / "clock.json"  # cannot be written: the clock must not move either
    before = c.offset
    with _pytest.raises(OSError):
        c.advance(timedelta(hours=2))
    assert c.offset == before
