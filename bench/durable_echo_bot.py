"""The floor: the echo bot of bench/echo_bot.py with the guarantees splp-bot keeps, and nothing else.

What any bot on this stack must do to have "an update delivered twice has one effect" and "kill -9
at any moment loses nothing", done as cheaply as SQLAlchemy allows (Core on a connection, no ORM,
storage.db's engine settings):
- the update's id goes into an inbox table in the same transaction as the reply it causes, which
  goes into an outbox table (a duplicate finds its id and does nothing);
- the reply is sent after that commit, and marked sent (with its message id) in a second one.
A tap has no reply to keep: its id is recorded, then the tap is answered (as splp-bot answers it).
Like the echo bot it handles one update at a time; its Bot API calls go over splp-bot's transport
(bot/transport.py, aiohttp) rather than PTB's default httpx, so that it is the floor splp-bot itself
stands on: bench/run.py prints what the guarantees cost beside what splp-bot's SOP adds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text, bindparam, insert, update
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.echo_bot import run  # noqa: E402
from bot.transport import AiohttpRequest  # noqa: E402
from storage.db import make_engine, upsert  # noqa: E402

meta = MetaData()
inbox = Table("durable_echo_inbox", meta, Column("update_id", BigInteger, primary_key=True))
outbox = Table("durable_echo_outbox", meta, Column("id", Integer, primary_key=True, autoincrement=True),
               Column("chat_id", BigInteger, nullable=False), Column("text", Text, nullable=False),
               Column("message_id", BigInteger))

engine = make_engine(os.environ["DATABASE_URL"])
dialect = "sqlite" if engine.dialect.name == "sqlite" else "postgresql"
SEEN = upsert(dialect)(inbox).values(update_id=bindparam("u")).on_conflict_do_nothing().returning(inbox.c.update_id)
QUEUE = insert(outbox).values(chat_id=bindparam("c"), text=bindparam("t")).returning(outbox.c.id)
SENT = update(outbox).where(outbox.c.id == bindparam("i")).values(message_id=bindparam("m"))


async def received(update: Update, reply: str | None) -> int | None:
    """Records the update (and the reply it causes) in one transaction. None: seen before; 0: no reply."""
    async with engine.begin() as conn:
        if (await conn.execute(SEEN, {"u": update.update_id})).first() is None:
            return None
        if reply is None:
            return 0
        return (await conn.execute(QUEUE, {"c": update.effective_chat.id, "t": reply})).scalar_one()  # type: ignore[union-attr]


async def sent(outbox_id: int, message: Message) -> None:
    async with engine.begin() as conn:
        await conn.execute(SENT, {"i": outbox_id, "m": message.message_id})


async def echo(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    text = update.effective_message.text  # type: ignore[union-attr]
    if oid := await received(update, text):
        await sent(oid, await update.effective_message.reply_text(text))  # type: ignore[union-attr, arg-type]


async def button(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    if oid := await received(update, "tap"):
        await sent(oid, await update.effective_message.reply_text(  # type: ignore[union-attr]
            "tap", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("tap", callback_data="tap")]])))


async def tap(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
    if await received(update, None) is not None:
        await update.callback_query.answer("ok")  # type: ignore[union-attr]


async def create_tables(_app: Application) -> None:  # type: ignore[type-arg]
    async with engine.begin() as conn:
        await conn.run_sync(meta.drop_all)
        await conn.run_sync(meta.create_all)


def main() -> None:
    run(ApplicationBuilder().request(AiohttpRequest(connection_pool_size=16))
        .get_updates_request(AiohttpRequest(connection_pool_size=2, read_timeout=25)).post_init(create_tables),
        on_text=echo, on_btn=button, on_tap=tap)


if __name__ == "__main__":
    main()
