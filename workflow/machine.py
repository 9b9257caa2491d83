"""The request state machine: which actor may do what, in which stage, under a given SOP.

Pure: no I/O, no clock. The caller loads a :class:`RequestView`, asks :func:`decide` with the
request's SOP (``workflow.sop.Sop``: its disposition chain, roles and items), and persists the
returned :class:`Transition` (or reports the :class:`Refusal`) atomically with an optimistic
version check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from workflow.sop import CLOSED_STAGES, REQUESTER, Sop, SystemStage


class Action(StrEnum):
    DISPOSE = "dispose"  # a hop of the disposition chain hands the request down
    ASSIGN = "assign"  # the chain's last hop assigns one executor
    COMPLETE = "complete"  # executor: the letter is complete (Lengkap)
    RETURN = "return"  # executor: incomplete (Tidak lengkap), back to step 1
    RESUBMIT = "resubmit"  # requester sends the corrected request again
    CANCEL = "cancel"  # requester withdraws a returned request
    REGISTER = "register"  # executor: the SPLP account exists (step 5 done)
    SUBMIT_REPORT = "submit_report"  # executor: the activity report goes to the Head (step 6 done)
    FORWARD = "forward"  # Head: the report goes to the requester; the request is complete (step 7)


class ResubmitRoute(StrEnum):
    CHAIN = "chain"  # as the SOP says: steps 2-3 again
    EXECUTOR = "executor"  # straight back to the same executor


class Refusal(StrEnum):
    STALE = "stale"  # the button belongs to an earlier state
    CLOSED = "closed"  # the request is finished or cancelled
    NOT_ALLOWED = "not_allowed"  # wrong person or role
    INVALID = "invalid"  # bad arguments (unknown executor, no reason, ...)


@dataclass(frozen=True)
class RequestView:
    stage: str
    version: int
    requester_id: int  # Telegram user id of the requester
    holder_official_id: int | None  # a named holder, or None: any official with the stage's role
    executor_official_id: int | None


@dataclass(frozen=True)
class Actor:
    telegram_id: int
    official_id: int | None = None
    roles: frozenset[str] = frozenset()

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Command:
    action: Action
    expected_version: int
    executor_official_id: int | None = None  # ASSIGN
    missing_items: tuple[str, ...] = ()  # RETURN: codes of the SOP's completeness items
    reason: str = ""  # RETURN


@dataclass(frozen=True)
class Transition:
    action: Action
    from_stage: str
    to_stage: str
    holder_role: str | None
    holder_official_id: int | None
    executor_official_id: int | None
    opens_new_step: bool  # False when the next stage belongs to the same SOP step (a step of several hops)
    new_cycle: bool = False
    notes: dict[str, object] = field(default_factory=dict)


# Which actions the stages every SOP has accept (the chain's: see ``stage_actions``).
SYSTEM_ACTIONS: dict[str, frozenset[Action]] = {
    SystemStage.COMPLETENESS: frozenset({Action.COMPLETE, Action.RETURN}),
    SystemStage.RETURNED: frozenset({Action.RESUBMIT, Action.CANCEL}),
    SystemStage.REGISTRATION: frozenset({Action.REGISTER}),
    SystemStage.REPORT: frozenset({Action.SUBMIT_REPORT}),
    SystemStage.FORWARD: frozenset({Action.FORWARD}),
}


def stage_actions(sop: Sop, stage: str) -> frozenset[Action]:
    """The actions ``stage`` accepts: a hop of the chain disposes, its last hop assigns."""
    if stage in sop.chain:
        return frozenset({Action.ASSIGN if stage == sop.assigner else Action.DISPOSE})
    return SYSTEM_ACTIONS.get(stage, frozenset())


def may_hold(sop: Sop, view: RequestView, actor: Actor) -> bool:
    """Is ``actor`` the holder of the request in its current stage?"""
    info = sop.stages.get(view.stage)
    role = info.holder if info else None
    if role is None:
        return False
    if role == REQUESTER:
        return actor.telegram_id == view.requester_id
    if not actor.has(role) or actor.official_id is None:
        return False
    return view.holder_official_id is None or view.holder_official_id == actor.official_id


def decide(
    sop: Sop,
    view: RequestView,
    cmd: Command,
    actor: Actor,
    *,
    active_executor_ids: frozenset[int] = frozenset(),
    resubmit_route: ResubmitRoute = ResubmitRoute.CHAIN,
) -> Transition | Refusal:
    """Check ``cmd`` against the current state and the actor under ``sop`` (the request's SOP), and
    say what follows."""
    if view.stage in CLOSED_STAGES:
        return Refusal.CLOSED
    if cmd.expected_version != view.version or cmd.action not in stage_actions(sop, view.stage):
        return Refusal.STALE
    if not may_hold(sop, view, actor):
        return Refusal.NOT_ALLOWED

    a, executor = cmd.action, sop.executor
    if a == Action.DISPOSE:
        nxt = sop.next_stage(view.stage)
        return Transition(
            a, view.stage, nxt, sop.holder(nxt), None, view.executor_official_id,
            opens_new_step=sop.stages[nxt].step != sop.stages[view.stage].step,
        )
    if a == Action.ASSIGN:
        if cmd.executor_official_id not in active_executor_ids:
            return Refusal.INVALID
        nxt = sop.next_stage(view.stage)
        return Transition(
            a, view.stage, nxt, sop.holder(nxt), cmd.executor_official_id,
            cmd.executor_official_id, opens_new_step=True,
        )
    if a == Action.COMPLETE:
        return Transition(
            a, view.stage, SystemStage.REGISTRATION, executor, view.executor_official_id,
            view.executor_official_id, opens_new_step=True,
        )
    if a == Action.RETURN:
        codes = {i.code for i in sop.items}
        if not cmd.missing_items or not cmd.reason.strip() or not set(cmd.missing_items) <= codes:
            return Refusal.INVALID
        return Transition(
            a, view.stage, SystemStage.RETURNED, REQUESTER, None, view.executor_official_id,
            opens_new_step=True,
            notes={"missing": list(cmd.missing_items), "reason": cmd.reason.strip()},
        )
    if a == Action.RESUBMIT:
        if resubmit_route == ResubmitRoute.EXECUTOR and view.executor_official_id in active_executor_ids:
            return Transition(
                a, view.stage, SystemStage.COMPLETENESS, executor, view.executor_official_id,
                view.executor_official_id, opens_new_step=True, new_cycle=True,
            )
        first = sop.first_stage
        return Transition(
            a, view.stage, first, sop.holder(first), None, None,
            opens_new_step=True, new_cycle=True,
        )
    if a == Action.REGISTER:
        return Transition(a, view.stage, SystemStage.REPORT, executor, view.executor_official_id,
                          view.executor_official_id, opens_new_step=True)
    if a == Action.SUBMIT_REPORT:
        return Transition(a, view.stage, SystemStage.FORWARD, sop.forwarder, None, view.executor_official_id,
                          opens_new_step=True)
    if a == Action.FORWARD:
        return Transition(a, view.stage, SystemStage.DONE, None, None, view.executor_official_id,
                          opens_new_step=False)
    if a == Action.CANCEL:
        return Transition(a, view.stage, SystemStage.CANCELLED, None, None, view.executor_official_id,
                          opens_new_step=False)
    raise AssertionError(a)  # pragma: no cover - stage_actions guards this
