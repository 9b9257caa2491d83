"""/status: the requester's requests with their timelines."""

from __future__ import annotations

from sqlalchemy import select

from bot import texts as T
from bot.services.base import Ctx
from storage.models import Agency, Official, Request, RequestStep
from workflow.sop import PROCEDURE_A_OFFICIAL_DAYS, STAGES, Role, Stage, stage_step


class Status(Ctx):
    async def send_status(self, user_id: int) -> None:
        reqs = (await self.s.scalars(select(Request).where(Request.requester_id == user_id)
                                     .order_by(Request.id.desc()).limit(5))).all()
        if not reqs:
            self.out.send(user_id, "Anda belum memiliki permohonan. Gunakan /ajukan untuk mengajukan permohonan akun SPLP.")
            return
        for req in reqs:
            self.out.send(user_id, await self.render(req))

    async def render(self, req: Request) -> str:
        agency = await self.s.get(Agency, req.agency_id)
        steps = (await self.s.scalars(select(RequestStep).where(RequestStep.request_id == req.id)
                                      .order_by(RequestStep.id))).all()
        names = {o.id: o.name for o in (await self.s.scalars(select(Official).where(
            Official.id.in_({s.holder_official_id or s.done_by_official_id for s in steps} - {None})))).all()}
        st = Stage(req.stage)
        lines = [f"📄 <b>{T.e(req.number)}</b> — {T.e(agency.short_name if agency else '')}",
                 f"Aplikasi: {T.e(req.app_name)}",
                 f"Status: <b>{T.e(STAGES[st].label)}</b>"]
        if st == Stage.RETURNED and req.return_info:
            lines.append(f"Alasan pengembalian: {T.e(req.return_info.get('reason', ''))}")
        lines.append("\n<b>Riwayat:</b>")
        for s in steps:
            step = stage_step(Stage(s.stage)) if s.step_code != "A1" else None
            label = "Langkah 1 — Surat permohonan" if s.step_code == "A1" else T.stage_label(s.stage)
            who_id = s.done_by_official_id or s.holder_official_id
            holder = names.get(who_id) if who_id else (
                T.ROLE_NAMES[Role(s.holder_role)] if s.holder_role else "—")
            limit = T.limit_label(s.stage) if step else "1 hari kerja"
            state = ""
            if s.done_at and s.step_code != "A1":
                took = self.env.calendar.working_time_between(s.received_at, s.done_at)
                state += f"\n  Durasi: {self.env.calendar.format_duration(took)} (jam kerja)"
            if s.due_at and s.done_at:
                state += " ✅ tepat waktu" if s.done_at <= s.due_at else " ⏰ terlambat"
            elif s.due_at and self.now > s.due_at:
                state += " ⏰ melewati batas"
            lines.append(f"• {label}\n  Pemegang: {T.e(holder)}\n  Mulai: {T.fmt_dt(s.received_at, self.tz)}\n"
                         f"  Selesai: {T.fmt_dt(s.done_at, self.tz) if s.done_at else 'sedang berjalan'}\n"
                         f"  Batas waktu: {limit}"
                         + (f" (s.d. {T.fmt_dt(s.due_at, self.tz)})" if s.due_at else "") + state)
        open_step = next((x for x in steps if x.done_at is None), None)
        if st not in (Stage.DONE, Stage.CANCELLED, Stage.RETURNED):
            from bot.services.reminders import Reminders
            exp = Reminders(self.scope, self.env).expected_completion(req, open_step)
            if exp:
                lines.append(f"\nPerkiraan selesai (sesuai batas waktu SOP): <b>{T.fmt_dt(exp, self.tz)}</b>")
        if st == Stage.DONE and req.closed_at:
            official = [x for x in steps if x.step_code != "A1"]
            first = min((x.received_at for x in official), default=req.submitted_at)
            took = self.env.calendar.working_time_between(first, req.closed_at)
            limit = self.env.calendar.standard_day * PROCEDURE_A_OFFICIAL_DAYS
            verdict = "✅ dalam batas SOP" if took <= limit else "⏰ melebihi batas SOP"
            lines.append(f"\n<b>Selesai</b> pada {T.fmt_dt(req.closed_at, self.tz)}. Total waktu langkah 2–7: "
                         f"<b>{self.env.calendar.format_duration(took)}</b> (jam kerja) — {verdict}.")
        lines.append(f"Batas waktu SOP prosedur A: {PROCEDURE_A_OFFICIAL_DAYS} hari kerja untuk langkah 2–7.")
        text = "\n".join(lines)
        return text if len(text) <= 4000 else text[:3990] + "…"
