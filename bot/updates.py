"""Handling updates durably: each update once, its effects and its record in one transaction.

PTB's own Updater confirms an update (next getUpdates offset) before its
handlers run, so a crash loses it. Here an update is confirmed only after its
transaction committed (bot/intake.py), and the transaction records its ``update_id`` in
``processed_update`` (the durable inbox): a redelivered update finds its id and
has no second effect.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import Application

from bot import metrics
from bot.clock import Clock
from bot.logging_setup import log_context
from bot.outbox import OutboxSender, OutboxWriter
from storage.db import Database, commit_with, taking, upsert
from storage.models import AuditLog, ProcessedUpdate

log = logging.getLogger(__name__)


@dataclass
class Scope:
    """Everything one update's handling shares: its transaction, time, and post-commit work."""

    session: AsyncSession
    now: datetime
    outbox: OutboxWriter
    update: Update
    after_commit: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    error: BaseException | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    # Audit rows of this transaction (column values), written together by ``flush`` in one
    # statement; any not flushed are still committed with the transaction (as ORM rows).
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        commit_with(self.session, self.audit_rows, _audit_row)  # any not flushed go with the commit

    async def flush(self) -> None:
        """Write the audit rows and the outbox rows added so far (a multi-row INSERT each)."""
        if self.audit_rows:
            with taking(self.audit_rows) as rows:  # in place: the session holds this list (commit_with)
                await (await self.session.connection()).execute(_AUDIT_INSERT, rows)
        await self.outbox.flush()


_AUDIT_INSERT = insert(AuditLog.__table__).inline()  # no id read back


def _audit_row(values: dict[str, Any]) -> AuditLog:
    return AuditLog(**values)


current_scope: contextvars.ContextVar[Scope] = contextvars.ContextVar("current_scope")


def work_scope(session: AsyncSession, now: datetime) -> Scope:
    """A scope for work that is not an update (the sweep, post-commit work, the CLI)."""
    return Scope(session, now, OutboxWriter(session, now), None)  # type: ignore[arg-type]


def _user_key(update: Update) -> int:
    if update.effective_user:
        return update.effective_user.id
    if update.effective_chat:
        return update.effective_chat.id
    return 0


# What a committed transaction leaves the sender: the chats it claimed (their rows) and all it wrote to.
_Sends = tuple[dict[int, list[Any]], set[int]]


@dataclass(eq=False)
class _Waiting:
    """An update queued for a transaction, and where its outcome is told."""

    update: Update
    prefetched: dict[str, Any]
    done: asyncio.Future[tuple[str, Scope | None]]


