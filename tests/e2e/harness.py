"""The real bot, running against the in-project Bot API emulator over HTTP, on a test database,
under an SOP file (Bogor's by default)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import BotRuntime
from bot.clock import FakeClock
from bot.settings import Settings
from handlers import register_all
from sandbox.telegram import Msg, TelegramEmulator
from storage.db import Database
from storage.models import Official, Request
from storage.repo import seed_agencies_if_empty
from workflow.sop import ADMIN as ADMIN_ROLE
from workflow.sopdoc import DEFAULT_SOP, load

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)

# Telegram user ids of the cast. HEAD, DIVISION and TEAM play the SOP's chain, hop by hop (with a
# two-hop chain there is no TEAM); EXEC1 and EXEC2 its executor role.
REQUESTER, HEAD, DIVISION, TEAM, EXEC1, EXEC2, ADMIN, STRANGER = 5001, 1001, 1002, 1003, 1004, 1005, 1006, 7777
HOPS = ((HEAD, "Rahmat Hidayat"), (DIVISION, "Dewi Kartika"), (TEAM, "Agus Salim"), (1007, "Eko Prasetyo"),
        (1008, "Fitri Handayani"))

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"


class Harness:
    def __init__(self, emu: TelegramEmulator, db_url: str, *, clock: FakeClock | None = None,
                 scheduled_jobs: bool = False, sop_file: Path | None = None, **settings: object) -> None:
        self.emu = emu
        self.sop = load(sop_file or DEFAULT_SOP)
        settings["sop_file"] = sop_file or DEFAULT_SOP
        self.db_url = db_url
        self.clock = clock or FakeClock(MONDAY_9)
        import tempfile

        from cryptography.fernet import Fernet

        given = settings.pop("data_dir", None)
        self.data_dir = given or tempfile.mkdtemp(prefix="splp-data-")
        self._own_data_dir = given is None  # removed by close()
        if "postgres" in db_url:  # the embedded default generates its key file; PostgreSQL needs SECRETS_KEY
            settings.setdefault("secrets_key", Fernet.generate_key().decode())
        settings = {"per_chat_per_second": 0, "rate_limit_per_second": 1000, "poll_timeout": 1, "request_timeout": 2,
                    **settings}
        self.settings = Settings(
            bot_token=emu.token, database_url=db_url, telegram_api_url=emu.api_url,
            data_dir=self.data_dir, **settings)  # type: ignore[arg-type]
        self.db = Database(db_url)
        self.runtime: BotRuntime | None = None
        # Off: tests sweep explicitly (tick), so nothing arrives at a moment they did not choose.
        self.scheduled_jobs = scheduled_jobs

    async def start(self) -> None:
        async with self.db.transaction() as s:
            await seed_agencies_if_empty(s)
        self.runtime = BotRuntime(self.settings, self.db, register=register_all, clock=self.clock, instance_id="test-1",
                                  scheduled_jobs=self.scheduled_jobs)
        await self.runtime.start()

    async def stop(self) -> None:
        if self.runtime:
            await self.runtime.stop()
            self.runtime = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def close(self) -> None:
        await self.stop()
        await self.db.dispose()
        if self._own_data_dir:
            import shutil
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def add_official(self, telegram_id: int, name: str, *roles: str) -> None:
        from bot.outbox import OutboxWriter
        from bot.services.officials import Officials
        from bot.updates import Scope
        from main import _cli_env

        async with self.db.transaction() as s:
            now = self.clock.now()
            scope = Scope(s, now, OutboxWriter(s, now), None)  # type: ignore[arg-type]
            svc = Officials(scope, _cli_env(self.settings))
            for r in roles:
                await svc.add(telegram_id, name, r)
            await scope.outbox.flush()
        self.emu.add_user(telegram_id, name.split()[0], started=True)

    def hop_user(self, stage: str) -> int:
        """Who of the cast holds ``stage`` of the chain (HEAD the first hop, DIVISION the second ...)."""
        return HOPS[self.sop.chain.index(stage)][0]

    def user_of(self, role: str) -> int:
        """The cast's (first) official with ``role``."""
        if role == self.sop.executor:
            return EXEC1
        if role == ADMIN_ROLE:
            return ADMIN
        return self.hop_user(next(st for st in self.sop.chain if self.sop.holder(st) == role))

    async def cast(self) -> None:
        """The officials, onto the SOP's roles: the chain's hops in order, two executors, the admin
        (and any other role of the SOP on a person of its own)."""
        sop = self.sop
        for stage, (uid, name) in zip(sop.chain, HOPS):
            await self.add_official(uid, name, sop.holder(stage))  # type: ignore[arg-type]
        await self.add_official(EXEC1, "Budi Pranoto", sop.executor)
        await self.add_official(EXEC2, "Citra Lestari", sop.executor)
        others = [r for r in sop.roles if r not in sop.chain_roles]
        for i, role in enumerate(others):
            await self.add_official(1020 + i, f"Pejabat Lain {i + 1}", role)
        await self.add_official(ADMIN, "Admin Kantor", ADMIN_ROLE)

    # --- acting ---
    def last_id(self, chat: int) -> int:
        m = self.emu.last_bot_message(chat, include_deleted=True)
        return m.message_id if m else 0

    async def say(self, uid: int, text: str, *, expect: str | None = None, timeout: float = 5) -> Msg:
        after = self.last_id(uid)
        self.emu.send_text(uid, text)
        return await self.emu.wait_bot_message(uid, contains=expect, after=after, timeout=timeout)

    async def tap(self, uid: int, msg: Msg | int, *, text: str | None = None, data: str | None = None,
                  expect: str | None = None, timeout: float = 5) -> dict:
        """Tap a button; returns the callback answer. With ``expect``, also waits for a new bot message."""
        mid = msg if isinstance(msg, int) else msg.message_id
        after = self.last_id(uid)
        qid = self.emu.tap(uid, mid, data, button_text=text) if text or data else None
        assert qid is not None
        ans = await self.emu.wait_callback_answer(qid, timeout=timeout)
        if expect:
            await self.emu.wait_bot_message(uid, contains=expect, after=after, timeout=timeout)
        return ans

    async def tap_data(self, uid: int, msg: Msg | int, data: str) -> dict:
        """Tap a button by its callback data, even one no longer on the message (an old copy of
        it, as a client that has not refreshed would send); returns the callback answer."""
        mid = msg if isinstance(msg, int) else msg.message_id
        return await self.emu.wait_callback_answer(self.emu.tap_raw(uid, mid, data))

    @staticmethod
    def data(msg: Msg, contains: str) -> str:
        """The callback data of the button whose text contains ``contains``."""
        for b in msg.buttons:
            if contains in b["text"]:
                return b["callback_data"]
        raise LookupError(f"no button containing {contains!r} in {msg.button_texts}")

    def button(self, msg: Msg, contains: str) -> str:
        for b in msg.buttons:
            if contains in b["text"]:
                return b["text"]
        raise LookupError(f"no button containing {contains!r} in {msg.button_texts}")

    async def wait_msg(self, uid: int, contains: str, *, after: int = 0, timeout: float = 5) -> Msg:
        return await self.emu.wait_bot_message(uid, contains=contains, after=after, timeout=timeout)

    async def settle(self) -> None:
        """Let everything committed be delivered."""
        assert self.runtime and self.runtime.sender
        await self.runtime.sender.drain()

    async def request(self, number: str | None = None) -> Request:
        async with self.db.sessions() as s:
            q = select(Request).order_by(Request.id.desc())
            if number:
                q = select(Request).where(Request.number == number)
            r = await s.scalar(q)
            assert r is not None
            return r

    async def official_id(self, telegram_id: int) -> int:
        async with self.db.sessions() as s:
            return (await s.scalar(select(Official.id).where(Official.telegram_id == telegram_id)))  # type: ignore[return-value]

    # --- the requester's form, filled in the ordinary way ---
    async def fill_form(self, uid: int = REQUESTER, *, phone: str = "0812-3456-7890",
                        letter_date: str = "27-11-2026") -> Msg:
        await self.say(uid, "/ajukan", expect="Perangkat Daerah")
        await self.say(uid, "dinkes", expect="nomor surat")
        await self.say(uid, "000.1/123-Dinkes/2026", expect="tanggal surat")
        await self.say(uid, letter_date, expect="perihal")
        m = self.emu.last_bot_message(uid)
        await self.tap(uid, m, text=self.button(m, "Gunakan"), expect="nama lengkap narahubung")
        await self.say(uid, "Siti Aminah", expect="email")
        await self.say(uid, "siti.aminah@kotabogor.go.id", expect="nomor ponsel")
        await self.say(uid, phone, expect="nama aplikasi")
        await self.say(uid, "SIMPUS Kota Bogor", expect="proses bisnis")
        await self.say(uid, "Aplikasi SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data "
                            "Kota Bogor melalui SPLP setiap hari.", expect="pindaian")
        after = self.last_id(uid)
        self.emu.send_document(uid, PDF, file_name="surat.pdf", mime_type="application/pdf")
        return await self.wait_msg(uid, "Ringkasan permohonan", after=after)

    async def submit(self, uid: int = REQUESTER) -> str:
        summary = await self.fill_form(uid)
        await self.tap(uid, summary, text=self.button(summary, "Kirim"), expect="telah diterima dengan nomor")
        req = await self.request()
        return req.number


