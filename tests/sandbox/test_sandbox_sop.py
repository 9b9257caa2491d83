"""The sandbox with another Pemda's SOP (``--sop``): its personas follow the regency's two-hop
chain, the page and the demo history follow it, and procedure A's first steps run under it; a data
directory made with one SOP refuses another; an invalid file stops the command with its problems."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from sandbox.run import Sandbox, SandboxError
from sandbox.telegram import Msg, TelegramEmulator
from storage.models import Official, OfficialRole, Request
from tests.conftest import SANDBOX_TEST_SETTINGS
from tests.e2e.harness import MONDAY_9, PDF
from tests.sopfiles import BOGOR_FILE, SUKAMAJU_FILE, sukamaju

ROOT = Path(__file__).resolve().parents[2]


async def _say(emu: TelegramEmulator, uid: int, text: str, expect: str) -> Msg:
    last = emu.last_bot_message(uid, include_deleted=True)
    emu.send_text(uid, text)
    return await emu.wait_bot_message(uid, contains=expect, after=last.message_id if last else 0, timeout=10)


async def _tap(emu: TelegramEmulator, uid: int, msg: Msg, label: str) -> str:
    button = next(b for b in msg.buttons if label in b["text"])
    answer = await emu.wait_callback_answer(emu.tap(uid, msg.message_id, None, button_text=button["text"]),
                                            timeout=10)
    return answer.get("text") or ""


async def _then(emu: TelegramEmulator, uid: int, msg: Msg, label: str, offered: str) -> Msg:
    """Tap ``label`` and wait until the same message offers ``offered``."""
    await _tap(emu, uid, msg, label)
    await emu.wait_for(lambda: offered in " ".join(emu.message(uid, msg.message_id).button_texts), timeout=10)
    return emu.message(uid, msg.message_id)  # type: ignore[return-value]


async def test_the_sandbox_runs_another_pemdas_sop(tmp_path: Path) -> None:
    sop = sukamaju()
    sb = Sandbox(tmp_path / "sb", port=0, start_at=MONDAY_9, settings=SANDBOX_TEST_SETTINGS, sop_file=SUKAMAJU_FILE)
    await sb.start()
    try:
        emu, p = sb.emu, sb.persona_by_key
        assert emu is not None and sb.db is not None
        # The cast: the chain's two hops, the executor, the admin -- no team lead.
        assert [(x.key, x.role, x.title) for x in sb.personas if x.role] == [
            ("head", "kadis", "Kepala Dinas"), ("division", "kabid_aptika", "Kepala Bidang Aplikasi Informatika"),
            ("executor", "pelaksana", "Pelaksana Teknis"), ("admin", "admin", "Admin bot")]
        async with sb.db.sessions() as s:
            roles = set((await s.scalars(select(OfficialRole.role))).all())
            history = (await s.execute(select(Request.sop_version, Request.stage))).all()
            officials = len((await s.scalars(select(Official))).all())
        assert roles == {"kadis", "kabid_aptika", "pelaksana", "admin"} and officials == 4
        assert history and {v for v, _ in history} == {sop.version}  # the demo past under this SOP
        assert {st for _, st in history} <= {"done", "cancelled"}
        async with httpx.AsyncClient() as c:
            page = (await c.get(sb.url)).text
        assert "SPLP Kabupaten Sukamaju" in page and "Kepala Bidang Aplikasi Informatika" in page
        assert "Dewi Kartika</b>: pilih pelaksana dan instruksi" in page and "Agus Salim" not in page
        assert "rekap pagi untuk Kepala Dinas dan Kepala Bidang Aplikasi Informatika" in page
        assert "Bogor" not in page and sb.splp is not None and sb.splp.tenant == "sukamajukab.go.id"

        # Procedure A's first steps: the letter, the two hops, the executor's five items.
        req, head, div, ex = (p[k].user_id for k in ("requester", "head", "division", "executor"))
        await _say(emu, req, "/ajukan", "Perangkat Daerah")
        for answer, expect in (("dinkes", "nomor surat"), ("000.1/45-Dinkes/2026", "tanggal surat"),
                               ("27-11-2026", "perihal")):
            await _say(emu, req, answer, expect)
        m = emu.last_bot_message(req)
        await _tap(emu, req, m, "Gunakan")  # type: ignore[arg-type]
        await emu.wait_bot_message(req, contains="nama lengkap narahubung", timeout=10)
        for answer, expect in (("Siti Aminah", "email"), ("siti.aminah@sukamajukab.go.id", "nomor ponsel"),
                               ("0812-3456-7890", "nama aplikasi"), ("SIMPUS Sukamaju", "proses bisnis")):
            await _say(emu, req, answer, expect)
        await _say(emu, req, "SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data kabupaten "
                              "melalui SPLP setiap hari.", "pindaian")
        last = emu.last_bot_message(req)
        emu.send_document(req, PDF, file_name="surat.pdf", mime_type="application/pdf")
        summary = await emu.wait_bot_message(req, contains="Ringkasan permohonan", after=last.message_id, timeout=10)
        await _tap(emu, req, summary, "Kirim")
        sent = await emu.wait_bot_message(req, contains="telah diterima dengan nomor", timeout=10)
        assert "Langkah 2 — Disposisi Kepala Dinas" in sent.text

        card = await emu.wait_bot_message(head, contains="Disposisikan kepada", timeout=10)
        assert "Kepala Bidang Aplikasi Informatika" in card.text and "(4 jam kerja)" in card.text
        card = await _then(emu, head, card, "Segera diproses", "Kirim tanpa catatan")
        assert await _tap(emu, head, card, "Kirim tanpa catatan") == "Disposisi terkirim."
        card = await emu.wait_bot_message(div, contains="Pilih Pelaksana Teknis yang ditugaskan", timeout=10)
        card = await _then(emu, div, card, "Budi Pranoto", "Untuk ditindaklanjuti")
        card = await _then(emu, div, card, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
        assert await _tap(emu, div, card, "Kirim tanpa catatan") == "Penugasan terkirim."
        check = await emu.wait_bot_message(ex, contains="Pemeriksaan kelengkapan (otomatis)", timeout=10)
        assert "Langkah 4 — Verifikasi berkas" in check.text and "(6 jam kerja)" in check.text
        for item in sop.items:
            assert f"✅ {item.label}" in check.text
        assert await _tap(emu, ex, check, "Lengkap") == "Permohonan dinyatakan lengkap."
        reg = await emu.wait_bot_message(ex, contains="Kartu data untuk portal SPLP", timeout=10)
        assert "tenant sukamajukab.go.id" in reg.text and "Daftarkan otomatis" in " ".join(reg.button_texts)
    finally:
        await sb.stop()

    # The same data directory with another SOP: refused, with the way out.
    other = Sandbox(tmp_path / "sb", port=0, settings=SANDBOX_TEST_SETTINGS, sop_file=BOGOR_FILE)
    with pytest.raises(SandboxError, match="made with another SOP.*--reset"):
        await other.start()


def test_an_invalid_sop_file_stops_the_sandbox_command(tmp_path: Path) -> None:
    bad = tmp_path / "rusak.yaml"
    bad.write_text(SUKAMAJU_FILE.read_text("utf-8").replace("actor: kadis, label: Disposisi", "actor: camat, label: "
                                                                                                "Disposisi", 1), "utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "sandbox", "--sop", str(bad), "--port", "0",
                        "--data-dir", str(tmp_path / "d")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert f"{bad}:28: procedure_a[1].actor: pelaku «camat» bukan peran" in r.stderr
    assert "actor 'camat' is not a role defined under roles" in r.stderr
    assert not (tmp_path / "d").exists()  # nothing was started
