"""Transactional outbox: Bot API calls are rows committed with the state change that
caused them; :class:`OutboxSender` delivers them.

Delivery honours Telegram's limits: per-chat order (one sender owns a chat at a
time through a lease row, so several instances never interleave a chat), a
per-chat pace (kept with the lease), an overall rate per instance, 429 ``retry_after`` (the row
waits, all sending pauses), and retries with back-off on 5xx and timeouts.
Sending is at-least-once: a timeout after Telegram accepted a message can
repeat it; everything else is sent exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from storage.db import Database, commit_with, taking, upsert
from storage.models import ChatLock, Outbox

log = logging.getLogger(__name__)

# The outbox stores raw Bot API calls; sending them verbatim is the point, not a mistake.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=UserWarning)

Markup = dict[str, Any] | None
# A row of the outbox as the sender reads it: a Core row (attributes by column name), read-only.
Row = Any


class OutboxWriter:
    """Adds Bot API calls to the current transaction.

    The rows are written by `flush` with one INSERT on the table (or, if nobody flushed, when the
    transaction commits); they are not objects of the session: change a row only before it is
    flushed, and flush before querying the outbox for rows of the same transaction."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        self.rows: list[Outbox] = []
        self._unwritten: list[Outbox] = []
        commit_with(session, self._unwritten)  # rows nobody flushed are committed with the transaction

    def call(self, chat_id: int, method: str, params: dict[str, Any], *, request_id: int | None = None,
             live: bool = False, ref: Outbox | int | None = None, delay: timedelta | None = None) -> Outbox:
        if isinstance(ref, Outbox):
            if ref.id is None:
                raise ValueError("flush the referenced outbox row first")
            ref = ref.id
        row = Outbox(
            chat_id=chat_id, method=method, params=params, request_id=request_id, live_buttons=live,
            status="pending", attempts=0, available_at=self.now + (delay or timedelta()), created_at=self.now,
            ref_outbox_id=ref,
        )
        self.rows.append(row)
        self._unwritten.append(row)
        return row

    def send(self, chat_id: int, text: str, markup: Markup = None, *, request_id: int | None = None,
             live: bool = False, **extra: Any) -> Outbox:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                                  "link_preview_options": {"is_disabled": True}, **extra}
        if markup is not None:
            params["reply_markup"] = markup
        return self.call(chat_id, "sendMessage", params, request_id=request_id, live=live and markup is not None)

    def edit(self, chat_id: int, text: str, markup: Markup = None, *, message_id: int | None = None,
             ref: Outbox | int | None = None, request_id: int | None = None) -> Outbox:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                                  "link_preview_options": {"is_disabled": True}}
        if message_id is not None:
            params["message_id"] = message_id
        if markup is not None:
            params["reply_markup"] = markup
        return self.call(chat_id, "editMessageText", params, ref=ref, request_id=request_id)

    def edit_markup(self, chat_id: int, markup: Markup = None, *, message_id: int | None = None,
                    ref: Outbox | int | None = None) -> Outbox:
        params: dict[str, Any] = {"chat_id": chat_id}
        if message_id is not None:
            params["message_id"] = message_id
        if markup is not None:
            params["reply_markup"] = markup
        return self.call(chat_id, "editMessageReplyMarkup", params, ref=ref)

    def send_file(self, chat_id: int, kind: str, file_id: str, caption: str | None = None) -> Outbox:
        method, key = ("sendPhoto", "photo") if kind == "photo" else ("sendDocument", "document")
        params: dict[str, Any] = {"chat_id": chat_id, key: file_id}
        if caption:
            params.update(caption=caption, parse_mode="HTML")
        return self.call(chat_id, method, params)

    def send_stored(self, chat_id: int, stored_file_id: int, filename: str, caption: str | None = None,
                    markup: Markup = None, *, photo: bool = False) -> Outbox:
        """Upload a file the bot keeps (stored_file), e.g. the activity report; ``photo``: a picture
        shown in the chat (sendPhoto), e.g. a report's chart."""
        key = "photo" if photo else "document"
        params: dict[str, Any] = {"chat_id": chat_id, key: {"$stored_file": stored_file_id, "filename": filename}}
        if caption:
            params.update(caption=caption, parse_mode="HTML")
        if markup is not None:
            params["reply_markup"] = markup
        return self.call(chat_id, "sendPhoto" if photo else "sendDocument", params)

    def delete(self, chat_id: int, *, message_id: int | None = None, ref: Outbox | int | None = None,
               delay: timedelta | None = None) -> Outbox:
        params: dict[str, Any] = {"chat_id": chat_id}
        if message_id is not None:
            params["message_id"] = message_id
        return self.call(chat_id, "deleteMessage", params, ref=ref, delay=delay)

    async def flush(self) -> None:
        """Write the rows added since the last flush and assign their ids. One multi-row INSERT on
        the table: every update writes rows here, so no unit-of-work cost."""
        if not self._unwritten:
            return
        with taking(self._unwritten) as rows:  # in place: the session holds this list (commit_with)
            conn = await self.session.connection()  # Core on the connection: no ORM bookkeeping
            ids = (await conn.execute(_INSERT, [{c: getattr(r, c) for c in _COLUMNS} for r in rows])).scalars()
        for r, i in zip(rows, ids, strict=True):
            r.id = i


