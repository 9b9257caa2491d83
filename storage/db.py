"""Engine and transactions for SQLite (embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def upsert(dialect: str):  # type: ignore[no-untyped-def]
    """INSERT with ON CONFLICT for the dialect in use (``dialect``: "postgresql" or "sqlite")."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # not loading the PostgreSQL dialect in a process on SQLite
        from sqlalchemy.dialects.sqlite import insert
    return insert


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``sqlite:///`` URLs and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://"):]
    return url


def sqlite_path(url: str) -> Path | None:
    if not is_sqlite(url):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


SQLITE_BUSY_MS = 1000
SQLITE_CACHE_KB = 512  # per connection


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    url = normalise_url(url)
    kw.setdefault("hide_parameters", True)  # errors must not quote personal data
    if is_sqlite(url):
        import sqlite3

        from storage.models import describe_partial_indexes
        from storage.sqlite_inline import InlineSQLiteConnection

        describe_partial_indexes("sqlite")
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path) if path is not None else ":memory:"

        def connector() -> sqlite3.Connection:
            return sqlite3.connect(target, timeout=SQLITE_BUSY_MS / 1000, isolation_level=None,
                                   check_same_thread=False)

        # Few connections, each with a small page cache: SQLite runs on the event loop's thread (one
        # statement at a time) and the operating system caches the file; every connection's own cache
        # (2 MB by default, up to 15 connections) would otherwise be resident memory.
        kw.setdefault("pool_size", 4)
        kw.setdefault("max_overflow", 4)
        engine = create_async_engine(url, async_creator=lambda: InlineSQLiteConnection(connector, 64), **kw)
        _sqlite_setup(engine)
        # Several rows of one table in one INSERT ... RETURNING, not one INSERT a row. SQLAlchemy
        # needs the new ids matched to their rows; SQLite returns them in no promised order, so by
        # default SQLAlchemy inserts row by row. Every table here has an INTEGER PRIMARY KEY (the
        # rowid), which SQLite assigns ascending in the order of the VALUES rows (each new rowid is
        # one more than the largest; tests/unit/test_db_batch_insert.py checks the matching):
        # with the id as the "sentinel" SQLAlchemy sorts what comes back by it. A transition that
        # writes four outbox rows and three reminders goes from seven statements to two.
        from sqlalchemy.sql.compiler import InsertmanyvaluesSentinelOpts

        engine.sync_engine.dialect.insertmanyvalues_implicit_sentinel = InsertmanyvaluesSentinelOpts.AUTOINCREMENT
        return engine
    from storage.models import describe_partial_indexes

    describe_partial_indexes("postgresql")
    # Each connection holds its prepared statements (asyncpg caches them) in this process's memory:
    # a handful serve the update handlers, the sender and the sweep of one instance.
    kw.setdefault("pool_size", 6)
    kw.setdefault("max_overflow", 4)
    # No ping before each checkout: it is a round trip per transaction (bench: 0.7-1 ms of CPU and
    # more of latency a form answer). A connection the server has closed (restart, failover, idle
    # timeout) fails its transaction instead; SQLAlchemy then renews every pooled connection, and
    # what failed is retried (the update processor, the sender's recorder and claims; jobs on their
    # next run). tests/e2e/test_resilience.py cuts the connections mid-conversation.
    return create_async_engine(url, **kw)


def _sqlite_setup(engine: AsyncEngine) -> None:
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (so we can make it IMMEDIATE).
        if dbapi_conn.isolation_level is not None:
            dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
        cur.close()

    @event.listens_for(sync, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: two writers never deadlock on a lock upgrade.
        # Readers (Database.sessions) begin deferred and never wait for writers (WAL).
        conn.connection.driver_connection.begin(
            "BEGIN" if conn.get_execution_options().get("splp_read") else "BEGIN IMMEDIATE")


_AT_COMMIT = "splp_at_commit"


def commit_with(session: AsyncSession, pending: list[Any], make: Callable[[Any], Any] | None = None) -> None:
    """What is left in ``pending`` when ``session`` commits (items its owner did not write itself:
    outbox rows, audit rows) is committed with the transaction, by the unit of work (``make`` turns
    an item into an ORM object). The owner adds to and empties the list in place. The session holds
    the list, not its owner: a listener on the session (as it was) held the owner, which holds the
    session, so every update's session, scope, Update and rows became a reference cycle that only
    the collector's full passes freed (bench: 20-100 ms each, every few seconds under load: the tap
    latency's tail); now they go when the update is done."""
    session.sync_session.info.setdefault(_AT_COMMIT, []).append((pending, make))


@contextmanager
def taking(pending: list[Any]) -> Iterator[list[Any]]:
    """The items of a ``commit_with`` list, taken out of it (in place) for their owner to write
    now; put back if the write fails, so that they are still committed with the transaction, or
    rolled back with it."""
    items = pending[:]
    pending.clear()
    try:
        yield items
    except BaseException:
        pending[:0] = items
        raise


@event.listens_for(Session, "before_commit")
def _at_commit(session: Session) -> None:
    for pending, make in session.info.get(_AT_COMMIT, ()):
        if pending:
            with taking(pending) as items:
                session.add_all(items if make is None else [make(i) for i in items])


class Database:
    """Owns the engine and hands out transactions."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kw)
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Read-only sessions (no write lock taken on SQLite).
        self.sessions = async_sessionmaker(self.engine.execution_options(splp_read=True),
                                           expire_on_commit=False, autoflush=False)
        self.dialect = "sqlite" if is_sqlite(self.url) else "postgresql"
        # SQLite has one writer at a time; serialising in-process avoids busy-waiting in threads.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self._write_lock or nullcontext(), self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection inside one write transaction, no ORM session (the sender's recorder,
        which runs for every delivery, only executes statements)."""
        async with self._write_lock or nullcontext(), self.engine.begin() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def migrations_dir() -> str:
    return os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir())
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations (synchronous; runs its own event loop in env.py)."""
    from alembic import command

    if path := sqlite_path(normalise_url(url)):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(url), revision)
        return
    # env.py runs its own event loop: give it a thread of its own.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(command.upgrade, alembic_config(url), revision).result()


_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([\w]+)?['\"]?", re.M)


def head_revision() -> str:
    """The newest migration, read from the migration files without loading Alembic (which a
    running bot would otherwise carry in memory only to learn that nothing is to be done)."""
    revs: dict[str, str | None] = {}
    for path in Path(migrations_dir(), "versions").glob("*.py"):
        found = dict(m.groups() for m in _REVISION.finditer(path.read_text(encoding="utf-8")))
        if found.get("revision"):
            revs[found["revision"]] = found.get("down_revision")
    heads = set(revs) - {d for d in revs.values() if d}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


async def current_revision(db: Database) -> str | None:
    """The migration the database is at (None: not migrated yet)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        async with db.sessions() as s:
            return await s.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:
        return None


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)
