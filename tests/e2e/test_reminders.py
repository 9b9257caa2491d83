"""Time limits made live: reminders at 50 % / 90 %, breach, escalation, quiet hours, restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from storage.models import AuditLog, Reminder
from tests.e2e.flows import head_disposes, pick
from tests.e2e.harness import DIVISION, HEAD, REQUESTER, Harness
from tests.sopfiles import SOP_FILES

W = ZoneInfo("Asia/Jakarta")


def at(*a: int) -> datetime:
    return datetime(*a, tzinfo=W)


def texts(h: Harness, uid: int, word: str) -> list[str]:
    return [m.text for m in h.emu.bot_messages(uid) if m.text and word in m.text]


async def tick(h: Harness, when: datetime) -> int:
    h.clock.set(when)
    n = await h.runtime.sweep_reminders()  # type: ignore[union-attr]
    await h.settle()
    return n


async def _harness(emu, db_url, start: datetime) -> Harness:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url, clock=FakeClock(start))
    await h.start()
    await h.cast()
    return h


async def test_reminders_breach_escalation_around_christmas(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = await _harness(emu, db_url, at(2026, 12, 23, 10))  # Wednesday before Christmas
    try:
        number = await h.submit()
        head_msg = await h.wait_msg(HEAD, "Disposisikan kepada")
        assert "Senin, 28 Desember 2026 10.00 WIB" in head_msg.text  # 24-25 Dec and the weekend skipped
        st = await h.say(REQUESTER, "/status", expect="Perkiraan selesai")
        assert number in st.text

        assert await tick(h, at(2026, 12, 23, 14, 44)) == 0
        assert await tick(h, at(2026, 12, 23, 14, 45)) == 1
        r50 = texts(h, HEAD, "Pengingat")
        assert len(r50) == 1 and "Sisa waktu: 3 jam 45 menit" in r50[0] and number in r50[0]
        assert texts(h, DIVISION, "Pengingat") == [] and texts(h, REQUESTER, "Pengingat") == []

        # Christmas Eve (cuti bersama), Christmas, the weekend: nothing goes out.
        for d in (at(2026, 12, 24, 9), at(2026, 12, 25, 9), at(2026, 12, 26, 9), at(2026, 12, 27, 23)):
            assert await tick(h, d) == 0
        assert await tick(h, at(2026, 12, 28, 9, 15)) == 1
        r90 = texts(h, HEAD, "Pengingat")
        assert len(r90) == 2 and "Sisa waktu: 45 menit" in r90[1]
        assert await tick(h, at(2026, 12, 28, 10)) == 1
        breach = [m for m in h.emu.bot_messages(HEAD) if m.text and "Batas waktu terlampaui" in m.text]
        assert len(breach) == 1 and breach[0].buttons  # the holder can act right there
        # The Head has no superior: no escalation message anywhere.
        assert all(not texts(h, uid, "Eskalasi") for uid in (HEAD, DIVISION, REQUESTER))

        # Acting from the reminder's buttons; every earlier message loses its buttons.
        m = await pick(h, HEAD, breach[0], "Untuk ditindaklanjuti", "Kirim tanpa catatan")
        ans = await h.tap(HEAD, m, text=h.button(m, "Kirim tanpa catatan"))
        assert ans["text"] == "Disposisi terkirim."
        await h.settle()
        assert all(not x.buttons for x in h.emu.bot_messages(HEAD))
        async with h.db.sessions() as s:
            pending = await s.scalar(select(func.count()).select_from(Reminder).where(Reminder.sent_at.is_(None)))
        assert pending == 3  # only the division head's step is planned now (50 %, 90 %, breach)

        # The division head lets it run over: breach tells the Head (superior), and again each working day.
        div_msg = await h.wait_msg(DIVISION, "Disposisikan kepada")
        assert "Selasa, 29 Desember 2026 10.00 WIB" in div_msg.text
        await tick(h, at(2026, 12, 29, 10, 1))
        esc = texts(h, HEAD, "Eskalasi")
        assert len(esc) == 1 and "Dewi Kartika" in esc[0] and "Kepala Bidang E-Government" in esc[0]
        assert len(texts(h, DIVISION, "Batas waktu terlampaui")) == 1
        await tick(h, at(2026, 12, 29, 15))  # same day: nothing more
        assert len(texts(h, HEAD, "Eskalasi")) == 1
        await tick(h, at(2026, 12, 30, 10))  # one working day later: again
        assert len(texts(h, HEAD, "Eskalasi")) == 2
        assert len(texts(h, DIVISION, "Batas waktu terlampaui")) == 2
    finally:
        await h.close()


async def test_quiet_hours_and_restart_while_due(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = await _harness(emu, db_url, at(2026, 11, 30, 9))
    try:
        await h.submit()
        await h.wait_msg(HEAD, "Disposisikan kepada")
        await h.stop()  # the bot is down when the 50 % reminder (13:45) falls due ...
        h.clock.set(at(2026, 11, 30, 20))  # ... and comes back at night
        await h.start()
        assert await tick(h, at(2026, 11, 30, 20, 5)) == 0  # quiet hours
        assert texts(h, HEAD, "Pengingat") == []
        # Next working start: the missed reminders go out once (50 % and 90 % both due by then? no: 90 % is 08:15).
        assert await tick(h, at(2026, 12, 1, 7, 30)) == 1
        assert len(texts(h, HEAD, "Pengingat")) == 1
        await h.restart()
        assert await tick(h, at(2026, 12, 1, 7, 31)) == 0  # nothing twice after a restart
        assert len(texts(h, HEAD, "Pengingat")) == 1
    finally:
        await h.close()


async def test_scheduler_drives_the_sweep(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url, clock=FakeClock(at(2026, 11, 30, 9)), reminder_sweep_seconds=0.2, scheduled_jobs=True)
    await h.start()
    await h.cast()
    try:
        await h.submit()
        await head_disposes(h)
        h.clock.set(at(2026, 12, 1, 9, 31))  # the division head's breach, no manual sweep
        await h.wait_msg(DIVISION, "Batas waktu terlampaui", timeout=10)
        await h.wait_msg(HEAD, "Eskalasi", timeout=10)
    finally:
        await h.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # several instances need PostgreSQL
async def test_two_instances_send_each_reminder_once(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.app import BotRuntime
    from handlers import register_all

    import socket

    h = await _harness(emu, db_url, at(2026, 11, 30, 9))
    with socket.socket() as sock:  # a free loopback port for the second instance's webhook server
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = replace(h.settings, webhook_listen="127.0.0.1", webhook_port=port)
    second = BotRuntime(settings, h.db, register=register_all, clock=h.clock, instance_id="test-2",
                        scheduled_jobs=False)
    await second.start(mode="webhook")  # a second instance behind the load balancer (no poller)
    try:
        users = list(range(8001, 8013))
        for u in users:
            await h.submit(u)
        await h.settle()
        h.clock.set(at(2026, 11, 30, 13, 50))  # every 50 % reminder is due
        a, b = await asyncio.gather(h.runtime.sweep_reminders(), second.sweep_reminders())  # type: ignore[union-attr]
        assert a + b == len(users)
        await h.settle()
        await second.sender.drain()  # type: ignore[union-attr]
        assert len(texts(h, HEAD, "Pengingat")) == len(users)
    finally:
        await second.stop()
        await h.close()


async def test_after_downtime_only_the_most_advanced_notice_goes_out(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    """Down over the 50 % and 90 % moments and back after the limit: the holder gets the breach
    notice alone (short, replying to the request's card, with the buttons); the superseded
    reminders are recorded as skipped and never sent late. Escalation is unchanged."""
    h = await _harness(emu, db_url, at(2026, 11, 30, 9))
    try:
        number = await h.submit()
        await head_disposes(h)
        card = await h.wait_msg(DIVISION, "Disposisikan kepada")  # due Tuesday 09:00
        await h.stop()
        h.clock.set(at(2026, 12, 1, 11))  # 50 % (13:15 Mon), 90 % (08:15 Tue) and the breach all passed
        await h.start()
        assert await tick(h, at(2026, 12, 1, 11)) == 1
        got = [m for m in h.emu.bot_messages(DIVISION) if m.message_id > card.message_id  # the notices (not
               and ("Pengingat" in (m.text or "") or "terlampaui" in (m.text or ""))]  # the digest, the monthly report)
        assert len(got) == 1, [m.text for m in got]
        notice = got[0]
        assert notice.text.startswith(f"🚨 Batas waktu terlampaui — {number}")
        assert "Terlambat: 2 jam (jam kerja)" in notice.text and "Proses bisnis" not in notice.text
        assert len(notice.text.splitlines()) <= 7
        assert notice.reply_to is not None and notice.reply_to.message_id == card.message_id
        assert notice.buttons  # the holder can act on it right there
        assert len(texts(h, HEAD, "Eskalasi")) == 1
        async with h.db.sessions() as s:
            rows = (await s.execute(select(Reminder.kind, Reminder.share, Reminder.outcome)
                                    .where(Reminder.sent_at.isnot(None)).order_by(Reminder.id))).all()
            audit = (await s.scalars(select(AuditLog.detail).where(AuditLog.action == "reminder_skipped"))).all()
        assert [(r.kind, r.share, r.outcome) for r in rows] == [
            ("share", 0.5, "skipped"), ("share", 0.9, "skipped"), ("breach", None, "sent")]
        assert audit[-1]["skipped"] == ["share:0.5", "share:0.9"] and audit[-1]["superseded_by"] == "breach"
        assert await tick(h, at(2026, 12, 1, 11, 30)) == 0  # and nothing of them later
    finally:
        await h.close()


# The moments of the escalation test under each shipped SOP (Monday 30 November 2026, 09:00):
# the first hop's deadline and its first reminder, the second hop's deadline (received at that
# reminder, when the first hop disposes), its breach (sent at the next working moment) and the
# overdue repeat one working day later. Bogor: 1 working day per step, reminders at 50 % and 90 %;
# the regency: 4 working hours per hop on 08:00-12:00, 13:00-16:00, reminders at 50 % and 75 %.
ESCALATION = {
    "bogor": dict(first_due="Selasa, 1 Desember 2026 09.00 WIB", reminder=at(2026, 11, 30, 13, 45),
                  second_due="Selasa, 1 Desember 2026 13.45 WIB", breach=at(2026, 12, 1, 13, 46),
                  again=at(2026, 12, 2, 13, 46), left="3 jam 45 menit"),
    "sukamaju": dict(first_due="Senin, 30 November 2026 14.00 WIB", reminder=at(2026, 11, 30, 11),
                     second_due="Senin, 30 November 2026 16.00 WIB", breach=at(2026, 12, 1, 8),
                     again=at(2026, 12, 2, 8), left="2 jam"),
}


@pytest.mark.parametrize("sop_file", SOP_FILES, ids=list(ESCALATION))
async def test_reminders_breach_and_escalation_follow_the_sop(emu, db_url, sop_file) -> None:  # type: ignore[no-untyped-def]
    """The first hop is reminded at the SOP's first share of its limit; the second hop breaches
    and the SOP's escalation ladder tells its superior (the first hop's official), again one
    working day later; nothing at night."""
    x = ESCALATION["bogor" if sop_file == SOP_FILES[0] else "sukamaju"]
    h = Harness(emu, db_url, clock=FakeClock(at(2026, 11, 30, 9)), sop_file=sop_file)
    await h.start()
    await h.cast()
    sop = h.sop
    second, superior = sop.chain[1], h.user_of(sop.superior(sop.holder(sop.chain[1])))  # type: ignore[arg-type]
    try:
        await h.submit()
        card = await h.wait_msg(HEAD, "Disposisikan kepada")
        assert f"Batas waktu: {x['first_due']} ({sop.limit_label(sop.chain[0])})" in card.text
        assert await tick(h, x["reminder"] - timedelta(minutes=1)) == 0
        assert await tick(h, x["reminder"]) == 1
        reminder = texts(h, HEAD, "Pengingat")
        assert len(reminder) == 1 and f"Sisa waktu: {x['left']} (jam kerja)" in reminder[0]
        await head_disposes(h)
        holder = h.hop_user(second)
        card2 = await h.wait_msg(holder, "Langkah")
        assert x["second_due"] in card2.text
        assert await tick(h, at(2026, 11, 30, 22)) == 0  # quiet hours
        await tick(h, x["breach"])
        assert len(texts(h, holder, "Batas waktu terlampaui")) == 1
        esc = texts(h, superior, "Eskalasi")
        assert len(esc) == 1 and f"({sop.role_title(sop.holder(second))})" in esc[0]
        assert sop.stage_label(second) in esc[0]
        await tick(h, x["again"])
        assert len(texts(h, superior, "Eskalasi")) == 2 and len(texts(h, holder, "Batas waktu terlampaui")) == 2
    finally:
        await h.close()
