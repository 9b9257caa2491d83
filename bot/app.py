"""Building and running the bot: PTB Application, durable updates, outbox, scheduling."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot import keyboards as kb
from bot import metrics
from bot import texts as T
from bot.callbacks import CallbackCodec
from bot.clock import Clock
from bot.env import Env
from bot.metrics import CountingRequest, Health
from bot.outbox import OutboxSender
from bot.services.officials import BASE_COMMANDS
from bot.settings import MissingSetting, Settings
from bot.intake import Poller, WebhookServer
from bot.updates import Scope, UpdateProcessor, current_scope, work_scope
from storage.db import Database
from storage.models import Session
from workflow.calendar import WorkingCalendar, default_calendar, indonesian_holidays
from workflow.form import MAX_SCAN_BYTES
from workflow.sop import Sop

log = logging.getLogger(__name__)


def build_calendar(settings: Settings, sop: Sop, today: date):  # type: ignore[no-untyped-def]
    """The calendar without the admin-managed days (those come from the database: load_calendar)."""
    from bot.services.calendar_admin import calendar_years, days_off_from, weekly_from

    return default_calendar(calendar_years(today), weekly=weekly_from(sop), extra_days_off=days_off_from(sop),
                            tz=settings.tz)


def load_sop(settings: Settings) -> Sop:
    """The SOP file in force (SOP_FILE), validated (in a child process: ``bot/sopcheck.py``): raises
    ``workflow.sopdoc.SopInvalid`` with every problem (the file, the line, what is wrong), and the
    bot does not start."""
    from bot.sopcheck import SopCheck

    return SopCheck(settings.sop_file).result()


async def adopt_sop(db: Database, sop: Sop, now: Any) -> None:
    """Record ``sop`` as a version the bot runs; refuse (MissingSetting, listing them) when open
    requests are in a stage of the chain, or held by a role, that the file no longer has."""
    from storage import sops

    async with db.transaction() as s:
        blocked = await sops.blockers(s, sop)
        if blocked:
            raise MissingSetting(sops.describe(blocked, sop))
        if await sops.register(s, sop, now):
            log.info("SOP version %s recorded (%s)", sop.label, sop.source)


async def national_holidays(years: range) -> dict[date, str]:
    """Indonesia's holidays and cuti bersama for ``years``. The ``holidays`` package loads every
    country's tables (about 10 MB a process keeps): a bot that has not loaded it computes them in a
    child process, which returns them as JSON and exits."""
    import sys

    if "holidays" in sys.modules:
        return indonesian_holidays(years)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from workflow.calendar import indonesian_holidays; "
            "json.dump({d.isoformat(): n for d, n in indonesian_holidays(range(int(sys.argv[2]), "
            "int(sys.argv[3]))).items()}, sys.stdout)")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, root, str(years.start), str(years.stop),
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"computing the national holidays failed (exit {proc.returncode})")
    return {date.fromisoformat(d): n for d, n in json.loads(out).items()}


def build_application(settings: Settings, *, token: str, register: Callable[[Application], None]) -> Application:
    """The PTB Application; ``register`` adds the handlers (``handlers.register_all``)."""
    api = settings.telegram_api_url.rstrip("/")
    request = CountingRequest(connection_pool_size=16, connect_timeout=settings.request_timeout,
                           read_timeout=settings.request_timeout, write_timeout=settings.request_timeout,
                           pool_timeout=settings.request_timeout)
    get_updates_request = CountingRequest(connection_pool_size=2, read_timeout=settings.poll_timeout + 15,
                                       connect_timeout=settings.request_timeout)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(request)
        .get_updates_request(get_updates_request)
        .defaults(Defaults(tzinfo=settings.tz))
        .updater(None)  # durable polling/webhook of our own (bot/updates.py)
        .build()
    )
    register(app)
    app.add_error_handler(_on_error)
    return app


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A handler raised: mark the scope so the transaction rolls back."""
    try:
        current_scope.get().error = context.error
    except LookupError:
        log.error("error outside an update: %s", context.error, exc_info=context.error)


