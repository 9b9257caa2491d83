"""/rekap: the oversight of the SOP for its ``oversight`` roles (the office's heads) and the admin
-- the period picked by buttons or typed, the actions the assessors type for the monitoring form,
and the reports ordered as durable jobs (produced after the tap's transaction by
``bot/services/oversight_jobs.py``, never twice). Read against the SOP in force."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert

from bot import keyboards as kb
from bot import texts as T
from bot.monev_text import limit_text, period_title, step_label
from bot.services.base import Ctx
from bot.services.officials import oversight_roles
from storage.models import OversightAction, OversightJob
from workflow.form import Invalid
from workflow.oversight import MAX_PERIOD_DAYS, Period, PeriodKind, parse_period, period_of
from workflow.sop import Sop

KINDS = ("summary", "pdf", "xlsx", "csv")
MAX_ACTION = 500
PERIOD_BUTTONS = ((PeriodKind.THIS_MONTH, "Bulan ini"), (PeriodKind.LAST_MONTH, "Bulan lalu"),
                  (PeriodKind.THIS_QUARTER, "Triwulan ini"), (PeriodKind.THIS_YEAR, "Tahun ini"))
PREPARING = "⏳ Sedang disiapkan…"


def readers(sop: Sop) -> frozenset[str]:
    """Who may see the oversight: the SOP's ``oversight`` roles and the admin."""
    return oversight_roles(sop)


def assessors(sop: Sop) -> frozenset[str]:
    """Who sees the officials' figures and types the actions: the SOP's ``oversight`` roles."""
    return frozenset(sop.oversight)


def forbidden(sop: Sop) -> str:
    titles = [sop.role_title(r) for r in sorted(readers(sop), key=sop.official_roles().index)]
    listed = titles[0] if len(titles) == 1 else (
        f"{titles[0]} dan {titles[1]}" if len(titles) == 2 else f"{', '.join(titles[:-1])}, dan {titles[-1]}")
    return f"Rekapitulasi hanya untuk {T.e(listed)}."


def encode_period(p: Period) -> tuple[str, str]:
    return f"{p.start:%Y%m%d}", f"{p.end:%Y%m%d}"


def decode_period(start: str, end: str) -> Period:
    """A period from a button (signed, but checked all the same)."""
    a, b = date(int(start[:4]), int(start[4:6]), int(start[6:])), date(int(end[:4]), int(end[4:6]), int(end[6:]))
    if b < a or (b - a).days >= MAX_PERIOD_DAYS:
        raise ValueError("bad period")
    return Period(a, b)


