"""The monitoring and evaluation of the SOP's implementation (*monitoring dan evaluasi*,
Permenpan-RB 35/2012) as a model: the figures of a period in, the report out.

Pure: the figures arrive as plain rows (``storage/figures.py`` computes them in SQL), and
:func:`build_report` turns them into one :class:`OversightReport`, which the bot renders three
ways (chat text and chart, PDF, XLSX): the numbers in all three are the same by construction.
Every SOP fact (steps, titles, limits, actors) is read from the SOP in force (``workflow.sop.Sop``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from workflow.calendar import WorkingCalendar
from workflow.oversight import Distribution, Period, has_deadline, limit_seconds, moment_before
from workflow.sop import Sop, Step

# Open items by how late they are at the cutoff, in working days: (more than, at most).
# Bucket 0 is "not yet due".
AGE_BUCKETS: tuple[tuple[int | None, int | None], ...] = ((None, 0), (0, 1), (1, 3), (3, 5), (5, None))
OLDEST_SHOWN = 10
NOTES_PER_STEP = 3


def age_thresholds(cal: WorkingCalendar, cutoff: datetime) -> list[datetime]:
    """Deadlines at the bucket boundaries: an open item due after ``thresholds[k]`` is in bucket
    ``k`` or an earlier one (``thresholds[0]`` is the cutoff itself: not yet due)."""
    out = []
    for lo, hi in AGE_BUCKETS[:-1]:
        out.append(moment_before(cal, cutoff, cal.standard_day * (hi or 0)))
    return out


@dataclass(frozen=True)
class HolderRow:
    official_id: int
    name: str
    role: str  # the role held in those hops
    dist: Distribution


@dataclass(frozen=True)
class MonthRow:
    month: date  # first day
    n: int
    on_time: int

    @property
    def share(self) -> float | None:
        return self.on_time / self.n if self.n else None


@dataclass(frozen=True)
class OpenRow:
    number: str
    agency: str  # short name
    stage: str
    holder: str | None  # the named official, if one holds it
    holder_role: str | None
    received_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class Figures:
    """What the SQL returns for a period: aggregates and order statistics, never all rows."""

    received: int = 0
    finished: int = 0
    withdrawn: int = 0
    in_progress: int = 0  # open at the cutoff
    checks: int = 0  # completeness checks (step A4) finished
    returns: int = 0  # ... of which returned as incomplete
    missing: Mapping[str, int] = field(default_factory=dict)  # completeness item code -> times missing
    steps: Mapping[str, Distribution] = field(default_factory=dict)  # step code -> passages
    escalations: Mapping[str, int] = field(default_factory=dict)  # stage -> escalations
    holders: Sequence[HolderRow] = ()
    total: Distribution = field(default_factory=Distribution)  # letter -> account, finished requests
    months: Sequence[MonthRow] = ()
    ageing: Mapping[int, int] = field(default_factory=dict)  # AGE_BUCKETS index -> open hops
    waiting_requester: int = 0  # open at the cutoff with the requester (returned)
    oldest: Sequence[OpenRow] = ()
    notes: Mapping[str, Sequence[str]] = field(default_factory=dict)  # step code -> officials' notes


class Assessment(StrEnum):
    GOOD = "good"  # berjalan dengan baik
    NOT_GOOD = "not_good"  # tidak berjalan dengan baik


@dataclass(frozen=True)
class StepReport:
    step: Step
    dist: Distribution
    limit_seconds: int
    escalations: int
    assessment: Assessment | None  # None: no passage in the period
    notes: tuple[str, ...]
    action: str  # the action to take, typed by the Head ("" when none)

    @property
    def code(self) -> str:
        return self.step.code


@dataclass(frozen=True)
class OpenItem:
    row: OpenRow
    late_seconds: int  # working time past the deadline at the cutoff (0: not yet due)


@dataclass(frozen=True)
class OversightReport:
    sop: Sop  # the SOP in force: its steps, limits, roles and items
    period: Period
    cutoff: datetime  # figures are as of this moment (the period's end, or now)
    generated_at: datetime
    threshold: float
    standard_day_seconds: int
    received: int
    finished: int
    withdrawn: int
    in_progress: int
    checks: int
    returns: int
    missing: tuple[tuple[str, int], ...]  # most often missing first
    steps: tuple[StepReport, ...]  # procedure A, then B
    total: Distribution
    total_limit_seconds: int
    holders: tuple[HolderRow, ...] | None  # None: not shown to this reader
    months: tuple[MonthRow, ...]
    ageing: tuple[int, ...]  # per AGE_BUCKETS
    waiting_requester: int
    oldest: tuple[OpenItem, ...]

    @property
    def return_rate(self) -> float | None:
        return self.returns / self.checks if self.checks else None

    @property
    def open_items(self) -> int:
        return sum(self.ageing)

    @property
    def overdue(self) -> int:
        return sum(self.ageing[1:])

    def step(self, code: str) -> StepReport:
        return next(s for s in self.steps if s.code == code)

    @property
    def steps_a(self) -> tuple[StepReport, ...]:
        return tuple(s for s in self.steps if s.step in self.sop.procedure_a)

    @property
    def steps_b(self) -> tuple[StepReport, ...]:
        return tuple(s for s in self.steps if s.step in self.sop.procedure_b)


def assess(dist: Distribution, threshold: float) -> Assessment | None:
    """*Berjalan dengan baik* when at least ``threshold`` of the passages kept the limit."""
    share = dist.on_time_share
    if share is None:
        return None
    return Assessment.GOOD if share >= threshold else Assessment.NOT_GOOD


def total_limit_seconds(sop: Sop, standard_day: timedelta) -> int:
    """The SOP's total for procedure A (all its steps' limits)."""
    return sop.total_limit_seconds(standard_day)


def build_report(sop: Sop, fig: Figures, period: Period, *, cutoff: datetime, generated_at: datetime,
                 cal: WorkingCalendar, threshold: float, actions: Mapping[str, str] | None = None,
                 with_holders: bool = True) -> OversightReport:
    actions = actions or {}
    esc_by_step: dict[str, int] = {}
    for stage, n in fig.escalations.items():
        info = sop.stages.get(stage)
        if info is None:  # a stage of another SOP version
            continue
        esc_by_step[info.step] = esc_by_step.get(info.step, 0) + n
    steps = tuple(
        StepReport(step=s, dist=fig.steps.get(s.code, Distribution()), limit_seconds=limit_seconds(s, cal.standard_day),
                   escalations=esc_by_step.get(s.code, 0), assessment=assess(fig.steps.get(s.code, Distribution()),
                                                                             threshold),
                   notes=tuple(fig.notes.get(s.code, ()))[:NOTES_PER_STEP], action=actions.get(s.code, "").strip())
        for s in sop.procedure_a + sop.procedure_b)
    role_order = {r: i for i, r in enumerate(sop.official_roles())}
    holders = tuple(sorted(fig.holders, key=lambda h: (role_order.get(h.role, 99), h.name.casefold(), h.official_id)))
    by_month = {m.month: m for m in fig.months}
    months = tuple(by_month.get(m, MonthRow(m, 0, 0)) for m in period.trend_months())
    oldest = tuple(
        OpenItem(r, int(cal.working_time_between(r.due_at, cutoff).total_seconds()) if r.due_at else 0)
        for r in fig.oldest[:OLDEST_SHOWN])
    return OversightReport(
        sop=sop, period=period, cutoff=cutoff, generated_at=generated_at, threshold=threshold,
        standard_day_seconds=int(cal.standard_day.total_seconds()),
        received=fig.received, finished=fig.finished, withdrawn=fig.withdrawn, in_progress=fig.in_progress,
        checks=fig.checks, returns=fig.returns,
        missing=tuple(sorted(fig.missing.items(), key=lambda kv: (-kv[1], kv[0]))),
        steps=steps, total=fig.total, total_limit_seconds=sop.total_limit_seconds(cal.standard_day),
        holders=holders if with_holders else None, months=months,
        ageing=tuple(fig.ageing.get(i, 0) for i in range(len(AGE_BUCKETS))),
        waiting_requester=fig.waiting_requester, oldest=oldest)


def official_steps(sop: Sop) -> tuple[Step, ...]:
    """Procedure A's steps that officials hold (they carry deadlines): the monthly on-time trend."""
    return tuple(s for s in sop.procedure_a if has_deadline(s))


__all__ = ["AGE_BUCKETS", "Assessment", "Figures", "HolderRow", "MonthRow", "OpenItem", "OpenRow",
           "OversightReport", "StepReport", "age_thresholds", "assess", "build_report", "official_steps",
           "total_limit_seconds"]
