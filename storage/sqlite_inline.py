"""SQLite on the event loop's thread: the embedded default's connection (storage/db.py makes it;
imported only where a SQLite engine is made, so a PostgreSQL process does not load sqlite3,
aiosqlite nor SQLAlchemy's SQLite dialect)."""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: runs the work at once."""

    def put_nowait(self, item: tuple[Any, Any]) -> None:
        future, fn = item
        try:
            result = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting caller
            if future is not None and not future.done():
                future.set_exception(e)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineSQLiteConnection(aiosqlite.Connection):
    """aiosqlite's interface, run on the event-loop thread.

    aiosqlite hands every statement to a worker thread and back; under load each
    hand-off waits for the GIL (up to the 5 ms switch interval), which made
    transactions 5-10x slower than the SQLite work itself. SQLite statements on a
    local WAL database take microseconds, so running them inline is faster. The
    one blocking wait, for another *process* holding the write lock, is bounded
    by a short busy timeout and retried asynchronously by the callers.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tx = _InlineQueue()  # type: ignore[assignment]

    async def _connect(self) -> InlineSQLiteConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:
        return self._connect().__await__()

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()

    def begin(self, sql: str) -> None:
        """BEGIN at once, on the sqlite3 connection: through SQLAlchemy's execution (a statement
        object, its events, a cursor) it cost as much as a real statement, on every transaction.
        A failure (the write lock held by another process past the busy timeout) is raised as
        SQLAlchemy's, as through its execution: what retries database errors retries this too."""
        if self._connection is None:
            raise ValueError("Connection closed")
        try:
            self._connection.execute(sql)
        except sqlite3.Error as e:
            from sqlalchemy.exc import DBAPIError

            raise DBAPIError.instance(sql, None, e, sqlite3.Error) from e
