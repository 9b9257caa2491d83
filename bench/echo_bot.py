"""The reference: a bare python-telegram-bot echo bot (defaults, long polling, no database)."""

from __future__ import annotations

import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters


async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)  # type: ignore[union-attr]


async def button(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        "tap", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("tap", callback_data="tap")]]))


async def tap(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer("ok")  # type: ignore[union-attr]


def main() -> None:
    api = os.environ["TELEGRAM_API_URL"]
    app = (ApplicationBuilder().token(os.environ["BOT_TOKEN"]).base_url(f"{api}/bot")
           .base_file_url(f"{api}/file/bot").build())
    app.add_handler(CommandHandler("btn", button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(tap))
    app.run_polling(poll_interval=0, timeout=10)


if __name__ == "__main__":
    main()
