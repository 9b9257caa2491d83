"""The admin-managed calendar (bot and CLI), configurable hours, and the morning digest."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import FakeClock
from tests.e2e.flows import head_disposes
from tests.e2e.harness import ADMIN, DIVISION, HEAD, REQUESTER, TEAM, Harness

W = ZoneInfo("Asia/Jakarta")


def at(*a: int) -> datetime:
    return datetime(*a, tzinfo=W)


async def _h(emu, db_url, start: datetime, **kw) -> Harness:  # type: ignore[no-untyped-def]
    h = Harness(emu, db_url, clock=FakeClock(start), **kw)
    await h.start()
    await h.cast()
    return h


async def test_admin_day_off_and_ramadan_hours_change_deadlines(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = await _h(emu, db_url, at(2026, 11, 30, 9))
    try:
        m = await h.say(ADMIN, "/kalender", expect="Kalender kerja")
        await h.tap(ADMIN, m, text="➕ Hari libur tambahan", expect="Ketik tanggal")
        await h.say(ADMIN, "05-12-2026 s.d. 01-12-2026 x", expect="Tanggal akhir")
        await h.say(ADMIN, "01-12-2026 Libur daerah Kota Bogor", expect="1 hari libur tambahan disimpan")
        await h.tap(ADMIN, m, text="➕ Jam kerja khusus", expect="Ketik rentang")
        await h.say(ADMIN, "02-12-2026 s.d. 04-12-2026 bukan jam", expect="Format jam tidak valid")
        await h.say(ADMIN, "02-12-2026 s.d. 06-12-2026 08:00-12:00,12:30-15:00 | 08:00-11:30,12:30-15:30",
                    expect="3 hari kerja")  # Wed-Fri; the weekend stays off
        listing = await h.say(ADMIN, "/kalender", expect="Kalender kerja")
        assert "Libur daerah Kota Bogor" in listing.text and "08:00-11:30,12:30-15:30" in listing.text
        # A request received Monday 15:30 is due on Wednesday (Tuesday is off) at 15:00, Ramadan's end of day.
        h.clock.set(at(2026, 11, 30, 15, 30))
        await h.submit()
        head = await h.wait_msg(HEAD, "Disposisikan kepada")
        assert "Rabu, 2 Desember 2026 15.00 WIB" in head.text
        # Non-admins cannot manage the calendar.
        await h.say(REQUESTER, "/kalender", expect="hanya untuk admin")
    finally:
        await h.close()


async def test_working_hours_and_days_off_of_the_sop_file(emu, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The SOP file's weekly hours (a six-day unit: Saturday is a working day) and its regional days
    off (Monday 7 December) make the deadlines."""
    from tests.sopfiles import BOGOR_FILE

    sop = tmp_path / "enam-hari.yaml"
    sop.write_text(BOGOR_FILE.read_text("utf-8") + '\nworking_hours: "mon-fri=08:00-16:00;sat=08:00-12:00"\n'
                   "days_off:\n  - {date: 2026-12-07, note: Hari jadi daerah}\n", "utf-8")
    h = await _h(emu, db_url, at(2026, 12, 4, 15), sop_file=sop)
    try:
        await h.submit()
        head = await h.wait_msg(HEAD, "Disposisikan kepada")
        assert "Sabtu, 5 Desember 2026 12.00 WIB" in head.text  # 15:00 clamped to Saturday's end
        await head_disposes(h)
        division = await h.wait_msg(DIVISION, "Disposisikan kepada")  # Friday 15:00 + 1 working day
        assert "Sabtu, 5 Desember 2026 12.00 WIB" in division.text
        h.clock.set(at(2026, 12, 5, 9))
        await h.submit(5002)
        head2 = await h.wait_msg(HEAD, "Disposisikan kepada", after=head.message_id)
        assert "Selasa, 8 Desember 2026 09.00 WIB" in head2.text  # Monday 7 December is off
    finally:
        await h.close()


async def test_morning_digest_once_per_working_day(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    h = await _h(emu, db_url, at(2026, 11, 30, 9))
    try:
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        await h.settle()
        await h.submit()
        await h.submit(5002)
        await head_disposes(h)
        h.clock.set(at(2026, 12, 1, 7, 0))  # before the working day starts: nothing
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        await h.settle()
        before = len([m for m in h.emu.bot_messages(HEAD) if m.text and "Ringkasan harian" in m.text])
        h.clock.set(at(2026, 12, 1, 7, 31))
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        await h.settle()
        for uid in (HEAD, DIVISION):
            digests = [m.text for m in h.emu.bot_messages(uid) if m.text and "Ringkasan harian" in m.text]
            assert len(digests) == before + 1, uid
            d = digests[-1]
            assert "Selasa, 1 Desember 2026" in d and "Permohonan berjalan:</b> 2" not in d
            assert "Permohonan berjalan: 2" in d
            assert "Disposisi Kepala Diskominfo: 1" in d and "Disposisi Kepala Bidang E-Government: 1" in d
            assert "Mendekati batas waktu: 2" in d  # both due at 09:00, 1.5 working hours away
            assert "1 langkah diselesaikan" in d
        assert not [m for m in h.emu.bot_messages(TEAM) if m.text and "Ringkasan harian" in m.text]
        # Past the limit the next morning; and no digest on Saturday.
        h.clock.set(at(2026, 12, 2, 7, 45))
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        await h.settle()
        d = [m.text for m in h.emu.bot_messages(HEAD) if m.text and "Ringkasan harian" in m.text][-1]
        assert "Melewati batas waktu: 2" in d
        n = len([m for m in h.emu.bot_messages(HEAD) if m.text and "Ringkasan harian" in m.text])
        h.clock.set(at(2026, 12, 5, 9))
        await h.runtime.sweep_reminders()  # type: ignore[union-attr]
        await h.settle()
        assert len([m for m in h.emu.bot_messages(HEAD) if m.text and "Ringkasan harian" in m.text]) == n
    finally:
        await h.close()


def test_calendar_cli(tmp_path, sqlite_template) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from tests.e2e.test_officials import _cli

    db = tmp_path / "c.db"
    shutil.copy(sqlite_template, db)
    url = f"sqlite+aiosqlite:///{db}"
    r = _cli(["calendar", "off", "2099-12-31", "--note", "Libur daerah"], url, tmp_path)
    assert r.returncode == 0 and "1 day(s) saved" in r.stdout, r.stderr
    r = _cli(["calendar", "hours", "2099-02-02", "--to", "2099-02-08", "--spec",
              "08:00-12:00,12:30-15:00 | 08:00-11:30,12:30-15:30", "--note", "Ramadan"], url, tmp_path)
    assert r.returncode == 0 and "5 day(s) saved" in r.stdout, r.stderr  # Mon-Fri of that week
    listing = _cli(["calendar", "list"], url, tmp_path).stdout
    assert "2099-12-31\toff\t-\tLibur daerah" in listing
    assert "2099-02-06\thours\t08:00-11:30,12:30-15:30\tRamadan" in listing  # the Friday
    assert "2099-02-07" not in listing  # Saturday stays off
    r = _cli(["calendar", "hours", "2099-02-02", "--spec", "nonsense"], url, tmp_path)
    assert r.returncode == 1 and "hours_format" in r.stderr
    r = _cli(["calendar", "remove", "2099-02-02", "--to", "2099-02-08"], url, tmp_path)
    assert "5 day(s) removed" in r.stdout
