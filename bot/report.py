"""The activity report of SOP 038, step 6: "Laporan Kegiatan Pelaksanaan Pembuatan Akun SPLP".

A pure renderer: plain data in, PDF bytes out. No database, no Telegram. The caller
decides what personal data goes in (masking contact details where sensible); this module
never receives, and so can never print, a password or any other secret.

Fonts: DejaVu Sans (regular and bold) shipped in ``bot/fonts`` (licence next to them),
embedded as subsets with a ToUnicode map so the text can be extracted and searched. If the
bundled files are missing, the system copy of DejaVu is used, and failing that the PDF
core font Helvetica (Latin-1 only). Whatever the font, characters it has no glyph for
are transliterated where possible and otherwise replaced with "?", so user-supplied text
(names with Vietnamese, Arabic, emoji, ...) never makes rendering fail.

The output is deterministic: the same data gives the same bytes (the PDF creation date is
taken from ``ReportData.date``, and the file identifier is a hash of the content).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableHeadingsDisplay, VAlign, XPos, YPos

__all__ = ["ReportData", "ReportStep", "render_report", "step_status",
           "format_date", "format_datetime",
           "STATUS_ON_TIME", "STATUS_LATE", "STATUS_RUNNING", "STATUS_DONE"]

JAKARTA = ZoneInfo("Asia/Jakarta")

STATUS_ON_TIME = "Tepat waktu"
STATUS_LATE = "Terlambat"
STATUS_RUNNING = "Berjalan"
STATUS_DONE = "Selesai"  # finished, but the step has no time limit to compare against

SOP_REFERENCE = "038/SOP Pengelolaan Layanan SPLP Kota Bogor/2024"
AUTHOR = "Diskominfo Kota Bogor"
TITLE = "LAPORAN KEGIATAN PELAKSANAAN PEMBUATAN AKUN SPLP"

_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember")
_TZ_ABBR = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
            "Asia/Jayapura": "WIT"}

_FONT_DIRS = (Path(__file__).resolve().parent / "fonts", Path("/usr/share/fonts/truetype/dejavu"))
_FONT_REGULAR = "DejaVuSans.ttf"
_FONT_BOLD = "DejaVuSans-Bold.ttf"

MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT = 25, 18, 20  # mm

# Cell texts longer than this are shortened, so that no table row can outgrow a page
# (fpdf2 cannot split one row across pages and raises instead).
_MAX_CELL_CHARS = 300


# --------------------------------------------------------------------------- data


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class ReportStep:
    """One row of the timeline table."""

    step_label: str  # e.g. "Langkah 2 — Disposisi Kepala Diskominfo"
    holder: str  # name (role)
    received: datetime  # aware
    done: datetime | None
    limit: str  # e.g. "1 hari kerja"
    due: datetime | None

    def __post_init__(self) -> None:
        _require_aware("received", self.received)
        _require_aware("done", self.done)
        _require_aware("due", self.due)


@dataclass(frozen=True)
class ReportData:
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
    executor_name: str
    executor_title: str
    note: str | None = None
    tz: ZoneInfo = field(default=JAKARTA)


def step_status(step: ReportStep) -> str:
    """Keterangan of a step: on time / late against its due time, or still running."""
    if step.done is None:
        return STATUS_RUNNING
    if step.due is None:
        return STATUS_DONE
    return STATUS_ON_TIME if step.done <= step.due else STATUS_LATE


# ------------------------------------------------------------------- formatting


def format_date(d: date) -> str:
    """``30 November 2026``."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _tz_abbr(tz: ZoneInfo, local: datetime) -> str:
    return _TZ_ABBR.get(getattr(tz, "key", ""), local.tzname() or "")


def format_datetime(dt: datetime, tz: ZoneInfo = JAKARTA, *, sep: str = " ") -> str:
    """``30 November 2026 09.00 WIB`` (in ``tz``); ``sep`` goes between date and time."""
    _require_aware("dt", dt)
    local = dt.astimezone(tz)
    return f"{format_date(local.date())}{sep}{local:%H.%M} {_tz_abbr(tz, local)}".rstrip()


# ------------------------------------------------------------------ text safety

# Replacements tried for a character the font lacks, before decomposition and "?".
_SUBSTITUTES = {
    "\u2014": "-", "\u2013": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2026": "...", "\u2022": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u00df": "ss", "\u0131": "i", "\u0141": "L", "\u0142": "l", "\u00d8": "O", "\u00f8": "o",
    "\u0110": "D", "\u0111": "d", "\u00c6": "AE", "\u00e6": "ae", "\u0152": "OE", "\u0153": "oe",
}
# Characters that only modify the character before them (joiners, variation selectors,
# emoji skin tones, tag characters): dropped when what they modify was replaced.
_JOINER = "\u200d"


def _is_modifier(ch: str) -> bool:
    cp = ord(ch)
    return (ch == _JOINER or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F
            or unicodedata.category(ch) in ("Mn", "Me"))


