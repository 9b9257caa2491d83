"""`python main.py doctor` against the Bot API emulator and the WSO2 sandbox: what it finds, how it
says it, and its exit status (non-zero when something blocks operation)."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import PIPE
from dataclasses import replace
from pathlib import Path

import pytest

from sqlalchemy import update

from bot.doctor import FAIL, OK, WARN, Doctor, Finding, report
from sandbox.wso2 import WSO2Sandbox
from storage.models import Official
from tests.e2e.harness import TEAM, Harness

ROOT = Path(__file__).resolve().parents[2]


def lines(findings: list[Finding], status: str, topic: str) -> list[str]:
    return [f.message for f in findings if f.status == status and f.topic == topic]


@pytest.mark.bot_api_refusals("Unauthorized")  # the doctor is shown an invalid token on purpose
async def test_doctor(h: Harness, tmp_path: Path) -> None:
    settings = h.settings
    found = await Doctor(settings).run()
    assert not [f for f in found if f.status == FAIL], report(found)
    assert lines(found, OK, "Telegram token") == ["valid: the bot is @splp_test_bot (id 123456)"]
    assert lines(found, OK, "Webhook") and "polling mode" in lines(found, OK, "Webhook")[0]
    assert "migrations at head" in lines(found, OK, "Database")[0]
    assert "decrypts the 0 stored secret(s)" in lines(found, OK, "Secrets key")[0]
    assert "head 1, division_head 1, team_lead 1, executor 2" in lines(found, OK, "Officials")[0]
    assert lines(found, OK, "Calendar") and lines(found, OK, "Clock") and lines(found, OK, "SPLP")

    # A wrong token: Telegram refuses it; the admin is told where to get it again.
    bad = await Doctor(replace(settings, bot_token="123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).run()
    assert "Telegram refused the token (401" in lines(bad, FAIL, "Telegram token")[0]
    assert "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in report(bad)

    # A role of the chain without an active official blocks operation.
    async with h.db.transaction() as s:
        await s.execute(update(Official).where(Official.telegram_id == TEAM).values(active=False))
    gap = await Doctor(settings).run()
    assert len(lines(gap, FAIL, "Officials")) == 1 and "team_lead (Ketua Tim Aplikasi)" in \
        lines(gap, FAIL, "Officials")[0]

    # The webhook points elsewhere than this configuration says.
    await h.stop()
    h.emu.webhook_url = "https://elsewhere.example/hook"
    hooked = await Doctor(replace(settings, webhook_url="https://bot.example.go.id", webhook_secret="s3cret")).run()
    assert "https://elsewhere.example/hook" in lines(hooked, WARN, "Webhook")[0]
    assert "expects https://bot.example.go.id/telegram" in lines(hooked, WARN, "Webhook")[0]
    polling = await Doctor(settings).run()  # polling configured, a webhook set
    assert "polls (no WEBHOOK_URL)" in lines(polling, WARN, "Webhook")[0]
    h.emu.webhook_url = ""

    # The key: missing with PostgreSQL blocks; wrong for stored secrets blocks.
    if "postgres" in h.db_url:
        nokey = await Doctor(replace(settings, secrets_key="")).run()
        assert "SECRETS_KEY is not set" in lines(nokey, FAIL, "Secrets key")[0]
    else:
        fresh = await Doctor(replace(settings, data_dir=tmp_path / "empty")).run()
        assert "generated on the first start" in lines(fresh, WARN, "Secrets key")[0]

    # The command line: the report and the exit status.
    env = {**os.environ, "BOT_TOKEN": settings.bot_token, "TELEGRAM_API_URL": settings.telegram_api_url,
           "DATABASE_URL": h.db_url, "DATA_DIR": str(settings.data_dir), "SECRETS_KEY": settings.secrets_key}
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "main.py"), "doctor", cwd=tmp_path,
                                                env=env, stdout=PIPE, stderr=PIPE)  # the emulator runs here
    out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 60))
    assert proc.returncode == 1, out + err
    assert "FAIL  Officials" in out and "1 problem(s) block operation" in out
    assert settings.bot_token not in out + err


async def test_doctor_database_and_splp(emu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings

    async with WSO2Sandbox(tenant="kotabogor.go.id") as splp:
        base = Settings(bot_token=emu.token, telegram_api_url=emu.api_url, data_dir=tmp_path,
                        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", splp_mode="wso2",
                        splp_base_url=splp.base_url, splp_admin_username="admin@kotabogor.go.id",
                        splp_admin_password="admin-pass", splp_timeout=3)
        found = await Doctor(base).run()
        assert "cannot connect to the PostgreSQL" in lines(found, FAIL, "Database")[0]
        assert not lines(found, FAIL, "Officials")  # not checked without a database
        assert "the tenant admin is accepted in kotabogor.go.id" in lines(found, OK, "SPLP")[0]
        wrong = await Doctor(replace(base, splp_admin_password="wrong")).run()
        assert "refused the tenant admin admin@kotabogor.go.id" in lines(wrong, FAIL, "SPLP")[0]
        assert "wrong" not in report(wrong)
    gone = await Doctor(base).run()  # SPLP not answering: step 5 waits, the bot runs
    assert lines(gone, WARN, "SPLP")[0].startswith(f"{base.splp_base_url}: unavailable")
