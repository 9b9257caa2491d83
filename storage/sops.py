"""The SOP versions the bot has run (``sop_version``) and the checks made when the file changes.

A request stores the version it was submitted under (``request.sop_version``, the hash of the
document's canonical content); its chain, limits and wording come from that version to the end.
Versions are immutable by construction (the key is the content's hash), so a process keeps each
one it has read in :data:`_LOADED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert
from storage.models import Request, SopVersion
from workflow.sop import CLOSED_STAGES, REQUESTER, Sop, SystemStage
from workflow.sopdoc import from_json

_LOADED: dict[str, Sop] = {}  # version -> Sop, for this process (a version's content never changes)


def remember(sop: Sop) -> Sop:
    return _LOADED.setdefault(sop.version, sop)


async def register(s: AsyncSession, sop: Sop, now: datetime) -> bool:
    """Record ``sop`` as a version the bot runs (once). True when it is new to the database."""
    remember(sop)
    stmt = upsert(s.bind.dialect.name)(SopVersion).values(
        version=sop.version, number=sop.identity.number, revision=sop.revision, document=sop.to_json(),
        source=str(sop.source)[-255:], first_loaded_at=now)
    res = await s.execute(stmt.on_conflict_do_nothing(index_elements=[SopVersion.version]))
    return bool(res.rowcount)


async def version(s: AsyncSession, version: str) -> Sop:
    """The SOP of ``version`` (a request's), from this process's cache or the database."""
    sop = _LOADED.get(version)
    if sop is None:
        row = await s.get(SopVersion, version)
        if row is None:
            raise LookupError(f"SOP version {version} is not recorded in sop_version")
        sop = remember(from_json(row.document, f"sop_version {version}"))
    return sop


@dataclass(frozen=True)
class Blocked:
    """An open request the new SOP file could not carry on."""

    number: str
    stage: str
    holder_role: str | None
    why: str  # English, for the operator


async def blockers(s: AsyncSession, new: Sop, limit: int = 50) -> list[Blocked]:
    """Open requests in a stage of the disposition chain that ``new``'s chain lacks, or held by a
    role ``new`` does not define (nobody could be given that role any more): switching to ``new``
    would strand them. Requests of the same chain and roles (any revision) are fine: each keeps
    its own version. A returned request restarts at the first hop of its own version's chain."""
    system = set(SystemStage)
    rows = (await s.execute(
        select(Request.number, Request.stage, Request.holder_role)
        .where(Request.stage.notin_([*CLOSED_STAGES, SystemStage.RETURNED]))
        .order_by(Request.id))).all()
    out: list[Blocked] = []
    for number, stage, role in rows:
        if stage not in system and stage not in new.chain:
            out.append(Blocked(number, stage, role, f"stage {stage!r} is not in the new chain"))
        elif role and role != REQUESTER and role not in new.roles:
            out.append(Blocked(number, stage, role, f"held by role {role!r}, which the new SOP does not define"))
        if len(out) >= limit:
            break
    return out


async def versions_in_use(s: AsyncSession) -> dict[str | None, int]:
    """Open requests per SOP version (for ``sop check`` and the doctor)."""
    rows = (await s.execute(select(Request.sop_version, func.count()).where(Request.stage.notin_(list(CLOSED_STAGES)))
                            .group_by(Request.sop_version))).all()
    return {v: n for v, n in rows}


def describe(blocked: list[Blocked], new: Sop) -> str:
    """The refusal, in English for the operator, listing the requests."""
    lines = [f"the SOP file {new.source} ({new.label}) cannot replace the one in use: "
             f"{len(blocked)} open request(s) would be stranded"
             + (" (first 50 shown)" if len(blocked) >= 50 else "") + ":"]
    lines += [f"  {b.number}  stage {b.stage}  ({b.why})" for b in blocked]
    lines.append("Finish or withdraw these requests under the current SOP first, or keep their stages and roles "
                 "in the new file.")
    return "\n".join(lines)


__all__ = ["Blocked", "blockers", "describe", "register", "remember", "version", "versions_in_use"]
