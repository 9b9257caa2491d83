"""Throughput, tap latency, memory and start-up: splp-bot against a bare PTB echo bot, same
machine, same emulator, same run.

    .venv/bin/python bench/run.py                  # SQLite (embedded default)
    .venv/bin/python bench/run.py --db postgres    # PostgreSQL (TEST_PG_URL or local 'test' server)

Each bot runs in its own process against the in-project Bot API emulator (sandbox/telegram.py)
over HTTP; the emulator and the simulated users run in this process. splp-bot's database holds
``--requests`` (100,000) finished requests besides the bench's own. Figures:
- start-up: from starting the process to its first getUpdates (ready to poll);
- memory: resident set size when idle after start-up, and its peak over the whole run;
- messages/s: user messages in, until every reply is delivered (splp-bot: the request form, each
  answer validated, saved and the next question sent);
- taps/s, status: a menu button that reads the user's requests and sends a message;
- taps/s, dispositions: each user is a Head holding requests; per request «Untuk ditindaklanjuti»
  (the card is edited to the send options) then «Kirim tanpa catatan» (the request moves to the
  Head of E-Government: the step closed and opened, reminders planned, the card edited, the
  scan and the card sent to the next holder, the requester told). Each user's taps go one after
  the other, a tap once the previous one is answered;
- tap latency: taps at a steady 50/s, time from the tap to answerCallbackQuery.
The ratios compare each splp-bot rate with the echo bot's (whose tap is answered and nothing more);
dispositions also with the echo bot playing a disposition's Telegram side with nothing behind it
(bench/echo_bot.py, /card: the same two taps and seven Bot API calls).
A third bot, the durable echo (bench/durable_echo_bot.py), is the echo bot with splp-bot's delivery
guarantees and nothing else (inbox and outbox rows in the same database, SQLAlchemy Core, splp-bot's
HTTP transport): the floor any bot on this stack with those guarantees starts from.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pgdb import scratch_database  # noqa: E402
from sandbox.telegram import TelegramEmulator  # noqa: E402

FORM = ["/ajukan", "dinkes", "000.1/123-Dinkes/2026", "27-11-2026", "Permohonan Pembuatan Akun SPLP",
        "Siti Aminah", "siti.aminah@kotabogor.go.id", "0812-3456-7890", "SIMPUS Kota Bogor",
        "Aplikasi SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data Kota Bogor melalui SPLP."]


# With two or more cores the bots run on the last core and the benchmark (the emulator and the
# simulated users) on the others, so the users' side never takes the bot's CPU (--no-pin: off).
BOT_CPUS: set[int] | None = None


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    pin = (lambda: os.sched_setaffinity(0, BOT_CPUS)) if BOT_CPUS else None
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"), preexec_fn=pin)


class ChatWakes:
    """Per-chat wake-ups from the emulator's change events. ``emu.wait_for`` wakes every waiter on
    every Bot API call: with hundreds of simulated users waiting, the benchmark's own process would
    spend its time re-checking them and answer the bots late (the echo bot, which handles one update
    at a time, would be measured on the emulator's latency). Here a change wakes only its chat."""

    def __init__(self, emu: TelegramEmulator) -> None:
        self._events: dict[int, asyncio.Event] = {}
        self._unsubscribe = emu.subscribe(self._changed)

    def _changed(self, event: dict) -> None:
        waiting = self._events.get(event.get("chat_id"))  # type: ignore[arg-type]
        if waiting is not None:
            waiting.set()

    async def until(self, chat: int, predicate, timeout: float = 120):  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        event = self._events.setdefault(chat, asyncio.Event())
        while True:
            event.clear()
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"chat {chat}: condition not met within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 1.0))

    def close(self) -> None:
        self._unsubscribe()


def stop(p: subprocess.Popen[bytes]) -> None:
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def memory(pid: int) -> dict[str, float]:
    """Resident set size now and its peak (VmHWM), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far: per update, a figure that holds
    when the machine is shared (throughput falls when another process takes the core; this does not)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(p: subprocess.Popen[bytes], phase: str) -> None:
    """BENCH_PROFILE=/tmp/splp.json [BENCH_PROFILE_PHASE=start|messages|taps|dispositions]: py-spy
    records splp-bot from the start of that phase (BENCH_PROFILE_SECONDS, default 20); the phase
    echo_bot.py:messages or durable_echo_bot.py:messages records that bot's messages instead."""
    if os.environ.get("BENCH_PROFILE") and os.environ.get("BENCH_PROFILE_PHASE", "start") == phase:
        subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-o", os.environ["BENCH_PROFILE"],
                          "-f", os.environ.get("BENCH_PROFILE_FORMAT", "speedscope"), "-p", str(p.pid), "-d",
                          os.environ.get("BENCH_PROFILE_SECONDS", "20")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def started(emu: TelegramEmulator, p: subprocess.Popen[bytes], t0: float) -> tuple[float, float]:
    """Seconds to the first getUpdates, and the idle RSS a moment later."""
    await emu.wait_for(lambda: emu.calls_of("getUpdates"), timeout=60)
    ready = emu.calls_of("getUpdates")[0].t_received - t0
    await asyncio.sleep(1.0)
    return ready, memory(p.pid)["VmRSS"]


async def wait_replies(emu: TelegramEmulator, users: list[int], per_user: int, timeout: float = 300) -> None:
    wakes = ChatWakes(emu)
    try:
        await asyncio.gather(*(wakes.until(u, lambda u=u: len(emu.bot_messages(u)) >= per_user, timeout)
                               for u in users))
    finally:
        wakes.close()


async def measure_messages(emu: TelegramEmulator, users: list[int], script: list[str], replies: int) -> float:
    """Each user sends the script; a user's next message goes once the previous reply arrived."""
    n = len(users) * len(script)
    wakes = ChatWakes(emu)
    t0 = time.perf_counter()

    async def user(u: int) -> None:
        for text in script:
            before = len(emu.bot_messages(u))
            emu.send_text(u, text)
            await wakes.until(u, lambda: len(emu.bot_messages(u)) > before)

    await asyncio.gather(*(user(u) for u in users))
    wakes.close()
    await wait_replies(emu, users, replies)
    return n / (time.perf_counter() - t0)


async def measure_taps(emu: TelegramEmulator, taps: list[tuple[int, int, str]]) -> float:
    """All taps at once (each user's taps one after another); rate until all answered."""
    by_user: dict[int, list[tuple[int, str]]] = {}
    for u, mid, data in taps:
        by_user.setdefault(u, []).append((mid, data))
    wakes = ChatWakes(emu)
    t0 = time.perf_counter()

    async def user(u: int) -> None:
        for mid, data in by_user[u]:
            q = emu.tap_raw(u, mid, data)
            await wakes.until(u, lambda: emu.callback_answer(q))

    await asyncio.gather(*(user(u) for u in by_user))
    rate = len(taps) / (time.perf_counter() - t0)
    wakes.close()
    return rate


async def measure_dispositions(emu: TelegramEmulator, cards: dict[int, list[int]]) -> float:
    """Per card: the instruction, then «Kirim tanpa catatan» from the edited card (as a Head would)."""
    wakes = ChatWakes(emu)
    t0 = time.perf_counter()
    n = 0

    def data(u: int, mid: int, label: str) -> str | None:
        m = emu.message(u, mid)
        return next((b["callback_data"] for b in (m.buttons if m else []) if label in b["text"]), None)

    async def user(u: int) -> None:
        nonlocal n
        for mid in cards[u]:
            q = emu.tap_raw(u, mid, data(u, mid, "Untuk ditindaklanjuti"))
            await wakes.until(u, lambda: emu.callback_answer(q))
            send = await wakes.until(u, lambda: data(u, mid, "Kirim tanpa catatan"))
            q = emu.tap_raw(u, mid, send)
            ans = await wakes.until(u, lambda: emu.callback_answer(q))
            assert ans["text"] == "Disposisi terkirim.", ans
            n += 2

    await asyncio.gather(*(user(u) for u in cards))
    rate = n / (time.perf_counter() - t0)
    wakes.close()
    return rate


async def measure_latency(emu: TelegramEmulator, taps: list[tuple[int, int, str]], rate: float) -> list[float]:
    qids = []
    t0 = time.perf_counter()
    for i, (u, mid, data) in enumerate(taps):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        qids.append(emu.tap_raw(u, mid, data))
    answers = [await emu.wait_callback_answer(q, timeout=60) for q in qids]
    return [a["latency"] * 1000 for a in answers]


def figures(lat: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(lat, .5), "p95_ms": pct(lat, .95), "p99_ms": pct(lat, .99), "max_ms": max(lat)}


async def bench_echo(emu: TelegramEmulator, args: argparse.Namespace, tmp: Path, db_url: str,
                     script: str = "echo_bot.py") -> dict[str, float]:
    """The echo bot (or, with ``script``, the durable echo bot on ``db_url``): same users, same load."""
    emu.add_user(DIVISION_HEAD, "Dewi", started=True)  # where a disposition's card goes on (echo_bot.card)
    emu.add_user(REQUESTERS, "Pemohon", started=True)
    emu.add_user(SCANNER, "Pemindai", started=True)
    scan = emu.send_document(SCANNER, b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n", file_name="surat.pdf",
                             mime_type="application/pdf")["message"]["document"]["file_id"]
    env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.api_url, "DATABASE_URL": db_url,
           "BENCH_NEXT_CHAT": str(DIVISION_HEAD), "BENCH_REQUESTER_CHAT": str(REQUESTERS), "BENCH_SCAN_FILE_ID": scan}
    t0 = time.monotonic()
    p = spawn([sys.executable, f"bench/{script}"], env, tmp / f"{script}.log")
    try:
        ready, idle = await started(emu, p, t0)
        profile(p, f"{script}:messages")
        users = list(range(100_000, 100_000 + args.users))
        texts = [f"pesan {i}" for i in range(len(FORM))]
        c0 = cpu(p.pid)
        msg_rate = await measure_messages(emu, users, texts, len(texts))
        cpu_msg = (cpu(p.pid) - c0) / (len(users) * len(texts))
        for u in users:
            emu.send_text(u, "/btn")
        await wait_replies(emu, users, len(texts) + 1)
        buttons = {u: emu.last_bot_message(u).message_id for u in users}  # type: ignore[union-attr]
        taps = [(u, buttons[u], "tap") for u in users for _ in range(args.taps_per_user)]
        c0 = cpu(p.pid)
        tap_rate = await measure_taps(emu, taps)
        cpu_tap = (cpu(p.pid) - c0) / len(taps)
        lat = await measure_latency(emu, [(u, buttons[u], "tap") for u in users][: int(args.latency_seconds * 50)], 50)
        disp_rate, cpu_disp = tap_rate, cpu_tap  # the durable echo has no disposition: its taps stand in
        if script == "echo_bot.py":  # the disposition's Telegram side, nothing behind it (echo_bot.card)
            for u in users:
                for _ in range(args.cards_per_user):
                    emu.send_text(u, "/card")
            await wait_replies(emu, users, len(texts) + 1 + args.cards_per_user)
            cards = {u: [m.message_id for m in emu.bot_messages(u) if m.text == "kartu disposisi"] for u in users}
            c0 = cpu(p.pid)
            disp_rate = await measure_dispositions(emu, cards)
            cpu_disp = (cpu(p.pid) - c0) / (2 * sum(len(c) for c in cards.values()))
        peak = memory(p.pid)["VmHWM"]
    finally:
        stop(p)
    return {"ready_s": ready, "rss_idle": idle, "rss_peak": peak, "messages_per_s": msg_rate,
            "taps_per_s": tap_rate, "dispositions_per_s": disp_rate, **figures(lat),
            "cpu_msg_ms": cpu_msg * 1000, "cpu_tap_ms": cpu_tap * 1000, "cpu_disp_ms": cpu_disp * 1000}


