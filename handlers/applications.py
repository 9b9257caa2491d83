"""Procedure B: /aplikasi, the application's data, and the guided portal steps."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.services.apps import Apps
from handlers.common import answer, svc, tapped, user_id

ACTIONS = ("ab", "ae", "as", "ag", "ax", "ad")


async def aplikasi(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await svc(context, Apps).start(user_id(update))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    a = svc(context, Apps)
    uid, n = user_id(update), [int(x) for x in cb.args]
    if cb.action == "ab":
        res = await a.begin(uid, n[0])
    elif cb.action in ("ae", "as"):
        res = await a.button(uid, cb.action, n[0], n[1])
    elif cb.action == "ag":
        res = await a.go(uid, n[0])
    elif cb.action == "ax":
        res = await a.cancel(uid, n[0])
    else:
        res = await a.step_done(uid, n[0], n[1], tapped(update))
    answer(update, res, alert=res in (T.TAP_FORBIDDEN, T.TAP_STALE))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("aplikasi", aplikasi))
