"""Tests for workflow.calendar (pure: no clock, no network, no database).

The example tables below are identical to the ones in docs/working-time.md;
``test_docs_tables_match`` checks that the two stay in sync.
"""

from __future__ import annotations

import random
import re
from dataclasses import FrozenInstanceError
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflow.calendar import (
    JAKARTA,
    STANDARD_DAY,
    Interval,
    WeeklyHours,
    WorkingCalendar,
    default_calendar,
    format_duration_id,
    hours_for_period,
    indonesian_holidays,
    parse_intervals,
    parse_time,
)

UTC = timezone.utc
RAMADAN_2026 = (date(2026, 2, 19), date(2026, 3, 20))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "working-time.md"


def _make_calendar() -> WorkingCalendar:
    return default_calendar(
        [2025, 2026, 2027],
        special_hours=hours_for_period(*RAMADAN_2026, WeeklyHours.ramadan()),
    )


CAL = _make_calendar()

_WHEN_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})( UTC)?$"
)


def when(text: str) -> datetime:
    """Parse 'Tue 2026-03-17 10:00' (WIB) or '... UTC'; checks the weekday."""
    m = _WHEN_RE.match(text)
    assert m, text
    tz = UTC if m[7] else JAKARTA
    dt = datetime(int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=tz)
    assert dt.strftime("%a") == m[1], f"weekday mismatch in {text!r}"
    return dt


def dur(text: str) -> timedelta:
    m = re.fullmatch(r"(\d+)h(\d{2})m", text)
    assert m, text
    return timedelta(hours=int(m[1]), minutes=int(m[2]))


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)


# ---------------------------------------------------------------------------
# Worked examples (same rows as docs/working-time.md)
# ---------------------------------------------------------------------------

DUE_EXAMPLES = [
    ("D1", "Mon 2026-01-05 10:00", 1, "Tue 2026-01-06 10:00"),
    ("D2", "Fri 2026-01-09 15:00", 1, "Mon 2026-01-12 15:00"),
    ("D3", "Fri 2026-01-09 15:00", 2, "Tue 2026-01-13 15:00"),
    ("D4", "Sat 2026-01-10 09:00", 1, "Tue 2026-01-13 07:30"),
    ("D5", "Mon 2026-01-05 06:45", 1, "Tue 2026-01-06 07:30"),
    ("D6", "Tue 2026-01-06 12:30", 1, "Wed 2026-01-07 13:00"),
    ("D7", "Thu 2026-01-08 16:15", 1, "Mon 2026-01-12 07:30"),
    ("D8", "Fri 2026-01-09 16:20", 1, "Mon 2026-01-12 16:00"),
    ("D9", "Thu 2026-01-08 11:45", 1, "Fri 2026-01-09 13:00"),
    ("D10", "Fri 2026-01-09 12:00", 1, "Mon 2026-01-12 13:00"),
    ("D11", "Thu 2026-01-15 14:00", 2, "Tue 2026-01-20 14:00"),
    ("D12", "Fri 2026-08-14 10:00", 3, "Thu 2026-08-20 10:00"),
    ("D13", "Wed 2026-02-18 15:30", 1, "Thu 2026-02-19 15:00"),
    ("D14", "Wed 2026-02-18 14:30", 1, "Thu 2026-02-19 14:30"),
    ("D15", "Wed 2026-02-18 07:45", 1, "Thu 2026-02-19 08:00"),
    ("D16", "Thu 2026-02-19 11:45", 1, "Fri 2026-02-20 12:30"),
    ("D17", "Mon 2026-03-02 07:40", 1, "Tue 2026-03-03 08:00"),
    ("D18", "Tue 2026-03-17 10:00", 1, "Wed 2026-03-25 10:00"),
    ("D19", "Tue 2026-03-17 10:00", 2, "Thu 2026-03-26 10:00"),
    ("D20", "Wed 2026-12-23 09:00", 1, "Mon 2026-12-28 09:00"),
    ("D21", "Wed 2026-12-23 09:00", 2, "Tue 2026-12-29 09:00"),
    ("D22", "Wed 2026-12-23 16:30", 1, "Tue 2026-12-29 07:30"),
    ("D23", "Mon 2026-01-05 03:00 UTC", 1, "Tue 2026-01-06 10:00"),
]

