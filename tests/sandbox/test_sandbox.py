"""The sandbox (sandbox/run.py, sandbox/web.py) without a browser: restarts keep everything,
reset starts over, the clock bar's actions, the page's endpoints and guards, the command line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sandbox.run import PERSONA_BY_KEY, Sandbox, SandboxError
from storage.models import Official, Request
from tests.conftest import SANDBOX_TEST_SETTINGS
from tests.e2e.harness import MONDAY_9

ROOT = Path(__file__).resolve().parents[2]
REQ = PERSONA_BY_KEY["requester"].user_id
HEADERS = {"X-Sandbox": "1"}
DEMO_REQUESTS = 54  # the demo history before Monday 30 November 2026 (sandbox/history.py, fixed seed)


async def _count(sb: Sandbox, model: type) -> int:
    assert sb.db is not None
    async with sb.db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]


async def test_restart_keeps_chats_clock_database_and_splp(tmp_path: Path) -> None:
    data = tmp_path / "sb"
    sb = Sandbox(data, port=0, start_at=MONDAY_9, settings=SANDBOX_TEST_SETTINGS)
    await sb.start()
    try:
        assert sb.emu is not None and sb.splp is not None
        sb.emu.send_text(REQ, "/ajukan")
        await sb.emu.wait_bot_message(REQ, contains="Perangkat Daerah")
        await sb.advance("hour")
        sb.splp.create_user("dinkes.simpus", "Rahasia#2026")
        before = [(m.message_id, m.content_text) for m in sb.emu.chat(REQ)]
        officials = await _count(sb, Official)
        assert officials == 5
    finally:
        await sb.stop()

    again = Sandbox(data, port=0, start_at=MONDAY_9 + timedelta(days=30), settings=SANDBOX_TEST_SETTINGS)
    await again.start()
    try:
        assert again.emu is not None and again.splp is not None and again.clock is not None
        assert [(m.message_id, m.content_text) for m in again.emu.chat(REQ)] == before
        assert timedelta(hours=1) <= again.clock.now() - MONDAY_9 < timedelta(hours=1, minutes=2)
        assert again.splp.user("dinkes.simpus") is not None
        assert await _count(again, Official) == officials  # seeded once
        # The form goes on where it was; new updates are not mistaken for handled ones.
        last = again.emu.last_bot_message(REQ)
        assert last is not None
        again.emu.send_text(REQ, "dinkes")
        await again.emu.wait_bot_message(REQ, contains="nomor surat", after=last.message_id)
        async with httpx.AsyncClient() as c:
            page = (await c.get(again.url)).text
        assert "Rina Wulandari" in page and "Perangkat Daerah" in page
    finally:
        await again.stop()


async def test_reset_starts_over(sandbox: Sandbox) -> None:
    assert sandbox.emu is not None and sandbox.splp is not None
    epoch = sandbox.epoch
    sandbox.emu.send_text(REQ, "/ajukan")
    await sandbox.emu.wait_bot_message(REQ, contains="Perangkat Daerah")
    sandbox.splp.create_user("dinkes.simpus", "Rahasia#2026")
    await sandbox.advance("working_day")
    await sandbox.reset()
    assert sandbox.epoch != epoch
    assert sandbox.emu is not None and sandbox.splp is not None and sandbox.clock is not None
    assert sandbox.emu.chat(REQ) == []
    assert sandbox.splp.user("dinkes.simpus") is None
    assert abs(sandbox.clock.now() - MONDAY_9) < timedelta(minutes=1)
    assert await _count(sandbox, Official) == 5 and await _count(sandbox, Request) == DEMO_REQUESTS
    async with sandbox.db.sessions() as s:  # type: ignore[union-attr]
        assert await s.scalar(select(func.count()).select_from(Request).where(Request.requester_id == REQ)) == 0
    sandbox.emu.send_text(REQ, "/ajukan")
    await sandbox.emu.wait_bot_message(REQ, contains="Perangkat Daerah")


async def test_clock_actions(sandbox: Sandbox) -> None:
    state = sandbox.clock_state()
    assert state["text"] == "Senin, 30 November 2026 09.00 WIB" and state["working"]
    state = await sandbox.advance("next_start")
    assert state["text"] == "Selasa, 1 Desember 2026 07.30 WIB" and state["working"]
    state = await sandbox.advance("hour")
    assert state["text"] == "Selasa, 1 Desember 2026 08.30 WIB"
    state = await sandbox.advance("working_day")
    assert state["text"] == "Rabu, 2 Desember 2026 08.30 WIB"
    assert sandbox.clock is not None
    sandbox.clock.advance(timedelta(hours=8))  # 16:30, after Wednesday's end
    assert not sandbox.clock_state()["working"]
    state = await sandbox.advance("next_start")
    assert state["text"] == "Kamis, 3 Desember 2026 07.30 WIB"
    with pytest.raises(ValueError):
        await sandbox.advance("backwards")


async def test_page_endpoints_and_guards(sandbox: Sandbox) -> None:
    url = sandbox.url
    assert url.startswith("http://127.0.0.1:")
    assert sandbox.emu is not None
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        page = await c.get("/")
        assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
        for p in PERSONA_BY_KEY.values():
            assert f'id="pane-{p.key}"' in page.text and p.name in page.text
        assert (await c.get("/static/sandbox.js")).status_code == 200
        assert (await c.get("/static/page.html")).status_code == 404
        # Only this server's own address, and changes only from the page's script.
        assert (await c.get("/", headers={"Host": "evil.example:80"})).status_code == 421
        port = url.rsplit(":", 1)[1]
        assert (await c.get("/", headers={"Host": f"LocalHost:{port}"})).status_code == 200  # case-insensitive
        r = await c.post("/api/send", json={"persona": "requester", "text": "/start"})
        assert r.status_code == 403
        assert (await c.post("/api/send", headers=HEADERS, json={"persona": "nobody", "text": "x"})).status_code == 404
        assert (await c.post("/api/send", headers=HEADERS, json={"persona": "requester", "text": " "})).status_code == 400
        assert (await c.post("/api/send", headers=HEADERS, content=b"[")).status_code == 400

        async with c.stream("GET", "/events") as events:
            lines = events.aiter_lines()
            hello = json.loads((await anext(lines)).removeprefix("data: "))
            assert hello == {"type": "hello", "epoch": sandbox.epoch}
            r = await c.post("/api/send", headers=HEADERS, json={"persona": "requester", "text": "/ajukan"})
            assert r.status_code == 200
            seen = []
            async with asyncio.timeout(10):
                while {"type": "chat", "persona": "requester"} not in seen:
                    line = await anext(lines)
                    if line.startswith("data: "):
                        seen.append(json.loads(line.removeprefix("data: ")))
        await sandbox.emu.wait_bot_message(REQ, contains="Perangkat Daerah")
        chat = (await c.get("/api/chat/requester")).json()
        assert "Perangkat Daerah" in chat["html"] and chat["started"] and chat["last"] > 0
        assert any(cmd["command"] == "ajukan" for cmd in chat["commands"])
        assert (await c.get("/api/chat/nobody")).status_code == 404

        m = sandbox.emu.last_bot_message(REQ)
        assert m is not None and m.buttons
        r = await c.post("/api/tap", headers=HEADERS,
                         json={"persona": "requester", "message_id": m.message_id, "data": "forged"})
        assert r.status_code == 409 and r.json()["error"] == "Tombol ini sudah tidak berlaku."
        r = await c.post("/api/tap", headers=HEADERS, json={"persona": "requester", "message_id": m.message_id,
                                                           "data": m.buttons[0]["callback_data"]})
        assert r.status_code == 200
        assert (await c.post("/api/press", headers=HEADERS, json={"persona": "contact", "text": "x"})).status_code == 409
        # "Share my contact" from the attachment menu: the persona's own name, number and id.
        assert (await c.post("/api/contact", headers=HEADERS, json={"persona": "contact"})).status_code == 200
        cp = PERSONA_BY_KEY["contact"]
        assert sandbox.emu.chat(cp.user_id)[-1].contact == {"phone_number": cp.phone, "first_name": cp.name,
                                                             "user_id": cp.user_id}

        # Uploads reach the bot as Telegram would deliver them; files never render as pages.
        r = await c.post("/api/upload", headers=HEADERS, data={"persona": "admin"},
                         files={"file": ("x.html", b"<script>alert(1)</script>", "text/html")})
        assert r.status_code == 200
        admin = PERSONA_BY_KEY["admin"].user_id
        doc = next(x for x in sandbox.emu.chat(admin) if x.document is not None).document
        assert doc is not None and doc.file_name == "x.html"
        f = await c.get(f"/file/{doc.file_id}")
        assert f.headers["content-type"] == "application/octet-stream"
        assert f.headers["content-disposition"].startswith("attachment;")
        r = await c.post("/api/upload", headers=HEADERS, data={"persona": "admin"},
                         files={"file": ("surat.pdf", b"%PDF-1.4 x", "application/octet-stream")})
        assert r.status_code == 200
        pdf = [x for x in sandbox.emu.chat(admin) if x.document is not None][-1].document
        assert pdf is not None and pdf.mime_type == "application/pdf"
        f = await c.get(f"/file/{pdf.file_id}")
        assert f.headers["content-type"] == "application/pdf" and f.headers["content-disposition"].startswith("inline")
        assert (await c.get("/file/nothing")).status_code == 404

        r = await c.post("/api/clock", headers=HEADERS, json={"action": "hour"})
        assert r.status_code == 200 and r.json()["text"] == "Senin, 30 November 2026 10.00 WIB"
        assert (await c.get("/api/clock")).json()["working"] is True
        assert (await c.post("/api/clock", headers=HEADERS, json={"action": "back"})).status_code == 400


async def test_port_or_data_dir_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        sb = Sandbox(tmp_path / "a", port=port, settings=SANDBOX_TEST_SETTINGS)
        with pytest.raises(SandboxError, match=f"port {port} is in use.*--port"):
            await sb.start()
    first = Sandbox(tmp_path / "a", port=0, settings=SANDBOX_TEST_SETTINGS)  # the failed start let go
    await first.start()
    try:
        second = Sandbox(tmp_path / "a", port=0, settings=SANDBOX_TEST_SETTINGS)
        with pytest.raises(SandboxError, match="another sandbox is running"):
            await second.start()
    finally:
        await first.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_without_token_starts_the_sandbox(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "BOT_TOKEN": "", "SANDBOX_PORT": str(port), "SANDBOX_DATA_DIR": str(tmp_path / "sb"),
           "PYTHONUNBUFFERED": "1"}
    import queue
    import threading

    errors = (tmp_path / "stderr.log").open("w+")  # a file: a full pipe would block the child
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=errors, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        banner = []
        while not banner or not banner[-1].startswith("Press Ctrl+C"):
            banner.append(lines.get(timeout=120))  # a hung start fails the test instead of CI
        text = "".join(banner)
        assert f"SPLP sandbox is running: open http://127.0.0.1:{port}" in text, text
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        assert (tmp_path / "sb" / "splp.db").exists()
        # A second sandbox on the same port says so and what to do.
        other = subprocess.run([sys.executable, str(ROOT / "main.py"), "sandbox", "--port", str(port),
                                "--data-dir", str(tmp_path / "other")],
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert other.returncode == 1
        assert f"port {port} is in use" in other.stderr and "--port" in other.stderr
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        errors.seek(0)
        err = errors.read()
        assert proc.returncode == 0, err
        assert "BOT_TOKEN is not set, so the sandbox starts instead" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errors.close()


async def test_a_send_retried_after_a_lost_answer_is_delivered_once_also_after_a_restart(tmp_path: Path) -> None:
    """The page gives each text an id of its own (random_id, as Telegram clients do): a retry of
    a send whose answer was lost, even after the sandbox was stopped and started again, is the
    same message."""
    data = tmp_path / "sb"
    body = {"persona": "requester", "text": "/ajukan", "random_id": 2**53 - 7}
    sb = Sandbox(data, port=0, start_at=MONDAY_9, settings=SANDBOX_TEST_SETTINGS)
    await sb.start()
    try:
        assert sb.emu is not None
        async with httpx.AsyncClient(base_url=sb.url, timeout=10) as c:
            assert (await c.post("/api/send", headers=HEADERS, json=body)).json() == {"ok": True}
            assert (await c.post("/api/send", headers=HEADERS, json=body)).json() == {"ok": True, "duplicate": True}
            for bad in (True, 0, -1, 2**63, "1", 1.5):
                r = await c.post("/api/send", headers=HEADERS, json={**body, "random_id": bad})
                assert r.status_code == 400, bad
        await sb.emu.wait_bot_message(REQ, contains="Perangkat Daerah")
    finally:
        await sb.stop()
    again = Sandbox(data, port=0, settings=SANDBOX_TEST_SETTINGS)
    await again.start()
    try:
        assert again.emu is not None
        async with httpx.AsyncClient(base_url=again.url, timeout=10) as c:
            assert (await c.post("/api/send", headers=HEADERS, json=body)).json() == {"ok": True, "duplicate": True}
            other = {**body, "text": "dinkes", "random_id": 1}
            assert (await c.post("/api/send", headers=HEADERS, json=other)).json() == {"ok": True}
            assert (await c.post("/api/send", headers=HEADERS, json=other)).json() == {"ok": True, "duplicate": True}
        await again.emu.wait_bot_message(REQ, contains="nomor surat")
        assert [m.text for m in again.emu.chat(REQ) if not m.from_bot] == ["/ajukan", "dinkes"]
    finally:
        await again.stop()


async def test_events_by_polling_for_pages_without_a_shared_stream(sandbox: Sandbox) -> None:
    assert sandbox.emu is not None
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as c:
        start = (await c.get("/api/events")).json()
        assert start["epoch"] == sandbox.epoch and start["events"] == []
        sandbox.emu.send_text(REQ, "/ajukan")
        await sandbox.emu.wait_bot_message(REQ, contains="Perangkat Daerah")
        since = (await c.get(f"/api/events?after={start['last']}")).json()
        assert {"type": "chat", "persona": "requester"} in since["events"] and since["last"] > start["last"]
        assert (await c.get(f"/api/events?after={since['last']}")).json()["events"] == []
        # Too far behind (or from before a restart): everything is fetched again.
        for behind in (since["last"] + 5, 0):
            if behind == 0:
                for _ in range(1001):
                    sandbox.web.broadcast({"type": "typing", "persona": "admin"})
            assert (await c.get(f"/api/events?after={behind}")).json()["events"] == [{"type": "resync"}]


async def test_addresses_that_do_not_exist_answer_in_indonesian(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as c:
        for path in ("/file/nothing", "/nothing"):
            r = await c.get(path)
            assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
            assert '<html lang="id">' in r.text and "Not Found" not in r.text
            assert "tidak ada di sandbox" in r.text and 'href="/"' in r.text
        r = await c.get("/api/nothing")  # the page's script gets JSON
        assert r.status_code == 404 and r.json() == {"ok": False, "error": "Alamat ini tidak ada di sandbox."}
        r = await c.post("/", headers=HEADERS)
        assert r.status_code == 405 and "Not Allowed" not in r.text


async def test_rekap_shows_the_demo_history(sandbox: Sandbox) -> None:
    """The Head's /rekap in the sandbox: past months of requests, with a chart and the files."""
    emu = sandbox.emu
    assert emu is not None
    head = PERSONA_BY_KEY["head"].user_id
    assert await _count(sandbox, Request) == DEMO_REQUESTS
    emu.send_text(head, "/rekap")
    menu = await emu.wait_bot_message(head, contains="Pilih periode")
    qid = emu.tap(head, menu.message_id, button_text="Tahun ini")
    assert (await emu.wait_callback_answer(qid))["text"].startswith("⏳")
    text = await emu.wait_bot_message(head, contains="Rekapitulasi Pelaksanaan SOP", after=menu.message_id,
                                      timeout=20)
    photo = await emu.wait_bot_message(head, contains="Rekapitulasi SOP —", after=text.message_id, timeout=20)
    assert photo.photo and photo.content.startswith(b"\x89PNG")
    received = int(text.text.split("Diterima ", 1)[1].split(" ", 1)[0])
    assert received > 20 and "Per pejabat" in text.text and "Budi Pranoto" in text.text
    assert "belum ada" not in text.text.split("Prosedur B")[0]  # every step of procedure A has passages
    qid = emu.tap(head, photo.message_id, button_text="📄 PDF")
    await emu.wait_callback_answer(qid)
    pdf = await emu.wait_bot_message(head, contains="Laporan Monitoring", after=photo.message_id, timeout=20)
    assert pdf.file_name == "monev-sop-20260101-20261231.pdf" and pdf.content.startswith(b"%PDF")
