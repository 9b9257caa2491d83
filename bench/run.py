"""Throughput and tap latency: splp-bot against a bare PTB echo bot, same machine, same emulator.

    .venv/bin/python bench/run.py                  # SQLite (embedded default)
    .venv/bin/python bench/run.py --db postgres    # PostgreSQL (TEST_PG_URL or local 'test' server)

Each bot runs in its own process against the in-project Bot API emulator
(sandbox/telegram.py) over HTTP; the emulator and the simulated users run in
this process. Figures:
- messages/s: user messages in, until every reply is delivered (splp-bot: the
  request form, each answer validated, saved and the next question sent);
- taps/s: button taps in, until every tap is answered and its reply delivered;
- tap latency: taps at a steady 50/s, time from the tap to answerCallbackQuery.
"""

from __future__ import annotations

import argparse
import contextlib
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pgdb import scratch_database  # noqa: E402
from sandbox.telegram import TelegramEmulator  # noqa: E402

FORM = ["/ajukan", "dinkes", "000.1/123-Dinkes/2026", "27-11-2026", "Permohonan Pembuatan Akun SPLP",
        "Siti Aminah", "siti.aminah@kotabogor.go.id", "0812-3456-7890", "SIMPUS Kota Bogor",
        "Aplikasi SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data Kota Bogor melalui SPLP."]


def spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"))


def stop(p: subprocess.Popen[bytes]) -> None:
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def wait_replies(emu: TelegramEmulator, users: list[int], per_user: int, timeout: float = 300) -> None:
    def ok() -> bool:
        return all(len(emu.bot_messages(u)) >= per_user for u in users)
    await emu.wait_for(ok, timeout=timeout)


async def measure_messages(emu: TelegramEmulator, users: list[int], script: list[str], replies: int) -> float:
    """Each user sends the script; a user's next message goes once the previous reply arrived."""
    n = len(users) * len(script)
    t0 = time.perf_counter()

    async def user(u: int) -> None:
        for i, text in enumerate(script):
            before = len(emu.bot_messages(u))
            emu.send_text(u, text)
            await emu.wait_for(lambda: len(emu.bot_messages(u)) > before, timeout=120)
        del i

    await asyncio.gather(*(user(u) for u in users))
    await wait_replies(emu, users, replies)
    return n / (time.perf_counter() - t0)


async def measure_taps(emu: TelegramEmulator, taps: list[tuple[int, int, str]]) -> float:
    """All taps at once (each user's taps one after another); rate until all answered."""
    by_user: dict[int, list[tuple[int, str]]] = {}
    for u, mid, data in taps:
        by_user.setdefault(u, []).append((mid, data))
    t0 = time.perf_counter()

    async def user(u: int) -> None:
        for mid, data in by_user[u]:
            q = emu.tap_raw(u, mid, data)
            await emu.wait_callback_answer(q, timeout=120)

    await asyncio.gather(*(user(u) for u in by_user))
    return len(taps) / (time.perf_counter() - t0)


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


async def bench_echo(emu: TelegramEmulator, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.api_url}
    p = spawn([sys.executable, "bench/echo_bot.py"], env, tmp / "echo.log")
    try:
        await emu.wait_for(lambda: emu.calls_of("getUpdates"), timeout=30)
        users = list(range(100_000, 100_000 + args.users))
        script = [f"pesan {i}" for i in range(len(FORM))]
        msg_rate = await measure_messages(emu, users, script, len(script))
        for u in users:
            emu.send_text(u, "/btn")
        await wait_replies(emu, users, len(script) + 1)
        buttons = {u: emu.last_bot_message(u).message_id for u in users}  # type: ignore[union-attr]
        taps = [(u, buttons[u], "tap") for u in users for _ in range(args.taps_per_user)]
        tap_rate = await measure_taps(emu, taps)
        lat = await measure_latency(emu, [(u, buttons[u], "tap") for u in users][: int(args.latency_seconds * 50)]
                                    * 1, 50)
    finally:
        stop(p)
    return {"messages_per_s": msg_rate, "taps_per_s": tap_rate, "p50_ms": pct(lat, .5),
            "p95_ms": pct(lat, .95), "p99_ms": pct(lat, .99), "max_ms": max(lat)}