def _breakable(text: str) -> str:
    """A narrow table column may break a line after a slash ("Pejabat Fungsional/Pelaksana"),
    never inside a word: a zero-width space after it (fpdf2 breaks lines there, printing nothing)."""
    return text.replace("/", "/\u200b")


class _TextSafety:
    """Makes arbitrary user text printable with the fonts in use."""

    def __init__(self, available: frozenset[int]) -> None:
        self._available = available

    def _has(self, text: str) -> bool:
        return all(ord(c) in self._available for c in text)

    def _replace(self, ch: str) -> str:
        sub = _SUBSTITUTES.get(ch)
        if sub is not None and self._has(sub):
            return sub
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and base != ch and self._has(base):
            return base
        return "?"

    def __call__(self, text: str | None, *, multiline: bool = False, limit: int | None = None) -> str:
        if text is None:
            return ""
        text = unicodedata.normalize("NFC", str(text))
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        out: list[str] = []
        replaced = False  # the previous visible character was replaced
        joined = False  # ... and a joiner followed it
        for ch in text:
            if ch == "\n":
                out.append("\n" if multiline else " ")
                replaced = joined = False
                continue
            cat = unicodedata.category(ch)
            if cat in ("Cc", "Cs") or (cat == "Cf" and ch != _JOINER and ord(ch) not in self._available):
                continue  # controls, lone surrogates, invisible format characters
            if _is_modifier(ch):
                if replaced:
                    joined = joined or ch == _JOINER
                    continue
                if ord(ch) in self._available:
                    out.append(ch)
                continue
            if ord(ch) in self._available:
                out.append(ch)
                replaced = joined = False
                continue
            if not (replaced and joined):  # one "?" for a whole joined emoji sequence
                out.append(self._replace(ch))
            replaced, joined = True, False
        result = "".join(out)
        if not multiline:
            result = " ".join(result.split())
        else:
            result = "\n".join(line.rstrip() for line in result.strip("\n").split("\n"))
        if limit is not None and len(result) > limit:
            result = result[: limit - 3].rstrip() + "..."
        return result


# ------------------------------------------------------------------------- PDF


