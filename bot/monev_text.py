"""Words and numbers of the oversight report, shared by its three renderings (chat, PDF, XLSX):
labels, durations, shares and the monitoring form's notes, in formal Bahasa Indonesia. The
steps, roles and items are those of the SOP in force (``OversightReport.sop``).
The chat summary (HTML, short lines for a phone) is rendered here too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import texts as T
from workflow.monev import AGE_BUCKETS, Assessment, OversightReport, StepReport
from workflow.oversight import Period
from workflow.sop import Sop, Step

ASSESSMENT = {Assessment.GOOD: "Berjalan dengan baik", Assessment.NOT_GOOD: "Tidak berjalan dengan baik"}
MARK = {Assessment.GOOD: "✅", Assessment.NOT_GOOD: "⚠️", None: "▫️"}
AGE_LABELS = ("Belum jatuh tempo", "Terlambat ≤ 1 hari kerja", "Terlambat 1–3 hari kerja",
              "Terlambat 3–5 hari kerja", "Terlambat > 5 hari kerja")
assert len(AGE_LABELS) == len(AGE_BUCKETS)
WAITING_LABEL = "Menunggu perbaikan pemohon"
HOLDERS_SHOWN = 12  # officials listed in the chat (all of them in the PDF and XLSX)


def step_label(sop: Sop, step: Step) -> str:
    """A short name of an SOP step: its stages' labels (a disposition step may have several hops);
    the requester's step of procedure A by its output (the letter); procedure B's steps by their
    SOP title."""
    return sop.step_label(step)


def limit_text(step: Step) -> str:
    return step.limit.label()


def stage_text(sop: Sop, stage: str) -> tuple[str, str]:
    """A stage's step code and label (a stage of an earlier SOP version: the stage's code)."""
    info = sop.stages.get(stage)
    return (info.step, info.label) if info else ("—", stage)


def duration(seconds: float | None, day_seconds: int, *, long: bool = False) -> str:
    """Working time, truncated to the minute: ``"1 hari 2 jam"`` (minutes are left out once there
    are days), ``"2 jam 15 menit"``, ``"45 menit"``. A day is the standard working day.
    ``long`` writes "hari kerja"."""
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    days, minutes = divmod(minutes, day_seconds // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days} hari kerja" if long else f"{days} hari")
    if hours:
        parts.append(f"{hours} jam")
    if minutes and not days or not parts:
        parts.append(f"{minutes} menit")
    return " ".join(parts)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def period_title(p: Period) -> str:
    if p.is_month():
        return f"{T.MONTHS[p.start.month - 1]} {p.start.year}"
    return f"{T.fmt_date(p.start)} s.d. {T.fmt_date(p.end)}"


def period_range(p: Period) -> str:
    return f"{T.fmt_date(p.start)} s.d. {T.fmt_date(p.end)}"


def cutoff_text(r: OversightReport, tz: ZoneInfo) -> str:
    p1 = r.period.bounds(tz)[1]
    if r.cutoff >= p1:
        return f"akhir periode ({T.fmt_date(r.period.end)} 24.00 {T.TZ_ABBR.get(str(tz), str(tz))})"
    return T.fmt_dt(r.cutoff, tz, with_day=False)


def holder_text(sop: Sop, name: str | None, role: str | None) -> str:
    role_name = sop.role_title(role) if role else "—"
    return f"{name} ({role_name})" if name else role_name


def missing_text(r: OversightReport) -> str:
    return ", ".join(f"{r.sop.item_label(k)} ({n})" for k, n in r.missing)


def step_note(sr: StepReport, r: OversightReport) -> str:
    """*Catatan hasil penilaian* of one step (the monitoring form)."""
    d, day = sr.dist, r.standard_day_seconds
    if not d.n:
        return "Tidak ada pelaksanaan dalam periode ini."
    parts = [f"{d.n} kali dilaksanakan, {d.on_time} dalam batas waktu ({percent(d.on_time_share)})."]
    if d.late:
        parts.append(f"Batas {limit_text(sr.step)} terlampaui {d.late} kali.")
    parts.append(f"Median {duration(d.median, day, long=True)}, persentil ke-90 {duration(d.p90, day, long=True)}, "
                 f"terlama {duration(d.worst, day, long=True)}.")
    if sr.escalations:
        parts.append(f"Eskalasi kepada atasan: {sr.escalations} kali.")
    if sr.step.code == r.sop.check_step.code and r.checks:
        parts.append(f"Dikembalikan karena tidak lengkap {r.returns} dari {r.checks} pemeriksaan"
                     + (f" (kekurangan: {missing_text(r)})." if r.missing else "."))
    notes = list(dict.fromkeys(n.strip().rstrip(".").strip() for n in sr.notes if n.strip()))
    if notes:
        parts.append("Catatan pejabat: " + "; ".join(f"“{n}”" for n in notes) + ".")
    return " ".join(parts)


def threshold_text(r: OversightReport) -> str:
    return (f"Penilaian «berjalan dengan baik» bila sekurang-kurangnya {percent(r.threshold)} pelaksanaan "
            "langkah tersebut selesai dalam batas waktu SOP.")


# ----------------------------------------------------------------------------- chat


def summary_html(r: OversightReport, tz: ZoneInfo) -> str:
    """The chat summary: short lines for a phone, under Telegram's 4096 characters."""
    e, day = T.e, r.standard_day_seconds
    lines = ["📊 <b>Rekapitulasi Pelaksanaan SOP</b>",
             f"<b>{e(period_title(r.period))}</b>",
             f"Posisi data: {e(cutoff_text(r, tz))}", "",
             "<b>Permohonan</b>",
             f"Diterima {r.received} · Selesai {r.finished} · Berjalan {r.in_progress} · Dibatalkan {r.withdrawn}"]
    if r.checks:
        lines.append(f"Dikembalikan (tidak lengkap): {r.returns} dari {r.checks} pemeriksaan "
                     f"({percent(r.return_rate)})")
        if r.missing:
            lines.append(f"Paling sering kurang: {e(missing_text(r))}")
    lines += ["", "<b>Waktu kerja per langkah</b> (batas SOP)"]
    for sr in r.steps_a:
        lines += _step_lines(r, sr, day)
    t = r.total
    lines += ["", f"<b>Surat → akun</b> (langkah {r.sop.request_step.number} s.d. Selesai)"]
    if t.n:
        lines.append(f"{t.n} permohonan · median {duration(t.median, day)} · terlama {duration(t.worst, day)}")
    else:
        lines.append("Belum ada permohonan yang selesai.")
    lines.append(f"Batas SOP {duration(r.total_limit_seconds, day, long=True)} · tepat waktu {percent(t.on_time_share)}")
    lines += ["", "<b>Prosedur B</b>"]
    if any(sr.dist.n for sr in r.steps_b):
        for sr in r.steps_b:
            lines += _step_lines(r, sr, day)
    else:
        lines.append("Belum ada pelaksanaan dalam periode ini.")
    if r.holders is not None:
        lines += ["", "<b>Per pejabat</b>", "<i>jumlah · median · tepat waktu</i>"]
        if not r.holders:
            lines.append("Belum ada.")
        for h in r.holders[:HOLDERS_SHOWN]:
            lines.append(f"• {e(holder_text(r.sop, h.name, h.role))}: {h.dist.n} · {duration(h.dist.median, day)} · "
                         f"{percent(h.dist.on_time_share)}")
        if len(r.holders) > HOLDERS_SHOWN:
            lines.append(f"• … dan {len(r.holders) - HOLDERS_SHOWN} lainnya (lihat PDF atau XLSX)")
    lines += ["", f"<b>Masih terbuka</b>: {r.open_items} di pejabat, {r.overdue} melewati batas"
              + (f"; {r.waiting_requester} menunggu perbaikan pemohon" if r.waiting_requester else "")]
    for item in r.oldest[:5]:
        row = item.row
        code = stage_text(r.sop, row.stage)[0]
        state = f"terlambat {duration(item.late_seconds, day)}" if row.due_at and row.due_at <= r.cutoff \
            else f"batas {T.fmt_dt(row.due_at, tz, with_day=False)}"
        lines.append(f"• {e(row.number)} ({e(row.agency)}) {code} — {state}")
    lines += ["", f"<i>{e(threshold_text(r))} 1 hari kerja = {duration(day, day * 1000)}.</i>"]
    text = "\n".join(lines)
    if len(text) > 4000:  # every line closes its own tags: cut between lines
        text = text[:text.rfind("\n", 0, 3990)] + "\n…"
    return text


def _step_lines(r: OversightReport, sr: StepReport, day: int) -> list[str]:
    """Three short lines per step (a phone's width): what and its limit; how many and how
    punctual; how long (median and 90th percentile of working time)."""
    d = sr.dist
    head = f"{MARK[sr.assessment]} <b>{sr.code}</b> {T.e(step_label(r.sop, sr.step))} ({limit_text(sr.step)})"
    if not d.n:
        return [f"{head} — belum ada"]
    count = f"{d.n}× · tepat waktu {percent(d.on_time_share)}"
    if d.late:
        count += f" · {d.late} terlambat"
    if sr.escalations:
        count += f" · {sr.escalations} eskalasi"
    return [head, f"   {count}", f"   median {duration(d.median, day)} · p90 {duration(d.p90, day)}"]


def generated_text(at: datetime, tz: ZoneInfo) -> str:
    return f"Dibuat {T.fmt_dt(at, tz, with_day=False)}"
