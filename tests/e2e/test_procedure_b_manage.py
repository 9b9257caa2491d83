"""Procedure B in wso2 mode beyond the happy path, end to end over HTTP against the Bot API
emulator and the contract-checked WSO2 sandbox: managing an application (more APIs, a new API
key with the old one revoked, a new consumer secret, deletion), approval workflows (approved,
rejected, for the application and for a subscription), SPLP failures (409, 5xx mid-sequence,
timeout, an expired REST token), and no secret in the database or the logs afterwards."""

from __future__ import annotations

import contextlib
import logging
import re

import httpx
import pytest
from sqlalchemy import select

from sandbox.wso2 import WSO2Sandbox
from sandbox.telegram import Msg
from storage.models import Application, Secret
from tests.e2e.flows import complete_procedure_a
from tests.e2e.harness import Harness, wait_until

CONTACT = 6400
PASSWORD = "Rahasia#2026"
USER = "dinkes.simpus"


def _harness(emu, db_url, splp: WSO2Sandbox, **kw) -> Harness:  # type: ignore[no-untyped-def]
    return Harness(emu, db_url, splp_mode="wso2", splp_base_url=splp.base_url, splp_gateway_url=splp.base_url,
                   splp_admin_username="admin@kotabogor.go.id", splp_admin_password="admin-pass",
                   **{"splp_timeout": 5, **kw})


@contextlib.asynccontextmanager
async def _running(emu, db_url, splp: WSO2Sandbox, **kw):  # type: ignore[no-untyped-def]
    """The bot in wso2 mode with procedure A done: the contact person holds an SPLP account."""
    h = _harness(emu, db_url, splp, **kw)
    splp.create_user(USER, PASSWORD)
    await h.start()
    try:
        await h.cast()
        await complete_procedure_a(h, CONTACT)
        yield h
    finally:
        await h.close()


async def _password(h: Harness, expect: str, timeout: float = 10) -> Msg:
    after = h.last_id(CONTACT)
    mid = h.emu.send_text(CONTACT, PASSWORD)["message"]["message_id"]
    got = await h.wait_msg(CONTACT, expect, after=after, timeout=timeout)
    assert h.emu.message(CONTACT, mid).deleted  # the password does not stay in the chat
    return got


async def _new_app(h: Harness, name: str, apis: tuple[str, ...], *, expect: str = "terdaftar di SPLP",
                   environment: str = "Production") -> Msg:
    """/aplikasi → data → sign in → choose APIs → process; returns the message that ``expect`` names."""
    menu = await h.say(CONTACT, "/aplikasi", expect="Daftarkan aplikasi baru")
    await h.tap(CONTACT, menu, text=h.button(menu, USER), expect="nama aplikasi")
    await h.say(CONTACT, name, expect="deskripsi")
    await h.say(CONTACT, "Integrasi data layanan dengan SPLP", expect="proses bisnis")
    m = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, m, text=h.button(m, "Gunakan proses bisnis"), expect="lingkungan")
    m = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, m, text=environment, expect="callback URL")
    m = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, m, text="⏭ Lewati", expect="Ringkasan data aplikasi")
    summary = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, summary, text="▶️ Mulai")
    await h.wait_msg(CONTACT, "kata sandi akun SPLP")
    pick = await _password(h, "pilih API SPLP")
    return await _choose(h, pick, apis, expect)


async def _choose(h: Harness, pick: Msg, apis: tuple[str, ...], expect: str) -> Msg:
    for api in apis:
        cur = h.emu.message(CONTACT, pick.message_id)
        await h.tap(CONTACT, cur, text=h.button(cur, api))
        await h.emu.wait_for(lambda api=api: any(api in t and "☑️" in t for t in
                                                 h.emu.message(CONTACT, pick.message_id).button_texts))
    cur = h.emu.message(CONTACT, pick.message_id)
    after = h.last_id(CONTACT)
    await h.tap(CONTACT, cur, text="▶️ Proses")
    return await h.wait_msg(CONTACT, expect, after=after, timeout=15)


