"""/rekap over a year of 100,000 requests: the figures, the summary with its chart, the PDF with
charts; the query plans; and the running bot's memory while it produces them.

    .venv/bin/python bench/rekap.py [--requests 100000] [--db sqlite|postgres] [--no-bot]

1. Seeds a scratch database with ``--requests`` requests spread over the last 365 days (each
   with its hops, working and passage times, deadlines, audit rows and escalations; some returned,
   withdrawn or still open; a third with procedure B's three steps).
2. In this process: the year's figures (SQL), the chat summary with its chart, and the PDF with
   its three charts, each timed (first run, then the best of three), and the plan of every query
   the figures run (EXPLAIN), to show each reads through an index.
3. The real bot in its own process (``main.py run`` against the Bot API emulator): its resident
   memory when idle, then the Head asks ``/rekap`` for the year and the PDF; the peak resident
   memory while it produces them (sampled every 10 ms) against the idle size, and the time from
   the tap to the delivered photo and document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402

from bench.pgdb import scratch_database  # noqa: E402
from bot.app import build_calendar  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import Database, upgrade  # noqa: E402
from storage.figures import add_tallies, load_figures  # noqa: E402
from storage.models import (  # noqa: E402
    Application,
    AppStep,
    AuditLog,
    Counter,
    Official,
    OfficialRole,
    Request,
    RequestStep,
)
from storage.repo import seed_agencies_if_empty  # noqa: E402
from workflow.monev import build_report  # noqa: E402
from workflow.oversight import Period, Tally, hop_tally, missing_tallies, passage_tally  # noqa: E402
from workflow.sopdoc import DEFAULT_SOP, load  # noqa: E402

SOP = load(DEFAULT_SOP)  # the figures of SOP 038's steps
STEPS = SOP.steps

HEAD_TG = 1001
OFFICIALS = ((1, HEAD_TG, "Kepala", "head"), (2, 1002, "Kabid", "division_head"), (3, 1003, "Ketua Tim", "team_lead"),
             (4, 1004, "Pelaksana", "executor"), (5, 1005, "Pelaksana Dua", "executor"))
DAY = 7.5 * 3600
# stage, step, holder role, official ids, limit (working days)
CHAIN = (("head_review", "A2", "head", (1,), 1), ("division_review", "A3", "division_head", (2,), 1),
         ("team_assign", "A3", "team_lead", (3,), 1), ("completeness", "A4", "executor", (4, 5), 1))
AFTER = (("registration", "A5", "executor", (4, 5), 2), ("report", "A6", "executor", (4, 5), 1),
         ("forward", "A7", "head", (1,), 1))


def _rows(i: int, rng: random.Random, today: date) -> tuple[dict, list[dict], list[dict], bool]:
    """One request over the last year: its row, hops, audit rows; whether it finished."""
    day = today - timedelta(days=rng.randint(2, 365))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    submitted = datetime(day.year, day.month, day.day, rng.randint(1, 8), rng.randint(0, 59), tzinfo=UTC)
    drafted = submitted - timedelta(minutes=rng.randint(5, 400))
    hops: list[dict] = []
    audit: list[dict] = [dict(at=submitted, actor_telegram_id=10_000_000 + i, request_id=i, action="submit",
                              to_state="head_review")]
    letter = int((submitted - drafted).total_seconds())
    hops.append(dict(request_id=i, cycle=1, stage="returned", step_code="A1", holder_role="requester",
                     received_at=drafted, done_at=submitted, work_seconds=letter, step_seconds=letter,
                     outcome="submitted"))
    t, cycle = submitted, 1
    plan = list(CHAIN)
    if rng.random() < 0.1:  # returned once, corrected
        plan += [("returned", "A1", "requester", (), 0)] + list(CHAIN)
    plan += list(AFTER)
    stop = len(plan) if rng.random() > 0.03 else rng.randrange(len(plan))  # 3 %: still open
    passage, due, prev_step = 0, None, None
    for k, (stage, step, role, who, limit) in enumerate(plan):
        if step != prev_step or stage == "head_review":
            due = t + timedelta(days=limit * 1.4) if limit else None
            passage = 0
        prev_step = step
        work = int(rng.expovariate(1 / (0.35 * DAY * max(limit, 1)))) + 60
        done = t + timedelta(seconds=work * 3.2)
        official = rng.choice(who) if who else None
        row = dict(request_id=i, cycle=cycle, stage=stage, step_code=step, holder_role=role,
                   holder_official_id=official if role in ("executor",) else None, received_at=t, due_at=due)
        if k == stop:
            hops.append(row)
            return dict(stage=stage, closed_at=None, work_seconds=None), hops, audit, False
        passage += work
        nxt = plan[k + 1][1] if k + 1 < len(plan) else None
        ends = nxt != step
        outcome = "forward" if nxt is None else "return" if stage == "completeness" and nxt == "A1" else "move"
        row.update(done_at=done, done_by_official_id=official, work_seconds=work,
                   step_seconds=passage if ends else None, outcome=outcome)
        hops.append(row)
        audit.append(dict(at=done, actor_official_id=official, request_id=i, action="dispose" if step in ("A2", "A3")
                          else "return" if stage == "completeness" and nxt == "A1" else "move", from_state=stage,
                          to_state=plan[k + 1][0] if nxt else "done",
                          detail={"missing": ["contact_phone"]} if nxt == "A1" else None))
        if due is not None and done > due and role != "head":
            audit.append(dict(at=due, request_id=i, action="escalated", from_state=stage, to_state=stage,
                              detail={"to_role": "head", "day": 0}))
        if stage == "returned":
            cycle += 1
        t = done
    return dict(stage="done", closed_at=t, work_seconds=sum(h["work_seconds"] for h in hops)), hops, audit, True


def _tallies(hops: list[dict], cal) -> list[Tally]:  # type: ignore[no-untyped-def]
    out = []
    for h in hops:
        if h.get("done_at") is None:
            continue
        if h.get("done_by_official_id") is not None:
            out.append(hop_tally(h["done_by_official_id"], h["holder_role"], h["done_at"], h["due_at"],
                                 h["work_seconds"], cal))
        if h.get("step_seconds") is not None:
            out.append(passage_tally(STEPS[h["step_code"]], h["done_at"], h.get("due_at"), h["step_seconds"],
                                     h.get("outcome"), cal))
    return out


async def seed(db: Database, n: int, today: date) -> float:
    t0 = time.perf_counter()
    rng = random.Random(38)
    cal = build_calendar(Settings(), SOP, today)
    now = datetime.now(UTC)
    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
        for oid, tg, name, role in OFFICIALS:
            s.add(Official(id=oid, telegram_id=tg, name=name, active=True, created_at=now))
            await s.flush()
            s.add(OfficialRole(official_id=oid, role=role))
        s.add(Counter(name=f"request:{today.year}", value=n))
    chunk = 2000
    for start in range(1, n + 1, chunk):
        reqs, steps, audit, apps, app_steps, tallies = [], [], [], [], [], []
        for i in range(start, min(n, start + chunk - 1) + 1):
            r, h, a, done = _rows(i, rng, today)
            reqs.append(dict(
                id=i, number=f"SPLP-B-{i:07d}", requester_id=10_000_000 + i, agency_id=1 + i % 36,
                letter_number="1/2026", letter_date=today, subject="Permohonan", contact_name="A B",
                contact_email="a@b.go.id", contact_phone="+6281234567890", app_name="App", business_process="x" * 40,
                scan={"kind": "pdf", "file_id": "f"}, version=len(h), cycle=h[-1]["cycle"], holder_role=None,
                created_at=h[0]["received_at"], submitted_at=h[0]["done_at"], updated_at=h[-1]["received_at"], **r))
            steps += h
            audit += a
            tallies += _tallies(h, cal)
            tallies += [t for x in a if x["action"] == "return" for t in missing_tallies(["contact_phone"], x["at"], cal)]
            if done and i % 3 == 0:
                apps.append(dict(id=i, request_id=i, owner_telegram_id=20_000_000 + i, data={"name": f"app{i}"},
                                 mode="manual", status="done", created_at=r["closed_at"], updated_at=r["closed_at"]))
                t = r["closed_at"] + timedelta(days=1)
                for code in ("B1", "B2", "B3"):
                    took = rng.randint(60, 1200)
                    app_steps.append(dict(application_id=i, step_code=code, started_at=t,
                                          due_at=t + timedelta(minutes=10), done_at=t + timedelta(seconds=took),
                                          seconds=took))
                    tallies.append(passage_tally(STEPS[code], t + timedelta(seconds=took), t + timedelta(minutes=10),
                                                 took, None, cal))
                    t += timedelta(seconds=took)
        async with db.transaction() as s:
            for model, rows in ((Request, reqs), (RequestStep, steps), (AuditLog, audit), (Application, apps),
                                (AppStep, app_steps)):
                if rows:
                    await s.execute(insert(model), rows)
            await add_tallies(s, tallies)
    if db.dialect == "postgresql":  # what autovacuum does on a live database: statistics, visibility map
        async with db.engine.connect() as c:
            c = await c.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("request", "request_step", "audit_log", "app_step", "oversight_day"):
                await c.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - t0


async def in_process(db: Database, url: str, period: Period, today: date) -> dict[str, object]:
    from bot.charts import render_charts, render_dashboard
    from bot.monev_pdf import Signatory, render_monev
    from bot.monev_text import summary_html

    settings = Settings(bot_token="1:x", database_url=url)
    cal = build_calendar(settings, SOP, today)
    tz = settings.tz
    cutoff = datetime.now(UTC)

    async def figures():  # type: ignore[no-untyped-def]
        async with db.sessions() as s:
            fig = await load_figures(s, SOP, period, cutoff=cutoff, cal=cal)
        return build_report(SOP, fig, period, cutoff=cutoff, generated_at=cutoff, cal=cal, threshold=0.8)

    async def summary() -> None:
        summary_html(await figures(), tz)

    async def chart() -> None:
        r = await figures()
        summary_html(r, tz)
        render_dashboard(r)

    async def pdf() -> None:
        r = await figures()
        render_monev(r, render_charts(r), Signatory("Penilai,", "Kepala", SOP.role_title("head")), tz)

    out: dict[str, object] = {}
    for name, fn in (("figures (SQL) + model", figures), ("summary text", summary), ("summary + chart", chart),
                     ("PDF with charts", pdf)):
        runs = []
        for _ in range(4):
            t0 = time.perf_counter()
            await fn()
            runs.append(time.perf_counter() - t0)
        out[name] = (runs[0], min(runs[1:]))
    r = await figures()
    out["report"] = r
    # The plan of every statement the figures run.
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        captured.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    await figures()
    event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with db.engine.connect() as c:
        for statement, params in captured:
            prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
            rows = (await c.exec_driver_sql(prefix + statement, params)).all()  # type: ignore[arg-type]
            lines = [r[-1] for r in rows] if db.dialect == "sqlite" else [r[0] for r in rows]
            plans.append((" ".join(statement.split())[:90], [ln for ln in lines
                                                               if "SCAN" in ln.upper() or "SEARCH" in ln.upper()]))
    out["plans"] = plans
    return out


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def with_bot(url: str, period: Period, tmp: Path) -> dict[str, object]:
    from sandbox.telegram import TelegramEmulator

    emu = TelegramEmulator()
    await emu.start()
    env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.api_url, "DATABASE_URL": url, "INSTANCE_ID": "bench",
           "PER_CHAT_PER_SECOND": "0", "RATE_LIMIT_PER_SECOND": "100000", "LOG_LEVEL": "WARNING",
           "POLL_TIMEOUT": "10", "DATA_DIR": str(tmp), "SECRETS_KEY": ""}
    emu.add_user(HEAD_TG, "Kepala", started=True)
    p = subprocess.Popen([sys.executable, "main.py", "run"], cwd=ROOT, env={**os.environ, **env},
                         stdout=subprocess.DEVNULL, stderr=open(tmp / "bot.log", "wb"))
    samples: list[int] = []
    sampling = True

    async def sample() -> None:
        while sampling:
            samples.append(rss_kb(p.pid))
            await asyncio.sleep(0.01)

    try:
        await emu.wait_for(lambda: emu.calls_of("getUpdates"), timeout=60)
        emu.send_text(HEAD_TG, "/bantuan")  # one ordinary update, then idle
        await emu.wait_bot_message(HEAD_TG, contains="Bantuan", timeout=20)
        await asyncio.sleep(3)
        idle = 0
        for _ in range(10):
            idle = max(idle, rss_kb(p.pid))
            await asyncio.sleep(0.1)
        task = asyncio.create_task(sample())
        times = []
        for _ in range(2):  # the first /rekap after the start (matplotlib still being imported), then again
            emu.send_text(HEAD_TG, "/rekap")
            menu = await emu.wait_bot_message(HEAD_TG, contains="Pilih periode", after=emu.last_message_id(),
                                              timeout=20)
            emu.tap(HEAD_TG, menu.message_id, button_text="✍️ Ketik rentang tanggal")
            await emu.wait_bot_message(HEAD_TG, contains="Ketik rentang", after=menu.message_id, timeout=20)
            mark = emu.last_bot_message(HEAD_TG).message_id  # type: ignore[union-attr]
            t0 = time.perf_counter()
            emu.send_text(HEAD_TG, f"{period.start:%d-%m-%Y} s.d. {period.end:%d-%m-%Y}")
            summary = await emu.wait_bot_message(HEAD_TG, contains="Rekapitulasi Pelaksanaan SOP", after=mark,
                                                 timeout=60)
            t_summary = time.perf_counter() - t0
            chart = await emu.wait_bot_message(HEAD_TG, contains="Rekapitulasi SOP —", after=summary.message_id,
                                               timeout=60)
            t_chart = time.perf_counter() - t0
            t0 = time.perf_counter()
            emu.tap(HEAD_TG, chart.message_id, button_text="📄 PDF")
            await emu.wait_bot_message(HEAD_TG, contains="Laporan Monitoring", after=chart.message_id, timeout=60)
            times.append((t_summary, t_chart, time.perf_counter() - t0))
        await asyncio.sleep(0.3)
        sampling = False
        await task
    finally:
        p.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(10)
        if p.poll() is None:
            p.kill()
        await emu.stop()
    return {"idle_mb": idle / 1024, "peak_mb": max(samples) / 1024, "times": times}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--no-bot", action="store_true", help="skip the running bot's memory and end-to-end times")
    ap.add_argument("--url", help="an existing database to measure (seeded by an earlier run; kept)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="splp-rekap-"))
    today = datetime.now(UTC).date()
    period = Period(today - timedelta(days=365), today)
    async with contextlib.AsyncExitStack() as stack:
        if args.url:
            url = args.url
        elif args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/rekap.db"
        else:
            url = await stack.enter_async_context(scratch_database("splp_rekap"))
        upgrade(url)
        db = Database(url)
        async with db.sessions() as s:
            seeded = (await s.execute(text("SELECT count(*) FROM request"))).scalar()
        load = await seed(db, args.requests, today) if not seeded else 0.0
        async with db.sessions() as s:
            counts = {t: (await s.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                      for t in ("request", "request_step", "audit_log", "app_step")}
        print(f"database: {args.db}; {counts['request']} requests, {counts['request_step']} hops, "
              f"{counts['audit_log']} audit rows, {counts['app_step']} procedure-B steps; seeded in {load:.0f} s")
        res = await in_process(db, url, period, today)
        r = res.pop("report")
        plans = res.pop("plans")
        print(f"\n/rekap for {period.start} .. {period.end} (in process; first run, then best of three):")
        for name, (first, best) in res.items():  # type: ignore[misc]
            print(f"  {name:24} {first * 1000:7.0f} ms  {best * 1000:7.0f} ms")
        print(f"  (received {r.received}, finished {r.finished}, A2 passages {r.step('A2').dist.n}, "  # type: ignore[attr-defined]
              f"A2 median {r.step('A2').dist.median:.0f} s)")  # type: ignore[attr-defined]
        print("\nquery plans (scans and searches):")
        for stmt, lines in plans:  # type: ignore[union-attr]
            print(f"  {stmt}")
            for ln in lines:
                print(f"      {ln.strip()}")
        await db.dispose()
        if not args.no_bot:
            b = await with_bot(url, period, tmp)
            print(f"\nthe bot process: idle {b['idle_mb']:.0f} MB, peak while producing the summaries and the PDFs "
                  f"{b['peak_mb']:.0f} MB ({b['peak_mb'] / b['idle_mb']:.2f}x idle)")  # type: ignore[operator]
            for label, (t_sum, t_chart, t_pdf) in zip(("first /rekap", "again"), b["times"]):  # type: ignore[arg-type]
                print(f"  {label:13} typed range -> summary delivered {t_sum * 1000:5.0f} ms, chart "
                      f"{t_chart * 1000:5.0f} ms; PDF tap -> document delivered {t_pdf * 1000:5.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