class UpdateProcessor:
    """Runs the PTB handlers of each update inside a database transaction that records the update.

    Group commit: the updates waiting at one moment are handled one after another in one
    transaction (up to ``group_size``), instead of a transaction each: a transaction's fixed cost
    (its BEGIN and COMMIT, the pool, the write lock, the sender's claim of the chats it wrote to) is
    paid once for the group. Only different users' updates wait together: a user's next update is
    queued once the previous one has committed (``process_batch``), so it sees it, and what must be
    fetched before it (an attachment, read against the user's committed state) is fetched first.
    Between two updates of a group their ORM objects are flushed and forgotten, so the next one
    reads the rows as they are, as after a commit. If anything in a group fails (a handler, the
    database), none of it has happened: its updates are then handled one at a time, each in its own
    transaction as before, where a failing handler is rolled back alone and its user gets the
    apology. Nothing is sent and no tap is answered before its transaction commits, so a group's
    first update waits for the group's last: the group is bounded, and at light load it is one.
    """

    def __init__(self, app: Application, db: Database, clock: Clock, sender: OutboxSender,
                 on_failure: Callable[[Scope], None] | None = None,
                 prefetch: Callable[[Update], Awaitable[dict[str, Any]]] | None = None, *,
                 group_size: int = 32, lanes: int | None = None) -> None:
        self.app, self.db, self.clock, self.sender = app, db, clock, sender
        self.on_failure = on_failure
        # Slow I/O an update needs (downloading an attachment), done before its transaction opens.
        self.prefetch = prefetch
        self.group_size = max(1, group_size)
        # Transactions at once: SQLite has one writer; on PostgreSQL two, so that a group waiting on a
        # row lock or the network does not hold up every user. More lanes make smaller groups and
        # wait on each other's locks (bench, PostgreSQL, CPU per message / tap / disposition tap:
        # one lane 3.56 / 3.19 / 12.1 ms, two 3.90 / 3.66 / 12.0, four 4.30 / 4.33 / 16.1).
        self.lanes = lanes or (1 if db.dialect == "sqlite" else 2)
        self._waiting: deque[_Waiting] = deque()
        self._running: set[asyncio.Task[None]] = set()
        # Built once (Core, on the table): this runs for every update.
        table = ProcessedUpdate.__table__
        self._seen_stmt = (upsert(db.dialect)(table).values(
            update_id=bindparam("u"), processed_at=bindparam("t"), outcome="ok")
            .on_conflict_do_nothing().returning(table.c.update_id))

    async def process(self, update: Update) -> bool:
        """Handle ``update`` once, then run its post-commit work. Returns False if it was a
        duplicate. Raises if the database kept failing (nothing of the update happened)."""
        started = time.perf_counter()
        log_context.set({"update_id": update.update_id, "request": None})
        pre = await self.prefetch(update) if self.prefetch else {}
        waiting = _Waiting(update, pre, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if len(self._running) < self.lanes:
            self._running.add(asyncio.create_task(self._lane(), name="update-lane"))
        # Not shielded (a hop less before the answer): a caller that gives up leaves its update queued.
        outcome, scope = await waiting.done
        metrics.observe_update(outcome, time.perf_counter() - started)
        if scope is not None:
            await _after_commit(scope)
        return outcome != "duplicate"

    async def drain(self) -> None:
        """Wait until every queued update is handled (a clean stop)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _lane(self) -> None:
        me = asyncio.current_task()
        try:
            while self._waiting:
                # A share of what waits, so that on PostgreSQL the lanes take it together.
                n = min(self.group_size, -(-len(self._waiting) // self.lanes))
                await self._handle([self._waiting.popleft() for _ in range(n)])
        finally:
            # In the same step as the last look at the queue: an update queued after it starts a lane.
            self._running.discard(me)  # type: ignore[arg-type]

    async def _handle(self, group: list[_Waiting]) -> None:
        if len(group) > 1:
            try:
                outcomes, sends = await self._group_once(group)
            except Exception as e:  # nothing of the group happened: one at a time, as alone
                log.info("a group of %d updates failed (%s); handling them one at a time",
                         len(group), type(e).__name__)
                metrics.update_group(len(group), split=True)
            else:
                metrics.update_group(len(group), split=False)
                for w, outcome in zip(group, outcomes):
                    _tell(w, outcome)
                self._send(*sends)  # after telling: their taps are answered before their messages go
                return
        else:
            metrics.update_group(1, split=False)
        for w in group:
            try:
                outcome, scope, sends = await self._alone(w)
            except Exception as e:
                if not w.done.done():
                    w.done.set_exception(e)
            else:
                _tell(w, (outcome, scope))
                self._send(*sends)

    async def _group_once(self, group: list[_Waiting]) -> tuple[list[tuple[str, Scope | None]], _Sends]:
        outcomes: list[tuple[str, Scope | None]] = []
        async with self.db.transaction() as session:
            conn = await session.connection()  # Core on the connection: no ORM bookkeeping
            new = await self._first_times(conn, group, self.clock.now())
            for w in group:
                log_context.set({"update_id": w.update.update_id, "request": None})
                now = self.clock.now()
                if w.update.update_id not in new:
                    outcomes.append(("duplicate", None))
                    continue
                new.discard(w.update.update_id)  # the same update twice in a group: its second is one
                scope = await self._run_handlers(session, now, w)
                await session.flush()
                session.expunge_all()  # the next update reads the rows, not this one's objects
                outcomes.append(("handled", scope))
            chats = {r.chat_id for _, scope in outcomes if scope is not None for r in scope.outbox.rows}
            fast = await self.sender.claim_in(session, chats, self.clock.now()) if chats else {}
        return outcomes, (fast, chats)

    async def _first_times(self, conn: Any, group: list[_Waiting], now: datetime) -> set[int]:
        """Record updates in the inbox in one statement (for a group SQLAlchemy's "insertmanyvalues":
        one multi-row INSERT, compiled once); the ids recorded now (not redeliveries)."""
        params = [{"u": w.update.update_id, "t": now} for w in group]
        return set((await conn.execute(self._seen_stmt, params)).scalars())

    async def _run_handlers(self, session: AsyncSession, now: datetime, w: _Waiting) -> Scope:
        """The update's handlers on ``session``; their audit and outbox rows written."""
        scope = Scope(session, now, OutboxWriter(session, now), w.update)
        scope.cache["prefetch"] = w.prefetched
        token = current_scope.set(scope)
        try:
            await self.app.process_update(w.update)
        finally:
            current_scope.reset(token)
        if scope.error is not None:
            raise _HandlerFailed(scope.error)
        await scope.flush()
        return scope

    def _send(self, fast: dict[int, list[Any]], chats: set[int]) -> None:
        """Hand the chats claimed in the transaction to the sender; wake it for the rest."""
        if fast:
            self.sender.dispatch(fast)
        if chats - fast.keys():  # rows the fast path did not take
            self.sender.wake()

    async def _alone(self, w: _Waiting) -> tuple[str, Scope | None, _Sends]:
        """One update in a transaction of its own, retried on database errors; a failing handler
        is rolled back and recorded."""
        log_context.set({"update_id": w.update.update_id, "request": None})
        for attempt in range(4):
            try:
                return await self._alone_once(w)
            except (OperationalError, DBAPIError) as e:
                if attempt == 3:
                    raise
                log.warning("update %s: database error, retrying: %s", w.update.update_id, type(e).__name__)
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _alone_once(self, w: _Waiting) -> tuple[str, Scope | None, _Sends]:
        try:
            async with self.db.transaction() as session:
                now = self.clock.now()
                if w.update.update_id not in await self._first_times(await session.connection(), [w], now):
                    return "duplicate", None, ({}, set())
                scope = await self._run_handlers(session, now, w)
                chats = {r.chat_id for r in scope.outbox.rows}
                fast = await self.sender.claim_in(session, chats, now) if chats else {}
        except _HandlerFailed as e:
            return "failed", await self._record_failure(w.update, e.__cause__ or e.args[0]), ({}, set())
        return "handled", scope, (fast, chats)

    async def _record_failure(self, update: Update, exc: BaseException) -> Scope:
        """The handler failed: its effects were rolled back; record the update and apologise.
        Returns the scope whose post-commit work (the tap's answer) is still to run."""
        # Type and location only: exception messages may quote personal data.
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
        log.error("update %s failed: %s at %s", update.update_id, type(exc).__name__, where)
        async with self.db.transaction() as session:
            now = self.clock.now()
            ins = upsert(self.db.dialect)(ProcessedUpdate).values(
                update_id=update.update_id, processed_at=now, outcome="error").on_conflict_do_nothing()
            await session.execute(ins)
            scope = Scope(session, now, OutboxWriter(session, now), update)
            if self.on_failure:
                self.on_failure(scope)
            await scope.outbox.flush()
        self.sender.wake()
        return scope

    async def process_batch(self, updates: list[Update], concurrency: int) -> None:
        """Different users' updates concurrently; one user's updates in order."""
        groups: dict[int, list[Update]] = defaultdict(list)
        for u in updates:
            groups[_user_key(u)].append(u)
        sem = asyncio.Semaphore(max(1, concurrency))

        async def run(group: list[Update]) -> None:
            async with sem:
                for u in group:
                    try:
                        await self.process(u)
                    except Exception as e:  # the database kept failing: record it and move on
                        metrics.update_failed()
                        await _after_commit(await self._record_failure(u, e))

        results = await asyncio.gather(*(run(g) for g in groups.values()), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]  # nothing could be recorded: the batch is not confirmed and comes back

    async def prune(self, older_than: timedelta = timedelta(days=2)) -> None:
        """Telegram keeps updates for 24 h; ids older than that cannot come back."""
        async with self.db.transaction() as s:
            await s.execute(delete(ProcessedUpdate).where(
                ProcessedUpdate.processed_at < self.clock.now() - older_than))


def _tell(w: _Waiting, outcome: tuple[str, Scope | None]) -> None:
    if not w.done.done():
        w.done.set_result(outcome)


async def _after_commit(scope: Scope) -> None:
    for fn in scope.after_commit:
        try:
            await fn()
        except Exception as e:  # post-commit courtesy calls (answerCallbackQuery) must not fail the update
            log.debug("after-commit call failed: %s", e)


class _HandlerFailed(Exception):
    pass