async def _reveal(h: Harness, msg: Msg) -> dict[str, str]:
    after = h.last_id(CONTACT)
    await h.tap(CONTACT, msg, text="👁 Tampilkan")
    shown = await h.wait_msg(CONTACT, "Kredensial aplikasi", after=after)
    out = {}
    for label, key in (("Consumer Key", "ck"), ("Consumer Secret", "cs"), ("API key", "api_key")):
        m = re.search(rf"{label}: (\S+)", shown.text)
        if m:
            out[key] = m[1]
    return out


async def _details(h: Harness, name: str) -> Msg:
    listing = await h.say(CONTACT, "/aplikasi", expect="Aplikasi SPLP")
    await h.tap(CONTACT, listing, text=f"ℹ️ {name}", expect="Langkah (batas 10 menit)")
    return h.emu.last_bot_message(CONTACT)


async def _gateway(splp: WSO2Sandbox, api_name: str, headers: dict[str, str]) -> int:
    api = splp.api_by_name(api_name)
    async with httpx.AsyncClient() as c:
        return (await c.get(splp.gateway_url(api["id"]) + "/", headers=headers)).status_code


async def _token(splp: WSO2Sandbox, ck: str, cs: str) -> httpx.Response:
    async with httpx.AsyncClient() as c:
        return await c.post(splp.token_url, auth=(ck, cs), data={"grant_type": "client_credentials"})


async def _no_secrets_left(h: Harness) -> None:
    h.clock.advance(minutes=16)  # the typed password's 15 minutes pass
    await h.runtime.sweep_reminders()  # type: ignore[union-attr]
    async with h.db.sessions() as s:
        left = (await s.scalars(select(Secret.kind).where(Secret.ciphertext.isnot(None)))).all()
    assert left == []


@pytest.fixture
async def splp():  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant="kotabogor.go.id") as sb:
        yield sb
        assert not sb.violations and not sb.errors


