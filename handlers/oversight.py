"""/rekap and its buttons: the period, the files, the actions for the monitoring form."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.env import Env
from bot.services.oversight import KINDS, PREPARING, Oversight, decode_period
from bot.services.oversight_jobs import OversightJobs, other_steps_keyboard
from handlers.common import answer, in_background, svc, user_id


def _run_after_commit(context: ContextTypes.DEFAULT_TYPE, o: Oversight, job: int | None) -> None:
    """The job starts once the tap's transaction has committed (the sweep takes it over if not)."""
    if job is None:
        return
    env: Env = context.bot_data["env"]
    o.scope.after_commit.append(in_background(lambda: _run(env, job)))


async def _run(env: Env, job: int) -> None:
    await OversightJobs(env).run(job)


async def rekap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    o = svc(context, Oversight)
    if await o.menu(user_id(update)):
        from bot.charts import warm_up

        o.scope.after_commit.append(in_background(lambda: asyncio.to_thread(warm_up)))


async def _period(o: Oversight, context: Any, uid: int, kind: str) -> str | None:
    job = await o.pick(uid, kind)
    _run_after_commit(context, o, job)
    return PREPARING if job else T.TAP_FORBIDDEN


async def _ask_range(o: Oversight, context: Any, uid: int) -> str | None:
    return "Silakan ketik rentang tanggal." if await o.ask_range(uid) else T.TAP_FORBIDDEN


async def _file(o: Oversight, context: Any, uid: int, what: str, start: str, end: str) -> str | None:
    if what not in KINDS:
        return T.TAP_INVALID
    job = await o.order(uid, what, decode_period(start, end))
    _run_after_commit(context, o, job)
    return PREPARING if job else T.TAP_FORBIDDEN


async def _action(o: Oversight, context: Any, uid: int, start: str, end: str, code: str) -> str | None:
    return await o.ask_action(uid, decode_period(start, end), code) or "Silakan ketik tindakannya."


async def _other_steps(o: Oversight, context: Any, uid: int, start: str, end: str) -> str | None:
    if not await o.roles(uid):
        return T.TAP_FORBIDDEN
    o.out.send(uid, "Pilih langkah yang akan diberi tindakan:", other_steps_keyboard(o.env, decode_period(start, end)))
    return None


async def _menu(o: Oversight, context: Any, uid: int) -> str | None:
    await o.menu(uid)
    return None


# action -> (handler, names of the callback's arguments)
BUTTONS: dict[str, tuple[Callable[..., Awaitable[str | None]], tuple[str, ...]]] = {
    "op": (_period, ("kind",)),
    "oq": (_ask_range, ()),
    "of": (_file, ("what", "start", "end")),
    "oa": (_action, ("start", "end", "code")),
    "ol": (_other_steps, ("start", "end")),
    "om": (_menu, ()),
}
ACTIONS = tuple(BUTTONS)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    fn, names = BUTTONS[cb.action]
    if len(cb.args) != len(names):
        answer(update, T.TAP_INVALID)
        return
    res = await fn(svc(context, Oversight), context, user_id(update), **dict(zip(names, cb.args)))
    answer(update, res, alert=res == T.TAP_FORBIDDEN)


async def range_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    o = svc(context, Oversight)
    _run_after_commit(context, o, await o.range_typed(user_id(update), text))


async def action_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, ctx: dict) -> None:
    await svc(context, Oversight).action_typed(user_id(update), text, ctx)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("rekap", rekap))
