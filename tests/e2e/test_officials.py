"""Officials and roles: invitations, deactivation, per-role menus, /tugas, /start, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Agency, Official
from tests.e2e.harness import ADMIN, DIVISION, EXEC1, HEAD, REQUESTER, STRANGER, Harness

ROOT = Path(__file__).resolve().parents[2]


async def test_start_menu_and_help(h: Harness) -> None:
    m = await h.say(REQUESTER, "/start", expect="Selamat datang")
    assert [b["text"] for b in m.buttons] == ["📝 Ajukan akun SPLP", "📊 Status permohonan", "❓ Bantuan"]
    await h.tap(REQUESTER, m, text="❓ Bantuan", expect="/ajukan")
    await h.tap(REQUESTER, m, text="📊 Status permohonan", expect="belum memiliki permohonan")
    await h.tap(REQUESTER, m, text="📝 Ajukan akun SPLP", expect="Langkah 1/10")
    head = await h.say(HEAD, "/start", expect="Selamat datang")
    assert "Kepala Diskominfo" in head.text
    help_admin = await h.say(ADMIN, "/bantuan", expect="Bantuan")
    assert "/undang" in help_admin.text
    assert "/undang" not in (await h.say(REQUESTER, "/bantuan", expect="Bantuan")).text


async def test_commands_menu_per_role(h: Harness) -> None:
    await h.settle()
    default = h.emu.my_commands(None)
    assert {c["command"] for c in default} == {"start", "ajukan", "status", "aplikasi", "bantuan", "batal"}
    head = h.emu.my_commands({"type": "chat", "chat_id": HEAD})
    assert "tugas" in {c["command"] for c in head} and "undang" not in {c["command"] for c in head}
    admin = h.emu.my_commands({"type": "chat", "chat_id": ADMIN})
    assert {"undang", "pejabat"} <= {c["command"] for c in admin}


async def test_admin_invites_official_by_deep_link(h: Harness) -> None:
    new_user = 4242
    m = await h.say(ADMIN, "/undang", expect="Pilih peran")
    await h.tap(ADMIN, m, text="Ketua Tim Aplikasi", expect="Ketik nama lengkap")
    link_msg = await h.say(ADMIN, "Rina Marlina", expect="Tautan undangan")
    link = next(w for w in link_msg.text.split() if w.startswith("https://t.me/"))
    assert link.startswith(f"https://t.me/{h.emu.bot_username}?start=inv_")
    payload = link.split("?start=", 1)[1]
    # A non-admin cannot use the admin buttons or commands.
    await h.say(REQUESTER, "/undang", expect="hanya untuk admin")
    qid = h.emu.tap_raw(ADMIN, m.message_id, m.buttons[0]["callback_data"])  # admin re-tap still fine
    await h.emu.wait_callback_answer(qid)
    await h.say(ADMIN, "/batal")

    welcome = await h.say(new_user, f"/start {payload}", expect="terdaftar sebagai")
    assert "Ketua Tim Aplikasi" in welcome.text
    async with h.db.sessions() as s:
        off = await s.scalar(select(Official).where(Official.telegram_id == new_user))
    assert off is not None and off.name == "Rina Marlina"
    await h.say(STRANGER, f"/start {payload}", expect="tidak valid")  # one-time
    await h.settle()
    assert "tugas" in {c["command"] for c in h.emu.my_commands({"type": "chat", "chat_id": new_user})}
    await h.say(new_user, "/tugas", expect="Tidak ada permohonan")


async def test_admin_deactivates_official(h: Harness) -> None:
    m = await h.say(ADMIN, "/pejabat", expect="Daftar pejabat")
    assert "Dewi Kartika" in m.text
    ans = await h.tap(ADMIN, m, text=h.button(m, "Nonaktifkan Dewi Kartika"))
    assert ans["text"] == "Pejabat dinonaktifkan."
    async with h.db.sessions() as s:
        assert (await s.scalar(select(Official.active).where(Official.telegram_id == DIVISION))) is False
    await h.say(DIVISION, "/tugas", expect="hanya untuk pejabat")
    # Nobody holds division head now: the request waits and the admin is warned.
    from tests.e2e.flows import head_disposes
    await h.submit()
    await head_disposes(h)
    await h.wait_msg(ADMIN, "tidak ada pejabat aktif")


async def test_tugas_lists_held_requests_oldest_first(h: Harness) -> None:
    n1 = await h.submit()
    after = h.last_id(HEAD)
    m = await h.say(HEAD, "/tugas", expect="menunggu tindakan Anda")
    assert "<b>1</b>" in (m.html or "") or " 1 " in m.text
    task = await h.wait_msg(HEAD, n1, after=m.message_id)
    assert task.buttons  # it carries its buttons
    await h.say(EXEC1, "/tugas", expect="Tidak ada permohonan")
    await h.say(REQUESTER, "/tugas", expect="hanya untuk pejabat")
    # Acting from the /tugas copy clears the original message's buttons too.
    from tests.e2e.flows import pick
    t = await pick(h, HEAD, task, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    await h.tap(HEAD, t, text=h.button(t, "Kirim tanpa catatan"))
    await h.settle()
    originals = [x for x in h.emu.bot_messages(HEAD) if x.message_id <= after and x.text and n1 in x.text]
    assert originals and all(not x.buttons for x in originals)


def _cli(args: list[str], db_url: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "BOT_TOKEN": "", **extra}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cli(db_url: str, tmp_path: Path) -> None:
    r = _cli(["officials", "add", "--role", "executor", "--telegram-id", "777", "--name", "Eko Saputra"],
             db_url, tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli(["officials", "add", "--role", "admin", "--telegram-id", "777", "--name", "Eko Saputra"], db_url, tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli(["officials", "list"], db_url, tmp_path)
    assert "777\tEko Saputra\tadmin,executor\tactive" in r.stdout
    r = _cli(["officials", "deactivate", "--telegram-id", "777"], db_url, tmp_path)
    assert r.returncode == 0
    assert "inactive" in _cli(["officials", "list"], db_url, tmp_path).stdout
    r = _cli(["officials", "add", "--role", "boss", "--telegram-id", "1", "--name", "X"], db_url, tmp_path)
    assert r.returncode == 1 and "unknown role 'boss'" in r.stderr
    assert "head, division_head, team_lead, executor, admin" in r.stderr  # the SOP in force's roles
    # The roles are those of the SOP file in force: another Pemda's file has its own.
    from tests.sopfiles import SUKAMAJU_FILE

    r = _cli(["officials", "add", "--role", "kadis", "--telegram-id", "778", "--name", "Nur Hasanah"], db_url,
             tmp_path, SOP_FILE=str(SUKAMAJU_FILE))
    assert r.returncode == 0 and "now has role kadis" in r.stdout, r.stderr
    r = _cli(["officials", "add", "--role", "team_lead", "--telegram-id", "779", "--name", "X"], db_url, tmp_path,
             SOP_FILE=str(SUKAMAJU_FILE))
    assert r.returncode == 1 and "kadis, kabid_aptika, pelaksana, admin" in r.stderr

    csv = tmp_path / "pd.csv"
    csv.write_text("code,name,short_name,kind\ndinkes,Dinas Kesehatan Kota,Dinkes,dinas\n"
                   "baru,Badan Baru,BB,badan\n", encoding="utf-8")
    r = _cli(["agencies", "import", str(csv)], db_url, tmp_path)
    assert r.returncode == 0 and "1 added, 1 updated" in r.stdout, r.stdout + r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nx,y\n", encoding="utf-8")
    r = _cli(["agencies", "import", str(bad)], db_url, tmp_path)
    assert r.returncode == 1 and "header" in r.stderr
    listing = _cli(["agencies", "list"], db_url, tmp_path).stdout
    assert "baru\tBB\tBadan Baru\tactive" in listing and "Dinas Kesehatan Kota" in listing
    assert len(listing.strip().splitlines()) == 37  # 36 shipped + 1 new

    # Without a token, webhook mode stops and names BOT_TOKEN (plain `run` starts the sandbox
    # instead: tests/sandbox/test_sandbox.py).
    r = _cli(["run", "--webhook"], db_url, tmp_path)
    assert r.returncode == 2 and "BOT_TOKEN" in r.stderr


async def test_agencies_are_seeded(h: Harness) -> None:
    async with h.db.sessions() as s:
        codes = set((await s.scalars(select(Agency.code))).all())
    assert len(codes) == 36 and {"diskominfo", "dinkes", "kectanahsareal"} <= codes


async def test_admin_manages_agencies_in_the_bot(h: Harness) -> None:
    m = await h.say(ADMIN, "/perangkat", expect="Daftar Perangkat Daerah")
    assert "✅ Setda" in m.button_texts
    ans = await h.tap(ADMIN, m, text="✅ Setda")
    assert ans["text"] == "Setda dinonaktifkan."
    await h.emu.wait_for(lambda: "⛔ Setda" in h.emu.message(ADMIN, m.message_id).button_texts)
    assert "1/5" in m.button_texts
    ans = await h.tap(ADMIN, m, text="1/5")  # the page indicator answers and changes nothing
    assert ans["text"] == "Halaman 1 dari 5."
    await h.tap(ADMIN, m, text="▶️")
    await h.emu.wait_for(lambda: "2/5" in h.emu.message(ADMIN, m.message_id).button_texts)
    await h.tap(ADMIN, m, text="➕ Tambah Perangkat Daerah", expect="format")
    await h.say(ADMIN, "salah format", expect="Format tidak valid")
    await h.say(ADMIN, "dinbaru; Dinas Percontohan Baru; Dinbaru; dinas", expect="ditambahkan")
    # The requester's agency search sees the change.
    await h.say(REQUESTER, "/ajukan", expect="Perangkat Daerah")
    await h.say(REQUESTER, "percontohan", expect="nomor surat")
    await h.say(REQUESTER, "/batal")
    await h.say(REQUESTER, "/ajukan", expect="Perangkat Daerah")
    await h.say(REQUESTER, "setda", expect="tidak ditemukan")  # inactive now
    # Not for anybody else.
    await h.say(REQUESTER, "/perangkat", expect="hanya untuk admin")