async def test_manage_more_apis_new_api_key_new_secret_and_delete(emu, db_url, splp, caplog) -> None:  # type: ignore[no-untyped-def]
    from bot.logging_setup import quiet_libraries

    quiet_libraries()  # as main.py configures logging, with LOG_LEVEL=DEBUG
    caplog.set_level(logging.DEBUG)
    async with _running(emu, db_url, splp) as h:
        done = await _new_app(h, "SIMPUS-Kelola", ("SIMPEG",))
        first = await _reveal(h, done)
        assert await _gateway(splp, "SIMPEG", {"apikey": first["api_key"]}) == 200

        # Subscribe to one more API: the bot asks to sign in again (the password was wiped).
        info = await _details(h, "SIMPUS-Kelola")
        await h.tap(CONTACT, info, text="➕ Langganan API lain", expect="kata sandi akun SPLP")
        offer = await _password(h, "API tambahan")
        assert "SIMPEG" not in " ".join(offer.button_texts)  # already subscribed
        added = await _choose(h, offer, ("Dukcapil-NIK",), "tidak berlaku")
        # A key made before the subscription does not open the new API...
        assert await _gateway(splp, "Dukcapil-NIK", {"apikey": first["api_key"]}) in (401, 403)

        # ... the new one does, and the old one (sent to the bot, deleted at once) is revoked.
        await h.tap(CONTACT, added, text="🗝 Buat API key baru", expect="kirim API key lama")
        after = h.last_id(CONTACT)
        old_mid = h.emu.send_text(CONTACT, first["api_key"])["message"]["message_id"]
        made = await h.wait_msg(CONTACT, "API key baru telah dibuat", after=after, timeout=10)
        assert h.emu.message(CONTACT, old_mid).deleted and "dicabut" in made.text
        second = await _reveal(h, made)
        assert set(second) == {"api_key"}
        assert await _gateway(splp, "Dukcapil-NIK", {"apikey": second["api_key"]}) == 200
        assert await _gateway(splp, "SIMPEG", {"apikey": second["api_key"]}) == 200
        assert await _gateway(splp, "SIMPEG", {"apikey": first["api_key"]}) in (401, 403), made.text

        # A new consumer secret: the old one no longer obtains a token, the new one does.
        info = await _details(h, "SIMPUS-Kelola")
        assert "Dukcapil-NIK" in info.text and first["cs"] not in info.text
        after = h.last_id(CONTACT)
        await h.tap(CONTACT, info, text="🔑 Buat ulang consumer secret")  # still signed in (15 minutes)
        regen = await h.wait_msg(CONTACT, "Consumer secret baru", after=after, timeout=10)
        third = await _reveal(h, regen)
        assert third["ck"] == first["ck"] and third["cs"] != first["cs"]
        assert (await _token(splp, first["ck"], first["cs"])).status_code in (400, 401)
        tok = await _token(splp, third["ck"], third["cs"])
        assert tok.status_code == 200
        bearer = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        assert await _gateway(splp, "Dukcapil-NIK", bearer) == 200

        # Delete: asked to confirm; afterwards SPLP holds nothing and the keys stop working.
        info = await _details(h, "SIMPUS-Kelola")
        await h.tap(CONTACT, info, text="🗑 Hapus aplikasi", expect="Hapus aplikasi")
        confirm = h.emu.last_bot_message(CONTACT)
        after = h.last_id(CONTACT)
        await h.tap(CONTACT, confirm, text="🗑 Ya, hapus")
        await h.wait_msg(CONTACT, "telah dihapus dari SPLP", after=after, timeout=10)
        assert not [a for a in splp.applications.values() if a.name == "SIMPUS-Kelola"]
        assert (await _token(splp, third["ck"], third["cs"])).status_code in (400, 401)
        ans = await h.tap(CONTACT, confirm, text="🗑 Ya, hapus")  # a second tap changes nothing
        assert "tidak berlaku" in ans["text"].lower() or "sudah" in ans["text"].lower()

        await _no_secrets_left(h)
        secrets = [PASSWORD, first["cs"], first["api_key"], second["api_key"], third["cs"],
                   *[t for t in splp.tokens]]
        assert any(r.name.startswith("splp") for r in caplog.records)  # the adapter did log its calls
        leaked = [r.getMessage() for r in caplog.records if any(x in r.getMessage() for x in secrets)]
        assert leaked == []


async def test_pending_application_approved_then_one_rejected(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant="kotabogor.go.id", app_approval=True) as splp:
        async with _running(emu, db_url, splp) as h:
            waiting = await _new_app(h, "SIMPUS-Setuju", ("SIMPEG",), expect="menunggu persetujuan")
            async with h.db.sessions() as s:
                kinds = (await s.scalars(select(Secret.kind).where(Secret.ciphertext.isnot(None)))).all()
            assert kinds == ["grant"]  # while waiting the bot keeps a session grant, not the password
            info = await _details(h, "SIMPUS-Setuju")
            assert "menunggu persetujuan" in info.text

            h.clock.advance(minutes=2)
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            assert h.emu.last_bot_message(CONTACT).message_id == info.message_id  # still pending: nothing said

            (kind, app_id), = splp.pending_workflows()
            splp.expire_tokens()  # hours pass: the DevPortal token lapses, the grant refreshes it
            splp.approve(app_id)
            h.clock.advance(minutes=5)
            after = h.last_id(CONTACT)
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            await h.wait_msg(CONTACT, "disetujui admin SPLP", after=after)
            done = await h.wait_msg(CONTACT, "terdaftar di SPLP", after=after, timeout=10)
            creds = await _reveal(h, done)
            assert await _gateway(splp, "SIMPEG", {"apikey": creds["api_key"]}) == 200
            async with h.db.sessions() as s:
                app = await s.scalar(select(Application).where(Application.status == "done"))
                assert app is not None and app.check_at is None

            waiting = await _new_app(h, "SIMPUS-Tolak", ("SIMPEG",), expect="menunggu persetujuan")
            (kind, app_id), = splp.pending_workflows()
            splp.reject(app_id)
            after = h.last_id(CONTACT)
            await h.tap(CONTACT, waiting, text="🔄 Periksa sekarang")  # the owner need not wait for the bot
            await h.wait_msg(CONTACT, "ditolak oleh admin SPLP", after=after, timeout=10)
            h.clock.advance(hours=1)
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            assert "ditolak" in h.emu.last_bot_message(CONTACT).text  # said once
            await _no_secrets_left(h)


