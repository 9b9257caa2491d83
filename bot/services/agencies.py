"""The admin-managed list of Perangkat Daerah (also: python main.py agencies import)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot import keyboards as kb
from bot import texts as T
from bot.services.base import Ctx
from storage.models import Agency
from storage.repo import KINDS

PAGE = 8


class Agencies(Ctx):
    async def page(self, user_id: int, page: int, *, edit: tuple[int, int] | None = None) -> None:
        total = await self.s.scalar(select(func.count()).select_from(Agency)) or 0
        pages = max(1, (total + PAGE - 1) // PAGE)
        page = max(0, min(page, pages - 1))
        rows = (await self.s.scalars(select(Agency).order_by(Agency.id).offset(page * PAGE).limit(PAGE))).all()
        buttons = [[kb.btn(f"{'✅' if a.active else '⛔'} {a.short_name}", self.cb("pg", a.id, page))] for a in rows]
        nav = kb.pager(page, pages, lambda p: self.cb("pp", p), self.cb("nop", page + 1, pages))
        buttons += [nav, [kb.btn("➕ Tambah Perangkat Daerah", self.cb("pa"))]]
        text = ("<b>Daftar Perangkat Daerah</b>\nTekan untuk mengaktifkan (✅) atau menonaktifkan (⛔). Perangkat Daerah "
                "nonaktif tidak dapat dipilih pada permohonan baru.")
        if edit:
            self.out.edit(edit[0], text, kb.inline(*buttons), message_id=edit[1])
        else:
            self.out.send(user_id, text, kb.inline(*buttons))

    async def toggle(self, user_id: int, agency_id: int, page: int, tapped: tuple[int, int]) -> str:
        a = await self.s.get(Agency, agency_id)
        if a is None:
            return T.TAP_INVALID
        a.active = not a.active
        self.audit("agency_toggled", actor_tg=user_id, agency=a.code, active=a.active)
        await self.page(user_id, page, edit=tapped)
        return f"{a.short_name} {'diaktifkan' if a.active else 'dinonaktifkan'}."

    async def ask_new(self, user_id: int) -> None:
        await self.set_awaiting(user_id, "agency_new")
        self.out.send(user_id, "Ketik Perangkat Daerah baru dengan format <code>kode; nama lengkap; singkatan; jenis</code>, "
                               f"contoh: <code>dinbaru; Dinas Baru; Dinbaru; dinas</code>. Jenis: {', '.join(sorted(KINDS))}.")

    async def add(self, user_id: int, text: str) -> None:
        parts = [p.strip() for p in text.split(";")]
        if len(parts) != 4 or not re.fullmatch(r"[a-z0-9]{2,40}", parts[0]) or parts[3] not in KINDS \
                or not 3 <= len(parts[1]) <= 200 or not 2 <= len(parts[2]) <= 60:
            self.out.send(user_id, "⚠️ Format tidak valid. Contoh: <code>dinbaru; Dinas Baru; Dinbaru; dinas</code>")
            return
        if await self.s.scalar(select(Agency).where(Agency.code == parts[0])) is not None:
            self.out.send(user_id, "⚠️ Kode tersebut sudah ada.")
            return
        self.s.add(Agency(code=parts[0], name=parts[1], short_name=parts[2], kind=parts[3], active=True))
        await self.clear_awaiting(user_id)
        self.audit("agency_added", actor_tg=user_id, agency=parts[0])
        self.out.send(user_id, f"✅ {T.e(parts[1])} ({T.e(parts[2])}) ditambahkan.")
