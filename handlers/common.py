"""Glue shared by the handler modules: the current transaction's services and tap answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from telegram import Update
from telegram.ext import ContextTypes

from bot.callbacks import Callback
from bot.env import Env
from bot.services.base import Ctx
from bot.updates import current_scope

S = TypeVar("S", bound=Ctx)


def svc(context: ContextTypes.DEFAULT_TYPE, cls: type[S]) -> S:
    env: Env = context.bot_data["env"]
    return cls(current_scope.get(), env)


def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the tap right after the transaction commits (or with the failure apology)."""
    q = update.callback_query
    if q is None:
        return
    # First of the post-commit work: a tap is answered before anything slower runs.
    current_scope.get().after_commit.insert(0, lambda: q.answer(text[:200] if text else None, show_alert=alert))


def decoded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Callback | None:
    env: Env = context.bot_data["env"]
    return env.codec.decode(update.callback_query.data if update.callback_query else None)


def numbers(cb: Callback, names: tuple[str, ...]) -> dict[str, int]:
    """The numbers a button carries, by name (``names``: in the order its keyboard wrote them).
    ValueError when it carries other than these, which the router answers as an invalid tap."""
    if len(cb.args) != len(names):
        raise ValueError(f"{cb.action}: {len(cb.args)} arguments where {names} are expected")
    return {name: int(arg) for name, arg in zip(names, cb.args)}


def tapped(update: Update) -> tuple[int, int]:
    m = update.callback_query.message  # type: ignore[union-attr]
    return (m.chat.id, m.message_id)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Tap(Generic[S]):
    """A button pressed, for a module's table of actions: the update, the service that takes it,
    the user, and the tapped message (chat id, message id)."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    svc: S
    uid: int

    @property
    def message(self) -> tuple[int, int]:
        return tapped(self.update)


def user_id(update: Update) -> int:
    return update.effective_user.id  # type: ignore[union-attr]


_background: set[asyncio.Task[None]] = set()


def in_background(work: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """Post-commit work that may take long (a call to SPLP): it runs as its own task, so the
    update (and the updates queued behind it) are not held up."""

    async def start() -> None:
        t = asyncio.create_task(work())
        _background.add(t)
        t.add_done_callback(_background.discard)

    return start
