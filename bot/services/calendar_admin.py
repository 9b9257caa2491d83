"""The working calendar: the SOP file's weekly hours and days off, the national holidays, and the
admin-managed part (extra days off and dated special hours, in the database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot import texts as T
from bot.services.base import Ctx
from bot.settings import Settings
from workflow.sop import Sop
from storage.db import upsert
from storage.models import CalendarDay, Counter
from workflow.calendar import STANDARD_DAY, WeeklyHours, WorkingCalendar, indonesian_holidays, parse_intervals
from workflow.calendar_input import days, parse_range, parse_special_hours
from workflow.form import Invalid

VERSION_KEY = "calendar"


def weekly_from(sop: Sop) -> WeeklyHours:
    """The SOP file's ``working_hours``, else the default (Perpres 21/2023's 37.5 hours)."""
    return WeeklyHours.parse(sop.doc.working_hours) if sop.doc.working_hours else WeeklyHours.default()


def days_off_from(sop: Sop) -> dict[date, str]:
    """The SOP file's regional days off (``days_off``)."""
    return {d.date: d.note for d in sop.doc.days_off}


async def calendar_version(s: AsyncSession) -> int:
    return (await s.scalar(select(Counter.value).where(Counter.name == VERSION_KEY))) or 0


def calendar_years(today: date) -> range:
    """The years a running bot's calendar covers: last year to two years ahead."""
    return range(today.year - 1, today.year + 3)


async def load_calendar(s: AsyncSession, settings: Settings, sop: Sop, today: date,
                        national: Mapping[date, str] | None = None) -> WorkingCalendar:
    """The working calendar: the SOP's hours and days off, the national holidays (``national``,
    else computed here) and the days an admin manages in the database."""
    rows = (await s.scalars(select(CalendarDay))).all()
    off = days_off_from(sop) | {r.day: r.note or "Libur" for r in rows if r.kind == "off"}
    hours = {r.day: parse_intervals(r.hours or "") for r in rows if r.kind == "hours"}
    return WorkingCalendar(tz=settings.tz, weekly=weekly_from(sop),
                           holidays=dict(national) if national is not None else indonesian_holidays(
                               calendar_years(today)),
                           extra_days_off=off, special_hours=hours, standard_day=STANDARD_DAY)


class CalendarAdmin(Ctx):
    async def _bump(self) -> None:
        ins = upsert(self.s.bind.dialect.name)(Counter).values(name=VERSION_KEY, value=1)
        await self.s.execute(ins.on_conflict_do_update(index_elements=[Counter.name],
                                                       set_={"value": Counter.value + 1}))
        reload = self.env.reload_calendar
        if reload is not None:
            self.scope.after_commit.append(reload)

    async def add_days_off(self, start: date, end: date, note: str, *, by: int | None) -> int:
        n = 0
        for d in days(start, end):
            await self.s.merge(CalendarDay(day=d, kind="off", hours=None, note=note[:200] or "Libur",
                                           created_at=self.now))
            n += 1
        await self._bump()
        self.audit("calendar_day_off", official_id=by, start=start.isoformat(), end=end.isoformat())
        return n

    async def add_special_hours(self, start: date, end: date, spec: str, note: str, *, by: int | None) -> int:
        sh = parse_special_hours(spec)
        n = 0
        for d in days(start, end):
            hours = sh.for_day(d)
            if hours is None:
                continue
            await self.s.merge(CalendarDay(day=d, kind="hours", hours=",".join(str(i) for i in hours),
                                           note=note[:200] or None, created_at=self.now))
            n += 1
        await self._bump()
        self.audit("calendar_hours", official_id=by, start=start.isoformat(), end=end.isoformat())
        return n

    async def remove(self, start: date, end: date, *, by: int | None) -> int:
        res = await self.s.execute(delete(CalendarDay).where(CalendarDay.day >= start, CalendarDay.day <= end))
        await self._bump()
        self.audit("calendar_removed", official_id=by, start=start.isoformat(), end=end.isoformat())
        return res.rowcount or 0

    async def upcoming(self, today: date, limit: int = 40) -> list[CalendarDay]:
        return list((await self.s.scalars(select(CalendarDay).where(CalendarDay.day >= today)
                                          .order_by(CalendarDay.day).limit(limit))).all())

    # --- the admin's dialogue (/kalender) ---
    async def show(self, user_id: int) -> None:
        today = self.now.astimezone(self.tz).date()
        rows = await self.upcoming(today)
        lines = ["<b>Kalender kerja</b> (di luar libur nasional dan cuti bersama, yang dimuat otomatis)"]
        if not rows:
            lines.append("Belum ada hari libur tambahan atau jam kerja khusus yang akan datang.")
        for r in rows:
            what = "libur" if r.kind == "off" else f"jam khusus {r.hours}"
            lines.append(f"• {T.DAYS[r.day.weekday()]}, {T.fmt_date(r.day)}: {T.e(what)}"
                         + (f" — {T.e(r.note)}" if r.note else ""))
        self.out.send(user_id, "\n".join(lines), kb.inline(
            [kb.btn("➕ Hari libur tambahan", self.cb("ca", "off"))],
            [kb.btn("➕ Jam kerja khusus", self.cb("ca", "hours"))],
            [kb.btn("🗑 Hapus tanggal", self.cb("ca", "rm"))]))

    async def ask(self, user_id: int, what: str) -> None:
        prompts = {
            "off": "Ketik tanggal (atau rentang) hari libur tambahan dan keterangannya, contoh:\n"
                   "<code>31-12-2026 Libur daerah</code>\n<code>2027-01-02 s.d. 2027-01-03 Cuti bersama daerah</code>",
            "hours": "Ketik rentang tanggal dan jam kerja khusus (Senin–Kamis | Jumat), contoh Ramadan:\n"
                     "<code>2027-02-08 s.d. 2027-03-09 08:00-12:00,12:30-15:00 | 08:00-11:30,12:30-15:30</code>",
            "rm": "Ketik tanggal (atau rentang) yang akan dihapus dari kalender, contoh: <code>31-12-2026</code>",
        }
        await self.set_awaiting(user_id, f"cal_{what}")
        self.out.send(user_id, prompts[what] + "\n\nKetik /batal untuk membatalkan.")

    async def typed(self, user_id: int, what: str, text: str, official_id: int | None) -> None:
        try:
            start, end, rest = parse_range(text)
            if what == "off":
                n = await self.add_days_off(start, end, rest, by=official_id)
                msg = f"✅ {n} hari libur tambahan disimpan."
            elif what == "hours":
                if not rest:
                    raise Invalid("hours_format")
                n = await self.add_special_hours(start, end, rest, "", by=official_id)
                msg = f"✅ Jam kerja khusus disimpan untuk {n} hari kerja."
            else:
                n = await self.remove(start, end, by=official_id)
                msg = f"✅ {n} tanggal dihapus dari kalender."
        except Invalid as err:
            self.out.send(user_id, "⚠️ " + T.ERRORS.get(err.code, T.ERRORS["date_format"]).format(**err.params))
            return
        await self.clear_awaiting(user_id)
        self.out.send(user_id, msg + " Batas waktu baru dihitung dengan kalender ini; batas waktu yang sudah "
                                     "berjalan tidak berubah.")
