"""Procedure B: /aplikasi, the application's data, and the guided portal steps."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.services.apps import Apps
from telegram.error import TelegramError

from bot.env import Env
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
        res, run = await a.go(uid, n[0])
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
        res = await reveal(context, a, uid, n[0], n[1])
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


async def reveal(context: ContextTypes.DEFAULT_TYPE, a: Apps, uid: int, app_id: int, secret_id: int) -> str | None:
    """Once, like the account's credentials: claimed here, shown after commit, then wiped."""
    import json
    from datetime import timedelta

    from storage.models import Application, Secret

    app = await a.s.get(Application, app_id)
    sec = await a.s.get(Secret, secret_id)
    if app is None or app.owner_telegram_id != uid or sec is None or sec.request_id != app.request_id \
            or sec.kind != "app_credentials":
        return T.TAP_FORBIDDEN
    if sec.wiped_at is not None or sec.ciphertext is None:
        return "Kredensial ini sudah ditampilkan sebelumnya atau tidak berlaku lagi."
    if (sec.reveal_claimed_until and sec.reveal_claimed_until > a.now) or a.env.vault is None:
        return "Sedang ditampilkan…"
    sec.reveal_claimed_until = a.now + timedelta(seconds=60)
    env: Env = context.bot_data["env"]
    text = AppsWso2(env).render(app, json.loads(a.env.vault.decrypt(sec.ciphertext)))

    async def show() -> None:
        from bot.updates import work_scope

        try:
            msg = await context.bot.send_message(uid, text, parse_mode="HTML")
        except TelegramError:
            msg = None
        async with env.db.transaction() as s:  # type: ignore[union-attr]
            now = env.clock.now()
            scope = work_scope(s, now)
            row = await s.get(Secret, secret_id)
            if row is not None:  # shown, or possibly shown: either way it is not kept
                row.ciphertext, row.wiped_at, row.reveal_claimed_until = None, now, None
                row.wipe_reason, row.revealed_at, row.revealed_to = ("revealed", now, uid) if msg else ("uncertain", None, None)
            if msg is not None:
                scope.outbox.delete(uid, message_id=msg.message_id,
                                    delay=timedelta(minutes=env.settings.secret_message_minutes))
            else:
                scope.outbox.send(uid, "Kredensial tidak dapat ditampilkan dengan pasti dan telah dihapus; buat ulang "
                                       "consumer secret dan API key melalui /aplikasi.")
            await scope.outbox.flush()
        if env.wake_sender:
            env.wake_sender()

    a.scope.after_commit.append(show)
    return "Kredensial ditampilkan."


def register(app: Application) -> None:
    app.add_handler(CommandHandler("aplikasi", aplikasi))
