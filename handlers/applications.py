"""Procedure B: /aplikasi, the application's data, and the guided portal steps."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.env import Env
from bot.services.apps import Apps
from bot.services.apps_wso2 import AppsWso2
from handlers.common import answer, in_background, svc, tapped, user_id

ACTIONS = ("ab", "ae", "as", "ag", "ax", "ad", "ap", "aq", "av", "ai", "am", "an", "at")


async def aplikasi(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await svc(context, Apps).start(user_id(update))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    a = svc(context, Apps)
    uid, n = user_id(update), [int(x) for x in cb.args]
    run = False
    if cb.action == "ab":
        res = await a.begin(uid, n[0])
    elif cb.action in ("ae", "as"):
        res = await a.button(uid, cb.action, n[0], n[1])
    elif cb.action == "ag":
        res, run = await a.go(uid, n[0], tapped(update))
    elif cb.action == "am":
        res, run = await a.manage(uid, n[0], n[1])
    elif cb.action in ("an", "at"):
        res, run = await a.choose_apis(uid, n[0], n[1], n[2] if cb.action == "an" else None, tapped(update),
                                       more=True)
    elif cb.action == "ax":
        res = await a.cancel(uid, n[0])
    elif cb.action == "ai":
        res = await a.details(uid, n[0])
    elif cb.action == "ad":
        res = await a.step_done(uid, n[0], n[1], tapped(update))
    elif cb.action in ("ap", "aq"):
        res, run = await a.choose_apis(uid, n[0], n[1], n[2] if cb.action == "ap" else None, tapped(update))
    else:
        res = await reveal(update, context, a, uid, n[0], n[1])
    if run:
        start(context, a, n[0], uid)
    answer(update, res, alert=res in (T.TAP_FORBIDDEN, T.TAP_STALE, T.TAP_INVALID))


def start(context: ContextTypes.DEFAULT_TYPE, a: Apps, app_id: int, uid: int) -> None:
    """The SPLP work of the recorded operation, after this update commits, in the background."""
    env: Env = context.bot_data["env"]
    a.scope.after_commit.append(in_background(lambda: AppsWso2(env).run(app_id, uid)))


async def password_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, a: Apps, uid: int, text: str,
                         ctx: dict) -> None:
    if await a.password_typed(uid, text, ctx, update.effective_message.message_id):  # type: ignore[union-attr]
        start(context, a, ctx["app_id"], uid)


async def old_key_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, a: Apps, uid: int, text: str,
                        ctx: dict) -> None:
    app_id, run = await a.old_key_typed(uid, text, ctx, update.effective_message.message_id)  # type: ignore[union-attr]
    if run:
        start(context, a, app_id, uid)


async def reveal(update: Update, context: ContextTypes.DEFAULT_TYPE, a: Apps, uid: int, app_id: int,
                 secret_id: int) -> str | None:
    """Once, like the account's credentials: claimed here, shown after commit, then wiped."""
    from handlers.account import Offer, show_once

    parts, refusal, rid = await a.claim_reveal(uid, app_id, secret_id)
    if parts is None:
        return refusal
    offer = Offer.of(update)
    a.scope.after_commit.append(lambda: show_once(context, uid, parts, rid, secret_id, "app_credentials", offer))
    return "Kredensial ditampilkan."


def register(app: Application) -> None:
    app.add_handler(CommandHandler("aplikasi", aplikasi))
