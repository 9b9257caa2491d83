"""/status: the requester's requests and their timelines."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.services.status import Status
from handlers.common import svc, user_id


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await svc(context, Status).send_status(user_id(update))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("status", status))
