"""One reminder sweep over 100,000 open requests: time, and rows read (due rows only).

    .venv/bin/python bench/reminder_sweep.py [--requests 100000] [--due 50] [--db sqlite|postgres]
                                             [--repeat 5] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bench.pgdb import scratch_database  # noqa: E402
from bot.app import build_calendar  # noqa: E402
from bot.callbacks import CallbackCodec  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.env import Env  # noqa: E402
from bot.outbox import OutboxWriter  # noqa: E402
from bot.services.reminders import Reminders  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.updates import Scope  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.models import Official, OfficialRole, Reminder, Request, RequestStep  # noqa: E402
from storage.repo import seed_agencies_if_empty  # noqa: E402


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=50)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--repeat", type=int, default=5, help="sweeps of the same due rows (the median is shown)")
    ap.add_argument("--profile", action="store_true", help="cProfile the last sweep")
    args = ap.parse_args()
    async with contextlib.AsyncExitStack() as stack:
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/sweep.db"
        else:
            url = await stack.enter_async_context(scratch_database("splp_sweep"))
        await sweep_once(args, url)


async def sweep_once(args: argparse.Namespace, url: str) -> None:
    upgrade(url)
    db = Database(url)
    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday 13:00 WIB
    t0 = time.perf_counter()
    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
        s.add(Official(id=1, telegram_id=1001, name="Kepala", active=True, created_at=now))
        await s.flush()
        s.add(OfficialRole(official_id=1, role="head"))
    n, chunk = args.requests, 5000
    for start in range(0, n, chunk):
        ids = range(start + 1, min(n, start + chunk) + 1)
        async with db.transaction() as s:
            await s.execute(insert(Request), [dict(
                id=i, number=f"SPLP-2026-{i:06d}", requester_id=10_000_000 + i, agency_id=1,
                letter_number="1/2026", letter_date=date(2026, 11, 27), subject="Permohonan", contact_name="A B",
                contact_email="a@b.go.id", contact_phone="+6281234567890", app_name="App",
                business_process="x" * 40, scan={"kind": "pdf", "file_id": "f"}, stage="head_review", version=1,
                cycle=1, holder_role="head", created_at=now, submitted_at=now, updated_at=now) for i in ids])
            await s.execute(insert(RequestStep), [dict(
                id=i, request_id=i, cycle=1, stage="head_review", step_code="A2", holder_role="head",
                received_at=now, due_at=now + timedelta(days=1)) for i in ids])
            # three reminders per step; only the first `due` requests have one due now
            await s.execute(insert(Reminder), [dict(
                request_id=i, step_id=i, kind=k, share=sh, day=0,
                due_at=(now - timedelta(minutes=5)) if (i <= args.due and k == "share" and sh == 0.5)
                else now + timedelta(hours=h), sent_at=None)
                for i in ids for k, sh, h in (("share", 0.5, 3), ("share", 0.9, 6), ("breach", None, 24))])
    load = time.perf_counter() - t0
    async with db.sessions() as s:
        total = await s.scalar(text("SELECT count(*) FROM reminder"))
        sql = ("SELECT * FROM reminder WHERE sent_at IS NULL AND due_at <= :now "
               "ORDER BY due_at, id LIMIT 100")
        if args.db == "postgres":
            raw = await s.execute(text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql), {"now": now})
            plan = raw.scalar()
            plan = plan if isinstance(plan, list) else json.loads(plan)

            def scans(node: dict) -> list[tuple[str, int]]:
                out = []
                if "Scan" in node["Node Type"]:
                    out.append((f"{node['Node Type']} on {node.get('Index Name', node.get('Relation Name'))}",
                                node["Actual Rows"]))
                for c in node.get("Plans", []):
                    out += scans(c)
                return out
            rows_read = scans(plan[0]["Plan"])
        else:
            raw = await s.execute(text("EXPLAIN QUERY PLAN " + sql), {"now": now.replace(tzinfo=None).isoformat(" ")})
            plan_txt = " | ".join(r[3] for r in raw.all())
            # SQLite has no row counters: count what the index range yields.
            due_rows = await s.scalar(text("SELECT count(*) FROM reminder WHERE sent_at IS NULL AND due_at <= :now"),
                                      {"now": now.replace(tzinfo=None).isoformat(" ")})
            rows_read = [(plan_txt, due_rows)]
    settings = Settings(bot_token="1:x", database_url=url)
    from workflow.sopdoc import DEFAULT_SOP, load as load_sop

    sop = load_sop(DEFAULT_SOP)
    env = Env(settings, CallbackCodec("x"), Clock(), build_calendar(settings, sop, date(2026, 11, 30)), sop)
    times = []
    for i in range(args.repeat):
        if i:  # the same due rows again: undo what the sweep did
            async with db.transaction() as s:
                await s.execute(text("UPDATE reminder SET sent_at = NULL, outcome = NULL WHERE sent_at IS NOT NULL"))
                await s.execute(text("DELETE FROM reminder WHERE kind = 'overdue'"))
                await s.execute(text("DELETE FROM outbox"))
                await s.execute(text("DELETE FROM audit_log"))
        prof = cProfile.Profile() if args.profile and i == args.repeat - 1 else None
        t1 = time.perf_counter()
        if prof:
            prof.enable()
        async with db.transaction() as s:
            scope = Scope(s, now, OutboxWriter(s, now), None)  # type: ignore[arg-type]
            handled = await Reminders(scope, env).sweep()
            await scope.flush()
        if prof:
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        times.append((time.perf_counter() - t1) * 1000)
    sweep_ms = statistics.median(times)
    print(f"database: {args.db}; {n} open requests, {total} reminder rows, {args.due} due; load {load:.1f}s")
    print(f"one sweep: {handled} reminders handled (and sent to the outbox) in {sweep_ms:.1f} ms "
          f"(median of {len(times)}; min {min(times):.1f} ms)")
    for what, rows in rows_read:
        print(f"  rows read by the due-reminder query: {rows}  [{what}]")
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
