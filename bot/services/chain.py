"""Requests on their way through the SOP: submission, the disposition chain, the
completeness check, return and resubmission -- and who is told what. A request runs under its
own SOP version (``Ctx.sop_of``): its chain, limits, wording and items."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select, true, update
from sqlalchemy.orm.attributes import set_committed_value

from bot import keyboards as kb
from bot import texts as T
from bot.outbox import stripped
from bot.services.deadlines import Deadlines
from bot.services.reports import Reports, warm_up_report_library
from storage.db import upsert
from storage.figures import add_tallies
from storage.models import Agency, Counter, Official, Outbox, Request, RequestStep
from workflow.form import precheck
from workflow.machine import (
    Action,
    Actor,
    Command,
    Refusal,
    RequestView,
    Transition,
    decide,
)
from workflow.oversight import earlier_hops, ends_passage, hop_tally, missing_tallies, passage_tally, working_seconds
from workflow.sop import ADMIN, CLOSED_STAGES, REQUESTER, Sop, SystemStage

REFUSAL_TEXT = {
    Refusal.STALE: T.TAP_STALE,
    Refusal.CLOSED: T.TAP_CLOSED,
    Refusal.NOT_ALLOWED: T.TAP_FORBIDDEN,
    Refusal.INVALID: T.TAP_INVALID,
}

OUTCOME_TEXT = {
    Action.DISPOSE: "✅ Didisposisikan oleh {who} pada {when}.",
    Action.ASSIGN: "✅ Ditugaskan kepada {target} oleh {who} pada {when}.",
    Action.COMPLETE: "✅ Dinyatakan LENGKAP oleh {who} pada {when}.",
    Action.RETURN: "↩️ Dinyatakan TIDAK LENGKAP dan dikembalikan kepada pemohon oleh {who} pada {when}.",
    Action.RESUBMIT: "🔁 Dikirim ulang oleh pemohon pada {when}.",
    Action.CANCEL: "🚫 Dibatalkan oleh pemohon pada {when}.",
    Action.REGISTER: "✅ Akun SPLP dicatat oleh {who} pada {when}.",
    Action.SUBMIT_REPORT: "✅ {report} dikirim kepada {forwarder} oleh {who} pada {when}.",
    Action.FORWARD: "✅ Laporan diteruskan kepada pemohon oleh {who} pada {when}. Permohonan selesai.",
}

PRECHECK_MARK = {True: "✅", False: "⚠️", None: "▫️"}  # passed, failed, no automatic pre-check

# What a disposition reads and writes, built once (see bot/services/base.py).
_OPEN_STEP = (select(RequestStep).where(RequestStep.request_id == bindparam("rid"), RequestStep.done_at.is_(None))
              .order_by(RequestStep.id.desc()))
_LIVE_ROWS = select(Outbox).where(Outbox.request_id == bindparam("rid"), Outbox.live_buttons == true())
# Not out yet: no need to send them any more.
_CANCEL_UNSENT = (update(Outbox).where(Outbox.id.in_(bindparam("ids", expanding=True)), Outbox.status == "pending")
                  .values(status="cancelled", live_buttons=False, params={}).returning(Outbox.id)
                  .execution_options(synchronize_session=False))
_SENT_TEXT = (select(Outbox.params["text"].as_string())
              .where(Outbox.chat_id == bindparam("c"), Outbox.sent_message_id == bindparam("m"),
                     Outbox.method == "sendMessage").order_by(Outbox.id.desc()).limit(1))


@cache
def _request_update(columns: tuple[str, ...]) -> Any:
    """A transition's UPDATE of the request (checked against the version it was read at), built
    once for each set of columns a transition writes."""
    return (update(Request).where(Request.id == bindparam("v_id"), Request.version == bindparam("v_version"))
            .values({c: bindparam(f"set_{c}") for c in columns}).execution_options(synchronize_session=False))


def view_of(req: Request) -> RequestView:
    return RequestView(req.stage, req.version, req.requester_id, req.holder_official_id,
                       req.executor_official_id)



class Chain(Deadlines):
    # --- reading ---
    async def agency(self, agency_id: int) -> Agency | None:
        return await self.s.get(Agency, agency_id)

    async def open_step(self, request_id: int) -> RequestStep | None:
        return await self.s.scalar(_OPEN_STEP, {"rid": request_id})

    async def active_executor_ids(self, sop: Sop) -> frozenset[int]:
        return frozenset(o.id for o in await self.holders(sop.executor))

    # --- rendering ---
    def summary(self, req: Request | dict[str, Any], agency: Agency | None, *, full_contact: bool) -> str:
        g = (lambda k: req.get(k)) if isinstance(req, dict) else (lambda k: getattr(req, k))
        name, email, phone = g("contact_name") or "", g("contact_email") or "", g("contact_phone") or ""
        if not full_contact:
            name, email, phone = T.mask_name(name), T.mask_email(email), T.mask_phone(phone)
        letter_date = g("letter_date")
        if isinstance(letter_date, str):
            letter_date = date.fromisoformat(letter_date)
        bp = g("business_process") or ""
        if len(bp) > 2500:
            bp = bp[:2500] + "…"
        agency_txt = f"{agency.name} ({agency.short_name})" if agency else "—"
        return (
            f"<b>Perangkat Daerah:</b> {T.e(agency_txt)}\n"
            f"<b>Nomor surat:</b> {T.e(g('letter_number') or '—')}\n"
            f"<b>Tanggal surat:</b> {T.fmt_date(letter_date)}\n"
            f"<b>Perihal:</b> {T.e(g('subject') or '—')}\n"
            f"<b>Narahubung:</b> {T.e(name or '—')}\n"
            f"<b>Email:</b> {T.e(email or '—')}\n"
            f"<b>Ponsel:</b> {T.e(phone or '—')}\n"
            f"<b>Aplikasi:</b> {T.e(g('app_name') or '—')}\n"
            f"<b>Proses bisnis:</b> {T.e(bp or '—')}"
        )

    def data_card(self, req: Request, agency: Agency | None) -> str:
        rows = [
            ("Perangkat Daerah", f"{agency.name} ({agency.short_name})" if agency else "—"),
            ("Nama narahubung", req.contact_name), ("Email", req.contact_email),
            ("Ponsel", req.contact_phone), ("Aplikasi", req.app_name),
        ]
        card = "\n".join(f"{k}: {v}" for k, v in rows)
        return (f"<b>Kartu data untuk portal SPLP</b> (salin ke {T.e(self.settings.splp_portal_host)}, tenant "
                f"<code>{T.e(self.sop.tenant)}</code>):\n<pre>{T.e(card)}</pre>\n"
                f"<b>Proses bisnis:</b>\n<pre>{T.e(req.business_process[:1500])}</pre>")

    async def holder_text(self, req: Request, step: RequestStep, sop: Sop) -> str:
        agency = await self.agency(req.agency_id)
        st = req.stage
        if step.from_official_id:
            frm = await self.s.get(Official, step.from_official_id)
            roles = await self.roles_of(frm)
            role_names = T.role_titles(sop, roles - {ADMIN}) or "Pejabat"
            sender = f"{T.e(frm.name if frm else '—')} ({T.e(role_names)})"
        else:
            sender = f"Pemohon — {T.e(agency.short_name if agency else '—')}"
        lines = [
            f"📨 <b>Permohonan Akun SPLP {T.e(req.number)}</b>",
            f"<b>Tahap:</b> {T.e(sop.stage_label(st))}",
            f"<b>Dari:</b> {sender}, {T.fmt_dt(step.received_at, self.tz)}",
        ]
        if step.instruction:
            lines.append(f"<b>Instruksi:</b> {T.e(step.instruction)}")
        if step.note:
            lines.append(f"<b>Catatan:</b> {T.e(step.note)}")
        lines.append(f"<b>Batas waktu:</b> {T.fmt_dt(step.due_at, self.tz)} ({sop.limit_label(st)})")
        if req.cycle > 1:
            lines.append(f"<i>Pengajuan ulang ke-{req.cycle - 1} setelah perbaikan.</i>")
        full = st in (SystemStage.COMPLETENESS, SystemStage.REGISTRATION, SystemStage.REPORT)
        lines += ["", self.summary(req, agency, full_contact=full)]
        report = sop.report_name
        if st == SystemStage.COMPLETENESS:
            checks = precheck({k: getattr(req, k) for k in ("contact_name", "contact_email", "contact_phone",
                                                             "business_process", "scan")}, sop.items)
            lines += ["", "<b>Pemeriksaan kelengkapan (otomatis):</b>"]
            lines += [f"{PRECHECK_MARK[checks[i.code]]} {T.e(i.label)}"
                      + (" (periksa sendiri)" if checks[i.code] is None else "") for i in sop.items]
            lines.append("\nPeriksa surat terlampir, lalu tentukan: <b>Lengkap</b> atau <b>Tidak lengkap</b>.")
        elif st == sop.assigner:
            lines.append(f"\nPilih <b>{T.e(sop.role_title(sop.executor))}</b> yang ditugaskan:")
        elif st in sop.chain:
            nxt = sop.holder(sop.next_stage(st))
            lines.append(f"\nDisposisikan kepada <b>{T.e(sop.role_title(nxt))}</b> dengan instruksi:")
        elif st == SystemStage.REGISTRATION:
            lines += ["", self.data_card(req, agency)]
            n = sop.registration_step.number
            if self.settings.splp_mode == "wso2":
                lines.append("\nDaftarkan akun secara otomatis melalui API SPLP, atau catat bila sudah didaftarkan.")
            else:
                lines.append(f"\nDaftarkan akun di {T.e(self.settings.splp_portal_url)} untuk unit kerja pemohon, "
                             f"lalu catat hasilnya di sini (langkah {n}).")
        elif st == SystemStage.REPORT:
            lines.append(f"\nPratinjau {T.e(report.lower())} terlampir. Tambahkan catatan bila perlu, lalu kirim "
                         f"kepada {T.e(sop.role_title(sop.forwarder))} (langkah {sop.report_step.number}).")
        elif st == SystemStage.FORWARD:
            lines.append(f"\n{T.e(T.sentence(report))} terlampir. Teruskan kepada pemohon untuk menyelesaikan "
                         f"permohonan (langkah {sop.forward_step.number}).")
        return "\n".join(lines)

    async def holder_keyboard(self, req: Request, sop: Sop) -> dict[str, Any] | None:
        st, rid, v = req.stage, req.id, req.version
        if st == sop.assigner:
            execs = await self.holders(sop.executor)
            return kb.inline(*kb.columns([kb.btn(f"👤 {o.name}", self.cb("ex", rid, v, o.id)) for o in execs]))
        if st in sop.chain:
            return kb.inline(*[[kb.btn(f"➡️ {ins}", self.cb("di", rid, v, i, 0))]
                               for i, ins in enumerate(sop.instructions)])
        if st == SystemStage.COMPLETENESS:
            return kb.inline([kb.btn("✅ Lengkap", self.cb("ok", rid, v)),
                              kb.btn("❌ Tidak lengkap", self.cb("no", rid, v, 0))])
        if st == SystemStage.REGISTRATION:
            rows = [[kb.btn("📝 Catat akun yang didaftarkan", self.cb("ra", rid, v))]]
            if self.settings.splp_mode == "wso2":
                rows.insert(0, [kb.btn("⚙️ Daftarkan otomatis di SPLP", self.cb("rw", rid, v))])
            return kb.inline(*rows)
        if st == SystemStage.REPORT:
            return kb.inline([kb.btn("✍️ Tambah catatan", self.cb("rn", rid, v))],
                             [kb.btn(f"📤 Kirim ke {sop.role_title(sop.forwarder)}", self.cb("rk", rid, v))])
        if st == SystemStage.FORWARD:
            return kb.inline([kb.btn("📨 Teruskan kepada pemohon", self.cb("rf", rid, v))])
        return None

    # --- notifying ---
    async def notify_holders(self, req: Request, step: RequestStep, sop: Sop) -> None:
        role = req.holder_role
        if role is None or role == REQUESTER:
            return
        if req.holder_official_id:
            off = await self.s.get(Official, req.holder_official_id)
            targets = [off] if off and off.active else []
        else:
            targets = await self.holders(role)
        if not targets:
            await self.warn_admins(f"⚠️ Permohonan {T.e(req.number)} menunggu {T.e(sop.role_title(role))}, tetapi "
                                   "tidak ada pejabat aktif dengan peran tersebut. Mohon tambahkan melalui /undang.")
            return
        text = await self.holder_text(req, step, sop)
        markup = await self.holder_keyboard(req, sop)
        report = None
        if req.stage in (SystemStage.REPORT, SystemStage.FORWARD):
            # The preview while the executor writes it; the report as sent, its step done, for the forwarder.
            report = await Reports(self.scope, self.env).build_report(req, sop)
        for off in targets:
            if report is not None and report.stored_file_id:
                self.out.send_stored(off.telegram_id, report.stored_file_id, f"{report.number}.pdf",
                                     caption=f"{T.e(T.sentence(sop.report_name))} {T.e(req.number)}")
            else:
                self.out.send_file(off.telegram_id, req.scan["kind"], req.scan["file_id"],
                                   caption=f"Surat permohonan {T.e(req.number)}")
            self.out.send(off.telegram_id, text, markup, request_id=req.id, live=True)

    async def warn_admins(self, text: str) -> None:
        for adm in await self.holders(ADMIN):
            self.out.send(adm.telegram_id, text)

    def tell_requester(self, req: Request, text: str, markup: dict[str, Any] | None = None) -> None:
        self.out.send(req.requester_id, text, markup, request_id=req.id, live=markup is not None)

    async def close_live_buttons(self, req: Request, outcome: str, tapped: tuple[int, int] | None) -> None:
        """Edit every message that still carries this request's buttons to show the outcome."""
        rows = (await self.s.scalars(_LIVE_ROWS, {"rid": req.id})).all()
        # The tapped message's text, read before its row is stripped below (usually it is one of
        # the rows: the card the official tapped).
        tapped_text: str | None = None
        if tapped:
            own = [r for r in rows if r.method == "sendMessage" and r.status == "sent"
                   and (r.chat_id, r.sent_message_id) == tapped]
            tapped_text = own[-1].params.get("text") if own else await self.base_text(*tapped)
        # Not out yet: no need to send them any more. Conditional, because the sender may be
        # recording one as sent right now (it then strips that message's buttons itself).
        cancelled = set((await self.s.scalars(_CANCEL_UNSENT, {"ids": [r.id for r in rows]})).all()) if rows else set()
        for row in rows:
            if row.id in cancelled:
                continue
            text = row.params.get("text", "")
            # The buttons close: the text was kept only for this edit (personal data, see README).
            row.live_buttons, row.params = False, stripped(row.params)
            if row.status != "sent":  # read as pending, not cancelled above: the sender took it since
                await self.s.refresh(row, ["status", "sent_message_id"])
            if row.status != "sent" or row.sent_message_id is None:
                continue
            if tapped and (row.chat_id, row.sent_message_id) == tapped:
                continue
            self.out.edit(row.chat_id, f"{text}\n\n{outcome}", None, message_id=row.sent_message_id)
        if tapped:
            base = tapped_text or await self.base_text(*tapped)
            self.out.edit(tapped[0], f"{base}\n\n{outcome}" if base else outcome, None, message_id=tapped[1])

    async def base_text(self, chat_id: int, message_id: int) -> str | None:
        """The text (HTML) a message of the bot was sent with. A message tapped before its delivery
        was recorded (the tap can be that quick) is not edited yet: its text is the tap's."""
        sent = await self.s.scalar(_SENT_TEXT, {"c": chat_id, "m": message_id})
        if sent is not None:
            return sent
        q = self.scope.update.callback_query if self.scope.update is not None else None
        m = q.message if q is not None else None
        if m is not None and getattr(m, "text", None) and (m.chat.id, m.message_id) == (chat_id, message_id):
            return m.text_html
        return None

    async def record_working_time(self, req: Request, hop: RequestStep, to_stage: str, sop: Sop,
                                  missing: tuple[str, ...] | list[str] = ()) -> None:
        """Store the closing hop's working time, its SOP step's passage's when the hop ends it, and
        the request's (letter to Selesai) when it finishes, and add the hop and the passage to their
        day's tallies: the oversight figures aggregate these in SQL."""
        cal = self.env.calendar
        hop.work_seconds = working_seconds(cal, hop.received_at, self.now)
        tallies = missing_tallies(missing, self.now, cal)  # a return: the items found missing
        if hop.done_by_official_id is not None and hop.holder_role:
            tallies.append(hop_tally(hop.done_by_official_id, hop.holder_role, self.now, hop.due_at, hop.work_seconds,
                                     cal))
        if to_stage == SystemStage.DONE:  # the hops are contiguous: their sum is the whole
            before_hop = await self.s.scalar(select(func.coalesce(func.sum(RequestStep.work_seconds), 0)).where(
                RequestStep.request_id == req.id, RequestStep.id != hop.id))
            req.work_seconds = (before_hop or 0) + hop.work_seconds
        if ends_passage(sop, hop.stage, to_stage):
            earlier = earlier_hops(sop, hop.stage)
            before = 0
            if earlier:  # the passage's first hops (a disposition step of several hops)
                before = await self.s.scalar(select(func.coalesce(func.sum(RequestStep.work_seconds), 0)).where(
                    RequestStep.request_id == hop.request_id, RequestStep.cycle == hop.cycle,
                    RequestStep.stage.in_(list(earlier)))) or 0
            hop.step_seconds = hop.work_seconds + before
            tallies.append(passage_tally(sop.steps[hop.step_code], self.now, hop.due_at, hop.step_seconds, hop.outcome,
                                         cal))
        await add_tallies(self.s, tallies)

    # --- writing ---
    async def next_number(self) -> str:
        year = self.now.astimezone(self.tz).year
        ins = upsert(self.env_dialect)(Counter).values(name=f"request:{year}", value=1)
        ins = ins.on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        seq = (await self.s.execute(ins.returning(Counter.value))).scalar_one()
        return f"SPLP-{year}-{seq:06d}"

    @property
    def env_dialect(self) -> str:
        return self.s.bind.dialect.name

    def open_step_row(self, req: Request, stage: str, sop: Sop, *, due: datetime | None, from_official: int | None,
                      instruction: str | None = None, note: str | None = None) -> RequestStep:
        row = RequestStep(request_id=req.id, cycle=req.cycle, stage=str(stage),
                          step_code=sop.stages[stage].step, holder_role=req.holder_role,
                          holder_official_id=req.holder_official_id, from_official_id=from_official,
                          instruction=instruction, note=note, received_at=self.now, due_at=due)
        self.s.add(row)
        return row

    async def create_request(self, user_id: int, data: dict[str, Any], draft_created: datetime) -> Request:
        """A new request, under the SOP in force (its version is kept with the request)."""
        sop = self.sop
        first = sop.first_stage
        req = Request(
            number=await self.next_number(), requester_id=user_id, agency_id=int(data["agency"]),
            letter_number=data["letter_number"], letter_date=date.fromisoformat(data["letter_date"]),
            subject=data["subject"], contact_name=data["contact_name"], contact_email=data["contact_email"],
            contact_phone=data["contact_phone"], app_name=data["app_name"],
            business_process=data["business_process"], scan=data["scan"], stage=first,
            version=1, cycle=1, holder_role=sop.holder(first), holder_official_id=None,
            executor_official_id=None, created_at=draft_created, submitted_at=self.now, updated_at=self.now,
            sop_version=sop.version,
        )
        self.s.add(req)
        await self.s.flush()
        # Step 1 (the requester's letter) is done now; the chain's first hop starts.
        letter = working_seconds(self.env.calendar, draft_created, self.now)
        self.s.add(RequestStep(request_id=req.id, cycle=1, stage=str(SystemStage.RETURNED),
                               step_code=sop.request_step.code, holder_role=REQUESTER, received_at=draft_created,
                               due_at=None, done_at=self.now, outcome="submitted", work_seconds=letter,
                               step_seconds=letter))
        await add_tallies(self.s, [passage_tally(sop.request_step, self.now, None, letter, "submitted",
                                                 self.env.calendar)])
        step = self.open_step_row(req, first, sop, due=self.due_for(sop, first, self.now), from_official=None)
        await self.s.flush()
        self.plan_for(step, sop)
        self.audit("submit", actor_tg=user_id, request_id=req.id, from_state=None, to_state=req.stage)
        await self.notify_holders(req, step, sop)
        return req

    async def apply(self, req: Request, cmd: Command, actor: Actor, *, instruction: str | None = None,
                    note: str | None = None, tapped: tuple[int, int] | None = None,
                    new_data: dict[str, Any] | None = None) -> Transition | Refusal:
        """Check and carry out one transition, atomically with an optimistic version check."""
        sop = await self.sop_of(req)
        execs = await self.active_executor_ids(sop)
        t = decide(sop, view_of(req), cmd, actor, active_executor_ids=execs,
                   resubmit_route=self.settings.resubmit_route)
        if isinstance(t, Refusal):
            self.audit("refused", actor_tg=actor.telegram_id, official_id=actor.official_id, request_id=req.id,
                       from_state=req.stage, action_tried=cmd.action.value, reason=t.value)
            return t
        values: dict[str, Any] = dict(
            stage=str(t.to_stage), version=req.version + 1, updated_at=self.now,
            holder_role=t.holder_role,
            holder_official_id=t.holder_official_id, executor_official_id=t.executor_official_id,
        )
        if t.new_cycle:
            values["cycle"] = req.cycle + 1
        if t.action == Action.RETURN:
            values["return_info"] = dict(t.notes)
        if t.to_stage in CLOSED_STAGES:
            values["closed_at"] = self.now
        if new_data:
            values.update(new_data)
        params = {"v_id": req.id, "v_version": req.version, **{f"set_{k}": v for k, v in values.items()}}
        res = await self.s.execute(_request_update(tuple(values)), params)
        if res.rowcount != 1:
            return Refusal.STALE  # someone else acted first
        # The row is what was read plus ``values`` (the version matched): no need to read it again.
        for key, value in values.items():  # JSON values as they read back (tuples become lists)
            set_committed_value(req, key, json.loads(json.dumps(value)) if isinstance(value, (dict, list)) else value)

        prev = await self.open_step(req.id)
        inherited_due = prev.due_at if prev else None
        if prev is not None:
            prev.done_at, prev.done_by_official_id, prev.outcome = self.now, actor.official_id, t.action.value
            await self.record_working_time(req, prev, t.to_stage, sop,
                                           missing=t.notes.get("missing", ()))  # type: ignore[arg-type]
            await self.cancel_for(prev.id)
        step: RequestStep | None = None
        if t.to_stage not in CLOSED_STAGES:
            due = self.due_for(sop, t.to_stage, self.now) if t.opens_new_step else inherited_due
            note_txt = note
            if t.action == Action.RETURN:
                note_txt = t.notes.get("reason")  # type: ignore[assignment]
            step = self.open_step_row(req, t.to_stage, sop, due=due,
                                      from_official=actor.official_id if actor.official_id else None,
                                      instruction=instruction, note=note_txt)
        await self.s.flush()
        if step is not None:
            self.plan_for(step, sop)
        self.audit(t.action.value, actor_tg=actor.telegram_id, official_id=actor.official_id, request_id=req.id,
                   from_state=str(t.from_stage), to_state=str(t.to_stage),
                   **({"instruction": instruction} if instruction else {}),
                   **({"missing": t.notes["missing"]} if t.action == Action.RETURN else {}))

        who = (await self.official(actor.telegram_id)).name if actor.official_id else "pemohon"
        target = await self.official_name(t.executor_official_id) if t.action == Action.ASSIGN else ""
        outcome = OUTCOME_TEXT[t.action].format(who=T.e(who), when=T.fmt_dt(self.now, self.tz), target=T.e(target),
                                                report=T.e(T.sentence(sop.report_name)),
                                                forwarder=T.e(sop.role_title(sop.forwarder)))
        await self.close_live_buttons(req, outcome, tapped)
        if step is not None:
            await self.notify_holders(req, step, sop)
        await self.tell_requester_of(req, t, step, sop)
        if t.to_stage == SystemStage.REPORT:
            warm_up_report_library(self.scope)
        return t

    async def tell_requester_of(self, req: Request, t: Transition, step: RequestStep | None, sop: Sop) -> None:
        if t.action == Action.RETURN:
            missing = [T.e(sop.item_label(i)) for i in t.notes["missing"]]  # type: ignore[union-attr]
            text = (f"↩️ Permohonan <b>{T.e(req.number)}</b> dinyatakan <b>belum lengkap</b> oleh petugas "
                    f"dan dikembalikan kepada Anda.\n\n<b>Yang perlu dilengkapi/diperbaiki:</b>\n"
                    + "\n".join(f"• {m}" for m in missing)
                    + f"\n\n<b>Alasan:</b> {T.e(t.notes['reason'])}\n\n"
                    "Silakan perbaiki data permohonan, lalu kirim ulang.")
            self.tell_requester(req, text, kb.inline(
                [kb.btn("✏️ Perbaiki dan kirim ulang", self.cb("rs", req.id, req.version))],
                [kb.btn("🚫 Batalkan permohonan", self.cb("rc", req.id, req.version))]))
            return
        if t.action == Action.CANCEL:
            self.tell_requester(req, f"Permohonan <b>{T.e(req.number)}</b> telah dibatalkan.")
            return
        if t.action == Action.FORWARD:
            await Reports(self.scope, self.env).deliver_report(req, sop)
            return
        if step is None:
            return
        due = f"\nBatas waktu tahap ini: {T.fmt_dt(step.due_at, self.tz)}." if step.due_at else ""
        if t.action == Action.RESUBMIT:
            head = f"🔁 Permohonan <b>{T.e(req.number)}</b> telah dikirim ulang dan diterima."
        else:
            head = f"ℹ️ Perkembangan permohonan <b>{T.e(req.number)}</b>:"
        self.tell_requester(req, f"{head}\nKini pada <b>{T.e(sop.stage_label(req.stage))}</b> "
                                 f"sejak {T.fmt_dt(self.now, self.tz)}.{due}\n\nGunakan /status untuk melihat riwayatnya.")