class Oversight(Ctx):
    async def roles(self, user_id: int) -> frozenset[str]:
        return (await self.actor(user_id)).roles & readers(self.sop)

    async def refuse(self, user_id: int, what: str) -> None:
        self.audit("refused", actor_tg=user_id, action_tried=what)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    async def menu(self, user_id: int) -> bool:
        if not await self.roles(user_id):
            await self.refuse(user_id, "rekap")
            self.out.send(user_id, forbidden(self.sop))
            return False
        self.out.send(user_id, "📊 <b>Rekapitulasi pelaksanaan SOP</b>\nPilih periode (tanggal dalam WIB):",
                      self.period_keyboard())
        return True

    def period_keyboard(self) -> dict:
        buttons = [kb.btn(label, self.cb("op", kind.value)) for kind, label in PERIOD_BUTTONS]
        return kb.inline(*kb.columns(buttons), [kb.btn("✍️ Ketik rentang tanggal", self.cb("oq"))])

    async def order(self, user_id: int, kind: str, period: Period) -> int | None:
        """Queue a report for ``user_id`` (its job runs after this transaction commits)."""
        if kind not in KINDS:
            raise ValueError(kind)
        roles = await self.roles(user_id)
        if not roles:
            await self.refuse(user_id, f"rekap_{kind}")
            return None
        job = (await self.s.execute(insert(OversightJob).values(
            kind=kind, chat_id=user_id, period_start=period.start, period_end=period.end, status="pending",
            attempts=0, created_at=self.now).returning(OversightJob.id))).scalar_one()
        off = await self.official(user_id)
        self.audit("monev_request", actor_tg=user_id, official_id=off.id if off else None, kind=kind,
                   start=period.start.isoformat(), end=period.end.isoformat())
        return job

    async def pick(self, user_id: int, kind: str) -> int | None:
        return await self.order(user_id, "summary", period_of(PeriodKind(kind), self.today))

    async def ask_range(self, user_id: int) -> bool:
        if not await self.roles(user_id):
            await self.refuse(user_id, "rekap")
            return False
        await self.set_awaiting(user_id, "rekap_range")
        self.out.send(user_id, "Ketik rentang tanggal, misalnya <code>01-10-2026 s.d. 31-12-2026</code> "
                               f"(paling lama {MAX_PERIOD_DAYS // 366} tahun). Ketik /batal untuk membatalkan.")
        return True

    async def range_typed(self, user_id: int, text: str) -> int | None:
        try:
            period = parse_period(text, self.today)
        except Invalid as e:
            msg = T.ERRORS.get(e.code, T.ERRORS["date_format"]).format(**e.params)
            if e.code == "date_future":
                msg = "Tanggal awal tidak boleh melewati hari ini."
            self.out.send(user_id, f"⚠️ {msg} Contoh: <code>01-10-2026 s.d. 31-12-2026</code>.")
            return None
        await self.clear_awaiting(user_id)
        job = await self.order(user_id, "summary", period)
        self.out.send(user_id, f"{PREPARING} Rekapitulasi {T.e(period_title(period))}." if job else forbidden(self.sop))
        return job

    # --- the action to take, per step (the monitoring form), typed by the Head
    async def ask_action(self, user_id: int, period: Period, code: str) -> str | None:
        if not (await self.roles(user_id)) & assessors(self.sop):
            await self.refuse(user_id, "monev_action")
            return T.TAP_FORBIDDEN
        step = self.sop.steps.get(code)
        if step is None:
            return T.TAP_INVALID
        current = await self.s.get(OversightAction, (period.start, period.end, code))
        await self.set_awaiting(user_id, "rekap_action", start=period.start.isoformat(), end=period.end.isoformat(),
                                code=code)
        now_txt = f"\nTercatat saat ini: «{T.e(current.text)}»" if current else ""
        self.out.send(user_id, (f"✍️ <b>Tindakan yang harus diambil</b> — langkah {code} "
                                f"({T.e(step_label(self.sop, step))}, batas {limit_text(step)}), periode "
                                f"{T.e(period_title(period))}.{now_txt}\n\nKetik tindakannya (maksimal {MAX_ACTION} "
                                "karakter), atau <code>-</code> untuk menghapusnya. /batal untuk membatalkan."))
        return None

    async def action_typed(self, user_id: int, text: str, ctx: dict) -> None:
        if not (await self.roles(user_id)) & assessors(self.sop):
            await self.clear_awaiting(user_id)
            return
        text = " ".join(text.split())
        if len(text) > MAX_ACTION:
            self.out.send(user_id, "⚠️ " + T.ERRORS["note_too_long"].format(max=MAX_ACTION))
            return
        if not text:
            self.out.send(user_id, "⚠️ " + T.ERRORS["empty"])
            return
        period = Period(date.fromisoformat(ctx["start"]), date.fromisoformat(ctx["end"]))
        code = ctx["code"]
        await self.clear_awaiting(user_id)
        row = await self.s.get(OversightAction, (period.start, period.end, code))
        off = await self.official(user_id)
        if text == "-":
            if row is not None:
                await self.s.delete(row)
            done = f"Tindakan langkah {code} dihapus."
        else:
            if row is None:
                self.s.add(OversightAction(period_start=period.start, period_end=period.end, step_code=code, text=text,
                                           official_id=off.id if off else None, updated_at=self.now))
            else:
                row.text, row.official_id, row.updated_at = text, off.id if off else None, self.now
            done = f"✅ Tindakan langkah {code} disimpan: «{T.e(text)}»."
        self.audit("monev_action", actor_tg=user_id, official_id=off.id if off else None, step=code,
                   start=period.start.isoformat(), end=period.end.isoformat())
        start, end = encode_period(period)
        self.out.send(user_id, done + "\nTindakan dicantumkan pada kolom «Tindakan yang harus diambil» di PDF.",
                      kb.inline([kb.btn("📄 Buat PDF", self.cb("of", "pdf", start, end))]))


__all__ = ["KINDS", "Oversight", "assessors", "decode_period", "encode_period", "forbidden", "readers"]
