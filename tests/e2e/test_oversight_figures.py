"""The oversight figures of a known data set (tests/e2e/oversight_data.py), computed in SQL on
SQLite and PostgreSQL, checked exactly against the hand-computed table -- in the report model,
the chat summary, the PDF (read back with pypdf) and the XLSX (read back with openpyxl)."""

from __future__ import annotations

import io

import pytest

from storage.db import Database
from storage.figures import audit_rows, load_figures, step_rows
from storage.repo import seed_agencies_if_empty
from tests.e2e import oversight_data as D
from workflow.monev import Assessment, build_report

H = D.H


@pytest.fixture
async def report(db_url):  # type: ignore[no-untyped-def]
    db = Database(db_url)
    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
        await D.seed(s)
    async with db.sessions() as s:
        fig = await load_figures(s, D.SOP, D.DECEMBER, cutoff=D.CUTOFF, cal=D.CAL)
    r = build_report(D.SOP, fig, D.DECEMBER, cutoff=D.CUTOFF, generated_at=D.t(1, 4, 7, 45), cal=D.CAL, threshold=0.8,
                     actions={"A4": "Pelaksana memeriksa kelengkapan pada hari yang sama."})
    yield db, r
    await db.dispose()


async def test_figures_match_the_hand_computed_table(report) -> None:  # type: ignore[no-untyped-def]
    _, r = report
    got = {k: getattr(r, k) for k in D.EXPECTED_COUNTS}
    assert got == D.EXPECTED_COUNTS
    assert r.missing == D.EXPECTED_MISSING and r.return_rate == 0.5
    for code, (n, ok, median, p90, worst, late, esc) in D.EXPECTED_STEPS.items():
        sr = r.step(code)
        assert (sr.dist.n, sr.dist.on_time, sr.dist.late, sr.escalations) == (n, ok, late, esc), code
        assert sr.dist.median == pytest.approx(median, abs=1e-9) if median is not None else sr.dist.median is None
        assert sr.dist.p90 == pytest.approx(p90, abs=1e-9) if p90 is not None else sr.dist.p90 is None
        assert sr.dist.worst == worst, code
    assert [s.assessment for s in r.steps] == [
        Assessment.GOOD, Assessment.GOOD, Assessment.GOOD, Assessment.NOT_GOOD, Assessment.NOT_GOOD,
        Assessment.GOOD, Assessment.GOOD, Assessment.NOT_GOOD, None, None]
    assert {h.name: (h.dist.n, h.dist.on_time, h.dist.median) for h in r.holders} == D.EXPECTED_HOLDERS
    assert (r.total.n, r.total.on_time, r.total.median) == D.EXPECTED_TOTAL and r.total.worst == 31 * H
    assert r.total_limit_seconds == 8 * 7.5 * H  # the SOP's seven steps: 1+1+1+1+2+1+1 working days
    trend = {m.month.month: (m.n, m.on_time) for m in r.months}
    assert list(trend) == [7, 8, 9, 10, 11, 12] and trend[12] == D.EXPECTED_DECEMBER_TREND and trend[11] == (0, 0)
    assert r.ageing == D.EXPECTED_AGEING and r.waiting_requester == 0
    assert [i.row.number for i in r.oldest] == ["SPLP-2026-000004", "SPLP-2026-000002"]
    assert r.oldest[0].late_seconds == D.EXPECTED_R4_LATE and r.oldest[1].late_seconds == 0
    assert r.step("A2").notes == ("Terlambat karena dinas luar.",)
    assert r.step("A4").notes == ("Nomor ponsel dan proses bisnis belum sesuai.",)
    assert r.step("A5").notes == ("Portal SPLP sedang gangguan.",) and r.step("A3").notes == ()


