"""Admin input for the calendar: days off and dated special hours (pure parsing)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from workflow.calendar import DayHours, parse_intervals
from workflow.form import Invalid

MAX_RANGE_DAYS = 62

_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
_RANGE = re.compile(rf"^\s*{_DATE}(?:\s*(?:s\.?d\.?|sampai|-|–|\.\.)\s*{_DATE})?\s*(.*)$", re.IGNORECASE | re.DOTALL)


def parse_date(text: str) -> date:
    text = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        raise Invalid("date_not_exist") from None
    raise Invalid("date_format")


def parse_range(text: str) -> tuple[date, date, str]:
    """``"31-12-2026 Libur daerah"`` or ``"2027-02-08 s.d. 2027-03-09 rest"`` -> (start, end, rest)."""
    m = _RANGE.match(text or "")
    if not m:
        raise Invalid("date_format")
    start = parse_date(m[1])
    end = parse_date(m[2]) if m[2] else start
    if end < start:
        raise Invalid("range_backwards")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise Invalid("range_too_long", days=MAX_RANGE_DAYS)
    return start, end, m[3].strip()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class SpecialHours:
    weekdays: DayHours  # Monday-Thursday (and Friday when no Friday hours are given)
    friday: DayHours

    def for_day(self, d: date) -> DayHours | None:
        """Hours on ``d``; None at weekends (special hours never make a weekend a working day)."""
        if d.weekday() >= 5:
            return None
        return self.friday if d.weekday() == 4 else self.weekdays


def parse_special_hours(text: str) -> SpecialHours:
    """``"08:00-12:00,12:30-15:00"`` or ``"08:00-12:00,12:30-15:00 | 08:00-11:30,12:30-15:30"`` (Friday)."""
    parts = [p.strip() for p in (text or "").split("|")]
    if not parts[0] or len(parts) > 2:
        raise Invalid("hours_format")
    try:
        wd = parse_intervals(parts[0])
        fr = parse_intervals(parts[1]) if len(parts) == 2 else wd
    except ValueError:
        raise Invalid("hours_format") from None
    if not wd or not fr:
        raise Invalid("hours_format")
    return SpecialHours(wd, fr)
