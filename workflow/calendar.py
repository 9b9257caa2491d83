"""Working-time calendar for Indonesian government offices (Asia/Jakarta).

An SOP expresses its time limits in working days ("1 hari" means one
working day) or working hours.  This module turns such limits into concrete deadlines and
measures elapsed working time.  It is pure Python: it never reads the clock
(every "now" is passed in), does no I/O and takes holidays, special hours and
extra days off as plain data, so it is easy to build from settings or DB rows.

Model
-----
* A day's working hours are a tuple of :class:`Interval` objects (the gaps
  between them are breaks).  Interval starts are inclusive, ends exclusive.
* :class:`WeeklyHours` gives the intervals per weekday (Monday = 0).  The
  default is Mon-Thu 07:30-12:00 + 13:00-16:00 and Fri 07:30-11:30 +
  13:00-16:30 (7 h 30 min every day, 37 h 30 min a week, as in Perpres
  21/2023: a 60-minute break Mon-Thu, 90 minutes on Friday); Saturday and
  Sunday are off.
* :class:`WorkingCalendar` combines the weekly hours with dated data:
  ``holidays`` and ``extra_days_off`` (never working days, whatever else is
  configured) and ``special_hours`` (dated hours that replace the weekly
  hours, e.g. Ramadan; an empty tuple means a day off).
* Every datetime argument must be timezone-aware (any zone; it is converted
  to the calendar's zone); naive datetimes raise ``ValueError``.  Every
  datetime returned is in the calendar's zone.

The deadline rule for "N working days" (:meth:`WorkingCalendar.due_after_working_days`)
-------------------------------------------------------------------------------------
1. ``s = next_working_moment(received)``: a step received outside working
   time (night, weekend, holiday, break) counts from the next working start.
2. The deadline is the same wall-clock time of day as ``s`` on the N-th
   working day after ``s``'s date.
3. If that day's working hours do not contain that clock time, clamp it into
   the day: before the first start -> the first start; inside a break -> the
   end of that break (the next start); at or after the last end -> the last
   end.

Examples with the default hours: received Mon 10:00, N=1 -> Tue 10:00;
Fri 15:00 -> Mon 15:00; Sat 09:00 -> (Mon 07:30) -> Tue 07:30; Thu 16:15 ->
(Fri 07:30) -> Mon 07:30; Fri 16:20 -> Mon 16:00 (clamped to Monday's end);
Tue 12:30 (lunch) -> (Tue 13:00) -> Wed 13:00.  See ``docs/working-time.md``
for the full table of worked examples (checked by the unit tests).

Durations (:meth:`WorkingCalendar.add_working_time`) use a different but
compatible convention: the result is the earliest moment at which the
requested working time has elapsed, so it may be an interval end (e.g.
Mon 11:00 + 1 h -> Mon 12:00, not 13:00).  A zero duration returns
``next_working_moment(start)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import Union
from zoneinfo import ZoneInfo


__all__ = [
    "JAKARTA",
    "STANDARD_DAY",
    "Interval",
    "WeeklyHours",
    "WorkingCalendar",
    "default_calendar",
    "format_duration_id",
    "hours_for_period",
    "indonesian_holidays",
    "parse_intervals",
    "parse_time",
]

JAKARTA = ZoneInfo("Asia/Jakarta")
"""Western Indonesia Time (WIB, UTC+7, no daylight saving)."""

STANDARD_DAY = timedelta(hours=7, minutes=30)
"""One standard working day (37.5 h per week / 5 days) used for display."""

# A calendar that has no working time for this many consecutive days is
# considered broken (e.g. empty weekly hours); searches raise instead of
# looping forever.
_MAX_IDLE_DAYS = 3660

_UTC = timezone.utc
_ONE_DAY = timedelta(days=1)

DayHours = tuple["Interval", ...]
IntervalsLike = Union[str, Iterable["Interval"]]


# ---------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------

_TIME_RE = re.compile(r"^\s*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*$")

_DAY_NAMES: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "sen", "senin"),
        ("tue", "tuesday", "sel", "selasa"),
        ("wed", "wednesday", "rab", "rabu"),
        ("thu", "thursday", "kam", "kamis"),
        ("fri", "friday", "jum", "jumat"),
        ("sat", "saturday", "sab", "sabtu"),
        ("sun", "sunday", "min", "minggu"),
    )
):
    for _name in _names:
        _DAY_NAMES[_name] = _i
_DAY_ABBR = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OFF_WORDS = frozenset({"", "off", "none", "-", "libur"})


def parse_time(text: str) -> time:
    """Parse ``"07:30"``, ``"7.30"`` or ``"07:30:15"`` into a naive ``time``."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string like '07:30', got {type(text).__name__}")
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError(f"invalid time {text!r}: expected HH:MM (e.g. '07:30')")
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"invalid time {text!r}: out of range")
    return time(hour, minute, second)


