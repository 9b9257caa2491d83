"""Test databases: a migrated SQLite template file and a migrated PostgreSQL template database,
copied for every test. PostgreSQL tests skip outside CI when no server answers; under CI=true
they must run (a missing server fails them)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import holidays  # noqa: F401 - loaded here, the bot computes national holidays in this process, not a child's
import pytest

from storage.db import upgrade

PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_dsn(db: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{db}"


async def _pg_exec(sql: str, db: str | None = None) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(db) if db else PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _sync(sql: str) -> None:
    """Run one statement from synchronous code, also while an event loop is running."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, _pg_exec(sql)).result()


def _pg_available() -> str | None:
    try:
        _sync("SELECT 1")
        return None
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


_PG_TEMPLATE = f"splp_tpl_{os.getpid()}"


@pytest.fixture(scope="session")
def pg_template() -> str:
    err = _pg_available()
    if err is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but is not reachable: {err}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({err}); set TEST_PG_URL or start it")
    _sync(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}"')
    _sync(f'CREATE DATABASE "{_PG_TEMPLATE}"')
    upgrade(_pg_dsn(_PG_TEMPLATE))
    yield _PG_TEMPLATE
    _sync(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        request.node.add_marker(pytest.mark.postgres)
    return request.param


@pytest.fixture
async def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        tpl: Path = request.getfixturevalue("sqlite_template")
        dst = tmp_path / "splp.db"
        shutil.copy(tpl, dst)
        yield f"sqlite+aiosqlite:///{dst}"
        return
    tpl_name: str = request.getfixturevalue("pg_template")
    name = f"splp_t_{uuid.uuid4().hex[:12]}"
    await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{tpl_name}"')
    yield _pg_dsn(name).replace("postgresql://", "postgresql+asyncpg://")
    await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sandbox(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The sandbox (sandbox/run.py) on a free port, its clock starting on Monday 30 November 2026
    09:00 WIB, sending without Telegram's pacing (tests/browser, tests/sandbox)."""
    from sandbox.run import Sandbox
    from tests.e2e.harness import MONDAY_9

    sb = Sandbox(tmp_path / "sandbox", port=0, start_at=MONDAY_9, settings=SANDBOX_TEST_SETTINGS)
    await sb.start()
    try:
        yield sb
    finally:
        emu = sb.emu
        await sb.stop()
    if emu is not None:
        from tests.e2e.harness import fail_on_refusals
        fail_on_refusals(emu, request)


SANDBOX_TEST_SETTINGS = {"env_file": None, "per_chat_per_second": 0, "rate_limit_per_second": 1000}
