"""The requester's form (SOP step 1): question by question, saved after every answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from bot import keyboards as kb
from bot import texts as T
from bot.services.chain import REFUSAL_TEXT, Chain
from storage.models import Agency, Draft, Request, StoredFile
from storage.models import Session as ChatSession
from workflow.form import (
    DEFAULT_SUBJECT,
    FORM_FIELDS,
    TEXT_PARSERS,
    AgencyRef,
    Field,
    Invalid,
    check_content,
    check_scan,
    find_agencies,
    next_missing,
    parse_letter_date,
    parse_contact_number,
)
from workflow.machine import Action, Command, Refusal
from workflow.sop import SystemStage

AGENCY_PAGE = 8
_DRAFT = Draft.__table__
_DRAFT_COLUMNS = (_DRAFT.c.id, _DRAFT.c.user_id, _DRAFT.c.data, _DRAFT.c.request_id, _DRAFT.c.created_at,
                  _DRAFT.c.updated_at)
_DRAFT_OF = select(*_DRAFT_COLUMNS).where(_DRAFT.c.user_id == bindparam("u"))
# What the bot waits for from the user and their draft, in one statement: a form answer needs both
# (one round trip fewer on PostgreSQL, on every answer).
_CHAT = ChatSession.__table__
_CHAT_AND_DRAFT = (select(_CHAT.c.awaiting, _CHAT.c.context, *_DRAFT_COLUMNS)
                   .select_from(_CHAT.outerjoin(_DRAFT, _DRAFT.c.user_id == _CHAT.c.user_id))
                   .where(_CHAT.c.user_id == bindparam("u")))
_NEW_DRAFT = insert(_DRAFT).returning(_DRAFT.c.id)
_WRITE_DRAFT = (update(_DRAFT).where(_DRAFT.c.id == bindparam("i"))
                .values(data=bindparam("data"), updated_at=bindparam("at")))
_DROP_DRAFT = delete(_DRAFT).where(_DRAFT.c.user_id == bindparam("u"))
_ACTIVE_AGENCIES = (select(Agency.id, Agency.code, Agency.name, Agency.short_name)
                    .where(Agency.active.is_(True)).order_by(Agency.id))


@dataclass
class DraftRow:
    """A requester's form in progress (table ``draft``), read and written with Core statements: it
    is read and saved at every answer, and as an ORM object each cost the unit of work's bookkeeping."""

    id: int
    user_id: int
    data: dict[str, Any]
    request_id: int | None
    created_at: datetime
    updated_at: datetime


def error_text(err: Invalid) -> str:
    return "⚠️ " + T.ERRORS.get(err.code, T.ERRORS["empty"]).format(**err.params)


