"""Tests for bot.report (pure: plain data in, PDF bytes out; parsed back with pypdf)."""

from __future__ import annotations

import io
import re
from dataclasses import fields, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

import bot.report as report
from tests.sopfiles import bogor, sukamaju
from bot.report import (
    Issuer,
    STATUS_DONE,
    STATUS_LATE,
    STATUS_ON_TIME,
    STATUS_RUNNING,
    ReportData,
    ReportStep,
    format_date,
    format_datetime,
    render_report,
    step_status,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=JAKARTA)

LABELS = (
    "Langkah 1 — Penerimaan surat permohonan",
    "Langkah 2 — Disposisi Kepala Diskominfo",
    "Langkah 3 — Disposisi Kepala Bidang E-Government",
    "Langkah 4 — Disposisi Ketua Tim Aplikasi",
    "Langkah 5 — Pembuatan akun SPLP",
)


def _step(i: int, label: str, *, hours: float = 3, done: bool = True) -> ReportStep:
    received = T0 + timedelta(days=i)
    return ReportStep(
        step_label=label,
        holder=f"Pejabat {i} (Kepala)",
        received=received,
        done=received + timedelta(hours=hours) if done else None,
        limit="1 hari kerja",
        due=received + timedelta(days=1),
    )


def _data(**overrides) -> ReportData:
    steps = [_step(i, label) for i, label in enumerate(LABELS)]
    steps[2] = _step(2, LABELS[2], hours=30)  # late
    values = dict(
        issuer=Issuer.of(bogor()),
        title=bogor().doc.report.title,
        report_number="LAP-SPLP-2026-000001",
        request_number="SPLP-2026-000001",
        date=date(2026, 11, 30),
        agency_name="Dinas Kesehatan",
        agency_short="Dinkes",
        letter_number="000.1/123-Dinkes/2026",
        letter_date=date(2026, 11, 20),
        subject="Permohonan Pembuatan Akun SPLP",
        contact_name="Siti Nurhaliza",
        contact_email="si***@kotabogor.go.id",
        contact_phone="+62 812-****-789",
        app_name="SIMPUS",
        business_process="SIMPUS mengirimkan data kunjungan pasien ke sistem dinas melalui SPLP.",
        steps=steps,
        account_username="dinkes.simpus@kotabogor.go.id",
        delivery="Disampaikan melalui Telegram kepada narahubung terverifikasi",
        executor_name="Andi Pratama",
        executor_title="Pranata Komputer Ahli Pertama",
        note="Akun telah diuji pada lingkungan sandbox.",
    )
    values.update(overrides)
    return ReportData(**values)


def _reader(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def _text(pdf: bytes) -> str:
    """All pages' text with whitespace collapsed (table cells and justified lines wrap)."""
    raw = "\n".join(page.extract_text() for page in _reader(pdf).pages)
    return " ".join(raw.split())


def _has(text: str, phrase: str) -> bool:
    """``phrase`` occurs in ``text``, allowing any line wrap between its words."""
    return re.search(r"\s*".join(re.escape(w) for w in phrase.split()), text) is not None


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return render_report(_data())


# --- status and formatting


def test_step_status():
    assert step_status(_step(0, "a")) == STATUS_ON_TIME
    assert step_status(_step(0, "a", hours=24)) == STATUS_ON_TIME  # exactly at the due time
    assert step_status(_step(0, "a", hours=24.01)) == STATUS_LATE
    assert step_status(_step(0, "a", done=False)) == STATUS_RUNNING
    assert step_status(replace(_step(0, "a"), due=None)) == STATUS_DONE


def test_indonesian_dates():
    assert format_date(date(2026, 11, 30)) == "30 November 2026"
    assert format_date(date(2027, 1, 2)) == "2 Januari 2027"
    utc = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
    assert format_datetime(utc) == "30 November 2026 09.00 WIB"
    assert format_datetime(utc, ZoneInfo("Asia/Makassar")) == "30 November 2026 10.00 WITA"


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        ReportStep("x", "y", datetime(2026, 1, 1, 9), None, "1 hari kerja", None)


# --- the document


def test_is_a_pdf_with_metadata(sample_pdf):
    reader = _reader(sample_pdf)
    meta = reader.metadata
    assert meta.author == "Diskominfo Kota Bogor"
    assert "LAP-SPLP-2026-000001" in meta.title
    assert meta.creation_date.date() == date(2026, 11, 30)
    assert len(reader.pages) >= 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)


