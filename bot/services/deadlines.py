"""SOP time limits on the working calendar: a stage's deadline, the reminders planned for a step
(the reminder sweep, ``bot/services/reminders.py``, sends them), and when a request should end.
Each under the request's own SOP (its limits and reminder shares)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete

from bot.services.base import Ctx
from storage.models import Reminder, Request, RequestStep
from workflow.reminders import plan
from workflow.sop import REQUESTER, Sop

_CANCEL_REMINDERS = delete(Reminder).where(Reminder.step_id == bindparam("sid"), Reminder.sent_at.is_(None))


class Deadlines(Ctx):
    def due_for(self, sop: Sop, stage: str, received: datetime) -> datetime | None:
        """The deadline of ``stage`` entered at ``received`` (none for the requester's own step)."""
        return sop.due(self.env.calendar, stage, received)

    def plan_for(self, step: RequestStep, sop: Sop) -> None:
        """Plan the reminders of a step that has a deadline (call after the step has an id)."""
        if step.due_at is None or step.done_at is not None:
            return
        for p in plan(step.received_at, step.due_at, self.env.calendar, sop.shares):
            self.s.add(Reminder(request_id=step.request_id, step_id=step.id, kind=p.kind.value, share=p.share,
                                day=p.day, due_at=p.at, sent_at=None))

    async def cancel_for(self, step_id: int) -> None:
        await self.s.execute(_CANCEL_REMINDERS, {"sid": step_id})

    def expected_completion(self, req: Request, step: RequestStep | None, sop: Sop) -> datetime | None:
        """When procedure A should end if every remaining step takes its full limit."""
        if step is None or step.due_at is None or req.stage not in sop.stages:
            return None
        current = sop.stage_step(req.stage).number
        t = step.due_at
        for s in sop.procedure_a:
            if s.number > current and s.actor != REQUESTER:
                t = s.limit.due(self.env.calendar, t)
        return t
