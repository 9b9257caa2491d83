"""The inspector's files: an XLSX workbook (the figures, and one row per request and step that
can be filtered) and the audit log of a period as CSV.

Rows arrive in chunks from the database (``storage/figures.py``) and are written as they come
(openpyxl's write-only mode), so a long period never sits in memory as cells. openpyxl is
imported only here, when a file is made. Personal data: request numbers, agencies and officials'
names only -- never a contact person's name, email or phone, nor a requester's Telegram id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.monev_text import ASSESSMENT, cutoff_text, holder_text, limit_text, period_range, step_label, step_note, \
    threshold_text
from workflow.monev import OversightReport
from workflow.oversight import Period, limit_seconds
from workflow.sop import Sop

DATE_FORMAT = "dd-mm-yyyy hh:mm"
DETAIL_HEAD = ("Nomor permohonan", "Perangkat Daerah", "Langkah", "Tahap", "Pemegang", "Diterima (WIB)",
               "Selesai (WIB)", "Batas waktu (WIB)", "Batas SOP", "Waktu kerja (menit)", "Tepat waktu")
ACTION_LABELS = {
    "submit": "Permohonan diajukan", "dispose": "Disposisi", "assign": "Penugasan pelaksana",
    "complete": "Dinyatakan lengkap", "return": "Dikembalikan (tidak lengkap)", "resubmit": "Dikirim ulang",
    "cancel": "Dibatalkan pemohon", "register": "Akun SPLP dicatat", "submit_report": "Laporan dikirim",
    "forward": "Laporan diteruskan kepada pemohon", "reminder_share": "Pengingat batas waktu",
    "reminder_breach": "Batas waktu terlampaui", "reminder_overdue": "Pengingat keterlambatan",
    "escalated": "Eskalasi kepada atasan", "digest": "Ringkasan harian", "refused": "Tindakan ditolak",
    "forged_tap": "Tombol tidak sah", "monev_monthly": "Laporan monitoring bulanan dikirim",
    "monev_action": "Tindakan monitoring dicatat", "monev_request": "Rekapitulasi diminta",
}


def _local(t: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Excel has no time zones: WIB wall-clock time, to the second."""
    return t.astimezone(tz).replace(tzinfo=None, microsecond=0) if t is not None else None


class Workbook:
    """The XLSX: sheet "Ringkasan" (the report's figures) and sheet "Rincian" (one row per hop)."""

    def __init__(self, standard_day_seconds: int, sop: Sop) -> None:
        from openpyxl import Workbook as _Book

        self.book = _Book(write_only=True)
        self.day = standard_day_seconds
        self.sop = sop
        self.rows = 0

    def _cell(self, ws: Any, value: Any, fmt: str | None = None, bold: bool = False) -> Any:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        c = WriteOnlyCell(ws, value=value)
        if fmt:
            c.number_format = fmt
        if bold:
            c.font = Font(bold=True)
        return c

    def summary(self, r: OversightReport, tz: ZoneInfo) -> None:
        ws = self.book.create_sheet("Ringkasan")
        for col, width in zip("ABCDEFGHIJKLMN", (11, 44, 14, 9, 13, 13, 13, 12, 12, 10, 26, 60, 40, 4)):
            ws.column_dimensions[col].width = width
        b = lambda v: self._cell(ws, v, bold=True)  # noqa: E731
        ws.append([b("Laporan Monitoring dan Evaluasi Pelaksanaan SOP")])
        ws.append(["Periode", period_range(r.period)])
        ws.append(["Posisi data", cutoff_text(r, tz)])
        ws.append(["Dibuat (WIB)", self._cell(ws, _local(r.generated_at, tz), DATE_FORMAT)])
        ws.append(["Ambang penilaian", self._cell(ws, r.threshold, "0%")])
        ws.append([])
        ws.append([b("Permohonan"), b("Jumlah")])
        for label, n in (("Diterima", r.received), ("Selesai", r.finished), ("Dalam proses (posisi data)",
                         r.in_progress), ("Dibatalkan", r.withdrawn), ("Pemeriksaan kelengkapan", r.checks),
                         ("Dikembalikan (tidak lengkap)", r.returns)):
            ws.append([label, n])
        ws.append(["Tingkat pengembalian", self._cell(ws, r.return_rate, "0%")])
        for item, n in r.missing:
            ws.append([f"Kurang: {r.sop.item_label(item)}", n])
        t = r.total
        ws.append([])
        ws.append([b(f"Surat s.d. akun (langkah {r.sop.request_step.number} s.d. Selesai)"), b("Jumlah"), b("Median (menit)"),
                   b("Terlama (menit)"), b("Batas SOP (menit)"), b("Tepat waktu")])
        ws.append(["Permohonan selesai", t.n, self._min(ws, t.median), self._min(ws, t.worst),
                   self._min(ws, r.total_limit_seconds), self._cell(ws, t.on_time_share, "0%")])
        ws.append([])
        ws.append([b(h) for h in ("Langkah", "Uraian", "Batas SOP", "Jumlah", "Median (menit)", "Persentil 90 (menit)",
                                  "Terlama (menit)", "Tepat waktu", "Melewati batas", "Eskalasi", "Penilaian",
                                  "Catatan hasil penilaian", "Tindakan yang harus diambil")])
        for sr in r.steps:
            d = sr.dist
            ws.append([sr.code, step_label(r.sop, sr.step), limit_text(sr.step), d.n, self._min(ws, d.median),
                       self._min(ws, d.p90), self._min(ws, d.worst), self._cell(ws, d.on_time_share, "0%"), d.late,
                       sr.escalations, ASSESSMENT[sr.assessment] if sr.assessment else "Tidak ada pelaksanaan",
                       step_note(sr, r), sr.action])
        ws.append([threshold_text(r)])
        if r.holders is not None:
            ws.append([])
            ws.append([b(h) for h in ("Pejabat", "Peran", "Jumlah", "Median (menit)", "Tepat waktu")])
            for h in r.holders:
                ws.append([h.name, r.sop.role_title(h.role), h.dist.n, self._min(ws, h.dist.median), self._cell(ws, h.dist.on_time_share, "0%")])
        ws.append([])
        ws.append([b("Per bulan"), b("Jumlah langkah"), b("Tepat waktu"), b("Persentase")])
        for m in r.months:
            ws.append([self._cell(ws, m.month, "mmmm yyyy"), m.n, m.on_time, self._cell(ws, m.share, "0%")])

    def _min(self, ws: Any, seconds: float | None) -> Any:
        return self._cell(ws, None if seconds is None else seconds / 60, "0.0")

    def details(self) -> Any:
        """Start sheet "Rincian"; returns the sheet for :meth:`add_rows`."""
        ws = self.book.create_sheet("Rincian")
        for col, width in zip("ABCDEFGHIJK", (20, 16, 9, 34, 30, 17, 17, 17, 13, 12, 11)):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A2"
        ws.append([self._cell(ws, h, bold=True) for h in DETAIL_HEAD])
        self.detail_sheet = ws
        return ws

    def add_rows(self, rows: Sequence[Any], tz: ZoneInfo) -> None:
        """Rows from ``storage.figures.step_rows``."""
        ws = self.detail_sheet
        for (number, agency, code, stage, app, holder, role, received, done, due, work, passage, outcome) in rows:
            step = self.sop.steps.get(code)
            if outcome == "submitted" and step is not None:  # the letter itself (step 1's first passage)
                what = step.title
            elif stage:
                what = _state(self.sop, stage)
            else:
                what = (step.title if step else code) + (f" — {app}" if app else "")
            if done is None:
                on_time = "Berjalan"
            elif due is not None:
                on_time = "Ya" if done <= due else "Tidak"
            elif step is not None and passage is not None:  # the requester's own step: its limit as working time
                on_time = "Ya" if passage <= limit_seconds(step, timedelta(seconds=self.day)) else "Tidak"
            else:
                on_time = "—"
            ws.append([number, agency, code, what, holder_text(self.sop, holder, role),
                       self._cell(ws, _local(received, tz), DATE_FORMAT), self._cell(ws, _local(done, tz), DATE_FORMAT),
                       self._cell(ws, _local(due, tz), DATE_FORMAT), limit_text(step) if step else "",
                       self._cell(ws, None if work is None else work / 60, "0.0"), on_time])
            self.rows += 1

    def finish(self) -> bytes:
        ws = self.detail_sheet
        ws.auto_filter.ref = f"A1:{chr(ord('A') + len(DETAIL_HEAD) - 1)}{self.rows + 1}"
        buf = io.BytesIO()
        self.book.save(buf)
        return buf.getvalue()


