"""Repository functions used outside the per-update flow (CLI, start-up)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Official, OfficialRole

SEED_AGENCIES = Path(__file__).parent / "seed" / "agencies.csv"
KINDS = {"sekretariat", "inspektorat", "dinas", "badan", "satuan", "rsud", "kecamatan", "lainnya"}


class CsvError(ValueError):
    pass


def read_agencies_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        need = {"code", "name", "short_name", "kind"}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise CsvError(f"header must contain {sorted(need)}")
        rows = []
        for n, row in enumerate(reader, start=2):
            r = {k: (row.get(k) or "").strip() for k in need}
            if not r["code"] or not r["name"] or not r["short_name"]:
                raise CsvError(f"line {n}: code, name and short_name are required")
            if r["kind"] not in KINDS:
                raise CsvError(f"line {n}: unknown kind {r['kind']!r}")
            rows.append(r)
    return rows


async def upsert_agencies(s: AsyncSession, rows: list[dict[str, str]], *, deactivate_missing: bool) -> tuple[int, int]:
    existing = {a.code: a for a in (await s.scalars(select(Agency))).all()}
    added = updated = 0
    for r in rows:
        a = existing.get(r["code"])
        if a is None:
            s.add(Agency(code=r["code"], name=r["name"], short_name=r["short_name"], kind=r["kind"], active=True))
            added += 1
        else:
            a.name, a.short_name, a.kind, a.active = r["name"], r["short_name"], r["kind"], True
            updated += 1
    if deactivate_missing:
        codes = {r["code"] for r in rows}
        for code, a in existing.items():
            if code not in codes:
                a.active = False
    return added, updated


async def seed_agencies_if_empty(s: AsyncSession) -> int:
    if await s.scalar(select(func.count()).select_from(Agency)):
        return 0
    added, _ = await upsert_agencies(s, read_agencies_csv(SEED_AGENCIES), deactivate_missing=False)
    return added


async def list_officials(s: AsyncSession) -> list[tuple[Official, list[str]]]:
    rows = (await s.execute(select(Official, OfficialRole.role).outerjoin(
        OfficialRole, OfficialRole.official_id == Official.id).order_by(Official.id, OfficialRole.role))).all()
    out: dict[int, tuple[Official, list[str]]] = {}
    for off, role in rows:
        out.setdefault(off.id, (off, []))
        if role:
            out[off.id][1].append(role)
    return list(out.values())


def utcnow() -> datetime:
    from datetime import UTC
    return datetime.now(UTC)