BETWEEN_EXAMPLES = [
    ("W1", "Mon 2026-01-05 07:30", "Mon 2026-01-05 16:00", "7h30m"),
    ("W2", "Fri 2026-01-09 07:30", "Fri 2026-01-09 16:30", "7h30m"),
    ("W3", "Mon 2026-01-05 10:00", "Tue 2026-01-06 10:00", "7h30m"),
    ("W4", "Fri 2026-01-09 15:00", "Mon 2026-01-12 15:00", "8h00m"),
    ("W5", "Tue 2026-01-06 12:00", "Tue 2026-01-06 13:00", "0h00m"),
    ("W6", "Sat 2026-01-10 00:00", "Mon 2026-01-12 07:30", "0h00m"),
    ("W7", "Mon 2026-01-05 00:00", "Mon 2026-01-12 00:00", "37h30m"),
    ("W8", "Mon 2026-01-12 00:00", "Mon 2026-01-19 00:00", "30h00m"),
    ("W9", "Thu 2026-02-19 08:00", "Fri 2026-02-20 15:30", "13h00m"),
    ("W10", "Tue 2026-03-17 10:00", "Wed 2026-03-25 10:00", "7h00m"),
    ("W11", "Wed 2026-12-23 09:00", "Mon 2026-12-28 09:00", "7h30m"),
]

ADD_EXAMPLES = [
    ("A1", "Mon 2026-01-05 10:00", "7h30m", "Tue 2026-01-06 10:00"),
    ("A2", "Mon 2026-01-05 11:00", "1h00m", "Mon 2026-01-05 12:00"),
    ("A3", "Mon 2026-01-05 11:00", "1h01m", "Mon 2026-01-05 13:01"),
    ("A4", "Sat 2026-01-10 09:00", "0h00m", "Mon 2026-01-12 07:30"),
    ("A5", "Fri 2026-01-09 15:00", "2h00m", "Mon 2026-01-12 08:00"),
    ("A6", "Tue 2026-03-17 10:00", "7h00m", "Wed 2026-03-25 10:00"),
    ("A7", "Fri 2026-12-18 15:30", "1h00m", "Fri 2026-12-18 16:30"),
]


@pytest.mark.parametrize(("ex_id", "received", "n", "due"), DUE_EXAMPLES, ids=[r[0] for r in DUE_EXAMPLES])
def test_due_examples(ex_id: str, received: str, n: int, due: str) -> None:
    result = CAL.due_after_working_days(when(received), n)
    assert result == when(due)
    assert result.tzinfo is JAKARTA
    assert CAL.is_working_day(result.date())


@pytest.mark.parametrize(("ex_id", "a", "b", "expected"), BETWEEN_EXAMPLES, ids=[r[0] for r in BETWEEN_EXAMPLES])
def test_working_time_between_examples(ex_id: str, a: str, b: str, expected: str) -> None:
    assert CAL.working_time_between(when(a), when(b)) == dur(expected)
    assert CAL.working_time_between(when(b), when(a)) == timedelta(0)


@pytest.mark.parametrize(("ex_id", "start", "duration", "expected"), ADD_EXAMPLES, ids=[r[0] for r in ADD_EXAMPLES])
def test_add_working_time_examples(ex_id: str, start: str, duration: str, expected: str) -> None:
    assert CAL.add_working_time(when(start), dur(duration)) == when(expected)


