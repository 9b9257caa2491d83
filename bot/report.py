"""The activity report, the output of the SOP's report step (its title, e.g. "Laporan Kegiatan
Pelaksanaan Pembuatan Akun SPLP", is the SOP file's ``report.title``).

A pure renderer: plain data in, PDF bytes out. No database, no Telegram. The caller
decides what personal data goes in (masking contact details where sensible); this module
never receives, and so can never print, a password or any other secret. The letterhead,
fonts and text safety are the office's documents' own (``bot/pdfdoc.py``, :class:`Issuer`).

The output is deterministic: the same data gives the same bytes (the PDF creation date is
taken from ``ReportData.date``, and the file identifier is a hash of the content).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fpdf import FontFace
from fpdf.enums import Align, TableHeadingsDisplay, VAlign

from bot.pdfdoc import (
    FONT_DIRS,
    JAKARTA,
    Document,
    Issuer,
    format_date,
    format_datetime,
    require_aware,
)

__all__ = ["Issuer", "ReportData", "ReportStep", "render_report", "step_status",
           "format_date", "format_datetime",
           "STATUS_ON_TIME", "STATUS_LATE", "STATUS_RUNNING", "STATUS_DONE"]

STATUS_ON_TIME = "Tepat waktu"
STATUS_LATE = "Terlambat"
STATUS_RUNNING = "Berjalan"
STATUS_DONE = "Selesai"  # finished, but the step has no time limit to compare against

_FONT_DIRS = FONT_DIRS  # where the fonts are looked up (tests point it elsewhere)

# Cell texts longer than this are shortened, so that no table row can outgrow a page
# (fpdf2 cannot split one row across pages and raises instead).
_MAX_CELL_CHARS = 300


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ReportStep:
    """One row of the timeline table."""

    step_label: str  # e.g. "Langkah 2 — Disposisi <the office's head>"
    holder: str  # name (role)
    received: datetime  # aware
    done: datetime | None
    limit: str  # e.g. "1 hari kerja"
    due: datetime | None

    def __post_init__(self) -> None:
        require_aware("received", self.received)
        require_aware("done", self.done)
        require_aware("due", self.due)


@dataclass(frozen=True)
class ReportData:
    issuer: Issuer  # the office (letterhead, place, the SOP's reference and version)
    title: str  # the SOP's report.title, e.g. "LAPORAN KEGIATAN ..."
    report_number: str  # e.g. "LAP-SPLP-2026-000001"
    request_number: str  # e.g. "SPLP-2026-000001"
    date: date  # report date
    agency_name: str
    agency_short: str
    letter_number: str
    letter_date: date
    subject: str
    contact_name: str
    contact_email: str
    contact_phone: str
    app_name: str
    business_process: str
    steps: Sequence[ReportStep]
    account_username: str
    delivery: str  # how the credentials were delivered; never a secret
    executor_name: str  # who signs (the SOP's report.signatory)
    executor_title: str  # their role's title
    capacity: str = "Pelaksana,"  # above the signature
    document: str = "laporan"  # what the closing sentence calls it ("Demikian laporan ini dibuat ...")
    note: str | None = None
    tz: ZoneInfo = field(default=JAKARTA)


def step_status(step: ReportStep) -> str:
    """Keterangan of a step: on time / late against its due time, or still running."""
    if step.done is None:
        return STATUS_RUNNING
    if step.due is None:
        return STATUS_DONE
    return STATUS_ON_TIME if step.done <= step.due else STATUS_LATE


def _breakable(text: str) -> str:
    """A narrow table column may break a line after a slash (a role title "A/B"),
    never inside a word: a zero-width space after it (fpdf2 breaks lines there, printing nothing)."""
    return text.replace("/", "/\u200b")


# ------------------------------------------------------------------------- PDF


class _Renderer(Document):
    def __init__(self, data: ReportData) -> None:
        super().__init__(
            issuer=data.issuer,
            title=f"{data.title} {data.report_number}",
            subject=f"Permohonan {data.request_number} \u2014 {data.agency_name}",
            keywords=f"SPLP; SOP {data.issuer.number}; {data.report_number}; {data.request_number}",
            footer=f"{data.report_number} \u2014 {data.request_number}", created=data.date, tz=data.tz,
            font_dirs=_FONT_DIRS)
        self.d = data

    # --- parts

    def title(self) -> None:
        d, t = self.d, self.t
        self.paragraph(t(d.title), style="B", align=Align.C, size=12)
        self.pdf.ln(1)
        self.paragraph(t(f"Nomor: {d.report_number}"), align=Align.C)
        self.paragraph(f"Tanggal: {format_date(d.date)}", align=Align.C)
        self.pdf.ln(2)

    def basis(self) -> None:
        d, t = self.d, self.t
        self.heading("I. DASAR")
        self.numbered("1.", t(f"Standar Operasional Prosedur (SOP) Nomor {d.issuer.reference} "
                              f"({d.issuer.version})."))
        self.numbered("2.", t(f"Surat {d.agency_name} Nomor {d.letter_number} tanggal "
                             f"{format_date(d.letter_date)} perihal {d.subject}."))

    def requester(self) -> None:
        d, t = self.d, self.t
        self.heading("II. PEMOHON")
        agency = t(d.agency_name)
        short = t(d.agency_short)
        if short and short.casefold() != agency.casefold():
            agency = f"{agency} ({short})"
        self.field("Perangkat Daerah", agency)
        self.field("Nomor permohonan", t(d.request_number))
        self.field("Narahubung", t(d.contact_name))
        self.field("Surel narahubung", t(d.contact_email))
        self.field("Nomor ponsel", t(d.contact_phone))

    def application(self) -> None:
        d, t = self.d, self.t
        self.heading("III. APLIKASI")
        self.field("Nama aplikasi", t(d.app_name))
        self.field("Proses bisnis", "", placeholder="")
        self.paragraph(t(d.business_process, multiline=True) or "-", indent=self.INDENT)

    def execution(self) -> None:
        d, t, pdf = self.d, self.t, self.pdf
        self.heading("IV. PELAKSANAAN")
        steps = list(d.steps)
        if not steps:
            self.paragraph("Belum ada tahapan yang tercatat.", indent=self.INDENT)
            return
        self.paragraph("Permohonan diproses sesuai tahapan SOP dengan rincian sebagai berikut:",
                       indent=self.INDENT)
        pdf.ln(1.5)
        cell = _MAX_CELL_CHARS

        def when(dt: datetime | None) -> str:
            return format_datetime(dt, self.tz, sep="\n") if dt is not None else "-"

        self.font(size=7.5)
        with pdf.table(
            col_widths=(32, 26, 29, 29, 29, 20),
            width=pdf.epw,
            align=Align.L,
            v_align=VAlign.T,
            text_align=(Align.L, Align.L, Align.L, Align.L, Align.L, Align.L),
            line_height=3.6,
            padding=1,
            headings_style=FontFace(emphasis="BOLD", fill_color=225),
            repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
            first_row_as_headings=True,
        ) as table:
            head = table.row()
            for title in ("Tahap", "Pemegang", "Diterima", "Selesai", "Batas waktu", "Keterangan"):
                head.cell(title)
            for step in steps:
                limit = t(step.limit, limit=cell) or "-"
                if step.due is not None:
                    limit = f"{limit}\n(s.d. {format_datetime(step.due, self.tz)})"
                row = table.row()
                row.cell(_breakable(t(step.step_label, limit=cell)) or "-")
                row.cell(_breakable(t(step.holder, limit=cell)) or "-")
                row.cell(when(step.received))
                row.cell(when(step.done))
                row.cell(limit)
                row.cell(step_status(step))
        pdf.ln(2)
        statuses = [step_status(s) for s in steps]
        late, running = statuses.count(STATUS_LATE), statuses.count(STATUS_RUNNING)
        if late == 0 and running == 0:
            summary = "Seluruh tahapan telah diselesaikan tanpa melewati batas waktu yang ditetapkan SOP."
        else:
            parts = []
            if late:
                parts.append(f"{late} tahapan diselesaikan melewati batas waktu")
            if running:
                parts.append(f"{running} tahapan masih berjalan")
            summary = "Terdapat " + " dan ".join(parts) + "."
        self.paragraph(summary, indent=self.INDENT)

    def result(self) -> None:
        d, t = self.d, self.t
        self.heading("V. HASIL")
        self.paragraph("Akun SPLP telah dibuat dengan rincian sebagai berikut:", indent=self.INDENT)
        self.pdf.ln(0.5)
        self.field("Nama pengguna", t(d.account_username))
        self.field("Penyampaian akun", t(d.delivery, multiline=True))
        self.pdf.ln(1)
        self.paragraph("Kata sandi akun tidak dicantumkan dalam laporan ini.", indent=self.INDENT)

    def remarks(self) -> None:
        note = self.t(self.d.note, multiline=True)
        if not note:
            return
        self.heading("VI. CATATAN")
        self.paragraph(note, indent=self.INDENT)

    def closing(self) -> None:
        d, pdf = self.d, self.pdf
        pdf.ln(4)
        self.paragraph(self.t(f"Demikian {d.document} ini dibuat untuk dipergunakan sebagaimana mestinya."),
                       indent=self.INDENT)
        self.signature(d.date, self.t(d.capacity), d.executor_name, d.executor_title)

    def render(self) -> bytes:
        self.pdf.add_page()
        self.letterhead()
        self.title()
        self.basis()
        self.requester()
        self.application()
        self.execution()
        self.result()
        self.remarks()
        self.closing()
        return self.output()


def render_report(data: ReportData) -> bytes:
    """Render the activity report as an A4 PDF; the same data gives the same bytes."""
    return _Renderer(data).render()