def test_contents(sample_pdf):
    text = _text(sample_pdf)
    for phrase in (
        "PEMERINTAH KOTA BOGOR",
        "DINAS KOMUNIKASI DAN INFORMATIKA",
        "LAPORAN KEGIATAN PELAKSANAAN PEMBUATAN AKUN SPLP",
        "LAP-SPLP-2026-000001",
        "SPLP-2026-000001",
        "Tanggal: 30 November 2026",
        "038/SOP Pengelolaan Layanan SPLP Kota Bogor/2024",
        f"(revisi 0, versi {bogor().version[:8]})",
        "Nomor 000.1/123-Dinkes/2026 tanggal 20 November 2026",
        "perihal Permohonan Pembuatan Akun SPLP",
        "Dinas Kesehatan (Dinkes)",
        "Siti Nurhaliza",
        "si***@kotabogor.go.id",
        "SIMPUS mengirimkan data kunjungan pasien",
        "I. DASAR", "II. PEMOHON", "III. APLIKASI", "IV. PELAKSANAAN", "V. HASIL", "VI. CATATAN",
        "Tahap", "Pemegang", "Diterima", "Selesai", "Batas waktu", "Keterangan",
        "24 November 2026 09.00 WIB",
        "dinkes.simpus@kotabogor.go.id",
        "Disampaikan melalui Telegram kepada narahubung terverifikasi",
        "Akun telah diuji pada lingkungan sandbox.",
        "Bogor, 30 November 2026",
        "Pelaksana,",
        "Andi Pratama",
        "Pranata Komputer Ahli Pertama",
    ):
        assert _has(text, phrase), phrase
    for label in LABELS:
        assert _has(text, label), label
    pages = len(_reader(sample_pdf).pages)
    for n in range(1, pages + 1):
        assert f"Halaman {n} dari {pages}" in text
    assert text.count(STATUS_ON_TIME) == 4
    assert text.count(STATUS_LATE) == 1
    assert STATUS_RUNNING not in text


def test_running_step_and_no_note():
    steps = [_step(0, LABELS[0]), _step(1, LABELS[1], done=False)]
    text = _text(render_report(_data(steps=steps, note=None)))
    assert STATUS_RUNNING in text and STATUS_ON_TIME in text and STATUS_LATE not in text
    assert "CATATAN" not in text
    assert _has(text, "Andi Pratama")


def test_summary_all_on_time():
    text = _text(render_report(_data(steps=[_step(i, label) for i, label in enumerate(LABELS)])))
    assert text.count(STATUS_ON_TIME) == len(LABELS)
    assert _has(text, "Seluruh tahapan telah diselesaikan tanpa melewati batas waktu")


def test_no_password_anywhere(sample_pdf):
    assert not any(re.search("pass|sandi|secret|token|rahasia", f.name) for f in fields(ReportData))
    text = _text(sample_pdf)
    # The report says explicitly that the password is not included, but has no such field.
    assert _has(text, "Kata sandi akun tidak dicantumkan dalam laporan ini")
    assert not re.search(r"(kata sandi|password|sandi)\s*:", text, re.IGNORECASE)


