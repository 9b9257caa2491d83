"""Shared plumbing of the use cases: the transaction, the actor, the audit log, sessions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from bot import texts as T
from bot.env import Env
from bot.updates import Scope
from storage import sops
from storage.db import upsert
from storage.models import Official, OfficialRole, Request, Session
from workflow.machine import Actor
from workflow.sop import ADMIN, Sop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatState:
    """What the bot waits for from a user (their row of chat_session, as read)."""

    awaiting: str | None
    context: dict[str, Any]


_CHAT = Session.__table__
_READ_CHAT = select(_CHAT.c.awaiting, _CHAT.c.context).where(_CHAT.c.user_id == bindparam("u"))

# The statements every tap and disposition runs, built once (building one costs about as much as
# running it; bound parameters instead of values, so each is also compiled once).
_OFFICIAL = select(Official).where(Official.telegram_id == bindparam("tg"), Official.active.is_(True))
_ROLES = select(OfficialRole.role).where(OfficialRole.official_id == bindparam("oid"))
_ACTOR = (select(Official, OfficialRole.role).outerjoin(OfficialRole, OfficialRole.official_id == Official.id)
          .where(Official.telegram_id == bindparam("tg"), Official.active.is_(True)))
_HOLDERS = (select(Official).join(OfficialRole, OfficialRole.official_id == Official.id)
            .where(OfficialRole.role == bindparam("role"), Official.active.is_(True)).order_by(Official.id))


@cache
def _write_chat(dialect: str) -> Any:
    """The upsert of a user's chat_session row, built once per database kind."""
    ins = upsert(dialect)(_CHAT).values(user_id=bindparam("u"), awaiting=bindparam("a"), context=bindparam("c"),
                                       updated_at=bindparam("t"))
    return ins.on_conflict_do_update(index_elements=[_CHAT.c.user_id], set_={
        "awaiting": ins.excluded.awaiting, "context": ins.excluded.context, "updated_at": ins.excluded.updated_at})


