"""Oversight of the SOP: what the record keeps for it, the periods it is read over, and the
arithmetic on order statistics. Pure: no telegram, no sqlalchemy, no clock (``today`` and
moments are passed in).

How a step's time is recorded (the bot calls these when a hop of the timeline closes):

* every hop stores its **working time** (``working_seconds``: working time on the calendar in
  force, from received to done, in whole seconds);
* the hop that **ends a passage** of its SOP step (``ends_passage``) also stores the passage's
  working time. A passage is one request's time in one SOP step: a disposition step may have
  several hops of the chain (e.g. a division head's disposition, then a team lead's assignment),
  which share one limit; every other step has one. Because hops are contiguous, a passage's working time is the sum of its hops' working times.

When a hop closes the bot also adds it to the day's tallies (:class:`Tally`: per step, per
official), so a period's counts are sums over days. The figures (``workflow/monev.py``) aggregate
those in SQL; percentiles come from a handful of order statistics (``ranks_for`` /
``percentile``) that the database finds by walking an index, so it never returns every row.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from workflow.calendar import WorkingCalendar
from workflow.calendar_input import parse_date
from workflow.form import Invalid
from workflow.sop import CLOSED_STAGES, REQUESTER, Sop, Step

PERCENTILES = (50, 90)  # median and 90th percentile, in percent
DEFAULT_THRESHOLD = 0.8  # share of passages on time at which a step "runs well"
MAX_PERIOD_DAYS = 732  # two years at most in one report


# ----------------------------------------------------------------------------- recording


def working_seconds(cal: WorkingCalendar, received: datetime, done: datetime) -> int:
    """Working time from ``received`` to ``done`` in whole seconds (truncated)."""
    return int(cal.working_time_between(received, done).total_seconds())


def ends_passage(sop: Sop, from_stage: str, to_stage: str | None) -> bool:
    """Does leaving ``from_stage`` for ``to_stage`` end the passage of ``from_stage``'s SOP step?
    It does unless the request moves to another hop of the same step."""
    if to_stage is None or to_stage in CLOSED_STAGES:
        return True
    return sop.stages[to_stage].step != sop.stages[from_stage].step


def earlier_hops(sop: Sop, stage: str) -> tuple[str, ...]:
    """The stages before ``stage`` in the disposition chain that belong to the same SOP step:
    the hops of the passage that ``stage`` continues (empty when ``stage`` starts one)."""
    chain = sop.chain
    if stage not in chain:
        return ()
    out: list[str] = []
    i = chain.index(stage)
    while i > 0 and sop.stages[chain[i - 1]].step == sop.stages[stage].step:
        i -= 1
        out.insert(0, chain[i])
    return tuple(out)


@dataclass(frozen=True)
class Tally:
    """One finished passage of an SOP step, or one official's hop, as the daily tallies count it
    (``oversight_day``): on the office's calendar day it finished."""

    day: date
    kind: str  # "passage" | "hop"
    key: str  # the step code | "official_id:role"
    on_time: bool
    returned: bool
    seconds: int


def passage_tally(step: Step, done: datetime, due: datetime | None, seconds: int, outcome: str | None,
                  cal: WorkingCalendar) -> Tally:
    """A passage keeps its limit when it ends by its deadline; the requester's own step has none
    and keeps it when its working time is within the limit."""
    ok = done <= due if due is not None else seconds <= limit_seconds(step, cal.standard_day)
    return Tally(done.astimezone(cal.tz).date(), "passage", step.code, ok, outcome == "return", seconds)


def elapsed_seconds(started: datetime, done: datetime) -> int:
    """A procedure-B step's time: its limit is minutes of the clock, not working time."""
    return int((done - started).total_seconds())


def hop_tally(official_id: int, role: str, done: datetime, due: datetime | None, seconds: int,
              cal: WorkingCalendar) -> Tally:
    return Tally(done.astimezone(cal.tz).date(), "hop", f"{official_id}:{role}", due is None or done <= due, False,
                 seconds)


def missing_tallies(items: list[str] | tuple[str, ...], done: datetime, cal: WorkingCalendar) -> list[Tally]:
    """A return for incompleteness: each missing item counted on its day (``kind`` "missing")."""
    day = done.astimezone(cal.tz).date()
    return [Tally(day, "missing", str(item), False, False, 0) for item in items]


def limit_seconds(step: Step, standard_day: timedelta) -> int:
    """A step's SOP limit as working time in seconds (a working day counts as the standard day)."""
    return step.limit.seconds(standard_day)


def has_deadline(step: Step) -> bool:
    """Steps held by officials carry a deadline (``due_at``); the requester's own step does not
    (its passages are measured against the limit as working time)."""
    return step.actor != REQUESTER


# ----------------------------------------------------------------------------- periods


class PeriodKind(StrEnum):
    THIS_MONTH = "m0"
    LAST_MONTH = "m1"
    THIS_QUARTER = "q0"
    THIS_YEAR = "y0"


@dataclass(frozen=True)
class Period:
    """Whole days ``start``..``end`` (inclusive), read in the office's time zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period ends on or after its start")

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """``[start 00:00, day after end 00:00)`` in ``tz``."""
        return (datetime.combine(self.start, time(0), tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def is_month(self) -> bool:
        return self.start.day == 1 and self.end == _month_end(self.start)

    def trend_months(self, at_least: int = 6) -> list[date]:
        """First days of the months shown in the trend: the period's months, and at least the
        ``at_least`` months ending with the period's last month."""
        last = self.end.replace(day=1)
        first = min(self.start.replace(day=1), _add_months(last, 1 - at_least))
        out = []
        m = first
        while m <= last:
            out.append(m)
            m = _add_months(m, 1)
        return out


