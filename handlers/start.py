"""/start (with invite deep links), /bantuan, /batal and the main menu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import keyboards as kb
from bot import texts as T
from bot.services.form import Form
from bot.services.officials import Officials, oversight_roles
from handlers.common import svc, user_id
from workflow.sop import ADMIN


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    uid = user_id(update)
    off = svc(context, Officials)
    if context.args and context.args[0].startswith("inv_"):
        off.out.send(uid, await off.redeem(uid, context.args[0][4:]))
        return
    if context.args and context.args[0].startswith("cp_"):
        from bot.services.account import Accounts
        await svc(context, Accounts).open_link(uid, context.args[0][3:])
        return
    actor = await off.actor(uid)
    text = T.greeting(off.sop)
    if actor.roles:
        text += T.GREETING_OFFICIAL.format(roles=T.e(T.role_titles(off.sop, actor.roles)))
    off.out.send(uid, text, kb.inline(
        [kb.btn("📝 Ajukan akun SPLP", off.cb("m", "new"))],
        [kb.btn("📊 Status permohonan", off.cb("m", "st"))],
        [kb.btn("❓ Bantuan", off.cb("m", "help"))]))


async def help_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send_help(update, context)


async def send_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    uid = user_id(update)
    off = svc(context, Officials)
    roles = (await off.actor(uid)).roles
    text = T.HELP
    heads = roles & oversight_roles(off.sop) - {ADMIN}
    if roles - {ADMIN}:
        text += T.HELP_OFFICIAL + (T.HELP_OVERSIGHT if heads else "")
    if ADMIN in roles:
        text += T.HELP_ADMIN + ("" if heads else T.HELP_OVERSIGHT)
    off.out.send(uid, text)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await svc(context, Form).cancel(user_id(update))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler(["bantuan", "help"], help_cmd))
    app.add_handler(CommandHandler(["batal", "cancel"], cancel))
