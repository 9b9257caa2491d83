"""Telegram adapters, one module per flow. :func:`register_all` puts them on an Application: the
bot's runtime (``bot/app.py``) receives it from whoever composes the bot (``main.py``, the
sandbox, the tests), so ``bot/`` never imports ``handlers/``."""

from __future__ import annotations

from typing import Any


def register_all(app: Any) -> None:
    """Every handler, in the order PTB must try them (the router's catch-alls last)."""
    from handlers import admin, applications, calendar, disposition, oversight, request_form, router, start, status

    for mod in (start, request_form, disposition, status, admin, calendar, applications, oversight, router):
        mod.register(app)
