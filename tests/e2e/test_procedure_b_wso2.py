"""Procedure B in wso2 mode against the contract-checked WSO2 sandbox: the bot creates the
application, keys, subscriptions and API key as the agency's account, reveals them once, and
the example it hands over really obtains a token and calls the APIs through the gateway."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import select

from sandbox.wso2 import WSO2Sandbox
from storage.models import Application, AppStep, Secret
from tests.e2e.flows import complete_procedure_a
from tests.e2e.harness import Harness

CONTACT = 6400


def pre_blocks(msg) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of each preformatted block of a message (entity offsets count UTF-16 units)."""
    raw = msg.text.encode("utf-16-le")
    return [raw[2 * e["offset"]:2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in msg.entities or [] if e["type"] == "pre"]
PASSWORD = "Rahasia#2026"


@pytest.fixture
async def splp():  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant="kotabogor.go.id") as sb:
        sb.create_user("dinkes.simpus", PASSWORD)
        yield sb


async def test_procedure_b_wso2(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url, splp_mode="wso2", splp_base_url=splp.base_url, splp_gateway_url=splp.base_url,
                splp_admin_username="admin@kotabogor.go.id", splp_admin_password="admin-pass", splp_timeout=5)
    await h.start()
    await h.cast()
    try:
        await complete_procedure_a(h, CONTACT)
        menu = await h.say(CONTACT, "/aplikasi", expect="Daftarkan aplikasi baru")
        await h.tap(CONTACT, menu, text=h.button(menu, "dinkes.simpus"), expect="nama aplikasi")
        await h.say(CONTACT, "SIMPUS-Gateway", expect="deskripsi")
        await h.say(CONTACT, "Integrasi SIMPUS dengan API kepegawaian", expect="proses bisnis")
        m = h.emu.last_bot_message(CONTACT)
        await h.tap(CONTACT, m, text=h.button(m, "Gunakan proses bisnis"), expect="lingkungan")
        m = h.emu.last_bot_message(CONTACT)
        await h.tap(CONTACT, m, text="Production", expect="callback URL")
        m = h.emu.last_bot_message(CONTACT)
        summary_id = m.message_id
        await h.tap(CONTACT, m, text="⏭ Lewati", expect="Ringkasan data aplikasi")
        summary = h.emu.last_bot_message(CONTACT)
        await h.tap(CONTACT, summary, text="▶️ Mulai", expect="kata sandi akun SPLP")
        await h.say(CONTACT, "salah-sandi", expect="Proses di SPLP gagal", timeout=10)
        assert not h.emu.message(CONTACT, summary.message_id).buttons  # spent when «Mulai» was pressed
        summary = await h.wait_msg(CONTACT, "Ringkasan data aplikasi", after=summary.message_id)  # offered again
        await h.tap(CONTACT, summary, text="▶️ Mulai", expect="kata sandi akun SPLP")
        after = h.last_id(CONTACT)
        pw = h.emu.send_text(CONTACT, PASSWORD)["message"]["message_id"]
        pick = await h.wait_msg(CONTACT, "pilih <b>API SPLP</b>".replace("<b>", "").replace("</b>", ""),
                                after=after, timeout=10)
        assert h.emu.message(CONTACT, pw).deleted
        for api in splp.apis.values():  # the catalogue names each API's owner, version and header
            assert f"{api['name']} {api['version']} — " in pick.text
        assert "apikey" in pick.text and ": Bearer …" in pick.text
        simpeg = next(b["text"] for b in pick.buttons if "SIMPEG" in b["text"])
        await h.tap(CONTACT, pick, text=simpeg)
        await h.emu.wait_for(lambda: any("Proses" in t for t in h.emu.message(CONTACT, pick.message_id).button_texts))
        cur = h.emu.message(CONTACT, pick.message_id)
        await h.tap(CONTACT, cur, text="▶️ Proses")
        done = await h.wait_msg(CONTACT, "terdaftar di SPLP", after=pick.message_id, timeout=15)
        reveal_data = h.data(done, "Tampilkan")
        await h.tap(CONTACT, done, text="👁 Tampilkan")
        shown = await h.wait_msg(CONTACT, "Consumer Key", after=done.message_id)
        # The button is spent with the reveal; an old copy of it is answered and changes nothing.
        await h.emu.wait_for(lambda: not h.emu.message(CONTACT, done.message_id).buttons)
        assert "✅ Ditampilkan pada Senin, 30 November 2026" in h.emu.message(CONTACT, done.message_id).text
        ans = await h.tap_data(CONTACT, done, reveal_data)
        assert "sudah ditampilkan" in ans["text"]
        assert not splp.violations

        ck = re.search(r"Consumer Key: (\S+)", shown.text)[1]  # type: ignore[index]
        cs = re.search(r"Consumer Secret: (\S+)", shown.text)[1]  # type: ignore[index]
        api_key = re.search(r"API key: (\S+)", shown.text)[1]  # type: ignore[index]
        # The access token SPLP issued with the keys, with its expiry; it works at the gateway.
        token = re.search(r"Access token OAuth2 \(berlaku sampai Senin, 30 November 2026 10\.00 WIB\): (\S+)",
                          shown.text)
        assert token is not None, shown.text
        assert "diperoleh dengan Consumer Key dan Consumer Secret" in shown.text
        gw = splp.gateway_url(splp.api_by_name("SIMPEG")["id"]) + "/"
        async with httpx.AsyncClient() as c:
            r = await c.get(gw, headers={"Authorization": f"Bearer {token[1]}"})
            assert r.status_code == 200, r.text

        # The developers' example, pasted into bash as it is: token obtained, API called, HTTP 200.
        example = await h.wait_msg(CONTACT, "Contoh untuk pengembang", after=shown.message_id)
        script = pre_blocks(example)
        assert len(script) == 1 and "$TOKEN" in script[0] and "<" not in script[0]
        before = len(splp.calls)
        proc = await asyncio.create_subprocess_exec("bash", "-c", "set -euo pipefail\n" + script[0],
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        called = [(c.method, c.path.split("/t/")[-1], c.status) for c in splp.calls[before:]]
        assert called == [("POST", "/oauth2/token", 200), ("GET", "kotabogor.go.id/simpeg/1.0.0/", 200),
                          ("GET", "kotabogor.go.id/simpeg/1.0.0/", 200)], called
        assert out.count(b"{") >= 2  # both calls printed the API's answer
        async with h.db.sessions() as s:
            app = await s.scalar(select(Application).where(Application.status == "done"))
            steps = (await s.scalars(select(AppStep).where(AppStep.application_id == app.id)
                                     .order_by(AppStep.id))).all()
            secrets_left = (await s.scalars(select(Secret).where(Secret.ciphertext.isnot(None)))).all()
            # The first sign-in (wrong password) is on record too, ended when it failed.
        assert [x.step_code for x in steps] == ["B1", "B1", "B2", "B3"] and all(x.done_at for x in steps)
        timeline = [ln for ln in done.text.splitlines() if ln.startswith("• B")]
        assert [ln[:4] for ln in timeline] == ["• B1", "• B2", "• B3"]  # one line per step ...
        assert "2 percobaan" in timeline[0]  # ... the failed sign-in counted inside it
        assert secrets_left == []  # the password and the credentials are wiped
        del summary_id
        listing = await h.say(CONTACT, "/aplikasi", expect="Aplikasi SPLP")
        await h.tap(CONTACT, listing, text="ℹ️ SIMPUS-Gateway", expect="Langkah (batas 10 menit)")
        info = h.emu.last_bot_message(CONTACT)
        assert "SIMPEG" in info.text and ck not in info.text and api_key not in info.text
    finally:
        await h.close()