class Ctx:
    """One update's view of the world: its transaction, its time, its outbox."""

    def __init__(self, scope: Scope, env: Env) -> None:
        self.scope = scope
        self.s = scope.session
        self.now: datetime = scope.now
        self.out = scope.outbox
        self.env = env
        self.settings = env.settings

    @property
    def tz(self) -> ZoneInfo:
        return self.env.settings.tz

    def cb(self, action: str, *args: object) -> str:
        return self.env.codec.encode(action, *args)

    # --- the SOP ---
    @property
    def sop(self) -> Sop:
        """The SOP in force: new requests, menus, roles, the digest, the oversight."""
        return self.env.sop

    async def sop_of(self, req: Request) -> Sop:
        """The SOP a request runs under: the version it was submitted under (requests recorded
        before versions existed have none and run under the one in force)."""
        return await self.sop_by_version(req.sop_version)

    async def sop_by_version(self, version: str | None) -> Sop:
        if version is None or version == self.env.sop.version:
            return self.env.sop
        return await sops.version(self.s, version)

    # --- officials and actors ---
    async def official(self, telegram_id: int) -> Official | None:
        key = f"official:{telegram_id}"
        if key not in self.scope.cache:
            self.scope.cache[key] = await self.s.scalar(_OFFICIAL, {"tg": telegram_id})
        return self.scope.cache[key]

    async def roles_of(self, official: Official | None) -> frozenset[str]:
        if official is None:
            return frozenset()
        key = f"roles:{official.id}"
        if key not in self.scope.cache:
            rows = await self.s.scalars(_ROLES, {"oid": official.id})
            self.scope.cache[key] = frozenset(rows)
        return self.scope.cache[key]

    async def actor(self, telegram_id: int) -> Actor:
        key = f"official:{telegram_id}"
        if key not in self.scope.cache:  # the official and their roles in one query (every tap asks)
            rows = (await self.s.execute(_ACTOR, {"tg": telegram_id})).all()
            self.scope.cache[key] = rows[0][0] if rows else None
            if rows:
                self.scope.cache[f"roles:{rows[0][0].id}"] = frozenset(r for _, r in rows if r is not None)
        off = await self.official(telegram_id)
        return Actor(telegram_id, off.id if off else None, await self.roles_of(off))

    async def holders(self, role: str) -> list[Official]:
        """The active officials holding ``role`` (read once per transaction)."""
        key = f"holders:{role}"
        if key not in self.scope.cache:
            self.scope.cache[key] = list((await self.s.scalars(_HOLDERS, {"role": role})).all())
        return self.scope.cache[key]

    async def load_officials(self) -> None:
        """Every active official and their roles in one query, for work that needs many of them
        (the reminder sweep): fills what ``holders`` and ``roles_of`` would read one by one."""
        rows = (await self.s.execute(select(Official, OfficialRole.role)
                                     .join(OfficialRole, OfficialRole.official_id == Official.id)
                                     .where(Official.active.is_(True)).order_by(Official.id))).all()
        by_role: dict[str, list[Official]] = {r: [] for r in self.sop.official_roles()}
        roles: dict[int, set[str]] = {}
        for off, role in rows:
            by_role.setdefault(role, []).append(off)
            roles.setdefault(off.id, set()).add(role)
        for role, offs in by_role.items():
            self.scope.cache[f"holders:{role}"] = offs
        for oid, rs in roles.items():
            self.scope.cache[f"roles:{oid}"] = frozenset(rs)

    def forget_officials(self) -> None:
        """Officials or roles changed in this transaction: read them again."""
        for key in [k for k in self.scope.cache if k.startswith(("holders:", "roles:", "official:"))]:
            del self.scope.cache[key]

    async def official_name(self, official_id: int | None) -> str:
        if official_id is None:
            return "—"
        off = await self.s.get(Official, official_id)
        return off.name if off else "—"

    async def unknown_input(self, user_id: int) -> str:
        """A message the bot did not expect: the hint that fits who wrote it."""
        from storage.models import ContactLink

        roles = (await self.actor(user_id)).roles
        contact = await self.s.scalar(select(ContactLink.request_id).where(
            ContactLink.verified_telegram_id == user_id).limit(1)) is not None
        hints = ([T.UNKNOWN_HINT_OFFICIAL] if roles - {ADMIN} else []) \
            + ([T.UNKNOWN_HINT_ADMIN] if ADMIN in roles else []) + ([T.UNKNOWN_HINT_CONTACT] if contact else [])
        if not hints:
            return T.UNKNOWN_INPUT
        return T.UNKNOWN_INPUT_HEAD + "\n" + "\n".join(hints + [T.UNKNOWN_HINT_TAIL])

    # --- audit ---
    def audit(self, action: str, *, actor_tg: int | None = None, official_id: int | None = None,
              request_id: int | None = None, from_state: str | None = None, to_state: str | None = None,
              **detail: Any) -> None:
        log.info("audit %s", action)  # the update id and request number come with it in JSON logs
        self.scope.audit_rows.append(dict(at=self.now, actor_telegram_id=actor_tg, actor_official_id=official_id,
                                          request_id=request_id, action=action, from_state=from_state,
                                          to_state=to_state, detail=detail or None))

    async def core(self, statement: Any, params: Any = None) -> Any:
        """A Core statement on the transaction's connection: no ORM objects, no unit of work (the
        statements every update runs)."""
        return await (await self.s.connection()).execute(statement, params)

    # --- what the bot waits for from a user ---
    # Read and written on nearly every message, as Core statements on the connection (no ORM
    # object, no unit of work at commit); read once per update.
    chat_read: Any = _READ_CHAT  # a service may read more with it (``read_with_chat``)

    async def session(self, user_id: int) -> ChatState | None:
        key = f"chat:{user_id}"
        if key not in self.scope.cache:
            row = (await self.core(self.chat_read, {"u": user_id})).first()
            self.scope.cache[key] = ChatState(row.awaiting, row.context or {}) if row is not None else None
            if row is not None:
                self.read_with_chat(user_id, row)
        return self.scope.cache[key]

    def read_with_chat(self, user_id: int, row: Any) -> None:
        """Keep what ``chat_read`` read besides the chat state (here: nothing)."""

    async def set_awaiting(self, user_id: int, awaiting: str | None, **context: Any) -> None:
        current = await self.session(user_id)
        if current is None:
            unchanged = awaiting is None and not context
        else:
            unchanged = (current.awaiting, current.context) == (awaiting, context)
        if unchanged:
            return  # no write
        conn = await self.s.connection()
        await conn.execute(_write_chat(conn.dialect.name), {"u": user_id, "a": awaiting, "c": context, "t": self.now})
        self.scope.cache[f"chat:{user_id}"] = ChatState(awaiting, context)

    async def clear_awaiting(self, user_id: int) -> None:
        await self.set_awaiting(user_id, None)
