"""Procedure B in wso2 mode against the contract-checked WSO2 sandbox: the bot creates the
application, keys, subscriptions and API key as the agency's account, reveals them once, and
the example it hands over really obtains a token and calls the APIs through the gateway."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from sandbox.wso2 import WSO2Sandbox
from storage.models import Application, AppStep, Secret
from tests.e2e.flows import complete_procedure_a
from tests.e2e.harness import Harness

CONTACT = 6400
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
        await h.tap(CONTACT, done, text="👁 Tampilkan")
        shown = await h.wait_msg(CONTACT, "Consumer Key", after=done.message_id)
        ans = await h.tap(CONTACT, done, text="👁 Tampilkan")
        assert "sudah ditampilkan" in ans["text"]
        assert not splp.violations

        ck = re.search(r"Consumer Key: (\S+)", shown.text)[1]  # type: ignore[index]
        cs = re.search(r"Consumer Secret: (\S+)", shown.text)[1]  # type: ignore[index]
        api_key = re.search(r"API key: (\S+)", shown.text)[1]  # type: ignore[index]
        gw = re.search(r"-H '([^:]+): Bearer \$TOKEN' (\S+)", shown.text)
        assert gw is not None
        async with httpx.AsyncClient() as c:  # the developers' example, run
            tok = (await c.post(splp.token_url, auth=(ck, cs), data={"grant_type": "client_credentials"})).json()
            r = await c.get(gw[2], headers={gw[1]: f"Bearer {tok['access_token']}"})
            assert r.status_code == 200, r.text
            r = await c.get(gw[2], headers={"apikey": api_key})
            assert r.status_code == 200, r.text
        async with h.db.sessions() as s:
            app = await s.scalar(select(Application).where(Application.status == "done"))
            steps = (await s.scalars(select(AppStep).where(AppStep.application_id == app.id)
                                     .order_by(AppStep.id))).all()
            secrets_left = (await s.scalars(select(Secret).where(Secret.ciphertext.isnot(None)))).all()
            # The first sign-in (wrong password) is on record too, ended when it failed.
        assert [x.step_code for x in steps] == ["B1", "B1", "B2", "B3"] and all(x.done_at for x in steps)
        assert secrets_left == []  # the password and the credentials are wiped
        del summary_id
        listing = await h.say(CONTACT, "/aplikasi", expect="Aplikasi SPLP")
        await h.tap(CONTACT, listing, text="ℹ️ SIMPUS-Gateway", expect="Langkah (batas 10 menit)")
        info = h.emu.last_bot_message(CONTACT)
        assert "SIMPEG" in info.text and ck not in info.text and api_key not in info.text
    finally:
        await h.close()