ECHO, DURABLE = "echo bot (bare PTB)", "durable echo (floor)"
DIVISION_HEAD, SCANNER, REQUESTERS = 9_000_001, 9_000_002, 300_000


async def prepare_splp_db(db_url: str, args: argparse.Namespace, heads: list[int], scan_file_id: str) -> None:
    """Migrated, with years of finished requests, and the Heads of the disposition phase."""
    from bench.seed import NOW, advance_sequences, seed_heads, seed_requests
    from storage.db import Database, upgrade
    from storage.models import DigestRun, OversightJob

    upgrade(db_url)
    db = Database(db_url)
    try:
        await seed_requests(db, args.requests)
        await seed_heads(db, heads, args.cards_per_user, division_head=DIVISION_HEAD, scan_file_id=scan_file_id,
                         requester_base=REQUESTERS)
        await advance_sequences(db)
        async with db.transaction() as s:  # the morning digest and the monthly report are not measured here
            today = date.today()
            s.add_all([DigestRun(day=today + timedelta(days=d), sent_at=NOW) for d in range(-1, 3)])
            last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
            s.add(OversightJob(kind="monthly", period_start=last_month, period_end=today.replace(day=1) - timedelta(days=1),
                               status="done", attempts=0, created_at=NOW, done_at=NOW))
    finally:
        await db.dispose()


