"""Officials and roles: invitations by deep link, deactivation, per-role command menus."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from bot import keyboards as kb
from bot import texts as T
from bot.services.base import Ctx
from storage.models import Invite, Official, OfficialRole
from workflow.sop import ADMIN, Sop

BASE_COMMANDS = [
    {"command": "start", "description": "Menu utama"},
    {"command": "ajukan", "description": "Ajukan permohonan akun SPLP"},
    {"command": "status", "description": "Status permohonan Anda"},
    {"command": "aplikasi", "description": "Daftarkan aplikasi ke SPLP (OAuth2 dan API key)"},
    {"command": "bantuan", "description": "Bantuan"},
    {"command": "batal", "description": "Batalkan pengisian"},
]
OFFICIAL_COMMANDS = [{"command": "tugas", "description": "Permohonan yang menunggu tindakan Anda"}]
# The oversight of the SOP (/rekap): the SOP's ``oversight`` roles and the admin.
OVERSIGHT_COMMANDS = [{"command": "rekap", "description": "Rekapitulasi dan laporan monitoring SOP"}]
ADMIN_COMMANDS = [
    {"command": "undang", "description": "Buat tautan undangan pejabat"},
    {"command": "pejabat", "description": "Daftar dan penonaktifan pejabat"},
    {"command": "kalender", "description": "Hari libur tambahan dan jam kerja khusus"},
    {"command": "perangkat", "description": "Daftar Perangkat Daerah"},
]


def oversight_roles(sop: Sop) -> frozenset[str]:
    """Who may read the oversight (/rekap): the SOP's ``oversight`` roles and the admin."""
    return frozenset(sop.oversight) | {ADMIN}


def commands_for(roles: frozenset[str], sop: Sop) -> list[dict[str, str]]:
    cmds = list(BASE_COMMANDS)
    if roles - {ADMIN}:
        cmds += OFFICIAL_COMMANDS
    if roles & oversight_roles(sop):
        cmds += OVERSIGHT_COMMANDS
    if ADMIN in roles:
        cmds += ADMIN_COMMANDS
    return cmds


def invite_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Officials(Ctx):
    def set_commands(self, telegram_id: int, roles: frozenset[str]) -> None:
        self.out.call(telegram_id, "setMyCommands", {
            "commands": commands_for(roles, self.sop), "scope": {"type": "chat", "chat_id": telegram_id}})

    async def add(self, telegram_id: int, name: str, role: str, *, by: int | None = None) -> Official:
        """Give ``telegram_id`` the ``role`` (one of the SOP in force's, or the admin)."""
        if role not in self.sop.official_roles():
            raise ValueError(f"role {role!r} is not one of the SOP's: {', '.join(self.sop.official_roles())}")
        self.forget_officials()
        off = await self.s.scalar(select(Official).where(Official.telegram_id == telegram_id))
        if off is None:
            off = Official(telegram_id=telegram_id, name=name, active=True, created_at=self.now)
            self.s.add(off)
            await self.s.flush()
        else:
            off.name, off.active, off.deactivated_at = name, True, None
        if await self.s.get(OfficialRole, (off.id, role)) is None:
            self.s.add(OfficialRole(official_id=off.id, role=role))
        await self.s.flush()
        self.scope.cache.pop(f"official:{telegram_id}", None)
        self.scope.cache.pop(f"roles:{off.id}", None)
        roles = await self.roles_of(off)
        self.audit("official_added", official_id=by, detail_official=off.id, role=role)
        self.set_commands(telegram_id, roles)
        return off

    async def deactivate(self, official_id: int, *, by: int | None = None) -> Official | None:
        self.forget_officials()
        off = await self.s.get(Official, official_id)
        if off is None or not off.active:
            return None
        off.active, off.deactivated_at = False, self.now
        self.audit("official_deactivated", official_id=by, detail_official=off.id)
        self.out.call(off.telegram_id, "deleteMyCommands", {"scope": {"type": "chat", "chat_id": off.telegram_id}})
        return off

    async def create_invite(self, role: str, name: str, by: int | None) -> str:
        secret = secrets.token_urlsafe(18)
        self.s.add(Invite(code=invite_hash(secret), role=role, name=name, created_by=by,
                          created_at=self.now, expires_at=self.now + timedelta(hours=self.settings.invite_ttl_hours)))
        self.audit("invite_created", official_id=by, role=role)
        return f"inv_{secret}"

    async def redeem(self, telegram_id: int, secret: str) -> str:
        inv = await self.s.get(Invite, invite_hash(secret))
        if inv is None or inv.used_at is not None or inv.expires_at < self.now:
            self.audit("invite_refused", actor_tg=telegram_id)
            return "Tautan undangan tidak valid, sudah digunakan, atau sudah kedaluwarsa. Mohon minta tautan baru kepada admin."
        if inv.role not in self.sop.official_roles():  # the SOP changed since the invitation
            self.audit("invite_refused", actor_tg=telegram_id, role=inv.role)
            return ("Peran dalam tautan undangan ini tidak ada lagi dalam SOP yang berlaku. Mohon minta tautan baru "
                    "kepada admin.")
        inv.used_at, inv.used_by_telegram_id = self.now, telegram_id
        off = await self.add(telegram_id, inv.name, inv.role, by=inv.created_by)
        self.audit("invite_used", actor_tg=telegram_id, official_id=off.id, role=inv.role)
        return (f"Selamat, {T.e(off.name)}. Akun Telegram Anda kini terdaftar sebagai "
                f"<b>{T.e(self.sop.role_title(inv.role))}</b>. Gunakan /tugas untuk melihat permohonan yang menunggu tindakan Anda.")

    # --- admin dialogs ---
    async def require_admin(self, telegram_id: int) -> bool:
        return ADMIN in (await self.actor(telegram_id)).roles

    def invite_menu(self, telegram_id: int) -> None:
        self.out.send(telegram_id, "Pilih peran untuk pejabat yang akan diundang:", kb.inline(
            *[[kb.btn(self.sop.role_title(r), self.cb("ia", i))] for i, r in enumerate(self.sop.official_roles())]))

    async def list_officials(self, telegram_id: int) -> None:
        rows = (await self.s.execute(select(Official, OfficialRole.role).join(
            OfficialRole, OfficialRole.official_id == Official.id).order_by(Official.id))).all()
        by: dict[int, tuple[Official, list[str]]] = {}
        for off, role in rows:
            by.setdefault(off.id, (off, []))[1].append(self.sop.role_title(role))
        if not by:
            self.out.send(telegram_id, "Belum ada pejabat terdaftar.")
            return
        lines = ["<b>Daftar pejabat</b>"]
        buttons = []
        for off, roles in by.values():
            status = "aktif" if off.active else "nonaktif"
            lines.append(f"• {T.e(off.name)} — {T.e(', '.join(roles))} ({status})")
            if off.active and off.telegram_id != telegram_id:
                buttons.append([kb.btn(f"Nonaktifkan {off.name}", self.cb("ao", off.id))])
        self.out.send(telegram_id, "\n".join(lines), kb.inline(*buttons) if buttons else None)
