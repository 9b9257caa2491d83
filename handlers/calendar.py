"""Admin: the working calendar (/kalender): extra days off and special hours."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.services.calendar_admin import CalendarAdmin
from handlers.common import answer, svc, user_id
from workflow.sop import ADMIN

ACTIONS = ("ca",)


async def kalender(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    c = svc(context, CalendarAdmin)
    uid = user_id(update)
    if ADMIN not in (await c.actor(uid)).roles:
        c.out.send(uid, "Perintah ini hanya untuk admin.")
        return
    await c.show(uid)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    c = svc(context, CalendarAdmin)
    uid = user_id(update)
    if ADMIN not in (await c.actor(uid)).roles:
        c.audit("refused", actor_tg=uid, action_tried="calendar")
        answer(update, T.TAP_FORBIDDEN, alert=True)
        return
    what = cb.args[0] if cb.args else ""
    if what not in ("off", "hours", "rm"):
        answer(update, T.TAP_INVALID)
        return
    await c.ask(uid, what)
    answer(update)


async def typed(c: CalendarAdmin, uid: int, what: str, text: str) -> None:
    actor = await c.actor(uid)
    if ADMIN not in actor.roles:
        await c.clear_awaiting(uid)
        return
    await c.typed(uid, what, text, actor.official_id)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("kalender", kalender))
