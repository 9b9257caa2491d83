"""Inline and reply keyboards as Bot API dicts (stored verbatim in the outbox)."""

from __future__ import annotations

from typing import Any

Button = dict[str, Any]


def btn(text: str, data: str) -> Button:
    return {"text": text, "callback_data": data}


def inline(*rows: list[Button]) -> dict[str, Any]:
    return {"inline_keyboard": [r for r in rows if r]}


def columns(buttons: list[Button], n: int = 2) -> list[list[Button]]:
    return [buttons[i:i + n] for i in range(0, len(buttons), n)]


def contact_keyboard(label: str) -> dict[str, Any]:
    return {"keyboard": [[{"text": label, "request_contact": True}]], "resize_keyboard": True,
            "one_time_keyboard": True, "input_field_placeholder": "0812-3456-7890"}


REMOVE_KEYBOARD: dict[str, Any] = {"remove_keyboard": True}
