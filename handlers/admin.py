"""Admin: invitations (/undang) and officials (/pejabat)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.services.officials import Officials
from handlers.common import answer, svc, tapped, user_id
from workflow.sop import ADMIN


async def undang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    o = svc(context, Officials)
    uid = user_id(update)
    if not await o.require_admin(uid):
        o.out.send(uid, "Perintah ini hanya untuk admin.")
        return
    o.invite_menu(uid)


async def pejabat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    o = svc(context, Officials)
    uid = user_id(update)
    if not await o.require_admin(uid):
        o.out.send(uid, "Perintah ini hanya untuk admin.")
        return
    await o.list_officials(uid)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    o = svc(context, Officials)
    uid = user_id(update)
    if not await o.require_admin(uid):
        o.audit("refused", actor_tg=uid, action_tried=cb.action)
        answer(update, T.TAP_FORBIDDEN, alert=True)
        return
    if cb.action == "ia":
        idx, roles = int(cb.args[0]), o.sop.official_roles()
        if not 0 <= idx < len(roles):
            answer(update, T.TAP_INVALID)
            return
        await o.set_awaiting(uid, "invite_name", role=roles[idx])
        o.out.send(uid, f"Ketik nama lengkap pejabat yang akan diundang sebagai "
                        f"<b>{T.e(o.sop.role_title(roles[idx]))}</b>.")
        answer(update)
    elif cb.action in ("pg", "pp", "pa"):
        from bot.services.agencies import Agencies
        ag = svc(context, Agencies)
        if cb.action == "pg":
            answer(update, await ag.toggle(uid, int(cb.args[0]), int(cb.args[1]), tapped(update)))
        elif cb.action == "pp":
            await ag.page(uid, int(cb.args[0]), edit=tapped(update))
            answer(update)
        else:
            await ag.ask_new(uid)
            answer(update)
    elif cb.action == "ao":
        off = await o.deactivate(int(cb.args[0]), by=(await o.actor(uid)).official_id)
        if off is None:
            answer(update, T.TAP_STALE)
            return
        o.out.edit_markup(tapped(update)[0], None, message_id=tapped(update)[1])
        o.out.send(uid, f"{T.e(off.name)} telah dinonaktifkan.")
        answer(update, "Pejabat dinonaktifkan.")


async def invite_name_typed(o: Officials, uid: int, text: str, ctx: dict) -> None:
    from workflow.form import Invalid, parse_person_name
    try:
        name = parse_person_name(text)
    except Invalid as err:
        o.out.send(uid, "⚠️ " + T.ERRORS.get(err.code, T.ERRORS["empty"]).format(**err.params))
        return
    if not await o.require_admin(uid):
        await o.clear_awaiting(uid)
        return
    role = ctx["role"]
    if role not in o.sop.official_roles():
        await o.clear_awaiting(uid)
        o.out.send(uid, T.TAP_STALE)
        return
    payload = await o.create_invite(role, name, (await o.actor(uid)).official_id)
    await o.clear_awaiting(uid)
    link = f"https://t.me/{o.env.bot_username}?start={payload}"
    o.out.send(uid, f"Tautan undangan untuk <b>{T.e(name)}</b> sebagai <b>{T.e(o.sop.role_title(role))}</b> "
                    f"(sekali pakai, berlaku {o.settings.invite_ttl_hours} jam):\n\n{T.e(link)}\n\n"
                    "Kirimkan tautan ini secara pribadi kepada yang bersangkutan.")


ACTIONS = ("ia", "ao", "pg", "pp", "pa")


async def perangkat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from bot.services.agencies import Agencies
    a = svc(context, Agencies)
    uid = user_id(update)
    if ADMIN not in (await a.actor(uid)).roles:
        a.out.send(uid, "Perintah ini hanya untuk admin.")
        return
    await a.page(uid, 0)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("undang", undang))
    app.add_handler(CommandHandler("pejabat", pejabat))
    app.add_handler(CommandHandler("perangkat", perangkat))