def refused_calls(emu: TelegramEmulator, allowed: tuple[str, ...] = ()) -> list[str]:
    """Bot API calls the bot made that Telegram would refuse (4xx), except injected faults and
    the refusals a test expects (``allowed``: substrings of the error description)."""
    out = []
    for c in emu.calls:
        if c.status is None or not 400 <= c.status < 500 or c.fault in ("fail", "abandoned"):
            continue
        desc = (c.response or {}).get("description", "")
        if any(a in desc for a in allowed):
            continue
        where = {k: c.params.get(k) for k in ("chat_id", "message_id") if k in c.params}
        out.append(f"{c.method} {where} -> {c.status} {desc}")
    return out


def fail_on_refusals(emu: TelegramEmulator, request: pytest.FixtureRequest) -> None:
    """Fail the test if the bot provoked a refusal it did not declare with
    ``@pytest.mark.bot_api_refusals(...)``: every Bot API call must be one Telegram accepts."""
    marker = request.node.get_closest_marker("bot_api_refusals")
    refused = refused_calls(emu, tuple(marker.args) if marker else ())
    if refused:
        pytest.fail("the bot made Bot API calls that Telegram refuses (mark the test with "
                    "@pytest.mark.bot_api_refusals(...) if it provokes them on purpose):\n  "
                    + "\n  ".join(refused[:20]), pytrace=False)


async def wait_until(pred, timeout: float = 5.0, interval: float = 0.02):  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        v = pred()
        if asyncio.iscoroutine(v):
            v = await v
        if v:
            return v
        if loop.time() > end:
            raise TimeoutError("condition not met")
        await asyncio.sleep(interval)
