"""Officials' buttons: disposition, assignment, completeness check; the requester's return buttons; /tugas."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.services.dispose import Dispose
from bot.services.form import Form
from handlers.common import answer, numbers, svc, tapped, user_id


async def _correct(d: Dispose, user_id: int, rid: int, ver: int, tapped: tuple[int, int]) -> str | None:
    """The requester's «Perbaiki dan kirim ulang» on a returned request: the form takes it."""
    return await Form(d.scope, d.env).start_correction(user_id, rid, ver)


# Each button: what takes it, and the names of the numbers it carries in the order its keyboard
# wrote them (bot/services/dispose.py, chain.py); they are passed by name, with the tapped message.
TAPS: dict[str, tuple[Callable[..., Awaitable[str | None]], tuple[str, ...]]] = {
    "ex": (Dispose.choose_executor, ("rid", "ver", "exec_id")),
    "di": (Dispose.choose_instruction, ("rid", "ver", "idx", "exec_id")),
    "dn": (partial(Dispose.dispose, note=None), ("rid", "ver", "idx", "exec_id")),
    "dw": (Dispose.ask_note, ("rid", "ver", "idx", "exec_id")),
    "db": (Dispose.back, ("rid", "ver")),
    "ok": (Dispose.complete, ("rid", "ver")),
    "no": (partial(Dispose.incomplete, toggle=None), ("rid", "ver", "mask")),
    "nt": (Dispose.incomplete, ("rid", "ver", "mask", "toggle")),
    "nr": (Dispose.ask_reason, ("rid", "ver", "mask")),
    "rs": (_correct, ("rid", "ver")),
    "rc": (Dispose.cancel_request, ("rid", "ver")),
}
ACTIONS = tuple(TAPS)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    run, names = TAPS[cb.action]
    res = await run(svc(context, Dispose), user_id(update), tapped=tapped(update), **numbers(cb, names))
    answer(update, res, alert=res in (T.TAP_FORBIDDEN, T.TAP_STALE, T.TAP_CLOSED, T.TAP_NOT_FOUND))


async def tugas(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = svc(context, Dispose)
    uid = user_id(update)
    if (await d.actor(uid)).official_id is None:
        d.out.send(uid, f"Perintah ini hanya untuk pejabat {T.e(d.sop.identity.office_short)} yang terdaftar.")
        return
    await d.send_tasks(uid)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("tugas", tugas))