async def test_summary_shows_the_same_numbers(report) -> None:  # type: ignore[no-untyped-def]
    from bot.monev_text import summary_html

    _, r = report
    text = summary_html(r, D.W)
    lines = text.split("\n")
    assert "<b>Desember 2026</b>" in lines and "Posisi data: akhir periode (31 Desember 2026 24.00 WIB)" in lines
    assert "Diterima 3 · Selesai 1 · Berjalan 2 · Dibatalkan 1" in lines
    assert "Dikembalikan (tidak lengkap): 2 dari 4 pemeriksaan (50%)" in lines
    assert "Paling sering kurang: Nomor ponsel narahubung (2), Proses bisnis aplikasi (1)" in lines
    # count, on time, late, escalations; median and p90 of working time (a working day is 7 h 30 min;
    # minutes are dropped once there are days)
    expected = {
        "A1": ("5× · tepat waktu 80% · 1 terlambat", "median 2 jam · p90 1 hari"),  # p90 7.8 h
        "A2": ("5× · tepat waktu 80% · 1 terlambat", "median 1 jam · p90 1 hari 4 jam"),  # p90 11.6 h
        "A3": ("5× · tepat waktu 80% · 1 terlambat · 2 eskalasi", "median 1 jam 30 menit · p90 7 jam 24 menit"),
        "A4": ("4× · tepat waktu 75% · 1 terlambat · 12 eskalasi", "median 1 jam · p90 6 jam 36 menit"),
        "A5": ("2× · tepat waktu 50% · 1 terlambat · 1 eskalasi", "median 2 hari · p90 2 hari 3 jam"),  # 15.25, 18.65 h
        "A6": ("1× · tepat waktu 100%", "median 1 jam · p90 1 jam"),
        "A7": ("1× · tepat waktu 100%", "median 5 jam 30 menit · p90 5 jam 30 menit"),
        "B1": ("2× · tepat waktu 50% · 1 terlambat", "median 9 menit · p90 13 menit"),  # 9.5 and 13.9 minutes
    }
    for code, tails in expected.items():
        i = next(k for k, line in enumerate(lines) if f"<b>{code}</b>" in line)
        assert (lines[i + 1].strip(), lines[i + 2].strip()) == tails, (code, lines[i + 1:i + 3])
    assert "▫️ <b>B2</b> Mengisikan data kelengkapan aplikasi (10 menit) — belum ada" in lines
    assert "✅ <b>A1</b> Surat Permohonan (1 hari kerja)" in lines
    assert lines[next(k for k, ln in enumerate(lines) if "<b>A4</b>" in ln)].startswith("⚠️")
    assert "1 permohonan · median 4 hari 1 jam · terlama 4 hari 1 jam" in lines
    assert "• Rahmat Hidayat (Kepala Diskominfo): 6 · 3 jam 15 menit · 83%" in lines
    assert "• Budi Pranoto (Pejabat Fungsional/Pelaksana): 7 · 1 jam · 71%" in lines
    assert any("1 melewati batas" in ln and "2 di pejabat" in ln for ln in lines)
    assert "• SPLP-2026-000004 (Disdik) A4 — terlambat 10 hari 4 jam" in lines
    assert len(text) < 4096


async def test_pdf_shows_the_same_numbers(report) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    from bot.charts import render_charts
    from bot.monev_pdf import Signatory, render_monev

    _, r = report
    pdf = render_monev(r, render_charts(r), Signatory("Penilai,", "Rahmat Hidayat", "Kepala Diskominfo"), D.W)
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "LAPORAN MONITORING DAN EVALUASI PELAKSANAAN SOP" in text
    assert "Periode: 1 Desember 2026 s.d. 31 Desember 2026" in text
    assert "Nomor 35 Tahun 2012" in text and "sekurang-kurangnya 80%" in text
    # The monitoring form's notes carry the table's numbers (long form: "hari kerja").
    assert ("4 kali dilaksanakan, 3 dalam batas waktu (75%). Batas 1 hari kerja terlampaui 1 kali. Median 1 jam, "
            "persentil ke-90 6 jam 36 menit, terlama 1 hari kerja 1 jam. Eskalasi kepada atasan: 12 kali. "
            "Dikembalikan karena tidak lengkap 2 dari 4 pemeriksaan (kekurangan: Nomor ponsel narahubung (2), "
            "Proses bisnis aplikasi (1)).") in text
    assert "2 kali dilaksanakan, 1 dalam batas waktu (50%). Batas 2 hari kerja terlampaui 1 kali." in text
    assert "“Portal SPLP sedang gangguan”" in text
    assert "Pelaksana memeriksa kelengkapan pada hari yang sama." in text  # the Head's action for A4
    assert "Rahmat Hidayat" in text and "Bogor, 4 Januari 2027" in text
    # Two assessments ticked as not running well among procedure A (A4, A5) and B1.
    assert text.count("\u2713") == 8  # A1-A7 and B1 assessed; B2, B3 without passages
    assert "siti" not in text.lower() and "+62" not in text  # no contact person's data


