"""The deployment check (issue #12): the production path, proven on loopback.

nginx from Debian's package with deploy/nginx/splp-bot.conf (TLS lines swapped for plain HTTP),
two webhook instances run as deploy/systemd/splp-bot@.service runs them, PostgreSQL, and the
Bot API emulator, which the instances register their webhook with and which then delivers every
update through nginx. Procedure A steps 1-4 are played; one instance is killed with SIGKILL while
it holds a chat's lease in the middle of a send; the other carries on, takes the chat over when
the lease lapses; the killed one comes back (as systemd would restart it) and takes its share
again. At the end nothing is lost and nothing was handled twice.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import socket
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from sandbox.telegram import Call, Msg, TelegramEmulator, parse_html
from storage.models import AuditLog, ChatLock, Outbox, ProcessedUpdate, Request
from storage.repo import seed_agencies_if_empty
from tests.deploy.stack import SITE, UNIT, Instance, Nginx, debian_tool, free_port, unit_environment
from tests.e2e.harness import DIVISION, EXEC1, HEAD, REQUESTER, TEAM, Harness

REQUESTER2 = 5002
LEASE_SECONDS = 5  # OUTBOX_LEASE_SECONDS: how soon a killed instance's chats are taken over
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


async def dispose(h: Harness, uid: int, msg: Msg, *options: str) -> None:
    """Tap the options in turn on one disposition message (each edits the message), then send."""
    for option in options:
        before = list(msg.button_texts)  # the emulator edits the message in place
        await h.tap(uid, msg, text=h.button(msg, option))
        await h.emu.wait_for(lambda: h.emu.message(uid, msg.message_id).button_texts != before)
        msg = h.emu.message(uid, msg.message_id)  # type: ignore[assignment]
    ans = await h.tap(uid, msg, text=h.button(msg, "Kirim tanpa catatan"), timeout=15)
    assert ans["text"] in ("Disposisi terkirim.", "Penugasan terkirim."), ans


def task_for(h: Harness, uid: int, number: str, contains: str) -> Msg:
    found = [m for m in h.emu.bot_messages(uid) if m.text and number in m.text and contains in m.text]
    assert len(found) == 1, f"{uid} has {len(found)} messages with {number!r} and {contains!r}: " + "\n---\n".join(
        f"{m.message_id}: {m.text}" for m in found)
    return found[0]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # several instances need PostgreSQL
async def test_two_instances_behind_nginx_survive_a_kill(db_url: str, tmp_path: Path) -> None:
    nginx_bin = debian_tool("nginx", "nginx")
    started = time.monotonic()
    emu = TelegramEmulator()
    emu.allow_http_webhook = True  # nginx listens on plain HTTP here; the real site terminates TLS
    await emu.start()
    h = Harness(emu, db_url)  # no bot in this process: the users' side and the database only
    async with h.db.transaction() as s:
        await seed_agencies_if_empty(s)
    await h.cast()
    ports = [free_port(), free_port()]
    nginx = Nginx.configure(nginx_bin, tmp_path / "nginx", ports)
    assert nginx.test_config().returncode == 0, nginx.test_config().stderr
    webhook_secret = secrets.token_hex(16)
    common = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "METRICS_", "SPLP_"))}
    common.update(BOT_TOKEN=emu.token, TELEGRAM_API_URL=emu.api_url, DATABASE_URL=db_url,
                  SECRETS_KEY=h.settings.secrets_key, WEBHOOK_URL=f"http://127.0.0.1:{nginx.https_port}",
                  WEBHOOK_PATH="/telegram", WEBHOOK_SECRET=webhook_secret, OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
                  PER_CHAT_PER_SECOND="0", RATE_LIMIT_PER_SECOND="1000", REQUEST_TIMEOUT="2",
                  LOG_FORMAT="json", LOG_LEVEL="INFO")
    host = socket.gethostname()
    instances = []
    for p in ports:
        env = {**common, **unit_environment(UNIT.read_text(), str(p), host)}
        env["DATA_DIR"] = str(tmp_path / f"data-{p}")  # the unit's /var/lib/splp-bot
        instances.append(Instance(p, env, tmp_path / f"instance-{p}.log"))
    report: list[str] = []
    try:
        await nginx.start()
        await asyncio.gather(*(i.start() for i in instances))
        report.append(f"instances: {', '.join(f'{i.name} (127.0.0.1:{i.port})' for i in instances)} behind "
                      f"nginx 127.0.0.1:{nginx.https_port}; ready in {time.monotonic() - started:.1f} s")
        # The instances registered the webhook: nginx's address, the secret, the update types.
        assert emu.webhook_url == f"http://127.0.0.1:{nginx.https_port}/telegram"
        assert emu.webhook_secret == webhook_secret
        async with httpx.AsyncClient() as c:  # a POST without the secret is refused by the instance
            r = await c.post(emu.webhook_url, json={"update_id": 1})
            assert r.status_code == 403
            r = await c.get(f"http://127.0.0.1:{nginx.https_port}/metrics")  # not exposed through nginx
            assert r.status_code == 404
            r = await c.get(f"http://127.0.0.1:{nginx.http_port}/telegram")
            assert r.status_code == 301 and r.headers["location"].startswith("https://")

        # Step 1: two requesters fill in and send the form at once.
        today = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%d-%m-%Y")
        summaries = await asyncio.gather(h.fill_form(REQUESTER, letter_date=today),
                                         h.fill_form(REQUESTER2, phone="0813-1111-2222", letter_date=today))
        for uid, summary in zip((REQUESTER, REQUESTER2), summaries, strict=True):
            await h.tap(uid, summary, text=h.button(summary, "Kirim"), expect="telah diterima dengan nomor")
        async with h.db.sessions() as s:
            numbers = dict((await s.execute(select(Request.requester_id, Request.number))).all())
        a, b = numbers[REQUESTER], numbers[REQUESTER2]
        await h.emu.wait_for(lambda: len([m for m in emu.bot_messages(HEAD) if m.text and "Disposisikan" in m.text])
                             == 2, timeout=10)

        # Step 2, request A: the Head disposes; the first message it causes is held by "Telegram"
        # (no answer for 4 s, never delivered) while the instance that sends it holds the chat's lease.
        emu.delay_next("sendDocument", 4.0, apply=False)  # the scan: the first of the Division's messages
        await dispose(h, HEAD, task_for(h, HEAD, a, "Disposisikan"), "Untuk ditindaklanjuti")
        call = await h.emu.wait_for(lambda: _held_send(emu), timeout=10)
        held, held_text = int(call.params["chat_id"]), parse_html(call.params["caption"])[0]
        assert held == DIVISION and a in held_text
        owner = await _lease_owner(h, held)
        # Kill it once the chat in flight is all it has left: the other chats' messages it already
        # delivered are recorded (a kill between Telegram's acceptance and the record would repeat
        # such a message: at-least-once, README) and no other row is waiting.
        await _only_in_flight(h, owner, held)
        victim = next(i for i in instances if i.name == owner)
        survivor = next(i for i in instances if i is not victim)
        victim.kill()
        killed_at = time.monotonic()

        def copies() -> int:
            return sum(m.content_text == held_text for m in emu.bot_messages(held))

        assert copies() == 0
        report.append(f"killed {victim.name} with SIGKILL while it held the lease of chat {held} "
                      f"(the scan of {a} in flight to the Division)")


        # The survivor carries on: request B's disposition goes through nginx to it alone (its messages
        # to the Division queue behind the held chat's lease).
        await dispose(h, HEAD, task_for(h, HEAD, b, "Disposisikan"), "Segera")
        # The killed instance's lease lapses; the survivor takes the chat over and delivers.
        await h.emu.wait_for(copies, timeout=LEASE_SECONDS + 10)
        took = time.monotonic() - killed_at
        await _outbox_settled(h)
        assert copies() == 1
        async with h.db.sessions() as s:
            assert not (await s.scalars(select(ChatLock).where(ChatLock.owner == victim.name, _held()))).all()
        report.append(f"{survivor.name} carried on alone (request {b} disposed) and took chat {held} over "
                      f"{took:.1f} s after the kill (lease {LEASE_SECONDS} s): the held message and those queued behind it delivered once")

        # Step 3 for A and B on the survivor alone.
        await dispose(h, DIVISION, task_for(h, DIVISION, a, "Disposisikan"), "Untuk ditindaklanjuti")
        await dispose(h, DIVISION, task_for(h, DIVISION, b, "Disposisikan"), "Untuk ditindaklanjuti")
        await h.emu.wait_for(lambda: len([m for m in emu.bot_messages(TEAM) if m.text and "Pelaksana" in m.text])
                             == 2, timeout=10)

        # systemd restarts the killed instance (Restart=on-failure); once nginx's fail_timeout has
        # passed since the failed attempts, both take updates again.
        await victim.start()
        fail_timeout = float(re.search(r"fail_timeout=(\d+)s", SITE.read_text()).group(1))  # type: ignore[union-attr]
        failed_at = max(_when(line) for line in nginx.access_log() if f"127.0.0.1:{victim.port}" in line)
        await asyncio.sleep(max(0.0, failed_at + fail_timeout + 1 - time.time()))
        report.append(f"{victim.name} restarted (as systemd would), back in nginx's rotation after its "
                      f"fail_timeout ({fail_timeout:.0f} s)")
        before = len(nginx.access_log())
        await dispose(h, TEAM, task_for(h, TEAM, a, "Pelaksana"), "Budi Pranoto", "Untuk ditindaklanjuti")
        # Step 4: the executor finds A complete.
        ex = await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan", timeout=10)
        assert a in ex.text
        await h.tap(EXEC1, ex, text=h.button(ex, "Lengkap"))
        await h.wait_msg(EXEC1, "Kartu data untuk portal SPLP", timeout=10)
        await dispose(h, TEAM, task_for(h, TEAM, b, "Pelaksana"), "Citra Lestari", "Untuk ditindaklanjuti")

        # Everything delivered; nothing lost, nothing handled twice.
        await h.emu.wait_for(lambda: emu.pending_updates == 0, timeout=15)
        await _outbox_settled(h)
        pushed = emu.next_update_id - min(d["update_id"] for d in emu.webhook_deliveries)
        async with h.db.sessions() as s:
            processed = await s.scalar(select(func.count()).select_from(ProcessedUpdate))
            failed = await s.scalar(select(func.count()).select_from(ProcessedUpdate)
                                    .where(ProcessedUpdate.outcome != "ok"))
            stages = dict((await s.execute(select(Request.number, Request.stage))).all())
            actions = Counter((await s.scalars(select(AuditLog.action).where(AuditLog.request_id.isnot(None)))).all())
            unsent = (await s.scalars(select(Outbox).where(Outbox.status != "sent"))).all()
            not_sent = len(unsent)
        ok = [d for d in emu.webhook_deliveries if d["status"] == 200]
        retried = [d for d in emu.webhook_deliveries if d["status"] != 200]
        assert processed == pushed == len({d["update_id"] for d in ok}), (processed, pushed, len(ok))
        assert failed == 0 and not_sent == 0, "; ".join(  # str: pytest would shorten a list
            f"id={r.id} chat={r.chat_id} {r.method} {r.status} error={r.last_error} request={r.request_id} "
            f"live={r.live_buttons} created={r.created_at} sent_at={r.sent_at} attempts={r.attempts} "
            f"message_id={r.sent_message_id} params={sorted(r.params or {})}" for r in unsent)
        assert stages == {a: "registration", b: "completeness"}
        sent = 0
        for uid in (REQUESTER, REQUESTER2, HEAD, DIVISION, TEAM, EXEC1):
            msgs = [m.text for m in emu.bot_messages(uid) if m.text]
            sent += len(emu.bot_messages(uid))
            twice = [t for t, n in Counter(msgs).items() if n > 1]
            assert not twice, f"sent twice to {uid}: {twice}"
        # The upstream of every proxied POST: both instances served, before and after the kill.
        upstreams = Counter(u for line in nginx.access_log() for u in _upstreams(line))
        after = Counter(u for line in nginx.access_log()[before:] for u in _upstreams(line))
        assert all(upstreams[f"127.0.0.1:{i.port}"] for i in instances), upstreams
        assert after[f"127.0.0.1:{victim.port}"] > 0, "the restarted instance got no update:\n" + "\n".join(
            nginx.access_log()[before - 5:])
        report.append(f"updates: {pushed} sent by users, {len(ok)} delivered through nginx (HTTP 200), "
                      f"{len(retried)} deliveries retried by Telegram, {processed} handled, none twice, none failed")
        report.append("nginx upstreams: " + ", ".join(f"{u} {n}" for u, n in sorted(upstreams.items())))
        report.append(f"requests: {a} at {stages[a]} (step 5), {b} at {stages[b]}; {sent} messages in the "
                      f"users' chats, every outbox row sent, none twice; audit: {dict(sorted(actions.items()))}")
        report.append(f"nothing lost, nothing handled twice; check took {time.monotonic() - started:.1f} s")
        # Logs: one JSON object per line, naming the instance, never the token.
        log = instances[0].log.read_text()
        assert emu.token not in log and webhook_secret not in log
        assert '"instance": "' + instances[0].name in log
    finally:
        for i in instances:
            i.stop()
        nginx.stop()
        await emu.stop()
        await h.db.dispose()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "deploy-check.txt").write_text("\n".join(report) + "\n")
        print("\n".join(["", "deployment check:", *report]))


def _held_send(emu: TelegramEmulator) -> Call | None:
    """The call the emulator is holding (received, not answered, never to take effect)."""
    for c in emu.calls_of("sendDocument"):
        if c.fault == "delay-noapply" and c.status is None:
            return c
    return None


def _held():  # type: ignore[no-untyped-def]
    """A lease in force (a released one keeps its row, with its pace, and a past ``until``)."""
    return ChatLock.until > datetime.now(timezone.utc)


async def _lease_owner(h: Harness, chat: int) -> str:
    async with h.db.sessions() as s:
        owner = await s.scalar(select(ChatLock.owner).where(ChatLock.chat_id == chat, _held()))
    assert owner, f"no lease on chat {chat} while its message is in flight"
    return owner


async def _only_in_flight(h: Harness, owner: str, chat: int, timeout: float = 5) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        async with h.db.sessions() as s:
            leases = set((await s.scalars(select(ChatLock.chat_id).where(ChatLock.owner == owner, _held()))).all())
            waiting = set((await s.scalars(select(Outbox.chat_id).where(Outbox.status == "pending"))).all())
        if leases == {chat} and waiting <= {chat}:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{owner} still holds {leases}, rows wait in {waiting}")


async def _outbox_settled(h: Harness, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        async with h.db.sessions() as s:
            if not await s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending")):
                return
        await asyncio.sleep(0.1)
    raise AssertionError("outbox rows still pending")


def _when(line: str) -> float:
    return datetime.fromisoformat(line.split("[", 1)[1].split("]", 1)[0]).timestamp()


def _upstreams(line: str) -> list[str]:
    if '"POST /telegram' not in line or "upstream=" not in line:
        return []
    field = line.split(" upstream=", 1)[1].split(" upstream_status=", 1)[0]  # "a:1, b:2" after a retry
    return [u.strip() for u in field.split(",") if u.strip() not in ("", "-")]
