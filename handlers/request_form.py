"""The requester's form: /ajukan, answers (text, contact, file) and form buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot import texts as T
from bot.services.form import Form
from bot.updates import current_scope
from handlers.common import answer, svc, tapped, user_id
from workflow.form import Field


async def ajukan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await svc(context, Form).start(user_id(update))


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    form = svc(context, Form)
    uid = user_id(update)
    sess = await form.session(uid)
    c = update.effective_message.contact  # type: ignore[union-attr]
    if sess is not None and sess.awaiting == "cp_verify":
        from bot.services.account import Accounts
        await svc(context, Accounts).verify_contact(uid, c.phone_number, c.user_id, sess.context)
        return
    if sess is None or sess.awaiting != f"form:{Field.CONTACT_PHONE.value}":
        form.out.send(uid, await form.unknown_input(uid))
        return
    await form.answer_contact(uid, c.phone_number, c.user_id)


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    form = svc(context, Form)
    uid = user_id(update)
    sess = await form.session(uid)
    if sess is None or sess.awaiting != f"form:{Field.SCAN.value}":
        form.out.send(uid, await form.unknown_input(uid))
        return
    msg = update.effective_message
    content = current_scope.get().cache.get("prefetch", {}).get("file")
    if msg.photo:  # type: ignore[union-attr]
        p = msg.photo[-1]  # type: ignore[union-attr]
        await form.answer_file(uid, content, file_id=p.file_id, file_unique_id=p.file_unique_id, is_photo=True,
                               file_name=None, mime_type="image/jpeg", size=p.file_size)
    else:
        d = msg.document  # type: ignore[union-attr]
        await form.answer_file(uid, content, file_id=d.file_id, file_unique_id=d.file_unique_id, is_photo=False,
                               file_name=d.file_name, mime_type=d.mime_type, size=d.file_size)


async def on_form_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb) -> None:  # type: ignore[no-untyped-def]
    form = svc(context, Form)
    uid = user_id(update)
    op = cb.args[0] if cb.args else ""
    result: str | None = None
    if op == "resume":
        await form.resume(uid)
    elif op == "restart":
        await form.restart(uid)
    elif op == "ag":
        result = await form.pick_agency(uid, int(cb.args[1]))
    elif op == "agp":
        await form.agency_page(uid, int(cb.args[1]), *tapped(update))
    elif op in ("today", "subj"):
        result = await form.quick_answer(uid, op)
    elif op == "ed":
        result = await form.edit_field(uid, int(cb.args[1]))
    elif op == "send":
        result = await form.submit(uid, tapped(update))
    elif op == "cancel":
        await form.cancel(uid)
        form.out.edit_markup(*tapped(update)[:1], None, message_id=tapped(update)[1])
    else:
        result = T.TAP_INVALID
    answer(update, result)


async def on_menu_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb) -> None:  # type: ignore[no-untyped-def]
    from bot.services.status import Status
    from handlers.start import send_help
    op = cb.args[0] if cb.args else ""
    uid = user_id(update)
    if op == "new":
        await svc(context, Form).start(uid)
    elif op == "st":
        await svc(context, Status).send_status(uid)
    elif op == "help":
        await send_help(update, context)
    answer(update)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("ajukan", ajukan))
    app.add_handler(MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, on_contact))
    app.add_handler(MessageHandler((filters.Document.ALL | filters.PHOTO) & filters.ChatType.PRIVATE, on_file))
