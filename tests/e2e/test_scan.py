"""The scan of the signed letter is downloaded, checked by its content and kept."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from bot import texts as T
from storage.models import Draft, StoredFile
from tests.e2e.harness import PDF, REQUESTER, Harness


async def _to_scan_question(h: Harness) -> None:
    await h.say(REQUESTER, "/ajukan", expect="Perangkat Daerah")
    for answer, nxt in (("dinkes", "nomor surat"), ("000.1/123-Dinkes/2026", "tanggal surat"),
                        ("27-11-2026", "perihal"), ("Permohonan Pembuatan Akun SPLP", "nama lengkap"),
                        ("Siti Aminah", "email"), ("siti.aminah@kotabogor.go.id", "nomor ponsel"),
                        ("081234567890", "nama aplikasi"), ("SIMPUS Kota Bogor", "proses bisnis"),
                        ("Aplikasi SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data "
                         "Kota Bogor melalui SPLP setiap hari.", "pindaian")):
        await h.say(REQUESTER, answer, expect=nxt)


async def _draft_scan(h: Harness) -> dict | None:
    async with h.db.sessions() as s:
        d = await s.scalar(select(Draft).where(Draft.user_id == REQUESTER))
    return d.data.get("scan") if d else None


async def test_scan_content_checked_and_kept(h: Harness) -> None:
    await _to_scan_question(h)
    # A ZIP (e.g. a .docx) renamed to .pdf: the name and type say PDF, the content does not.
    after = h.last_id(REQUESTER)
    h.emu.send_document(REQUESTER, b"PK\x03\x04" + b"x" * 500, file_name="surat.pdf", mime_type="application/pdf")
    m = await h.wait_msg(REQUESTER, "Jenis berkas tidak didukung", after=after)
    assert await _draft_scan(h) is None
    # Telegram cannot hand over the file right now.
    h.emu.fail_next("getFile", status=500)
    after = m.message_id
    h.emu.send_document(REQUESTER, PDF, file_name="surat.pdf", mime_type="application/pdf")
    await h.wait_msg(REQUESTER, T.ERRORS["scan_download"][:30], after=after)
    assert await _draft_scan(h) is None
    # The real thing.
    after = h.last_id(REQUESTER)
    h.emu.send_document(REQUESTER, PDF, file_name="surat.pdf", mime_type="application/pdf")
    await h.wait_msg(REQUESTER, "Ringkasan permohonan", after=after)
    scan = await _draft_scan(h)
    assert scan and scan["sha256"] == hashlib.sha256(PDF).hexdigest()
    async with h.db.sessions() as s:
        stored = await s.get(StoredFile, scan["stored_file_id"])
    assert stored is not None and stored.content == PDF and stored.kind == "pdf"
