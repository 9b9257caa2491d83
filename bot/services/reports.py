"""The activity report (the output of the SOP's report step): built as a PDF from the request's
record under the request's own SOP version, and delivered to the requester and the verified
contact person when the request is done."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import sys

from sqlalchemy import select

from bot import texts as T
from bot.services.base import Ctx
from storage.models import Account, Agency, ContactLink, Official, Report, Request, RequestStep, StoredFile
from workflow.sop import REQUESTER, Sop, SystemStage

_warming: set[asyncio.Task[object]] = set()


def warm_up_report_library(scope: object) -> None:
    """The report's PDF library (fpdf2, with numpy, Pillow and fontTools) takes most of a second to
    import the first time in a process. Begun after commit in a worker thread when a request reaches
    the report step, the executor's report (made inside a transaction) does not wait for it."""
    if "bot.report" in sys.modules:
        return

    async def start() -> None:
        t = asyncio.ensure_future(asyncio.to_thread(importlib.import_module, "bot.report"))
        _warming.add(t)
        t.add_done_callback(_warming.discard)

    scope.after_commit.append(start)  # type: ignore[attr-defined]


class Reports(Ctx):
    async def build_report(self, req: Request, sop: Sop) -> Report:
        """The activity report as of now: while the executor writes it, a preview with its step
        running; once sent, every step up to it done -- the forwarding step comes after the report
        and is not part of it."""
        from bot.report import Issuer, ReportData, ReportStep, render_report  # fpdf: loaded when a report is made

        rep = await self.s.get(Report, req.id)
        if rep is None:
            rep = Report(request_id=req.id, number="LAP-" + req.number, note=None, created_at=self.now,
                         updated_at=self.now)
            self.s.add(rep)
        agency = await self.s.get(Agency, req.agency_id)
        acct = await self.s.get(Account, req.id)
        steps = (await self.s.scalars(select(RequestStep).where(
            RequestStep.request_id == req.id, RequestStep.stage != SystemStage.FORWARD).order_by(RequestStep.id))).all()
        names = {o.id: o.name for o in (await self.s.scalars(select(Official))).all()}
        rows = []
        letter = sop.request_step
        for st in steps:
            if st.step_code == letter.code:
                label, limit = f"Langkah {letter.number} — {letter.label}", letter.limit.label()
            else:
                label, limit = sop.stage_label(st.stage), sop.limit_label(st.stage)
            who = names.get(st.done_by_official_id or st.holder_official_id or 0)
            role = sop.role_title(st.holder_role) if st.holder_role else ""
            rows.append(ReportStep(step_label=label, holder=f"{who} ({role})" if who else role, received=st.received_at,
                                   done=st.done_at, limit=limit, due=st.due_at))
        signer_role = sop.doc.report.signatory
        if signer_role == sop.executor:
            signer = await self.s.get(Official, req.executor_official_id) if req.executor_official_id else None
        else:
            signer = next(iter(await self.holders(signer_role)), None)
        pdf = render_report(ReportData(
            issuer=Issuer.of(sop), title=sop.doc.report.title, report_number=rep.number, request_number=req.number, date=self.now.astimezone(self.tz).date(),
            agency_name=agency.name if agency else "", agency_short=agency.short_name if agency else "",
            letter_number=req.letter_number, letter_date=req.letter_date, subject=req.subject,
            contact_name=req.contact_name, contact_email=T.mask_email(req.contact_email),
            contact_phone=T.mask_phone(req.contact_phone), app_name=req.app_name,
            business_process=req.business_process, steps=rows, account_username=acct.username if acct else "—",
            delivery=("Kata sandi awal disampaikan melalui Telegram kepada narahubung yang nomor ponselnya "
                      "terverifikasi, ditampilkan satu kali" if acct and acct.delivery == "telegram" else
                      "Kredensial awal dikirim oleh portal SPLP ke email narahubung"),
            executor_name=signer.name if signer else "", executor_title=sop.role_title(signer_role),
            capacity="Pelaksana," if signer_role == sop.executor else f"{sop.role_title(signer_role)},",
            document="laporan" if sop.report_name.lower().startswith("laporan") else sop.report_name.lower(),
            note=rep.note, tz=self.tz))
        f = StoredFile(sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), kind="pdf",
                       file_name=f"{rep.number}.pdf", content=pdf, owner_user_id=0, created_at=self.now)
        self.s.add(f)
        await self.s.flush()
        rep.stored_file_id, rep.updated_at = f.id, self.now
        return rep

    async def deliver_report(self, req: Request, sop: Sop) -> None:
        """On completion: the requester and the verified contact person receive the report."""
        rep = await self.s.get(Report, req.id)
        if rep is None or rep.stored_file_id is None:
            return
        steps = (await self.s.scalars(select(RequestStep).where(RequestStep.request_id == req.id,
                                                                RequestStep.holder_role != REQUESTER))).all()
        cal = self.env.calendar
        first = min((s.received_at for s in steps), default=req.submitted_at)
        total = cal.working_time_between(first, self.now)
        report = T.sentence(sop.report_name)
        summary = (f"✅ Permohonan <b>{T.e(req.number)}</b> <b>selesai</b>. {T.e(report)} terlampir.\n"
                   f"Total waktu {sop.official_span()}: {cal.format_duration(total)} (jam kerja), batas SOP "
                   f"{sop.official_limit_label()}.")
        targets = {req.requester_id}
        link = await self.s.get(ContactLink, req.id)
        if link is not None and link.verified_telegram_id:
            targets.add(link.verified_telegram_id)
        for uid in targets:
            self.out.send_stored(uid, rep.stored_file_id, f"{rep.number}.pdf",
                                 caption=f"{T.e(report)} {T.e(req.number)}")
            self.out.send(uid, summary)