def _fmt_time(t: time) -> str:
    if t.second or t.microsecond:
        return t.isoformat()
    return f"{t.hour:02d}:{t.minute:02d}"


def _time_to_td(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """A span of working time within one day, ``[start, end)``."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"Interval.{name} must be a datetime.time, got {type(value).__name__}")
            if value.tzinfo is not None:
                raise ValueError(f"Interval.{name} must be a naive time (wall clock), got {value!r}")
        if not self.start < self.end:
            raise ValueError(
                f"interval start must be before its end: {_fmt_time(self.start)}-{_fmt_time(self.end)}"
            )

    @classmethod
    def parse(cls, text: str) -> Interval:
        """Parse ``"07:30-12:00"``."""
        if not isinstance(text, str):
            raise TypeError(f"expected a string like '07:30-12:00', got {type(text).__name__}")
        parts = text.split("-")
        if len(parts) != 2:
            raise ValueError(f"invalid interval {text!r}: expected HH:MM-HH:MM (e.g. '07:30-12:00')")
        try:
            return cls(parse_time(parts[0]), parse_time(parts[1]))
        except ValueError as exc:
            raise ValueError(f"invalid interval {text!r}: {exc}") from None

    @property
    def duration(self) -> timedelta:
        return _time_to_td(self.end) - _time_to_td(self.start)

    def contains(self, t: time) -> bool:
        return self.start <= t < self.end

    def __str__(self) -> str:
        return f"{_fmt_time(self.start)}-{_fmt_time(self.end)}"


def _normalize_day(value: IntervalsLike, what: str = "hours") -> DayHours:
    """Turn a spec string or an iterable of intervals into a sorted,
    non-overlapping tuple of intervals."""
    if isinstance(value, str):
        return parse_intervals(value)
    if isinstance(value, Interval):
        items = [value]
    else:
        try:
            items = list(value)
        except TypeError:
            raise TypeError(f"{what}: expected intervals or a string, got {type(value).__name__}") from None
    for item in items:
        if not isinstance(item, Interval):
            raise TypeError(f"{what}: expected Interval objects, got {type(item).__name__}")
    items.sort(key=lambda iv: (iv.start, iv.end))
    for prev, cur in zip(items, items[1:]):
        if cur.start < prev.end:
            raise ValueError(f"{what}: overlapping intervals {prev} and {cur}")
    return tuple(items)


def parse_intervals(text: str) -> DayHours:
    """Parse ``"08:00-12:00,12:30-15:00"`` (``"off"`` or ``""`` -> no hours)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    stripped = text.strip()
    if stripped.lower() in _OFF_WORDS:
        return ()
    items = []
    for part in stripped.split(","):
        if not part.strip():
            raise ValueError(f"invalid hours {text!r}: empty interval")
        items.append(Interval.parse(part))
    return _normalize_day(items, what=f"hours {text!r}")


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            raise ValueError("empty day name")
        if "-" in item:
            first, _, last = item.partition("-")
            lo, hi = _day_index(first.strip()), _day_index(last.strip())
            if lo > hi:
                raise ValueError(f"day range {item!r} runs backwards (use Monday..Sunday order)")
            days.extend(range(lo, hi + 1))
        else:
            days.append(_day_index(item))
    return days


def _day_index(name: str) -> int:
    try:
        return _DAY_NAMES[name]
    except KeyError:
        raise ValueError(f"unknown day {name!r}: use mon, tue, wed, thu, fri, sat, sun") from None


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working intervals per weekday; ``days[0]`` is Monday, ``days[6]`` Sunday."""

    days: tuple[DayHours, ...]

    def __post_init__(self) -> None:
        days = tuple(self.days)
        if len(days) != 7:
            raise ValueError(f"WeeklyHours needs 7 days (Monday..Sunday), got {len(days)}")
        object.__setattr__(
            self, "days", tuple(_normalize_day(d, what=f"{_DAY_ABBR[i]} hours") for i, d in enumerate(days))
        )

    @classmethod
    def default(cls) -> WeeklyHours:
        """Mon-Thu 07:30-12:00, 13:00-16:00; Fri 07:30-11:30, 13:00-16:30
        (37 h 30 min a week, Perpres 21/2023)."""
        return cls.parse("mon-thu=07:30-12:00,13:00-16:00;fri=07:30-11:30,13:00-16:30")

    @classmethod
    def ramadan(cls) -> WeeklyHours:
        """Usual Ramadan hours for a 5-day week (MenPAN-RB circulars):
        Mon-Thu 08:00-12:00, 12:30-15:00; Fri 08:00-11:30, 12:30-15:30."""
        return cls.parse("mon-thu=08:00-12:00,12:30-15:00;fri=08:00-11:30,12:30-15:30")

    @classmethod
    def parse(cls, spec: str) -> WeeklyHours:
        """Parse a compact spec such as
        ``"mon-thu=07:30-12:00,13:00-16:00;fri=07:30-11:30,13:00-16:30"``.

        Groups are separated by ``;``.  Each group is ``DAYS=INTERVALS`` where
        DAYS is a day (``mon``), a range (``mon-thu``) or a comma list
        (``sat,sun``), and INTERVALS is a comma list of ``HH:MM-HH:MM`` or
        ``off``.  Days not mentioned are days off; a day may appear only once.
        """
        if not isinstance(spec, str):
            raise TypeError(f"working hours spec must be a string, got {type(spec).__name__}")
        days: list[DayHours | None] = [None] * 7
        groups = [g for g in spec.split(";") if g.strip()]
        if not groups:
            raise ValueError("working hours spec is empty")
        for group in groups:
            if "=" not in group:
                raise ValueError(f"invalid working hours group {group.strip()!r}: expected DAYS=HH:MM-HH:MM,...")
            day_part, _, hours_part = group.partition("=")
            try:
                indices = _parse_days(day_part)
                hours = parse_intervals(hours_part)
            except ValueError as exc:
                raise ValueError(f"invalid working hours group {group.strip()!r}: {exc}") from None
            for i in indices:
                if days[i] is not None:
                    raise ValueError(f"working hours spec mentions {_DAY_ABBR[i]} more than once")
                days[i] = hours
        result = cls(tuple(d if d is not None else () for d in days))
        if not any(result.days):
            raise ValueError("working hours spec defines no working time at all")
        return result

    @classmethod
    def from_mapping(cls, mapping: Mapping[int | str, IntervalsLike]) -> WeeklyHours:
        """Build from ``{weekday: intervals}`` where weekday is 0..6 or a day
        name and intervals are Interval objects or a string; missing days are off."""
        days: list[DayHours] = [()] * 7
        for key, value in mapping.items():
            index = _day_index(key.strip().lower()) if isinstance(key, str) else int(key)
            if not 0 <= index <= 6:
                raise ValueError(f"weekday must be 0..6 (Monday=0), got {key!r}")
            days[index] = _normalize_day(value, what=f"{_DAY_ABBR[index]} hours")
        return cls(tuple(days))

    def on(self, weekday: int) -> DayHours:
        return self.days[weekday]

    @property
    def weekly_total(self) -> timedelta:
        return sum((iv.duration for day in self.days for iv in day), timedelta(0))

    def to_spec(self) -> str:
        """Inverse of :meth:`parse` (consecutive equal days are grouped)."""
        groups: list[str] = []
        i = 0
        while i < 7:
            j = i
            while j + 1 < 7 and self.days[j + 1] == self.days[i]:
                j += 1
            if self.days[i]:
                names = _DAY_ABBR[i] if i == j else f"{_DAY_ABBR[i]}-{_DAY_ABBR[j]}"
                groups.append(f"{names}={','.join(str(iv) for iv in self.days[i])}")
            i = j + 1
        return ";".join(groups)


def hours_for_period(start: date, end: date, weekly: WeeklyHours) -> dict[date, DayHours]:
    """Special hours for every date in ``[start, end]`` (inclusive) taken from
    ``weekly`` by weekday, e.g. ``hours_for_period(ramadan_start, ramadan_end,
    WeeklyHours.ramadan())``.  Weekend days get their (usually empty) weekly
    hours, which keeps them days off."""
    if end < start:
        raise ValueError(f"period end {end} is before its start {start}")
    result: dict[date, DayHours] = {}
    d = start
    while d <= end:
        result[d] = weekly.days[d.weekday()]
        d += _ONE_DAY
    return result


def indonesian_holidays(
    years: Iterable[int],
    *,
    categories: tuple[str, ...] = ("public", "government"),
    language: str = "id",
) -> dict[date, str]:
    """National public holidays plus government collective leave (cuti
    bersama) for Indonesia, from the ``holidays`` package.  Pure data: no I/O.
    Dates that carry two holidays get the names joined by ``"; "``."""
    year_list = sorted({int(y) for y in years})
    if not year_list:
        raise ValueError("indonesian_holidays needs at least one year")
    import holidays as holidays_lib  # every country's tables (~10 MB): loaded only where holidays are computed

    data = holidays_lib.country_holidays("ID", years=year_list, categories=categories, language=language)
    return {d: str(name) for d, name in sorted(data.items())}


def _as_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        raise TypeError(f"{what}: expected a date, got a datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what}: invalid date {value!r} (expected YYYY-MM-DD)") from None
    raise TypeError(f"{what}: expected a date, got {type(value).__name__}")


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WorkingCalendar:
    """Working time for one office.  Immutable; safe to share between tasks.

    ``holidays`` and ``extra_days_off`` map dates to a reason and are never
    working days.  ``special_hours`` maps dates to hours that replace the
    weekly hours on that date (an empty tuple means a day off); a holiday or
    extra day off wins over special hours.  Keys may be ``date`` objects or
    ISO strings; special hours may be given as strings like ``"08:00-15:00"``.
    """

    tz: tzinfo
    weekly: WeeklyHours
    holidays: Mapping[date, str]
    extra_days_off: Mapping[date, str] = field(default_factory=dict)
    special_hours: Mapping[date, DayHours] = field(default_factory=dict)
    standard_day: timedelta = STANDARD_DAY
    _spans_cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tz, tzinfo):
            raise TypeError(f"tz must be a tzinfo (e.g. ZoneInfo('Asia/Jakarta')), got {type(self.tz).__name__}")
        if not isinstance(self.weekly, WeeklyHours):
            raise TypeError(f"weekly must be WeeklyHours, got {type(self.weekly).__name__}")
        if not isinstance(self.standard_day, timedelta) or self.standard_day <= timedelta(0):
            raise ValueError("standard_day must be a positive timedelta")
        hol = {_as_date(k, "holidays"): str(v) for k, v in dict(self.holidays).items()}
        extra = {_as_date(k, "extra_days_off"): str(v) for k, v in dict(self.extra_days_off).items()}
        special = {
            _as_date(k, "special_hours"): _normalize_day(v, what=f"special hours on {k}")
            for k, v in dict(self.special_hours).items()
        }
        object.__setattr__(self, "holidays", MappingProxyType(hol))
        object.__setattr__(self, "extra_days_off", MappingProxyType(extra))
        object.__setattr__(self, "special_hours", MappingProxyType(special))

    # -- internals ---------------------------------------------------------

    def _local(self, t: datetime, name: str = "t") -> datetime:
        if not isinstance(t, datetime):
            raise TypeError(f"{name} must be a datetime, got {type(t).__name__}")
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {t!r}")
        return t.astimezone(self.tz)

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.tz)

    @staticmethod
    def _sub(later: datetime, earlier: datetime) -> timedelta:
        # Through UTC so that the result is right even in zones with DST.
        return later.astimezone(_UTC) - earlier.astimezone(_UTC)

    def _shift(self, t: datetime, delta: timedelta) -> datetime:
        return (t.astimezone(_UTC) + delta).astimezone(self.tz)

    def _spans(self, d: date) -> tuple[tuple[tuple[datetime, datetime, timedelta], ...], timedelta]:
        """Aware (start, end, length) spans of day ``d`` and their total."""
        cached = self._spans_cache.get(d)
        if cached is None:
            spans = []
            for iv in self.hours_on(d):
                s, e = self._at(d, iv.start), self._at(d, iv.end)
                spans.append((s, e, self._sub(e, s)))
            cached = (tuple(spans), sum((x[2] for x in spans), timedelta(0)))
            if len(self._spans_cache) > 8192:
                self._spans_cache.clear()
            self._spans_cache[d] = cached
        return cached

    def _next_working_date(self, d: date) -> date:
        """First working day strictly after ``d``."""
        for _ in range(_MAX_IDLE_DAYS):
            d += _ONE_DAY
            if self.hours_on(d):
                return d
        raise ValueError(f"no working day within {_MAX_IDLE_DAYS} days after {d - _MAX_IDLE_DAYS * _ONE_DAY}")

    # -- days --------------------------------------------------------------

    def hours_on(self, d: date) -> DayHours:
        """Working intervals on date ``d`` (empty if it is not a working day)."""
        d = _as_date(d, "hours_on")
        if d in self.holidays or d in self.extra_days_off:
            return ()
        special = self.special_hours.get(d)
        if special is not None:
            return special
        return self.weekly.days[d.weekday()]

    def is_working_day(self, d: date) -> bool:
        return bool(self.hours_on(d))

    def day_off_reason(self, d: date) -> str | None:
        """Holiday / extra-day-off name for ``d``; ``None`` if it has none
        (weekends and special-hours days off return ``None``)."""
        d = _as_date(d, "day_off_reason")
        return self.holidays.get(d) or self.extra_days_off.get(d)

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after date ``d`` (``n == 0`` returns ``d``)."""
        d = _as_date(d, "add_working_days")
        _check_count(n)
        for _ in range(n):
            d = self._next_working_date(d)
        return d

    def day_start(self, d: date) -> datetime | None:
        """Start of work on ``d``; ``None`` if ``d`` is not a working day."""
        hours = self.hours_on(d)
        return self._at(d, hours[0].start) if hours else None

    def day_end(self, d: date) -> datetime | None:
        """End of work on ``d``; ``None`` if ``d`` is not a working day."""
        hours = self.hours_on(d)
        return self._at(d, hours[-1].end) if hours else None

    def next_working_day_start(self, d: date) -> datetime:
        """Start of the first working day strictly after date ``d``."""
        nd = self._next_working_date(_as_date(d, "next_working_day_start"))
        return self._at(nd, self.hours_on(nd)[0].start)

    # -- moments -----------------------------------------------------------

    def is_working_time(self, t: datetime) -> bool:
        t = self._local(t)
        return any(s <= t < e for s, e, _ in self._spans(t.date())[0])

    def next_working_moment(self, t: datetime) -> datetime:
        """``t`` itself if it is working time, else the next interval start."""
        t = self._local(t)
        for s, e, _ in self._spans(t.date())[0]:
            if t < e:
                return s if t < s else t
        return self.next_working_day_start(t.date())

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside ``[a, b)``; zero if ``b <= a``."""
        a, b = self._local(a, "a"), self._local(b, "b")
        if b <= a:
            return timedelta(0)
        first, last = a.date(), b.date()
        total = timedelta(0)
        d = first
        while d <= last:
            spans, day_total = self._spans(d)
            if first < d < last:
                total += day_total
            else:
                for s, e, _ in spans:
                    lo, hi = max(s, a), min(e, b)
                    if lo < hi:
                        total += self._sub(hi, lo)
            d += _ONE_DAY
        return total

    def working_days_between(self, a: datetime, b: datetime) -> float:
        """:meth:`working_time_between` in standard working days (display)."""
        return self.working_time_between(a, b) / self.standard_day

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest moment at which ``duration`` of working time has
        elapsed counting from ``start`` (may be an interval end).  A zero
        duration returns ``next_working_moment(start)``."""
        start = self._local(start, "start")
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        if not duration:
            return self.next_working_moment(start)
        remaining = duration
        d = start.date()
        for s, e, _ in self._spans(d)[0]:
            if e <= start:
                continue
            lo = max(s, start)
            available = self._sub(e, lo)
            if remaining <= available:
                return self._shift(lo, remaining)
            remaining -= available
        idle = 0
        while True:
            d += _ONE_DAY
            spans, day_total = self._spans(d)
            if not day_total:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"no working day within {_MAX_IDLE_DAYS} days before {d}")
                continue
            idle = 0
            if remaining > day_total:
                remaining -= day_total
                continue
            for s, _, length in spans:
                if remaining <= length:
                    return self._shift(s, remaining)
                remaining -= length
            raise AssertionError("unreachable: remaining exceeded the day total")  # pragma: no cover

    def due_after_working_days(self, received: datetime, n: int) -> datetime:
        """Deadline for an SOP limit of ``n`` working days (see module docs):
        the clock time of ``s = next_working_moment(received)`` on the n-th
        working day after ``s``'s date, clamped into that day's hours
        (before the first start -> first start; in a break -> the break's
        end; at/after the last end -> the last end).  ``n == 0`` -> ``s``."""
        _check_count(n)
        s = self.next_working_moment(self._local(received, "received"))
        if n == 0:
            return s
        d = self.add_working_days(s.date(), n)
        clock = s.time()
        hours = self.hours_on(d)
        for iv in hours:
            if clock < iv.start:
                return self._at(d, iv.start)
            if clock < iv.end:
                return self._at(d, clock)
        return self._at(d, hours[-1].end)

    def elapsed_fraction(self, received: datetime, due: datetime, now: datetime) -> float:
        """Share of the working time between ``received`` and ``due`` that
        has elapsed at ``now`` (0.0 before ``received``; above 1.0 once
        overdue).  If there is no working time before ``due``, returns 1.0
        when ``now >= due`` and 0.0 otherwise."""
        total = self.working_time_between(received, due)
        if total <= timedelta(0):
            return 1.0 if self._local(now, "now") >= self._local(due, "due") else 0.0
        return self.working_time_between(received, now) / total

    def format_duration(self, td: timedelta) -> str:
        """``format_duration_id`` with this calendar's standard day."""
        return format_duration_id(td, self.standard_day)


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number of working days must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"number of working days must not be negative, got {n}")


