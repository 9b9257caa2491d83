"""Revisions never break running requests: each request keeps the SOP version it was submitted
under (a hash and the revision, shown in /status); a changed file applies to new requests; a file
whose chain lacks a stage that open requests are in is refused, at start and by `sop check`."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import MissingSetting
from storage.models import Request, SopVersion
from sandbox.telegram import Msg
from tests.e2e.flows import disposes, pick
from tests.e2e.harness import DIVISION, HEAD, REQUESTER, TEAM, Harness
from tests.sopfiles import BOGOR_FILE, SUKAMAJU_FILE, bogor
from workflow.sopdoc import load

ROOT = Path(__file__).resolve().parents[2]


async def _dispose(h: Harness, uid: int, card: Msg) -> None:
    m = await pick(h, uid, card, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    assert (await h.tap(uid, m, text=h.button(m, "Kirim tanpa catatan")))["text"] == "Disposisi terkirim."


def _revision(tmp_path: Path) -> Path:
    """SOP 038 revision 1: the Head's disposition gets two working days."""
    text = BOGOR_FILE.read_text("utf-8").replace("  revision: 0\n", "  revision: 1\n", 1)
    old = "    actor: head\n    label: Disposisi Kepala Diskominfo\n"
    assert old in text
    i = text.index(old)
    j = text.index("limit: {working_days: 1}", i)
    path = tmp_path / "kota-bogor-038-rev1.yaml"
    path.write_text(text[:j] + "limit: {working_days: 2}" + text[j + len("limit: {working_days: 1}"):], "utf-8")
    return path


async def test_a_revision_applies_to_new_requests_and_running_ones_keep_theirs(emu, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url)
    await h.start()
    await h.cast()
    revised = _revision(tmp_path)
    rev1 = load(revised)
    try:
        first = await h.submit()
        card = await h.wait_msg(HEAD, "Disposisikan kepada")
        assert "(1 hari kerja)" in card.text and "Selasa, 1 Desember 2026 09.00 WIB" in card.text
        await h.stop()
        h.settings = replace(h.settings, sop_file=revised)
        await h.start()  # the office adopts revision 1: the same chain and roles, so nothing is refused
        second = await h.submit(5002)
        card2 = await h.wait_msg(HEAD, "Disposisikan kepada", after=card.message_id)
        assert second in card2.text and "(2 hari kerja)" in card2.text and "Rabu, 2 Desember 2026" in card2.text
        # Both go on, each under its own version: the Head disposes the first (revision 0), then the second.
        await _dispose(h, HEAD, card)
        div1 = await h.wait_msg(DIVISION, "Disposisikan kepada")
        assert first in div1.text and "Langkah 3" in div1.text and "(1 hari kerja)" in div1.text
        await _dispose(h, HEAD, card2)
        div2 = await h.wait_msg(DIVISION, "Disposisikan kepada", after=div1.message_id)
        assert second in div2.text and "(1 hari kerja)" in div2.text
        async with h.db.sessions() as s:
            versions = dict((await s.execute(select(Request.number, Request.sop_version))).all())
            stored = dict((await s.execute(select(SopVersion.version, SopVersion.revision))).all())
        assert versions == {first: bogor().version, second: rev1.version}
        assert stored == {bogor().version: 0, rev1.version: 1}
        st1 = await h.say(REQUESTER, "/status", expect="Menurut")
        assert first in st1.text and f"Menurut: SOP 038 rev. 0 ({bogor().version[:8]})" in st1.text
        assert "Batas waktu SOP prosedur A: 7 hari kerja" in st1.text
        st2 = await h.say(5002, "/status", expect="Menurut")
        assert second in st2.text and f"Menurut: SOP 038 rev. 1 ({rev1.version[:8]})" in st2.text
        assert "Batas waktu SOP prosedur A: 8 hari kerja" in st2.text
    finally:
        await h.close()


async def test_a_file_that_would_strand_open_requests_is_refused(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url)
    await h.start()
    await h.cast()
    try:
        number = await h.submit()
        await disposes(h, HEAD)
        await disposes(h, DIVISION)
        await h.wait_msg(TEAM, "yang ditugaskan")  # the request waits in team_assign, which the regency lacks
        await h.stop()
        h.settings = replace(h.settings, sop_file=SUKAMAJU_FILE)
        with pytest.raises(MissingSetting) as err:
            await h.start()
        assert "cannot replace the one in use: 1 open request(s) would be stranded" in str(err.value)
        assert f"{number}  stage team_assign  (stage 'team_assign' is not in the new chain)" in str(err.value)
        # `sop check` says the same against the configured database, and accepts Bogor's own file.
        env = {**os.environ, "DATABASE_URL": db_url, "BOT_TOKEN": ""}
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), "sop", "check", str(SUKAMAJU_FILE)], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "REFUSED" in r.stdout and f"{number}  stage team_assign" in r.stdout, r.stdout
        r = subprocess.run([sys.executable, str(ROOT / "main.py"), "sop", "check", str(BOGOR_FILE)], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "database: 1 open request(s); none stranded by this file" in r.stdout, r.stdout
    finally:
        h.runtime = None
        await h.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_blockers_count_open_stages_and_roles_only(db_url) -> None:  # type: ignore[no-untyped-def]
    """A returned request restarts at its own version's first hop, a closed one is over; a request
    held by a role the new file does not define is stranded even in a stage every SOP has."""
    from datetime import date, datetime, timezone

    from storage import sops
    from storage.db import Database
    from storage.models import Agency
    from tests.sopfiles import sukamaju

    db = Database(db_url)
    now = datetime(2026, 11, 30, 2, tzinfo=timezone.utc)
    try:
        async with db.transaction() as s:
            s.add(Agency(id=1, code="x", name="X", short_name="X", kind="dinas", active=True))
            for i, (stage, role) in enumerate((("returned", "requester"), ("done", None), ("cancelled", None),
                                               ("completeness", "executor"), ("kadis_review", "kadis")), 1):
                s.add(Request(id=i, number=f"N{i}", requester_id=1, agency_id=1, letter_number="1", subject="s",
                              letter_date=date(2026, 11, 27), contact_name="n", contact_email="e@x.go.id",
                              contact_phone="+6281234567890", app_name="a", business_process="b", scan={},
                              stage=stage, holder_role=role, version=1, cycle=1, created_at=now, submitted_at=now,
                              updated_at=now))
        async with db.sessions() as s:
            blocked = await sops.blockers(s, sukamaju())
            assert [(b.number, b.stage) for b in blocked] == [("N4", "completeness")]
            assert "held by role 'executor'" in blocked[0].why
            assert [(b.number, b.stage) for b in await sops.blockers(s, bogor())] == [("N5", "kadis_review")]
    finally:
        await db.dispose()
