"""Seeding a benchmark database: many requests, as years of use leave them (bulk inserts on the
tables, not through the bot)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from storage.db import Database
from storage.models import Official, OfficialRole, Reminder, Request, RequestStep
from storage.repo import seed_agencies_if_empty

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday 13:00 WIB


def _request(i: int, *, stage: str, holder_role: str | None, holder: int | None = None,
             requester: int | None = None, at: datetime = NOW) -> dict:
    return dict(id=i, number=f"SPLP-2026-{i:06d}", requester_id=requester or 10_000_000 + i, agency_id=1,
                letter_number="1/2026", letter_date=date(2026, 11, 27), subject="Permohonan",
                contact_name="A B", contact_email="a@b.go.id", contact_phone="+6281234567890", app_name="App",
                business_process="x" * 40, scan={"kind": "document", "file_id": "f", "file_unique_id": "u"},
                stage=stage, version=1, cycle=1, holder_role=holder_role, holder_official_id=holder,
                created_at=at, submitted_at=at, updated_at=at, closed_at=at if stage == "done" else None)


async def seed_requests(db: Database, n: int, *, open_with_reminders: int = 0, due: int = 0,
                        chunk: int = 5000) -> None:
    """``n`` requests: the first ``open_with_reminders`` open at the Head's step with three reminders
    each (the first ``due`` of them with one due at NOW), the rest finished."""
    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
        start = (await s.scalar(select(func.max(Request.id)))) or 0
    for lo in range(start, start + n, chunk):
        ids = range(lo + 1, min(start + n, lo + chunk) + 1)
        async with db.transaction() as s:
            rows = []
            for i in ids:
                is_open = i - start <= open_with_reminders
                rows.append(_request(i, stage="head_review" if is_open else "done",
                                     holder_role="head" if is_open else None, at=NOW - timedelta(days=1)))
            await s.execute(insert(Request), rows)
            await s.execute(insert(RequestStep), [dict(
                id=i, request_id=i, cycle=1, stage="head_review", step_code="A2", holder_role="head",
                received_at=NOW, due_at=NOW + timedelta(days=1),
                done_at=None if i - start <= open_with_reminders else NOW) for i in ids])
            reminders = [dict(request_id=i, step_id=i, kind=k, share=sh, day=0,
                              due_at=(NOW - timedelta(minutes=5)) if (i - start <= due and k == "share" and sh == 0.5)
                              else NOW + timedelta(hours=h), sent_at=None)
                         for i in ids if i - start <= open_with_reminders
                         for k, sh, h in (("share", 0.5, 3), ("share", 0.9, 6), ("breach", None, 24))]
            if reminders:
                await s.execute(insert(Reminder), reminders)


async def seed_heads(db: Database, users: list[int], per_user: int, *, division_head: int,
                     scan_file_id: str, requester_base: int) -> None:
    """Each user an official with the Head's role, holding ``per_user`` requests at step 2 by name
    (so each disposes of their own: the dispositions of many officials at once), sent by user
    ``requester_base + k`` (``scan_file_id``: a letter Telegram knows); ``division_head`` receives
    them next."""
    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
        await s.flush()
        start = (await s.scalar(select(func.max(Request.id)))) or 0
        first_off = (await s.scalar(select(func.max(Official.id)))) or 0
        await s.execute(insert(Official), [dict(id=first_off + k + 1, telegram_id=u, name=f"Kepala {k}", active=True,
                                                created_at=NOW) for k, u in enumerate(users)])
        await s.execute(insert(OfficialRole), [dict(official_id=first_off + k + 1, role="head")
                                               for k in range(len(users))])
        # One division head who receives what they dispose of.
        await s.execute(insert(Official), [dict(id=first_off + len(users) + 1, telegram_id=division_head,
                                                name="Kepala Bidang", active=True, created_at=NOW)])
        await s.execute(insert(OfficialRole), [dict(official_id=first_off + len(users) + 1, role="division_head")])
        rows, steps = [], []
        i = start
        for k, _u in enumerate(users):
            for _ in range(per_user):
                i += 1
                row = _request(i, stage="head_review", holder_role="head", holder=first_off + k + 1,
                               requester=requester_base + k)
                row["scan"] = {"kind": "document", "file_id": scan_file_id, "file_name": "surat.pdf"}
                rows.append(row)
                steps.append(dict(id=i, request_id=i, cycle=1, stage="head_review", step_code="A2",
                                  holder_role="head", holder_official_id=first_off + k + 1, received_at=NOW,
                                  due_at=NOW + timedelta(days=1)))
        await s.execute(insert(Request), rows)
        await s.execute(insert(RequestStep), steps)


async def advance_sequences(db: Database) -> None:
    """PostgreSQL: rows were inserted with their ids; the id sequences continue after them (the bot
    inserts more)."""
    if db.dialect != "postgresql":
        return
    async with db.transaction() as s:
        for table in ("request", "request_step", "official", "reminder"):
            await s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