class Form(Chain):
    # The user's draft is read at most once an update (with their chat state, when that is read
    # first) and kept in the update's cache, which every change of the draft below keeps true.
    chat_read = _CHAT_AND_DRAFT

    def read_with_chat(self, user_id: int, row: Any) -> None:
        self.scope.cache[f"draft:{user_id}"] = DraftRow(*row[2:]) if row.id is not None else None

    async def draft(self, user_id: int) -> DraftRow | None:
        key = f"draft:{user_id}"
        if key not in self.scope.cache:
            row = (await self.core(_DRAFT_OF, {"u": user_id})).first()
            self.scope.cache[key] = DraftRow(*row) if row is not None else None
        return self.scope.cache[key]

    async def new_draft(self, user_id: int, data: dict[str, Any], request_id: int | None = None) -> DraftRow:
        values = dict(user_id=user_id, data=data, request_id=request_id, created_at=self.now, updated_at=self.now)
        new_id = (await self.core(_NEW_DRAFT, values)).scalar_one()
        self.scope.cache[f"draft:{user_id}"] = d = DraftRow(id=new_id, **values)
        return d

    async def write_draft(self, d: DraftRow) -> None:
        d.updated_at = self.now
        await self.core(_WRITE_DRAFT, {"i": d.id, "data": d.data, "at": d.updated_at})
        self.scope.cache[f"draft:{d.user_id}"] = d

    async def drop_draft(self, user_id: int) -> bool:
        self.scope.cache[f"draft:{user_id}"] = None
        return bool((await self.core(_DROP_DRAFT, {"u": user_id})).rowcount)

    async def agencies(self) -> list[AgencyRef]:
        """The active agencies, as plain rows: the form lists or searches all of them (dozens) at the
        agency question, and an ORM object for each cost more than the search."""
        return [AgencyRef(*r) for r in await self.core(_ACTIVE_AGENCIES)]

    # --- starting ---
    async def start(self, user_id: int) -> None:
        d = await self.draft(user_id)
        if d is not None and d.data:
            self.out.send(user_id, T.DRAFT_EXISTS.format(when=T.fmt_dt(d.updated_at, self.tz)), kb.inline(
                [kb.btn("▶️ Lanjutkan draf", self.cb("f", "resume"))],
                [kb.btn("🔄 Mulai dari awal", self.cb("f", "restart"))]))
            return
        if d is None:
            d = await self.new_draft(user_id, {})
        await self.ask_next(user_id, d)

    async def restart(self, user_id: int) -> None:
        await self.drop_draft(user_id)
        await self.ask_next(user_id, await self.new_draft(user_id, {}))

    async def resume(self, user_id: int) -> None:
        d = await self.draft(user_id)
        if d is None:
            await self.start(user_id)
            return
        await self.ask_next(user_id, d)

    async def cancel(self, user_id: int) -> bool:
        """/batal: drop the draft and whatever the bot was waiting for."""
        sess = await self.session(user_id)
        had_input = bool(sess and sess.awaiting)
        dropped = await self.drop_draft(user_id)
        await self.clear_awaiting(user_id)
        if dropped:
            self.out.send(user_id, T.CANCELLED_INPUT, kb.REMOVE_KEYBOARD)
        elif had_input:
            self.out.send(user_id, T.INPUT_CANCELLED, kb.REMOVE_KEYBOARD)
        else:
            self.out.send(user_id, T.NOTHING_TO_CANCEL)
        return dropped or had_input

    # --- asking ---
    async def ask_next(self, user_id: int, d: DraftRow) -> None:
        f = next_missing(d.data)
        if f is None:
            await self.show_summary(user_id, d)
            return
        await self.ask(user_id, f, d)

    async def ask(self, user_id: int, f: Field, d: DraftRow, *, page: int = 0) -> None:
        await self.set_awaiting(user_id, f"form:{f.value}")
        markup: dict[str, Any] | None = None
        if f == Field.AGENCY:
            markup = await self.agency_keyboard(page)
        elif f == Field.LETTER_DATE:
            markup = kb.inline([kb.btn("📅 Hari ini", self.cb("f", "today"))])
        elif f == Field.SUBJECT:
            markup = kb.inline([kb.btn(f"Gunakan: {DEFAULT_SUBJECT}", self.cb("f", "subj"))])
        elif f == Field.CONTACT_PHONE:
            markup = kb.contact_keyboard("📱 Saya narahubung — kirim nomor saya")
        text = T.QUESTIONS[f]
        current = d.data.get(f.value)
        if current and f != Field.SCAN:
            shown = await self.field_display(f, current)
            text += f"\n\nIsian saat ini: <i>{T.e(shown)}</i>"
        self.out.send(user_id, text, markup)

    async def agency_keyboard(self, page: int, items: list[AgencyRef] | None = None) -> dict[str, Any]:
        all_items = items if items is not None else await self.agencies()
        pages = max(1, (len(all_items) + AGENCY_PAGE - 1) // AGENCY_PAGE)
        page = max(0, min(page, pages - 1))
        chunk = all_items[page * AGENCY_PAGE:(page + 1) * AGENCY_PAGE] if items is None else all_items
        rows = [[kb.btn(a.short_name if len(a.name) > 30 else a.name, self.cb("f", "ag", a.id))] for a in chunk]
        if items is None and pages > 1:
            rows.append(kb.pager(page, pages, lambda p: self.cb("f", "agp", p), self.cb("nop", page + 1, pages),
                                 prev_label="◀️ Sebelumnya", next_label="Berikutnya ▶️"))
        return kb.inline(*rows)

    async def field_display(self, f: Field, value: Any) -> str:
        if f == Field.AGENCY:
            a = await self.s.get(Agency, int(value))
            return f"{a.name} ({a.short_name})" if a else "—"
        if f == Field.LETTER_DATE:
            return T.fmt_date(date.fromisoformat(value))
        if f == Field.SCAN:
            return value.get("file_name") or ("foto" if value.get("kind") == "photo" else "berkas")
        return str(value)

    # --- answering ---
    async def save(self, user_id: int, d: DraftRow, f: Field, value: Any) -> None:
        data = dict(d.data)
        data[f.value] = value
        editing = data.pop("_editing", None)
        d.data = data
        await self.write_draft(d)
        if editing:
            await self.show_summary(user_id, d)
        else:
            await self.ask_next(user_id, d)

    async def answer_text(self, user_id: int, f: Field, text: str) -> None:
        d = await self.draft(user_id)
        if d is None:
            await self.clear_awaiting(user_id)
            self.out.send(user_id, await self.unknown_input(user_id))
            return
        try:
            if f == Field.AGENCY:
                await self.search_agency(user_id, d, text)
                return
            if f == Field.SCAN:
                raise Invalid("expect_file")
            if f == Field.LETTER_DATE:
                value: Any = parse_letter_date(text, self.now.astimezone(self.tz).date()).isoformat()
            else:
                value = TEXT_PARSERS[f](text)
        except Invalid as err:
            self.out.send(user_id, error_text(err))
            return
        if f == Field.CONTACT_PHONE:
            self.out.send(user_id, f"Nomor ponsel tersimpan: <b>{T.e(value)}</b>", kb.REMOVE_KEYBOARD)
        await self.save(user_id, d, f, value)

    async def search_agency(self, user_id: int, d: DraftRow, text: str) -> None:
        refs = await self.agencies()
        if len(text.strip()) < 2:
            raise Invalid("agency_short")
        found = find_agencies(text, refs)
        if not found:
            raise Invalid("agency_none")
        if len(found) == 1:
            await self.save(user_id, d, Field.AGENCY, found[0].id)
            return
        self.out.send(user_id, "Ditemukan beberapa Perangkat Daerah. Pilih salah satu:",
                      await self.agency_keyboard(0, found))

    async def pick_agency(self, user_id: int, agency_id: int) -> str | None:
        d = await self.draft(user_id)
        sess = await self.session(user_id)
        if d is None or sess is None or sess.awaiting != f"form:{Field.AGENCY.value}":
            return T.TAP_STALE
        a = await self.s.get(Agency, agency_id)
        if a is None or not a.active:
            return T.TAP_INVALID
        await self.save(user_id, d, Field.AGENCY, a.id)
        return None

    async def agency_page(self, user_id: int, page: int, chat_id: int, message_id: int) -> None:
        self.out.edit_markup(chat_id, await self.agency_keyboard(page), message_id=message_id)

    async def quick_answer(self, user_id: int, which: str) -> str | None:
        """The "Hari ini" and "default subject" buttons."""
        f = Field.LETTER_DATE if which == "today" else Field.SUBJECT
        d = await self.draft(user_id)
        sess = await self.session(user_id)
        if d is None or sess is None or sess.awaiting != f"form:{f.value}":
            return T.TAP_STALE
        value = self.now.astimezone(self.tz).date().isoformat() if which == "today" else DEFAULT_SUBJECT
        await self.save(user_id, d, f, value)
        return None

    async def answer_contact(self, user_id: int, phone: str, contact_user_id: int | None) -> None:
        d = await self.draft(user_id)
        if d is None:
            self.out.send(user_id, await self.unknown_input(user_id))
            return
        if contact_user_id != user_id:
            self.out.send(user_id, "⚠️ " + T.ERRORS["contact_not_own"])
            return
        try:
            value = parse_contact_number(phone)
        except Invalid as err:
            self.out.send(user_id, error_text(err))
            return
        self.out.send(user_id, f"Nomor ponsel tersimpan: <b>{T.e(value)}</b>", kb.REMOVE_KEYBOARD)
        await self.save(user_id, d, Field.CONTACT_PHONE, value)

    async def answer_file(self, user_id: int, content: bytes | None, **meta: Any) -> None:
        d = await self.draft(user_id)
        if d is None:
            self.out.send(user_id, await self.unknown_input(user_id))
            return
        try:
            scan = check_scan(**meta)
            if content is None:
                raise Invalid("scan_download")
            real = check_content(scan, content)
        except Invalid as err:
            self.out.send(user_id, error_text(err))
            return
        stored = StoredFile(sha256=hashlib.sha256(content).hexdigest(), size=len(content), kind=real,
                            file_name=scan.file_name, content=content, owner_user_id=user_id, created_at=self.now)
        self.s.add(stored)
        await self.s.flush()
        value = scan.as_dict() | {"stored_file_id": stored.id, "sha256": stored.sha256, "size": len(content)}
        await self.save(user_id, d, Field.SCAN, value)

    # --- summary, edit, send ---
    async def show_summary(self, user_id: int, d: DraftRow) -> None:
        await self.clear_awaiting(user_id)
        agency = await self.s.get(Agency, int(d.data["agency"])) if d.data.get("agency") else None
        scan = d.data.get("scan") or {}
        scan_txt = await self.field_display(Field.SCAN, scan) if scan else "—"
        head = "<b>Ringkasan permohonan akun SPLP</b>"
        if d.request_id:
            req = await self.s.get(Request, d.request_id)
            head = f"<b>Perbaikan permohonan {T.e(req.number if req else '')}</b>"
        text = (f"{head}\n\n{self.summary(d.data, agency, full_contact=True)}\n"
                f"<b>Pindaian surat:</b> {T.e(scan_txt)}\n\n"
                "Periksa kembali data di atas. Tekan tombol untuk mengubah isian, atau <b>Kirim</b> bila sudah benar.")
        edits = [kb.btn(f"✏️ {T.FIELD_LABELS[f]}", self.cb("f", "ed", i)) for i, f in enumerate(FORM_FIELDS)]
        self.out.send(user_id, text, kb.inline(
            *kb.columns(edits, 2),
            [kb.btn("📤 Kirim permohonan", self.cb("f", "send"))],
            [kb.btn("🗑 Batalkan", self.cb("f", "cancel"))]))

    async def edit_field(self, user_id: int, index: int) -> str | None:
        d = await self.draft(user_id)
        if d is None or not 0 <= index < len(FORM_FIELDS):
            return T.TAP_STALE
        d.data = {**d.data, "_editing": True}
        await self.write_draft(d)
        await self.ask(user_id, FORM_FIELDS[index], d)
        return None

    async def submit(self, user_id: int, tapped: tuple[int, int]) -> str:
        d = await self.draft(user_id)
        if d is None:
            return T.TAP_STALE
        data = {k: v for k, v in d.data.items() if not k.startswith("_")}
        missing = next_missing(data)
        if missing is not None:
            await self.ask(user_id, missing, d)
            return "Data belum lengkap."
        if d.request_id:
            return await self.resubmit(user_id, d, data, tapped)
        req = await self.create_request(user_id, data, d.created_at)
        await self.drop_draft(user_id)
        await self.clear_awaiting(user_id)
        base = await self.base_text(*tapped)
        self.out.edit(tapped[0], (base or "") + "\n\n📤 Terkirim.", None, message_id=tapped[1])
        self.out.send(user_id, (
            f"✅ Permohonan Anda telah diterima dengan nomor <b>{T.e(req.number)}</b>.\n\n"
            f"Permohonan kini berada pada <b>{T.e(self.sop.stage_label(req.stage))}</b>. "
            "Anda akan menerima pemberitahuan pada setiap perkembangan. "
            "Gunakan /status untuk memantau riwayat dan batas waktu setiap tahap."))
        return "Permohonan terkirim."

    async def resubmit(self, user_id: int, d: DraftRow, data: dict[str, Any], tapped: tuple[int, int]) -> str:
        req = await self.s.get(Request, d.request_id)
        if req is None:
            return T.TAP_NOT_FOUND
        actor = await self.actor(user_id)
        new_data = dict(
            agency_id=int(data["agency"]), letter_number=data["letter_number"],
            letter_date=date.fromisoformat(data["letter_date"]), subject=data["subject"],
            contact_name=data["contact_name"], contact_email=data["contact_email"],
            contact_phone=data["contact_phone"], app_name=data["app_name"],
            business_process=data["business_process"], scan=data["scan"], return_info=None,
        )
        t = await self.apply(req, Command(Action.RESUBMIT, req.version), actor, new_data=new_data,
                             tapped=tapped)
        if isinstance(t, Refusal):
            return REFUSAL_TEXT[t]
        await self.drop_draft(user_id)
        await self.clear_awaiting(user_id)
        return "Permohonan dikirim ulang."

    async def start_correction(self, user_id: int, request_id: int, version: int) -> str | None:
        """The requester taps "Perbaiki dan kirim ulang": the request's data becomes a draft."""
        req = await self.s.get(Request, request_id)
        if req is None:
            return T.TAP_NOT_FOUND
        if req.requester_id != user_id:
            return T.TAP_FORBIDDEN
        if req.stage != SystemStage.RETURNED or req.version != version:
            return T.TAP_STALE
        await self.drop_draft(user_id)
        data = dict(agency=req.agency_id, letter_number=req.letter_number,
                    letter_date=req.letter_date.isoformat(), subject=req.subject, contact_name=req.contact_name,
                    contact_email=req.contact_email, contact_phone=req.contact_phone, app_name=req.app_name,
                    business_process=req.business_process, scan=req.scan)
        d = await self.new_draft(user_id, data, request_id=req.id)
        await self.show_summary(user_id, d)
        return None
