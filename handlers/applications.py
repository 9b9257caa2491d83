"""Procedure B: /aplikasi, the application's data, and the guided portal steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.env import Env
from bot.services.apps import Apps
from bot.services.apps_wso2 import AppsWso2
from handlers.common import Tap, answer, in_background, numbers, svc, user_id

async def aplikasi(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await svc(context, Apps).start(user_id(update))


async def _only(answer: Awaitable[str | None]) -> tuple[str | None, bool]:
    """A tap that starts no SPLP work."""
    return await answer, False


# Each button: how it is taken (its answer, and whether SPLP work starts after the commit), and the
# names of the numbers it carries in the order its keyboard wrote them (bot/services/apps.py,
# app_form.py, apps_wso2.py), passed by name.
TAPS: dict[str, tuple[Callable[..., Awaitable[tuple[str | None, bool]]], tuple[str, ...]]] = {
    "ab": (lambda t, request_id: _only(t.svc.begin(t.uid, request_id)), ("request_id",)),
    "ae": (lambda t, app_id, arg: _only(t.svc.button(t.uid, "ae", app_id, arg)), ("app_id", "arg")),
    "as": (lambda t, app_id, arg: _only(t.svc.button(t.uid, "as", app_id, arg)), ("app_id", "arg")),
    "ag": (lambda t, app_id: t.svc.go(t.uid, app_id, t.message), ("app_id",)),
    "am": (lambda t, app_id, op: t.svc.manage(t.uid, app_id, op), ("app_id", "op")),
    "ap": (lambda t, app_id, mask, toggle: t.svc.choose_apis(t.uid, app_id, mask, toggle, t.message),
           ("app_id", "mask", "toggle")),
    "aq": (lambda t, app_id, mask: t.svc.choose_apis(t.uid, app_id, mask, None, t.message), ("app_id", "mask")),
    "an": (lambda t, app_id, mask, toggle: t.svc.choose_apis(t.uid, app_id, mask, toggle, t.message, more=True),
           ("app_id", "mask", "toggle")),
    "at": (lambda t, app_id, mask: t.svc.choose_apis(t.uid, app_id, mask, None, t.message, more=True),
           ("app_id", "mask")),
    "ax": (lambda t, app_id: _only(t.svc.cancel(t.uid, app_id)), ("app_id",)),
    "ai": (lambda t, app_id: _only(t.svc.details(t.uid, app_id)), ("app_id",)),
    "ad": (lambda t, app_id, index: _only(t.svc.step_done(t.uid, app_id, index, t.message)), ("app_id", "index")),
    "av": (lambda t, app_id, secret_id: _only(reveal(t.update, t.context, t.svc, t.uid, app_id, secret_id)),
           ("app_id", "secret_id")),
}
ACTIONS = tuple(TAPS)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    take, names = TAPS[cb.action]
    args = numbers(cb, names)
    a, uid = svc(context, Apps), user_id(update)
    res, run = await take(Tap(update, context, a, uid), **args)
    if run:
        start(context, a, args["app_id"], uid)
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
