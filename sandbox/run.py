"""The sandbox: the whole SOP on one machine, without Telegram and without internet.

One process, everything on 127.0.0.1:

* the project's Bot API emulator (``sandbox/telegram.py``) plays Telegram;
* the WSO2-compatible SPLP server (``sandbox/wso2.py``) plays SPLP;
* the real bot (``bot.app.BotRuntime``) runs against both, in ``wso2`` adapter mode, on its own
  SQLite database in the data directory, on an adjustable clock (real time plus an offset that
  the page moves forward);
* demo data: the agency list, one official per role of the SOP it runs (``sandbox/cast.py``), a
  requester and a contact person, and the past six months of requests (``sandbox/history.py``)
  for ``/rekap``;
* a web page (``sandbox/web.py``) showing every persona's chat side by side.

State is kept in the data directory (database, chats, SPLP users and applications, the clock)
and survives restarts; :meth:`Sandbox.reset` (or ``--reset``) starts over.

    python main.py sandbox [--port 8080] [--data-dir data/sandbox] [--reset] [--sop FILE]

The SOP is ``--sop`` (default SOP_FILE, the shipped default): the personas, the demo history, the SPLP tenant
and the guided tour follow its chain and roles. A data directory keeps the SOP it was made with;
another SOP there is refused (start over with ``--reset``, or use another ``--data-dir``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import secrets
import shutil
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import BotRuntime, build_calendar
from bot.clock import OffsetClock
from bot.settings import Settings
from handlers import register_all
from sandbox.cast import Persona, personas
from sandbox.snapshot import load_wso2, save_wso2
from sandbox.telegram import TelegramEmulator
from sandbox.wso2 import WSO2Sandbox
from storage.db import Database, upgrade_async
from workflow.sop import Sop
from workflow.sopdoc import DEFAULT_SOP, SopInvalid, load

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
BOT_USERNAME = "splp_sandbox_bot"

# Files the sandbox owns in its data directory (reset removes exactly these, nothing else).
CONFIG_FILE = "sandbox.json"
CLOCK_FILE = "clock.json"
DB_FILE = "splp.db"
LOCK_FILE = ".sandbox.lock"
_OWNED_FILES = (CONFIG_FILE, CLOCK_FILE, DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", "secrets.key",
                TelegramEmulator.STATE_FILE, "wso2.json")
_OWNED_DIRS = (TelegramEmulator.FILES_DIR,)


# The personas of the default SOP (the requester, contact and admin are the same with any SOP).
PERSONAS: tuple[Persona, ...] = personas(load(DEFAULT_SOP))
PERSONA_BY_KEY = {p.key: p for p in PERSONAS}
PERSONA_BY_ID = {p.user_id: p for p in PERSONAS}


def bot_name(sop: Sop) -> str:
    """The sandbox bot's display name: ``"SPLP <the Pemda>"``."""
    return f"SPLP {sop.identity.pemda.removeprefix('Pemerintah ')}"


class SandboxError(RuntimeError):
    """The sandbox cannot start (port in use, data directory in use or unreadable)."""


def wipe(data_dir: Path) -> None:
    """Remove the sandbox's own files from ``data_dir`` (and nothing else)."""
    for name in _OWNED_FILES:
        (data_dir / name).unlink(missing_ok=True)
    for name in _OWNED_DIRS:
        shutil.rmtree(data_dir / name, ignore_errors=True)


