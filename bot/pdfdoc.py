"""The office's PDF documents: who issues them (:class:`Issuer`, from the SOP in force: the
letterhead, the place, the SOP's reference), fonts, text safety, the page footer and the layout
primitives that the activity report (``bot/report.py``) and the monitoring report
(``bot/monev_pdf.py``) share.

Fonts: DejaVu Sans (regular and bold) shipped in ``bot/fonts`` (licence next to them),
embedded as subsets with a ToUnicode map so the text can be extracted and searched. If the
bundled files are missing, the system copy of DejaVu is used, and failing that the PDF
core font Helvetica (Latin-1 only). Whatever the font, characters it has no glyph for
are transliterated where possible and otherwise replaced with "?", so user-supplied text
(names with Vietnamese, Arabic, emoji, ...) never makes rendering fail.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from workflow.sop import Sop


@dataclass(frozen=True)
class Issuer:
    """Who issues the documents: the office of the SOP in force (or of a request's version)."""

    letterhead: tuple[str, ...]  # the lines on top, the last one larger
    author: str  # the PDF's author: the office's short name and the Pemda
    place: str  # where documents are signed ("<place>, 1 Desember 2026")
    reference: str  # the SOP's reference, as the documents cite it
    number: str  # the SOP's number
    version: str  # "rev. 0, versi 3f2a9c1e"

    @classmethod
    def of(cls, sop: Sop) -> Issuer:
        i = sop.identity
        return cls(letterhead=sop.doc.report.letterhead, author=f"{i.office_short} {i.pemda.removeprefix('Pemerintah ')}",
                   place=i.place, reference=i.reference, number=i.number,
                   version=f"revisi {sop.revision}, versi {sop.version[:8]}")

JAKARTA = ZoneInfo("Asia/Jakarta")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
_TZ_ABBR = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
            "Asia/Jayapura": "WIT"}

FONT_DIRS = (Path(__file__).resolve().parent / "fonts", Path("/usr/share/fonts/truetype/dejavu"))
_FONT_REGULAR = "DejaVuSans.ttf"
_FONT_BOLD = "DejaVuSans-Bold.ttf"

MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT = 25, 18, 20  # mm


def require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be a timezone-aware datetime")


# ------------------------------------------------------------------- formatting


def format_date(d: date) -> str:
    """``30 November 2026``."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def tz_abbr(tz: ZoneInfo, local: datetime) -> str:
    return _TZ_ABBR.get(getattr(tz, "key", ""), local.tzname() or "")


def format_datetime(dt: datetime, tz: ZoneInfo = JAKARTA, *, sep: str = " ") -> str:
    """``30 November 2026 09.00 WIB`` (in ``tz``); ``sep`` goes between date and time."""
    require_aware("dt", dt)
    local = dt.astimezone(tz)
    return f"{format_date(local.date())}{sep}{local:%H.%M} {tz_abbr(tz, local)}".rstrip()


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


class TextSafety:
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


def font_files(dirs: Sequence[Path] = FONT_DIRS) -> tuple[Path, Path] | None:
    for folder in dirs:
        regular, bold = folder / _FONT_REGULAR, folder / _FONT_BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class OfficePDF(FPDF):
    """A4 with the page footer: "Halaman n dari N" and a reference on the right."""

    def __init__(self, footer_right: str, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
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


class Document:
    """An office document being written: fonts set up, text made safe, layout primitives."""

    BODY = 10
    LINE = 5.2
    LABEL_W = 44
    COLON_W = 4
    INDENT = 7

    def __init__(self, *, issuer: Issuer, title: str, subject: str, keywords: str, footer: str, created: date,
                 tz: ZoneInfo = JAKARTA, font_dirs: Sequence[Path] = FONT_DIRS) -> None:
        self.tz = tz
        self.issuer = issuer
        self.pdf = pdf = OfficePDF("")
        fonts = font_files(font_dirs)
        if fonts is not None:
            pdf.add_font("DejaVu", "", str(fonts[0]))
            pdf.add_font("DejaVu", "B", str(fonts[1]))
            pdf.report_family = "DejaVu"
            available = frozenset.intersection(*(frozenset(f.cmap) for f in pdf.fonts.values()))
        else:  # core font: Latin-1 only
            available = frozenset(c for c in range(0x20, 0x100) if not 0x7F <= c <= 0x9F)
        self.t = TextSafety(available)
        pdf.footer_right = self.t(footer)
        pdf.set_margins(left=MARGIN_LEFT, top=MARGIN_TOP, right=MARGIN_RIGHT)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_title(self.t(title))
        pdf.set_subject(self.t(subject))
        pdf.set_author(self.t(issuer.author))
        pdf.set_creator("splp-bot")
        pdf.set_keywords(self.t(keywords))
        pdf.set_lang("id-ID")
        pdf.set_creation_date(datetime.combine(created, time(0, 0), tzinfo=tz))

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

    def letterhead(self) -> None:
        pdf = self.pdf
        lines = self.issuer.letterhead
        for i, line in enumerate(lines):
            self.paragraph(self.t(line), style="B", align=Align.C, size=13 if i < len(lines) - 1 else 15)
            pdf.ln(0.5 if i < len(lines) - 1 else 2.5)
        y = pdf.y
        pdf.set_draw_color(0)
        pdf.set_line_width(0.8)
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.set_line_width(0.25)
        pdf.line(pdf.l_margin, y + 1.2, pdf.w - pdf.r_margin, y + 1.2)
        pdf.set_y(y + 6)

    def signature(self, signed: date, capacity: str, name: str, title: str) -> None:
        """The signature block on the right: place and date, capacity, space, name, title."""
        pdf = self.pdf
        name, title = self.t(name) or "-", self.t(title)
        width = 75
        self.font()
        lines = len(pdf.multi_cell(width, self.LINE, f"{name}\n{title}", dry_run=True, output="LINES"))
        self.ensure_space(8 + self.LINE * 2 + 20 + self.LINE * lines)
        pdf.ln(8)
        x = pdf.w - pdf.r_margin - width
        saved = pdf.l_margin
        pdf.set_left_margin(x)
        try:
            pdf.set_x(x)
            self.font()
            pdf.multi_cell(width, self.LINE, self.t(f"{self.issuer.place}, {format_date(signed)}"), align=Align.C,
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.multi_cell(width, self.LINE, capacity, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(20)
            self.font("BU")
            pdf.multi_cell(width, self.LINE, name, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if title:
                self.font()
                pdf.multi_cell(width, self.LINE, title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        finally:
            pdf.set_left_margin(saved)
            pdf.set_x(saved)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
