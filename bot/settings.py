"""Configuration from the environment or ``.env``.

:class:`Settings` is a frozen dataclass; :meth:`Settings.from_env` fills it from the environment
(names in upper case) and ``.env`` (python-dotenv), the environment first, and msgspec converts
the text to each field's type and checks its range (about 0.6 MB, where pydantic-settings kept
pydantic's 7 MB in the bot for it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import msgspec

from workflow.machine import ResubmitRoute
from workflow.sopdoc import DEFAULT_SOP

ENV_FILE = ".env"


class MissingSetting(RuntimeError):
    pass


# Settings that the SOP file took over (#13): set in the environment or .env they have no effect.
RETIRED = {"DISPOSITION_INSTRUCTIONS": "instructions", "REMINDER_SHARES": "reminders.shares",
           "WORKING_HOURS": "working_hours", "SPLP_TENANT": "splp.tenant"}


def retired_settings(env_file: str | Path | None = ENV_FILE) -> list[str]:
    """The retired settings still configured, each with where it lives now (for a warning)."""
    names = set(os.environ)
    if env_file is not None and Path(env_file).is_file():
        from dotenv import dotenv_values

        names |= set(dotenv_values(env_file))
    return [f"{k} (now the SOP file's {v})" for k, v in RETIRED.items() if k in {n.upper() for n in names}]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting with its default (``Settings(...)``: the defaults and what is given, no
    environment: tests and tools; :meth:`from_env`: the bot's)."""

    bot_token: str = field(default="", repr=False)
    database_url: str = "sqlite+aiosqlite:///data/splp.db"
    telegram_api_url: str = "https://api.telegram.org"
    timezone: str = "Asia/Jakarta"
    data_dir: Path = Path("data")

    # The SOP the bot runs (README, "Another Pemda's SOP"): its chain, limits, wording, letterhead,
    # instructions, reminder shares, working hours, days off and SPLP tenant are the file's.
    sop_file: Path = DEFAULT_SOP

    # Workflow
    resubmit_route: ResubmitRoute = ResubmitRoute.CHAIN
    invite_ttl_hours: int = 72
    reminder_sweep_seconds: float = 30.0

    # Oversight (/rekap, the monthly report): the share of a step's passages that must keep the SOP's
    # limit for the step to be assessed "berjalan dengan baik" (stated in the report).
    oversight_on_time_threshold: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.8

    # Delivery
    rate_limit_per_second: float = 25.0  # overall Bot API sends per second (Telegram: about 30)
    per_chat_per_second: float = 1.0  # steady pace per chat (Telegram: about 1, short bursts allowed)
    per_chat_burst: int = 5
    request_timeout: float = 10.0
    outbox_max_attempts: int = 12
    outbox_keep_days: int = 30  # delivered messages kept for editing their buttons and for audit
    poll_timeout: int = 25  # getUpdates long-poll seconds
    update_concurrency: int = 16  # updates of different users handled at once
    # How long an instance holds a chat while sending it (a killed instance's chats are taken over after this)
    outbox_lease_seconds: float = 120.0

    # Webhook mode (several instances behind a load balancer)
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8080
    webhook_path: str = "/telegram"
    webhook_secret: str = field(default="", repr=False)

    # SPLP (step 5 and procedure B)
    splp_mode: str = "manual"  # manual | wso2 (the tenant is the SOP file's: splp.tenant)
    splp_base_url: str = "https://splp.layanan.go.id"
    splp_admin_username: str = ""
    splp_admin_password: str = field(default="", repr=False)
    splp_timeout: float = 15.0
    splp_gateway_url: str = "https://api-splp.layanan.go.id"  # shown in the developers' example
    # How long the bot keeps checking an application or subscription awaiting SPLP's approval
    # (with a DevPortal session grant, never the password); after that the owner checks by button.
    splp_approval_watch_days: int = 7

    # Secrets
    secrets_key: str = field(default="", repr=False)  # Fernet key(s), comma-separated; see storage/vault.py
    secret_ttl_hours: int = 72  # an unrevealed secret is wiped after this
    secret_message_minutes: int = 10  # the revealed credentials are deleted from the chat after this
    contact_max_failures: int = 3  # wrong contacts before the contact link locks

    # The sandbox (python main.py sandbox; `run` without BOT_TOKEN): the web page's port on
    # 127.0.0.1 and where its own database, chats and SPLP state are kept.
    sandbox_port: int = 8080
    sandbox_data_dir: Path = Path("data/sandbox")

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line for log shippers

    # Health and metrics: in webhook mode on the webhook port; in polling mode on 127.0.0.1:METRICS_PORT if set
    metrics_port: int | None = None
    ready_outbox_max_age_seconds: float = 300.0  # /readyz fails when a due message waited longer

    def __post_init__(self) -> None:
        for f in fields(self):  # a path given as text (tests and tools pass strings)
            if f.type == "Path" and isinstance(getattr(self, f.name), str):
                object.__setattr__(self, f.name, Path(getattr(self, f.name)))
        try:
            ZoneInfo(self.timezone)
        except (ValueError, LookupError) as e:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"TIMEZONE: unknown time zone {self.timezone!r}") from e
        # A Bot API call started near the end of a chat's lease must end before the lease does.
        if self.outbox_lease_seconds < 2.5 * self.request_timeout:
            raise ValueError("OUTBOX_LEASE_SECONDS must be at least 2.5 x REQUEST_TIMEOUT")

    @classmethod
    def from_env(cls, env_file: str | Path | None = ENV_FILE, **given: Any) -> Settings:
        """The settings in the environment and ``env_file`` (the environment wins), then ``given``
        over both. :class:`MissingSetting` names a value that is not of its setting's type or range."""
        names = {f.name for f in fields(cls)}
        found: dict[str, Any] = {}
        if env_file is not None and Path(env_file).is_file():
            from dotenv import dotenv_values

            found |= {k.lower(): v for k, v in dotenv_values(env_file).items() if v is not None}
        found |= {k.lower(): v for k, v in os.environ.items()}
        raw = {k: v for k, v in found.items() if k in names} | given
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_path)
        except msgspec.ValidationError as e:
            raise MissingSetting(f"invalid setting: {_setting_name(str(e))}") from None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def splp_portal_url(self) -> str:
        """The SPLP portal the bot's messages point to (``SPLP_BASE_URL``; in the sandbox its own)."""
        return self.splp_base_url.rstrip("/")

    @property
    def splp_portal_host(self) -> str:
        """The portal's address without the scheme, as officials type it (``splp.layanan.go.id``)."""
        return urlsplit(self.splp_portal_url).netloc or self.splp_portal_url

    def require_token(self) -> str:
        if not self.bot_token.strip():
            raise MissingSetting(
                "BOT_TOKEN is not set. Put the token from @BotFather in the environment "
                "(export BOT_TOKEN=...) or in a .env file: BOT_TOKEN=123456:ABC..."
            )
        return self.bot_token.strip()


def _path(kind: type, value: Any) -> Any:
    """msgspec's hook for the one type it does not convert itself (a path); a TypeError here becomes
    its ValidationError, named like any other wrong value."""
    if kind is Path and isinstance(value, (str, Path)):
        return Path(value)
    raise TypeError(f"Expected a path, got `{type(value).__name__}`")


def _setting_name(message: str) -> str:
    """msgspec's ``"Expected `float`, got `str` - at `$.request_timeout`"`` as
    ``"REQUEST_TIMEOUT: Expected `float`, got `str`"``."""
    m = re.fullmatch(r"(.*) - at `\$\.(\w+)`", message, re.S)
    return f"{m.group(2).upper()}: {m.group(1)}" if m else message
