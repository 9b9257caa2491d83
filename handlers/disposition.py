"""Officials' buttons: disposition, assignment, completeness check; the requester's return buttons; /tugas."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.services.dispose import Dispose
from bot.services.form import Form
from handlers.common import answer, svc, tapped, user_id


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    d = svc(context, Dispose)
    uid, msg = user_id(update), tapped(update)
    a, n = cb.action, [int(x) for x in cb.args]
    res: str | None
    if a == "ex":
        res = await d.choose_executor(uid, n[0], n[1], n[2], msg)
    elif a == "di":
        res = await d.choose_instruction(uid, n[0], n[1], n[2], n[3], msg)
    elif a == "dn":
        res = await d.dispose(uid, n[0], n[1], n[2], n[3], None, msg)
    elif a == "dw":
        res = await d.ask_note(uid, n[0], n[1], n[2], n[3], msg)
    elif a == "db":
        res = await d.back(uid, n[0], n[1], msg)
    elif a == "ok":
        res = await d.complete(uid, n[0], n[1], msg)
    elif a == "no":
        res = await d.incomplete(uid, n[0], n[1], n[2], None, msg)
    elif a == "nt":
        res = await d.incomplete(uid, n[0], n[1], n[2], n[3], msg)
    elif a == "nr":
        res = await d.ask_reason(uid, n[0], n[1], n[2], msg)
    elif a == "rs":
        res = await svc(context, Form).start_correction(uid, n[0], n[1])
    elif a == "rc":
        res = await d.cancel_request(uid, n[0], n[1], msg)
    else:
        res = T.TAP_INVALID
    answer(update, res, alert=res in (T.TAP_FORBIDDEN, T.TAP_STALE, T.TAP_CLOSED, T.TAP_NOT_FOUND))


async def tugas(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = svc(context, Dispose)
    uid = user_id(update)
    if (await d.actor(uid)).official_id is None:
        d.out.send(uid, f"Perintah ini hanya untuk pejabat {T.e(d.sop.identity.office_short)} yang terdaftar.")
        return
    await d.send_tasks(uid)


ACTIONS = ("ex", "di", "dn", "dw", "db", "ok", "no", "nt", "nr", "rs", "rc")


def register(app: Application) -> None:
    app.add_handler(CommandHandler("tugas", tugas))