def test_long_report_spans_pages_with_numbers():
    process = " ".join(f"Langkah proses bisnis ke-{i}: data dikirim dan diverifikasi." for i in range(120))
    steps = [_step(i, f"Tahap nomor {i + 1} — {LABELS[i % len(LABELS)]}", hours=30 if i % 7 == 3 else 2)
             for i in range(25)]
    pdf = render_report(_data(business_process=process, steps=steps))
    reader = _reader(pdf)
    pages = len(reader.pages)
    assert pages >= 3
    texts = [" ".join(p.extract_text().split()) for p in reader.pages]
    for n, page_text in enumerate(texts, start=1):
        assert f"Halaman {n} dari {pages}" in page_text
    whole = " ".join(texts)
    for i in range(25):
        assert _has(whole, f"Tahap nomor {i + 1} —"), i
    assert _has(whole, "proses bisnis ke-119")
    # The table heading is repeated on every page the table runs over.
    table_pages = [t for t in texts if "Tahap nomor" in t]
    assert len(table_pages) >= 2
    assert all("Batas waktu Keterangan" in t for t in table_pages)
    assert whole.count(STATUS_LATE) == 4  # i = 3, 10, 17, 24
    assert _has(whole, "Terdapat 4 tahapan diselesaikan melewati batas waktu")


def test_unicode_names_do_not_crash(caplog):
    data = _data(
        contact_name="Ṡiti Nguyễn 😀 محمد 👨‍👩‍👧 𝔘 漢字 \u200b\x00",
        executor_name="Nguyễn Văn Ánh",
        agency_short="Dinkes™ \U0010ffff",
        steps=[replace(_step(0, "Langkah 1 — Çağrı ✓"), holder="Łukasz 🇮🇩 (Kepala)")],
        note="Catatan\twith\ttabs\r\nbaris 2 \ud800 selesai",
    )
    with caplog.at_level("WARNING"):
        text = _text(render_report(data))
    assert not [r for r in caplog.records if r.name.startswith("fpdf")]  # e.g. missing glyphs
    assert "Ṡiti Nguyễn" in text
    assert "Nguyễn Văn Ánh" in text
    assert "Łukasz" in text
    assert "Çağrı" in text
    assert "baris 2" in text and "selesai" in text


def test_long_unbroken_cell_text_fits():
    step = replace(_step(0, "X" * 5000), holder="Y" * 5000, limit="Z" * 5000)
    pdf = render_report(_data(steps=[step], contact_name="W" * 500, business_process="V" * 20000))
    assert len(_reader(pdf).pages) >= 2


def test_core_font_fallback(monkeypatch):
    monkeypatch.setattr(report, "_FONT_DIRS", ())
    data = _data(contact_name="Ṡiti Nguyễn 😀 محمد", executor_name="Łukasz Żółć")
    text = _text(render_report(data))
    assert "Siti Nguyen" in text  # transliterated for the Latin-1 core font
    assert "Lukasz Zólc" in text  # ó is Latin-1
    assert "LAP-SPLP-2026-000001 - SPLP-2026-000001" in text  # em dash substituted
    assert "Halaman 1 dari" in text


def test_deterministic():
    assert render_report(_data()) == render_report(_data())
    assert render_report(_data()) != render_report(_data(date=date(2026, 12, 1)))


def test_another_office_issues_it() -> None:
    """The letterhead, title, reference, place and author are the SOP file's."""
    two = sukamaju()
    pdf = render_report(_data(issuer=Issuer.of(two), title=two.doc.report.title))
    text = _text(pdf)
    for phrase in ("PEMERINTAH KABUPATEN SUKAMAJU", "DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN",
                   "BERITA ACARA PEMBUATAN AKUN SPLP", "012/SOP-DKISP/2025", f"(revisi 1, versi {two.version[:8]})",
                   "Sukamaju, 30 November 2026"):
        assert _has(text, phrase), phrase
    assert "Bogor" not in text.replace("kotabogor", "")  # only the sample's e-mail domain names it
    assert _reader(pdf).metadata.author == "DKISP Kabupaten Sukamaju"
