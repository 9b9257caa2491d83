"""Configuration from the environment or ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.machine import ResubmitRoute
from workflow.sopdoc import DEFAULT_SOP


class MissingSetting(RuntimeError):
    pass


# Settings that the SOP file took over (#13): set in the environment or .env they have no effect.
RETIRED = {"DISPOSITION_INSTRUCTIONS": "instructions", "REMINDER_SHARES": "reminders.shares",
           "WORKING_HOURS": "working_hours", "SPLP_TENANT": "splp.tenant"}


def retired_settings(env_file: str | Path | None = ".env") -> list[str]:
    """The retired settings still configured, each with where it lives now (for a warning)."""
    import os

    names = set(os.environ)
    if env_file is not None and Path(env_file).is_file():
        from dotenv import dotenv_values

        names |= set(dotenv_values(env_file))
    return [f"{k} (now the SOP file's {v})" for k, v in RETIRED.items() if k in {n.upper() for n in names}]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = Field(default="", repr=False)
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
    oversight_on_time_threshold: float = Field(default=0.8, gt=0, le=1)

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
    webhook_secret: str = Field(default="", repr=False)

    # SPLP (step 5 and procedure B)
    splp_mode: str = "manual"  # manual | wso2 (the tenant is the SOP file's: splp.tenant)
    splp_base_url: str = "https://splp.layanan.go.id"
    splp_admin_username: str = ""
    splp_admin_password: str = Field(default="", repr=False)
    splp_timeout: float = 15.0
    splp_gateway_url: str = "https://api-splp.layanan.go.id"  # shown in the developers' example
    # How long the bot keeps checking an application or subscription awaiting SPLP's approval
    # (with a DevPortal session grant, never the password); after that the owner checks by button.
    splp_approval_watch_days: int = 7

    # Secrets
    secrets_key: str = Field(default="", repr=False)  # Fernet key(s), comma-separated; see storage/vault.py
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

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    @model_validator(mode="after")
    def _lease(self) -> Settings:
        # A Bot API call started near the end of a chat's lease must end before the lease does.
        if self.outbox_lease_seconds < 2.5 * self.request_timeout:
            raise ValueError("OUTBOX_LEASE_SECONDS must be at least 2.5 x REQUEST_TIMEOUT")
        return self

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
