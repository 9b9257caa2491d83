"""Procedure A from step 1 to Selesai (manual SPLP mode): the account, the credentials for the
phone-verified contact person (shown once, deleted, wiped), the activity report and its forwarding.
The whole way runs under both shipped SOP files (their tenants, chains, report and letterhead)."""

from __future__ import annotations

import io
import logging

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from storage.models import Secret
from tests.e2e.conftest import BOTH_SOPS
from tests.e2e.flows import to_executor
from tests.e2e.harness import EXEC1, REQUESTER, STRANGER, Harness

CONTACT = 6100  # the contact person: another Telegram user, who never wrote to the bot before
PASSWORD = "Awal#Splp2026xyz"


async def _to_registration(h: Harness):  # type: ignore[no-untyped-def]
    number = await h.submit()
    ex = await to_executor(h)
    await h.tap(EXEC1, ex, text=h.button(ex, "Lengkap"))
    reg = await h.wait_msg(EXEC1, "Kartu data untuk portal SPLP")
    # The default SPLP_BASE_URL: the production portal, as the executor types it.
    assert "salin ke splp.layanan.go.id," in reg.text and "Daftarkan akun di https://splp.layanan.go.id " in reg.text
    return number, reg




async def _record_with_password(h: Harness, reg) -> None:  # type: ignore[no-untyped-def]
    await h.tap(EXEC1, reg, text=h.button(reg, "Catat akun"), expect="nama pengguna akun SPLP")
    choice = await h.say(EXEC1, "dinkes.simpus", expect="Bagaimana kredensial awal")
    await h.tap(EXEC1, choice, text=h.button(choice, "ketik kata sandi"), expect="kata sandi awal")
    await h.say(EXEC1, PASSWORD, expect="Akun tercatat")


async def _verified_offer(h: Harness):  # type: ignore[no-untyped-def]
    """The contact person opens the link, shares the right number, and gets the Tampilkan offer."""
    token = await _link(h)
    await h.say(CONTACT, f"/start {token}", expect="membagikan nomor")
    after = h.last_id(CONTACT)
    h.emu.send_contact(CONTACT, "6281234567890")
    return await h.wait_msg(CONTACT, "Tampilkan", after=after)


async def _link(h: Harness) -> str:
    m = await h.wait_msg(REQUESTER, "?start=cp_")
    return next(w for w in m.text.split() if "?start=cp_" in w).split("?start=", 1)[1]


