"""Long-lived collaborators shared by all updates (settings, codec, calendar)."""

from __future__ import annotations

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
