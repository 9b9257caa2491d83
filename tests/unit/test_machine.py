"""Tests for workflow.machine: who may do what, in which stage, under an SOP (pure, no I/O).

Most of them run under SOP 038 (Bogor's file: a three-hop chain), named by its stage and role
codes; the last ones under the regency's two-hop file."""

from __future__ import annotations

from enum import StrEnum

import pytest

from tests.sopfiles import bogor, sukamaju
from workflow import machine
from workflow.machine import (
    Action,
    Actor,
    Command,
    Refusal,
    RequestView,
    ResubmitRoute,
    Transition,
    stage_actions,
)

SOP = bogor()


class Stage(StrEnum):  # Bogor's stages (its chain's three, and the ones every SOP has)
    HEAD_REVIEW = "head_review"
    DIVISION_REVIEW = "division_review"
    TEAM_ASSIGN = "team_assign"
    COMPLETENESS = "completeness"
    RETURNED = "returned"
    REGISTRATION = "registration"
    REPORT = "report"
    FORWARD = "forward"
    DONE = "done"
    CANCELLED = "cancelled"


class Role(StrEnum):  # Bogor's roles, the requester and the admin
    REQUESTER = "requester"
    HEAD = "head"
    DIVISION_HEAD = "division_head"
    TEAM_LEAD = "team_lead"
    EXECUTOR = "executor"
    ADMIN = "admin"


class RequiredItem(StrEnum):  # Bogor's completeness items
    CONTACT_NAME = "contact_name"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"
    BUSINESS_PROCESS = "business_process"


STAGES = SOP.stages
DISPOSITION_CHAIN = (*SOP.chain, "completeness")
STAGE_ACTIONS = {st: stage_actions(SOP, st) for st in SOP.stages if stage_actions(SOP, st)}


def decide(*args, **kwargs):  # type: ignore[no-untyped-def]
    return machine.decide(SOP, *args, **kwargs)


def may_hold(*args):  # type: ignore[no-untyped-def]
    return machine.may_hold(SOP, *args)


def next_in_chain(stage: str) -> str:
    return SOP.next_stage(stage)


def test_the_file_has_the_stages_and_roles_these_tests_name() -> None:
    assert set(SOP.stages) == set(Stage) and set(SOP.official_roles()) | {"requester"} == set(Role)
    assert {i.code for i in SOP.items} == set(RequiredItem)

VERSION = 3
REQUESTER_TG = 500
EXECUTOR_ID = 4
OTHER_EXECUTOR_ID = 5


def official(tg: int, oid: int | None, *roles: Role) -> Actor:
    return Actor(telegram_id=tg, official_id=oid, roles=frozenset(roles))


HEAD = official(101, 1, Role.HEAD)
DIVISION = official(102, 2, Role.DIVISION_HEAD)
LEAD = official(103, 3, Role.TEAM_LEAD)
EXECUTOR = official(104, EXECUTOR_ID, Role.EXECUTOR)
OTHER_EXECUTOR = official(105, OTHER_EXECUTOR_ID, Role.EXECUTOR)
ADMIN = official(106, 6, Role.ADMIN)
REQUESTER = Actor(telegram_id=REQUESTER_TG)
STRANGER = Actor(telegram_id=999)

ACTIVE = frozenset({EXECUTOR_ID, OTHER_EXECUTOR_ID})

# The rightful holder of each stage in a view built by ``view()``.
HOLDER_FOR = {
    Stage.HEAD_REVIEW: HEAD,
    Stage.DIVISION_REVIEW: DIVISION,
    Stage.TEAM_ASSIGN: LEAD,
    Stage.COMPLETENESS: EXECUTOR,
    Stage.RETURNED: REQUESTER,
    Stage.REGISTRATION: EXECUTOR,
    Stage.REPORT: EXECUTOR,
    Stage.FORWARD: HEAD,
    Stage.DONE: HEAD,
    Stage.CANCELLED: REQUESTER,
}