def _font_files() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = folder / _FONT_REGULAR, folder / _FONT_BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _ReportPDF(FPDF):
    def __init__(self, footer_right: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_right = footer_right
        self.report_family = "Helvetica"

    def footer(self) -> None:
        # The page margins, not self.l_margin: a page break can happen while a hanging
        # indent has moved the left margin.
        left, right = MARGIN_LEFT, self.w - MARGIN_RIGHT
        self.set_draw_color(150)
        self.set_line_width(0.2)
        self.line(left, self.h - 14, right, self.h - 14)
        self.set_xy(left, self.h - 12.5)
        self.set_font(self.report_family, "", 8)
        self.set_text_color(90)
        half = (right - left) / 2
        # The page count is left-aligned: fpdf2 measures the "{nb}" alias, not the number
        # that replaces it, so right-aligned text would end short of the margin.
        self.cell(half, 5, f"Halaman {self.page_no()} dari {{nb}}", align=Align.L)
        self.cell(half, 5, self.footer_right, align=Align.R)
        self.set_text_color(0)


class _Renderer:
    BODY = 10
    LINE = 5.2
    LABEL_W = 44
    COLON_W = 4
    INDENT = 7

    def __init__(self, data: ReportData) -> None:
        self.d = data
        self.tz = data.tz
        self.pdf = pdf = _ReportPDF("")
        fonts = _font_files()
        if fonts is not None:
            pdf.add_font("DejaVu", "", str(fonts[0]))
            pdf.add_font("DejaVu", "B", str(fonts[1]))
            pdf.report_family = "DejaVu"
            available = frozenset.intersection(*(frozenset(f.cmap) for f in pdf.fonts.values()))
        else:  # core font: Latin-1 only
            available = frozenset(c for c in range(0x20, 0x100) if not 0x7F <= c <= 0x9F)
        self.t = _TextSafety(available)
        pdf.footer_right = self.t(f"{data.report_number} \u2014 {data.request_number}")
        pdf.set_margins(left=MARGIN_LEFT, top=MARGIN_TOP, right=MARGIN_RIGHT)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_title(self.t(f"Laporan Kegiatan Pelaksanaan Pembuatan Akun SPLP {data.report_number}"))
        pdf.set_subject(self.t(f"Permohonan {data.request_number} \u2014 {data.agency_name}"))
        pdf.set_author(AUTHOR)
        pdf.set_creator("splp-bot")
        pdf.set_keywords(self.t(f"SPLP; SOP 038; {data.report_number}; {data.request_number}"))
        pdf.set_lang("id-ID")
        pdf.set_creation_date(datetime.combine(data.date, time(0, 0), tzinfo=self.tz))

    # --- primitives

    def font(self, style: str = "", size: float | None = None) -> None:
        self.pdf.set_font(self.pdf.report_family, style, size or self.BODY)

    def ensure_space(self, height: float) -> None:
        pdf = self.pdf
        if pdf.y + height > pdf.page_break_trigger:
            pdf.add_page()

    def paragraph(self, text: str, *, style: str = "", align: Align = Align.J, indent: float = 0,
                  size: float | None = None) -> None:
        pdf = self.pdf
        self.font(style, size)
        width = pdf.epw - indent
        lines = len(pdf.multi_cell(width, self.LINE, text, dry_run=True, output="LINES"))
        if lines <= 4:  # short paragraphs are not split across pages
            self.ensure_space(lines * self.LINE)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width, self.LINE, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.ensure_space(24)  # keep a heading together with the start of its section
        self.pdf.ln(3)
        self.paragraph(text, style="B", align=Align.L, size=self.BODY + 0.5)
        self.pdf.ln(1)

    def field(self, label: str, value: str, *, indent: float | None = None,
              placeholder: str = "-") -> None:
        pdf = self.pdf
        indent = self.INDENT if indent is None else indent
        self.ensure_space(self.LINE)
        self.font()
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(self.LABEL_W, self.LINE, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(self.COLON_W, self.LINE, ":", new_x=XPos.RIGHT, new_y=YPos.TOP)
        width = pdf.w - pdf.r_margin - pdf.x
        value_x = pdf.x
        # Continuation lines (also after a page break) stay aligned with the value column.
        saved = pdf.l_margin
        pdf.set_left_margin(value_x)
        try:
            pdf.multi_cell(width, self.LINE, value or placeholder, align=Align.L,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        finally:
            pdf.set_left_margin(saved)
            pdf.set_x(saved)

    def numbered(self, number: str, text: str) -> None:
        pdf = self.pdf
        self.ensure_space(self.LINE)
        self.font()
        pdf.set_x(pdf.l_margin + self.INDENT)
        pdf.cell(self.INDENT, self.LINE, number, new_x=XPos.RIGHT, new_y=YPos.TOP)
        saved = pdf.l_margin
        pdf.set_left_margin(pdf.x)
        try:
            pdf.multi_cell(pdf.w - pdf.r_margin - pdf.x, self.LINE, text, align=Align.J,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        finally:
            pdf.set_left_margin(saved)
            pdf.set_x(saved)

    # --- parts

    def letterhead(self) -> None:
        pdf = self.pdf
        self.paragraph("PEMERINTAH KOTA BOGOR", style="B", align=Align.C, size=13)
        pdf.ln(0.5)
        self.paragraph("DINAS KOMUNIKASI DAN INFORMATIKA", style="B", align=Align.C, size=15)
        pdf.ln(2.5)
        y = pdf.y
        pdf.set_draw_color(0)
        pdf.set_line_width(0.8)
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.set_line_width(0.25)
        pdf.line(pdf.l_margin, y + 1.2, pdf.w - pdf.r_margin, y + 1.2)
        pdf.set_y(y + 6)

    def title(self) -> None:
        d, t = self.d, self.t
        self.paragraph(TITLE, style="B", align=Align.C, size=12)
        self.pdf.ln(1)
        self.paragraph(t(f"Nomor: {d.report_number}"), align=Align.C)
        self.paragraph(f"Tanggal: {format_date(d.date)}", align=Align.C)
        self.pdf.ln(2)

    def basis(self) -> None:
        d, t = self.d, self.t
        self.heading("I. DASAR")
        self.numbered("1.", f"Standar Operasional Prosedur (SOP) Nomor {SOP_REFERENCE}.")
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
        d, t, pdf = self.d, self.t, self.pdf
        pdf.ln(4)
        self.paragraph("Demikian laporan ini dibuat untuk dipergunakan sebagaimana mestinya.",
                       indent=self.INDENT)
        name, title = t(d.executor_name) or "-", t(d.executor_title)
        width = 75
        self.font()
        lines = len(pdf.multi_cell(width, self.LINE, f"{name}\n{title}", dry_run=True,
                                   output="LINES"))
        self.ensure_space(8 + self.LINE * 2 + 20 + self.LINE * lines)
        pdf.ln(8)
        x = pdf.w - pdf.r_margin - width
        saved = pdf.l_margin
        pdf.set_left_margin(x)
        try:
            pdf.set_x(x)
            self.font()
            pdf.multi_cell(width, self.LINE, f"Bogor, {format_date(d.date)}", align=Align.C,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.multi_cell(width, self.LINE, "Pelaksana,", align=Align.C,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(20)
            self.font("BU")
            pdf.multi_cell(width, self.LINE, name, align=Align.C,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if title:
                self.font()
                pdf.multi_cell(width, self.LINE, title, align=Align.C,
                               new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        finally:
            pdf.set_left_margin(saved)
            pdf.set_x(saved)

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
        return bytes(self.pdf.output())


def render_report(data: ReportData) -> bytes:
    """Render the activity report as an A4 PDF; the same data gives the same bytes."""
    return _Renderer(data).render()
