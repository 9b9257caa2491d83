"""The requester's form (SOP step 1), end to end over the emulator: validation of every answer,
the buttons of the form and of the summary, cancelling, resuming, restarts and concurrent numbering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot import texts as T
from sandbox.telegram import Msg
from storage.models import Agency, Draft, Request, Session
from tests.e2e.harness import PDF, REQUESTER, Harness
from workflow.form import DEFAULT_SUBJECT

U2, U3, U4 = 5002, 5003, 5004  # further requesters (REQUESTER is 5001)

BP = ("Aplikasi SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data "
      "Kota Bogor melalui SPLP setiap hari.")
# Valid typed answers to questions 1..9, in order.
ANSWERS = ["dinkes", "000.1/123-Dinkes/2026", "27-11-2026", "Permohonan akun SPLP untuk SIMPUS",
           "Siti Aminah", "siti.aminah@kotabogor.go.id", "0812-3456-7890", "SIMPUS Kota Bogor", BP]
JPEG = b"\xff\xd8\xff\xe0" + b"1" * 4000 + b"\xff\xd9"
DOCX = b"PK\x03\x04" + b"2" * 3000
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --- helpers -----------------------------------------------------------------------------

def err(code: str, **params: Any) -> str:
    return "⚠️ " + T.ERRORS[code].format(**params)


def q(step: int) -> str:
    return f"Langkah {step}/10"


async def draft(h: Harness, uid: int) -> dict[str, Any] | None:
    async with h.db.sessions() as s:
        d = await s.scalar(select(Draft).where(Draft.user_id == uid))
        return None if d is None else dict(d.data)


async def awaiting(h: Harness, uid: int) -> str | None:
    async with h.db.sessions() as s:
        row = await s.get(Session, uid)
        return row.awaiting if row else None


async def agency_id(h: Harness, code: str) -> int:
    async with h.db.sessions() as s:
        return (await s.scalar(select(Agency.id).where(Agency.code == code)))  # type: ignore[return-value]


async def state(h: Harness, uid: int) -> tuple[dict[str, Any] | None, str | None]:
    return await draft(h, uid), await awaiting(h, uid)


async def rejected(h: Harness, uid: int, act: Callable[[], object], message: str) -> Msg:
    """``act`` sends something the bot must refuse with ``message``; draft and awaited question unchanged."""
    before = await state(h, uid)
    after = h.last_id(uid)
    act()
    m = await h.emu.wait_bot_message(uid, after=after)  # the very next bot message
    assert message in m.content_text, f"expected {message!r}, got {m.content_text!r}"
    assert await state(h, uid) == before
    return m


async def bad_text(h: Harness, uid: int, text: str, message: str) -> Msg:
    return await rejected(h, uid, lambda: h.emu.send_text(uid, text), message)


async def answer_up_to(h: Harness, uid: int, n: int) -> Msg:
    """/ajukan, then the first ``n`` valid answers; returns the question now asked."""
    m = await h.say(uid, "/ajukan", expect=q(1))
    for i in range(n):
        m = await h.say(uid, ANSWERS[i], expect=q(i + 2) if i < 9 else "Ringkasan permohonan")
    return m


async def buttons_become(h: Harness, uid: int, msg: Msg, pred: Callable[[list[str]], bool]) -> list[str]:
    await h.emu.wait_for(lambda: pred(h.emu.message(uid, msg.message_id).button_texts))
    return h.emu.message(uid, msg.message_id).button_texts


# --- every question refuses what is invalid ---------------------------------------------------

async def test_each_question_refuses_invalid_answers(h: Harness) -> None:
    uid = REQUESTER
    # No form open: a document, a photo and free text are not recognised.
    await rejected(h, uid, lambda: h.emu.send_document(uid, PDF, file_name="surat.pdf",
                                                       mime_type="application/pdf"), T.UNKNOWN_INPUT)
    await rejected(h, uid, lambda: h.emu.send_photo(uid, JPEG), T.UNKNOWN_INPUT)
    await bad_text(h, uid, "halo", T.UNKNOWN_INPUT)
    assert await draft(h, uid) is None

    # 1. Agency.
    await h.say(uid, "/ajukan", expect=q(1))
    assert await state(h, uid) == ({}, "form:agency")
    await bad_text(h, uid, "a", err("agency_short"))
    await bad_text(h, uid, "  x ", err("agency_short"))
    await bad_text(h, uid, "xyzzy", err("agency_none"))
    await bad_text(h, uid, "kementerian luar negeri", err("agency_none"))
    several = await bad_text(h, uid, "kecamatan bogor", "Ditemukan beberapa Perangkat Daerah")
    assert sorted(several.button_texts) == sorted(
        f"Kecamatan Bogor {p}" for p in ("Barat", "Timur", "Utara", "Selatan", "Tengah"))
    await h.tap(uid, several, text="Kecamatan Bogor Timur", expect=q(2))
    agency = await agency_id(h, "kecbogortimur")
    assert await state(h, uid) == ({"agency": agency}, "form:letter_number")
    ans = await h.tap(uid, several, text="Kecamatan Bogor Barat")  # stale now: changes nothing
    assert ans["text"] == T.TAP_STALE
    assert await state(h, uid) == ({"agency": agency}, "form:letter_number")

    # 2. Letter number.
    await bad_text(h, uid, "abc", err("letter_number_format"))
    await bad_text(h, uid, "#123/x", err("letter_number_format"))
    await bad_text(h, uid, "12", err("too_short", min=3))
    await bad_text(h, uid, "nomor 1\nbaris 2", err("letter_number_format"))
    await h.say(uid, "000.1/123-Dinkes/2026", expect=q(3))
    assert (await draft(h, uid))["letter_number"] == "000.1/123-Dinkes/2026"  # type: ignore[index]

    # 3. Letter date (today is Monday 30 November 2026, the harness clock).
    await bad_text(h, uid, "kemarin", err("date_format"))
    await bad_text(h, uid, "2026/11/27", err("date_format"))
    await bad_text(h, uid, "01-12-2026", err("date_future"))
    await bad_text(h, uid, "28-11-2025", err("date_too_old", days=366))
    await bad_text(h, uid, "30-02-2026", err("date_not_exist"))
    await bad_text(h, uid, "31 Februari 2026", err("date_not_exist"))
    await h.say(uid, "27 November 2026", expect=q(4))
    assert await state(h, uid) == ({"agency": agency, "letter_number": "000.1/123-Dinkes/2026",
                                    "letter_date": "2026-11-27"}, "form:subject")

    # 4. Subject, typed.
    await bad_text(h, uid, "abc", err("too_short", min=5))
    await bad_text(h, uid, "Permohonan akun\nuntuk SIMPUS", err("single_line"))
    await h.say(uid, "Permohonan akun SPLP untuk SIMPUS", expect=q(5))
    assert (await draft(h, uid))["subject"] == "Permohonan akun SPLP untuk SIMPUS"  # type: ignore[index]

    # 5. Contact name.
    await bad_text(h, uid, "Siti 123", err("name_format"))
    await bad_text(h, uid, "S1ti Aminah", err("name_format"))
    await bad_text(h, uid, "Si", err("too_short", min=3))
    await h.say(uid, "Siti Aminah", expect=q(6))
    assert (await draft(h, uid))["contact_name"] == "Siti Aminah"  # type: ignore[index]

    # 6. Email (a file or a contact sent here is not an answer).
    await rejected(h, uid, lambda: h.emu.send_document(uid, PDF, file_name="surat.pdf",
                                                       mime_type="application/pdf"), T.UNKNOWN_INPUT)
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "6281311112222"), T.UNKNOWN_INPUT)
    await bad_text(h, uid, "siti@", err("email_format"))
    await bad_text(h, uid, "siti.aminah", err("email_format"))
    await bad_text(h, uid, "siti aminah@kotabogor.go.id", err("email_format"))
    await h.say(uid, "siti.aminah@kotabogor.go.id", expect=q(7))
    assert (await draft(h, uid))["contact_email"] == "siti.aminah@kotabogor.go.id"  # type: ignore[index]

    # 7. Phone, typed; contacts that are not one's own.
    kb = h.emu.current_reply_keyboard(uid)
    assert kb and kb["keyboard"][0][0]["request_contact"] is True
    await bad_text(h, uid, "0251-8321075", err("phone_not_mobile"))      # a Bogor landline
    await bad_text(h, uid, "+1 650 253 0000", err("phone_not_indonesian"))
    await bad_text(h, uid, "+44 7911 123456", err("phone_not_indonesian"))
    await bad_text(h, uid, "nomor saya", err("phone_format"))
    await bad_text(h, uid, "12345", err("phone_format"))
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "6281298765432", contact_user_id=U2),
                   err("contact_not_own"))
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "6281298765432", contact_user_id=None),
                   err("contact_not_own"))
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "+16502530000"), err("phone_not_indonesian"))
    saved = await h.say(uid, "0812-3456-7890", expect="Nomor ponsel tersimpan")
    assert "+6281234567890" in saved.text
    await h.wait_msg(uid, q(8), after=saved.message_id)
    assert h.emu.current_reply_keyboard(uid) is None  # the contact keyboard is removed
    assert await state(h, uid) == ({**(await draft(h, uid) or {}), "contact_phone": "+6281234567890"},
                                   "form:app_name")

    # 8. App name (a contact here is not an answer).
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "6281311112222"), T.UNKNOWN_INPUT)
    await bad_text(h, uid, "AB", err("too_short", min=3))
    await h.say(uid, "SIMPUS Kota Bogor", expect=q(9))

    # 9. Business process.
    await bad_text(h, uid, "Kirim data pasien.", err("too_short", min=30))
    await bad_text(h, uid, "Aplikasiinimengirimkandatapasien setiaphari", err("too_few_words", min=5))
    await h.say(uid, BP, expect=q(10))
    d = await draft(h, uid)
    assert d and d["app_name"] == "SIMPUS Kota Bogor" and d["business_process"] == BP

    # 10. Scan.
    await bad_text(h, uid, "Sudah saya kirim lewat email", err("expect_file"))
    await rejected(h, uid, lambda: h.emu.send_document(uid, DOCX, file_name="surat.docx", mime_type=DOCX_MIME),
                   err("scan_type"))
    await rejected(h, uid, lambda: h.emu.send_document(uid, b"surat permohonan " * 20, file_name="surat.txt",
                                                       mime_type="text/plain"), err("scan_type"))
    await rejected(h, uid, lambda: h.emu.send_document(uid, PDF, file_name="surat.pdf", mime_type="image/png"),
                   err("scan_type"))
    await rejected(h, uid, lambda: h.emu.send_document(uid, PDF, file_name="surat.pdf", mime_type="application/pdf",
                                                       declared_size=25 * 1024 * 1024),
                   err("scan_too_big", max_mb=20))
    await rejected(h, uid, lambda: h.emu.send_document(uid, b"%PDF-1.4", file_name="kosong.pdf",
                                                       mime_type="application/pdf"), err("scan_empty"))
    assert await awaiting(h, uid) == "form:scan"
    after = h.last_id(uid)
    h.emu.send_document(uid, PDF, file_name="surat_permohonan.pdf", mime_type="application/pdf")
    summary = await h.wait_msg(uid, "Ringkasan permohonan", after=after)
    assert "Pindaian surat: surat_permohonan.pdf" in summary.text
    d = await draft(h, uid)
    assert d and d["scan"]["kind"] == "pdf" and d["scan"]["file_name"] == "surat_permohonan.pdf"
    assert d["scan"]["file_id"] == h.emu.chat(uid)[-2].document.file_id  # type: ignore[union-attr]
    assert await awaiting(h, uid) is None


# --- the buttons of the form ------------------------------------------------------------------

async def test_form_buttons(h: Harness) -> None:
    # An exact short name (or code) wins outright, whatever the case.
    for u, typed, code in ((U3, "Satpol PP", "satpolpp"), (U4, "dp3a", "dp3a")):
        await h.say(u, "/ajukan", expect=q(1))
        await h.say(u, typed, expect=q(2))
        assert await state(h, u) == ({"agency": await agency_id(h, code)}, "form:letter_number")

    # Agency paging.
    uid = REQUESTER
    first = await h.say(uid, "/ajukan", expect=q(1))
    texts = first.button_texts
    assert texts[:2] == ["Sekretariat Daerah", "Setwan"]  # long names show the short name
    assert len(texts) == 8 + 2 and texts[-2:] == ["1/5", "Berikutnya ▶️"]
    await h.tap(uid, first, text="Berikutnya ▶️")
    texts = await buttons_become(h, uid, first, lambda t: "2/5" in t)
    assert texts[:2] == ["Damkar", "Dinas Sosial"] and texts[-3:] == ["◀️ Sebelumnya", "2/5", "Berikutnya ▶️"]
    assert "Sekretariat Daerah" not in texts
    await h.tap(uid, first, text="◀️ Sebelumnya")
    texts = await buttons_become(h, uid, first, lambda t: "1/5" in t)
    assert "Sekretariat Daerah" in texts and "◀️ Sebelumnya" not in texts
    for page in (2, 3, 4, 5):
        await h.tap(uid, first, text="Berikutnya ▶️")
        texts = await buttons_become(h, uid, first, lambda t, p=page: f"{p}/5" in t)
    assert texts == ["Kecamatan Bogor Utara", "Kecamatan Bogor Selatan", "Kecamatan Bogor Tengah",
                     "Kecamatan Tanah Sareal", "◀️ Sebelumnya", "5/5"]
    ans = await h.tap(uid, first, text="5/5")  # the page indicator: answered, nothing changes
    assert ans.get("show_alert") is not True and ans["text"] == "Halaman 5 dari 5."
    await h.settle()
    assert h.emu.message(uid, first.message_id).button_texts == texts
    assert await state(h, uid) == ({}, "form:agency")
    await h.tap(uid, first, text="Kecamatan Tanah Sareal", expect=q(2))
    assert await state(h, uid) == ({"agency": await agency_id(h, "kectanahsareal")}, "form:letter_number")

    # "Hari ini" answers with today's date.
    m = await h.say(uid, ANSWERS[1], expect=q(3))
    assert m.button_texts == ["📅 Hari ini"]
    await h.tap(uid, m, text="📅 Hari ini", expect=q(4))
    assert await state(h, uid) == ({**(await draft(h, uid) or {}), "letter_date": "2026-11-30"}, "form:subject")
    ans = await h.tap(uid, m, text="📅 Hari ini")  # stale now
    assert ans["text"] == T.TAP_STALE

    # The default subject.
    m = h.emu.last_bot_message(uid)
    assert m and q(4) in m.text
    await h.tap(uid, m, text=f"Gunakan: {DEFAULT_SUBJECT}", expect=q(5))
    assert (await draft(h, uid))["subject"] == DEFAULT_SUBJECT  # type: ignore[index]
    assert await awaiting(h, uid) == "form:contact_name"
    ans = await h.tap(uid, m, text=f"Gunakan: {DEFAULT_SUBJECT}")  # stale now
    assert ans["text"] == T.TAP_STALE

    # «Saya narahubung» shares one's own contact: accepted, stored in E.164.
    await h.say(uid, ANSWERS[4], expect=q(6))
    await h.say(uid, ANSWERS[5], expect=q(7))
    after = h.last_id(uid)
    h.emu.press_reply_button(uid, "📱 Saya narahubung — kirim nomor saya", phone_number="6281298765432")
    saved = await h.wait_msg(uid, "Nomor ponsel tersimpan", after=after)
    assert "+6281298765432" in saved.text
    await h.wait_msg(uid, q(8), after=after)
    assert (await draft(h, uid))["contact_phone"] == "+6281298765432"  # type: ignore[index]
    assert await awaiting(h, uid) == "form:app_name"

    # A photo is accepted as the scan.
    await h.say(uid, ANSWERS[7], expect=q(9))
    await h.say(uid, ANSWERS[8], expect=q(10))
    after = h.last_id(uid)
    h.emu.send_photo(uid, JPEG)
    summary = await h.wait_msg(uid, "Ringkasan permohonan", after=after)
    assert "Pindaian surat: foto" in summary.text and "Ponsel: +6281298765432" in summary.text
    assert "Tanggal surat: 30 November 2026" in summary.text and f"Perihal: {DEFAULT_SUBJECT}" in summary.text
    d = await draft(h, uid)
    assert d and d["scan"]["kind"] == "photo" and d["scan"]["size"] == len(JPEG)


async def test_phone_foreign_contact_without_plus(h: Harness) -> None:
    """Telegram gives a shared contact's number in international form without "+" (e.g. "16502530000"
    for a US number, "6281234567890" for an Indonesian one). A foreign one must be refused as foreign,
    not as a malformed number."""
    uid = REQUESTER
    await answer_up_to(h, uid, 6)
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "16502530000"), err("phone_not_indonesian"))
    await rejected(h, uid, lambda: h.emu.send_contact(uid, "447911123456"), err("phone_not_indonesian"))


# --- the summary: edit, cancel; /batal; /ajukan with a draft ----------------------------------

async def test_summary_edit_fields(h: Harness) -> None:
    uid = REQUESTER
    summary = await h.fill_form(uid)
    before = await draft(h, uid)
    assert before and "siti.aminah@kotabogor.go.id" in summary.text

    # Change the email from the summary.
    await h.tap(uid, summary, text="✏️ Email narahubung", expect=q(6))
    m = h.emu.last_bot_message(uid)
    assert "Isian saat ini: siti.aminah@kotabogor.go.id" in m.text  # type: ignore[union-attr]
    assert await awaiting(h, uid) == "form:contact_email"
    await bad_text(h, uid, "bukan-email", err("email_format"))
    s2 = await h.say(uid, "aminah.siti@kotabogor.go.id", expect="Ringkasan permohonan")
    assert "Email: aminah.siti@kotabogor.go.id" in s2.text and "siti.aminah@" not in s2.text
    after_edit = await draft(h, uid)
    assert after_edit == {**before, "contact_email": "aminah.siti@kotabogor.go.id"}  # no "_editing" left over
    assert await awaiting(h, uid) is None

    # Change the agency by searching, from the new summary.
    await h.tap(uid, s2, text="✏️ Perangkat Daerah", expect=q(1))
    assert "Isian saat ini: Dinas Kesehatan (Dinkes)" in h.emu.last_bot_message(uid).text  # type: ignore[union-attr]
    s3 = await h.say(uid, "disdik", expect="Ringkasan permohonan")
    assert "Perangkat Daerah: Dinas Pendidikan (Disdik)" in s3.text
    assert "Email: aminah.siti@kotabogor.go.id" in s3.text

    # Send: the request carries the edited values.
    await h.tap(uid, s3, text=h.button(s3, "Kirim"), expect="telah diterima dengan nomor")
    req = await h.request()
    assert req.requester_id == uid and req.contact_email == "aminah.siti@kotabogor.go.id"
    assert req.agency_id == await agency_id(h, "disdik") and req.contact_phone == "+6281234567890"
    assert await draft(h, uid) is None


async def test_cancel_button_and_batal(h: Harness) -> None:
    uid = REQUESTER
    summary = await h.fill_form(uid)
    await h.tap(uid, summary, text="🗑 Batalkan", expect=T.CANCELLED_INPUT)
    assert await draft(h, uid) is None
    await h.emu.wait_for(lambda: not h.emu.message(uid, summary.message_id).buttons)
    await h.say(uid, "Siti Aminah", expect=T.UNKNOWN_INPUT)
    async with h.db.sessions() as s:
        assert (await s.scalar(select(Request).where(Request.requester_id == uid))) is None

    # /batal in the middle of the form.
    await answer_up_to(h, U2, 2)
    await h.say(U2, "/batal", expect=T.CANCELLED_INPUT)
    assert await state(h, U2) == (None, None)
    await h.say(U2, "Permohonan akun SPLP untuk SIMPUS", expect=T.UNKNOWN_INPUT)
    await h.say(U2, "/batal", expect=T.NOTHING_TO_CANCEL)
    # A new /ajukan starts afresh (no resume offer).
    await h.say(U2, "/ajukan", expect=q(1))
    assert await state(h, U2) == ({}, "form:agency")


async def test_ajukan_with_draft_resume_and_restart(h: Harness) -> None:
    uid = REQUESTER
    await answer_up_to(h, uid, 3)
    saved = await draft(h, uid)
    offer = await h.say(uid, "/ajukan", expect="Anda memiliki draf permohonan yang belum dikirim")
    assert offer.button_texts == ["▶️ Lanjutkan draf", "🔄 Mulai dari awal"]
    assert await draft(h, uid) == saved

    await h.tap(uid, offer, text="▶️ Lanjutkan draf", expect=q(4))
    assert await state(h, uid) == (saved, "form:subject")
    await h.say(uid, "Permohonan akun SPLP untuk SIMPUS", expect=q(5))

    offer = await h.say(uid, "/ajukan", expect="Anda memiliki draf permohonan yang belum dikirim")
    await h.tap(uid, offer, text="🔄 Mulai dari awal", expect=q(1))
    assert await state(h, uid) == ({}, "form:agency")
    await h.say(uid, "dishub", expect=q(2))
    assert await state(h, uid) == ({"agency": await agency_id(h, "dishub")}, "form:letter_number")


async def test_draft_survives_restart(h: Harness) -> None:
    uid = REQUESTER
    await answer_up_to(h, uid, 4)
    await h.restart()
    assert await awaiting(h, uid) == "form:contact_name"
    await h.say(uid, ANSWERS[4], expect=q(6))
    for i in range(5, 8):
        await h.say(uid, ANSWERS[i], expect=q(i + 2))
    await h.say(uid, ANSWERS[8], expect=q(10))
    after = h.last_id(uid)
    h.emu.send_document(uid, PDF, file_name="surat.pdf", mime_type="application/pdf")
    summary = await h.wait_msg(uid, "Ringkasan permohonan", after=after)
    for expected in ("Perangkat Daerah: Dinas Kesehatan (Dinkes)", "Nomor surat: 000.1/123-Dinkes/2026",
                     "Tanggal surat: 27 November 2026", "Perihal: Permohonan akun SPLP untuk SIMPUS",
                     "Narahubung: Siti Aminah", "Email: siti.aminah@kotabogor.go.id", "Ponsel: +6281234567890",
                     "Aplikasi: SIMPUS Kota Bogor", "Pindaian surat: surat.pdf"):
        assert expected in summary.text, expected


# --- many requesters at once --------------------------------------------------------------

async def test_concurrent_submissions_get_consecutive_numbers(h: Harness) -> None:
    uids = list(range(6001, 6009))
    summaries = await asyncio.gather(*(h.fill_form(u) for u in uids))
    # All press "Kirim" at the same moment.
    afters = {u: h.last_id(u) for u in uids}
    qids = [h.emu.tap(u, s.message_id, button_text=h.button(s, "Kirim")) for u, s in zip(uids, summaries)]
    answers = await asyncio.gather(*(h.emu.wait_callback_answer(qid, timeout=10) for qid in qids))
    assert all(a["text"] == "Permohonan terkirim." for a in answers), answers
    confirmations = await asyncio.gather(*(
        h.wait_msg(u, "telah diterima dengan nomor", after=afters[u], timeout=10) for u in uids))

    async with h.db.sessions() as s:
        rows = (await s.execute(select(Request.requester_id, Request.number))).all()
        drafts = (await s.scalars(select(Draft).where(Draft.user_id.in_(uids)))).all()
    by_user = {r: n for r, n in rows}
    assert len(rows) == 8 and sorted(by_user) == uids
    assert sorted(by_user.values()) == [f"SPLP-2026-{i:06d}" for i in range(1, 9)]
    for u, m in zip(uids, confirmations):
        assert by_user[u] in m.text
    assert not drafts