def view(stage: Stage, *, version: int = VERSION, holder: int | None = None,
         executor: int | None = None) -> RequestView:
    if executor is None and stage in (Stage.COMPLETENESS, Stage.RETURNED, Stage.REGISTRATION,
                                      Stage.REPORT):
        executor = EXECUTOR_ID
    if holder is None and stage in (Stage.COMPLETENESS, Stage.REGISTRATION, Stage.REPORT):
        holder = executor
    return RequestView(stage=stage, version=version, requester_id=REQUESTER_TG,
                       holder_official_id=holder, executor_official_id=executor)


def cmd(action: Action, *, version: int = VERSION, executor: int | None = EXECUTOR_ID,
        missing: tuple[RequiredItem, ...] = (RequiredItem.CONTACT_EMAIL,),
        reason: str = "Email tidak valid") -> Command:
    return Command(action, version, executor_official_id=executor, missing_items=missing,
                   reason=reason)


# --- which actions each stage accepts ------------------------------------------------------

EXPECTED_ACTIONS = {
    Stage.HEAD_REVIEW: {Action.DISPOSE},
    Stage.DIVISION_REVIEW: {Action.DISPOSE},
    Stage.TEAM_ASSIGN: {Action.ASSIGN},
    Stage.COMPLETENESS: {Action.COMPLETE, Action.RETURN},
    Stage.RETURNED: {Action.RESUBMIT, Action.CANCEL},
    Stage.REGISTRATION: {Action.REGISTER},
    Stage.REPORT: {Action.SUBMIT_REPORT},
    Stage.FORWARD: {Action.FORWARD},
}


def test_stage_actions_table() -> None:
    assert {s: set(a) for s, a in STAGE_ACTIONS.items()} == {
        s: a for s, a in EXPECTED_ACTIONS.items() if a}
    assert stage_actions(SOP, "no_such_stage") == frozenset()


@pytest.mark.parametrize("stage", list(EXPECTED_ACTIONS))
@pytest.mark.parametrize("action", list(Action))
def test_action_allowed_only_in_its_stages(stage: Stage, action: Action) -> None:
    result = decide(view(stage), cmd(action), HOLDER_FOR[stage], active_executor_ids=ACTIVE)
    if action in EXPECTED_ACTIONS[stage]:
        assert isinstance(result, Transition), result
        assert result.action == action
        assert result.from_stage == stage
    else:
        assert result == Refusal.STALE


# --- closed and stale ----------------------------------------------------------------------

@pytest.mark.parametrize("stage", [Stage.DONE, Stage.CANCELLED])
@pytest.mark.parametrize("action", list(Action))
def test_closed_requests_refuse_everything(stage: Stage, action: Action) -> None:
    for actor in (HEAD, REQUESTER, EXECUTOR, STRANGER):
        assert decide(view(stage), cmd(action), actor, active_executor_ids=ACTIVE) == Refusal.CLOSED
    # also with an old version: closed wins over stale
    assert decide(view(stage), cmd(action, version=VERSION - 1), HEAD) == Refusal.CLOSED


@pytest.mark.parametrize("stage", list(STAGE_ACTIONS))
@pytest.mark.parametrize("delta", [-1, 1, -VERSION])
def test_version_mismatch_is_stale(stage: Stage, delta: int) -> None:
    action = next(iter(sorted(STAGE_ACTIONS[stage])))
    result = decide(view(stage), cmd(action, version=VERSION + delta), HOLDER_FOR[stage],
                    active_executor_ids=ACTIVE)
    assert result == Refusal.STALE


# --- holders (may_hold) ---------------------------------------------------------------------

def test_role_holder_without_name_is_any_active_official_with_the_role() -> None:
    v = view(Stage.HEAD_REVIEW)
    assert may_hold(v, HEAD)
    assert may_hold(v, official(201, 77, Role.HEAD))
    assert may_hold(v, official(202, 78, Role.ADMIN, Role.HEAD))


def test_named_holder_is_only_that_official() -> None:
    v = view(Stage.HEAD_REVIEW, holder=HEAD.official_id)
    assert may_hold(v, HEAD)
    assert not may_hold(v, official(201, 77, Role.HEAD))


def test_named_holder_still_needs_the_role() -> None:
    # the named official lost the role (e.g. rotated out): not the holder any more
    v = view(Stage.HEAD_REVIEW, holder=HEAD.official_id)
    assert not may_hold(v, official(HEAD.telegram_id, HEAD.official_id, Role.ADMIN))


