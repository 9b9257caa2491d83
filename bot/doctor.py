"""`python main.py doctor`: is this installation able to run? Each check says in plain words what
it found and what to do. A FAIL blocks operation (exit status 1); a WARN needs attention.

Checks: the SOP file (valid; no open request it would strand), the token (getMe), the webhook
against the configured mode (getWebhookInfo), the database and its migrations, the secrets key, the
officials of the disposition chain, the working calendar for this and next year, SPLP (wso2 mode),
the time zone and the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import func, select, text

from bot.settings import Settings
from storage.db import Database, is_sqlite
from workflow.sop import ADMIN, Sop

OK, WARN, FAIL = "OK", "WARN", "FAIL"
CLOCK_SKEW_WARN = 30.0  # seconds


@dataclass
class Finding:
    status: str
    topic: str
    message: str


class Doctor:
    def __init__(self, settings: Settings, *, webhook_expected: bool | None = None) -> None:
        self.settings = settings
        # Webhook mode is expected when WEBHOOK_URL is configured (the instances set it on start).
        self.webhook_expected = bool(settings.webhook_url) if webhook_expected is None else webhook_expected
        self.findings: list[Finding] = []
        self.db: Database | None = None
        self.sop: Sop | None = None
        self._server_date: datetime | None = None

    def add(self, status: str, topic: str, message: str) -> None:
        self.findings.append(Finding(status, topic, message))

    @property
    def blocked(self) -> bool:
        return any(f.status == FAIL for f in self.findings)

    async def run(self) -> list[Finding]:
        await self._guard("SOP", self.sop_file)
        await self._guard("Telegram", self.telegram)
        self.db = Database(self.settings.database_url)
        try:
            if await self._guard("Database", self.database):
                await self._guard("Secrets key", self.secrets_key)
                if self.sop is not None:
                    await self._guard("SOP", self.sop_switch)
                    await self._guard("Officials", self.officials)
                    await self._guard("Calendar", self.calendar)
        finally:
            await self.db.dispose()
        await self._guard("SPLP", self.splp)
        await self._guard("Clock", self.clock)
        return self.findings

    async def _guard(self, topic: str, check: Callable[[], Awaitable[bool | None]]) -> bool:
        before = len(self.findings)
        try:
            await check()
        except Exception as e:  # noqa: BLE001 - a check that breaks is itself a finding
            self.add(FAIL, topic, f"the check itself failed ({type(e).__name__}); run with LOG_LEVEL=DEBUG "
                                  "and look at the bot's log")
        return not any(f.status == FAIL for f in self.findings[before:])

    # --- the SOP file ---
    async def sop_file(self) -> None:
        from workflow.sopdoc import SopInvalid, load

        try:
            self.sop = load(self.settings.sop_file)
        except SopInvalid as e:
            self.add(FAIL, "SOP", f"the SOP file is invalid; the bot will not start:\n{e}")
            return
        s = self.sop
        self.add(OK, "SOP", f"{s.source}: {s.label}, {s.identity.title}; chain "
                            + " → ".join(s.role_title(r) for r in s.chain_roles))
        from bot.settings import retired_settings

        for old in retired_settings():
            self.add(WARN, "SOP", f"setting {old} is no longer read: remove it, and write it in the SOP file")

    async def sop_switch(self) -> None:
        from storage import sops

        assert self.db is not None and self.sop is not None
        async with self.db.sessions() as s:
            blocked = await sops.blockers(s, self.sop)
        if blocked:
            self.add(FAIL, "SOP", sops.describe(blocked, self.sop))

    # --- Telegram ---
    async def _bot_api(self, client: httpx.AsyncClient, method: str) -> tuple[int, dict[str, Any]]:
        token = self.settings.bot_token.strip()
        resp = await client.get(f"{self.settings.telegram_api_url.rstrip('/')}/bot{token}/{method}")
        if "date" in resp.headers:
            try:
                self._server_date = parsedate_to_datetime(resp.headers["date"])
            except (TypeError, ValueError):
                pass
        try:
            body = resp.json()
        except ValueError:
            body = {}
        return resp.status_code, body if isinstance(body, dict) else {}

    async def telegram(self) -> None:
        if not self.settings.bot_token.strip():
            self.add(FAIL, "Telegram token", "BOT_TOKEN is not set. Create the bot with @BotFather and put its "
                                             "token in the environment file.")
            return
        api = self.settings.telegram_api_url
        async with httpx.AsyncClient(timeout=10) as client:
            try:
                status, me = await self._bot_api(client, "getMe")
            except httpx.HTTPError as e:  # the message would quote the URL, which holds the token
                self.add(FAIL, "Telegram token", f"cannot reach the Bot API at {api} ({type(e).__name__}). "
                                                 "Check the server's internet access, DNS and firewall.")
                return
            if status in (401, 404):
                self.add(FAIL, "Telegram token", f"Telegram refused the token ({status} "
                                                 f"{me.get('description', '')}). Copy BOT_TOKEN again from "
                                                 "@BotFather (/mybots → API Token); a revoked token stops working.")
                return
            if not me.get("ok"):
                self.add(FAIL, "Telegram token", f"getMe answered {status}: {me.get('description', '?')}")
                return
            bot = me["result"]
            self.add(OK, "Telegram token", f"valid: the bot is @{bot.get('username')} (id {bot.get('id')})")
            try:
                status, info = await self._bot_api(client, "getWebhookInfo")
            except httpx.HTTPError as e:
                self.add(WARN, "Webhook", f"getWebhookInfo failed ({type(e).__name__})")
                return
        self._webhook(info.get("result") or {})

    def _webhook(self, info: dict[str, Any]) -> None:
        s = self.settings
        url = info.get("url") or ""
        pending = int(info.get("pending_update_count") or 0)
        if self.webhook_expected:
            wanted = s.webhook_url.rstrip("/") + s.webhook_path
            if not url:
                self.add(WARN, "Webhook", f"no webhook is set, but WEBHOOK_URL is configured: the webhook instances "
                                          f"set {wanted} when they start. Start them (systemctl start "
                                          "splp-bot@8081 ...), or unset WEBHOOK_URL to use polling.")
            elif url != wanted:
                self.add(WARN, "Webhook", f"Telegram sends updates to {url}, but this configuration expects "
                                          f"{wanted}. Another installation may be using this token; restart the "
                                          "instances to set the right address.")
            else:
                self.add(OK, "Webhook", f"Telegram sends updates to {url} ({pending} waiting)")
            if not s.webhook_secret:
                self.add(WARN, "Webhook", "WEBHOOK_SECRET is not set: anyone who finds the address can post fake "
                                          "updates. Set a random one (openssl rand -hex 32).")
        elif url:
            self.add(WARN, "Webhook", f"a webhook is set ({url}) but this configuration polls (no WEBHOOK_URL). "
                                      "Starting the bot in polling mode removes the webhook; if another "
                                      "installation uses this token with a webhook, the two will take each "
                                      "other's updates.")
        else:
            self.add(OK, "Webhook", f"none set: polling mode, as configured ({pending} updates waiting)")
        if pending > 100:
            self.add(WARN, "Webhook", f"{pending} updates are waiting at Telegram: the bot is not taking them "
                                      "(is it running? look at its log).")
        if info.get("last_error_message"):
            when = datetime.fromtimestamp(int(info.get("last_error_date") or 0), UTC)
            age = (datetime.now(UTC) - when).total_seconds()
            status = WARN if age < 3600 else OK
            self.add(status, "Webhook", f"Telegram's last delivery error, {_ago(age)} ago: "
                                        f"{info['last_error_message']}"
                     + (" (nginx or the instances were not answering)" if status == WARN else " (old, resolved)"))

    # --- database ---
    async def database(self) -> None:
        from alembic.script import ScriptDirectory

        from storage.db import alembic_config

        assert self.db is not None
        where = "SQLite file" if is_sqlite(self.db.url) else "PostgreSQL"
        try:
            async with self.db.sessions() as s:
                await s.execute(text("SELECT 1"))
                try:
                    current = await s.scalar(text("SELECT version_num FROM alembic_version"))
                except Exception:  # noqa: BLE001 - no table yet
                    current = None
        except Exception as e:  # noqa: BLE001
            self.add(FAIL, "Database", f"cannot connect to the {where} in DATABASE_URL ({type(e).__name__}). "
                                       "Is the server running, the password right, the database created?")
            return
        script = ScriptDirectory.from_config(alembic_config(self.db.url))
        head = script.get_current_head()
        if current == head:
            self.add(OK, "Database", f"{where} reachable; migrations at head ({head})")
        elif current is None:
            self.add(FAIL, "Database", f"{where} reachable but empty: run `python main.py db upgrade` "
                                       "(or `restore` a backup) before starting the bot.")
        elif current not in {r.revision for r in script.walk_revisions()}:
            self.add(FAIL, "Database", f"the database is at migration {current}, which this code does not know: "
                                       "it was upgraded by a newer version. Install that version.")
        else:
            self.add(WARN, "Database", f"the database is at migration {current}, the code expects {head}: run "
                                       "`python main.py db upgrade` before starting the new code.")

    # --- secrets ---
    async def secrets_key(self) -> None:
        from storage.models import Secret
        from storage.vault import KEY_FILE, VaultError, load_vault

        assert self.db is not None
        async with self.db.sessions() as s:
            stored = list((await s.scalars(select(Secret.ciphertext).where(Secret.ciphertext.isnot(None))
                                            .limit(1000))).all())
        sqlite = is_sqlite(self.db.url)
        source = "SECRETS_KEY" if self.settings.secrets_key.strip() else f"{self.settings.data_dir}/{KEY_FILE}"
        try:
            vault = load_vault(self.settings.secrets_key, self.settings.data_dir, may_generate=False)
        except VaultError as e:
            self.add(FAIL, "Secrets key", f"{e}.")
            return
        if vault is None:
            if stored:
                self.add(FAIL, "Secrets key", f"no key (SECRETS_KEY unset, {source} missing) but {len(stored)} "
                                              "encrypted secret(s) are stored: restore the key they were encrypted "
                                              "with (from the backup, or your password safe).")
            elif sqlite:
                self.add(WARN, "Secrets key", f"{source} does not exist yet: it is generated on the first start. "
                                              "Back it up with the database.")
            else:
                self.add(FAIL, "Secrets key", "SECRETS_KEY is not set: with PostgreSQL every instance needs the "
                                              "same key, or passwords cannot be stored for their one-time reveal.")
            return
        bad = 0
        for token in stored:
            try:
                vault.decrypt(token)
            except VaultError:
                bad += 1
        if bad:
            self.add(FAIL, "Secrets key", f"the key from {source} cannot decrypt {bad} of {len(stored)} stored "
                                          "secret(s): it is not the key they were encrypted with.")
        else:
            self.add(OK, "Secrets key", f"present ({source}); decrypts the {len(stored)} stored secret(s)")

    # --- officials ---
    async def officials(self) -> None:
        from storage.models import Official, OfficialRole

        assert self.db is not None
        async with self.db.sessions() as s:
            rows = (await s.execute(select(OfficialRole.role, func.count()).join(
                Official, Official.id == OfficialRole.official_id).where(Official.active.is_(True))
                .group_by(OfficialRole.role))).all()
        held = {r: n for r, n in rows}
        sop = self.sop
        assert sop is not None
        chain = list(dict.fromkeys(sop.chain_roles))
        missing = [r for r in chain if not held.get(r)]
        for r in missing:
            self.add(FAIL, "Officials", f"no active official holds the role {r} ({sop.role_title(r)}): requests "
                                        "stop there. Invite one with /undang (as admin) or `python main.py "
                                        f"officials add --role {r} --telegram-id N --name \"...\"`.")
        if not missing:
            self.add(OK, "Officials", "every role of the chain has an active official: "
                     + ", ".join(f"{r} {held[r]}" for r in chain))
        if not held.get(ADMIN):
            self.add(WARN, "Officials", "no active admin: nobody can invite officials or edit the calendar in "
                                        "the bot. Add one with `python main.py officials add --role admin ...`.")

    # --- calendar ---
    async def calendar(self) -> None:
        from bot.services.calendar_admin import load_calendar
        from workflow.calendar import indonesian_holidays

        assert self.db is not None
        today = datetime.now(self.settings.tz).date()
        async with self.db.sessions() as s:
            cal = await load_calendar(s, self.settings, self.sop, today)  # type: ignore[arg-type]
        parts = []
        for year in (today.year, today.year + 1):
            national = sum(1 for d in cal.holidays if d.year == year)
            leave = len(indonesian_holidays([year], categories=("government",)))
            managed = sum(1 for d in list(cal.extra_days_off) + list(cal.special_hours) if d.year == year)
            if national == 0:
                self.add(FAIL, "Calendar", f"no national holidays known for {year}: deadlines would count them as "
                                           "working days. Upgrade the `holidays` package (pip install -U holidays).")
                continue
            if leave == 0:
                self.add(WARN, "Calendar", f"the collective leave days (cuti bersama) of {year} are not known yet. "
                                           "When the government publishes them, upgrade the `holidays` package "
                                           "or add them with /kalender.")
            parts.append(f"{year}: {national} holidays and leave days, {managed} set by the admin")
        if parts:
            self.add(OK, "Calendar", "loaded; " + "; ".join(parts))

    # --- SPLP ---
    async def splp(self) -> None:
        s = self.settings
        tenant = self.sop.tenant if self.sop is not None else "?"
        if s.splp_mode != "wso2":
            self.add(OK, "SPLP", f"mode {s.splp_mode}: executors register accounts on the portal by hand; "
                                 "nothing to check")
            return
        from splp import BadCredentials, SPLPError, make_adapter

        if self.sop is None:
            self.add(FAIL, "SPLP", "not checked: the SOP file (which names the tenant) is invalid")
            return
        adapter = make_adapter("wso2", base_url=s.splp_base_url, tenant_domain=tenant,
                               admin_username=s.splp_admin_username, admin_password=s.splp_admin_password,
                               timeout=min(s.splp_timeout, 10.0), max_attempts=1)
        try:
            await adapter.check_admin()  # type: ignore[attr-defined]
        except BadCredentials:
            self.add(FAIL, "SPLP", f"{s.splp_base_url} refused the tenant admin {s.splp_admin_username}: check "
                                   "SPLP_ADMIN_USERNAME and SPLP_ADMIN_PASSWORD (step 5 cannot create accounts).")
        except SPLPError as e:
            self.add(WARN, "SPLP", f"{s.splp_base_url}: {e.code} (HTTP {e.status or '-'}). Step 5 cannot "
                                   "create accounts until SPLP answers; executors can still register by hand.")
        else:
            self.add(OK, "SPLP", f"{s.splp_base_url} reachable; the tenant admin is accepted in {tenant}")
        finally:
            await adapter.aclose()

    # --- time ---
    async def clock(self) -> None:
        now = datetime.now(UTC)
        local = now.astimezone(self.settings.tz)
        self.add(OK, "Time zone", f"{self.settings.timezone}: now {local:%Y-%m-%d %H:%M} "
                                  f"(UTC{local:%z}); deadlines are computed in this zone")
        if self._server_date is None:
            self.add(WARN, "Clock", "could not compare the clock with Telegram's (no Date header)")
            return
        skew = (now - self._server_date).total_seconds()
        if abs(skew) > CLOCK_SKEW_WARN:
            self.add(WARN, "Clock", f"this server's clock is {abs(skew):.0f} s "
                                    f"{'ahead of' if skew > 0 else 'behind'} Telegram's: deadlines and reminders "
                                    "follow it. Turn on time synchronisation (timedatectl set-ntp true).")
        else:
            self.add(OK, "Clock", f"within {max(abs(skew), 1):.0f} s of Telegram's clock")


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def report(findings: list[Finding]) -> str:
    width = max((len(f.topic) for f in findings), default=0)
    lines = [f"{f.status:<4}  {f.topic:<{width}}  {f.message}" for f in findings]
    fails = sum(f.status == FAIL for f in findings)
    warns = sum(f.status == WARN for f in findings)
    if fails:
        lines.append(f"\n{fails} problem(s) block operation, {warns} warning(s). Fix the FAIL lines and run "
                     "`python main.py doctor` again.")
    else:
        lines.append(f"\nReady to run: no blocking problem, {warns} warning(s).")
    return "\n".join(lines)


def run_doctor(settings: Settings, webhook: bool | None = None) -> int:
    doc = Doctor(settings, webhook_expected=webhook)
    findings = asyncio.run(doc.run())
    print(report(findings))
    return 1 if doc.blocked else 0