async def bench_splp(emu: TelegramEmulator, args: argparse.Namespace, tmp: Path, db_url: str) -> dict[str, float]:
    users = list(range(200_000, 200_000 + args.users))
    emu.add_user(DIVISION_HEAD, "Dewi", started=True)
    emu.add_user(SCANNER, "Pemindai", started=True)  # a letter's scan Telegram knows (its file id)
    for k in range(len(users)):  # who sent the Heads' requests (told when they move on)
        emu.add_user(REQUESTERS + k, "Pemohon", started=True)
    scan = emu.send_document(SCANNER, b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n", file_name="surat.pdf",
                             mime_type="application/pdf")["message"]["document"]["file_id"]
    await prepare_splp_db(db_url, args, users, scan)
    env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.api_url, "DATABASE_URL": db_url,
           "INSTANCE_ID": "bench", "PER_CHAT_PER_SECOND": "0", "RATE_LIMIT_PER_SECOND": "100000",
           "LOG_LEVEL": "WARNING", "POLL_TIMEOUT": "10", "DATA_DIR": str(tmp / "data")}
    t0 = time.monotonic()
    p = spawn([sys.executable, "main.py", "run"], env, tmp / "splp.log")
    profile(p, "start")
    try:
        ready, idle = await started(emu, p, t0)
        profile(p, "messages")
        # The phone answer is confirmed in a message of its own: one extra reply.
        c0 = cpu(p.pid)
        msg_rate = await measure_messages(emu, users, FORM, len(FORM) + 1)
        cpu_msg = (cpu(p.pid) - c0) / (len(users) * len(FORM))
        phases = {"idle": idle, "messages": memory(p.pid)["VmRSS"]}
        for u in users:
            emu.send_text(u, "/start")
        await wait_replies(emu, users, len(FORM) + 2)
        menus = {u: emu.last_bot_message(u) for u in users}
        status = {u: next(b["callback_data"] for b in m.buttons if "Status" in b["text"])  # type: ignore[union-attr]
                  for u, m in menus.items()}
        taps = [(u, menus[u].message_id, status[u]) for u in users for _ in range(args.taps_per_user)]  # type: ignore[union-attr]
        profile(p, "taps")
        c0 = cpu(p.pid)
        tap_rate = await measure_taps(emu, taps)
        cpu_tap = (cpu(p.pid) - c0) / len(taps)
        lat = await measure_latency(emu, [(u, menus[u].message_id, status[u]) for u in users]  # type: ignore[union-attr]
                                    [: int(args.latency_seconds * 50)], 50)
        # Dispositions: every user is a Head with requests; /tugas shows their cards.
        before = {u: len(emu.bot_messages(u)) for u in users}
        for u in users:
            emu.send_text(u, "/tugas")
        wakes = ChatWakes(emu)
        await asyncio.gather(*(wakes.until(u, lambda u=u: len([m for m in emu.bot_messages(u)[before[u]:] if m.buttons])
                                           >= args.cards_per_user, timeout=300) for u in users))
        wakes.close()
        cards = {u: [m.message_id for m in emu.bot_messages(u)[before[u]:] if m.buttons] for u in users}
        phases["taps"] = memory(p.pid)["VmRSS"]
        profile(p, "dispositions")
        c0 = cpu(p.pid)
        disp_rate = await measure_dispositions(emu, cards)
        cpu_disp = (cpu(p.pid) - c0) / (2 * sum(len(c) for c in cards.values()))
        phases["dispositions"] = memory(p.pid)["VmRSS"]
        if os.environ.get("BENCH_MEMORY_PHASES"):
            print("splp-bot RSS by phase (MB):", {k: round(v) for k, v in phases.items()})
        peak = memory(p.pid)["VmHWM"]
        rss_after = memory(p.pid)["VmRSS"]
    finally:
        stop(p)
    return {"ready_s": ready, "rss_idle": idle, "rss_peak": peak, "rss_after": rss_after, "messages_per_s": msg_rate,
            "taps_per_s": tap_rate, "dispositions_per_s": disp_rate, **figures(lat),
            "cpu_msg_ms": cpu_msg * 1000, "cpu_tap_ms": cpu_tap * 1000, "cpu_disp_ms": cpu_disp * 1000}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--taps-per-user", type=int, default=5)
    ap.add_argument("--cards-per-user", type=int, default=3, help="requests each Head disposes of")
    ap.add_argument("--requests", type=int, default=100_000, help="finished requests already in the database")
    ap.add_argument("--latency-seconds", type=float, default=4.0)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--no-pin", action="store_true", help="let the bots share every core with the benchmark")
    ap.add_argument("--no-durable", action="store_true", help="leave out the durable echo bot")
    args = ap.parse_args()
    global BOT_CPUS
    cpus = sorted(os.sched_getaffinity(0))
    if not args.no_pin and len(cpus) >= 2:
        BOT_CPUS = {cpus[-1]}
        os.sched_setaffinity(0, set(cpus[:-1]))
    args.users = max(args.users, int(args.latency_seconds * 50))
    tmp = Path(tempfile.mkdtemp(prefix="splp-bench-"))
    async with contextlib.AsyncExitStack() as stack:
        if args.db == "sqlite":
            db_url, durable_url = f"sqlite+aiosqlite:///{tmp}/bench.db", f"sqlite+aiosqlite:///{tmp}/durable.db"
        else:  # the durable echo's two tables beside splp-bot's
            db_url = durable_url = await stack.enter_async_context(scratch_database("splp_bench"))
        results = {}
        durable = functools.partial(bench_echo, script="durable_echo_bot.py")
        bots = ((ECHO, bench_echo), (DURABLE, durable), ("splp-bot", bench_splp))
        for name, fn in (b for b in bots if not (args.no_durable and b[0] == DURABLE)):
            emu = TelegramEmulator()
            await emu.start()
            try:
                results[name] = await fn(emu, args, tmp, durable_url if fn is durable else db_url)
            finally:
                await emu.stop()
    pinned = f"bots on CPU {min(BOT_CPUS)}, benchmark on the rest" if BOT_CPUS else "not pinned"
    print(f"\n{date.today()} on {platform.node()} ({os.cpu_count()} cores, {pinned}); database: {args.db} with "
          f"{args.requests:,} finished requests; {args.users} users, {len(FORM)} messages, {args.taps_per_user} "
          f"status taps and {args.cards_per_user} dispositions (2 taps) each")
    print(f"{'':22}{'ready s':>8}{'RSS MB':>8}{'peak MB':>8}{'msg/s':>8}{'taps/s':>8}{'disp/s':>8}"
          f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for name, r in results.items():
        print(f"{name:22}{r['ready_s']:8.2f}{r['rss_idle']:8.0f}{r['rss_peak']:8.0f}{r['messages_per_s']:8.0f}"
              f"{r['taps_per_s']:8.0f}{r['dispositions_per_s']:8.0f}{r['p50_ms']:8.1f}{r['p95_ms']:8.1f}"
              f"{r['p99_ms']:8.1f}")
    print(f"\nthe bot's CPU per update (ms): {'':6}{'message':>8}{'tap':>8}{'disp.':>8}")
    for name, r in results.items():
        print(f"{name:36}{r['cpu_msg_ms']:8.2f}{r['cpu_tap_ms']:8.2f}{r['cpu_disp_ms']:8.2f}")
    e, d, s = results[ECHO], results.get(DURABLE), results["splp-bot"]
    print(f"\nsplp-bot / echo bot: messages {s['messages_per_s'] / e['messages_per_s']:.2f}×, "
          f"status taps {s['taps_per_s'] / e['taps_per_s']:.2f}×, disposition taps "
          f"{s['dispositions_per_s'] / e['taps_per_s']:.2f}×; memory idle {s['rss_idle'] / e['rss_idle']:.2f}×, "
          f"peak {s['rss_peak'] / e['rss_peak']:.2f}×; ready in {s['ready_s']:.2f} s; "
          f"tap answer at 50 taps/s p99 {s['p99_ms']:.1f} ms; CPU per update: messages "
          f"{e['cpu_msg_ms'] / s['cpu_msg_ms']:.2f}×, status taps {e['cpu_tap_ms'] / s['cpu_tap_ms']:.2f}×, "
          f"disposition taps {e['cpu_tap_ms'] / s['cpu_disp_ms']:.2f}× (the echo bot's CPU over splp-bot's)")
    print(f"dispositions against the echo bot making the same seven Bot API calls per two taps (echo_bot.card): "
          f"{s['dispositions_per_s'] / e['dispositions_per_s']:.2f}×; CPU per tap "
          f"{e['cpu_disp_ms'] / s['cpu_disp_ms']:.2f}×")
    if d is None:
        return
    print(f"what the guarantees alone cost (durable echo / echo bot): messages "
          f"{d['messages_per_s'] / e['messages_per_s']:.2f}×, taps {d['taps_per_s'] / e['taps_per_s']:.2f}×; "
          f"CPU per update {e['cpu_msg_ms'] / d['cpu_msg_ms']:.2f}×, {e['cpu_tap_ms'] / d['cpu_tap_ms']:.2f}×; "
          f"memory idle {d['rss_idle'] / e['rss_idle']:.2f}×, peak {d['rss_peak'] / e['rss_peak']:.2f}×")
    print(f"splp-bot / durable echo: messages {s['messages_per_s'] / d['messages_per_s']:.2f}×, status taps "
          f"{s['taps_per_s'] / d['taps_per_s']:.2f}×, disposition taps {s['dispositions_per_s'] / d['taps_per_s']:.2f}×; "
          f"CPU per update {d['cpu_msg_ms'] / s['cpu_msg_ms']:.2f}×, {d['cpu_tap_ms'] / s['cpu_tap_ms']:.2f}×")


if __name__ == "__main__":
    asyncio.run(main())
