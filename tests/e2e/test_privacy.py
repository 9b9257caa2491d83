"""Logs never hold the bot token or a contact person's data in full."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.logging_setup import RedactFilter, quiet_libraries
from tests.e2e.flows import to_executor
from tests.e2e.harness import EXEC1, REQUESTER, Harness


async def test_no_token_or_personal_data_in_logs(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    quiet_libraries()  # as main.py configures logging, with LOG_LEVEL=DEBUG
    caplog.set_level(logging.DEBUG)
    await h.submit()
    ex = await to_executor(h)
    await h.tap(EXEC1, ex, text=h.button(ex, "Lengkap"))
    # A failing send and a failing handler make the bot log too.
    h.emu.fail_next("sendMessage", status=500)
    after = h.last_id(REQUESTER)
    h.emu.send_text(REQUESTER, "/status")
    for _ in range(50):
        h.clock.advance(seconds=5)
        h.runtime.sender.wake()  # type: ignore[union-attr]
        await asyncio.sleep(0.05)
        if h.last_id(REQUESTER) > after:
            break
    assert h.last_id(REQUESTER) > after
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records  # something was logged
    token_secret = h.emu.token.split(":", 1)[1]
    for secret in (token_secret, "siti.aminah@kotabogor.go.id", "+6281234567890", "0812-3456-7890",
                   "6281234567890", "Siti Aminah"):
        assert secret not in text, secret


def test_redact_filter_hides_tokens() -> None:
    rec = logging.LogRecord("x", logging.INFO, __file__, 1,
                            "POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage %s",
                            ("secret-value",), None)
    RedactFilter(["secret-value"]).filter(rec)
    msg = rec.getMessage()
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in msg and "secret-value" not in msg


async def test_delivered_messages_keep_no_personal_data(h: Harness) -> None:
    """The outbox keeps a delivered message's id, chat, method, status and times, not its text:
    once a request is finished no row holds the contact person's name, email or phone."""
    from sqlalchemy import select

    from storage.models import Outbox
    from tests.e2e.flows import complete_procedure_a

    await complete_procedure_a(h, 6400)
    await h.settle()
    async with h.db.sessions() as s:
        rows = (await s.execute(select(Outbox.id, Outbox.status, Outbox.live_buttons, Outbox.params))).all()
    assert rows and {r.status for r in rows} <= {"sent", "cancelled", "pending"}
    personal = ("Siti Aminah", "siti.aminah@kotabogor.go.id", "+6281234567890", "0812-3456-7890", "6281234567890")
    for r in rows:
        body = repr(r.params)
        assert not any(p in body for p in personal), (r.id, r.status, body[:200])
        if r.status != "pending":
            assert set(r.params) <= {"chat_id", "message_id"} and not r.live_buttons, r