def _doc_rows(prefix: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(prefix + r"\d+", cells[0]):
            rows[cells[0]] = cells
    return rows


@pytest.mark.skipif(not DOCS.exists(), reason="docs/working-time.md not present")
def test_docs_tables_match() -> None:
    due = _doc_rows("D")
    assert {k: (v[2], int(v[3]), v[4]) for k, v in due.items()} == {
        r[0]: (r[1], r[2], r[3]) for r in DUE_EXAMPLES
    }
    between = _doc_rows("W")
    assert {k: (v[2], v[3], v[4]) for k, v in between.items()} == {r[0]: r[1:] for r in BETWEEN_EXAMPLES}
    add = _doc_rows("A")
    assert {k: (v[2], v[3], v[4]) for k, v in add.items()} == {r[0]: r[1:] for r in ADD_EXAMPLES}


def test_rule_examples_from_brief_without_holidays() -> None:
    cal = WorkingCalendar(JAKARTA, WeeklyHours.default(), {})
    cases = [
        (wib(2025, 11, 3, 10, 0), wib(2025, 11, 4, 10, 0)),  # Mon 10:00 -> Tue 10:00
        (wib(2025, 11, 7, 15, 0), wib(2025, 11, 10, 15, 0)),  # Fri 15:00 -> Mon 15:00
        (wib(2025, 11, 8, 9, 0), wib(2025, 11, 11, 7, 30)),  # Sat 09:00 -> Tue 07:30
        (wib(2025, 11, 6, 16, 15), wib(2025, 11, 10, 7, 30)),  # Thu 16:15 -> Mon 07:30
        (wib(2025, 11, 7, 16, 20), wib(2025, 11, 10, 16, 0)),  # Fri 16:20 -> Mon 16:00
        (wib(2025, 11, 4, 12, 30), wib(2025, 11, 5, 13, 0)),  # Tue 12:30 -> Wed 13:00
    ]
    for received, due in cases:
        assert cal.due_after_working_days(received, 1) == due


# ---------------------------------------------------------------------------
# Holidays and configuration
# ---------------------------------------------------------------------------


def test_indonesian_holidays_2026_include_collective_leave() -> None:
    hol = indonesian_holidays([2026])
    for d in (18, 19, 20, 21, 22, 23, 24):
        assert date(2026, 3, d) in hol
    assert "Cuti Bersama" in hol[date(2026, 12, 24)]
    assert date(2026, 12, 25) in hol
    assert date(2026, 1, 16) in hol
    assert all(d.year == 2026 for d in hol)
    with pytest.raises(ValueError):
        indonesian_holidays([])


def test_holiday_and_extra_day_off_win_over_special_hours() -> None:
    cal = WorkingCalendar(
        JAKARTA,
        WeeklyHours.default(),
        holidays={date(2026, 1, 6): "Libur"},
        extra_days_off={"2026-01-07": "HUT Kota Bogor"},
        special_hours={
            date(2026, 1, 6): "08:00-15:00",
            date(2026, 1, 7): (Interval(time(8), time(15)),),
            date(2026, 1, 8): (),
            date(2026, 1, 10): "09:00-12:00",  # a working Saturday
        },
    )
    assert cal.hours_on(date(2026, 1, 6)) == ()
    assert cal.hours_on(date(2026, 1, 7)) == ()
    assert cal.hours_on(date(2026, 1, 8)) == ()  # empty special hours: day off
    assert cal.day_off_reason(date(2026, 1, 7)) == "HUT Kota Bogor"
    assert cal.day_off_reason(date(2026, 1, 8)) is None
    assert cal.hours_on(date(2026, 1, 10)) == (Interval(time(9), time(12)),)
    assert cal.due_after_working_days(wib(2026, 1, 5, 10, 0), 1) == wib(2026, 1, 9, 10, 0)
    assert cal.due_after_working_days(wib(2026, 1, 9, 15, 0), 1) == wib(2026, 1, 10, 12, 0)
    assert cal.next_working_day_start(date(2026, 1, 5)) == wib(2026, 1, 9, 7, 30)


def test_hours_and_days() -> None:
    assert CAL.hours_on(date(2026, 1, 5)) == parse_intervals("07:30-12:00,13:00-16:00")
    assert CAL.hours_on(date(2026, 1, 9)) == parse_intervals("07:30-11:30,13:00-16:30")
    assert CAL.hours_on(date(2026, 2, 20)) == parse_intervals("08:00-11:30,12:30-15:30")
    assert CAL.hours_on(date(2026, 1, 10)) == ()
    assert not CAL.is_working_day(date(2026, 3, 20))  # Ramadan special hours but cuti bersama
    assert CAL.is_working_day(date(2026, 3, 25))
    assert CAL.day_start(date(2026, 2, 19)) == wib(2026, 2, 19, 8, 0)
    assert CAL.day_end(date(2026, 2, 20)) == wib(2026, 2, 20, 15, 30)
    assert CAL.day_start(date(2026, 3, 21)) is None
    assert CAL.day_end(date(2026, 3, 21)) is None
    assert CAL.next_working_day_start(date(2026, 3, 17)) == wib(2026, 3, 25, 7, 30)
    assert CAL.next_working_day_start(date(2026, 1, 9)) == wib(2026, 1, 12, 7, 30)
    assert CAL.add_working_days(date(2026, 3, 17), 2) == date(2026, 3, 26)
    assert CAL.add_working_days(date(2026, 3, 17), 0) == date(2026, 3, 17)
    with pytest.raises(TypeError):
        CAL.hours_on(wib(2026, 1, 5, 10, 0))  # a datetime is not a date here


def test_is_working_time_boundaries() -> None:
    assert CAL.is_working_time(wib(2026, 1, 5, 7, 30))
    assert not CAL.is_working_time(wib(2026, 1, 5, 7, 29, 59))
    assert CAL.is_working_time(wib(2026, 1, 5, 11, 59, 59))
    assert not CAL.is_working_time(wib(2026, 1, 5, 12, 0))  # ends are exclusive
    assert CAL.is_working_time(wib(2026, 1, 5, 13, 0))
    assert not CAL.is_working_time(wib(2026, 1, 5, 16, 0))
    assert not CAL.is_working_time(wib(2026, 1, 9, 11, 30))  # Friday break 11:30-13:00
    assert not CAL.is_working_time(wib(2026, 1, 9, 12, 59, 59))
    assert CAL.is_working_time(wib(2026, 1, 9, 13, 0))
    assert CAL.is_working_time(wib(2026, 1, 9, 16, 29))
    assert not CAL.is_working_time(wib(2026, 1, 10, 10, 0))


def test_next_working_moment_cases() -> None:
    nwm = CAL.next_working_moment
    assert nwm(wib(2026, 1, 5, 10, 0, 7)) == wib(2026, 1, 5, 10, 0, 7)
    assert nwm(wib(2026, 1, 5, 12, 0)) == wib(2026, 1, 5, 13, 0)
    assert nwm(wib(2026, 1, 5, 16, 0)) == wib(2026, 1, 6, 7, 30)
    assert nwm(wib(2026, 1, 9, 11, 45)) == wib(2026, 1, 9, 13, 0)  # Friday break ends at 13:00
    assert nwm(wib(2026, 1, 9, 16, 45)) == wib(2026, 1, 12, 7, 30)
    assert nwm(wib(2026, 3, 17, 15, 0)) == wib(2026, 3, 25, 7, 30)
    assert nwm(wib(2026, 3, 2, 7, 30)) == wib(2026, 3, 2, 8, 0)  # Ramadan starts later


def test_weekly_hours_parse_and_spec_round_trip() -> None:
    default = WeeklyHours.default()
    assert default.days[0] == (Interval(time(7, 30), time(12)), Interval(time(13), time(16)))
    assert default.days[4] == (Interval(time(7, 30), time(11, 30)), Interval(time(13), time(16, 30)))
    assert default.days[5] == () and default.days[6] == ()
    assert default.weekly_total == timedelta(hours=37, minutes=30)
    assert default.weekly_total == 5 * STANDARD_DAY
    assert WeeklyHours.parse(default.to_spec()) == default
    spec = " Senin-Kamis = 07.30-12.00 , 13:00-16:00 ; jumat=13:00-16:30,07:30-11:30; sat,sun=off "
    assert WeeklyHours.parse(spec) == default
    assert WeeklyHours.from_mapping({"mon": "07:30-12:00,13:00-16:00", 1: default.days[1], 2: default.days[2],
                                     "thu": default.days[3], 4: "07:30-11:30,13:00-16:30"}) == default
    assert WeeklyHours.ramadan().weekly_total == timedelta(hours=32, minutes=30)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("mon-thu", "expected DAYS="),
        ("funday=07:30-12:00", "unknown day"),
        ("thu-mon=07:30-12:00", "backwards"),
        ("mon=07:30-12:00;mon=13:00-16:00", "more than once"),
        ("mon=07:30", "expected HH:MM-HH:MM"),
        ("mon=7:3-12:00", "invalid time"),
        ("mon=25:00-26:00", "out of range"),
        ("mon=12:00-07:30", "before its end"),
        ("mon=07:30-12:00,11:00-16:00", "overlapping"),
        ("mon=07:30-12:00,", "empty interval"),
        ("sat,sun=off", "no working time"),
    ],
)
def test_weekly_hours_parse_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WeeklyHours.parse(spec)


