"""SOP 038 as the bot runs it (workflow.sop.Sop from sop/kota-bogor-038.yaml): the steps, limits,
actors, stages and chain the code used to hold as constants -- and the same derivations for the
regency's two-hop file."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.sopfiles import bogor, sukamaju
from workflow.calendar import STANDARD_DAY, WeeklyHours, default_calendar
from workflow.sop import ADMIN, CLOSED_STAGES, REQUESTER, Limit, SystemStage

SOP = bogor()


def test_procedure_a_has_seven_steps_with_sop_limits() -> None:
    assert [s.code for s in SOP.procedure_a] == ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    assert [s.number for s in SOP.procedure_a] == [1, 2, 3, 4, 5, 6, 7]
    assert [s.limit.working_days for s in SOP.procedure_a] == [1, 1, 1, 1, 2, 1, 1]
    assert all(s.limit.minutes is None and s.limit.working_hours is None for s in SOP.procedure_a)


def test_procedure_a_actors() -> None:
    assert [s.actor for s in SOP.procedure_a] == [
        REQUESTER, "head", "division_head", "executor", "executor", "executor", "head"]


def test_procedure_b_has_three_steps_of_ten_minutes() -> None:
    assert [s.code for s in SOP.procedure_b] == ["B1", "B2", "B3"]
    assert [s.number for s in SOP.procedure_b] == [1, 2, 3]
    for s in SOP.procedure_b:
        assert s.limit.minutes == 10 and s.limit.working_days is None
        assert s.limit.as_timedelta == timedelta(minutes=10)
        assert s.actor == REQUESTER


def test_steps_index_all_steps_by_code() -> None:
    assert len(SOP.steps) == len(SOP.procedure_a) + len(SOP.procedure_b) == 10
    for s in SOP.procedure_a + SOP.procedure_b:
        assert SOP.steps[s.code] is s and s.title.strip()


def test_officials_limits_together() -> None:
    assert SOP.official_limit_label() == "7 hari kerja" and SOP.official_span() == "langkah 2–7"
    assert SOP.official_limit(STANDARD_DAY) == STANDARD_DAY * 7
    assert SOP.total_limit_seconds(STANDARD_DAY) == 8 * STANDARD_DAY.total_seconds()


@pytest.mark.parametrize("stage", list(SOP.stages))
def test_every_stage_has_stage_info(stage: str) -> None:
    info = SOP.stages[stage]
    assert info.stage == stage and info.step in SOP.steps and info.label.strip()
    assert SOP.stage_step(stage) is SOP.steps[info.step]
    assert SOP.holder(stage) == info.holder


def test_the_stages_are_the_chain_and_the_system_stages() -> None:
    assert set(SOP.stages) == set(SOP.chain) | set(SystemStage)
    assert SOP.chain == ("head_review", "division_review", "team_assign")


def test_chain_holders_in_order() -> None:
    assert [SOP.holder(s) for s in SOP.chain] == ["head", "division_head", "team_lead"]
    assert SOP.chain_roles == ("head", "division_head", "team_lead", "executor")
    assert SOP.assigner == "team_assign" and SOP.next_stage("team_assign") == "completeness"
    assert SOP.next_stage("head_review") == "division_review"


def test_step_a3_has_two_hops() -> None:
    assert SOP.stages["division_review"].step == SOP.stages["team_assign"].step == "A3"
    assert SOP.stages["head_review"].step == "A2" and SOP.stages["completeness"].step == "A4"
    assert SOP.step_stages("A3") == ("division_review", "team_assign")


def test_stage_sets() -> None:
    assert CLOSED_STAGES == {"done", "cancelled"}
    assert not SOP.open_stages & CLOSED_STAGES and "returned" not in SOP.open_stages
    assert SOP.open_stages | CLOSED_STAGES | {"returned"} == set(SOP.stages)
    for s in CLOSED_STAGES:
        assert SOP.stages[s].holder is None
    for s in SOP.open_stages:
        assert SOP.stages[s].holder in SOP.roles
    assert SOP.stages["returned"].holder == REQUESTER


def test_roles_and_titles() -> None:
    assert SOP.official_roles() == ("head", "division_head", "team_lead", "executor", ADMIN)
    assert SOP.role_title("head") == "Kepala Diskominfo" and SOP.role_title(REQUESTER) == "Pemohon"
    assert SOP.role_title(ADMIN) == "Admin" and SOP.role_title("unknown") == "unknown"
    assert SOP.executor == "executor" and SOP.forwarder == "head"


def test_escalation_ladder() -> None:
    assert SOP.escalation == {"executor": "team_lead", "team_lead": "division_head", "division_head": "head"}
    assert SOP.superior("head") is None


def test_required_items() -> None:
    assert [i.code for i in SOP.items] == ["contact_name", "contact_email", "contact_phone", "business_process"]
    assert SOP.item_label("contact_email") == "Email narahubung" and SOP.item_label("x") == "x"


def test_labels() -> None:
    assert SOP.stage_label("division_review") == "Langkah 3 — Disposisi Kepala Bidang E-Government"
    assert SOP.limit_label("registration") == "2 hari kerja" and SOP.report_name == "Laporan Kegiatan"
    assert SOP.label == f"SOP 038 rev. 0 ({SOP.version[:8]})"


def test_the_two_hop_sop() -> None:
    two = sukamaju()
    assert two.chain_roles == ("kadis", "kabid_aptika", "pelaksana") and two.assigner == "kabid_assign"
    assert two.official_limit_label() == "1 hari kerja dan 22 jam kerja"
    assert two.official_limit(STANDARD_DAY) == STANDARD_DAY + timedelta(hours=22)
    assert two.report_name == "Berita Acara" and two.stage_label("kabid_assign").startswith("Langkah 3 — ")
    assert two.step_stages("A3") == ("kabid_assign",)


@pytest.mark.parametrize("kwargs", [{}, {"working_days": 0}, {"working_days": 1, "minutes": 10},
                                    {"working_days": -1}, {"minutes": -5}, {"working_hours": 0}])
def test_time_limit_rejects_both_or_neither(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Limit(**kwargs)


def test_time_limits_on_the_calendar() -> None:
    w = ZoneInfo("Asia/Jakarta")
    cal = default_calendar([2026], weekly=WeeklyHours.default())
    mon10 = datetime(2026, 11, 30, 10, tzinfo=w)
    assert Limit(working_days=1).due(cal, mon10) == datetime(2026, 12, 1, 10, tzinfo=w)
    assert Limit(working_hours=4).due(cal, mon10) == datetime(2026, 11, 30, 15, tzinfo=w)  # lunch 12-13
    assert Limit(minutes=10).due(cal, mon10) == mon10 + timedelta(minutes=10)
    assert Limit(working_hours=1.5).label() == "1,5 jam kerja" and Limit(working_hours=1.5).seconds(STANDARD_DAY) == 5400
    assert SOP.due(cal, "returned", mon10) is None  # the requester's own step is recorded, not timed
