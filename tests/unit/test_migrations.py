"""The Alembic migrations build exactly the schema the models declare (no drift)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import upgrade
from storage.models import Base
from tests.fresh import in_fresh_process


def test_migrations_match_the_models(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_head_revision_without_alembic_matches_alembic() -> None:
    """The bot checks "at head" by reading the migration files (not loading Alembic)."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite:///x.db")).get_current_head()


async def test_prepare_migrates_a_new_database_in_a_child_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings
    from main import _prepare
    from storage.db import current_revision, head_revision

    url = f"sqlite+aiosqlite:///{tmp_path}/new.db"
    db = await _prepare(Settings(database_url=url))
    try:
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


def test_0009_backfills_the_working_time_of_existing_requests(tmp_path: Path) -> None:
    """Rows recorded before 0009 get their hops', passages' and request's working time and the days'
    tallies (and the items missing at returns, from the audit log), on the same calendar (30 November
    2026 is a Monday; default hours)."""
    from datetime import date, datetime

    from zoneinfo import ZoneInfo

    from storage.models import Agency, AuditLog, Official, OversightDay, Request, RequestStep

    w = ZoneInfo("Asia/Jakarta")
    path = tmp_path / "b.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0007")
    engine = sa.create_engine(f"sqlite:///{path}")

    def at(day: int, h: int, m: int = 0) -> datetime:
        return datetime(2026, 11, 30, h, m, tzinfo=w) if day == 30 else datetime(2026, 12, day, h, m, tzinfo=w)

    hops = [  # stage, holder, official, received, done, due
        ("returned", "requester", None, at(30, 8), at(30, 9), None),  # 1 h
        ("head_review", "head", 1, at(30, 9), at(30, 10), at(1, 9)),  # 1 h
        ("division_review", "division_head", 2, at(30, 10), at(30, 10, 30), at(1, 10)),  # 0.5 h
        ("team_assign", "team_lead", 3, at(30, 10, 30), at(30, 11, 30), at(1, 10)),  # 1 h (passage 1.5 h)
        ("completeness", "executor", 4, at(30, 11, 30), at(30, 13, 30), at(1, 11, 30)),  # 0.5 h + 0.5 h
        ("registration", "executor", 4, at(30, 13, 30), at(1, 8, 30), at(2, 13, 30)),  # 2.5 h + 1 h
        ("report", "executor", 4, at(1, 8, 30), at(1, 9), at(2, 8, 30)),  # 0.5 h
        ("forward", "head", 1, at(1, 9), at(1, 10), at(2, 9)),  # 1 h
    ]
    codes = {"returned": "A1", "head_review": "A2", "division_review": "A3", "team_assign": "A3",
             "completeness": "A4", "registration": "A5", "report": "A6", "forward": "A7"}
    try:
        with engine.begin() as c:
            c.execute(sa.insert(Agency.__table__).values(id=1, code="dinkes", name="Dinas Kesehatan", short_name="Dinkes",
                                                         kind="dinas", active=True))
            for i in range(1, 5):
                c.execute(sa.insert(Official.__table__).values(id=i, telegram_id=1000 + i, name=f"P{i}", active=True,
                                                               created_at=at(30, 7)))
            c.execute(sa.insert(Request.__table__).values(
                id=1, number="SPLP-2026-000001", requester_id=5001, agency_id=1, letter_number="1/2026",
                letter_date=date(2026, 11, 27), subject="s", contact_name="n", contact_email="e@x.go.id",
                contact_phone="+6281234567890", app_name="a", business_process="b", scan={}, stage="done", version=9,
                cycle=1, created_at=at(30, 8), submitted_at=at(30, 9), updated_at=at(1, 10), closed_at=at(1, 10)))
            c.execute(sa.insert(AuditLog.__table__).values(at=at(30, 12), request_id=1, action="return",
                                                            detail={"missing": ["contact_phone"]}))
            for stage, role, off, rec, done, due in hops:
                c.execute(sa.insert(RequestStep.__table__).values(
                    request_id=1, cycle=1, stage=stage, step_code=codes[stage], holder_role=role, received_at=rec,
                    due_at=due, done_at=done, done_by_official_id=off, outcome="x"))
        upgrade(f"sqlite+aiosqlite:///{path}")
        with engine.connect() as c:
            got = c.execute(sa.select(RequestStep.__table__.c.work_seconds, RequestStep.__table__.c.step_seconds)
                            .order_by(RequestStep.__table__.c.id)).all()
            total = c.execute(sa.select(Request.__table__.c.work_seconds)).scalar()
            days = {(r.day, r.kind, r.key): (r.n, r.on_time, r.worst)
                    for r in c.execute(sa.select(OversightDay.__table__)).all()}
    finally:
        engine.dispose()
    h = 3600
    assert [tuple(r) for r in got] == [(h, h), (h, h), (h // 2, None), (h, 3 * h // 2), (h, h), (7 * h // 2, 7 * h // 2),
                                       (h // 2, h // 2), (h, h)]
    assert total == 9.5 * h  # the sum of the hops
    mon, tue = date(2026, 11, 30), date(2026, 12, 1)
    assert days[(mon, "passage", "A3")] == (1, 1, 5400) and days[(tue, "passage", "A5")] == (1, 1, 12600)
    assert days[(mon, "hop", "1:head")] == (1, 1, h) and days[(tue, "hop", "1:head")] == (1, 1, h)
    assert days[(mon, "passage", "A1")] == (1, 1, h) and days[(tue, "hop", "4:executor")] == (2, 2, 12600)
    assert days[(mon, "missing", "contact_phone")] == (1, 0, 0)  # from the audit log's returns
    assert len(days) == 7 + 6 + 1  # seven passages; six official-days; one missing item


def test_0010_gives_existing_requests_the_sop_they_ran_under(tmp_path: Path) -> None:
    """Requests recorded before SOP versions existed get SOP 038 as the code then held it (the
    frozen copy), stored in sop_version; today that is the shipped Bogor file's version, so a Bogor
    office upgrading sees one version (a revision of sop/kota-bogor-038.yaml will be a new one)."""
    from datetime import date, datetime

    from zoneinfo import ZoneInfo

    from storage.models import Agency, Request
    from tests.sopfiles import bogor
    from workflow.sopdoc import from_json

    w = ZoneInfo("Asia/Jakarta")
    path = tmp_path / "v.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0009")
    engine = sa.create_engine(f"sqlite:///{path}")
    at = datetime(2026, 11, 30, 9, tzinfo=w)
    req = sa.table("request", *(sa.column(c.name) for c in Request.__table__.columns if c.name != "sop_version"))
    try:
        with engine.begin() as c:
            c.execute(sa.insert(Agency.__table__).values(id=1, code="dinkes", name="Dinas Kesehatan",
                                                         short_name="Dinkes", kind="dinas", active=True))
            c.execute(sa.insert(req).values(
                id=1, number="SPLP-2026-000001", requester_id=5001, agency_id=1, letter_number="1/2026",
                letter_date=date(2026, 11, 27), subject="s", contact_name="n", contact_email="e@x.go.id",
                contact_phone="+6281234567890", app_name="a", business_process="b", scan="{}", stage="team_assign",
                version=3, cycle=1, created_at=at, submitted_at=at, updated_at=at))
        upgrade(f"sqlite+aiosqlite:///{path}")
        with engine.connect() as c:
            got = c.execute(sa.text("SELECT sop_version FROM request")).scalar()
            row = c.execute(sa.text("SELECT version, number, revision, document FROM sop_version")).one()
    finally:
        engine.dispose()
    assert got == row.version == bogor().version and (row.number, row.revision) == ("038", 0)
    stored = from_json(row.document, "db")
    assert stored.version == got and stored.chain == ("head_review", "division_review", "team_assign")


def test_a_new_database_has_no_sop_version_until_the_bot_starts(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM sop_version")).scalar() == 0
    finally:
        engine.dispose()


def test_partial_indexes_carry_their_condition_on_both_databases() -> None:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex

    from storage.models import describe_partial_indexes

    describe_partial_indexes("postgresql")
    describe_partial_indexes("sqlite")
    partial = [i for t in Base.metadata.tables.values() for i in t.indexes if "where" in i.info]
    assert len(partial) >= 18
    for index in partial:
        for dialect in (postgresql.dialect(), sqlite.dialect()):
            ddl = " ".join(str(CreateIndex(index).compile(dialect=dialect)).split())
            assert ddl.endswith(f"WHERE {index.info['where']}"), (dialect.name, ddl)


def test_the_embedded_default_does_not_load_the_postgresql_dialect(tmp_path: Path) -> None:
    """2 MB of SQLAlchemy's PostgreSQL support stay out of a bot that runs on SQLite."""
    code = ("import sys, asyncio, main, bot.app, handlers\n"
            "from storage.db import Database, upsert\n"
            "upsert('sqlite')\n"
            f"db = Database('sqlite+aiosqlite:///{tmp_path}/x.db')\n"
            "async def go():\n"
            "    async with db.transaction() as s:\n"
            "        pass\n"
            "    await db.dispose()\n"
            "asyncio.run(go())\n"
            "assert 'sqlalchemy.dialects.postgresql' not in sys.modules, 'loaded'\n")
    in_fresh_process(code)


def test_a_postgresql_bot_does_not_load_sqlite() -> None:
    """sqlite3, aiosqlite and SQLAlchemy's SQLite dialect (1.5-2.5 MB resident) stay out of a bot
    that runs on PostgreSQL (the engine is made, not connected: no server needed)."""
    code = ("import sys, main, bot.app, handlers\n"
            "from storage.db import Database, upsert\n"
            "upsert('postgresql')\n"
            "db = Database('postgresql+asyncpg://nobody@127.0.0.1:1/none')\n"
            "loaded = [m for m in ('sqlite3', 'aiosqlite', 'sqlalchemy.dialects.sqlite') if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    in_fresh_process(code)
