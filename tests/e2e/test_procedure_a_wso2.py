"""Step 5 in wso2 mode: the bot creates the account through SPLP's SCIM API (the in-project
WSO2-compatible sandbox, which checks every request and response against the contract)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from sandbox.wso2 import WSO2Sandbox
from storage.models import Account
from tests.e2e.flows import to_executor
from tests.e2e.harness import EXEC1, REQUESTER, Harness

CONTACT = 6200
USERNAME = "dinkes.simpus.kota.bogor"


@pytest.fixture
async def splp():  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant="kotabogor.go.id") as sb:
        yield sb


async def _h(emu, db_url, splp, **kw) -> Harness:  # type: ignore[no-untyped-def]
    cfg = dict(splp_mode="wso2", splp_base_url=splp.base_url, splp_admin_username="admin@kotabogor.go.id",
               splp_admin_password="admin-pass", splp_timeout=3)
    cfg.update(kw)
    h = Harness(emu, db_url, **cfg)
    await h.start()
    await h.cast()
    return h


async def _to_registration(h: Harness):  # type: ignore[no-untyped-def]
    number = await h.submit()
    ex = await to_executor(h)
    await h.tap(EXEC1, ex, text=h.button(ex, "Lengkap"))
    return number, await h.wait_msg(EXEC1, "Kartu data untuk portal SPLP")


async def test_wso2_registration_and_credentials_work(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    h = await _h(emu, db_url, splp)
    try:
        number, reg = await _to_registration(h)
        assert f"salin ke {splp.base_url.removeprefix('http://')}," in reg.text  # the configured portal
        ans = await h.tap(EXEC1, reg, text=h.button(reg, "Daftarkan otomatis"))
        assert ans["text"] == "Mendaftarkan akun di SPLP…"
        done = await h.wait_msg(EXEC1, "Nama pengguna:", after=reg.message_id)
        assert f"{USERNAME}@kotabogor.go.id" in done.text
        user = splp.user(USERNAME)
        assert user is not None and "Internal/subscriber" in splp.user_roles(USERNAME)
        assert len(splp.calls_matching("POST", r"/scim2/Users$")) == 1
        assert not splp.violations
        assert (await h.request(number)).stage == "report"

        link = await h.wait_msg(REQUESTER, "?start=cp_")
        token = next(w for w in link.text.split() if "?start=cp_" in w).split("?start=", 1)[1]
        await h.say(CONTACT, f"/start {token}", expect="membagikan nomor")
        after = h.last_id(CONTACT)
        h.emu.send_contact(CONTACT, "6281234567890")
        offer = await h.wait_msg(CONTACT, "Tampilkan", after=after)
        await h.tap(CONTACT, offer, text="👁 Tampilkan")
        shown = await h.wait_msg(CONTACT, "Kata sandi awal", after=offer.message_id)
        password = shown.text.split("Kata sandi awal:", 1)[1].split()[0]
        assert f"Masuk di {splp.base_url} dan segera ganti" in shown.text  # SPLP_BASE_URL, not production's
        assert "splp.layanan.go.id" not in shown.text
        # The password the contact person saw really logs in to SPLP.
        async with httpx.AsyncClient() as c:
            r = await c.post(splp.dcr_url, auth=(f"{USERNAME}@kotabogor.go.id", password),
                             json={"callbackUrl": "", "clientName": "check", "owner": f"{USERNAME}@kotabogor.go.id",
                                   "grantType": "password refresh_token", "saasApp": True})
        assert r.status_code in (200, 201), r.text
    finally:
        await h.close()


async def test_wso2_errors_leave_step_5_with_a_clear_message(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    h = await _h(emu, db_url, splp, splp_admin_password="wrong")
    try:
        number, reg = await _to_registration(h)
        await h.tap(EXEC1, reg, text=h.button(reg, "Daftarkan otomatis"))
        m = await h.wait_msg(EXEC1, "Pendaftaran akun di SPLP gagal", after=reg.message_id)
        assert "ditolak" in m.text.lower() or "kredensial" in m.text.lower()
        assert (await h.request(number)).stage == "registration"
        async with h.db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Account)) == 0
    finally:
        await h.close()


async def test_wso2_user_exists(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    splp.create_user(USERNAME, "Existing#123")
    h = await _h(emu, db_url, splp)
    try:
        number, reg = await _to_registration(h)
        await h.tap(EXEC1, reg, text=h.button(reg, "Daftarkan otomatis"))
        m = await h.wait_msg(EXEC1, "Pendaftaran akun di SPLP gagal", after=reg.message_id)
        assert "sudah" in m.text
        assert (await h.request(number)).stage == "registration"
    finally:
        await h.close()


async def test_wso2_lost_reply_and_5xx_create_one_user(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    h = await _h(emu, db_url, splp)
    try:
        number, reg = await _to_registration(h)
        splp.fail_next(r"/scim2/Users$", status=502, method="POST", process=True)  # created, reply lost
        await h.tap(EXEC1, reg, text=h.button(reg, "Daftarkan otomatis"))
        await h.wait_msg(EXEC1, "Nama pengguna:", after=reg.message_id, timeout=10)
        assert len([u for u in splp.users.values() if u.user_name == USERNAME]) == 1
        assert (await h.request(number)).stage == "report"
        assert not splp.violations
    finally:
        await h.close()


async def test_wso2_timeout_is_reported_and_nothing_duplicated(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    h = await _h(emu, db_url, splp, splp_timeout=1)
    try:
        number, reg = await _to_registration(h)
        splp.delay_next(r"/scim2/Users", 4, count=10)  # SPLP hangs: every SCIM call times out
        await h.tap(EXEC1, reg, text=h.button(reg, "Daftarkan otomatis"))
        m = await h.wait_msg(EXEC1, "Pendaftaran akun di SPLP gagal", after=reg.message_id, timeout=30)
        assert "SPLP" in m.text
        assert (await h.request(number)).stage == "registration"
        import asyncio
        await asyncio.sleep(4.5)  # the hung requests complete on the server side
        assert len([u for u in splp.users.values() if u.user_name == USERNAME]) <= 1
        # Trying again once SPLP answers: the existing user is found, not created twice.
        splp.clear_faults()
        reg2 = await h.wait_msg(EXEC1, "Kartu data untuk portal SPLP")
        await h.tap(EXEC1, reg2, text=h.button(reg2, "Daftarkan otomatis"))
        m2 = await h.wait_msg(EXEC1, "SPLP", after=m.message_id, timeout=15)
        assert len([u for u in splp.users.values() if u.user_name == USERNAME]) == 1
        assert "Nama pengguna:" in m2.text or "sudah" in m2.text
    finally:
        await h.close()