@pytest.mark.parametrize("actor", [DIVISION, LEAD, EXECUTOR, ADMIN, REQUESTER, STRANGER])
def test_wrong_role_does_not_hold(actor: Actor) -> None:
    assert not may_hold(view(Stage.HEAD_REVIEW), actor)


def test_official_without_official_id_does_not_hold() -> None:
    # inactive or unknown official: the role set alone is not enough
    assert not may_hold(view(Stage.HEAD_REVIEW), official(101, None, Role.HEAD))


def test_requester_holds_by_telegram_id() -> None:
    v = view(Stage.RETURNED)
    assert may_hold(v, REQUESTER)
    assert may_hold(v, Actor(telegram_id=REQUESTER_TG, official_id=9, roles=frozenset({Role.HEAD})))
    assert not may_hold(v, STRANGER)
    assert not may_hold(v, HEAD)


@pytest.mark.parametrize("stage", [Stage.DONE, Stage.CANCELLED])
def test_nobody_holds_closed_stages(stage: Stage) -> None:
    for actor in (HEAD, DIVISION, LEAD, EXECUTOR, ADMIN, REQUESTER):
        assert not may_hold(view(stage), actor)


# --- not allowed ---------------------------------------------------------------------------

@pytest.mark.parametrize("stage,action", [
    (Stage.HEAD_REVIEW, Action.DISPOSE),
    (Stage.DIVISION_REVIEW, Action.DISPOSE),
    (Stage.TEAM_ASSIGN, Action.ASSIGN),
    (Stage.COMPLETENESS, Action.COMPLETE),
    (Stage.COMPLETENESS, Action.RETURN),
])
def test_wrong_role_is_not_allowed(stage: Stage, action: Action) -> None:
    rightful = HOLDER_FOR[stage]
    for actor in (HEAD, DIVISION, LEAD, EXECUTOR, ADMIN, REQUESTER, STRANGER):
        if actor is rightful:
            continue
        if stage == Stage.COMPLETENESS and actor is EXECUTOR:
            continue
        result = decide(view(stage), cmd(action), actor, active_executor_ids=ACTIVE)
        assert result == Refusal.NOT_ALLOWED, (actor, result)


@pytest.mark.parametrize("stage", [Stage.HEAD_REVIEW, Stage.DIVISION_REVIEW, Stage.TEAM_ASSIGN,
                                   Stage.COMPLETENESS])
def test_inactive_or_unknown_official_is_not_allowed(stage: Stage) -> None:
    rightful = HOLDER_FOR[stage]
    inactive = Actor(rightful.telegram_id, None, rightful.roles)
    action = next(iter(sorted(STAGE_ACTIONS[stage])))
    assert decide(view(stage), cmd(action), inactive,
                  active_executor_ids=ACTIVE) == Refusal.NOT_ALLOWED


@pytest.mark.parametrize("action", [Action.COMPLETE, Action.RETURN])
def test_another_executor_than_the_assigned_one_is_not_allowed(action: Action) -> None:
    v = view(Stage.COMPLETENESS, executor=EXECUTOR_ID, holder=EXECUTOR_ID)
    assert decide(v, cmd(action), OTHER_EXECUTOR, active_executor_ids=ACTIVE) == Refusal.NOT_ALLOWED
    assert isinstance(decide(v, cmd(action), EXECUTOR, active_executor_ids=ACTIVE), Transition)


@pytest.mark.parametrize("action", [Action.RESUBMIT, Action.CANCEL])
@pytest.mark.parametrize("actor", [STRANGER, HEAD, EXECUTOR, ADMIN])
def test_only_the_requester_may_resubmit_or_cancel(action: Action, actor: Actor) -> None:
    result = decide(view(Stage.RETURNED), cmd(action), actor, active_executor_ids=ACTIVE)
    assert result == Refusal.NOT_ALLOWED


def test_named_head_holder_refuses_other_head() -> None:
    v = view(Stage.HEAD_REVIEW, holder=HEAD.official_id)
    other_head = official(201, 77, Role.HEAD)
    assert decide(v, cmd(Action.DISPOSE), other_head) == Refusal.NOT_ALLOWED
    assert isinstance(decide(v, cmd(Action.DISPOSE), HEAD), Transition)