class _DirLock:
    """One sandbox per data directory (an advisory lock on a file in it)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, as before
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SandboxError(f"another sandbox is running with the data directory {self.path.parent}; "
                               "stop it or use --data-dir") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


class Sandbox:
    """The emulator, the SPLP server, the bot, the demo data and the page, started as one.

    ``start_at``: the clock's time when the data directory is new (tests start on a Monday
    morning); afterwards the clock continues from what was saved. ``settings``: overrides of
    the bot's settings (tests make sending faster). ``port`` 0 picks a free port. ``sop_file``: the
    SOP the bot runs (default: the shipped default SOP); raises ``SopInvalid`` on an invalid file.
    """

    def __init__(self, data_dir: Path, *, port: int = 8080, start_at: datetime | None = None,
                 settings: dict[str, Any] | None = None, save_interval: float = 0.5,
                 sop_file: Path | None = None) -> None:
        from sandbox.web import SandboxWeb

        self.sop_file = Path(sop_file or DEFAULT_SOP).resolve()
        self.sop = load(self.sop_file)
        self.personas = personas(self.sop)
        self.persona_by_key = {p.key: p for p in self.personas}
        self.persona_by_id = {p.user_id: p for p in self.personas}
        self.bot_name = bot_name(self.sop)
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.start_at = start_at
        self.overrides = dict(settings or {})
        self.save_interval = save_interval
        self.web = SandboxWeb(self)
        self.epoch = ""  # changes whenever the world is (re)built: open pages reload
        self.clock: OffsetClock | None = None
        self.emu: TelegramEmulator | None = None
        self.splp: WSO2Sandbox | None = None
        self.db: Database | None = None
        self.runtime: BotRuntime | None = None
        self.settings: Settings | None = None
        self._lock = _DirLock(self.data_dir)
        self._world_lock = asyncio.Lock()
        self._saver: asyncio.Task | None = None
        self._unsubscribe: Any = None
        self._saved_marks: tuple[int, int] = (-1, -1)

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return self.web.url

    @property
    def ready(self) -> bool:
        return self.runtime is not None and self.runtime.env is not None

    async def start(self) -> None:
        self._lock.acquire()
        try:
            await self.web.start(HOST, self.port)
            async with self._world_lock:
                await self._start_world()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        async with self._world_lock:
            await self._stop_world(save=True)
        await self.web.stop()
        self._lock.release()

    async def reset(self) -> None:
        """Start over: empty chats, database, SPLP and clock; demo data seeded again."""
        async with self._world_lock:
            await self._stop_world(save=False)
            wipe(self.data_dir)
            await self._start_world()
        self.web.broadcast({"type": "reset", "epoch": self.epoch})

    def _config(self) -> dict[str, Any]:
        """The sandbox's own bot token and SPLP admin password, made once per data directory."""
        path = self.data_dir / CONFIG_FILE
        if path.exists():
            try:
                cfg = json.loads(path.read_text("utf-8"))
                if (isinstance(cfg.get("bot_id"), int) and isinstance(cfg.get("token"), str)
                        and isinstance(cfg.get("splp_admin_password"), str)):
                    return cfg
            except ValueError:
                pass
            raise SandboxError(f"{path} is damaged; start over with --reset")
        bot_id = 7_000_000_001
        cfg = {"bot_id": bot_id, "token": f"{bot_id}:{secrets.token_urlsafe(27)}",
               "splp_admin_password": secrets.token_urlsafe(12) + "#1", "sop_version": self.sop.version,
               "sop_roles": list(self.sop.roles)}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # secrets: owner only
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        return cfg

    async def _start_world(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cfg = self._config()
        made_with = cfg.get("sop_roles")
        if made_with is not None and set(made_with) != set(self.sop.roles):
            raise SandboxError(f"the data directory {self.data_dir} was made with another SOP (roles "
                               f"{', '.join(made_with)}); start over with --reset or use another --data-dir")
        tenant = self.sop.tenant
        admin_user = f"admin@{tenant}"
        try:
            clock = OffsetClock(self.data_dir / CLOCK_FILE, start=self.start_at)
        except ValueError as e:
            raise SandboxError(f"{e}; start over with --reset") from None
        emu = TelegramEmulator(token=cfg["token"], bot_username=BOT_USERNAME, bot_id=cfg["bot_id"],
                               bot_first_name=self.bot_name, now=lambda: clock.now().timestamp())
        emu.max_calls = 500
        splp = WSO2Sandbox(tenant=tenant, admin_username=admin_user, admin_password=cfg["splp_admin_password"],
                           now=lambda: clock.now().timestamp())
        try:
            emu.load_state(self.data_dir)
            load_wso2(splp, self.data_dir)
        except ValueError as e:
            raise SandboxError(f"{e}; start over with --reset") from None
        for p in self.personas:
            if p.user_id not in emu.users:
                emu.add_user(p.user_id, p.name, started=p.role is not None)
        await emu.start(HOST, 0)
        try:
            await splp.start(HOST, 0)
            settings = Settings.from_env(**{
                "reminder_sweep_seconds": 10.0,
                **self.overrides,
                "bot_token": cfg["token"],
                "database_url": f"sqlite+aiosqlite:///{self.data_dir / DB_FILE}",
                "telegram_api_url": emu.api_url,
                "data_dir": self.data_dir,
                "secrets_key": "",
                "webhook_url": "",
                "splp_mode": "wso2",
                "splp_base_url": splp.base_url,
                "splp_gateway_url": splp.base_url,
                "sop_file": self.sop_file,
                "splp_admin_username": admin_user,
                "splp_admin_password": cfg["splp_admin_password"],
            })
            await upgrade_async(settings.database_url)
            db = Database(settings.database_url)
            try:
                await _seed(db, settings, clock, self.sop, self.personas)
                runtime = BotRuntime(settings, db, register=register_all, clock=clock, instance_id="sandbox",
                                     sop=self.sop)
                try:
                    await runtime.start()
                except BaseException:
                    await runtime.stop()
                    raise
            except BaseException:
                await db.dispose()
                raise
        except BaseException:
            await splp.stop()
            await emu.stop()
            raise
        self.clock, self.emu, self.splp, self.db, self.runtime, self.settings = clock, emu, splp, db, runtime, settings
        self.epoch = secrets.token_hex(4)
        self._unsubscribe = emu.subscribe(self._on_emulator_event)
        self._saved_marks = (-1, -1)
        self._save()
        self._saver = asyncio.create_task(self._save_loop(), name="sandbox-saver")

    async def _stop_world(self, *, save: bool) -> None:
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # stopping must never fail here
                await self._saver
            self._saver = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            try:
                await runtime.stop()
            except Exception:
                log.exception("stopping the bot failed")
        if self.db is not None:
            await self.db.dispose()
            self.db = None
        if self.emu is not None:
            await self.emu.stop()
        if self.splp is not None:
            await self.splp.stop()
        if save and self.emu is not None and self.splp is not None:
            self._save(force=True)
        self.emu = self.splp = None

    # ------------------------------------------------------------------ persistence
    def _save(self, *, force: bool = False) -> None:
        """Write the chats and the SPLP state when they changed since the last save (or always)."""
        emu, splp = self.emu, self.splp
        if emu is None or splp is None:
            return
        marks = (emu.changes, len(splp.calls))
        if marks == self._saved_marks and not force:
            return
        try:
            if force or marks[0] != self._saved_marks[0]:
                emu.save_state(self.data_dir)
            if force or marks[1] != self._saved_marks[1]:
                save_wso2(splp, self.data_dir)
                del splp.calls[:-100]  # the call log is for tests; keep memory bounded
        except Exception as e:  # noqa: BLE001 -- keep the sandbox running; the next save tries again
            log.error("saving the sandbox state failed: %s: %s", type(e).__name__, e)
            return
        self._saved_marks = (emu.changes, len(splp.calls))

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(self.save_interval)
            self._save()

    # ------------------------------------------------------------------ events and the clock
    def _on_emulator_event(self, event: dict) -> None:
        self.web.on_emulator_event(event)

    def clock_state(self) -> dict[str, Any]:
        from bot.texts import fmt_dt

        assert self.clock is not None and self.runtime is not None and self.runtime.env is not None
        now = self.clock.now()
        tz = self.runtime.settings.tz
        return {"text": fmt_dt(now, tz), "working": self.runtime.env.calendar.is_working_time(now),
                "iso": now.astimezone(tz).isoformat(timespec="seconds")}

    async def advance(self, action: str) -> dict[str, Any]:
        """Move the clock forward ("hour", "next_start": the next working day's start,
        "working_day": one SOP working day) and send what became due right away."""
        async with self._world_lock:
            if not self.ready:
                raise SandboxError("the sandbox is not running")
            assert self.clock is not None and self.runtime is not None and self.runtime.env is not None
            await self.runtime.refresh_calendar()  # an admin may have changed days off meanwhile
            cal = self.runtime.env.calendar
            tz = self.runtime.settings.tz
            now = self.clock.now()
            if action == "hour":
                target = now + timedelta(hours=1)
            elif action == "next_start":
                local = now.astimezone(tz)
                start = cal.day_start(local.date())
                target = start if start is not None and local < start else cal.next_working_day_start(local.date())
            elif action == "working_day":
                target = cal.due_after_working_days(now, 1)
            else:
                raise ValueError(f"unknown clock action {action!r}")
            self.clock.advance_to(target)
            await self.runtime.sweep_reminders()
            assert self.runtime.sender is not None
            self.runtime.sender.wake()
            state = self.clock_state()
        self.web.broadcast({"type": "clock", "clock": state})
        return state


async def _seed(db: Database, settings: Settings, clock: OffsetClock, sop: Sop,
                cast: tuple[Persona, ...]) -> None:
    """The agency list, one official per role and the demo history, once (an empty database gets them)."""
    from sqlalchemy import func, select

    from bot.callbacks import CallbackCodec
    from bot.env import Env
    from bot.services.officials import Officials
    from bot.updates import work_scope
    from sandbox.history import seed_demo_history
    from storage.models import Official
    from storage.repo import seed_agencies_if_empty

    async with db.transaction() as s:
        await seed_agencies_if_empty(s)
        if await s.scalar(select(func.count()).select_from(Official)):
            return
        now = clock.now()
        scope = work_scope(s, now)
        env = Env(settings, CallbackCodec(settings.require_token()), clock,
                  build_calendar(settings, sop, now.astimezone(settings.tz).date()), sop)
        svc = Officials(scope, env)
        for p in cast:
            if p.role is not None:
                await svc.add(p.user_id, p.name, p.role)
        await scope.outbox.flush()
        await s.flush()
        # Past months of requests, so that /rekap has something real to show.
        await seed_demo_history(s, env.calendar, sop, now)


def _banner(sb: Sandbox) -> str:
    assert sb.emu is not None and sb.splp is not None
    clock = sb.clock_state()
    return "\n".join((
        f"SPLP sandbox is running: open {sb.url}",
        f"  Telegram Bot API emulator  {sb.emu.api_url}  (bot @{BOT_USERNAME})",
        f"  SPLP (WSO2-compatible)     {sb.splp.base_url}  (tenant {sb.sop.tenant})",
        f"  SOP                        {sb.sop.label}: {sb.sop.identity.title} ({sb.sop_file})",
        f"  data                       {sb.data_dir}  (kept across restarts; --reset or the page's reset button wipes it)",
        f"  sandbox clock              {clock['text']} ({'jam kerja' if clock['working'] else 'di luar jam kerja'})",
        "Press Ctrl+C to stop.",
    ))


async def serve(data_dir: Path, port: int, *, reset: bool = False, sop_file: Path | None = None) -> int:
    """Run the sandbox until Ctrl+C / SIGTERM (the command line's entry point)."""
    data_dir = Path(data_dir)
    if reset:
        lock = _DirLock(data_dir.resolve())
        try:
            lock.acquire()
        except SandboxError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        wipe(data_dir)
        lock.release()
    try:
        sb = Sandbox(data_dir, port=port, sop_file=sop_file)
    except SopInvalid as e:
        print(f"error: the SOP file is invalid:\n{e}", file=sys.stderr)
        return 2
    try:
        await sb.start()
    except SandboxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(_banner(sb), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("Stopping the sandbox…", flush=True)
        await sb.stop()
    return 0


def port_in_use_message(port: int) -> str:
    return f"port {port} is in use on {HOST}; use --port to pick another one (e.g. --port {port + 1})"


def is_addr_in_use(e: OSError) -> bool:
    return e.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1))
