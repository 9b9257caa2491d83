"""A known set of requests for the oversight figures, with the answers computed by hand.

December 2026 on the default calendar (Mon-Thu 07:30-12:00, 13:00-16:00; Fri 07:30-11:30,
13:00-16:30; 24 and 25 December are a collective-leave day and Christmas; 1 January is New
Year). R1 starts in November and ends in December; R2 crosses Christmas, is returned once and
is still open on 31 December (its step A6 ends in January); R3 is late at A2 and A3, returned
and withdrawn; R4 stays with the executor from 14 December, overdue at the end of the month.
Working time of each hop is written next to it (h = working hours)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from sandbox.history import Move, Story, write_stories
from storage.figures import add_tallies
from storage.models import Application, AppStep, Official, OfficialRole
from workflow.calendar import default_calendar
from workflow.machine import Action as A
from workflow.oversight import Period, passage_tally
from tests.sopfiles import bogor

W = ZoneInfo("Asia/Jakarta")
HEAD, DIV, TEAM, EXE = 1, 2, 3, 4  # official ids
OFFICIALS = ((HEAD, 1001, "Rahmat Hidayat", "head"), (DIV, 1002, "Dewi Kartika", "division_head"),
             (TEAM, 1003, "Agus Salim", "team_lead"), (EXE, 1004, "Budi Pranoto", "executor"))
SOP = bogor()  # SOP 038: the figures below are computed by hand for its chain and limits
DECEMBER = Period(date(2026, 12, 1), date(2026, 12, 31))
CUTOFF = datetime(2027, 1, 1, tzinfo=W)  # the end of the period (the report is made in January)
CAL = default_calendar([2025, 2026, 2027])


def t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027 if month == 1 else 2026, month, day, hour, minute, tzinfo=W)


STORIES = [
    Story("SPLP-2026-000001", 1, 5001, t(11, 30, 8), t(11, 30, 9), (  # A1 1 h (November)
        Move(A.DISPOSE, HEAD, at=t(12, 1, 8)),  # A2 6.5 h
        Move(A.DISPOSE, DIV, at=t(12, 1, 10)),  # A3 2 h
        Move(A.ASSIGN, TEAM, at=t(12, 1, 14), executor=EXE),  # A3 3 h (passage 5 h)
        Move(A.COMPLETE, EXE, at=t(12, 1, 15)),  # A4 1 h
        Move(A.REGISTER, EXE, at=t(12, 3, 10)),  # A5 11 h
        Move(A.SUBMIT_REPORT, EXE, at=t(12, 3, 11)),  # A6 1 h
        Move(A.FORWARD, HEAD, at=t(12, 4, 9)),  # A7 5.5 h -> done; total 31 h
    )),
    Story("SPLP-2026-000002", 2, 5002, t(12, 21, 8), t(12, 21, 10), (  # A1 2 h
        Move(A.DISPOSE, HEAD, at=t(12, 21, 11)),  # A2 1 h
        Move(A.DISPOSE, DIV, at=t(12, 21, 11, 30)),  # A3 0.5 h
        Move(A.ASSIGN, TEAM, at=t(12, 21, 13, 30), executor=EXE),  # A3 1 h (passage 1.5 h)
        Move(A.RETURN, EXE, at=t(12, 22, 15), missing=("contact_phone", "business_process"),
             note="Nomor ponsel dan proses bisnis belum sesuai."),  # A4 9 h, late (due 22 Dec 13.30)
        Move(A.RESUBMIT, None, at=t(12, 28, 9)),  # A1 10 h over Christmas, late
        Move(A.DISPOSE, HEAD, at=t(12, 28, 10)),  # A2 1 h
        Move(A.DISPOSE, DIV, at=t(12, 28, 10, 30)),  # A3 0.5 h
        Move(A.ASSIGN, TEAM, at=t(12, 28, 11), executor=EXE),  # A3 0.5 h (passage 1 h)
        Move(A.COMPLETE, EXE, at=t(12, 28, 13)),  # A4 1 h
        Move(A.REGISTER, EXE, at=t(12, 31, 9), note="Portal SPLP sedang gangguan."),  # A5 19.5 h, late (due 30 Dec 13.00)
        Move(A.SUBMIT_REPORT, EXE, at=t(1, 4, 8)),  # A6 in January (6.5 h)
    )),
    Story("SPLP-2026-000003", 3, 5003, t(12, 7, 7, 30), t(12, 7, 8, 30), (  # A1 1 h
        Move(A.DISPOSE, HEAD, at=t(12, 9, 8, 30), note="Terlambat karena dinas luar."),  # A2 15 h, late
        Move(A.DISPOSE, DIV, at=t(12, 10, 9, 30)),  # A3 8.5 h, late (due 10 Dec 08.30)
        Move(A.ASSIGN, TEAM, at=t(12, 10, 10), executor=EXE),  # A3 0.5 h (passage 9 h), late
        Move(A.RETURN, EXE, at=t(12, 10, 11), missing=("contact_phone",),
             note="Nomor ponsel narahubung tidak aktif."),  # A4 1 h
        Move(A.CANCEL, None, at=t(12, 11, 8)),  # A1 4.5 h -> withdrawn
    )),
    Story("SPLP-2026-000004", 4, 5004, t(12, 14, 8), t(12, 14, 9), (  # A1 1 h
        Move(A.DISPOSE, HEAD, at=t(12, 14, 9, 30)),  # A2 0.5 h
        Move(A.DISPOSE, DIV, at=t(12, 14, 10)),  # A3 0.5 h
        Move(A.ASSIGN, TEAM, at=t(12, 14, 10, 30), executor=EXE),  # A3 0.5 h (passage 1 h)
    )),  # A4 open since 14 Dec 10.30, due 15 Dec 10.30: 79.5 h late at the cutoff
]

H = 3600
# Per step: passages finished in December, on time, order statistics (seconds), escalations.
EXPECTED_STEPS = {
    #      n  ok  median   p90            worst    late esc
    "A1": (5, 4, 2 * H, 16200 + 0.6 * (10 * H - 16200), 10 * H, 1, 0),  # 1, 1, 2, 4.5, 10 h
    "A2": (5, 4, 1 * H, 6.5 * H + 0.6 * (15 * H - 6.5 * H), 15 * H, 1, 0),  # 0.5, 1, 1, 6.5, 15 h
    "A3": (5, 4, 1.5 * H, 5 * H + 0.6 * (9 * H - 5 * H), 9 * H, 1, 2),  # 1, 1, 1.5, 5, 9 h
    "A4": (4, 3, 1 * H, 1 * H + 0.7 * (9 * H - 1 * H), 9 * H, 1, 12),  # 1, 1, 1, 9 h; R4 escalated 11 times
    "A5": (2, 1, 11 * H + 0.5 * 8.5 * H, 11 * H + 0.9 * 8.5 * H, 19.5 * H, 1, 1),  # 11, 19.5 h
    "A6": (1, 1, 1 * H, 1 * H, 1 * H, 0, 0),
    "A7": (1, 1, 5.5 * H, 5.5 * H, 5.5 * H, 0, 0),
    "B1": (2, 1, 570, 240 + 0.9 * 660, 900, 1, 0),  # 4 and 15 minutes
    "B2": (0, 0, None, None, None, 0, 0),
    "B3": (0, 0, None, None, None, 0, 0),
}
EXPECTED_COUNTS = {"received": 3, "finished": 1, "withdrawn": 1, "in_progress": 2, "checks": 4, "returns": 2}
EXPECTED_MISSING = (("contact_phone", 2), ("business_process", 1))
# Per official: hops finished in December, on time, median (seconds).
EXPECTED_HOLDERS = {
    "Rahmat Hidayat": (6, 5, 1 * H + 0.5 * (5.5 * H - 1 * H)),  # 0.5, 1, 1, 5.5, 6.5, 15 h
    "Dewi Kartika": (5, 4, 0.5 * H),  # 0.5, 0.5, 0.5, 2, 8.5 h
    "Agus Salim": (5, 4, 0.5 * H),  # 0.5, 0.5, 0.5, 1, 3 h
    "Budi Pranoto": (7, 5, 1 * H),  # 1, 1, 1, 1, 9, 11, 19.5 h
}
EXPECTED_TOTAL = (1, 1, 31 * H)  # letter -> account: R1 only
EXPECTED_DECEMBER_TREND = (18, 14)  # official steps' passages in December, on time
EXPECTED_AGEING = (1, 0, 0, 0, 1)  # R2's A6 not yet due; R4's A4 more than five working days late
EXPECTED_R4_LATE = 79.5 * H


async def seed(s, *, officials: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The officials (unless the harness made them, with the same ids), the four requests and two
    steps of procedure B (4 and 15 minutes)."""
    if officials:
        for oid, tg, name, role in OFFICIALS:
            s.add(Official(id=oid, telegram_id=tg, name=name, active=True, created_at=t(11, 1, 8)))
            await s.flush()
            s.add(OfficialRole(official_id=oid, role=role))
        await s.flush()
    ids = await write_stories(s, CAL, SOP, STORIES, until=CUTOFF)
    app = (await s.execute(insert(Application).values(
        request_id=ids[0], owner_telegram_id=6200, data={"name": "simpus"}, mode="manual", status="done",
        created_at=t(12, 8, 9), updated_at=t(12, 8, 10)).returning(Application.id))).scalar_one()
    b = [dict(application_id=app, step_code="B1", started_at=t(12, 8, 9), due_at=t(12, 8, 9, 10),
              done_at=t(12, 8, 9, 4), seconds=240),
         dict(application_id=app, step_code="B1", started_at=t(12, 9, 9), due_at=t(12, 9, 9, 10),
              done_at=t(12, 9, 9, 15), seconds=900)]
    await s.execute(insert(AppStep), b)
    await add_tallies(s, [passage_tally(SOP.steps["B1"], x["done_at"], x["due_at"], x["seconds"], None, CAL) for x in b])
