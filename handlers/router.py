"""The two catch-all entry points: every button tap, and free text (the answer the bot awaits)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import texts as T
from bot.callbacks import Callback
from bot.services.dispose import Dispose
from bot.services.form import Form
from bot.services.officials import Officials
from handlers import account, admin, applications, calendar, disposition, oversight, request_form
from handlers.common import answer, decoded, svc, user_id
from workflow.form import Field
from workflow.sop import ADMIN

async def on_page_indicator(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    """A pager's "2/5" button: it shows where the user is; tapping it changes nothing."""
    answer(update, T.PAGE_OF.format(page=cb.int(0), pages=cb.int(1)))


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Callback], Awaitable[None]]

# Every button's action, and who handles it (each module lists the actions its ``on_button`` takes).
BUTTONS: dict[str, Handler] = {
    "f": request_form.on_form_button,
    "m": request_form.on_menu_button,
    "nop": on_page_indicator,
    **{a: m.on_button for m in (disposition, admin, applications, account, calendar, oversight) for a in m.ACTIONS},
}


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    cb = decoded(update, context)
    if cb is None:
        o = svc(context, Officials)
        o.audit("forged_tap", actor_tg=user_id(update))
        answer(update, T.TAP_FORGED, alert=True)
        return
    handler = BUTTONS.get(cb.action)
    if handler is None:
        answer(update, T.TAP_INVALID)
        return
    try:
        await handler(update, context, cb)
    except (ValueError, IndexError):  # well-signed but malformed arguments
        answer(update, T.TAP_INVALID)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    uid = user_id(update)
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    form = svc(context, Form)
    sess = await form.session(uid)
    awaiting = sess.awaiting if sess else None
    if awaiting and awaiting.startswith("form:"):
        await form.answer_text(uid, Field(awaiting[5:]), text)
    elif awaiting == "note":
        await svc(context, Dispose).note_typed(uid, text, sess.context)  # type: ignore[union-attr]
    elif awaiting == "reason":
        await svc(context, Dispose).reason_typed(uid, text, sess.context)  # type: ignore[union-attr]
    elif awaiting in ("acct_user", "acct_pass", "report_note", "cp_verify"):
        from bot.services.account import Accounts
        acc = svc(context, Accounts)
        ctx = sess.context  # type: ignore[union-attr]
        if awaiting == "acct_user":
            await acc.username_typed(uid, text, ctx)
        elif awaiting == "acct_pass":
            await acc.password_typed(uid, text, ctx, update.effective_message.message_id)  # type: ignore[union-attr]
        elif awaiting == "report_note":
            await acc.note_typed(uid, text, ctx)
        else:
            acc.out.send(uid, "Mohon tekan tombol «Bagikan nomor ponsel saya» di bawah untuk verifikasi.")
    elif awaiting == "app_pw":
        from bot.services.apps import Apps
        await applications.password_typed(update, context, svc(context, Apps), uid, text, sess.context)  # type: ignore[union-attr]
    elif awaiting == "app_oldkey":
        from bot.services.apps import Apps
        await applications.old_key_typed(update, context, svc(context, Apps), uid, text, sess.context)  # type: ignore[union-attr]
    elif awaiting and awaiting.startswith("app:"):
        from bot.services.apps import Apps
        await svc(context, Apps).typed(uid, awaiting[4:], text, sess.context)  # type: ignore[union-attr]
    elif awaiting and awaiting.startswith("cal_"):
        from bot.services.calendar_admin import CalendarAdmin
        await calendar.typed(svc(context, CalendarAdmin), uid, awaiting[4:], text)
    elif awaiting == "agency_new":
        from bot.services.agencies import Agencies
        ag = svc(context, Agencies)
        if ADMIN in (await ag.actor(uid)).roles:
            await ag.add(uid, text)
        else:
            await ag.clear_awaiting(uid)
    elif awaiting == "rekap_range":
        await oversight.range_typed(update, context, text)
    elif awaiting == "rekap_action":
        await oversight.action_typed(update, context, text, sess.context)  # type: ignore[union-attr]
    elif awaiting == "invite_name":
        await admin.invite_name_typed(svc(context, Officials), uid, text, sess.context)  # type: ignore[union-attr]
    else:
        form.out.send(uid, await form.unknown_input(uid))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_user and update.effective_chat and update.effective_chat.type == "private":
        form = svc(context, Form)
        form.out.send(update.effective_user.id, await form.unknown_input(update.effective_user.id))


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text))
    app.add_handler(MessageHandler(filters.ALL & filters.ChatType.PRIVATE, on_other))  # last: unknown input
