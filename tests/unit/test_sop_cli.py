"""`python main.py sop check FILE`, `sop show [FILE]`, and the bot refusing an invalid SOP file:
as an operator types them (child processes, no database configured but a missing SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.sopfiles import BOGOR_FILE, SUKAMAJU_FILE, sukamaju

ROOT = Path(__file__).resolve().parents[2]


def _main(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{cwd}/none.db", "BOT_TOKEN": "", **env}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=60)


def _broken(tmp_path: Path) -> Path:
    text = SUKAMAJU_FILE.read_text("utf-8")
    text = text.replace("limit: {working_hours: 6}", "limit: {working_hours: 0}", 1)
    text = text.replace("{stage: kabid_assign, step: A3", "{stage: kabid_assign, step: A2", 1)
    path = tmp_path / "rusak.yaml"
    path.write_text(text, "utf-8")
    return path


def test_check_a_valid_file(tmp_path: Path) -> None:
    r = _main("sop", "check", str(SUKAMAJU_FILE), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"OK: {SUKAMAJU_FILE} is a valid SOP: SOP 012 rev. 1 ({sukamaju().version[:8]})" in r.stdout
    assert "chain: Kepala Dinas → Kepala Bidang Aplikasi Informatika → Pelaksana Teknis" in r.stdout
    assert "none.db does not exist yet; nothing to compare with" in r.stdout
    assert not (tmp_path / "none.db").exists()  # checking creates nothing


def test_check_an_invalid_file_names_each_line_in_both_languages(tmp_path: Path) -> None:
    """The schema's problems first (each field, all of them), then -- once the fields are right --
    the rules between fields."""
    bad = _broken(tmp_path)
    r = _main("sop", "check", str(bad), cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "INVALID: 1 problem(s)",
        f"{bad}:30: procedure_a[3].limit.working_hours: harus lebih dari 0 / Input should be greater than 0"]
    bad.write_text(bad.read_text("utf-8").replace("limit: {working_hours: 0}", "limit: {working_hours: 6}"), "utf-8")
    r = _main("sop", "check", str(bad), cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines()[1] == (
        f"{bad}:35: chain: rantai disposisi terputus: langkah A2, A3 harus dilalui berurutan (tertulis: A2, A2) / "
        "the disposition chain has a gap: steps A2, A3 must be covered in order (given: A2, A2)")


def test_show_prints_the_steps_as_the_bot_runs_them(tmp_path: Path) -> None:
    r = _main("sop", "show", cwd=tmp_path)  # the default: SOP_FILE, Bogor's
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("038/SOP Pengelolaan Layanan SPLP Kota Bogor/2024\n")
    assert "Penugasan oleh Ketua Tim Aplikasi   Ketua Tim Aplikasi" in r.stdout
    assert "Officials' limits together: 7 hari kerja for langkah 2–7." in r.stdout
    r = _main("sop", "show", cwd=tmp_path, SOP_FILE=str(SUKAMAJU_FILE))
    assert "4 jam kerja" in r.stdout and "Verifikasi berkas [completeness]" in r.stdout
    assert "signed_letter" in r.stdout and "letter_scan" in r.stdout and "2026-10-19 Hari Jadi" in r.stdout


def test_the_bot_refuses_to_start_on_an_invalid_file(tmp_path: Path) -> None:
    bad = _broken(tmp_path)
    r = _main("run", cwd=tmp_path, BOT_TOKEN="123:abc", SOP_FILE=str(bad))
    assert r.returncode == 2
    assert "error: the SOP file is invalid (1 problem(s)); the bot does not start:" in r.stderr
    assert f"{bad}:30: procedure_a[3].limit.working_hours" in r.stderr
    assert not (tmp_path / "none.db").exists()  # refused before the database is touched
    r = _main("sop", "show", str(BOGOR_FILE), cwd=tmp_path, SOP_FILE=str(bad))  # show takes the file it is given
    assert r.returncode == 0


def test_retired_settings_are_named_with_where_they_live_now(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import retired_settings

    env = tmp_path / ".env"
    env.write_text("BOT_TOKEN=x\nworking_hours=mon-fri=08:00-16:00\n", "utf-8")
    monkeypatch.setenv("SPLP_TENANT", "kotacontoh.go.id")
    monkeypatch.delenv("REMINDER_SHARES", raising=False)
    assert retired_settings(env) == ["WORKING_HOURS (now the SOP file's working_hours)",
                                     "SPLP_TENANT (now the SOP file's splp.tenant)"]
    monkeypatch.delenv("SPLP_TENANT")
    assert retired_settings(tmp_path / "none") == []


def test_show_piped_into_a_reader_that_stops_ends_quietly(tmp_path: Path) -> None:
    """`sop show | head -3` as an operator pastes it: the first lines, and no traceback when the reader
    has gone before the rest is written (`| true` stops at once, so the write always finds it gone)."""
    environ = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/none.db", "BOT_TOKEN": ""}
    show = f'"{sys.executable}" "{ROOT / "main.py"}" sop show'
    r = subprocess.run(["bash", "-c", f'{show} | head -3; {show} | true; echo "status ${{PIPESTATUS[0]}}"'],
                       cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60)
    assert r.stdout.splitlines()[0].startswith("038/SOP"), r.stdout
    assert r.stdout.splitlines()[-1] == "status 0", r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr


def test_a_wrong_setting_stops_the_bot_with_its_name(tmp_path: Path) -> None:
    r = _main("run", cwd=tmp_path, BOT_TOKEN="123:abc", REQUEST_TIMEOUT="sepuluh")
    assert r.returncode == 2
    assert r.stderr == "error: invalid setting: REQUEST_TIMEOUT: Expected `float`, got `str`\n"
