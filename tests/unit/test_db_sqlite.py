"""The embedded SQLite engine (storage/db.py): its BEGIN goes to the sqlite3 connection directly,
and a write lock held elsewhere past the busy timeout is still SQLAlchemy's error, which the
update processor and the sender retry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import storage.db
from storage.db import Database


async def test_a_write_lock_held_by_another_process_is_a_retryable_error(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_MS", 50)
    path = tmp_path / "x.db"
    db = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)  # as another process would hold it
    try:
        async with db.transaction() as s:
            await s.execute(text("CREATE TABLE t (x INTEGER)"))
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            async with db.transaction() as s:
                await s.execute(text("INSERT INTO t VALUES (1)"))
        async with db.sessions() as s:  # readers do not wait for the writer (WAL)
            assert await s.scalar(text("SELECT count(*) FROM t")) == 0
        other.execute("COMMIT")
        async with db.transaction() as s:  # and once it is given back, writing works again
            await s.execute(text("INSERT INTO t VALUES (2)"))
        async with db.sessions() as s:
            assert await s.scalar(text("SELECT x FROM t")) == 2
    finally:
        other.close()
        await db.dispose()