async def test_xlsx_shows_the_same_numbers(report) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    import openpyxl

    from bot.monev_files import AuditCsv, Workbook

    db, r = report
    book = Workbook(r.standard_day_seconds, D.SOP)
    book.summary(r, D.W)
    book.details()
    csv = AuditCsv(D.SOP)
    async with db.sessions() as s:
        async for chunk in step_rows(s, D.DECEMBER, D.W):
            book.add_rows(chunk, D.W)
        async for chunk in audit_rows(s, D.DECEMBER, D.W):
            csv.add_rows(chunk, D.W)
    wb = openpyxl.load_workbook(io.BytesIO(book.finish()))
    summary = [row for row in wb["Ringkasan"].iter_rows(values_only=True)]
    by_code = {row[0]: row for row in summary if row and row[0] in D.EXPECTED_STEPS}
    for code, (n, ok, median, p90, worst, late, esc) in D.EXPECTED_STEPS.items():
        row = by_code[code]
        assert row[3] == n and row[8] == late and row[9] == esc, code
        if n:
            assert row[4] == pytest.approx(median / 60) and row[5] == pytest.approx(p90 / 60), code
            assert row[6] == pytest.approx(worst / 60) and row[7] == pytest.approx(ok / n), code
    assert by_code["A4"][10] == "Tidak berjalan dengan baik" and by_code["A2"][10] == "Berjalan dengan baik"
    assert by_code["A4"][12] == "Pelaksana memeriksa kelengkapan pada hari yang sama."
    holders = {row[0]: row for row in summary if row and row[0] in D.EXPECTED_HOLDERS}
    for name, (n, ok, median) in D.EXPECTED_HOLDERS.items():
        assert holders[name][2] == n and holders[name][3] == pytest.approx(median / 60)
        assert holders[name][4] == pytest.approx(ok / n)
    detail = wb["Rincian"]
    assert detail.auto_filter.ref == f"A1:K{detail.max_row}" and detail.freeze_panes == "A2"
    rows = list(detail.iter_rows(min_row=2, values_only=True))
    # Every hop overlapping December: R1 from A2 on (7), R2 all but A7 (12, A6 still open), R3 (6), R4 (5),
    # and the two procedure-B steps.
    assert len(rows) == 7 + 12 + 6 + 5 + 2
    a5 = next(x for x in rows if x[0] == "SPLP-2026-000002" and x[2] == "A5")
    assert a5[4] == "Budi Pranoto (Pejabat Fungsional/Pelaksana)"
    assert a5[5] == datetime(2026, 12, 28, 13, 0) and a5[6] == datetime(2026, 12, 31, 9, 0)
    assert a5[7] == datetime(2026, 12, 30, 13, 0) and a5[8] == "2 hari kerja"
    assert a5[9] == pytest.approx(19.5 * 60) and a5[10] == "Tidak"
    assert isinstance(a5[9], (int, float)) and isinstance(a5[5], datetime)  # numbers and dates, not text
    open_a4 = next(x for x in rows if x[0] == "SPLP-2026-000004" and x[2] == "A4")
    assert open_a4[6] is None and open_a4[10] == "Berjalan"
    flat = " ".join(str(v) for row in rows for v in row)
    assert "narahubung@" not in flat and "+62" not in flat  # no contact person's data
    text = csv.finish().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Waktu (WIB),Pelaku,Tindakan,Kode tindakan,Nomor permohonan,Dari,Ke,Keterangan"
    assert ("2026-12-22 15:00:00,Budi Pranoto,Dikembalikan (tidak lengkap),return,SPLP-2026-000002,"
            "Pemeriksaan kelengkapan,Dikembalikan kepada pemohon,"
            "\"kurang: Nomor ponsel narahubung, Proses bisnis aplikasi\"") in lines
    assert sum(1 for ln in lines if ",escalated," in ln) == 1 + 2 + 11 + 1  # A4 (R2), A3 (R3), A4 (R4), A5 (R2)
    assert "5002" not in text  # the requester's Telegram id is not exported
