"""Reminder and escalation policy for SOP time limits (pure: the calendar and times come in).

For every open step with a deadline:
- the holder is reminded when a share of the step's working time has passed (the SOP's
  ``reminders.shares``, default 50 % and 90 %) and when the limit is breached;
- on breach the holder's superior is told too (the SOP's ``escalation`` ladder), and again once
  per working day while the step stays overdue;
- nothing goes out outside working hours: a reminder that falls due at night (or while the bot
  was down) goes at the next working moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from workflow.calendar import WorkingCalendar

DEFAULT_SHARES: tuple[float, ...] = (0.5, 0.9)


class Kind(StrEnum):
    SHARE = "share"  # a share of the limit has passed (holder)
    BREACH = "breach"  # the limit is reached (holder and superior)
    OVERDUE = "overdue"  # still overdue, one more working day later (holder and superior)


@dataclass(frozen=True)
class Planned:
    kind: Kind
    at: datetime  # when it is due (always working time)
    share: float | None = None  # for SHARE
    day: int = 0  # for OVERDUE: working days past the deadline


def plan(received: datetime, due: datetime, cal: WorkingCalendar,
         shares: tuple[float, ...] = DEFAULT_SHARES) -> list[Planned]:
    """The reminders of one step, in time order."""
    total = cal.working_time_between(received, due)
    out: list[Planned] = []
    for share in sorted(set(shares)):
        if not 0 < share < 1 or total.total_seconds() <= 0:
            continue
        at = cal.next_working_moment(cal.add_working_time(received, total * share))
        if at < due:
            out.append(Planned(Kind.SHARE, at, share=share))
    out.append(Planned(Kind.BREACH, cal.next_working_moment(due)))
    return out


def next_overdue(due: datetime, day: int, cal: WorkingCalendar) -> Planned:
    """The ``day``-th daily repeat after a breach (``day`` >= 1)."""
    return Planned(Kind.OVERDUE, cal.next_working_moment(cal.due_after_working_days(due, day)), day=day)


def send_time(at: datetime, now: datetime, cal: WorkingCalendar) -> datetime:
    """A due reminder goes now if now is working time, else at the next working moment."""
    return now if cal.is_working_time(now) else cal.next_working_moment(now if now > at else at)
