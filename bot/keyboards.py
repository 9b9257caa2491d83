"""Inline and reply keyboards as Bot API dicts (stored verbatim in the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Button = dict[str, Any]


def btn(text: str, data: str) -> Button:
    return {"text": text, "callback_data": data}


def inline(*rows: list[Button]) -> dict[str, Any]:
    return {"inline_keyboard": [r for r in rows if r]}


def columns(buttons: list[Button], n: int = 2) -> list[list[Button]]:
    return [buttons[i:i + n] for i in range(0, len(buttons), n)]


def pager(page: int, pages: int, to_page: Callable[[int], str], indicator: str, *,
          prev_label: str = "◀️", next_label: str = "▶️") -> list[Button]:
    """A navigation row: previous, "page/pages" (``indicator``: a button that only answers the
    tap — re-sending the same page would be refused by Telegram as "not modified"), next."""
    row = []
    if page > 0:
        row.append(btn(prev_label, to_page(page - 1)))
    row.append(btn(f"{page + 1}/{pages}", indicator))
    if page < pages - 1:
        row.append(btn(next_label, to_page(page + 1)))
    return row


def contact_keyboard(label: str) -> dict[str, Any]:
    return {"keyboard": [[{"text": label, "request_contact": True}]], "resize_keyboard": True,
            "one_time_keyboard": True, "input_field_placeholder": "0812-3456-7890"}


REMOVE_KEYBOARD: dict[str, Any] = {"remove_keyboard": True}
