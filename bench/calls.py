"""Python function calls per update: a measure of the bot's own work that holds when the machine's
speed does not (on the shared development VM the rates and even the CPU per update of bench/run.py
moved by ±30 % within minutes, the calls by about ±3 %).

    .venv/bin/python bench/calls.py [--users 30] [--top 0] [--together] [--sql]

The real bot runs in this process (the tests' harness, SQLite) against the Bot API emulator, and
cProfile counts every call while simulated users answer the request form's first questions, tap
the status button and, as the Head, dispose of requests (two taps each). The emulator's own work is
in the count too (the same for any version of the bot), so compare versions, not absolute figures.
The SQL statements per update are counted too (``--sql`` lists them, how many of each per update).
The users act one after another (each update alone), or with ``--together`` all at once, each
user's next step once the previous one is answered, as in bench/run.py (updates handled in groups).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from sandbox.telegram import TelegramEmulator  # noqa: E402
from storage.db import upgrade  # noqa: E402
from tests.e2e.flows import pick  # noqa: E402
from tests.e2e.harness import HEAD, Harness  # noqa: E402

FORM = [("/ajukan", "Perangkat Daerah"), ("dinkes", "nomor surat"), ("000.1/123-Dinkes/2026", "tanggal surat"),
        ("27-11-2026", "perihal")]


class Statements:
    """SQL statements sent to the database (BEGIN and COMMIT not counted), and their texts."""

    def __init__(self, h: Harness) -> None:
        self.texts: list[str] = []
        event.listen(h.db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self.texts.append(statement)


async def counted(label: str, n: int, work: Callable[[], Awaitable[None]], h: Harness, top: int,
                  sql: Statements, show_sql: bool) -> None:
    profile = cProfile.Profile()
    start = len(sql.texts)
    profile.enable()
    await work()
    await h.settle()
    profile.disable()
    stats = pstats.Stats(profile)
    texts = sql.texts[start:]
    print(f"{label:28}{stats.total_calls / n:8.0f} calls,{len(texts) / n:6.1f} SQL statements per update "
          f"({n} updates)")
    if show_sql:
        for text, count in Counter(" ".join(t.split())[:160] for t in texts).most_common():
            print(f"  {count / n:5.2f}  {text}")
    if top:
        stats.sort_stats("tottime").print_stats(top)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=30)
    ap.add_argument("--top", type=int, default=0, help="also print the functions with the most own time")
    ap.add_argument("--together", action="store_true", help="the users at once, not one after another")
    ap.add_argument("--sql", action="store_true", help="also list the statements, how many per update")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="splp-calls-"))
    url = f"sqlite+aiosqlite:///{tmp}/calls.db"
    upgrade(url)
    emu = TelegramEmulator()
    await emu.start()
    h = Harness(emu, url)
    try:
        await h.start()
        await h.cast()
        sql = Statements(h)
        users = list(range(700_000, 700_000 + args.users + 1))
        for u in users:
            emu.add_user(u, "Pemohon", started=True)

        async def form(u: int) -> None:
            for text, expect in FORM:
                await h.say(u, text, expect=expect)

        await form(users[0])  # warm: first imports, compiled statements

        async def each(work: Callable[[Any], Awaitable[None]], items: list[Any]) -> None:
            if args.together:
                await asyncio.gather(*(work(x) for x in items))
            else:
                for x in items:
                    await work(x)

        async def forms() -> None:
            await each(form, users[1:])

        await counted("form answers", len(FORM) * args.users, forms, h, args.top, sql, args.sql)

        menus = {}
        for u in users:
            await h.say(u, "/start")
            menus[u] = emu.last_bot_message(u)

        async def status(u: int) -> None:
            m = menus[u]
            before = len(emu.bot_messages(u))
            await h.tap_data(u, m, next(b["callback_data"] for b in m.buttons if "Status" in b["text"]))
            await emu.wait_for(lambda: len(emu.bot_messages(u)) > before, timeout=10)

        await status(users[0])

        async def taps() -> None:
            await each(status, users[1:])

        await counted("status taps", args.users, taps, h, args.top, sql, args.sql)

        for u in range(800_000, 800_000 + max(2, args.users // 4) + 1):  # requests for the Head (not counted)
            emu.add_user(u, "Pemohon", started=True)
            await h.submit(u)
        await h.settle()
        cards = [m for m in emu.bot_messages(HEAD) if "Disposisikan kepada" in (m.text or "")]

        async def dispose(m) -> None:  # type: ignore[no-untyped-def]
            m = await pick(h, HEAD, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
            ans = await h.tap(HEAD, m, text=h.button(m, "Kirim tanpa catatan"))
            assert ans["text"] == "Disposisi terkirim.", ans

        await dispose(cards[0])
        await h.settle()

        async def dispositions() -> None:
            await each(dispose, cards[1:])  # one Head's: handled in order, in groups with nothing else

        await counted("disposition taps", 2 * (len(cards) - 1), dispositions, h, args.top, sql, args.sql)
    finally:
        await h.close()
        await emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