def test_data_validation() -> None:
    with pytest.raises(ValueError):
        Interval(time(12), time(12))
    with pytest.raises(ValueError):
        Interval(time(8, tzinfo=UTC), time(9, tzinfo=UTC))
    with pytest.raises(ValueError):
        WeeklyHours(((),) * 6)
    with pytest.raises(FrozenInstanceError):
        CAL.tz = UTC  # type: ignore[misc]
    with pytest.raises(TypeError):
        CAL.holidays[date(2030, 1, 1)] = "x"  # type: ignore[index]
    with pytest.raises(ValueError):
        WorkingCalendar(JAKARTA, WeeklyHours.default(), {}, standard_day=timedelta(0))
    with pytest.raises(ValueError):
        hours_for_period(date(2026, 3, 2), date(2026, 3, 1), WeeklyHours.ramadan())
    assert parse_time("7.30") == time(7, 30)
    assert parse_intervals("off") == ()
    assert str(Interval.parse("07:30-12:00")) == "07:30-12:00"


def test_naive_datetimes_and_bad_arguments_are_rejected() -> None:
    naive = datetime(2026, 1, 5, 10, 0)
    aware = wib(2026, 1, 5, 10, 0)
    for call in (
        lambda: CAL.next_working_moment(naive),
        lambda: CAL.is_working_time(naive),
        lambda: CAL.working_time_between(naive, aware),
        lambda: CAL.working_time_between(aware, naive),
        lambda: CAL.add_working_time(naive, timedelta(hours=1)),
        lambda: CAL.due_after_working_days(naive, 1),
        lambda: CAL.elapsed_fraction(aware, aware + timedelta(days=1), naive),
        lambda: CAL.add_working_time(aware, timedelta(hours=-1)),
        lambda: CAL.due_after_working_days(aware, -1),
    ):
        with pytest.raises(ValueError):
            call()
    with pytest.raises(TypeError):
        CAL.due_after_working_days(aware, 1.5)  # type: ignore[arg-type]