async def test_pending_subscription_approved(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant="kotabogor.go.id", subscription_approval=True) as splp:
        async with _running(emu, db_url, splp) as h:
            await _new_app(h, "SIMPUS-Langganan", ("SIMPEG",), expect="Langganan API")
            (kind, sub_id), = splp.pending_workflows()
            assert kind == "subscription"
            splp.approve(sub_id)
            h.clock.advance(minutes=2)
            after = h.last_id(CONTACT)
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            done = await h.wait_msg(CONTACT, "terdaftar di SPLP", after=after, timeout=10)
            creds = await _reveal(h, done)
            assert await _gateway(splp, "SIMPEG", {"apikey": creds["api_key"]}) == 200


async def test_duplicate_name_in_splp_is_refused_clearly_and_nothing_is_made(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    from splp import AppSpec, Login
    from splp.wso2 import WSO2Adapter

    async with _running(emu, db_url, splp) as h:
        async with WSO2Adapter(base_url=splp.base_url, tenant_domain="kotabogor.go.id") as portal:
            await portal.create_application(Login(f"{USER}@kotabogor.go.id", PASSWORD), AppSpec(name="Dari-Portal"))
        msg = await _new_app(h, "Dari-Portal", ("SIMPEG",), expect="Proses di SPLP gagal")
        assert "sudah digunakan" in msg.text and "Belum ada yang dibuat di SPLP" in msg.text
        assert len([a for a in splp.applications.values() if a.name == "Dari-Portal"]) == 1
        async with h.db.sessions() as s:
            app = await s.scalar(select(Application).where(Application.status == "draft"))
            assert app is not None and "name" not in app.data and "apis" not in app.data
        # Asked for another name; everything else entered is kept, and the rest works as usual.
        await h.wait_msg(CONTACT, "nama aplikasi", after=msg.message_id)
        summary = await h.say(CONTACT, "Dari-Bot", expect="Ringkasan data aplikasi")
        await h.tap(CONTACT, summary, text="▶️ Mulai")
        await h.wait_msg(CONTACT, "kata sandi akun SPLP", after=summary.message_id)
        pick = await _password(h, "pilih API SPLP")
        await _choose(h, pick, ("SIMPEG",), "terdaftar di SPLP")
        names = sorted(a.name for a in splp.applications.values())
        assert names == ["Dari-Bot", "Dari-Portal"]


async def test_5xx_mid_sequence_reports_what_exists_and_continue_makes_nothing_twice(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    async with _running(emu, db_url, splp) as h:
        splp.fail_next(r"/subscriptions$", 500, count=10, method="POST")
        stopped = await _new_app(h, "SIMPUS-Lanjut", ("SIMPEG",), expect="Proses di SPLP terhenti")
        have, _, missing = stopped.text.partition("Belum dibuat")
        assert "aplikasi «SIMPUS-Lanjut»" in have and "kunci OAuth2" in have
        assert "langganan API SIMPEG" in missing and "API key" in missing
        assert "gangguan" in stopped.text  # the reason, in Indonesian
        splp.clear_faults()
        after = h.last_id(CONTACT)
        await h.tap(CONTACT, stopped, text="🔁 Lanjutkan")
        done = await h.wait_msg(CONTACT, "terdaftar di SPLP", after=after, timeout=10)
        creds = await _reveal(h, done)
        apps = [a for a in splp.applications.values() if a.name == "SIMPUS-Lanjut"]
        assert len(apps) == 1 and len(apps[0].keys) == 1
        assert len([x for x in splp.subscriptions.values() if x.app_id == apps[0].id]) == 1
        tok = await _token(splp, creds["ck"], creds["cs"])  # the secret kept from before the failure works
        assert tok.status_code == 200


async def test_timeout_on_create_and_expired_rest_token_make_nothing_twice(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    async with _running(emu, db_url, splp, splp_timeout=1) as h:
        splp.delay_next(r"/applications$", 2.5, method="POST")  # processed after the bot gave up waiting
        menu_done = await _new_app(h, "SIMPUS-Lambat", ("SIMPEG",))
        assert len([a for a in splp.applications.values() if a.name == "SIMPUS-Lambat"]) == 1
        await _reveal(h, menu_done)

        # The REST token expires between two actions: refreshed once, the action succeeds.
        info = await _details(h, "SIMPUS-Lambat")
        await h.tap(CONTACT, info, text="➕ Langganan API lain", expect="kata sandi akun SPLP")
        offer = await _password(h, "API tambahan")
        splp.expire_tokens()
        before = len(splp.calls)
        await _choose(h, offer, ("Dukcapil-NIK",), "tidak berlaku")
        calls = splp.calls[before:]
        assert len([c for c in calls if c.status == 401]) == 1
        refreshes = [c for c in calls if c.path.endswith("/oauth2/token")
                     and (c.request_body or {}).get("grant_type") == "refresh_token"]
        assert len(refreshes) == 1


async def test_stale_and_foreign_management_taps_change_nothing(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.harness import EXEC1, STRANGER

    async with _running(emu, db_url, splp) as h:
        done = await _new_app(h, "SIMPUS-Aman", ("SIMPEG",))
        await _reveal(h, done)
        info = await _details(h, "SIMPUS-Aman")
        await h.tap(CONTACT, info, text="🗑 Hapus aplikasi", expect="Hapus aplikasi")
        confirm = h.emu.last_bot_message(CONTACT)
        data = next(b["callback_data"] for b in confirm.buttons if "Ya, hapus" in b["text"])
        h.emu.add_user(STRANGER, "Orang", started=True)
        for uid in (STRANGER, EXEC1):  # someone else, even a Diskominfo official, presses the owner's button
            own = await h.say(uid, "/start", expect="Selamat")
            qid = h.emu.tap_raw(uid, own.message_id, data)
            ans = await h.emu.wait_callback_answer(qid)
            assert ans["show_alert"] and "tidak berwenang" in ans["text"]
        assert len([a for a in splp.applications.values() if a.name == "SIMPUS-Aman"]) == 1
        await h.tap(CONTACT, confirm, text="🗑 Ya, hapus", expect="kata sandi akun SPLP")
        await _password(h, "telah dihapus dari SPLP")
        assert not [a for a in splp.applications.values() if a.name == "SIMPUS-Aman"]
        before = len(splp.calls)
        ans = await h.tap(CONTACT, info, text="🔑 Buat ulang consumer secret")  # the old card's button
        assert ans["show_alert"] and len(splp.calls) == before


async def test_work_cut_short_by_a_crash_is_reported_and_continued(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    """kill -9 between two SPLP calls leaves the application mid-run with its recorded progress
    and a claim nobody releases; once the claim lapses the sweep tells the owner what exists and
    offers to continue, and nothing is made twice."""
    from datetime import timedelta

    async with _running(emu, db_url, splp) as h:
        splp.fail_next(r"/subscriptions$", 500, count=10, method="POST")
        await _new_app(h, "SIMPUS-Putus", ("SIMPEG",), expect="Proses di SPLP terhenti")
        splp.clear_faults()
        async with h.db.transaction() as s:  # as a crash would have left it: mid-run, claimed
            app = await s.scalar(select(Application).where(Application.status == "incomplete"))
            app.status = "in_progress"
            app.busy_until = h.clock.now() + timedelta(minutes=5)
        info = await _details(h, "SIMPUS-Putus")
        ans = await h.tap(CONTACT, info, text="🔁 Lanjutkan")
        assert "Sedang diproses" in ans["text"]  # the claim of the (dead) run still holds
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        assert h.emu.last_bot_message(CONTACT).message_id == info.message_id  # not yet lapsed: nothing said
        h.clock.advance(minutes=16)  # the claim lapses, and so does the typed password
        after = h.last_id(CONTACT)
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        told = await h.wait_msg(CONTACT, "pekerjaan terputus", after=after)
        assert "aplikasi «SIMPUS-Putus»" in told.text and "Belum dibuat" in told.text
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        assert h.emu.last_bot_message(CONTACT).message_id == told.message_id  # said once
        await h.tap(CONTACT, told, text="🔁 Lanjutkan", expect="kata sandi akun SPLP")
        done = await _password(h, "terdaftar di SPLP")
        creds = await _reveal(h, done)
        apps = [a for a in splp.applications.values() if a.name == "SIMPUS-Putus"]
        assert len(apps) == 1 and len(apps[0].keys) == 1
        assert await _gateway(splp, "SIMPEG", {"apikey": creds["api_key"]}) == 200


async def test_continue_tapped_as_soon_as_the_failure_arrives_is_taken(emu, db_url, splp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The failure message and the run's claim given back are one transaction: an owner who taps
    «Lanjutkan» the moment it arrives is not told the work is still going on, however late the
    run's own last steps come (a busy machine, here a slow release)."""
    import asyncio

    from bot.services.apps_wso2 import AppsWso2

    release = AppsWso2._release

    async def slow_release(self, app_id: int) -> None:  # type: ignore[no-untyped-def]
        if (await self._app(app_id)).status == "incomplete":  # the run that stopped half-way
            await asyncio.sleep(1.0)
        await release(self, app_id)

    monkeypatch.setattr(AppsWso2, "_release", slow_release)
    async with _running(emu, db_url, splp) as h:
        splp.fail_next(r"/subscriptions$", 500, count=10, method="POST")
        stopped = await _new_app(h, "SIMPUS-Cepat", ("SIMPEG",), expect="Proses di SPLP terhenti")
        splp.clear_faults()
        ans = await h.tap(CONTACT, stopped, text="🔁 Lanjutkan")
        assert "Sedang diproses" not in ans["text"], ans
        await asyncio.sleep(1.2)  # whatever the run had left to do is done before the bot stops


async def test_reveal_refused_may_be_retried_and_an_uncertain_one_is_wiped(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    async with _running(emu, db_url, splp) as h:
        done = await _new_app(h, "SIMPUS-Tampil", ("SIMPEG",))
        await h.settle()
        h.emu.fail_next("sendMessage", status=400, description="Bad Request: message is too long")

        async def claim_released() -> bool:
            async with h.db.sessions() as s:
                sec = await s.scalar(select(Secret).where(Secret.kind == "app_credentials"))
                return sec.reveal_claimed_until is None and sec.ciphertext is not None

        await h.tap(CONTACT, done, text="👁 Tampilkan")
        await wait_until(claim_released)  # refused outright: nothing shown, still there to reveal
        creds = await _reveal(h, done)
        assert creds["api_key"]

        info = await _details(h, "SIMPUS-Tampil")
        await h.tap(CONTACT, info, text="🔑 Buat ulang consumer secret", expect="kata sandi akun SPLP")
        regen = await _password(h, "Consumer secret baru")
        await h.settle()
        h.emu.delay_next("sendMessage", 3.0, apply=True)  # delivered, but the reply comes too late
        show = h.data(regen, "Tampilkan")
        await h.tap(CONTACT, regen, text="👁 Tampilkan")
        lapsed = await h.wait_msg(CONTACT, "mungkin tidak sampai kepada Anda", after=regen.message_id, timeout=10)
        assert any("consumer secret" in t for t in lapsed.button_texts)  # offered again at once
        async with h.db.sessions() as s:
            wiped = (await s.scalars(select(Secret).where(Secret.kind == "app_credentials")
                                     .order_by(Secret.id))).all()
        assert [x.wipe_reason for x in wiped] == ["revealed", "uncertain"] and all(x.ciphertext is None for x in wiped)
        # The button is spent (the secret is gone); an old copy of it is answered.
        await h.emu.wait_for(lambda: not h.emu.message(CONTACT, regen.message_id).buttons)
        assert "Tidak dapat ditampilkan dengan pasti" in h.emu.message(CONTACT, regen.message_id).text
        ans = await h.tap_data(CONTACT, regen, show)
        assert "tidak berlaku" in ans["text"]


async def test_deletion_awaiting_approval_is_watched_until_done(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant="kotabogor.go.id", deletion_approval=True) as splp:
        async with _running(emu, db_url, splp) as h:
            done = await _new_app(h, "SIMPUS-Hapus", ("SIMPEG",))
            await _reveal(h, done)
            info = await _details(h, "SIMPUS-Hapus")
            await h.tap(CONTACT, info, text="🗑 Hapus aplikasi", expect="Hapus aplikasi")
            confirm = h.emu.last_bot_message(CONTACT)
            await h.tap(CONTACT, confirm, text="🗑 Ya, hapus", expect="kata sandi akun SPLP")
            waiting = await _password(h, "Penghapusan aplikasi")
            assert "menunggu persetujuan" in waiting.text

            async def run_over() -> bool:  # the run gives its claim back a moment after its message
                async with h.db.sessions() as s:
                    return await s.scalar(select(Application.busy_until)) is None

            await wait_until(run_over)  # a tap before that is told to wait (BUSY_TEXT), as designed
            after = h.last_id(CONTACT)
            await h.tap(CONTACT, waiting, text="🔄 Periksa sekarang")  # asked while still pending: answered
            await h.wait_msg(CONTACT, "masih menunggu persetujuan", after=after, timeout=10)
            info = await _details(h, "SIMPUS-Hapus")
            assert [b["text"] for b in info.buttons] == ["🔄 Periksa persetujuan"]  # nothing else meanwhile
            (kind, app_id), = splp.pending_workflows()
            assert kind == "deletion"
            splp.approve(app_id)
            h.clock.advance(minutes=10)
            after = h.last_id(CONTACT)
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            await h.wait_msg(CONTACT, "telah dihapus dari SPLP", after=after, timeout=10)
            assert splp.applications == {}
            await _no_secrets_left(h)


async def test_one_run_at_a_time_for_taps_and_the_sweep(emu, db_url, splp) -> None:  # type: ignore[no-untyped-def]
    """The sweep's check and a tap's operation claim the same application row: whoever holds it
    runs, the other is told to wait (or skips), also across instances."""
    from datetime import timedelta

    from bot.services.apps_wso2 import claim

    async with _running(emu, db_url, splp) as h:
        done = await _new_app(h, "SIMPUS-Satu", ("SIMPEG",))
        await _reveal(h, done)
        async with h.db.sessions() as s:
            app_id = await s.scalar(select(Application.id))
        now = h.clock.now()
        async with h.db.transaction() as s:
            assert await claim(s, app_id, now)
        async with h.db.transaction() as s:
            assert not await claim(s, app_id, now)  # held
            assert not await claim(s, app_id, now + timedelta(minutes=10), due_check=True)  # not waiting
        info = await _details(h, "SIMPUS-Satu")
        before = len(splp.calls)
        ans = await h.tap(CONTACT, info, text="🔑 Buat ulang consumer secret")
        assert "Sedang diproses" in ans["text"] and len(splp.calls) == before
        async with h.db.transaction() as s:
            assert await claim(s, app_id, now + timedelta(minutes=6))  # a dead run's claim lapses
