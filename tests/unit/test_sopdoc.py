"""The SOP as a file: both shipped SOPs load; an invalid file gets a precise message (the file,
the line, what is wrong, in Indonesian and English)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.sopdoc import DEFAULT_SOP, Kind, SopInvalid, SystemStage, load, parse

ROOT = Path(__file__).resolve().parents[2]
BOGOR = ROOT / "sop" / "kota-bogor-038.yaml"
SUKAMAJU = ROOT / "sop" / "kabupaten-sukamaju-012.yaml"


def test_bogor_is_the_default_and_reads_as_sop_038() -> None:
    assert DEFAULT_SOP == BOGOR
    s = load(BOGOR)
    assert [x.code for x in s.procedure_a] == ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    assert [x.number for x in s.procedure_a] == [1, 2, 3, 4, 5, 6, 7]
    assert [x.limit.working_days for x in s.procedure_a] == [1, 1, 1, 1, 2, 1, 1]
    assert [x.limit.minutes for x in s.procedure_b] == [10, 10, 10]
    assert s.chain == ("head_review", "division_review", "team_assign") and s.assigner == "team_assign"
    assert s.executor == "executor" and s.forwarder == "head"
    assert s.stages["division_review"].step == s.stages["team_assign"].step == "A3"  # two hops, one step
    assert s.next_stage("team_assign") == SystemStage.COMPLETENESS
    assert s.role_title("division_head") == "Kepala Bidang E-Government"
    assert s.official_limit_label() == "7 hari kerja"


def test_the_second_sop_is_different_and_valid() -> None:
    s = load(SUKAMAJU)
    assert s.chain == ("kadis_review", "kabid_assign")
    assert s.procedure_a[1].limit.working_hours == 4 and s.procedure_a[1].limit.label() == "4 jam kerja"
    assert len(s.items) == 5 and s.executor == "pelaksana"
    assert s.version != load(BOGOR).version and len(s.version) == 16


def _broken(old: str, new: str) -> str:
    text = SUKAMAJU.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(("old", "new", "needle", "id_part", "en_part"), [
    ("actor: kadis, label: Disposisi Kepala Dinas, title", "actor: bupati, label: Disposisi Kepala Dinas, title",
     "actor: bupati", "bukan peran yang didefinisikan", "not a role defined under roles"),
    ("{stage: kabid_assign, step: A3", "{stage: kabid_assign, step: A2", "chain:",
     "rantai disposisi terputus", "the disposition chain has a gap"),
    ("limit: {working_hours: 6}", "limit: {working_hours: 0}", "working_hours: 0",
     "harus lebih dari 0", "greater than 0"),
    ("precheck: letter_scan", "precheck: tanda_tangan", "tanda_tangan",
     "bukan salah satu pilihan", "Input should be"),
    ("  place:", "  planet: Sukamaju\n  place:", "planet:", "kolom tidak dikenal", "unknown field"),
    ("tenant: ", "tenant: Sukamaju ", "tenant:", "format tidak sesuai", "should match pattern"),
])
def test_an_invalid_file_names_the_line_and_the_problem(old: str, new: str, needle: str, id_part: str,
                                                         en_part: str) -> None:
    text = _broken(old, new)
    with pytest.raises(SopInvalid) as err:
        parse(text, "contoh.yaml")
    problems = err.value.problems
    assert any(id_part in p.id and en_part in p.en for p in problems), problems
    hit = next(p for p in problems if id_part in p.id)
    assert hit.line == _line_of(text, needle), (hit, _line_of(text, needle))
    assert str(err.value).startswith(f"contoh.yaml:{hit.line}: ")


def test_yaml_syntax_and_empty_files() -> None:
    with pytest.raises(SopInvalid, match=r"x.yaml:3: YAML: bukan YAML yang sah"):
        parse("roles:\n  head: [unclosed\nchain: x\n", "x.yaml")
    with pytest.raises(SopInvalid, match="berkas kosong"):
        parse("", "x.yaml")


def test_every_rule_between_fields() -> None:
    s = SUKAMAJU.read_text(encoding="utf-8")
    cases = {
        "escalation: {pelaksana: kabid_aptika, kabid_aptika: kadis}":
            ("escalation: {pelaksana: kabid_aptika, kabid_aptika: pelaksana}", "eskalasi berputar"),
        "digest_to: [kadis, kabid_aptika]": ("digest_to: [kadis, camat]", "«camat» tidak didefinisikan"),
        "{code: A5, kind: registration,": ("{code: A5, kind: forward,", "tepat satu langkah berjenis registration"),
        "kabid_aptika: Kepala Bidang Aplikasi Informatika": ("Admin: Kepala Bidang", "kode peran «Admin» tidak sah"),
    }
    for old, (new, message) in cases.items():
        with pytest.raises(SopInvalid) as err:
            parse(s.replace(old, new, 1), "x.yaml")
        assert any(message in p.id for p in err.value.problems), (message, err.value.problems)
    assert Kind.DISPOSITION in {x.kind for x in load(SUKAMAJU).procedure_a}


def test_a_bot_has_its_file_checked_by_a_child_and_loads_no_pydantic(tmp_path: Path) -> None:
    """The bot's start (``bot.app.load_sop``) and its reading of stored versions leave pydantic out of
    its memory; what the child answers is what checking the file here gives: the same SOP (the same
    version), or the same problems."""
    from tests.fresh import in_fresh_process

    bad = tmp_path / "rusak.yaml"
    bad.write_text(_broken("tenant: ", "tenant: Sukamaju "), "utf-8")
    with pytest.raises(SopInvalid) as here:
        load(bad)
    code = ("import sys, main, bot.app, handlers\n"
            "from bot.settings import Settings\n"
            "from workflow.sopdoc import SopInvalid, from_json\n"
            f"sop = bot.app.load_sop(Settings(sop_file={str(SUKAMAJU)!r}))\n"
            f"assert sop.version == {load(SUKAMAJU).version!r}, sop.version\n"
            "assert from_json(sop.to_json(), 'sop_version').doc == sop.doc\n"
            "try:\n"
            f"    bot.app.load_sop(Settings(sop_file={str(bad)!r}))\n"
            "    raise AssertionError('an invalid file was taken')\n"
            "except SopInvalid as e:\n"
            f"    assert str(e) == {str(here.value)!r}, str(e)\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))\n"
            "assert not loaded, loaded\n")
    in_fresh_process(code)
