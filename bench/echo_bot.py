"""The reference: a bare python-telegram-bot echo bot (defaults, long polling, no database).

Besides echoing texts and answering taps it plays a disposition's Telegram side with nothing
behind it (``/card``): the same two taps and seven Bot API calls as splp-bot's disposition — each
tap answered, the card edited twice, the card and the scan sent on to ``BENCH_NEXT_CHAT``, the
requester (``BENCH_REQUESTER_CHAT``) told — so that splp-bot's dispositions can be set against the
framework doing the same calls."""

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


def _card_keyboard(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


async def card(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        "kartu disposisi", reply_markup=_card_keyboard("➡️ Untuk ditindaklanjuti", "d1"))


async def instruction(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    q = update.callback_query
    await q.answer()  # type: ignore[union-attr]
    await q.edit_message_text("kartu disposisi: untuk ditindaklanjuti",  # type: ignore[union-attr]
                              reply_markup=_card_keyboard("📤 Kirim tanpa catatan", "d2"))


async def send_on(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
    q = update.callback_query
    await q.answer("Disposisi terkirim.")  # type: ignore[union-attr]
    await q.edit_message_text("kartu disposisi: terkirim")  # type: ignore[union-attr]
    nxt = int(os.environ["BENCH_NEXT_CHAT"])
    await ctx.bot.send_message(nxt, "kartu disposisi", reply_markup=_card_keyboard("➡️ Untuk ditindaklanjuti", "d1"))
    await ctx.bot.send_document(nxt, os.environ["BENCH_SCAN_FILE_ID"])
    await ctx.bot.send_message(int(os.environ["BENCH_REQUESTER_CHAT"]), "permohonan diteruskan")


def run(builder: ApplicationBuilder, on_text=echo, on_btn=button, on_tap=tap) -> None:  # type: ignore[no-untyped-def, type-arg]
    """Texts echoed, /btn answered with a button, taps answered, /card's disposition; long polling
    on the emulator."""
    api = os.environ["TELEGRAM_API_URL"]
    app = builder.token(os.environ["BOT_TOKEN"]).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot").build()
    app.add_handler(CommandHandler("btn", on_btn))
    app.add_handler(CommandHandler("card", card))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(CallbackQueryHandler(instruction, pattern="^d1$"))
    app.add_handler(CallbackQueryHandler(send_on, pattern="^d2$"))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.run_polling(poll_interval=0, timeout=10)


def main() -> None:
    run(ApplicationBuilder())


if __name__ == "__main__":
    main()