_COLUMNS = ("chat_id", "method", "params", "ref_outbox_id", "request_id", "live_buttons", "status", "attempts",
            "available_at", "created_at")
_INSERT = insert(Outbox.__table__).returning(Outbox.__table__.c.id, sort_by_parameter_order=True)


RELEASED = datetime(1970, 1, 1, tzinfo=timezone.utc)  # a chat lease nobody holds


def stripped(params: dict[str, Any]) -> dict[str, Any]:
    """What an outbox row keeps once delivered: the addresses, not the content (texts, captions and
    buttons may hold contact persons' names, emails and phone numbers)."""
    return {k: params[k] for k in ("chat_id", "message_id") if k in params}


_PERMANENT_OK = ("message is not modified",)
_EDITS = ("editMessageText", "editMessageReplyMarkup", "editMessageCaption")
_GONE = ("message to edit not found", "message to delete not found", "message can't be deleted",
         "message can't be edited")


class OutboxSender:
    """Delivers pending outbox rows. One per process; several processes may run."""

    def __init__(self, db: Database, bot: Bot, clock: Clock, *, owner: str, per_chat_rate: float = 1.0,
                 per_chat_burst: int = 5, overall_rate: float = 25.0, max_attempts: int = 12, batch_chats: int = 100,
                 rows_per_chat: int = 10, lease: timedelta = timedelta(seconds=120),
                 idle_poll: float = 1.0) -> None:
        self.db, self.bot, self.clock, self.owner = db, bot, clock, owner
        self.per_chat_rate, self.per_chat_burst = per_chat_rate, per_chat_burst
        self.max_attempts, self.batch_chats, self.rows_per_chat = max_attempts, batch_chats, rows_per_chat
        self.lease, self.idle_poll = lease, idle_poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[int] = set()
        # A look for pending rows passed over a chat being sent: look again once sends are recorded.
        self._passed_over = False
        self._more_due = False  # recorded chats still have due rows
        self._chat_tasks: set[asyncio.Task[None]] = set()
        self._buckets: dict[int, tuple[float, float]] = {}  # chat -> (tokens, last monotonic)
        # The overall pace of this instance's sends (Telegram: about 30 messages a second per bot).
        self.overall_rate = overall_rate
        self._overall = (max(1.0, overall_rate), time.monotonic())
        self._paused_until = 0.0
        self._stopping = False
        ins = upsert(db.dialect)(ChatLock).values(chat_id=bindparam("c"), owner=bindparam("o"),
                                                    until=bindparam("u"))
        self._lease_stmt = ins.on_conflict_do_update(
            index_elements=[ChatLock.chat_id], set_={"owner": ins.excluded.owner, "until": ins.excluded.until},
            where=ChatLock.until < bindparam("now")).returning(ChatLock.chat_id, ChatLock.tokens, ChatLock.sent_at)
        lease = self._lease_stmt.cte("lease")
        # PostgreSQL: take one chat's lease (with its pace) and read its pending rows in one round trip.
        # FOR UPDATE: the statement's snapshot predates a lease that another instance released (with
        # its rows marked sent) while the upsert waited for it; locking re-reads those rows, so they
        # are not sent again.
        t = Outbox.__table__
        self._lease_and_rows_stmt = (select(t, lease.c.tokens.label("lease_tokens"),
                                            lease.c.sent_at.label("lease_sent_at"))
                                     .join(lease, lease.c.chat_id == t.c.chat_id)
                                     .where(t.c.status == "pending").order_by(t.c.id)
                                     .limit(rows_per_chat).with_for_update(of=t))
        # Giving a chat back keeps its row: the pace is what the next sender (a restart, another
        # instance) starts from.
        lk = ChatLock.__table__
        self._release_stmt = (update(lk).where(lk.c.chat_id == bindparam("c"), lk.c.owner == self.owner)
                              .values(until=RELEASED, tokens=bindparam("tokens"), sent_at=bindparam("sent")))
        # A chat's next rows to send: the first ``rows_per_chat`` pending ones (an official handed many
        # cards at once may have hundreds waiting; they are read a batch at a time, not all each time).
        # Read as Core rows (attributes by column name), not ORM objects: the sender only reads them.
        self._pending_one_stmt = (select(t).where(t.c.chat_id == bindparam("c"), t.c.status == "pending")
                                  .order_by(t.c.id).limit(rows_per_chat))
        rank = func.row_number().over(partition_by=t.c.chat_id, order_by=t.c.id).label("rank")
        first = (select(t.c.id, rank).where(t.c.chat_id.in_(bindparam("chats", expanding=True)),
                                            t.c.status == "pending").subquery())
        self._pending_many_stmt = (select(t).join(first, first.c.id == t.c.id)
                                   .where(first.c.rank <= rows_per_chat).order_by(t.c.id))
        self._due_chats_stmt = (select(t.c.chat_id).where(t.c.status == "pending", t.c.available_at <= bindparam("now"))
                                .group_by(t.c.chat_id).order_by(func.min(t.c.id)).limit(batch_chats))
        self._more_due_stmt = (select(t.c.id).where(t.c.chat_id.in_(bindparam("chats", expanding=True)),
                                                    t.c.status == "pending", t.c.available_at <= bindparam("now"))
                               .limit(1))
        # The common result, built once (Core, on the table: no ORM bookkeeping per sent message).
        self._sent_stmt = (update(t).where(t.c.id == bindparam("rid"), t.c.status == "pending")
                           .values(status="sent", attempts=bindparam("attempts"), sent_at=bindparam("at"),
                                   sent_message_id=bindparam("mid"), params=bindparam("params")))
        # Whether the driver counts the rows an executemany changed (sqlite3 does, asyncpg does not).
        self._multi_rowcount = db.engine.dialect.supports_sane_multi_rowcount
        self._not_before: dict[int, float] = {}  # chat -> monotonic time before which it is not worth claiming
        self._to_record: list[tuple[int, list[tuple[Row, dict[str, Any]]], Any]] = []
        self._record_wake = asyncio.Event()
        self._recorder_task: asyncio.Task[None] | None = None

    # --- lifecycle ---
    async def start(self) -> None:
        async with self.db.transaction() as s:  # leases of a previous run of this instance (paces kept)
            await s.execute(update(ChatLock).where(ChatLock.owner == self.owner).values(until=RELEASED))
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")
        self._recorder_task = asyncio.create_task(self._recorder(), name="outbox-recorder")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
            self._task = None
        if self._chat_tasks:
            await asyncio.gather(*self._chat_tasks, return_exceptions=True)
        if self._recorder_task:
            self._record_wake.set()
            await self._recorder_task
            self._recorder_task = None

    def wake(self) -> None:
        self._wake.set()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until nothing is pending and due (tests, graceful shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with self.db.sessions() as s:
                n = await s.scalar(select(func.count()).select_from(Outbox).where(
                    Outbox.status == "pending", Outbox.available_at <= self.clock.now()))
            if not n and not self._inflight:
                return
            self.wake()
            await asyncio.sleep(0.02)

    # --- loop ---
    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before looking: a wake-up during the look is not lost
            try:
                claimed = await self._claim()
            except Exception:  # database hiccup: try again shortly
                log.exception("outbox claim failed")
                claimed = {}
            self.dispatch(claimed)
            if claimed:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.idle_poll)
            except TimeoutError:
                pass

    def dispatch(self, claimed: dict[int, list[Row]]) -> None:
        """Send chats whose lease this instance holds."""
        if self._stopping:
            return  # leases lapse; the rows stay pending for the next start
        for chat_id, rows in claimed.items():
            if chat_id in self._inflight:  # cannot happen with leases; never send a chat twice at once
                continue
            self._inflight.add(chat_id)
            t = asyncio.create_task(self._send_chat(chat_id, rows))
            self._chat_tasks.add(t)
            t.add_done_callback(self._chat_tasks.discard)

    async def claim_in(self, s: AsyncSession, chats: set[int], now: datetime) -> dict[int, list[Row]]:
        """Fast path, inside the transaction that wrote the rows: take the chats' leases if free and
        return their pending rows (older ones first), to send right after commit."""
        busy = {c for c in chats if c in self._inflight}
        if busy:
            self._passed_over = True
        chats -= busy
        if not chats or self._stopping or time.monotonic() < self._paused_until:
            return {}
        if self.db.dialect == "postgresql" and len(chats) == 1:
            (c,) = chats
            # Only chats with rows pending in this very transaction come here, so no rows = no lease.
            conn = await s.connection()
            got_rows = (await conn.execute(self._lease_and_rows_stmt, {"c": c, "o": self.owner,
                                                                       "u": now + self.lease, "now": now})).all()
            if not got_rows:
                return {}
            self._adopt(c, got_rows[0].lease_tokens, got_rows[0].lease_sent_at, now)
            return {c: list(got_rows)}
        got = await self._take_leases(s, chats, now)
        if not got:
            return {}
        return await self._pending_rows(s, got)

    async def _claim(self) -> dict[int, list[Row]]:
        now = self.clock.now()
        if time.monotonic() < self._paused_until:
            return {}
        async with self.db.transaction() as s:
            mono = time.monotonic()
            found = (await s.scalars(self._due_chats_stmt, {"now": now})).all()
            chats = [c for c in found if c not in self._inflight and self._not_before.get(c, 0.0) <= mono]
            if any(c in self._inflight for c in found):
                self._passed_over = True
            if not chats:
                return {}
            got = await self._take_leases(s, chats, now)
            if not got:
                return {}
            return await self._pending_rows(s, got)

    async def _pending_rows(self, s: AsyncSession, chats: set[int]) -> dict[int, list[Row]]:
        """The next rows to send of each of ``chats`` (oldest first, at most ``rows_per_chat``)."""
        conn = await s.connection()
        if len(chats) == 1:
            (c,) = chats
            rows = (await conn.execute(self._pending_one_stmt, {"c": c})).all()
        else:
            rows = (await conn.execute(self._pending_many_stmt, {"chats": sorted(chats)})).all()
        out: dict[int, list[Row]] = {c: [] for c in chats}
        for r in rows:
            out[r.chat_id].append(r)
        return out

    async def _take_leases(self, s: AsyncSession, chats: Sequence[int] | set[int], now: datetime) -> set[int]:
        """Take the leases of those ``chats`` nobody holds, in one statement (in chat order, so two
        instances lock rows in the same order), adopting each chat's pace; returns the chats taken."""
        conn = await s.connection()  # Core on the connection: no ORM bookkeeping
        until = now + self.lease
        # Several chats: still one statement (SQLAlchemy's "insertmanyvalues" sends the rows as one
        # multi-row INSERT), compiled once -- a statement built with .values([...]) per call was
        # compiled again on every call (its shape changes with the number of chats).
        taken = (await conn.execute(self._lease_stmt, [{"c": c, "o": self.owner, "u": until, "now": now}
                                                       for c in sorted(chats)])).all()
        for c, tokens, sent in taken:
            self._adopt(c, tokens, sent, now)
        return {c for c, _tokens, _sent in taken}

    def _adopt(self, chat_id: int, tokens: float | None, sent_at: datetime | None, now: datetime) -> None:
        """A chat's lease was taken: its pace (token bucket) continues from where the last sender of
        the chat left it, whichever instance or run that was."""
        if self.per_chat_rate <= 0:
            return
        level = float(self.per_chat_burst)
        if tokens is not None and sent_at is not None:
            level = min(level, tokens + max(0.0, (now - sent_at).total_seconds()) * self.per_chat_rate)
        self._buckets[chat_id] = (level, time.monotonic())

    def _pace_of(self, chat_id: int) -> dict[str, Any]:
        """The chat's pace as it is given back with the lease (and forgotten here)."""
        bucket = self._buckets.pop(chat_id, None)
        if bucket is None:
            return {"c": chat_id, "tokens": None, "sent": None}
        tokens, last = bucket
        return {"c": chat_id, "tokens": tokens,
                "sent": self.clock.now() - timedelta(seconds=max(0.0, time.monotonic() - last))}

    async def _pace(self, chat_id: int) -> None:
        await self._pace_chat(chat_id)
        if self.overall_rate > 0:  # a reservation: concurrent chats queue up behind each other
            now = time.monotonic()
            tokens, last = self._overall
            tokens = min(max(1.0, self.overall_rate), tokens + (now - last) * self.overall_rate) - 1
            self._overall = (tokens, now)
            if tokens < 0:
                await asyncio.sleep(-tokens / self.overall_rate)

    async def _pace_chat(self, chat_id: int) -> None:
        if self.per_chat_rate <= 0:
            return
        now = time.monotonic()
        tokens, last = self._buckets.get(chat_id, (float(self.per_chat_burst), now))
        tokens = min(float(self.per_chat_burst), tokens + (now - last) * self.per_chat_rate)
        if tokens < 1:
            await asyncio.sleep((1 - tokens) / self.per_chat_rate)
            tokens = 1.0
            now = time.monotonic()
        self._buckets[chat_id] = (tokens - 1, now)

    async def _send_chat(self, chat_id: int, rows: Sequence[Row]) -> None:
        results: list[tuple[Row, dict[str, Any]]] = []
        # Stop well before the lease ends, so that no other instance can take the chat over mid-send.
        lease_deadline = time.monotonic() + self.lease.total_seconds() * 0.6
        try:
            refs = await self._ref_ids(rows)
            for row in rows:
                if row.available_at > self.clock.now():
                    if row.method == "deleteMessage":
                        continue  # a scheduled deletion does not hold up the chat's other messages
                    wait = (row.available_at - self.clock.now()).total_seconds()
                    self._not_before[chat_id] = time.monotonic() + min(wait, self.idle_poll)
                    break
                if self._stopping or time.monotonic() > lease_deadline:
                    break  # the lease may run out: leave the rest to the next claim
                params = dict(row.params)
                if row.ref_outbox_id is not None:
                    ref = refs.get(row.ref_outbox_id)
                    for r, res in results:  # sent earlier in this batch
                        if r.id == row.ref_outbox_id and res.get("sent_message_id"):
                            ref = ("sent", res["sent_message_id"])
                    if ref is None or ref[0] in ("failed", "cancelled"):
                        results.append((row, {"status": "cancelled", "last_error": "reference not sent"}))
                        continue
                    if ref[1] is None:
                        break  # the referenced message is not out yet; keep order
                    params["message_id"] = ref[1]
                res = await self._deliver(row, params, lease_deadline)
                results.append((row, res))
                if res.get("status") == "pending":
                    break  # retry later, keep the chat's order
        finally:
            done = asyncio.get_running_loop().create_future()
            self._to_record.append((chat_id, results, done))
            self._record_wake.set()
            await done

    async def _recorder(self) -> None:
        """Records delivery results and releases chat leases, many chats per transaction."""
        while True:
            await self._record_wake.wait()
            self._record_wake.clear()
            batch, self._to_record = self._to_record, []
            if not batch:
                if self._stopping and not self._inflight:
                    return
                continue
            attempt = 0
            while True:  # results of delivered messages must not be dropped (they would be sent again)
                try:
                    await self._record_batch(batch)
                    break
                except Exception:
                    attempt += 1
                    log.exception("recording outbox results failed (attempt %d); retrying", attempt)
                    await asyncio.sleep(min(30.0, 0.2 * 2**attempt))
            for chat_id, _results, done in batch:
                self._inflight.discard(chat_id)
                if not done.done():
                    done.set_result(None)
            if self._passed_over or self._more_due:
                self._passed_over = self._more_due = False
                self.wake()

    async def _stored_file(self, ref: dict[str, Any]) -> Any:
        from telegram import InputFile

        from storage.models import StoredFile

        async with self.db.sessions() as s:
            f = await s.get(StoredFile, int(ref["$stored_file"]))
        if f is None:
            raise ValueError("stored file is gone")
        return InputFile(f.content, filename=ref.get("filename") or f.file_name or "berkas")

    async def _ref_ids(self, rows: Sequence[Row]) -> dict[int, tuple[str, int | None]]:
        ids = {r.ref_outbox_id for r in rows if r.ref_outbox_id is not None}
        if not ids:
            return {}
        async with self.db.sessions() as s:
            got = (await s.execute(select(Outbox.id, Outbox.status, Outbox.sent_message_id)
                                   .where(Outbox.id.in_(ids)))).all()
        return {i: (st, mid) for i, st, mid in got}

    async def _deliver(self, row: Row, params: dict[str, Any], lease_deadline: float = float("inf")
                       ) -> dict[str, Any]:
        if self._paused_until > lease_deadline:  # a long flood wait: give the chat back instead
            return {"status": "pending", "available_at": self.clock.now() + timedelta(
                seconds=self._paused_until - time.monotonic())}
        while time.monotonic() < self._paused_until:
            await asyncio.sleep(min(1.0, self._paused_until - time.monotonic()))
        await self._pace(row.chat_id)
        attempts = row.attempts + 1
        try:
            for key, value in list(params.items()):
                if isinstance(value, dict) and "$stored_file" in value:
                    params[key] = await self._stored_file(value)
        except ValueError as e:
            return {"status": "failed", "attempts": attempts, "last_error": str(e)[:300]}
        try:
            result = await self.bot.do_api_request(row.method, api_kwargs=params)
        except RetryAfter as e:
            wait = e.retry_after if isinstance(e.retry_after, (int, float)) else e.retry_after.total_seconds()
            mono = time.monotonic()
            if self._paused_until <= mono:  # once per pause, however many sends it stopped
                log.warning("flood control (429): sending paused for %ss", wait)
            self._paused_until = max(self._paused_until, mono + float(wait))
            return {"status": "pending", "available_at": self.clock.now() + timedelta(seconds=float(wait)),
                    "last_error": "429"}
        except (BadRequest, Forbidden) as e:
            msg = str(e.message).lower()
            if any(k in msg for k in _PERMANENT_OK):
                return {"status": "sent", "attempts": attempts}
            log.warning("outbox %s %s refused: %s", row.id, row.method, e.message)
            return {"status": "failed", "attempts": attempts, "last_error": str(e.message)[:300],
                    "gone": any(k in msg for k in _GONE)}
        except NetworkError as e:  # 5xx, timeouts, connection errors
            if attempts >= self.max_attempts:
                return {"status": "failed", "attempts": attempts, "last_error": str(e)[:300]}
            backoff = min(300.0, 0.5 * 2 ** (attempts - 1)) * (0.75 + random.random() / 2)
            log.warning("outbox %s %s failed (%s), attempt %d; retrying in %.1fs", row.id, row.method,
                        type(e).__name__, attempts, backoff)
            return {"status": "pending", "attempts": attempts, "last_error": str(e)[:300],
                    "available_at": self.clock.now() + timedelta(seconds=backoff)}
        except TelegramError as e:
            return {"status": "failed", "attempts": attempts, "last_error": str(e)[:300]}
        mid = result.get("message_id") if isinstance(result, dict) else None
        return {"status": "sent", "attempts": attempts, "sent_message_id": mid}

    async def _record_batch(self, batch: list[tuple[int, list[tuple[Row, dict[str, Any]]], Any]]) -> None:
        now = self.clock.now()
        chats = [c for c, _, _ in batch]
        async with self.db.write_connection() as conn:  # Core: no ORM session for every delivery
            sent: list[tuple[int, Row, dict[str, Any]]] = []
            for chat_id, results, _done in batch:
                for row, res in results:
                    if res["status"] == "sent":
                        sent.append((chat_id, row, res))
                    else:
                        await self._record_other(conn, row, res)
            await self._record_sent(conn, sent, now)
            await conn.execute(self._release_stmt, [self._pace_of(c) for c in chats])
            # Rows that arrived for these chats while they were being sent (from here or another
            # instance, whose fast path found the lease taken): look for them now, not at the next poll.
            self._more_due = self._more_due or (await conn.execute(
                self._more_due_stmt, {"chats": chats, "now": now})).first() is not None

    async def _record_other(self, conn: AsyncConnection, row: Row, res: dict[str, Any]) -> None:
        """A row not delivered (yet): to be retried, failed, or cancelled."""
        values = {k: v for k, v in res.items() if k != "gone"}
        if res["status"] in ("failed", "cancelled"):  # never to be sent: its body is not kept
            values["params"] = row.params if row.live_buttons else stripped(row.params)
        await conn.execute(update(Outbox).where(Outbox.id == row.id, Outbox.status == "pending").values(**values))

    async def _record_sent(self, conn: AsyncConnection, sent: list[tuple[int, Row, dict[str, Any]]],
                           now: datetime) -> None:
        """Delivered rows, all in one statement (executemany). Delivered, the body -- message texts
        with personal data -- is not kept; a message with live buttons keeps it until they are
        closed (Chain edits it then)."""
        if not sent:
            return
        done = await conn.execute(self._sent_stmt, [
            {"rid": row.id, "attempts": res["attempts"], "at": now, "mid": res.get("sent_message_id"),
             "params": row.params if row.live_buttons else stripped(row.params)} for _chat, row, res in sent])
        if len(sent) == 1:
            missed = set() if done.rowcount == 1 else {sent[0][1].id}
        elif self._multi_rowcount and done.rowcount == len(sent):
            missed = set()
        else:  # which ones the statement did not find pending (the driver counts no executemany)
            t = Outbox.__table__
            missed = set((await conn.execute(select(t.c.id).where(t.c.id.in_([r.id for _c, r, _r in sent]),
                                                                  t.c.status != "sent"))).scalars())
        for chat_id, row, res in sent:
            if row.id in missed:
                await self._sent_after_cancel(conn, chat_id, row, res, now)

    async def _sent_after_cancel(self, conn: AsyncConnection, chat_id: int, row: Row, res: dict[str, Any],
                                 now: datetime) -> None:
        """Cancelled while in flight (its request moved on, perhaps by a tap on this very message): it
        was delivered, so it is recorded as sent, with its message id (a reply or an edit that refers
        to it goes out); its buttons are stripped -- unless the message was already shown and tapped,
        and that tap queued its own edit."""
        mid = res.get("sent_message_id")
        await conn.execute(update(Outbox).where(Outbox.id == row.id).values(
            status="sent", attempts=res["attempts"], sent_at=now, sent_message_id=mid, params=stripped(row.params),
            live_buttons=False))
        if row.live_buttons and mid and await conn.scalar(select(Outbox.id).where(
                Outbox.chat_id == chat_id, Outbox.id > row.id, Outbox.method.in_(_EDITS),
                Outbox.params["message_id"].as_integer() == mid).limit(1)) is None:
            async with AsyncSession(bind=conn) as s:  # joins the recorder's transaction
                w = OutboxWriter(s, now)
                w.edit_markup(chat_id, None, message_id=mid)
                await w.flush()
