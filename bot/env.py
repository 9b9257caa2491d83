"""Long-lived collaborators shared by all updates (settings, codec, calendar, the SOP in force)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.callbacks import CallbackCodec
from bot.clock import Clock
from bot.settings import Settings
from storage.db import Database
from storage.vault import Vault
from workflow.calendar import WorkingCalendar
from workflow.sop import Sop


@dataclass
class Env:
    settings: Settings
    codec: CallbackCodec
    clock: Clock
    calendar: WorkingCalendar
    # The SOP file in force (SOP_FILE): new requests start under it; a request keeps its own version
    # (Ctx.sop_of). Menus, roles, the digest and the oversight read this one.
    sop: Sop
    bot_username: str = ""
    calendar_version: int = 0
    reload_calendar: Callable[[], Awaitable[None]] | None = None  # after an admin changed the calendar
    vault: Vault | None = None  # secrets at rest (None: no key configured)
    db: Database | None = None  # for work after an update's transaction (the one-time reveal)
    wake_sender: Callable[[], None] | None = None
    splp: Any = None  # splp.adapter.SPLPAdapter (wso2 mode), built at start
