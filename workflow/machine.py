"""The request state machine: which actor may do what, in which stage.

Pure: no I/O, no clock. The caller loads a :class:`RequestView`, asks
:func:`decide`, and persists the returned :class:`Transition` (or reports the
:class:`Refusal`) atomically with an optimistic version check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from workflow.sop import (
    CLOSED_STAGES,
    DISPOSITION_CHAIN,
    STAGES,
    RequiredItem,
    Role,
    Stage,
)


class Action(StrEnum):
    DISPOSE = "dispose"  # head / division head hand the request down the chain
    ASSIGN = "assign"  # team lead assigns one executor
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
    stage: Stage
    version: int
    requester_id: int  # Telegram user id of the requester
    holder_official_id: int | None  # a named holder, or None: any official with the stage's role
    executor_official_id: int | None


@dataclass(frozen=True)
class Actor:
    telegram_id: int
    official_id: int | None = None
    roles: frozenset[Role] = frozenset()

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Command:
    action: Action
    expected_version: int
    executor_official_id: int | None = None  # ASSIGN
    missing_items: tuple[RequiredItem, ...] = ()  # RETURN
    reason: str = ""  # RETURN


@dataclass(frozen=True)
class Transition:
    action: Action
    from_stage: Stage
    to_stage: Stage
    holder_role: Role | None
    holder_official_id: int | None
    executor_official_id: int | None
    opens_new_step: bool  # False when the next stage belongs to the same SOP step (A3's two hops)
    new_cycle: bool = False
    notes: dict[str, object] = field(default_factory=dict)


# Which actions each stage accepts.
STAGE_ACTIONS: dict[Stage, frozenset[Action]] = {
    Stage.HEAD_REVIEW: frozenset({Action.DISPOSE}),
    Stage.DIVISION_REVIEW: frozenset({Action.DISPOSE}),
    Stage.TEAM_ASSIGN: frozenset({Action.ASSIGN}),
    Stage.COMPLETENESS: frozenset({Action.COMPLETE, Action.RETURN}),
    Stage.RETURNED: frozenset({Action.RESUBMIT, Action.CANCEL}),
    Stage.REGISTRATION: frozenset({Action.REGISTER}),
    Stage.REPORT: frozenset({Action.SUBMIT_REPORT}),
    Stage.FORWARD: frozenset({Action.FORWARD}),
}


def next_in_chain(stage: Stage) -> Stage:
    i = DISPOSITION_CHAIN.index(stage)
    return DISPOSITION_CHAIN[i + 1]


def may_hold(view: RequestView, actor: Actor) -> bool:
    """Is ``actor`` the holder of the request in its current stage?"""
    role = STAGES[view.stage].holder
    if role is None:
        return False
    if role == Role.REQUESTER:
        return actor.telegram_id == view.requester_id
    if not actor.has(role) or actor.official_id is None:
        return False
    return view.holder_official_id is None or view.holder_official_id == actor.official_id


def decide(
    view: RequestView,
    cmd: Command,
    actor: Actor,
    *,
    active_executor_ids: frozenset[int] = frozenset(),
    resubmit_route: ResubmitRoute = ResubmitRoute.CHAIN,
) -> Transition | Refusal:
    """Check ``cmd`` against the current state and the actor, and say what follows."""
    if view.stage in CLOSED_STAGES:
        return Refusal.CLOSED
    if cmd.expected_version != view.version or cmd.action not in STAGE_ACTIONS.get(view.stage, ()):
        return Refusal.STALE
    if not may_hold(view, actor):
        return Refusal.NOT_ALLOWED

    a = cmd.action
    if a == Action.DISPOSE:
        nxt = next_in_chain(view.stage)
        return Transition(
            a, view.stage, nxt, STAGES[nxt].holder, None, view.executor_official_id,
            opens_new_step=STAGES[nxt].step != STAGES[view.stage].step,
        )
    if a == Action.ASSIGN:
        if cmd.executor_official_id not in active_executor_ids:
            return Refusal.INVALID
        nxt = next_in_chain(view.stage)
        return Transition(
            a, view.stage, nxt, STAGES[nxt].holder, cmd.executor_official_id,
            cmd.executor_official_id, opens_new_step=True,
        )
    if a == Action.COMPLETE:
        return Transition(
            a, view.stage, Stage.REGISTRATION, Role.EXECUTOR, view.executor_official_id,
            view.executor_official_id, opens_new_step=True,
        )
    if a == Action.RETURN:
        if not cmd.missing_items or not cmd.reason.strip():
            return Refusal.INVALID
        return Transition(
            a, view.stage, Stage.RETURNED, Role.REQUESTER, None, view.executor_official_id,
            opens_new_step=True,
            notes={"missing": [i.value for i in cmd.missing_items], "reason": cmd.reason.strip()},
        )
    if a == Action.RESUBMIT:
        if resubmit_route == ResubmitRoute.EXECUTOR and view.executor_official_id in active_executor_ids:
            return Transition(
                a, view.stage, Stage.COMPLETENESS, Role.EXECUTOR, view.executor_official_id,
                view.executor_official_id, opens_new_step=True, new_cycle=True,
            )
        first = DISPOSITION_CHAIN[0]
        return Transition(
            a, view.stage, first, STAGES[first].holder, None, None,
            opens_new_step=True, new_cycle=True,
        )
    if a == Action.REGISTER:
        return Transition(a, view.stage, Stage.REPORT, Role.EXECUTOR, view.executor_official_id,
                          view.executor_official_id, opens_new_step=True)
    if a == Action.SUBMIT_REPORT:
        return Transition(a, view.stage, Stage.FORWARD, Role.HEAD, None, view.executor_official_id,
                          opens_new_step=True)
    if a == Action.FORWARD:
        return Transition(a, view.stage, Stage.DONE, None, None, view.executor_official_id, opens_new_step=False)
    if a == Action.CANCEL:
        return Transition(a, view.stage, Stage.CANCELLED, None, None, view.executor_official_id,
                          opens_new_step=False)
    raise AssertionError(a)  # pragma: no cover - STAGE_ACTIONS guards this