def test_calendar_without_working_time_raises_instead_of_looping() -> None:
    cal = WorkingCalendar(JAKARTA, WeeklyHours(((),) * 7), {})
    with pytest.raises(ValueError, match="no working day"):
        cal.next_working_moment(wib(2026, 1, 5, 10, 0))
    with pytest.raises(ValueError, match="no working day"):
        cal.add_working_time(wib(2026, 1, 5, 10, 0), timedelta(hours=1))


def test_timezone_conversion_utc_input() -> None:
    a_utc = datetime(2026, 1, 9, 8, 0, tzinfo=UTC)  # Fri 15:00 WIB
    b_utc = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # Mon 15:00 WIB
    assert CAL.working_time_between(a_utc, b_utc) == timedelta(hours=8)
    due = CAL.due_after_working_days(a_utc, 1)
    assert due == wib(2026, 1, 12, 15, 0) and due.tzinfo is JAKARTA
    nwm = CAL.next_working_moment(datetime(2026, 1, 9, 9, 30, tzinfo=UTC))  # Fri 16:30 WIB
    assert nwm == wib(2026, 1, 12, 7, 30) and nwm.tzinfo is JAKARTA
    assert CAL.is_working_time(datetime(2026, 1, 5, 0, 30, tzinfo=UTC))  # 07:30 WIB
    # A date boundary that differs between UTC and WIB: Sun 23:00 UTC is Mon 06:00 WIB.
    assert CAL.next_working_moment(datetime(2026, 1, 4, 23, 0, tzinfo=UTC)) == wib(2026, 1, 5, 7, 30)
    other = datetime(2026, 1, 5, 12, 0, tzinfo=ZoneInfo("Asia/Makassar"))  # 11:00 WIB
    assert CAL.add_working_time(other, timedelta(hours=1)) == wib(2026, 1, 5, 12, 0)


