"""A simulated working week around Christmas 2026 with a Ramadan-style special-hours day:
the clock moves in 15-minute ticks (every reminder sweep the scheduler would make), and every
reminder, escalation and digest must appear at its moment and no other."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import FakeClock
from bot.outbox import OutboxWriter
from bot.services.calendar_admin import CalendarAdmin
from bot.updates import Scope
from tests.e2e.flows import head_disposes
from tests.e2e.harness import DIVISION, EXEC1, HEAD, REQUESTER, TEAM, Harness

W = ZoneInfo("Asia/Jakarta")
KINDS = {"Pengingat": "reminder", "Batas waktu terlampaui": "breach",
         "Eskalasi": "escalation", "Ringkasan harian": "digest"}


def at(*a: int) -> datetime:
    return datetime(*a, tzinfo=W)


def kind_of(text: str) -> str | None:
    return next((k for marker, k in KINDS.items() if marker in text), None)


async def test_week_of_reminders_escalations_digests(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url, clock=FakeClock(at(2026, 12, 21, 13, 50)))
    await h.start()
    await h.cast()
    try:
        async with h.db.transaction() as s:  # Tuesday 22 Dec: special hours 08:00-15:00 with a break
            scope = Scope(s, h.clock.now(), OutboxWriter(s, h.clock.now()), None)  # type: ignore[arg-type]
            await CalendarAdmin(scope, h.runtime.env).add_special_hours(  # type: ignore[union-attr, arg-type]
                at(2026, 12, 22).date(), at(2026, 12, 22).date(), "08:00-12:00,12:30-15:00", "Ramadan", by=None)
        await h.runtime.refresh_calendar(force=True)  # type: ignore[union-attr]
        h.clock.set(at(2026, 12, 21, 14, 0))
        await h.submit()
        await head_disposes(h)  # the division head holds it from Monday 14:00
        div = await h.wait_msg(DIVISION, "Disposisikan kepada")
        assert "Selasa, 22 Desember 2026 14.00 WIB" in div.text

        seen: dict[int, int] = {u: h.last_id(u) for u in (HEAD, DIVISION, TEAM, EXEC1, REQUESTER)}
        events: list[tuple[datetime, int, str]] = []
        t = at(2026, 12, 21, 14, 0)
        while t <= at(2026, 12, 29, 10, 0):
            h.clock.set(t)
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            await h.settle()
            for u in seen:
                for m in h.emu.bot_messages(u):
                    if m.message_id > seen[u] and m.text:
                        events.append((t, u, kind_of(m.text) or m.text[:40]))
                seen[u] = h.last_id(u)
            t += timedelta(minutes=15)

        def digest(day: datetime) -> list[tuple[datetime, int, str]]:
            return [(day, HEAD, "digest"), (day, DIVISION, "digest")]

        expected = sorted(
            digest(at(2026, 12, 21, 14, 0))  # Monday: the first sweep (the bot's day began at 14:00 here)
            + digest(at(2026, 12, 22, 8, 0))  # the special-hours day starts at 08:00
            + [(at(2026, 12, 22, 9, 45), DIVISION, "reminder"),  # 50 %: 2 h on Monday + 1 h 45 min of 7 h 30 min
               (at(2026, 12, 22, 13, 15), DIVISION, "reminder"),  # 90 %: 12:00-12:30 is the special day's break
               (at(2026, 12, 22, 14, 0), DIVISION, "breach"), (at(2026, 12, 22, 14, 0), HEAD, "escalation")]
            + digest(at(2026, 12, 23, 7, 30))
            + [(at(2026, 12, 23, 14, 0), DIVISION, "breach"), (at(2026, 12, 23, 14, 0), HEAD, "escalation")]
            # 24 Dec (cuti bersama), 25 Dec (Christmas) and the weekend: nothing at all
            + digest(at(2026, 12, 28, 7, 30))
            + [(at(2026, 12, 28, 14, 0), DIVISION, "breach"), (at(2026, 12, 28, 14, 0), HEAD, "escalation")]
            + digest(at(2026, 12, 29, 7, 30)),
            key=lambda e: (e[0], e[1], e[2]))
        assert sorted(events, key=lambda e: (e[0], e[1], e[2])) == expected
    finally:
        await h.close()