async def bench_splp(emu: TelegramEmulator, args: argparse.Namespace, tmp: Path, db_url: str) -> dict[str, float]:
    env = {"BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.api_url, "DATABASE_URL": db_url,
           "INSTANCE_ID": "bench", "PER_CHAT_PER_SECOND": "0", "RATE_LIMIT_PER_SECOND": "100000",
           "LOG_LEVEL": "WARNING", "POLL_TIMEOUT": "10"}
    p = spawn([sys.executable, "main.py", "run"], env, tmp / "splp.log")
    if os.environ.get("BENCH_PROFILE"):  # e.g. BENCH_PROFILE=/tmp/splp.svg (needs py-spy)
        subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-o", os.environ["BENCH_PROFILE"],
                          "-f", os.environ.get("BENCH_PROFILE_FORMAT", "speedscope"), "-p", str(p.pid), "-d", "25"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await emu.wait_for(lambda: emu.calls_of("getUpdates"), timeout=60)
        users = list(range(200_000, 200_000 + args.users))
        # The phone answer is confirmed in a message of its own: one extra reply.
        msg_rate = await measure_messages(emu, users, FORM, len(FORM) + 1)
        for u in users:
            emu.send_text(u, "/start")
        await wait_replies(emu, users, len(FORM) + 2)
        menus = {u: emu.last_bot_message(u) for u in users}
        status = {u: next(b["callback_data"] for b in m.buttons if "Status" in b["text"])  # type: ignore[union-attr]
                  for u, m in menus.items()}
        taps = [(u, menus[u].message_id, status[u]) for u in users for _ in range(args.taps_per_user)]  # type: ignore[union-attr]
        tap_rate = await measure_taps(emu, taps)
        lat = await measure_latency(emu, [(u, menus[u].message_id, status[u]) for u in users]  # type: ignore[union-attr]
                                    [: int(args.latency_seconds * 50)], 50)
    finally:
        stop(p)
    return {"messages_per_s": msg_rate, "taps_per_s": tap_rate, "p50_ms": pct(lat, .5),
            "p95_ms": pct(lat, .95), "p99_ms": pct(lat, .99), "max_ms": max(lat)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--taps-per-user", type=int, default=5)
    ap.add_argument("--latency-seconds", type=float, default=4.0)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    args.users = max(args.users, int(args.latency_seconds * 50))
    tmp = Path(tempfile.mkdtemp(prefix="splp-bench-"))
    async with contextlib.AsyncExitStack() as stack:
        if args.db == "sqlite":
            db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        else:
            db_url = await stack.enter_async_context(scratch_database("splp_bench"))
        results = {}
        for name, fn in (("echo bot (bare PTB)", bench_echo), ("splp-bot", bench_splp)):
            emu = TelegramEmulator()
            await emu.start()
            try:
                results[name] = await (fn(emu, args, tmp) if fn is bench_echo else fn(emu, args, tmp, db_url))
            finally:
                await emu.stop()
    print(f"\n{args.users} users, {len(FORM)} messages and {args.taps_per_user} taps each; database: {args.db}")
    print(f"{'':22}{'msg/s':>9}{'taps/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, r in results.items():
        print(f"{name:22}{r['messages_per_s']:9.0f}{r['taps_per_s']:9.0f}{r['p50_ms']:9.1f}{r['p95_ms']:9.1f}"
              f"{r['p99_ms']:9.1f}{r['max_ms']:9.1f}")
    e, s = results["echo bot (bare PTB)"], results["splp-bot"]
    print(f"\nsplp-bot / echo: messages {s['messages_per_s'] / e['messages_per_s']:.0%}, "
          f"taps {s['taps_per_s'] / e['taps_per_s']:.0%}; tap answer p95 at 50 taps/s: {s['p95_ms']:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