# ----------------------------------------------------------------------------- audit CSV

AUDIT_HEAD = ("Waktu (WIB)", "Pelaku", "Tindakan", "Kode tindakan", "Nomor permohonan", "Dari", "Ke", "Keterangan")


def _state(sop: Sop, value: str | None) -> str:
    if not value:
        return ""
    info = sop.stages.get(value)
    return info.label if info else value  # a stage of an earlier SOP version: its code


def _detail(sop: Sop, d: dict[str, Any] | None) -> str:
    """The audit detail's parts an inspector needs (never personal data: the audit holds none, and
    only these keys are copied)."""
    if not d:
        return ""
    out = []
    if d.get("instruction"):
        out.append(f"instruksi: {d['instruction']}")
    if d.get("missing"):
        out.append("kurang: " + ", ".join(sop.item_label(str(m)) for m in d["missing"]))
    if isinstance(d.get("to_role"), str):
        out.append(f"kepada: {sop.role_title(d['to_role'])}")
    if isinstance(d.get("role"), str):
        out.append(f"peran: {sop.role_title(d['role'])}")
    if isinstance(d.get("day"), int) and d["day"]:
        out.append(f"hari keterlambatan ke-{d['day']}")
    if d.get("action_tried"):
        out.append(f"dicoba: {d['action_tried']}")
    if d.get("reason") and isinstance(d["reason"], str) and len(d["reason"]) <= 20:
        out.append(f"alasan: {d['reason']}")
    return "; ".join(out)


class AuditCsv:
    def __init__(self, sop: Sop) -> None:
        self.sop = sop
        self.buf = io.StringIO()
        self.w = csv.writer(self.buf)
        self.w.writerow(AUDIT_HEAD)
        self.rows = 0

    def add_rows(self, rows: Sequence[Any], tz: ZoneInfo) -> None:
        """Rows from ``storage.figures.audit_rows``."""
        for at, official, by_requester, by_user, action, number, frm, to, detail in rows:
            who = official or ("Pemohon" if by_requester else "Pengguna Telegram" if by_user else "Sistem")
            self.w.writerow([at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), who, ACTION_LABELS.get(action, action),
                             action, number or "", _state(self.sop, frm), _state(self.sop, to),
                             _detail(self.sop, detail)])
            self.rows += 1

    def finish(self) -> bytes:
        return self.buf.getvalue().encode("utf-8-sig")  # with BOM: spreadsheet programs read it as UTF-8


def file_name(kind: str, p: Period) -> str:
    """``monev-sop-20261001-20261231.pdf``, ``audit-sop-…csv``."""
    prefix = "audit-sop" if kind == "csv" else "monev-sop"
    return f"{prefix}-{p.start:%Y%m%d}-{p.end:%Y%m%d}.{kind}"


__all__ = ["AuditCsv", "Workbook", "file_name"]
