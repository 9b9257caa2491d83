from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from workflow.calendar import default_calendar
from tests.sopfiles import bogor, sukamaju
from workflow.reminders import Kind, next_overdue, plan, send_time

W = ZoneInfo("Asia/Jakarta")
CAL = default_calendar([2026, 2027])


def t(*a: int) -> datetime:
    return datetime(*a, tzinfo=W)


@pytest.mark.parametrize("received,days,expected", [
    # ordinary Monday: 7.5 working hours to Tuesday 09:00
    (t(2026, 11, 30, 9), 1, [("share", t(2026, 11, 30, 13, 45)), ("share", t(2026, 12, 1, 8, 15)),
                             ("breach", t(2026, 12, 1, 9))]),
    # Friday afternoon, over the weekend
    (t(2026, 11, 27, 15), 1, [("share", t(2026, 11, 30, 10)), ("share", t(2026, 11, 30, 14, 12)),
                              ("breach", t(2026, 11, 30, 15))]),
    # before Christmas: 24 Dec (cuti bersama), 25 Dec (holiday) and the weekend are skipped
    (t(2026, 12, 23, 10), 1, [("share", t(2026, 12, 23, 14, 45)), ("share", t(2026, 12, 28, 9, 15)),
                              ("breach", t(2026, 12, 28, 10))]),
])
def test_plan(received: datetime, days: int, expected: list[tuple[str, datetime]]) -> None:
    due = CAL.due_after_working_days(received, days)
    got = [(p.kind.value, p.at) for p in plan(received, due, CAL)]
    assert got == expected


def test_plan_shares_configurable_and_always_in_working_time() -> None:
    r = t(2026, 11, 30, 11, 30)
    due = CAL.due_after_working_days(r, 2)
    ps = plan(r, due, CAL, (0.25, 0.5, 0.75, 0.9))
    assert [p.share for p in ps if p.kind == Kind.SHARE] == [0.25, 0.5, 0.75, 0.9]
    assert all(CAL.is_working_time(p.at) for p in ps)
    assert [p.at for p in ps] == sorted(p.at for p in ps)


def test_overdue_once_per_working_day() -> None:
    due = t(2026, 12, 23, 10)
    assert next_overdue(due, 1, CAL).at == t(2026, 12, 28, 10)  # skips 24-25 Dec and the weekend
    assert next_overdue(due, 2, CAL).at == t(2026, 12, 29, 10)


def test_send_time_quiet_hours() -> None:
    at = t(2026, 11, 30, 15)
    assert send_time(at, t(2026, 11, 30, 15, 5), CAL) == t(2026, 11, 30, 15, 5)
    assert send_time(at, t(2026, 11, 30, 20), CAL) == t(2026, 12, 1, 7, 30)  # night: next working start
    assert send_time(at, t(2026, 12, 5, 10), CAL) == t(2026, 12, 7, 7, 30)  # Saturday


def test_escalation_ladder() -> None:
    b = bogor()
    assert b.superior("executor") == "team_lead"
    assert b.superior("team_lead") == "division_head"
    assert b.superior("division_head") == "head"
    assert b.superior("head") is None and b.superior(None) is None
    assert sukamaju().superior("pelaksana") == "kabid_aptika" and sukamaju().superior("kadis") is None