def _apologise(scope: Scope) -> None:
    u = scope.update
    if u.effective_user and u.effective_chat and u.effective_chat.type == "private":
        scope.outbox.send(u.effective_user.id, T.GENERIC_ERROR)
    if u.callback_query:
        q = u.callback_query
        scope.after_commit.append(lambda: q.answer(T.GENERIC_ERROR[:200], show_alert=True))


@dataclass
class BotRuntime:
    """Everything a running bot instance owns; started and stopped as one."""

    settings: Settings
    db: Database
    # Adds the handlers to the Application (``handlers.register_all``): the composition happens
    # above bot/ (main.py, the sandbox, the tests), so bot/ does not import handlers/.
    register: Callable[[Application], None] = field(kw_only=True)
    clock: Clock = field(default_factory=Clock)
    instance_id: str = ""
    app: Application | None = None
    sender: OutboxSender | None = None
    processor: UpdateProcessor | None = None
    poller: Poller | None = None
    webhook: WebhookServer | None = None
    env: Env | None = None
    health: Health | None = None
    # The periodic reminder sweep (and hourly housekeeping). Tests that move a fake clock turn it
    # off and sweep at the moments they choose, so nothing arrives at a moment they did not.
    scheduled_jobs: bool = True
    sop: Sop | None = None  # the SOP in force: loaded from SOP_FILE at start when not given
    _national: tuple[range, dict[date, str]] = (range(0), {})  # the national holidays, by the years they cover

    async def start(self, *, mode: str = "polling") -> None:
        from bot.services.calendar_admin import calendar_years, weekly_from
        from bot.settings import retired_settings

        token = self.settings.require_token()
        serve_metrics = mode == "webhook" or self.settings.metrics_port is not None
        if serve_metrics:
            metrics.enable()  # before the first Bot API call, which it counts
        sop = self.sop = self.sop or load_sop(self.settings)
        for old in retired_settings():
            log.warning("setting %s is no longer read: the SOP file says it", old)
        await adopt_sop(self.db, sop, self.clock.now())
        self.app = build_application(self.settings, token=token, register=self.register)
        years = calendar_years(self.clock.now().astimezone(self.settings.tz).date())
        national = asyncio.create_task(national_holidays(years))  # meanwhile, Telegram's getMe
        await self.app.initialize()
        me = self.app.bot.bot
        self._national = (years, await national)
        self.env = Env(self.settings, CallbackCodec(token), self.clock,
                       WorkingCalendar(tz=self.settings.tz, weekly=weekly_from(sop), holidays=self._national[1]),
                       sop, bot_username=me.username or "")
        self.app.bot_data["env"] = self.env
        self.env.reload_calendar = self.refresh_calendar
        self.env.db = self.db
        self.env.vault = await self._vault()
        if self.settings.splp_mode == "wso2":
            from splp import make_adapter
            self.env.splp = make_adapter(
                "wso2", base_url=self.settings.splp_base_url, tenant_domain=sop.tenant,
                admin_username=self.settings.splp_admin_username, admin_password=self.settings.splp_admin_password,
                timeout=self.settings.splp_timeout, on_call=metrics.splp_call)
        await self.refresh_calendar(force=True)
        owner = self.instance_id or os.environ.get("INSTANCE_ID") or socket.gethostname()
        self.sender = OutboxSender(self.db, self.app.bot, self.clock, owner=owner,
                                   per_chat_rate=self.settings.per_chat_per_second,
                                   per_chat_burst=self.settings.per_chat_burst,
                                   overall_rate=self.settings.rate_limit_per_second,
                                   max_attempts=self.settings.outbox_max_attempts,
                                   lease=timedelta(seconds=self.settings.outbox_lease_seconds))
        self.env.wake_sender = self.sender.wake
        self.processor = UpdateProcessor(self.app, self.db, self.clock, self.sender, on_failure=_apologise,
                                         prefetch=self._prefetch)
        await self.app.start()
        await self.sender.start()
        try:
            await self.app.bot.set_my_commands([(c["command"], c["description"]) for c in BASE_COMMANDS])
        except Exception as e:  # not fatal: the outbox sets per-official menus
            log.warning("setMyCommands failed: %s", e)
        if self.app.job_queue and self.scheduled_jobs:
            self.app.job_queue.run_repeating(self._housekeeping, interval=3600, first=60, name="housekeeping")
            self.app.job_queue.run_repeating(self._sweep_job, interval=self.settings.reminder_sweep_seconds,
                                             first=1, name="reminders")
        if serve_metrics:
            self.health = Health(self.db, self.clock.now, max_outbox_age=self.settings.ready_outbox_max_age_seconds,
                                 stages=tuple(sop.stages), open_stages=sop.open_stages)
        if mode == "webhook":
            s = self.settings
            self.webhook = WebhookServer(self.app, self.processor, listen=s.webhook_listen, port=s.webhook_port,
                                         path=s.webhook_path, secret=s.webhook_secret, public_url=s.webhook_url,
                                         health=self.health)
            await self.webhook.start()
        else:
            if self.health is not None:
                await self.health.serve("127.0.0.1", self.settings.metrics_port)  # type: ignore[arg-type]
            self.poller = Poller(self.app, self.processor, timeout=self.settings.poll_timeout,
                                 concurrency=self.settings.update_concurrency)
            await self.poller.start()
        log.info("bot @%s started (%s mode) on %s", me.username, mode, sop.label)

    async def _prefetch(self, update: Update) -> dict[str, Any]:
        """Download the scan of the letter before the update's transaction (it can take seconds)."""
        msg = update.message
        if msg is None or msg.from_user is None or not (msg.document or msg.photo):
            return {}
        async with self.db.sessions() as s:
            awaiting = await s.scalar(select(Session.awaiting).where(Session.user_id == msg.from_user.id))
        if awaiting != "form:scan":
            return {}
        f = msg.photo[-1] if msg.photo else msg.document
        if f is None or (f.file_size or 0) > MAX_SCAN_BYTES:
            return {}
        try:
            tg_file = await self.app.bot.get_file(f.file_id)  # type: ignore[union-attr]
            return {"file": bytes(await tg_file.download_as_bytearray())}
        except TelegramError as e:
            log.warning("could not download an attachment: %s", type(e).__name__)
            return {"file_error": type(e).__name__}

    async def _sweep_job(self, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.sweep_reminders()
        except Exception:
            log.exception("reminder sweep failed")

    async def _vault(self):  # type: ignore[no-untyped-def]
        """The key for secrets at rest; refuse to start without it (or with a wrong one) when
        encrypted secrets exist. The embedded default generates its key file on first run."""
        from sqlalchemy import func

        from storage.db import is_sqlite
        from storage.models import Secret
        from storage.vault import VaultError, load_vault

        async with self.db.sessions() as s:
            pending = await s.scalar(select(func.count()).select_from(Secret).where(Secret.ciphertext.isnot(None)))
            sample = await s.scalar(select(Secret.ciphertext).where(Secret.ciphertext.isnot(None)).limit(1))
        vault = load_vault(self.settings.secrets_key, self.settings.data_dir,
                           may_generate=is_sqlite(self.db.url) and not pending)
        if vault is None:
            if pending:
                raise MissingSetting(f"SECRETS_KEY is not set (nor {self.settings.data_dir}/secrets.key found), "
                                     f"but {pending} encrypted secret(s) are stored. Restore the key they were "
                                     "encrypted with.")
            log.warning("SECRETS_KEY is not set: passwords cannot be stored for one-time delivery")
            return None
        if sample is not None:
            try:
                vault.decrypt(sample)
            except VaultError:
                raise MissingSetting("the configured SECRETS_KEY cannot decrypt the stored secrets; "
                                     "restore the right key") from None
        return vault

    async def refresh_calendar(self, force: bool = False) -> None:
        """Rebuild the working calendar when an admin changed it (here or on another instance)."""
        from bot.services.calendar_admin import calendar_version, calendar_years, load_calendar

        assert self.env is not None
        today = self.clock.now().astimezone(self.settings.tz).date()
        years = calendar_years(today)
        new_year = years != self._national[0]
        if new_year:  # the years the calendar covers moved on
            self._national = (years, await national_holidays(years))
        async with self.db.sessions() as s:
            version = await calendar_version(s)
            if force or new_year or version != self.env.calendar_version:
                self.env.calendar = await load_calendar(s, self.settings, self.env.sop, today, self._national[1])
                self.env.calendar_version = version

    async def sweep_reminders(self) -> int:
        """Send every due reminder (APScheduler calls this; tests call it after moving the clock)."""
        from bot.services.reminders import Reminders

        assert self.env is not None and self.sender is not None
        await self.refresh_calendar()
        async with self.db.transaction() as s:
            now = self.clock.now()
            scope = work_scope(s, now)
            await Reminders(scope, self.env).digest()
            from bot.services.account import Accounts
            await Accounts(scope, self.env).expire_secrets()
            await scope.flush()
        total = 0
        while True:
            async with self.db.transaction() as s:
                now = self.clock.now()
                scope = work_scope(s, now)
                n = await Reminders(scope, self.env).sweep()
                await scope.flush()
            metrics.reminders_sent(scope.cache.get("reminders_sent", ()))
            total += n
            if scope.outbox.rows:
                self.sender.wake()
            if n < 100:
                break
        from bot.services.oversight_jobs import OversightJobs
        try:  # the monthly report when due; report jobs a crash left behind
            await OversightJobs(self.env).sweep()
        except Exception:  # logged by type and place; the SPLP checks below still run
            log.exception("oversight sweep failed")
        if self.env.splp is not None:  # applications awaiting SPLP's approval, when their check is due
            from bot.services.apps_wso2 import AppsWso2
            apps = AppsWso2(self.env)
            await apps.sweep_pending()
            await apps.sweep_abandoned()
        return total

    async def _housekeeping(self, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        """Old delivered messages and update ids are not needed (Telegram keeps updates 24 h)."""
        from datetime import timedelta

        from sqlalchemy import delete, or_

        from storage.models import ChatLock, Outbox

        try:
            if self.processor:
                await self.processor.prune()
            async with self.db.transaction() as s:
                now = self.clock.now()
                await s.execute(delete(Outbox).where(
                    Outbox.status.in_(["sent", "failed", "cancelled"]), Outbox.live_buttons.is_(False),
                    Outbox.created_at < now - timedelta(days=self.settings.outbox_keep_days)))
                # Chats nobody sends to: their pace has long refilled (the next send starts afresh).
                await s.execute(delete(ChatLock).where(ChatLock.until < now, or_(
                    ChatLock.sent_at.is_(None), ChatLock.sent_at < now - timedelta(hours=1))))
        except Exception:
            log.exception("housekeeping failed")

    async def stop(self) -> None:
        if self.poller:
            await self.poller.stop()
        if self.webhook:
            await self.webhook.stop()
        if self.processor:
            await self.processor.drain()  # a group under way commits before what it needs stops
        if self.health:
            await self.health.stop()
        if self.sender:
            await self.sender.stop()
        if self.env is not None and self.env.splp is not None:
            await self.env.splp.aclose()
            self.env.splp = None
        if self.app:
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()

    async def run_forever(self, *, mode: str = "polling") -> None:
        import signal

        await self.start(mode=mode)
        # The process runs this bot until it ends, and what start-up made (modules, the SOP, the
        # calendar, the ORM's mappers) lives as long: out of the collector's sight, a full collection
        # walks only what updates create (bench: its pauses over a run from 1.3 s to 0.3 s in all, the
        # longest from 176 to 106 ms on a busy machine). Not in start(): a process that starts bots
        # again and again (the tests, the sandbox) would pay a full collection each time. A moment
        # after the start, so that the first poll does not wait for it (a collection then walks
        # 110,000 objects: 60-80 ms here).
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, _freeze_what_lasts)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except NotImplementedError:  # pragma: no cover
                pass
        try:
            await stop.wait()
        finally:
            await self.stop()


def _freeze_what_lasts() -> None:
    gc.collect()
    gc.freeze()


__all__ = ["BotRuntime", "build_application", "kb"]
