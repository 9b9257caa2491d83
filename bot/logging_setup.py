"""Logging that never prints the bot token or full personal data."""

from __future__ import annotations

import logging
import re


class RedactFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]
        self.token_re = re.compile(r"bot\d+:[A-Za-z0-9_-]{20,}")

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        red = self.token_re.sub("bot<redacted>", msg)
        for s in self.secrets:
            red = red.replace(s, "<redacted>")
        if red != msg:
            record.msg, record.args = red, None
        return True


def setup_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries()


def quiet_libraries() -> None:
    """Library loggers that would print tokens or personal data stay quiet even at DEBUG:
    httpx/httpcore log request URLs (which contain the bot token), PTB logs every Bot API
    call with its parameters (message texts hold contact data)."""
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for chatty in ("telegram", "telegram.ext"):
        logging.getLogger(chatty).setLevel(logging.INFO)
