"""Producing the oversight reports: the jobs ``/rekap`` queues, and the monthly report.

A job is a row (``oversight_job``). A worker claims it for a while (``claimed_until``), computes
the figures in a read-only session (SQL aggregates, ``storage/figures.py``), renders outside any
write transaction (charts, PDF in a worker thread; the XLSX/CSV rows streamed), then in one short
transaction marks the job done *if its claim is still its own* and queues the messages with the
files -- so each report is delivered once, even with several instances, and a crash only delays
it: the sweep picks up a job whose claim lapsed. The monthly report of a month is one job row
(unique), made on the first working day at the start of working hours (like the morning digest).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from bot import keyboards as kb
from bot import texts as T
from bot.env import Env
from bot.monev_text import limit_text, period_title, summary_html
from bot.services.oversight import assessors, encode_period, readers
from bot.updates import work_scope
from storage.db import upsert
from storage.figures import audit_rows, load_figures, step_rows
from storage.models import AuditLog, Official, OfficialRole, OversightAction, OversightJob, StoredFile
from workflow.monev import Assessment, OversightReport, build_report
from workflow.oversight import Period, monthly_window

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a job not finished by then is taken over by the sweep
KEEP_FILES = timedelta(days=2)  # a delivered report's files (long after the outbox has sent them)
MAX_ATTEMPTS = 3
MAX_UPLOAD = 50 * 1024 * 1024  # the Bot API's upload limit


@dataclass
class _Output:
    files: list[tuple[str, bytes, str, str]]  # (kind, content, file name, caption); kind "png" goes as a photo
    text: str | None = None
    markup: dict[str, Any] | None = None
    note: str | None = None  # instead of files: why there are none


class _ClaimLost(Exception):
    """Another worker took the job over (our lease lapsed)."""


class OversightJobs:
    def __init__(self, env: Env) -> None:
        assert env.db is not None
        self.env, self.db, self.tz = env, env.db, env.settings.tz

    # --- running a job
    async def run(self, job_id: int) -> bool:
        """Produce and deliver one job, if it is still pending and unclaimed. True if delivered."""
        now = self.env.clock.now()
        async with self.db.transaction() as s:
            job = (await s.execute(
                update(OversightJob).where(OversightJob.id == job_id, OversightJob.status == "pending",
                                           or_(OversightJob.claimed_until.is_(None), OversightJob.claimed_until < now))
                .values(claimed_until=now + LEASE, attempts=OversightJob.attempts + 1)
                .returning(OversightJob.kind, OversightJob.chat_id, OversightJob.period_start,
                           OversightJob.period_end, OversightJob.attempts, OversightJob.claimed_until,
                           OversightJob.progress))).first()
        if job is None:
            return False
        kind, chat_id, claim, attempts = job.kind, job.chat_id, job.claimed_until, job.attempts
        period = Period(job.period_start, job.period_end)
        try:
            roles = await self._roles(chat_id) if chat_id is not None else frozenset(self.env.sop.digest_to)
            out = await self._produce(kind, period, roles, chat_id, (job_id, claim, job.progress)) if roles else None
        except _ClaimLost:
            return False
        except Exception as e:  # noqa: BLE001 -- a failed rendering must not stop the sweep
            tb = e.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
            log.error("oversight job %s (%s) failed: %s at %s", job_id, kind, type(e).__name__, where)
            if attempts < MAX_ATTEMPTS:
                async with self.db.transaction() as s:  # let the next sweep try again
                    await s.execute(update(OversightJob).where(OversightJob.id == job_id,
                                                               OversightJob.claimed_until == claim)
                                    .values(claimed_until=None))
                return False
            out = _Output([], note="⚠️ Maaf, laporan tidak dapat dibuat. Silakan coba lagi nanti.")
            status = "failed"
        else:
            status = "done"
        return await self._deliver(job_id, claim, status, kind, chat_id, period, out)

    async def _roles(self, chat_id: int) -> frozenset[str]:
        async with self.db.sessions() as s:
            rows = (await s.scalars(select(OfficialRole.role).join(Official, Official.id == OfficialRole.official_id)
                                    .where(Official.telegram_id == chat_id, Official.active.is_(True)))).all()
        return frozenset(rows) & readers(self.env.sop)

    async def _deliver(self, job_id: int, claim: datetime, status: str, kind: str, chat_id: int | None,
                       period: Period, out: _Output | None) -> bool:
        now = self.env.clock.now()
        async with self.db.transaction() as s:
            done = await s.execute(update(OversightJob).where(OversightJob.id == job_id, OversightJob.status == "pending",
                                                               OversightJob.claimed_until == claim)
                                   .values(status=status, done_at=now, claimed_until=None))
            if done.rowcount != 1:
                return False  # our claim lapsed and another worker took the job over
            job = await s.get(OversightJob, job_id)
            scope = work_scope(s, now)
            if chat_id is None:
                recipients = await self._monthly_recipients(s)
                s.add(AuditLog(at=now, action="monev_monthly", detail={
                    "start": period.start.isoformat(), "end": period.end.isoformat(), "recipients": len(recipients),
                    "status": status}))
            else:
                recipients = [chat_id]
            if out is None:  # the reader lost the role meanwhile
                for uid in recipients:
                    scope.outbox.send(uid, T.TAP_FORBIDDEN)
            else:
                stored = []
                for fkind, content, name, caption in out.files:
                    f = StoredFile(sha256=hashlib.sha256(content).hexdigest(), size=len(content), kind=fkind,
                                   file_name=name, content=content, owner_user_id=chat_id or 0, created_at=now)
                    s.add(f)
                    stored.append((f, fkind, name, caption))
                await s.flush()
                job.files = [f.id for f, *_ in stored] or None  # type: ignore[union-attr]
                for uid in recipients:
                    for i, (f, fkind, name, caption) in enumerate(stored):
                        last = i == len(stored) - 1 and not out.text  # the buttons go on the last message
                        scope.outbox.send_stored(uid, f.id, name, caption=caption, photo=fkind == "png",
                                                 markup=out.markup if last else None)
                    if out.text:
                        scope.outbox.send(uid, out.text, out.markup)
                    if out.note:
                        scope.outbox.send(uid, out.note)
            await scope.outbox.flush()
        if self.env.wake_sender:
            self.env.wake_sender()
        return True

    async def _monthly_recipients(self, s: Any) -> list[int]:
        rows = (await s.scalars(select(Official.telegram_id).join(OfficialRole, OfficialRole.official_id == Official.id)
                                .where(OfficialRole.role.in_(list(self.env.sop.digest_to)),
                                       Official.active.is_(True)).order_by(Official.id))).all()
        return list(dict.fromkeys(rows))

    # --- producing
    async def report(self, period: Period, *, with_holders: bool) -> OversightReport:
        now = self.env.clock.now()
        cal = self.env.calendar
        cutoff = min(now, period.bounds(self.tz)[1])
        async with self.db.sessions() as s:
            fig = await load_figures(s, self.env.sop, period, cutoff=cutoff, cal=cal, with_holders=with_holders)
            actions = dict((await s.execute(select(OversightAction.step_code, OversightAction.text).where(
                OversightAction.period_start == period.start, OversightAction.period_end == period.end))).all())
        return build_report(self.env.sop, fig, period, cutoff=cutoff, generated_at=now, cal=cal,
                            threshold=self.env.settings.oversight_on_time_threshold, actions=actions,
                            with_holders=with_holders)

    async def _produce(self, kind: str, period: Period, roles: frozenset[str], chat_id: int | None,
                       job: tuple[int, datetime, int]) -> _Output:
        from bot.monev_files import file_name

        with_holders = bool(roles & assessors(self.env.sop))
        title = T.e(period_title(period))
        if kind == "csv":
            content = await self._audit_csv(period)
            return self._file("csv", content, file_name("csv", period), f"🧾 Log audit — {title}")
        r = await self.report(period, with_holders=with_holders)
        if kind == "summary":
            from bot.charts import render_dashboard

            if job[2] == 0 and chat_id is not None:  # the answer first, while the chart is drawn
                await self._summary_text(job[0], job[1], chat_id, summary_html(r, self.tz))
            png = await asyncio.to_thread(render_dashboard, r)
            return _Output([("png", png, "rekap.png", f"📊 Rekapitulasi SOP — {title}")], None,
                           self._summary_keyboard(r, roles))
        if kind == "xlsx":
            content = await self._xlsx(r, period)
            return self._file("xlsx", content, file_name("xlsx", period), f"📊 Data monitoring SOP — {title}")
        pdf = await self.pdf(r, chat_id)
        out = self._file("pdf", pdf, file_name("pdf", period),
                         f"📄 Laporan Monitoring dan Evaluasi Pelaksanaan SOP — {title}")
        if kind == "monthly":
            out.text = summary_html(r, self.tz)
        return out

    async def _summary_text(self, job_id: int, claim: datetime, chat_id: int, text: str) -> None:
        """Queue the summary's text once (the job's first part), if the claim is still ours."""
        now = self.env.clock.now()
        async with self.db.transaction() as s:
            res = await s.execute(update(OversightJob).where(
                OversightJob.id == job_id, OversightJob.status == "pending", OversightJob.claimed_until == claim,
                OversightJob.progress == 0).values(progress=1))
            if res.rowcount != 1:
                raise _ClaimLost
            scope = work_scope(s, now)
            scope.outbox.send(chat_id, text)
            await scope.outbox.flush()
        if self.env.wake_sender:
            self.env.wake_sender()

    def _file(self, kind: str, content: bytes, name: str, caption: str) -> _Output:
        if len(content) > MAX_UPLOAD:
            return _Output([], note=f"⚠️ Berkas {name} terlalu besar untuk dikirim melalui Telegram "
                                    f"({len(content) // (1024 * 1024)} MB). Pilih periode yang lebih pendek.")
        return _Output([(kind, content, name, caption)])

    async def pdf(self, r: OversightReport, chat_id: int | None) -> bytes:
        from bot.charts import render_charts
        from bot.monev_pdf import Signatory, render_monev

        sop = self.env.sop
        heads = [r for r in sop.official_roles() if r in assessors(sop)]
        name, title = "", sop.role_title(heads[0] if heads else None)
        if chat_id is not None:
            async with self.db.sessions() as s:
                off = await s.scalar(select(Official).where(Official.telegram_id == chat_id, Official.active.is_(True)))
            roles = await self._roles(chat_id)
            if off is not None and roles & assessors(sop):
                name = off.name
                title = sop.role_title(next(r for r in heads if r in roles))

        def render() -> bytes:
            return render_monev(r, render_charts(r), Signatory("Penilai,", name, title), self.tz)

        return await asyncio.to_thread(render)

    async def _xlsx(self, r: OversightReport, period: Period) -> bytes:
        from bot.monev_files import Workbook

        book = Workbook(r.standard_day_seconds, r.sop)
        book.summary(r, self.tz)
        book.details()
        async with self.db.sessions() as s:
            async for chunk in step_rows(s, period, self.tz):
                book.add_rows(chunk, self.tz)
                await asyncio.sleep(0)  # let other work run between chunks
        return await asyncio.to_thread(book.finish)

    async def _audit_csv(self, period: Period) -> bytes:
        from bot.monev_files import AuditCsv

        out = AuditCsv(self.env.sop)
        async with self.db.sessions() as s:
            async for chunk in audit_rows(s, period, self.tz):
                out.add_rows(chunk, self.tz)
                await asyncio.sleep(0)
        return out.finish()

    def _summary_keyboard(self, r: OversightReport, roles: frozenset[str]) -> dict[str, Any]:
        cb = self.env.codec.encode
        start, end = encode_period(r.period)
        rows = [[kb.btn("📄 PDF", cb("of", "pdf", start, end)), kb.btn("📊 XLSX", cb("of", "xlsx", start, end)),
                 kb.btn("🧾 Log audit", cb("of", "csv", start, end))]]
        if roles & assessors(self.env.sop):
            weak = [s for s in r.steps if s.assessment == Assessment.NOT_GOOD]
            rows += kb.columns([kb.btn(f"✍️ Tindakan {s.code}", cb("oa", start, end, s.code)) for s in weak], 2)
            rows.append([kb.btn("✍️ Tindakan langkah lain", cb("ol", start, end))])
        rows.append([kb.btn("🔁 Periode lain", cb("om"))])
        return kb.inline(*rows)

    # --- the sweep
    async def sweep(self) -> int:
        """The monthly report when it is due, and any job whose worker stopped. Returns jobs delivered."""
        n = 1 if await self.monthly() else 0
        now = self.env.clock.now()
        await self._forget_files(now)
        async with self.db.sessions() as s:
            ids = (await s.scalars(select(OversightJob.id).where(
                OversightJob.status == "pending",
                or_(OversightJob.claimed_until.is_(None), OversightJob.claimed_until < now))
                .order_by(OversightJob.id).limit(5))).all()
        for job_id in ids:
            n += await self.run(job_id)
        return n

    async def _forget_files(self, now: datetime) -> None:
        """Delivered reports' files are not kept (an XLSX of a year can be large; Telegram keeps its
        copy, and a report can be made again)."""
        async with self.db.sessions() as s:
            done = (await s.execute(select(OversightJob.id, OversightJob.files).where(
                OversightJob.files.is_not(None), OversightJob.done_at < now - KEEP_FILES).limit(50))).all()
        if not done:
            return
        async with self.db.transaction() as s:
            await s.execute(delete(StoredFile).where(StoredFile.id.in_([f for _, files in done for f in files or []])))
            await s.execute(update(OversightJob).where(OversightJob.id.in_([i for i, _ in done])).values(files=None))

    async def monthly(self) -> bool:
        """On the first working day of a month, from the start of working hours: the previous
        month's report to the SOP's ``digest_to`` roles, once."""
        cal, now = self.env.calendar, self.env.clock.now()
        today = now.astimezone(self.tz).date()
        if not cal.is_working_time(now):
            return False
        period = monthly_window(cal, today)
        if period is None:
            return False
        async with self.db.sessions() as s:
            if await s.scalar(select(OversightJob.id).where(OversightJob.kind == "monthly",
                                                            OversightJob.period_start == period.start)):
                return False
        async with self.db.transaction() as s:
            ins = upsert(self.db.dialect)(OversightJob).values(
                kind="monthly", chat_id=None, period_start=period.start, period_end=period.end, status="pending",
                attempts=0, created_at=now)
            job_id = (await s.execute(ins.on_conflict_do_nothing().returning(OversightJob.id))).scalar()
        if job_id is None:
            return False  # another instance made it
        return await self.run(job_id)


def other_steps_keyboard(env: Env, period: Period) -> dict[str, Any]:
    """Every step of the SOP, for typing an action on one the summary did not flag."""
    start, end = encode_period(period)
    buttons = [kb.btn(f"{s.code} ({limit_text(s)})", env.codec.encode("oa", start, end, s.code))
               for s in env.sop.procedure_a + env.sop.procedure_b]
    return kb.inline(*kb.columns(buttons, 3), [kb.btn("📄 Buat PDF", env.codec.encode("of", "pdf", start, end))])


__all__ = ["OversightJobs", "other_steps_keyboard"]
