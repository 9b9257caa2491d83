"""*Laporan Monitoring dan Evaluasi Pelaksanaan SOP* as a PDF: the period's figures, the charts,
and the monitoring form of Permenpan-RB 35/2012 (its table "Monitoring Pelaksanaan SOP AP": per
procedure step the assessment *berjalan dengan baik / tidak berjalan dengan baik*, the notes, the
action to take, the assessor's initials). A pure renderer: the report model and the chart PNGs in,
PDF bytes out; the office's letterhead and fonts are ``bot/pdfdoc.py``'s (the SOP in force's)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fpdf import FontFace
from fpdf.enums import Align, TableHeadingsDisplay, VAlign

from bot.monev_text import (
    AGE_LABELS,
    WAITING_LABEL,
    cutoff_text,
    duration,
    holder_text,
    limit_text,
    missing_text,
    stage_text,
    percent,
    period_range,
    period_title,
    step_note,
    threshold_text,
)
from bot.pdfdoc import Document, Issuer, format_datetime
from workflow.monev import OversightReport, StepReport

TITLE = "LAPORAN MONITORING DAN EVALUASI PELAKSANAAN SOP"
BASIS = ("Peraturan Menteri Pendayagunaan Aparatur Negara dan Reformasi Birokrasi Nomor 35 Tahun 2012 "
         "tentang Pedoman Penyusunan Standar Operasional Prosedur Administrasi Pemerintahan.")
CHECK = "\u2713"
_NOTE_CHARS = 160  # each official's note quoted in the form is shortened to this


@dataclass(frozen=True)
class Signatory:
    capacity: str  # "Penilai,"
    name: str  # empty: left for signature
    title: str


def _heading_style() -> FontFace:
    return FontFace(emphasis="BOLD", fill_color=225)


class _Monev(Document):
    def __init__(self, r: OversightReport, charts: dict[str, bytes], signatory: Signatory, tz: ZoneInfo) -> None:
        title = f"Laporan Monitoring dan Evaluasi Pelaksanaan SOP — {period_title(r.period)}"
        self.sop = r.sop
        super().__init__(issuer=Issuer.of(r.sop), title=title, subject=f"SOP Nomor {r.sop.identity.reference}",
                         keywords=f"SOP; monitoring; evaluasi; "
                         f"{period_range(r.period)}", footer=f"Monev SOP — {period_title(r.period)}",
                         created=r.generated_at.astimezone(tz).date(), tz=tz)
        self.r, self.charts, self.signatory = r, charts, signatory
        self.day = r.standard_day_seconds

    def dur(self, seconds: float | None) -> str:
        return duration(seconds, self.day)

    def table(self, widths: tuple[float, ...], head: tuple[str, ...], rows: list[tuple[str, ...]],
              aligns: tuple[Align, ...] | None = None, size: float = 7.5) -> None:
        pdf = self.pdf
        self.font(size=size)
        with pdf.table(col_widths=widths, width=sum(widths), align=Align.L, v_align=VAlign.T,
                       text_align=aligns or tuple(Align.L for _ in widths), line_height=3.6, padding=1,
                       headings_style=_heading_style(), repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
                       first_row_as_headings=True) as table:
            row = table.row()
            for h in head:
                row.cell(h)
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell(self.t(v, limit=900) or "-")
        pdf.ln(2)

    def chart(self, name: str, caption: str) -> None:
        png = self.charts.get(name)
        if not png:
            return
        pdf = self.pdf
        from PIL import Image

        with Image.open(io.BytesIO(png)) as im:
            w, h = im.size
        width = pdf.epw
        height = width * h / w
        self.ensure_space(height + 8)
        pdf.image(io.BytesIO(png), x=pdf.l_margin, w=width, h=height, alt_text=caption)
        self.font(size=8)
        self.paragraph(caption, align=Align.C, size=8)
        pdf.ln(1)

    # --- parts

    def title(self) -> None:
        r, tz = self.r, self.tz
        self.paragraph(TITLE, style="B", align=Align.C, size=12)
        self.pdf.ln(1)
        self.paragraph(f"Periode: {period_range(r.period)}", align=Align.C)
        self.paragraph(f"Posisi data: {cutoff_text(r, tz)}", align=Align.C)
        self.paragraph(f"Dibuat: {format_datetime(r.generated_at, tz)}", align=Align.C, size=8)
        self.pdf.ln(2)

    def basis(self) -> None:
        self.heading("I. DASAR")
        self.numbered("1.", BASIS)
        self.numbered("2.", self.t(f"Standar Operasional Prosedur (SOP) Nomor {self.issuer.reference} "
                                   f"({self.issuer.version}), bagian Pencatatan dan Pendataan."))
        self.numbered("3.", "Catatan pelaksanaan setiap permohonan dalam aplikasi layanan SPLP (pemegang, waktu "
                            "terima, waktu selesai, dan batas waktu setiap langkah); waktu dihitung dalam jam kerja "
                            f"(1 hari kerja = {duration(self.day, self.day * 1000)}), Waktu Indonesia Barat.")

    def requests(self) -> None:
        r = self.r
        self.heading("II. RINGKASAN PERMOHONAN")
        self.field("Diterima", f"{r.received} permohonan")
        self.field("Selesai", f"{r.finished} permohonan")
        self.field("Dalam proses", f"{r.in_progress} permohonan (pada posisi data)")
        self.field("Dibatalkan pemohon", f"{r.withdrawn} permohonan")
        ret = (f"{r.returns} dari {r.checks} pemeriksaan kelengkapan ({percent(r.return_rate)})" if r.checks
               else "tidak ada pemeriksaan kelengkapan")
        self.field("Dikembalikan", ret)
        if r.missing:
            self.field("Kekurangan tersering", missing_text(r))
        t = r.total
        total = (f"{t.n} permohonan selesai: median {self.dur(t.median)}, terlama {self.dur(t.worst)}; "
                 f"{percent(t.on_time_share)} dalam batas SOP {duration(r.total_limit_seconds, self.day, long=True)}"
                 if t.n else "belum ada permohonan yang selesai")
        self.field("Surat s.d. akun", total)

    def steps(self) -> None:
        r = self.r
        self.heading("III. WAKTU PELAKSANAAN PER LANGKAH")
        hops = [f"langkah {s.number} terdiri atas {' dan '.join(r.sop.stages[st].label for st in stages)}"
                for s in r.sop.procedure_a if len(stages := r.sop.step_stages(s.code)) > 1]
        self.paragraph(self.t("Waktu kerja setiap langkah yang selesai dalam periode, dibandingkan dengan batas waktu "
                              "SOP (" + "; ".join([*hops, "prosedur B diukur dalam menit"]) + ")."),
                       indent=self.INDENT)
        self.pdf.ln(1)
        rows = []
        for sr in r.steps:
            d = sr.dist
            rows.append((sr.code, limit_text(sr.step), str(d.n), self.dur(d.median), self.dur(d.p90),
                         self.dur(d.worst), percent(d.on_time_share), str(d.late), str(sr.escalations)))
        self.table((15, 19, 13, 22, 22, 22, 17, 18, 17),
                   ("Langkah", "Batas", "Jumlah", "Median", "Persentil 90", "Terlama", "Tepat waktu",
                    "Melewati batas", "Eskalasi"), rows,
                   (Align.L, Align.L, Align.R, Align.R, Align.R, Align.R, Align.R, Align.R, Align.R), size=7)
        self.chart("steps", "Gambar 1. Median dan persentil ke-90 waktu kerja per langkah terhadap batas SOP")

    def months(self) -> None:
        self.heading("IV. KETEPATAN WAKTU PER BULAN")
        self.chart("months", "Gambar 2. Persentase langkah yang selesai dalam batas waktu, per bulan")

    def holders(self) -> None:
        r = self.r
        if r.holders is None:
            return
        self.heading("V. PELAKSANAAN PER PEJABAT")
        rows = [(h.name, r.sop.role_title(h.role), str(h.dist.n), self.dur(h.dist.median),
                 percent(h.dist.on_time_share)) for h in r.holders]
        if not rows:
            self.paragraph("Tidak ada langkah yang diselesaikan pejabat dalam periode ini.", indent=self.INDENT)
            return
        self.table((45, 50, 20, 25, 25), ("Pejabat", "Peran", "Jumlah", "Median", "Tepat waktu"), rows,
                   (Align.L, Align.L, Align.R, Align.R, Align.R))

    def open_items(self) -> None:
        r, tz = self.r, self.tz
        n = "VI" if r.holders is not None else "V"
        self.heading(f"{n}. PERMOHONAN TERBUKA")
        parts = [f"{label}: {c}" for label, c in zip(AGE_LABELS, r.ageing)]
        parts.append(f"{WAITING_LABEL}: {r.waiting_requester}")
        self.paragraph("; ".join(parts) + ".", indent=self.INDENT)
        self.chart("ageing", "Gambar 3. Permohonan terbuka menurut keterlambatan pada posisi data")
        if r.oldest:
            rows = [(i.row.number, i.row.agency, " — ".join(stage_text(r.sop, i.row.stage)),
                     holder_text(r.sop, i.row.holder, i.row.holder_role), format_datetime(i.row.received_at, tz),
                     format_datetime(i.row.due_at, tz) if i.row.due_at else "-",
                     self.dur(i.late_seconds) if i.late_seconds else "-") for i in r.oldest]
            self.table((27, 17, 31, 27, 21, 21, 21), ("Nomor", "Perangkat Daerah", "Tahap", "Pemegang", "Diterima",
                                                      "Batas waktu", "Terlambat"), rows)

    def form(self) -> None:
        r, pdf = self.r, self.pdf
        n = "VII" if r.holders is not None else "VI"
        self.heading(f"{n}. MONITORING PELAKSANAAN SOP")
        self.paragraph(threshold_text(r), indent=self.INDENT)
        pdf.ln(1.5)
        self.font(size=7.5)
        widths = (8, 37, 15, 15, 50, 26, 14)
        with pdf.table(col_widths=widths, width=sum(widths), align=Align.L, v_align=VAlign.T,
                       text_align=(Align.C, Align.L, Align.C, Align.C, Align.L, Align.L, Align.C), line_height=3.6,
                       padding=1, headings_style=_heading_style(), num_heading_rows=2,
                       repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE) as table:
            h = table.row()
            h.cell("No.", rowspan=2, align=Align.C)
            h.cell("Prosedur", rowspan=2, align=Align.C)
            h.cell("Penilaian terhadap penerapan", colspan=2, align=Align.C)
            h.cell("Catatan hasil penilaian", rowspan=2, align=Align.C)
            h.cell("Tindakan yang harus diambil", rowspan=2, align=Align.C)
            h.cell("Paraf penilai", rowspan=2, align=Align.C)
            h2 = table.row()
            h2.cell("Berjalan dengan baik", align=Align.C)
            h2.cell("Tidak berjalan dengan baik", align=Align.C)
            for i, sr in enumerate(r.steps, start=1):
                row = table.row()
                row.cell(f"{i}.")
                row.cell(self.t(f"{sr.code}. {sr.step.title}", limit=300))
                row.cell(CHECK if sr.assessment is not None and sr.assessment.value == "good" else "")
                row.cell(CHECK if sr.assessment is not None and sr.assessment.value == "not_good" else "")
                row.cell(self.t(self.note(sr), limit=900))
                row.cell(self.t(sr.action, multiline=True, limit=600) or "")
                row.cell("")
        pdf.ln(2)

    def note(self, sr: StepReport) -> str:
        short = StepReport(sr.step, sr.dist, sr.limit_seconds, sr.escalations, sr.assessment,
                           tuple(self.t(n, limit=_NOTE_CHARS) for n in sr.notes), sr.action)
        return step_note(short, self.r)

    def closing(self) -> None:
        self.pdf.ln(2)
        self.ensure_space(self.LINE * 3 + 8 + self.LINE * 2 + 20 + self.LINE * 2)  # the sentence with the signature
        self.paragraph("Demikian laporan monitoring dan evaluasi ini dibuat untuk dipergunakan sebagaimana mestinya.",
                       indent=self.INDENT)
        s = self.signatory
        self.signature(self.r.generated_at.astimezone(self.tz).date(), s.capacity,
                       s.name or "(.................................)", s.title)

    def render(self) -> bytes:
        self.pdf.add_page()
        self.letterhead()
        self.title()
        self.basis()
        self.requests()
        self.steps()
        self.months()
        self.holders()
        self.open_items()
        self.form()
        self.closing()
        return self.output()


def render_monev(r: OversightReport, charts: dict[str, bytes], signatory: Signatory,
                 tz: ZoneInfo) -> bytes:
    """The monitoring and evaluation report as an A4 PDF."""
    return _Monev(r, charts, signatory, tz).render()


__all__ = ["Signatory", "render_monev"]
