"""Sanity checks of SOP 038 as data (workflow.sop)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.sop import (
    CLOSED_STAGES,
    DISPOSITION_CHAIN,
    OFFICIAL_ROLES,
    OPEN_STAGES,
    PROCEDURE_A,
    PROCEDURE_A_OFFICIAL_DAYS,
    PROCEDURE_B,
    REQUIRED_ITEMS,
    STAGES,
    STEPS,
    SUPERIOR,
    RequiredItem,
    Role,
    Stage,
    StageInfo,
    TimeLimit,
    stage_holder,
    stage_step,
)


def test_procedure_a_has_seven_steps_with_sop_limits() -> None:
    assert [s.code for s in PROCEDURE_A] == ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    assert [s.number for s in PROCEDURE_A] == [1, 2, 3, 4, 5, 6, 7]
    assert [s.limit.working_days for s in PROCEDURE_A] == [1, 1, 1, 1, 2, 1, 1]
    assert all(s.limit.minutes == 0 for s in PROCEDURE_A)


def test_procedure_a_actors() -> None:
    assert [s.actor for s in PROCEDURE_A] == [
        Role.REQUESTER, Role.HEAD, Role.DIVISION_HEAD, Role.EXECUTOR,
        Role.EXECUTOR, Role.EXECUTOR, Role.HEAD,
    ]


def test_procedure_b_has_three_steps_of_ten_minutes() -> None:
    assert [s.code for s in PROCEDURE_B] == ["B1", "B2", "B3"]
    assert [s.number for s in PROCEDURE_B] == [1, 2, 3]
    for s in PROCEDURE_B:
        assert s.limit.minutes == 10
        assert s.limit.working_days == 0
        assert s.limit.as_timedelta == timedelta(minutes=10)
        assert s.actor == Role.REQUESTER


def test_steps_index_all_steps_by_code() -> None:
    assert len(STEPS) == len(PROCEDURE_A) + len(PROCEDURE_B) == 10
    for s in PROCEDURE_A + PROCEDURE_B:
        assert STEPS[s.code] is s
        assert s.title.strip()


def test_official_days_total_excludes_requester_step() -> None:
    assert PROCEDURE_A_OFFICIAL_DAYS == 1 + 1 + 1 + 2 + 1 + 1


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_has_stage_info(stage: Stage) -> None:
    info = STAGES[stage]
    assert isinstance(info, StageInfo)
    assert info.stage == stage
    assert info.step in STEPS
    assert info.label.strip()
    assert stage_step(stage) is STEPS[info.step]
    assert stage_holder(stage) == info.holder


def test_no_extra_stage_infos() -> None:
    assert set(STAGES) == set(Stage)


def test_disposition_chain_order() -> None:
    assert DISPOSITION_CHAIN == (
        Stage.HEAD_REVIEW, Stage.DIVISION_REVIEW, Stage.TEAM_ASSIGN, Stage.COMPLETENESS,
    )


@pytest.mark.parametrize("stage", DISPOSITION_CHAIN)
def test_chain_stage_holders_are_official_roles(stage: Stage) -> None:
    holder = STAGES[stage].holder
    assert holder is not None
    assert holder in OFFICIAL_ROLES
    assert holder != Role.REQUESTER


def test_chain_holders_in_order() -> None:
    assert [STAGES[s].holder for s in DISPOSITION_CHAIN] == [
        Role.HEAD, Role.DIVISION_HEAD, Role.TEAM_LEAD, Role.EXECUTOR,
    ]


def test_step_a3_has_two_hops() -> None:
    assert STAGES[Stage.DIVISION_REVIEW].step == STAGES[Stage.TEAM_ASSIGN].step == "A3"
    assert STAGES[Stage.HEAD_REVIEW].step == "A2"
    assert STAGES[Stage.COMPLETENESS].step == "A4"


def test_stage_sets() -> None:
    assert CLOSED_STAGES == {Stage.DONE, Stage.CANCELLED}
    assert not OPEN_STAGES & CLOSED_STAGES
    assert Stage.RETURNED not in OPEN_STAGES | CLOSED_STAGES
    assert OPEN_STAGES | CLOSED_STAGES | {Stage.RETURNED} == set(Stage)
    for s in CLOSED_STAGES:
        assert STAGES[s].holder is None
    for s in OPEN_STAGES:
        assert STAGES[s].holder in OFFICIAL_ROLES
    assert STAGES[Stage.RETURNED].holder == Role.REQUESTER


def test_requester_is_not_an_official_role() -> None:
    assert Role.REQUESTER not in OFFICIAL_ROLES
    assert set(OFFICIAL_ROLES) == set(Role) - {Role.REQUESTER}


def test_escalation_ladder() -> None:
    assert SUPERIOR == {
        Role.EXECUTOR: Role.TEAM_LEAD,
        Role.TEAM_LEAD: Role.DIVISION_HEAD,
        Role.DIVISION_HEAD: Role.HEAD,
    }
    assert Role.HEAD not in SUPERIOR


def test_required_items() -> None:
    assert REQUIRED_ITEMS == (
        RequiredItem.CONTACT_NAME, RequiredItem.CONTACT_EMAIL,
        RequiredItem.CONTACT_PHONE, RequiredItem.BUSINESS_PROCESS,
    )


@pytest.mark.parametrize("kwargs", [{}, {"working_days": 0, "minutes": 0},
                                    {"working_days": 1, "minutes": 10},
                                    {"working_days": -1}, {"minutes": -5}])
def test_time_limit_rejects_both_or_neither(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        TimeLimit(**kwargs)


def test_time_limit_accepts_one_kind() -> None:
    assert TimeLimit(working_days=2).working_days == 2
    assert TimeLimit(minutes=10).as_timedelta == timedelta(minutes=10)