def _month_end(d: date) -> date:
    return d.replace(day=monthrange(d.year, d.month)[1])


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def period_of(kind: PeriodKind | str, today: date) -> Period:
    k = PeriodKind(kind)
    first = today.replace(day=1)
    if k == PeriodKind.THIS_MONTH:
        return Period(first, _month_end(first))
    if k == PeriodKind.LAST_MONTH:
        prev = _add_months(first, -1)
        return Period(prev, _month_end(prev))
    if k == PeriodKind.THIS_QUARTER:
        q = _add_months(first, -((today.month - 1) % 3))
        return Period(q, _month_end(_add_months(q, 2)))
    return Period(date(today.year, 1, 1), date(today.year, 12, 31))


_RANGE = re.compile(r"^\s*(\S+)\s*(?:s\.?\s?d\.?|sampai(?:\s+dengan)?|hingga|–|—|-|\.\.)\s*(\S+)\s*$",
                    re.IGNORECASE)


def parse_period(text: str, today: date) -> Period:
    """``"01-10-2026 s.d. 31-12-2026"`` (also ``sampai``, ``-``, ISO dates) -> Period.
    Raises :class:`Invalid` (``date_format``, ``date_not_exist``, ``range_backwards``,
    ``date_future``, ``range_too_long``)."""
    text = (text or "").strip()
    parts = text.split()
    m = _RANGE.match(text)
    if m:
        start, end = parse_date(m[1]), parse_date(m[2])
    elif len(parts) == 3 and parts[1] in ("-", "–", "—"):
        start, end = parse_date(parts[0]), parse_date(parts[2])
    else:
        raise Invalid("date_format")
    if end < start:
        raise Invalid("range_backwards")
    if start > today:
        raise Invalid("date_future")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise Invalid("range_too_long", days=MAX_PERIOD_DAYS)
    return Period(start, end)


def monthly_window(cal: WorkingCalendar, today: date, catch_up_days: int = 5) -> Period | None:
    """The month whose report is due ``today``: the previous month, on the first working day of
    this month (and, if the bot could not send it then, on the next ``catch_up_days - 1`` working
    days). None on any other day."""
    first = today.replace(day=1)
    d = first if cal.is_working_day(first) else cal.add_working_days(first, 1)
    for _ in range(catch_up_days):
        if d.month != first.month or d > today:
            return None
        if d == today:
            prev = _add_months(first, -1)
            return Period(prev, _month_end(prev))
        d = cal.add_working_days(d, 1)
    return None


# ----------------------------------------------------------------------------- order statistics


def ranks_for(n: int, percents: tuple[int, ...] = PERCENTILES) -> set[int]:
    """The 0-based ranks whose values the percentiles need (linear interpolation, as
    PostgreSQL's ``percentile_cont``): ``floor`` and ``ceil`` of ``(n - 1) * p``."""
    out: set[int] = set()
    for p in percents:
        out.add((n - 1) * p // 100)
        out.add(-((-(n - 1) * p) // 100))
    return out if n > 0 else set()


def percentile(n: int, values: Mapping[int, float], p: int) -> float | None:
    """The ``p``-th percentile (in percent) of ``n`` values, from the values at the ranks
    :func:`ranks_for` names (exact: integer arithmetic for the position)."""
    if n <= 0:
        return None
    pos = (n - 1) * p
    lo, frac = divmod(pos, 100)
    if frac == 0:
        return float(values[lo])
    hi = lo + 1
    return values[lo] + (values[hi] - values[lo]) * frac / 100


@dataclass(frozen=True)
class Distribution:
    """Passages of something (a step, an official's hops, whole requests): how many, how many
    within the limit, the longest, and the values at the ranks the percentiles need."""

    n: int = 0
    on_time: int = 0
    worst: int | None = None
    ranks: Mapping[int, int] | None = None

    def percentile(self, p: int) -> float | None:
        return percentile(self.n, self.ranks or {}, p)

    @property
    def median(self) -> float | None:
        return self.percentile(50)

    @property
    def p90(self) -> float | None:
        return self.percentile(90)

    @property
    def late(self) -> int:
        return self.n - self.on_time

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.n if self.n else None


def moment_before(cal: WorkingCalendar, t: datetime, working: timedelta) -> datetime:
    """The earliest moment ``m`` with ``working_time_between(m, t) == working``: a deadline at or
    after ``m`` is at most ``working`` late at ``t`` (ageing boundaries such as "one working day
    late")."""
    t = t.astimezone(cal.tz)
    left = max(working, timedelta(0))
    d = t.date()
    for _ in range(4000):
        for iv in reversed(cal.hours_on(d)):
            s = datetime.combine(d, iv.start, tzinfo=cal.tz)
            e = min(datetime.combine(d, iv.end, tzinfo=cal.tz), t)
            if e <= s:
                continue
            if not left:
                return e
            span = e - s
            if span > left:
                return e - left
            left -= span
        d -= timedelta(days=1)
    raise ValueError("no working time in the last ten years")
