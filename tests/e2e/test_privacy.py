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