def test_elapsed_fraction_and_working_days() -> None:
    received = wib(2026, 1, 5, 10, 0)
    due = CAL.due_after_working_days(received, 1)
    half = CAL.add_working_time(received, CAL.working_time_between(received, due) / 2)
    assert half == wib(2026, 1, 5, 14, 45)
    assert CAL.elapsed_fraction(received, due, half) == pytest.approx(0.5)
    assert CAL.elapsed_fraction(received, due, wib(2026, 1, 6, 9, 15)) == pytest.approx(0.9)
    assert CAL.elapsed_fraction(received, due, wib(2026, 1, 5, 9, 0)) == 0.0
    assert CAL.elapsed_fraction(received, due, wib(2026, 1, 7, 10, 0)) == pytest.approx(2.0)
    night = wib(2026, 1, 5, 20, 0)
    assert CAL.elapsed_fraction(night, night, night) == 1.0
    assert CAL.elapsed_fraction(night, night, night - timedelta(hours=1)) == 0.0
    assert CAL.working_days_between(received, due) == pytest.approx(1.0)
    assert CAL.working_days_between(wib(2026, 1, 5), wib(2026, 1, 12)) == pytest.approx(5.0)


def test_add_working_time_long_range_is_exact() -> None:
    start = wib(2026, 1, 5, 7, 30, 17)
    # 200 full ordinary weeks are not available in the holiday data; use a
    # calendar without holidays where one week is exactly 37 h 30 min.
    plain = WorkingCalendar(JAKARTA, WeeklyHours.default(), {})
    result = plain.add_working_time(start, timedelta(hours=37, minutes=30) * 200)
    assert result == wib(2026, 1, 5, 7, 30, 17) + timedelta(weeks=200)
    assert CAL.add_working_time(start, timedelta(hours=1, seconds=1)) == wib(2026, 1, 5, 8, 30, 18)


@pytest.mark.parametrize(
    ("td", "standard_day", "expected"),
    [
        (timedelta(hours=2, minutes=15), None, "2 jam 15 menit"),
        (timedelta(minutes=45, seconds=59), None, "45 menit"),
        (timedelta(hours=3), None, "3 jam"),
        (timedelta(0), None, "0 menit"),
        (timedelta(seconds=30), None, "0 menit"),
        (timedelta(hours=9, minutes=45), None, "9 jam 45 menit"),
        (timedelta(hours=9, minutes=45), STANDARD_DAY, "1 hari kerja 2 jam 15 menit"),
        (STANDARD_DAY * 3, STANDARD_DAY, "3 hari kerja"),
        (timedelta(minutes=-90), None, "-1 jam 30 menit"),
        (timedelta(seconds=-30), None, "0 menit"),
    ],
)
def test_format_duration_id(td: timedelta, standard_day: timedelta | None, expected: str) -> None:
    assert format_duration_id(td, standard_day) == expected


def test_calendar_format_duration_uses_standard_day() -> None:
    assert CAL.format_duration(timedelta(hours=15, minutes=5)) == "2 hari kerja 5 menit"


# ---------------------------------------------------------------------------
# Property-style tests (fixed seed, no hypothesis)
# ---------------------------------------------------------------------------

