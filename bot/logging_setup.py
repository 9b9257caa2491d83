"""Logging that never prints the bot token or full personal data."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import socket
from datetime import UTC, datetime
from typing import Any

# What the current task is working on, for the JSON log lines: {"update_id": ..., "request": ...}.
# A dict set once per update and filled in as the update goes (the request is known only later).
log_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("log_context", default=None)


class RedactFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]
        self.token_re = re.compile(r"bot\d+:[A-Za-z0-9_-]{20,}")

    def scrub(self, text: str) -> str:
        red = self.token_re.sub("bot<redacted>", text)
        for s in self.secrets:
            red = red.replace(s, "<redacted>")
        return red

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        red = self.scrub(msg)
        if red != msg:
            record.msg, record.args = red, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, instance, update_id, request, event (and the
    exception's type and traceback). The message is the redacted one (RedactFilter runs first)."""

    def __init__(self, instance: str, redact: RedactFilter) -> None:
        super().__init__()
        self.instance, self.redact = instance, redact

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "instance": self.instance,
        }
        ctx = log_context.get()
        if ctx:
            out.update((k, v) for k, v in ctx.items() if v is not None)
        out["event"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            out["exc_type"] = record.exc_info[0].__name__
            out["traceback"] = self.redact.scrub(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def track_requests() -> None:
    """Name the request an update works on in its log lines: the first request it loads or creates."""
    from sqlalchemy import event

    from storage.models import Request

    def seen(target: Request, *_: Any) -> None:
        ctx = log_context.get()
        if ctx is not None and ctx.get("request") is None:
            ctx["request"] = target.number

    if not event.contains(Request, "load", seen):
        event.listen(Request, "load", seen)
        event.listen(Request, "after_insert", lambda _m, _c, target: seen(target))


def setup_logging(level: str, secrets: list[str], fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    redact = RedactFilter(secrets)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(os.environ.get("INSTANCE_ID") or socket.gethostname(), redact))
        track_requests()
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redact)
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
