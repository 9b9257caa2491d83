"""A throw-away PostgreSQL database for a benchmark run (TEST_PG_URL or the local 'test' server)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """Create ``<prefix>_<pid>``, yield its SQLAlchemy URL, drop it afterwards."""
    import asyncpg

    admin = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"{prefix}_{os.getpid()}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await run(f'DROP DATABASE IF EXISTS "{name}"')
    await run(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    finally:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