_YEAR_START = wib(2026, 1, 1)
_YEAR_SECONDS = 365 * 24 * 3600


def _random_moment(rng: random.Random) -> datetime:
    t = _YEAR_START + timedelta(seconds=rng.randrange(_YEAR_SECONDS))
    if rng.random() < 0.3:
        # Snap to an interval boundary (or a boundary +/- 1 s) to hit edges.
        hours = CAL.hours_on(t.date()) or WeeklyHours.default().days[0]
        iv = rng.choice(hours)
        clock = rng.choice((iv.start, iv.end))
        t = datetime.combine(t.date(), clock, tzinfo=JAKARTA) + timedelta(seconds=rng.choice((-1, 0, 0, 1)))
    return t


def _pairs(seed: int, count: int) -> list[tuple[datetime, datetime]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        a, b = _random_moment(rng), _random_moment(rng)
        if rng.random() < 0.5:
            # Keep many pairs close together (same day / same week).
            b = a + timedelta(seconds=rng.randrange(9 * 24 * 3600))
        pairs.append((min(a, b), max(a, b)))
    return pairs


def test_property_add_inverts_between() -> None:
    for s, t in _pairs(seed=38, count=300):
        d = CAL.working_time_between(s, t)
        r = CAL.add_working_time(s, d)
        assert CAL.next_working_moment(r) == CAL.next_working_moment(t), (s, t, d, r)
        assert CAL.working_time_between(s, r) == d, (s, t, d, r)
        assert r <= max(t, CAL.next_working_moment(s)), (s, t, r)
        if d and CAL.is_working_time(t) and CAL.is_working_time(t - timedelta(seconds=1)):
            assert r == t, (s, t, r)


def test_property_next_working_moment_idempotent() -> None:
    rng = random.Random(2026)
    for _ in range(400):
        t = _random_moment(rng)
        m = CAL.next_working_moment(t)
        assert m >= t
        assert CAL.is_working_time(m)
        assert CAL.next_working_moment(m) == m
        assert CAL.working_time_between(t, m) == timedelta(0)
        assert CAL.next_working_moment(t.astimezone(UTC)) == m


def test_property_between_is_additive() -> None:
    rng = random.Random(17)
    for a, b in _pairs(seed=17, count=200):
        m = a + (b - a) * rng.random()
        m = m.replace(microsecond=0)
        total = CAL.working_time_between(a, b)
        assert total == CAL.working_time_between(a, m) + CAL.working_time_between(m, b)
        assert CAL.working_time_between(a.astimezone(UTC), b.astimezone(UTC)) == total


def test_property_due_is_monotonic_and_inside_working_day() -> None:
    pairs = _pairs(seed=7, count=200)
    for n in (1, 2, 5):
        for a, b in pairs[:80]:
            da, db = CAL.due_after_working_days(a, n), CAL.due_after_working_days(b, n)
            assert da <= db
            for due in (da, db):
                hours = CAL.hours_on(due.date())
                assert hours
                assert hours[0].start <= due.time() <= hours[-1].end
                assert CAL.is_working_time(due) or due.time() == hours[-1].end
    for a, _ in pairs:
        s = CAL.next_working_moment(a)
        due = CAL.due_after_working_days(a, 1)
        assert CAL.add_working_days(s.date(), 1) == due.date()
        assert CAL.due_after_working_days(a, 0) == s


def test_a_bot_computes_national_holidays_in_a_child_process() -> None:
    """The running bot does not carry the holidays package (every country's tables): it asks a
    child process for Indonesia's dates, which match the package's own."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import asyncio, sys; from bot.app import national_holidays; "
            "h = asyncio.run(national_holidays(range(2026, 2028))); "
            "print(len(h), h[__import__('datetime').date(2026, 12, 25)], 'holidays' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    expected = indonesian_holidays(range(2026, 2028))
    assert int(out[0]) == len(expected) and out[-1] == "False"
    assert " ".join(out[1:-1]) == expected[date(2026, 12, 25)]
