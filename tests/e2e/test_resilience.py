"""Restarts, redelivery, Bot API failures: nothing lost, nothing done twice."""

from __future__ import annotations

import asyncio
import logging
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import Draft, Outbox, ProcessedUpdate
from tests.e2e.flows import division_disposes, head_disposes, pick
from tests.e2e.harness import DIVISION, HEAD, REQUESTER, TEAM, Harness

ROOT = Path(__file__).resolve().parents[2]


async def test_restart_mid_form_and_mid_chain(h: Harness) -> None:
    await h.say(REQUESTER, "/ajukan", expect="Perangkat Daerah")
    await h.say(REQUESTER, "bapenda", expect="nomor surat")
    await h.restart()
    await h.say(REQUESTER, "900/12-Bapenda/2026", expect="tanggal surat")  # the draft and the awaited field survived
    await h.stop()
    await h.start()
    await h.say(REQUESTER, "/batal", expect="dibatalkan")

    number = await h.submit()
    m = await h.wait_msg(HEAD, "Disposisikan kepada")
    m = await pick(h, HEAD, m, "Segera", "Tulis catatan")
    await h.tap(HEAD, m, text=h.button(m, "Tulis catatan"), expect="Ketik catatan")
    await h.restart()  # the awaited note survives too
    await h.say(HEAD, "Catatan setelah restart.", expect="Disposisi terkirim")
    div = await h.wait_msg(DIVISION, "Disposisikan kepada")
    assert "Catatan setelah restart." in div.text
    await h.restart()  # buttons sent before a restart still work
    await division_disposes(h)
    await h.wait_msg(TEAM, "Pelaksana")
    assert (await h.request(number)).stage == "team_assign"


