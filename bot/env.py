"""Long-lived collaborators shared by all updates (settings, codec, calendar)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.callbacks import CallbackCodec
from bot.clock import Clock
from bot.settings import Settings
from workflow.calendar import WorkingCalendar


@dataclass
class Env:
    settings: Settings
    codec: CallbackCodec
    clock: Clock
    calendar: WorkingCalendar
    bot_username: str = ""
    calendar_version: int = 0
    reload_calendar: Callable[[], Awaitable[None]] | None = None  # after an admin changed the calendar