# --- the disposition chain -----------------------------------------------------------------

def test_next_in_chain_follows_disposition_chain() -> None:
    for cur, nxt in zip(DISPOSITION_CHAIN, DISPOSITION_CHAIN[1:]):
        assert next_in_chain(cur) == nxt


def test_dispose_from_head_to_division() -> None:
    t = decide(view(Stage.HEAD_REVIEW), cmd(Action.DISPOSE), HEAD)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.HEAD_REVIEW, Stage.DIVISION_REVIEW)
    assert t.holder_role == Role.DIVISION_HEAD
    assert t.holder_official_id is None
    assert t.executor_official_id is None
    assert t.opens_new_step is True  # A2 -> A3
    assert t.new_cycle is False


def test_dispose_from_division_to_team_stays_in_step_a3() -> None:
    t = decide(view(Stage.DIVISION_REVIEW), cmd(Action.DISPOSE), DIVISION)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.DIVISION_REVIEW, Stage.TEAM_ASSIGN)
    assert t.holder_role == Role.TEAM_LEAD
    assert t.holder_official_id is None
    assert t.opens_new_step is False  # both hops belong to SOP step A3
    assert t.new_cycle is False


def test_whole_chain_walk_matches_disposition_chain() -> None:
    stage = DISPOSITION_CHAIN[0]
    visited = [stage]
    version = VERSION
    while stage != DISPOSITION_CHAIN[-1]:
        action = next(iter(STAGE_ACTIONS[stage]))
        t = decide(view(stage, version=version), cmd(action, version=version), HOLDER_FOR[stage],
                   active_executor_ids=ACTIVE)
        assert isinstance(t, Transition), (stage, t)
        assert t.to_stage == next_in_chain(stage)
        assert t.holder_role == STAGES[t.to_stage].holder
        assert t.opens_new_step == (STAGES[t.to_stage].step != STAGES[stage].step)
        stage = t.to_stage
        version += 1
        visited.append(stage)
    assert tuple(visited) == DISPOSITION_CHAIN


def test_assign_names_the_executor() -> None:
    t = decide(view(Stage.TEAM_ASSIGN), cmd(Action.ASSIGN, executor=OTHER_EXECUTOR_ID), LEAD,
               active_executor_ids=ACTIVE)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.TEAM_ASSIGN, Stage.COMPLETENESS)
    assert t.holder_role == Role.EXECUTOR
    assert t.holder_official_id == OTHER_EXECUTOR_ID
    assert t.executor_official_id == OTHER_EXECUTOR_ID
    assert t.opens_new_step is True  # A3 -> A4


@pytest.mark.parametrize("executor,active", [
    (99, ACTIVE),
    (None, ACTIVE),
    (EXECUTOR_ID, frozenset()),
    (EXECUTOR_ID, frozenset({OTHER_EXECUTOR_ID})),
])
def test_assign_to_inactive_or_unknown_executor_is_invalid(executor: int | None,
                                                           active: frozenset[int]) -> None:
    result = decide(view(Stage.TEAM_ASSIGN), cmd(Action.ASSIGN, executor=executor), LEAD,
                    active_executor_ids=active)
    assert result == Refusal.INVALID


def test_assign_by_non_lead_is_not_allowed_before_argument_check() -> None:
    result = decide(view(Stage.TEAM_ASSIGN), cmd(Action.ASSIGN, executor=99), HEAD,
                    active_executor_ids=ACTIVE)
    assert result == Refusal.NOT_ALLOWED


# --- completeness --------------------------------------------------------------------------

def test_complete_goes_to_registration_with_the_same_executor() -> None:
    t = decide(view(Stage.COMPLETENESS), cmd(Action.COMPLETE), EXECUTOR, active_executor_ids=ACTIVE)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.COMPLETENESS, Stage.REGISTRATION)
    assert t.holder_role == Role.EXECUTOR
    assert t.holder_official_id == EXECUTOR_ID
    assert t.executor_official_id == EXECUTOR_ID
    assert t.opens_new_step is True


