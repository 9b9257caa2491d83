"""Procedure B with the manual adapter: who may use it, the application's data with validation,
and the three portal steps guided and timed against the SOP's 10 minutes."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Application, AppStep
from tests.e2e.flows import complete_procedure_a
from tests.e2e.harness import REQUESTER, STRANGER, TEAM, Harness

CONTACT = 6300


async def test_manual_procedure_b(h: Harness) -> None:
    await h.say(STRANGER, "/aplikasi", expect="narahubung terverifikasi")  # no account: refused politely
    await complete_procedure_a(h, CONTACT)
    await h.say(REQUESTER, "/aplikasi", expect="narahubung terverifikasi")  # the requester is not the contact
    menu = await h.say(CONTACT, "/aplikasi", expect="Daftarkan aplikasi baru")
    await h.tap(CONTACT, menu, text=h.button(menu, "dinkes.simpus@kotabogor.go.id"), expect="nama aplikasi")
    await h.say(CONTACT, "SIMPUS <script>", expect="hanya boleh berisi")
    await h.say(CONTACT, "SIMPUS-Integrasi", expect="deskripsi singkat")
    m = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, m, text="⏭ Lewati", expect="proses bisnis")
    m = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, m, text=h.button(m, "Gunakan proses bisnis"), expect="lingkungan")
    m = h.emu.last_bot_message(CONTACT)
    await h.tap(CONTACT, m, text="Production", expect="callback URL")
    await h.say(CONTACT, "ftp://bukan-url", expect="URL tidak valid")
    summary = await h.say(CONTACT, "https://simpus.kotabogor.go.id/callback", expect="Ringkasan data aplikasi")
    assert "SIMPUS-Integrasi" in summary.text and "Production" in summary.text

    await h.tap(CONTACT, summary, text="▶️ Mulai", expect="Langkah B1")
    b1 = h.emu.last_bot_message(CONTACT)
    assert "devportal" in b1.text and "dinkes.simpus@kotabogor.go.id" in b1.text and "10 menit" in b1.text
    h.clock.advance(minutes=3)
    await h.tap(CONTACT, b1, text=h.button(b1, "B1 selesai"), expect="Langkah B2")
    b2 = h.emu.last_bot_message(CONTACT)
    assert "SIMPUS-Integrasi" in b2.text
    stale = b1.buttons  # the B1 button is gone
    assert not stale
    h.clock.advance(minutes=12)  # over the limit
    await h.tap(CONTACT, b2, text=h.button(b2, "B2 selesai"), expect="Langkah B3")
    b3 = h.emu.last_bot_message(CONTACT)
    h.clock.advance(minutes=4)
    await h.tap(CONTACT, b3, text=h.button(b3, "B3 selesai"), expect="akses API SPLP")
    done = h.emu.last_bot_message(CONTACT)
    assert "B1: 3 menit 0 detik (tepat waktu)" in done.text
    assert "B2: 12 menit 0 detik (melewati batas)" in done.text
    async with h.db.sessions() as s:
        app = await s.scalar(select(Application))
        steps = (await s.scalars(select(AppStep).order_by(AppStep.id))).all()
    assert app.status == "done" and [x.step_code for x in steps] == ["B1", "B2", "B3"]
    assert all(x.done_at for x in steps)

    # The same name cannot be registered twice for this account; officials may act for the agency.
    menu = await h.say(TEAM, "/aplikasi", expect="Daftarkan aplikasi baru")
    await h.tap(TEAM, menu, text=h.button(menu, "dinkes.simpus"), expect="nama aplikasi")
    await h.say(TEAM, "simpus-integrasi", expect="sudah digunakan")
    listing = await h.say(CONTACT, "/aplikasi", expect="Aplikasi SPLP")
    assert "SIMPUS-Integrasi (Production) — selesai" in listing.text
    await h.tap(CONTACT, listing, text="ℹ️ SIMPUS-Integrasi", expect="Langkah (batas 10 menit)")
    info = h.emu.last_bot_message(CONTACT)
    assert "B2: " in info.text and "melewati batas" in info.text and "dinkes.simpus@kotabogor.go.id" in info.text
    # Managing it is guided in the portal (no buttons that would need the account's password).
    assert "Regenerate Secret" in info.text and "tidak mencakup" in info.text
    assert not info.buttons
    # Someone else cannot open it.
    data = next(b["callback_data"] for b in listing.buttons if b["text"].startswith("ℹ️"))
    own = await h.say(STRANGER, "/start", expect="Selamat datang")
    qid = h.emu.tap_raw(STRANGER, own.message_id, data)
    assert (await h.emu.wait_callback_answer(qid))["text"] == "Anda tidak berwenang melakukan tindakan ini."
