"""/status: the requester's requests with their timelines."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from bot import texts as T
from bot.services.base import Ctx
from bot.services.deadlines import Deadlines
from storage.models import Agency, Official, Request, RequestStep
from workflow.sop import SystemStage


# The requester's five latest requests (the status button: built once, see bot/services/base.py).
_LATEST = select(Request).where(Request.requester_id == bindparam("u")).order_by(Request.id.desc()).limit(5)


class Status(Ctx):
    async def send_status(self, user_id: int) -> None:
        reqs = (await self.s.scalars(_LATEST, {"u": user_id})).all()
        if not reqs:
            self.out.send(user_id, "Anda belum memiliki permohonan. Gunakan /ajukan untuk mengajukan permohonan akun SPLP.")
            return
        for req in reqs:
            self.out.send(user_id, await self.render(req))

    async def render(self, req: Request) -> str:
        sop = await self.sop_of(req)
        agency = await self.s.get(Agency, req.agency_id)
        steps = (await self.s.scalars(select(RequestStep).where(RequestStep.request_id == req.id)
                                      .order_by(RequestStep.id))).all()
        names = {o.id: o.name for o in (await self.s.scalars(select(Official).where(
            Official.id.in_({s.holder_official_id or s.done_by_official_id for s in steps} - {None})))).all()}
        st = req.stage
        cal = self.env.calendar
        lines = [f"📄 <b>{T.e(req.number)}</b> — {T.e(agency.short_name if agency else '')}",
                 f"Aplikasi: {T.e(req.app_name)}",
                 f"Status: <b>{T.e(sop.stages[st].label if st in sop.stages else st)}</b>",
                 f"Menurut: {T.e(sop.label)}"]
        if st == SystemStage.RETURNED and req.return_info:
            lines.append(f"Alasan pengembalian: {T.e(req.return_info.get('reason', ''))}")
        lines.append("\n<b>Riwayat:</b>")
        letter = sop.request_step
        for s in steps:
            first = s.step_code == letter.code
            label = f"Langkah {letter.number} — {letter.label}" if first else sop.stage_label(s.stage)
            who_id = s.done_by_official_id or s.holder_official_id
            holder = names.get(who_id) if who_id else (sop.role_title(s.holder_role) if s.holder_role else "—")
            limit = letter.limit.label() if first else sop.limit_label(s.stage)
            state = ""
            if s.done_at and not first:
                took = cal.working_time_between(s.received_at, s.done_at)
                state += f"\n  Durasi: {cal.format_duration(took)} (jam kerja)"
            if s.due_at and s.done_at:
                state += " ✅ tepat waktu" if s.done_at <= s.due_at else " ⏰ terlambat"
            elif s.due_at and self.now > s.due_at:
                state += " ⏰ melewati batas"
            lines.append(f"• {T.e(label)}\n  Pemegang: {T.e(holder)}\n  Mulai: {T.fmt_dt(s.received_at, self.tz)}\n"
                         f"  Selesai: {T.fmt_dt(s.done_at, self.tz) if s.done_at else 'sedang berjalan'}\n"
                         f"  Batas waktu: {limit}"
                         + (f" (s.d. {T.fmt_dt(s.due_at, self.tz)})" if s.due_at else "") + state)
        open_step = next((x for x in steps if x.done_at is None), None)
        if st not in (SystemStage.DONE, SystemStage.CANCELLED, SystemStage.RETURNED):
            exp = Deadlines(self.scope, self.env).expected_completion(req, open_step, sop)
            if exp:
                lines.append(f"\nPerkiraan selesai (sesuai batas waktu SOP): <b>{T.fmt_dt(exp, self.tz)}</b>")
        span, limit_label = sop.official_span(), sop.official_limit_label()
        if st == SystemStage.DONE and req.closed_at:
            official = [x for x in steps if x.step_code != letter.code]
            first_at = min((x.received_at for x in official), default=req.submitted_at)
            took = cal.working_time_between(first_at, req.closed_at)
            verdict = "✅ dalam batas SOP" if took <= sop.official_limit(cal.standard_day) else "⏰ melebihi batas SOP"
            lines.append(f"\n<b>Selesai</b> pada {T.fmt_dt(req.closed_at, self.tz)}. Total waktu {span}: "
                         f"<b>{cal.format_duration(took)}</b> (jam kerja) — {verdict}.")
        lines.append(f"Batas waktu SOP prosedur A: {limit_label} untuk {span}.")
        text = "\n".join(lines)
        return text if len(text) <= 4000 else text[:3990] + "…"