def default_calendar(
    years: Iterable[int],
    *,
    weekly: WeeklyHours | None = None,
    extra_days_off: Mapping[date, str] | None = None,
    special_hours: Mapping[date, IntervalsLike] | None = None,
    tz: tzinfo = JAKARTA,
    standard_day: timedelta = STANDARD_DAY,
) -> WorkingCalendar:
    """Calendar with the default hours and Indonesian holidays for ``years``
    (load at least the current and the next year)."""
    return WorkingCalendar(
        tz=tz,
        weekly=weekly if weekly is not None else WeeklyHours.default(),
        holidays=indonesian_holidays(years),
        extra_days_off=extra_days_off or {},
        special_hours=special_hours or {},
        standard_day=standard_day,
    )


def format_duration_id(td: timedelta, standard_day: timedelta | None = None) -> str:
    """Render a (working) duration in Indonesian, truncated to whole minutes:
    ``"2 jam 15 menit"``, ``"45 menit"``, ``"0 menit"``.  With ``standard_day``
    whole standard days are shown first: ``"1 hari kerja 2 jam 15 menit"``,
    ``"3 hari kerja"``.  Negative durations get a leading ``"-"``."""
    if not isinstance(td, timedelta):
        raise TypeError(f"expected a timedelta, got {type(td).__name__}")
    sign = "-" if td < timedelta(0) else ""
    rest = abs(td)
    parts: list[str] = []
    if standard_day is not None:
        if standard_day <= timedelta(0):
            raise ValueError("standard_day must be positive")
        days, rest = divmod(rest, standard_day)
        if days:
            parts.append(f"{days} hari kerja")
    minutes = rest // timedelta(minutes=1)
    hours, minutes = divmod(minutes, 60)
    if hours:
        parts.append(f"{hours} jam")
    if minutes or not parts:
        parts.append(f"{minutes} menit")
    if sign and parts == ["0 menit"]:
        sign = ""
    return sign + " ".join(parts)
