"""SOP time limits made live: reminders before each limit, escalation on breach.

Deadlines and reminders are rows; the JobQueue only drives the clock (bot/app.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, func, insert, or_, select, true, update
from sqlalchemy.orm import aliased

from bot import texts as T
from storage.db import upsert
from bot.services.chain import Chain
from storage.models import Official, Outbox, Reminder, Request, RequestStep
from workflow.reminders import Kind, next_overdue
from workflow.sop import CLOSED_STAGES, REQUESTER


class Reminders(Chain):
    async def sweep(self, limit: int = 100) -> int:
        """Send the reminders that are due. Returns how many rows were handled.

        Of one step's notices due at the same sweep (the bot was down, or quiet hours held them)
        only the most advanced goes out; the ones it supersedes are recorded as skipped. A batch
        costs a handful of statements whatever its size: the due rows with their requests and
        steps, the skipped ones, the officials, the cards to reply to, and the inserts."""
        cal = self.env.calendar
        if not cal.is_working_time(self.now):
            return 0  # quiet hours: due rows wait for the next working moment
        later = aliased(Reminder)
        superseded = exists().where(
            later.step_id == Reminder.step_id, later.sent_at.is_(None), later.due_at <= self.now,
            or_(later.due_at > Reminder.due_at, and_(later.due_at == Reminder.due_at, later.id > Reminder.id)))
        q = (select(Reminder, Request, RequestStep)
             .join(Request, Request.id == Reminder.request_id).join(RequestStep, RequestStep.id == Reminder.step_id)
             .where(Reminder.sent_at.is_(None), Reminder.due_at <= self.now, ~superseded)
             .order_by(Reminder.due_at, Reminder.id).limit(limit))
        if self.s.bind.dialect.name == "postgresql":
            # Several instances: each row to one of them. The request is locked too: a transition
            # committing meanwhile either happens first (the step is then done and nothing is sent)
            # or waits, and then sees this reminder's message and clears its buttons.
            q = q.with_for_update(of=(Reminder, Request), skip_locked=True)
        rows = (await self.s.execute(q)).all()
        if not rows:
            return 0
        chosen = [r.id for r, _, _ in rows]
        live = [(r, req, step) for r, req, step in rows
                if step.done_at is None and req.stage == step.stage]  # else the step moved on meanwhile
        sent = [r.id for r, _, _ in live]
        # One statement closes the chosen rows (sent, or moot) and those they supersede (skipped);
        # nobody else selects the superseded rows, so no lock is contended.
        skipped: dict[int, list[str]] = {}
        for rid, step_id, kind, share in (await self.s.execute(
                update(Reminder).where(Reminder.step_id.in_([r.step_id for r, _, _ in rows]),
                                       Reminder.sent_at.is_(None), Reminder.due_at <= self.now)
                .values(sent_at=self.now, outcome=case((Reminder.id.in_(sent), "sent"),
                                                       (Reminder.id.in_(chosen), "moot"), else_="skipped"))
                .returning(Reminder.id, Reminder.step_id, Reminder.kind, Reminder.share)
                .execution_options(synchronize_session=False))).all():
            if rid not in chosen:
                skipped.setdefault(step_id, []).append(kind if share is None else f"{kind}:{share:g}")
        await self.load_officials()
        cards = await self._cards([req.id for _, req, _ in live])
        follow_ups: list[dict[str, Any]] = []
        for r, req, step in live:
            if step.id in skipped:
                self.audit("reminder_skipped", request_id=req.id, from_state=req.stage, to_state=req.stage,
                           step=step.id, superseded_by=r.kind, skipped=skipped[step.id])
            if (follow_up := await self._send(req, step, r, cards)) is not None:
                follow_ups.append(follow_up)
        if follow_ups:  # the next overdue notice of each breached step, in one INSERT
            await self.core(insert(Reminder.__table__).inline(), follow_ups)
        return len(rows)

    async def _holders(self, req: Request) -> list[Official]:
        role = req.holder_role
        if role is None or role == REQUESTER:
            return []
        if req.holder_official_id:
            return [o for o in await self.holders(role) if o.id == req.holder_official_id]
        return await self.holders(role)

    async def _cards(self, request_ids: list[int]) -> dict[tuple[int, int], int]:
        """The message showing each request's card in each chat (its latest with live buttons)."""
        if not request_ids:
            return {}
        rows = (await self.s.execute(
            select(Outbox.request_id, Outbox.chat_id, func.max(Outbox.sent_message_id))
            .where(Outbox.request_id.in_(request_ids), Outbox.live_buttons == true(),
                   Outbox.method == "sendMessage", Outbox.sent_message_id.isnot(None))
            .group_by(Outbox.request_id, Outbox.chat_id))).all()
        return {(rid, c): m for rid, c, m in rows if m is not None}

    async def _send(self, req: Request, step: RequestStep, r: Reminder,
                    cards: dict[tuple[int, int], int]) -> dict[str, Any] | None:
        """Send one reminder; a breach returns the step's next overdue notice (a reminder row to add)."""
        cal, tz = self.env.calendar, self.tz
        assert step.due_at is not None
        kind = Kind(r.kind)
        sop = await self.sop_of(req)
        holders = await self._holders(req)
        if kind == Kind.SHARE:
            left = cal.working_time_between(self.now, step.due_at)
            head = (f"⏰ <b>Pengingat</b> — {T.e(req.number)}\n"
                    f"<b>Tahap:</b> {T.e(sop.stage_label(req.stage))}\n"
                    f"<b>Sisa waktu:</b> {cal.format_duration(left)} (jam kerja)\n"
                    f"<b>Batas:</b> {T.fmt_dt(step.due_at, tz)}")
        else:
            late = cal.working_time_between(step.due_at, self.now)
            head = (f"🚨 <b>Batas waktu terlampaui</b> — {T.e(req.number)}\n"
                    f"<b>Tahap:</b> {T.e(sop.stage_label(req.stage))}\n"
                    f"<b>Batas:</b> {T.fmt_dt(step.due_at, tz)}"
                    + (f"\n<b>Terlambat:</b> {cal.format_duration(late)} (jam kerja)" if late.total_seconds() >= 60
                       else "")
                    + "\nMohon segera ditindaklanjuti.")
        markup = await self.holder_keyboard(req, sop)
        for off in holders:
            card = cards.get((req.id, off.telegram_id))
            # Short, pointing to the request's card (a reply to it) rather than repeating it.
            text = head + ("\n\nRincian: pesan yang dibalas ini." if card else "\n\nRincian: /tugas")
            extra = {"reply_parameters": {"message_id": card, "allow_sending_without_reply": True}} if card else {}
            self.out.send(off.telegram_id, text, markup, request_id=req.id, live=markup is not None, **extra)
        self.scope.cache.setdefault("reminders_sent", []).append(kind.value)  # counted after commit (metrics)
        self.audit(f"reminder_{kind.value}", request_id=req.id, from_state=req.stage, to_state=req.stage,
                   step=step.id, share=r.share, day=r.day, recipients=len(holders))
        if kind == Kind.SHARE:
            return None
        # Breach: the superior is told, and again once per working day while it stays overdue.
        sup = sop.superior(req.holder_role)
        if sup is not None:
            title = sop.role_title(req.holder_role)
            names = ", ".join(o.name for o in holders) or title
            late = cal.working_time_between(step.due_at, self.now)
            text = (f"⚠️ <b>Eskalasi</b>: permohonan <b>{T.e(req.number)}</b> melewati batas waktu pada "
                    f"<b>{T.e(sop.stage_label(req.stage))}</b>.\nPemegang: {T.e(names)} "
                    f"({T.e(title)})\nDiterima: {T.fmt_dt(step.received_at, tz)}\n"
                    f"Batas waktu: {T.fmt_dt(step.due_at, tz)} ({sop.limit_label(req.stage)})"
                    + (f"\nTerlambat: {cal.format_duration(late)} (jam kerja)" if late.total_seconds() >= 60 else ""))
            for off in await self.holders(sup):
                self.out.send(off.telegram_id, text)
            self.audit("escalated", request_id=req.id, from_state=req.stage, to_state=req.stage, to_role=sup,
                       day=r.day)
        day = r.day + 1
        nxt = next_overdue(step.due_at, day, cal)
        while nxt.at <= self.now:  # after downtime: no catch-up burst, just the next one to come
            day += 1
            nxt = next_overdue(step.due_at, day, cal)
        return dict(request_id=req.id, step_id=step.id, kind=Kind.OVERDUE.value, share=None, day=day, due_at=nxt.at,
                    sent_at=None)

    async def digest(self) -> bool:
        """At the start of each working day: the SOP's ``digest_to`` roles get a digest."""
        from storage.models import DigestRun

        cal, tz = self.env.calendar, self.tz
        today = self.now.astimezone(tz).date()
        start = cal.day_start(today)
        if start is None or self.now < start or not cal.is_working_time(self.now):
            return False  # it goes at the first working moment of the day (or, after hours, not at all)
        if await self.s.get(DigestRun, today) is not None:
            return False
        claim = upsert(self.s.bind.dialect.name)(DigestRun).values(day=today, sent_at=self.now)
        if (await self.s.execute(claim.on_conflict_do_nothing().returning(DigestRun.day))).first() is None:
            return False  # another instance sent it
        open_steps = (await self.s.execute(
            select(RequestStep, Request.number, Request.stage, Request.sop_version)
            .join(Request, Request.id == RequestStep.request_id)
            .where(RequestStep.done_at.is_(None), Request.stage.notin_(list(CLOSED_STAGES)))
            .order_by(RequestStep.received_at))).all()
        sop = self.sop
        by_stage: dict[str, int] = {}
        labels = {st: info.label for st, info in sop.stages.items()}  # the SOP in force's order first
        near: list[str] = []
        late: list[str] = []
        warn_at = max(sop.shares) if sop.shares else 0.9
        for step, number, stage, version in open_steps:
            by_stage[stage] = by_stage.get(stage, 0) + 1
            if stage not in labels:  # a stage of an earlier SOP version
                own = await self.sop_by_version(version)
                labels[stage] = own.stages[stage].label if stage in own.stages else stage
            if step.due_at is None:
                continue
            line = f"{T.e(number)} — {T.e(labels[stage])} (batas {T.fmt_dt(step.due_at, tz)})"
            if self.now >= step.due_at:
                late.append(line)
            elif cal.elapsed_fraction(step.received_at, step.due_at, self.now) >= warn_at or \
                    cal.working_time_between(self.now, step.due_at) <= cal.standard_day / 4:
                near.append(line)
        prev_day = today
        for _ in range(30):
            prev_day = prev_day.fromordinal(prev_day.toordinal() - 1)
            if cal.is_working_day(prev_day):
                break
        p0, p1 = cal.day_start(prev_day), start
        done_steps = (await self.s.scalar(select(func.count()).select_from(RequestStep).where(
            RequestStep.done_at >= p0, RequestStep.done_at < p1,
            RequestStep.holder_role != REQUESTER))) if p0 else 0
        closed = (await self.s.scalar(select(func.count()).select_from(Request).where(
            Request.stage == "done", Request.closed_at >= p0, Request.closed_at < p1))) if p0 else 0
        lines = [f"📊 <b>Ringkasan harian layanan SPLP</b> — {T.DAYS[today.weekday()]}, {T.fmt_date(today)}", ""]
        total = sum(by_stage.values())
        lines.append(f"<b>Permohonan berjalan:</b> {total}")
        for st, label in labels.items():
            if by_stage.get(st):
                lines.append(f"• {T.e(label)}: {by_stage[st]}")
        lines.append(f"\n⚠️ <b>Mendekati batas waktu:</b> {len(near)}")
        lines += [f"• {x}" for x in near[:15]] + ([f"• … dan {len(near) - 15} lainnya"] if len(near) > 15 else [])
        lines.append(f"\n🚨 <b>Melewati batas waktu:</b> {len(late)}")
        lines += [f"• {x}" for x in late[:15]] + ([f"• … dan {len(late) - 15} lainnya"] if len(late) > 15 else [])
        lines.append(f"\n✅ <b>Hari kerja sebelumnya</b> ({T.fmt_date(prev_day)}): {done_steps} langkah diselesaikan, "
                     f"{closed} permohonan selesai.")
        text = "\n".join(lines)
        recipients = [o for role in sop.digest_to for o in await self.holders(role)]
        for off in {o.id: o for o in recipients}.values():
            self.out.send(off.telegram_id, text[:4000])
        self.audit("digest", day=today.isoformat(), open=total, near=len(near), late=len(late))
        return True
