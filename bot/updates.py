"""Getting updates durably: polling or webhook, each update handled once.

PTB's own Updater confirms an update (next getUpdates offset) before its
handlers run, so a crash loses it. Here an update is confirmed only after its
transaction committed, and the transaction records its ``update_id`` in
``processed_update`` (the durable inbox): a redelivered update finds its id and
has no second effect. Webhook mode answers Telegram's POST only after commit,
so Telegram retries anything not committed.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, event, insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import Conflict, RetryAfter
from telegram.ext import Application

from bot import metrics
from bot.clock import Clock
from bot.logging_setup import log_context
from bot.outbox import OutboxSender, OutboxWriter
from storage.db import Database, upsert
from storage.models import AuditLog, ProcessedUpdate

if TYPE_CHECKING:
    from aiohttp import web

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
        event.listen(self.session.sync_session, "before_commit", self._audit_before_commit)

    def _audit_before_commit(self, session: Any) -> None:
        rows, self.audit_rows = self.audit_rows, []
        session.add_all([AuditLog(**r) for r in rows])

    async def flush(self) -> None:
        """Write the audit rows and the outbox rows added so far (a multi-row INSERT each)."""
        rows, self.audit_rows = self.audit_rows, []
        if rows:
            try:
                await (await self.session.connection()).execute(_AUDIT_INSERT, rows)
            except BaseException:
                self.audit_rows[:0] = rows  # not written: committed with the transaction, or rolled back
                raise
        await self.outbox.flush()


_AUDIT_INSERT = insert(AuditLog.__table__).inline()  # no id read back


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


class UpdateProcessor:
    """Runs the PTB handlers for one update inside one database transaction."""

    def __init__(self, app: Application, db: Database, clock: Clock, sender: OutboxSender,
                 on_failure: Callable[[Scope], None] | None = None,
                 prefetch: Callable[[Update], Awaitable[dict[str, Any]]] | None = None) -> None:
        self.app, self.db, self.clock, self.sender = app, db, clock, sender
        self.on_failure = on_failure
        # Slow I/O an update needs (downloading an attachment), done before its transaction opens.
        self.prefetch = prefetch
        # Built once (Core, on the table): this runs for every update.
        table = ProcessedUpdate.__table__
        self._seen_stmt = (upsert(db.dialect)(table).values(
            update_id=bindparam("u"), processed_at=bindparam("t"), outcome="ok")
            .on_conflict_do_nothing().returning(table.c.update_id))

    async def process(self, update: Update) -> bool:
        """Handle ``update`` once. Returns False if it was a duplicate."""
        started = time.perf_counter()
        log_context.set({"update_id": update.update_id, "request": None})
        for attempt in range(4):
            try:
                outcome = await self._process_once(update)
                metrics.observe_update(outcome, time.perf_counter() - started)
                return outcome != "duplicate"
            except (OperationalError, DBAPIError) as e:
                if attempt == 3:
                    raise
                log.warning("update %s: database error, retrying: %s", update.update_id, type(e).__name__)
                await asyncio.sleep(0.05 * 2**attempt)
        return False  # pragma: no cover

    async def _process_once(self, update: Update) -> str:
        scope: Scope | None = None
        failed: BaseException | None = None
        fast: dict = {}
        pre = await self.prefetch(update) if self.prefetch else {}
        try:
            async with self.db.transaction() as session:
                now = self.clock.now()
                conn = await session.connection()  # Core on the connection: no ORM bookkeeping
                if (await conn.execute(self._seen_stmt, {"u": update.update_id, "t": now})).first() is None:
                    return "duplicate"
                scope = Scope(session, now, OutboxWriter(session, now), update)
                scope.cache["prefetch"] = pre
                token = current_scope.set(scope)
                try:
                    await self.app.process_update(update)
                finally:
                    current_scope.reset(token)
                if scope.error is not None:
                    raise _HandlerFailed(scope.error)
                await scope.flush()
                if scope.outbox.rows:
                    fast = await self.sender.claim_in(session, {r.chat_id for r in scope.outbox.rows}, now)
        except _HandlerFailed as e:
            failed = e.__cause__ or e.args[0]
        if failed is not None:
            await self._record_failure(update, failed)
            return "failed"
        assert scope is not None
        for fn in scope.after_commit:
            try:
                await fn()
            except Exception as e:  # post-commit courtesy calls (answerCallbackQuery) must not fail the update
                log.debug("after-commit call failed: %s", e)
        if fast:
            self.sender.dispatch(fast)
        if {r.chat_id for r in scope.outbox.rows} - fast.keys():  # rows the fast path did not take
            self.sender.wake()
        return "handled"

    async def _record_failure(self, update: Update, exc: BaseException) -> None:
        """The handler failed: its effects were rolled back; record the update and apologise."""
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
        for fn in scope.after_commit:
            try:
                await fn()
            except Exception:
                pass
        self.sender.wake()

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
                        await self._record_failure(u, e)

        results = await asyncio.gather(*(run(g) for g in groups.values()), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]  # nothing could be recorded: the batch is not confirmed and comes back

    async def prune(self, older_than: timedelta = timedelta(days=2)) -> None:
        """Telegram keeps updates for 24 h; ids older than that cannot come back."""
        async with self.db.transaction() as s:
            await s.execute(delete(ProcessedUpdate).where(
                ProcessedUpdate.processed_at < self.clock.now() - older_than))


class _HandlerFailed(Exception):
    pass


ALLOWED_UPDATES = ["message", "callback_query"]


class Poller:
    """getUpdates long polling that confirms an update only after it committed."""

    def __init__(self, app: Application, processor: UpdateProcessor, *, timeout: int = 25,
                 concurrency: int = 16) -> None:
        self.app, self.processor, self.timeout, self.concurrency = app, processor, timeout, concurrency
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._batch: asyncio.Future[None] | None = None
        self.offset: int | None = None

    async def start(self) -> None:
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._batch is not None and not self._batch.done():
            await self._batch  # the batch in hand finishes before anything it needs stops
        if self.offset is not None:  # confirm what was handled, as PTB does on a clean stop
            try:
                await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1,
                                               allowed_updates=ALLOWED_UPDATES)
            except Exception:
                pass

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset, timeout=self.timeout, limit=100, allowed_updates=ALLOWED_UPDATES,
                    read_timeout=self.timeout + 10)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Conflict:
                log.error("another instance is polling this bot (409 Conflict); use webhook mode for several")
                await asyncio.sleep(5)
                continue
            except RetryAfter as e:
                wait = e.retry_after if isinstance(e.retry_after, (int, float)) else e.retry_after.total_seconds()
                await asyncio.sleep(float(wait))
                continue
            except Exception as e:  # network errors, odd replies: never let polling die
                log.warning("getUpdates failed: %s; retrying in %.1fs", type(e).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            if not updates:
                continue
            # Shielded: a stop request lets the batch finish, so its offset can be confirmed.
            self._batch = asyncio.ensure_future(self._handle(updates))
            await asyncio.shield(self._batch)

    async def _handle(self, updates: list[Update]) -> None:
        while True:
            try:
                await self.processor.process_batch(updates, self.concurrency)
                break
            except Exception:
                log.exception("update batch failed; retrying")
                await asyncio.sleep(1)
        self.offset = updates[-1].update_id + 1


async def _healthz(_request: web.Request) -> web.Response:
    from aiohttp import web
    return web.Response(text="ok")


class WebhookServer:
    """Receives Telegram's POSTs; answers 200 only after the update committed."""

    def __init__(self, app: Application, processor: UpdateProcessor, *, listen: str, port: int, path: str,
                 secret: str, public_url: str, health: metrics.Health | None = None) -> None:
        self.app, self.processor, self.health = app, processor, health
        self.listen, self.port, self.path, self.secret, self.public_url = listen, port, path, secret, public_url
        self._runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        from aiohttp import web
        got = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if self.secret and not hmac.compare_digest(got, self.secret):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.app.bot)
        except Exception:
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        try:
            await self.processor.process(update)
        except Exception:
            log.exception("webhook update %s failed", update.update_id)
            return web.Response(status=500)  # Telegram will deliver it again
        return web.Response(status=200)

    async def start(self) -> None:
        from aiohttp import web
        webapp = web.Application()
        webapp.router.add_post(self.path, self._post)
        if self.health is not None:
            self.health.routes(webapp)  # /healthz, /readyz, /metrics
        else:
            webapp.router.add_get("/healthz", _healthz)
        self._runner = web.AppRunner(webapp, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        if self.public_url:
            await self.app.bot.set_webhook(self.public_url.rstrip("/") + self.path,
                                           secret_token=self.secret or None, allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