@BOTH_SOPS
async def test_procedure_a_to_selesai(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    emu, sop = h.emu, h.sop
    tenant = sop.tenant  # the SOP file's SPLP tenant
    forwarder = h.user_of(sop.forwarder)
    number, reg = await _to_registration(h)
    assert "siti.aminah@kotabogor.go.id" in reg.text and "<pre>" in (reg.html or "")
    assert f"tenant {tenant}" in reg.text

    # Step 5: the executor records the account registered on the portal, with the initial password.
    await h.tap(EXEC1, reg, text=h.button(reg, "Catat akun"), expect="nama pengguna akun SPLP")
    await h.say(EXEC1, "dinkes.simpus@lain.go.id", expect=f"harus berakhiran @{tenant}")
    choice = await h.say(EXEC1, "dinkes.simpus", expect="Bagaimana kredensial awal")
    assert f"dinkes.simpus@{tenant}" in choice.text
    await h.tap(EXEC1, choice, text=h.button(choice, "ketik kata sandi"), expect="kata sandi awal")
    after = h.last_id(EXEC1)
    pw_msg = emu.send_text(EXEC1, PASSWORD)["message"]["message_id"]
    await h.wait_msg(EXEC1, "Akun tercatat", after=after)
    await emu.wait_for(lambda: emu.message(EXEC1, pw_msg).deleted)  # the password left the chat at once
    async with h.db.sessions() as s:
        sec = await s.scalar(select(Secret))
    assert sec.ciphertext and PASSWORD.encode() not in sec.ciphertext  # encrypted at rest
    assert (await h.request(number)).stage == "report"

    # The requester passes the personal link on; the contact person verifies their phone.
    token = await _link(h)
    await h.say(CONTACT, f"/start {token}", expect="membagikan nomor ponsel Anda sendiri")
    after = h.last_id(CONTACT)
    emu.send_contact(CONTACT, "6281299998888")  # their own, but not the letter's number
    await h.wait_msg(CONTACT, "tidak sama dengan nomor narahubung", after=after)
    after = h.last_id(CONTACT)
    emu.send_contact(CONTACT, "6281234567890", contact_user_id=STRANGER)  # someone else's card
    await h.wait_msg(CONTACT, "bukan milik Anda", after=after)
    after = h.last_id(CONTACT)
    emu.send_contact(CONTACT, "6281234567890")
    offer = await h.wait_msg(CONTACT, "Tampilkan", after=after)
    # Somebody else who got hold of the link cannot verify any more.
    await h.say(STRANGER, f"/start {token}", expect="sudah diverifikasi dengan akun Telegram lain")

    # Shown once, deleted after 10 minutes, wiped from the database; the button is spent.
    show = h.data(offer, "Tampilkan")
    ans = await h.tap(CONTACT, offer, text="👁 Tampilkan")
    assert ans["text"] == "Kredensial ditampilkan."
    shown = await h.wait_msg(CONTACT, "Kata sandi awal", after=offer.message_id)
    assert PASSWORD in shown.text and f"dinkes.simpus@{tenant}" in shown.text
    assert "Masuk di https://splp.layanan.go.id dan segera ganti" in shown.text  # the default SPLP_BASE_URL
    await h.emu.wait_for(lambda: not h.emu.message(CONTACT, offer.message_id).buttons)
    assert "✅ Ditampilkan pada" in h.emu.message(CONTACT, offer.message_id).text
    ans = await h.tap_data(CONTACT, offer, show)
    assert "sudah ditampilkan" in ans["text"]
    # The deletion scheduled for later does not hold up the chat's other messages.
    await h.say(CONTACT, "/bantuan", expect="Bantuan", timeout=3)
    async with h.db.sessions() as s:
        sec = await s.scalar(select(Secret))
    assert sec.ciphertext is None and sec.wipe_reason == "revealed" and sec.revealed_to == CONTACT
    h.clock.advance(minutes=9)
    h.runtime.sender.wake()  # type: ignore[union-attr]
    await h.settle()
    assert not emu.message(CONTACT, shown.message_id).deleted
    h.clock.advance(minutes=2)
    h.runtime.sender.wake()  # type: ignore[union-attr]
    await emu.wait_for(lambda: emu.message(CONTACT, shown.message_id).deleted)

    # Step 6: the report, previewed by the executor, with a note, sent to the forwarder (the Head).
    task = await h.wait_msg(EXEC1, f"Pratinjau {sop.report_name.lower()} terlampir")
    pdfs = [m for m in emu.bot_messages(EXEC1) if m.file_name and m.file_name.endswith(".pdf")]
    assert pdfs
    await h.tap(EXEC1, task, text=h.button(task, "Tambah catatan"), expect="Ketik catatan")
    task2 = await h.say(EXEC1, "Akun diuji masuk oleh narahubung pada hari yang sama.",
                        expect=f"Pratinjau {sop.report_name.lower()} terlampir")
    ans = await h.tap(EXEC1, task2, text=h.button(task2, f"Kirim ke {sop.role_title(sop.forwarder)}"))
    assert ans["text"] == f"Laporan dikirim kepada {sop.role_title(sop.forwarder)}."

    # Step 7: the forwarder sends it on; requester and contact person get the PDF; Selesai.
    fwd = await h.wait_msg(forwarder, "Teruskan kepada pemohon untuk menyelesaikan")
    ans = await h.tap(forwarder, fwd, text=h.button(fwd, "Teruskan kepada pemohon"))
    assert ans["text"] == "Laporan diteruskan kepada pemohon."
    done = await h.wait_msg(REQUESTER, "selesai")
    assert "Total waktu langkah 2–7" in done.text
    await h.wait_msg(CONTACT, "selesai")
    final = [m for m in emu.bot_messages(REQUESTER) if m.file_name and m.file_name.endswith(".pdf")][-1]
    reader = PdfReader(io.BytesIO(final.content))  # type: ignore[arg-type]
    pdf_text = "\n".join(p.extract_text() for p in reader.pages)
    flat = " ".join(pdf_text.split())
    assert number in pdf_text and "LAP-" + number in pdf_text
    # The SOP's letterhead, report title, reference and version; its stages, one row each.
    for line in (*sop.doc.report.letterhead, sop.doc.report.title, sop.identity.reference,
                 f"revisi {sop.revision}, versi {sop.version[:8]}", f"{sop.identity.place}, "):
        assert line in flat, line
    labels = [sop.request_step.label, *(sop.stages[st].label for st in sop.chain),
              *(sop.stages[st].label for st in ("completeness", "registration", "report"))]
    for label in labels:
        assert label in flat, label
    assert sop.stages["forward"].label not in flat  # the forwarding comes after the report
    assert f"dinkes.simpus@{tenant}" in pdf_text and "hari yang sama" in pdf_text
    assert PASSWORD not in pdf_text
    # The report as the executor sent it: every step done (step 6 at the moment it was sent), none
    # running; the Head's forwarding (step 7) comes after the report and is not in it.
    assert "Berjalan" not in pdf_text and "masih berjalan" not in pdf_text, pdf_text
    assert "Seluruh tahapan telah diselesaikan" in pdf_text.replace("\n", " ")
    assert "Pelaks\nana" not in pdf_text  # a role title breaks after its slash, never inside a word
    assert sop.role_title(sop.executor) in flat.replace("/ ", "/")
    head_pdf = [m for m in emu.bot_messages(forwarder) if m.file_name and m.file_name.endswith(".pdf")][-1]
    assert head_pdf.content == final.content  # the Head forwards the very document it received
    req = await h.request(number)
    assert req.stage == "done" and req.closed_at is not None
    st = await h.say(REQUESTER, "/status", expect=number)
    assert "Total waktu langkah 2–7" in st.text and "dalam batas SOP" in st.text

    # The secret is nowhere: not in any table, not in any log line.
    async with h.db.sessions() as s:
        for table in ("outbox", "audit_log", "chat_session", "secret", "account", "request", "processed_update"):
            rows = (await s.execute(text(f"SELECT * FROM {table}"))).all()
            assert PASSWORD not in repr(rows), table
    assert PASSWORD not in "\n".join(r.getMessage() for r in caplog.records)


async def test_contact_link_locks_after_failures(h: Harness) -> None:
    number, reg = await _to_registration(h)
    await _record_with_password(h, reg)
    token = await _link(h)
    await h.say(STRANGER, f"/start {token}", expect="membagikan nomor")
    for _ in range(2):
        after = h.last_id(STRANGER)
        h.emu.send_contact(STRANGER, "6281200001111")
        await h.wait_msg(STRANGER, "tidak sama", after=after)
    after = h.last_id(STRANGER)
    h.emu.send_contact(STRANGER, "6281200001111")
    await h.wait_msg(STRANGER, "terkunci", after=after)
    await h.wait_msg(EXEC1, "terkunci")
    await h.say(CONTACT, f"/start {token}", expect="terkunci")  # even the right person now: the executor acts


async def test_unrevealed_secret_expires_and_is_reissued(h: Harness) -> None:
    number, reg = await _to_registration(h)
    await _record_with_password(h, reg)
    offer = await _verified_offer(h)
    h.clock.advance(hours=72, minutes=1)  # Thursday 09:01: working time
    await h.runtime.sweep_reminders()  # type: ignore[union-attr]
    note = await h.wait_msg(EXEC1, "tidak ditampilkan oleh narahubung")
    async with h.db.sessions() as s:
        sec = await s.scalar(select(Secret))
    assert sec.ciphertext is None and sec.wipe_reason == "expired"
    ans = await h.tap(CONTACT, offer, text="👁 Tampilkan")
    assert "tidak berlaku" in ans["text"]
    await h.tap(EXEC1, note, text=h.button(note, "Terbitkan ulang"), expect="kata sandi awal yang baru")
    await h.say(EXEC1, "Baru#Splp2026abc", expect="Kata sandi baru disimpan")
    offer2 = await h.wait_msg(CONTACT, "Tampilkan", after=offer.message_id)
    await h.tap(CONTACT, offer2, text="👁 Tampilkan")
    shown = await h.wait_msg(CONTACT, "Kata sandi awal", after=offer2.message_id)
    assert "Baru#Splp2026abc" in shown.text
    del number


async def test_portal_email_delivery(h: Harness) -> None:
    number, reg = await _to_registration(h)
    await h.tap(EXEC1, reg, text=h.button(reg, "Catat akun"), expect="nama pengguna akun SPLP")
    choice = await h.say(EXEC1, "dinkes.simpus", expect="Bagaimana kredensial awal")
    await h.tap(EXEC1, choice, text=h.button(choice, "melalui email"), expect="Akun tercatat")
    m = await h.wait_msg(REQUESTER, "dikirim oleh portal SPLP")
    assert "s***@kotabogor.go.id" in m.text
    async with h.db.sessions() as s:
        assert await s.scalar(select(Secret)) is None
    assert (await h.request(number)).stage == "report"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_secrets_key_file_and_refusal_without_key(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat
    from pathlib import Path

    from bot.settings import MissingSetting

    h = Harness(emu, db_url)
    await h.start()
    await h.cast()
    try:
        key = Path(h.data_dir) / "secrets.key"
        assert key.exists() and stat.S_IMODE(os.stat(key).st_mode) == 0o600  # generated, owner-only
        _, reg = await _to_registration(h)
        await h.tap(EXEC1, reg, text=h.button(reg, "Catat akun"), expect="nama pengguna akun SPLP")
        choice = await h.say(EXEC1, "dinkes.simpus", expect="Bagaimana kredensial awal")
        await h.tap(EXEC1, choice, text=h.button(choice, "ketik kata sandi"), expect="kata sandi awal")
        await h.say(EXEC1, PASSWORD, expect="Akun tercatat")
        await h.stop()
        key.rename(key.with_suffix(".moved"))  # the key is lost, the encrypted secret is not
        with pytest.raises(MissingSetting, match="SECRETS_KEY"):
            await h.start()
        key.with_suffix(".moved").rename(key)
        await h.start()
    finally:
        await h.close()


async def test_reveal_interrupted_is_wiped_and_reissued(h: Harness) -> None:
    _, reg = await _to_registration(h)
    await _record_with_password(h, reg)
    offer = await _verified_offer(h)
    await h.settle()
    h.emu.delay_next("sendMessage", 3.0, apply=True)  # delivered, but the reply comes too late
    show = h.data(offer, "Tampilkan")
    await h.tap(CONTACT, offer, text="👁 Tampilkan")
    await h.wait_msg(EXEC1, "mungkin tidak sampai kepada narahubung", timeout=10)
    async with h.db.sessions() as s:
        sec = await s.scalar(select(Secret))
    assert sec.ciphertext is None and sec.wipe_reason == "uncertain"
    await h.emu.wait_for(lambda: not h.emu.message(CONTACT, offer.message_id).buttons)
    ans = await h.tap_data(CONTACT, offer, show)
    assert "tidak berlaku" in ans["text"]


async def test_unrecognised_text_gets_the_hint_that_fits_the_sender(h: Harness) -> None:
    """Officials are pointed to /tugas, admins to their commands, the verified contact person to
    /aplikasi; a requester (or anyone else) to /ajukan."""
    from tests.e2e.harness import ADMIN, DIVISION

    _, reg = await _to_registration(h)
    await _record_with_password(h, reg)
    await _verified_offer(h)
    hints = {}
    for uid in (DIVISION, ADMIN, CONTACT, REQUESTER, STRANGER):
        h.emu.add_user(uid, "X", started=True)
        hints[uid] = (await h.say(uid, "halo", expect="tidak dikenali")).text
    assert "/tugas" in hints[DIVISION] and "/ajukan" not in hints[DIVISION] and "/undang" not in hints[DIVISION]
    assert "/undang" in hints[ADMIN] and "/tugas" not in hints[ADMIN]
    assert "/aplikasi" in hints[CONTACT] and "/ajukan" not in hints[CONTACT]
    assert "/ajukan" in hints[REQUESTER] and "/ajukan" in hints[STRANGER] and "/tugas" not in hints[STRANGER]
    assert all("/bantuan" in t for t in hints.values())
