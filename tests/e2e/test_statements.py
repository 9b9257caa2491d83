"""What the database does for one update: rows written together go in one statement, and the
common updates stay within a statement budget (each statement is SQLAlchemy and driver work on
the bot's one core; README "Benchmark")."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select

from storage.db import Database
from storage.models import Outbox, Reminder
from tests.e2e.flows import pick
from tests.e2e.harness import DIVISION, HEAD, REQUESTER, Harness


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` executes inside the block (an executemany counts once)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


def writes(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith(("INSERT", "UPDATE", "DELETE"))]


# Not the update's work: transaction brackets, the test's own waiting (settle counts what is due) and
# the sender's periodic look for due rows (when it runs depends on timing, not on the update).
_NOT_WORK = ("BEGIN", "SELECT count(*)", "SELECT outbox.chat_id FROM outbox WHERE outbox.status")


def work(seen: list[str]) -> list[str]:
    return [s for s in seen if not s.startswith(_NOT_WORK)]


async def test_rows_added_together_are_one_insert_with_the_right_ids(db_url: str) -> None:
    """SQLite: several new rows in one INSERT ... RETURNING, each object given its own row's id (the
    ids are matched to the rows by their order, storage/db.py)."""
    db = Database(db_url)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    chats = random.sample(range(1, 10_000), 40)
    try:
        with statements(db) as seen:
            async with db.transaction() as s:
                rows = [Outbox(chat_id=c, method="sendMessage", params={"chat_id": c, "text": f"pesan {c}"},
                               status="pending", attempts=0, available_at=now, created_at=now) for c in chats]
                s.add_all(rows)
                await s.flush()
        assert len([x for x in writes(seen) if x.startswith("INSERT INTO outbox")]) == 1, writes(seen)
        async with db.sessions() as s:
            stored = dict((await s.execute(select(Outbox.id, Outbox.params))).all())
        assert len(stored) == len(chats)
        for row in rows:
            assert stored[row.id] == {"chat_id": row.chat_id, "text": f"pesan {row.chat_id}"}
    finally:
        await db.dispose()


async def _card(h: Harness):  # type: ignore[no-untyped-def]
    await h.submit()
    await h.settle()
    return await h.wait_msg(HEAD, "Disposisikan kepada")


async def test_a_disposition_within_its_statement_budget(h: Harness) -> None:
    """The Head's «Kirim tanpa catatan»: the request moves on (step closed and opened, three
    reminders planned, the card closed, the scan and a card for the next holder, the requester
    told, the audit row) and everything it sends is delivered and recorded."""
    m = await _card(h)
    m = await pick(h, HEAD, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    await h.settle()
    with statements(h.db) as seen:
        ans = await h.tap(HEAD, m, text=h.button(m, "Kirim tanpa catatan"))
        assert ans["text"] == "Disposisi terkirim."
        await h.settle()
    inserts = [x for x in writes(seen) if x.startswith("INSERT")]
    assert len([x for x in inserts if x.startswith("INSERT INTO outbox")]) == 1, inserts  # four rows, one INSERT
    assert len([x for x in inserts if x.startswith("INSERT INTO reminder")]) == 1, inserts
    async with h.db.sessions() as s:
        planned = (await s.scalars(select(Reminder.step_id))).all()
    assert len(planned) >= 2 and len(set(planned)) == 1  # the new step's reminders, in that one INSERT
    # 27-29 statements in all (the Head and their roles in one query; the tapped card's text and
    # delivery read with the request's live messages, not again); the sender may record the three
    # chats' deliveries in up to three transactions of three statements (timing), hence the margin.
    done = work(seen)
    assert len(done) <= 34, "\n".join(done)
    assert not [x for x in done if x.startswith("SELECT official_role.role")], done  # with the official
    assert not [x for x in done if x.startswith("SELECT outbox.status, outbox.sent_message_id")], done
    assert not [x for x in done if "outbox.sent_message_id = " in x and x.startswith("SELECT")], done  # card text


async def test_a_form_answer_within_its_statement_budget(h: Harness) -> None:
    await h.say(REQUESTER, "/ajukan", expect="Perangkat Daerah")
    await h.say(REQUESTER, "dinkes", expect="nomor surat")
    await h.settle()
    with statements(h.db) as seen:
        await h.say(REQUESTER, "000.1/123-Dinkes/2026", expect="tanggal surat")
        await h.settle()
    # The inbox row, the chat state and the draft read (one statement), the chat state and the
    # draft written, the outbox row, the chat's lease and next rows; then the delivery recorded, the
    # lease given back, a look for more: 9-10 statements.
    done = work(seen)
    assert len(done) <= 11, "\n".join(done)
    assert not [x for x in done if x.startswith("SELECT draft.")], done  # read with the chat state


async def test_a_long_queue_goes_out_whole_in_order_a_batch_at_a_time(h: Harness) -> None:
    """An official handed many messages at once: the sender reads each chat's next ten, and every
    message still goes out, once, in order."""
    from bot.outbox import OutboxWriter

    assert h.runtime is not None and h.runtime.sender is not None
    queued = {HEAD: 25, DIVISION: 12}
    async with h.db.transaction() as s:
        w = OutboxWriter(s, h.clock.now())
        for i in range(max(queued.values())):
            for chat, n in queued.items():
                if i < n:
                    w.send(chat, f"antrian {i}")
        await w.flush()
    with statements(h.db) as seen:
        h.runtime.sender.wake()
        await h.settle()
    for chat, n in queued.items():
        assert [m.text for m in h.emu.bot_messages(chat) if m.text.startswith("antrian")] == \
            [f"antrian {i}" for i in range(n)]
    reads = [x for x in seen if x.startswith("SELECT outbox.id, outbox.chat_id")]
    assert len(reads) >= 3  # 25 rows of one chat: at least three batches of ten


async def test_audit_rows_go_in_one_insert_and_unflushed_ones_are_still_committed(db_url: str) -> None:
    from bot.updates import work_scope
    from storage.models import AuditLog

    db = Database(db_url)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    try:
        with statements(db) as seen:
            async with db.transaction() as s:
                scope = work_scope(s, now)
                scope.audit_rows += [dict(at=now, request_id=i, action="reminder_share", detail={"step": i})
                                     for i in range(30)]
                await scope.flush()
        assert len([x for x in writes(seen) if x.startswith("INSERT INTO audit_log")]) == 1, writes(seen)
        async with db.transaction() as s:  # nobody flushes: the rows still go with the commit
            work_scope(s, now).audit_rows.append(dict(at=now, request_id=99, action="escalated", detail=None))
        async with db.sessions() as s:
            stored = (await s.execute(select(AuditLog.request_id, AuditLog.action, AuditLog.detail)
                                      .order_by(AuditLog.request_id))).all()
        assert [tuple(r) for r in stored] == [(i, "reminder_share", {"step": i}) for i in range(30)] + \
            [(99, "escalated", None)]
    finally:
        await db.dispose()


async def test_users_at_once_reuse_compiled_statements(h: Harness) -> None:
    """Several users' updates handled together (one group, several chats' leases taken in one
    statement): once the bot has run each kind of statement, none is compiled again. Compiling is
    most of a statement's cost in SQLAlchemy; a statement whose shape changes with the number of
    rows (a multi-row VALUES built per call) was compiled on every group. How the updates fall into
    groups depends on timing, so a shape the warm-up did not happen to meet may be compiled once
    here; what must not happen is a statement without a cache key, or one compiled twice."""
    users = list(range(5201, 5209))
    for u in users:
        h.emu.add_user(u, "Pemohon", started=True)
    compiled: list[tuple[str, str]] = []

    def look(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if context is not None and context.compiled is not None and context.cache_hit.name != "CACHE_HIT":
            compiled.append((context.cache_hit.name, " ".join(statement.split())))

    async def round_of(text: str, expect: str) -> None:
        for u in users:  # queued before the bot polls again: one getUpdates batch, one group
            h.emu.send_text(u, text)
        for u in users:
            await h.emu.wait_bot_message(u, contains=expect)
        await h.settle()

    await round_of("/ajukan", "Langkah 1/10")  # the first time: compiled here
    await round_of("/batal", "dibatalkan")
    event.listen(h.db.engine.sync_engine, "after_cursor_execute", look)
    try:
        for _ in range(2):
            await round_of("/ajukan", "Langkah 1/10")
            await round_of("/batal", "dibatalkan")
    finally:
        event.remove(h.db.engine.sync_engine, "after_cursor_execute", look)
    again = [f"{kind}: {sql[:120]}" for kind, sql in compiled if not sql.startswith(("BEGIN", "COMMIT"))
             and (kind != "CACHE_MISS" or compiled.count((kind, sql)) > 1)]
    assert not again, "\n".join(again)