async def test_sender_rides_out_5xx_429_and_timeouts(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    emu = h.emu
    emu.fail_next("sendMessage", status=502, count=2)
    emu.fail_next("sendMessage", status=429, retry_after=1)
    after = h.last_id(REQUESTER)
    emu.send_text(REQUESTER, "/ajukan")
    emu.send_text(REQUESTER, "dinkes")
    for _ in range(40):  # move the injected clock past the back-off; real time for retry_after
        h.clock.advance(seconds=2)
        h.runtime.sender.wake()  # type: ignore[union-attr]
        await asyncio.sleep(0.1)
        if any("nomor surat" in m.text for m in emu.bot_messages(REQUESTER) if m.message_id > after and m.text):
            break
    msgs = [m.text for m in emu.bot_messages(REQUESTER) if m.message_id > after]
    assert len(msgs) == 2 and "Perangkat Daerah" in msgs[0] and "nomor surat" in msgs[1]  # in order, once each
    failures = [c for c in emu.calls_of("sendMessage") if not c.ok]
    assert {c.status for c in failures} == {502, 429}
    # The 429 is handled: one warning, no ERROR with a traceback (PTB's rate limiter would log one).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert len([r for r in caplog.records if "flood control" in r.getMessage()]) == 1

    # A timeout where Telegram did deliver: the message may repeat (at-least-once), never vanish.
    emu.delay_next("sendMessage", 3.0, apply=True)
    after = h.last_id(REQUESTER)
    emu.send_text(REQUESTER, "000.1/1-Dinkes/2026")
    for _ in range(60):
        h.clock.advance(seconds=2)
        h.runtime.sender.wake()  # type: ignore[union-attr]
        await asyncio.sleep(0.1)
        async with h.db.sessions() as s:
            pending = await s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending"))
        if not pending and any(m.message_id > after for m in emu.bot_messages(REQUESTER)):
            break
    got = [m.text for m in emu.bot_messages(REQUESTER) if m.message_id > after]
    assert 1 <= len(got) <= 2 and all("tanggal surat" in t for t in got)


@pytest.mark.bot_api_refusals("bot can't initiate conversation")
async def test_undeliverable_message_is_recorded(h: Harness) -> None:
    from bot.outbox import OutboxWriter

    async with h.db.transaction() as s:
        OutboxWriter(s, h.clock.now()).send(424242, "halo")  # a user who never wrote to the bot
    h.runtime.sender.wake()  # type: ignore[union-attr]
    await h.settle()
    async with h.db.sessions() as s:
        row = await s.scalar(select(Outbox).where(Outbox.chat_id == 424242))
    assert row.status == "failed" and "initiate conversation" in (row.last_error or "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_secret_and_duplicate_delivery(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    h = Harness(emu, db_url, webhook_listen="127.0.0.1", webhook_port=port, webhook_path="/tg",
                webhook_secret="s3cret-token")
    async with h.db.transaction() as s:
        from storage.repo import seed_agencies_if_empty
        await seed_agencies_if_empty(s)
    from bot.app import BotRuntime
    from handlers import register_all
    h.runtime = BotRuntime(h.settings, h.db, register=register_all, clock=h.clock, instance_id="wh-1",
                           scheduled_jobs=False)
    await h.runtime.start(mode="webhook")
    try:
        upd = emu.send_text(REQUESTER, "/ajukan")
        url = f"http://127.0.0.1:{port}/tg"
        async with httpx.AsyncClient() as c:
            bad = await c.post(url, content=json.dumps(upd), headers={"Content-Type": "application/json",
                                                                      "X-Telegram-Bot-Api-Secret-Token": "nope"})
            assert bad.status_code == 403
            hdr = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            r1 = await c.post(url, content=json.dumps(upd), headers=hdr)
            r2 = await c.post(url, content=json.dumps(upd), headers=hdr)  # Telegram retried
            assert r1.status_code == r2.status_code == 200
        await h.settle()
        msgs = [m for m in emu.bot_messages(REQUESTER) if m.text and "Perangkat Daerah" in m.text]
        assert len(msgs) == 1
        async with h.db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1
    finally:
        await h.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_kill_9_mid_burst_loses_nothing(emu, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.api_url, "DATABASE_URL": db_url,
           "POLL_TIMEOUT": "1", "INSTANCE_ID": "proc-1", "PER_CHAT_PER_SECOND": "0",
           "RATE_LIMIT_PER_SECOND": "1000", "LOG_LEVEL": "WARNING"}

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run"], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "bot.log", "ab"))

    users = list(range(9001, 9031))
    proc = spawn()
    try:
        for u in users:
            emu.send_text(u, "/ajukan")
        for u in users:
            emu.send_text(u, "dinas kesehatan")
        # Kill it while the burst is being handled.
        await emu.wait_for(lambda: len(emu.calls_of("sendMessage")) >= 10, timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc = spawn()

        def done() -> bool:
            return all(any(m.text and "nomor surat" in m.text for m in emu.bot_messages(u)) for u in users)

        await emu.wait_for(done, timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    from storage.db import Database
    db = Database(db_url)
    try:
        async with db.sessions() as s:
            drafts = (await s.scalars(select(Draft))).all()
            processed = await s.scalar(select(func.count()).select_from(ProcessedUpdate))
    finally:
        await db.dispose()
    assert len(drafts) == len(users) and all(d.data.get("agency") for d in drafts)
    assert processed == 2 * len(users)
    for u in users:  # each question at least once, and the first question never repeated by a second handling
        texts = [m.text for m in emu.bot_messages(u) if m.text]
        assert sum("Langkah 1/10" in t for t in texts) <= 2
        assert any("Langkah 2/10" in t for t in texts)


async def test_a_row_queued_behind_a_held_lease_goes_out_when_the_lease_is_done(h: Harness) -> None:
    """A second update writes to a chat while the first one's send holds the chat's lease: the
    second message goes out as soon as the first is recorded, not at the next idle poll."""
    from bot.outbox import OutboxWriter

    sender = h.runtime.sender  # type: ignore[union-attr]
    assert sender is not None
    sender.idle_poll = 30.0  # an idle poll would come far too late for this test
    await h.settle()
    h.emu.add_user(4343, "Tamu", started=True)
    now = h.clock.now()
    async with h.db.transaction() as s:
        w = OutboxWriter(s, now)
        w.send(4343, "pertama")
        await w.flush()
        first = await sender.claim_in(s, {4343}, now)  # the fast path takes the lease ...
    assert first
    async with h.db.transaction() as s:  # ... and before it sends, another update writes to the chat
        w = OutboxWriter(s, now)
        w.send(4343, "kedua")
        await w.flush()
        assert await sender.claim_in(s, {4343}, now) == {}  # lease held: not taken here
    sender.wake()
    await asyncio.sleep(0.1)  # the sender's own look finds the lease held and passes over the chat
    sender.dispatch(first)
    await h.emu.wait_for(lambda: [m.text for m in h.emu.bot_messages(4343)] == ["pertama", "kedua"], timeout=3)


async def test_per_chat_pace_survives_a_restart(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    """The per-chat pace (a token bucket) is kept with the chat's lease in the database: a restarted
    bot (or another instance) does not start a chat with a full burst and run into Telegram's 429."""
    from bot.outbox import OutboxWriter

    h = Harness(emu, db_url, per_chat_per_second=0.5, per_chat_burst=3)
    await h.start()
    try:
        emu.add_user(4444, "Tamu", started=True)

        async def enqueue(*texts: str) -> None:
            async with h.db.transaction() as s:
                w = OutboxWriter(s, h.clock.now())
                for t in texts:
                    w.send(4444, t)
            h.runtime.sender.wake()  # type: ignore[union-attr]

        await enqueue("1", "2", "3")  # the burst: sent at once, the bucket is empty afterwards
        await emu.wait_for(lambda: len(emu.bot_messages(4444)) == 3, timeout=5)
        await h.settle()
        await h.restart()
        await enqueue("4")
        await emu.wait_for(lambda: len(emu.bot_messages(4444)) == 4, timeout=10)
        sends = [c.t_received for c in emu.calls_of("sendMessage") if c.params.get("chat_id") in (4444, "4444")]
        assert sends[2] - sends[0] < 0.5  # the burst
        assert sends[3] - sends[2] >= 1.8, sends  # one token takes 2 s at 0.5/s, restart or not
        assert not [c for c in emu.calls_of("sendMessage") if c.status == 429]
    finally:
        await h.close()


async def test_overall_pace(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    """Sending to many chats keeps to RATE_LIMIT_PER_SECOND (a burst of one second's worth first)."""
    from bot.outbox import OutboxWriter

    h = Harness(emu, db_url, rate_limit_per_second=10)
    await h.start()
    try:
        chats = list(range(4500, 4530))
        for c in chats:
            emu.add_user(c, "Tamu", started=True)
        async with h.db.transaction() as s:
            w = OutboxWriter(s, h.clock.now())
            for c in chats:
                w.send(c, "halo")
        h.runtime.sender.wake()  # type: ignore[union-attr]
        await emu.wait_for(lambda: all(emu.bot_messages(c) for c in chats), timeout=15)
        sends = sorted(c.t_received for c in emu.calls_of("sendMessage") if c.params.get("chat_id") in chats)
        assert len(sends) == 30 and sends[-1] - sends[0] >= 1.8, sends[-1] - sends[0]  # 10 at once, 20 at 10/s
    finally:
        await h.close()


async def _cut_connections(db_url: str) -> int:
    """What a PostgreSQL restart or failover does to the bot: every session on its database ends."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await conn.close()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has no connection to lose
async def test_connections_lost_to_a_database_restart_are_replaced(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    """The pool holds connections the server has since closed (a restart, a failover, an idle
    timeout). The pool does not ping each one before use (a round trip per transaction,
    storage/db.py): readiness and the update that meet a dead one try again on a fresh connection,
    the delivery is recorded all the same, and nothing is done twice."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    h = Harness(emu, db_url, metrics_port=port)
    await h.start()
    try:
        await h.say(REQUESTER, "/ajukan", expect="Perangkat Daerah")
        await h.settle()
        async with httpx.AsyncClient() as c:
            assert (await c.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200  # a pooled connection
            assert await _cut_connections(h.db.url) >= 1  # the bot's pooled connections
            ready = await c.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 200, ready.text
        await _cut_connections(h.db.url)
        await h.say(REQUESTER, "dinkes", expect="nomor surat", timeout=10)
        await h.say(REQUESTER, "000.1/123-Dinkes/2026", expect="tanggal surat", timeout=10)
        await h.settle()
        texts = [m.text for m in h.emu.bot_messages(REQUESTER)]
        assert len([t for t in texts if "nomor surat" in t]) == 1, texts
        async with h.db.sessions() as s:
            draft = await s.scalar(select(Draft).where(Draft.user_id == REQUESTER))
            pending = await s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending"))
        assert draft is not None and draft.data.get("letter_number") == "000.1/123-Dinkes/2026", draft and draft.data
        assert pending == 0
    finally:
        await h.close()


async def test_a_card_cancelled_while_telegram_takes_it_is_recorded_sent_and_its_buttons_closed(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    """A card whose request moved on while its sendMessage was in flight (the row cancelled): it was
    delivered, so the recorder records it sent with its message id and no body, and takes its
    buttons off the message (an edit queued in the recorder's own transaction)."""
    from sqlalchemy import update

    from bot.outbox import OutboxWriter

    h = Harness(emu, db_url, request_timeout=10, outbox_lease_seconds=30)
    await h.start()
    try:
        chat = 4646
        emu.add_user(chat, "Tamu", started=True)
        emu.delay_next("sendMessage", 3.0, chat_id=chat)  # delivered at once, Telegram's reply late
        async with h.db.transaction() as s:
            w = OutboxWriter(s, h.clock.now())
            row = w.send(chat, "kartu", {"inline_keyboard": [[{"text": "Setujui", "callback_data": "x"}]]},
                         live=True)
            await w.flush()
        h.runtime.sender.wake()  # type: ignore[union-attr]
        await emu.wait_for(lambda: emu.bot_messages(chat), timeout=5)
        async with h.db.transaction() as s:  # the request moved on meanwhile
            await s.execute(update(Outbox).where(Outbox.id == row.id).values(status="cancelled"))
        mid = emu.bot_messages(chat)[0].message_id
        await emu.wait_for(lambda: not emu.message(chat, mid).buttons, timeout=10)  # type: ignore[union-attr]
        await h.settle()
        async with h.db.sessions() as s:
            stored = await s.get(Outbox, row.id)
        assert stored is not None and stored.status == "sent" and stored.sent_message_id == mid
        assert not stored.live_buttons and "text" not in stored.params
    finally:
        await h.close()
