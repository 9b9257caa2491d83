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


def run(builder: ApplicationBuilder, on_text=echo, on_btn=button, on_tap=tap) -> None:  # type: ignore[no-untyped-def, type-arg]
    """Texts echoed, /btn answered with a button, taps answered; long polling on the emulator."""
    api = os.environ["TELEGRAM_API_URL"]
    app = builder.token(os.environ["BOT_TOKEN"]).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot").build()
    app.add_handler(CommandHandler("btn", on_btn))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.run_polling(poll_interval=0, timeout=10)


def main() -> None:
    run(ApplicationBuilder())


if __name__ == "__main__":
    main()