def test_return_goes_back_to_the_requester_with_notes() -> None:
    c = cmd(Action.RETURN, missing=(RequiredItem.CONTACT_EMAIL, RequiredItem.BUSINESS_PROCESS),
            reason="  Email salah ketik;\nproses bisnis kurang jelas \n ")
    t = decide(view(Stage.COMPLETENESS), c, EXECUTOR, active_executor_ids=ACTIVE)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.COMPLETENESS, Stage.RETURNED)
    assert t.holder_role == Role.REQUESTER
    assert t.holder_official_id is None
    assert t.executor_official_id == EXECUTOR_ID
    assert t.opens_new_step is True
    assert t.notes == {
        "missing": ["contact_email", "business_process"],
        "reason": "Email salah ketik;\nproses bisnis kurang jelas",
    }


@pytest.mark.parametrize("missing,reason", [
    ((), "Email salah"),
    ((RequiredItem.CONTACT_PHONE,), ""),
    ((RequiredItem.CONTACT_PHONE,), "   "),
    ((RequiredItem.CONTACT_PHONE,), " \n\t "),
    ((), ""),
])
def test_return_without_items_or_reason_is_invalid(missing: tuple[RequiredItem, ...],
                                                   reason: str) -> None:
    result = decide(view(Stage.COMPLETENESS), cmd(Action.RETURN, missing=missing, reason=reason),
                    EXECUTOR, active_executor_ids=ACTIVE)
    assert result == Refusal.INVALID


def test_return_of_an_item_the_sop_does_not_have_is_invalid() -> None:
    result = decide(view(Stage.COMPLETENESS), cmd(Action.RETURN, missing=("signed_letter",)), EXECUTOR,
                    active_executor_ids=ACTIVE)
    assert result == Refusal.INVALID


# --- returned: resubmit and cancel ---------------------------------------------------------

def _assert_back_to_chain_head(t: Transition | Refusal) -> None:
    assert isinstance(t, Transition)
    assert t.from_stage == Stage.RETURNED
    assert t.to_stage == DISPOSITION_CHAIN[0] == Stage.HEAD_REVIEW
    assert t.holder_role == STAGES[DISPOSITION_CHAIN[0]].holder == Role.HEAD
    assert t.holder_official_id is None
    assert t.executor_official_id is None
    assert t.new_cycle is True
    assert t.opens_new_step is True


def test_resubmit_default_route_is_the_chain() -> None:
    t = decide(view(Stage.RETURNED), cmd(Action.RESUBMIT), REQUESTER, active_executor_ids=ACTIVE)
    _assert_back_to_chain_head(t)


def test_resubmit_chain_route_clears_executor_even_if_active() -> None:
    t = decide(view(Stage.RETURNED), cmd(Action.RESUBMIT), REQUESTER, active_executor_ids=ACTIVE,
               resubmit_route=ResubmitRoute.CHAIN)
    _assert_back_to_chain_head(t)


def test_resubmit_executor_route_goes_back_to_the_same_executor() -> None:
    t = decide(view(Stage.RETURNED), cmd(Action.RESUBMIT), REQUESTER, active_executor_ids=ACTIVE,
               resubmit_route=ResubmitRoute.EXECUTOR)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.RETURNED, Stage.COMPLETENESS)
    assert t.holder_role == Role.EXECUTOR
    assert t.holder_official_id == EXECUTOR_ID
    assert t.executor_official_id == EXECUTOR_ID
    assert t.new_cycle is True
    assert t.opens_new_step is True


@pytest.mark.parametrize("active", [frozenset(), frozenset({OTHER_EXECUTOR_ID})])
def test_resubmit_executor_route_falls_back_to_chain_if_executor_inactive(
        active: frozenset[int]) -> None:
    t = decide(view(Stage.RETURNED), cmd(Action.RESUBMIT), REQUESTER, active_executor_ids=active,
               resubmit_route=ResubmitRoute.EXECUTOR)
    _assert_back_to_chain_head(t)


def test_resubmit_executor_route_without_executor_falls_back_to_chain() -> None:
    v = RequestView(Stage.RETURNED, VERSION, REQUESTER_TG, None, None)
    t = decide(v, cmd(Action.RESUBMIT), REQUESTER, active_executor_ids=ACTIVE,
               resubmit_route=ResubmitRoute.EXECUTOR)
    _assert_back_to_chain_head(t)


def test_cancel_closes_the_request() -> None:
    t = decide(view(Stage.RETURNED), cmd(Action.CANCEL), REQUESTER)
    assert isinstance(t, Transition)
    assert (t.from_stage, t.to_stage) == (Stage.RETURNED, Stage.CANCELLED)
    assert t.holder_role is None
    assert t.holder_official_id is None
    assert t.opens_new_step is False
    assert t.new_cycle is False



# --- steps 5-7 --------------------------------------------------------------------------------

def test_steps_5_to_7() -> None:
    t = decide(view(Stage.REGISTRATION), cmd(Action.REGISTER), HOLDER_FOR[Stage.REGISTRATION])
    assert isinstance(t, Transition) and t.to_stage == Stage.REPORT and t.holder_role == Role.EXECUTOR
    t = decide(view(Stage.REPORT), cmd(Action.SUBMIT_REPORT), HOLDER_FOR[Stage.REPORT])
    assert isinstance(t, Transition) and t.to_stage == Stage.FORWARD and t.holder_role == Role.HEAD
    assert t.holder_official_id is None  # any active Head
    t = decide(view(Stage.FORWARD), cmd(Action.FORWARD), HOLDER_FOR[Stage.FORWARD])
    assert isinstance(t, Transition) and t.to_stage == Stage.DONE and t.holder_role is None
    # an executor cannot forward, a head cannot register
    assert decide(view(Stage.FORWARD), cmd(Action.FORWARD), HOLDER_FOR[Stage.REPORT]) == Refusal.NOT_ALLOWED
    assert decide(view(Stage.REGISTRATION), cmd(Action.REGISTER), HEAD) == Refusal.NOT_ALLOWED


# --- another SOP: two hops, its own role codes -------------------------------------------------

def test_a_two_hop_chain_under_its_own_roles() -> None:
    two = sukamaju()
    kadis, kabid = official(301, 31, "kadis"), official(302, 32, "kabid_aptika")
    pelaksana = official(303, 33, "pelaksana")
    v = RequestView("kadis_review", VERSION, REQUESTER_TG, None, None)
    assert machine.decide(two, v, cmd(Action.ASSIGN), kadis) == Refusal.STALE  # the first hop disposes
    t = machine.decide(two, v, cmd(Action.DISPOSE), kadis)
    assert isinstance(t, Transition) and (t.to_stage, t.holder_role, t.opens_new_step) == (
        "kabid_assign", "kabid_aptika", True)
    assert machine.decide(two, v, cmd(Action.DISPOSE), HEAD) == Refusal.NOT_ALLOWED  # Bogor's head: no role here
    v = RequestView("kabid_assign", VERSION, REQUESTER_TG, None, None)
    t = machine.decide(two, v, cmd(Action.ASSIGN, executor=33), kabid, active_executor_ids=frozenset({33}))
    assert isinstance(t, Transition) and (t.to_stage, t.holder_role, t.holder_official_id) == (
        "completeness", "pelaksana", 33)
    v = RequestView("report", VERSION, REQUESTER_TG, 33, 33)
    t = machine.decide(two, v, cmd(Action.SUBMIT_REPORT), pelaksana)
    assert isinstance(t, Transition) and (t.to_stage, t.holder_role) == ("forward", "kadis")
    v = RequestView("completeness", VERSION, REQUESTER_TG, 33, 33)
    t = machine.decide(two, v, cmd(Action.RETURN, missing=("signed_letter",)), pelaksana)
    assert isinstance(t, Transition) and t.notes["missing"] == ["signed_letter"]
    v = RequestView("returned", VERSION, REQUESTER_TG, None, 33)
    t = machine.decide(two, v, cmd(Action.RESUBMIT), REQUESTER)
    assert isinstance(t, Transition) and (t.to_stage, t.holder_role) == ("kadis_review", "kadis")
    # Bogor's stages do not exist under this SOP.
    assert machine.decide(two, RequestView("team_assign", VERSION, REQUESTER_TG, None, None),
                          cmd(Action.ASSIGN), LEAD) == Refusal.STALE
