"""Tests for the Telegram Bot API emulator, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.telegram import TelegramEmulator

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 5001
OTHER = 5002


@pytest.fixture
async def emu():
    emulator = TelegramEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def make_bot(emu: TelegramEmulator, token: str | None = None) -> Bot:
    return Bot(
        token or emu.token,
        base_url=f"{emu.api_url}/bot",
        base_file_url=f"{emu.api_url}/file/bot",
    )


@pytest.fixture
async def bot(emu):
    async with make_bot(emu) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs])


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ------------------------------------------------------------------ basics


async def test_get_me_and_auth(emu, bot):
    me = await bot.get_me()
    assert me.id == emu.bot_id and me.username == emu.bot_username and me.is_bot
    assert emu.calls_of("getme")[0].status == 200

    async with make_bot(emu) as client:
        with pytest.raises(EndPointNotFound):
            await client.do_api_request("sendFooBar", api_kwargs={"chat_id": 1})

    with pytest.raises(InvalidToken):
        async with make_bot(emu, token="999:WRONG") as wrong:
            await wrong.get_me()
    assert emu.calls[-1].status == 401


async def test_get_updates_offset_and_command_entity(emu, bot):
    emu.send_text(USER, "/start abc", first_name="Budi")
    emu.send_text(USER, "halo")
    assert emu.pending_updates == 2

    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["/start abc", "halo"]
    first = updates[0].message
    assert first.from_user.first_name == "Budi" and first.chat.type == "private"
    assert first.entities[0].type == "bot_command" and first.entities[0].length == len("/start")
    assert updates[1].update_id == updates[0].update_id + 1

    # Without offset nothing is confirmed
    assert len(await bot.get_updates(timeout=0)) == 2
    again = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert [u.message.text for u in again] == ["halo"]
    assert emu.pending_updates == 1
    assert await bot.get_updates(offset=updates[1].update_id + 1, timeout=0) == ()
    assert emu.pending_updates == 0


async def test_long_poll_wakes_up_promptly(emu, bot):
    task = asyncio.create_task(bot.get_updates(timeout=5))
    await emu.wait_for(lambda: emu.calls_of("getUpdates"))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    emu.send_text(USER, "ping")
    updates = await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 1.0
    assert updates[0].message.text == "ping"


async def test_concurrent_get_updates_conflict(emu, bot):
    async with make_bot(emu) as second:
        older = asyncio.create_task(bot.get_updates(timeout=5))
        await emu.wait_for(lambda: emu.calls_of("getUpdates"))
        await asyncio.sleep(0.05)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
            await asyncio.wait_for(older, 2)


# ------------------------------------------------------------------ sending


async def test_send_message_and_forbidden(emu, bot):
    with pytest.raises(Forbidden, match="(?i)can't initiate conversation"):
        await bot.send_message(USER, "hi")
    emu.send_text(USER, "hello")
    sent = await bot.send_message(USER, "<b>Halo</b> &amp; selamat", parse_mode="HTML")
    assert sent.text == "Halo & selamat" and sent.entities[0].type == "bold"
    assert sent.from_user.id == emu.bot_id and sent.chat.id == USER
    msg = emu.last_bot_message(USER)
    assert msg.text == "Halo & selamat" and msg.html == "<b>Halo</b> &amp; selamat"
    assert [m.from_bot for m in emu.chat(USER)] == [False, True]

    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(USER, "  \n ")
    emu.block_bot(USER)
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await bot.send_message(USER, "hi")


async def test_length_limit_after_html_parsing(emu, bot):
    emu.send_text(USER, "hi")
    ok_text = "<b>" + "a" * 4000 + "</b><i>" + "b" * 96 + "</i>"
    sent = await bot.send_message(USER, ok_text, parse_mode="HTML")
    assert len(sent.text) == 4096
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER, "<b>" + "a" * 4001 + "</b><i>" + "b" * 96 + "</i>", parse_mode="HTML")
    # entities count as one character
    sent = await bot.send_message(USER, "&lt;" * 4096, parse_mode="HTML")
    assert sent.text == "<" * 4096


@pytest.mark.parametrize(
    "text",
    ["a < b", "AT&T", "<b>bold", "<b>x</i>", "<br>", "<div>x</div>", "x</b>", "<span>x</span>"],
)
async def test_bad_html_is_rejected(emu, bot, text):
    emu.send_text(USER, "hi")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, text, parse_mode="HTML")
    assert emu.bot_messages(USER) == []


async def test_callback_data_limit_in_bytes(emu, bot):
    emu.send_text(USER, "hi")
    await bot.send_message(USER, "ok", reply_markup=keyboard(("A", "x" * 64)))
    await bot.send_message(USER, "ok", reply_markup=keyboard(("A", "é" * 32)))  # 64 bytes
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard(("A", "é" * 32 + "x")))  # 65 bytes
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard(("A", "x" * 65)))
    assert len(emu.bot_messages(USER)) == 2


# ------------------------------------------------------------------ editing & callbacks


async def test_edit_message_text_and_not_modified(emu, bot):
    emu.send_text(USER, "hi")
    sent = await bot.send_message(USER, "Pilih:", reply_markup=keyboard(("Ya", "yes"), ("Tidak", "no")))
    edited = await bot.edit_message_text("Pilih lagi:", chat_id=USER, message_id=sent.message_id,
                                         reply_markup=keyboard(("Ya", "yes")))
    assert edited.text == "Pilih lagi:" and edited.edit_date is not None
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Pilih lagi:", chat_id=USER, message_id=sent.message_id,
                                    reply_markup=keyboard(("Ya", "yes")))
    # Dropping the keyboard is a modification
    await bot.edit_message_text("Pilih lagi:", chat_id=USER, message_id=sent.message_id)
    msg = emu.message(USER, sent.message_id)
    assert msg.edit_count == 2 and msg.reply_markup is None
    with pytest.raises(LookupError):
        emu.tap(USER, sent.message_id, "yes")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=9999)

    assert await bot.delete_message(USER, sent.message_id)
    assert emu.message(USER, sent.message_id).deleted
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=sent.message_id)


async def test_tap_and_answer_callback_query(emu, bot):
    emu.send_text(USER, "hi")
    sent = await bot.send_message(USER, "Lanjut?", reply_markup=keyboard(("Ya", "yes"), ("Tidak", "no")))
    offset = (await bot.get_updates(timeout=0))[-1].update_id + 1

    query_id = emu.tap(USER, sent.message_id, button_text="Tidak")
    updates = await bot.get_updates(offset=offset, timeout=0)
    query = updates[0].callback_query
    assert query.id == query_id and query.data == "no"
    assert query.message.message_id == sent.message_id and query.from_user.id == USER

    assert emu.callback_answer(query_id) is None
    assert await query.answer("Oke")
    assert (await emu.wait_callback_answer(query_id))["text"] == "Oke"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await query.answer("again")

    with pytest.raises(LookupError):
        emu.tap(USER, sent.message_id, "maybe")
    forged = emu.tap_raw(USER, sent.message_id, "admin:approve")
    assert emu.pending_updates == 2
    with pytest.raises(BadRequest, match="(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(forged, text="x" * 201)


async def test_reply_keyboard_contact_button(emu, bot):
    emu.send_text(USER, "hi")
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Bagikan nomor", request_contact=True)], ["Batal"]],
        resize_keyboard=True, one_time_keyboard=True,
    )
    await bot.send_message(USER, "Nomor HP?", reply_markup=markup)
    assert emu.last_bot_message(USER).reply_markup["keyboard"][1][0]["text"] == "Batal"
    with pytest.raises(LookupError):
        emu.press_reply_button(USER, "Lainnya")
    update = emu.press_reply_button(USER, "Bagikan nomor", phone_number="+6281234567890")
    assert update["message"]["contact"] == {
        "phone_number": "+6281234567890", "first_name": "Kontak", "user_id": USER,
    }
    emu.send_contact(USER, "+628111", contact_user_id=None)
    parsed = (await bot.get_updates(timeout=0))[-1].message.contact
    assert parsed.user_id is None and parsed.phone_number == "+628111"


# ------------------------------------------------------------------ files


async def test_send_document_and_resend_by_file_id(emu, bot):
    emu.send_text(USER, "hi")
    sent = await bot.send_document(USER, b"%PDF-1.4 test", filename="surat.pdf", caption="<i>Surat</i>",
                                   parse_mode="HTML")
    assert sent.document.file_name == "surat.pdf" and sent.caption == "Surat"
    msg = emu.last_bot_message(USER)
    assert msg.content == b"%PDF-1.4 test" and msg.mime_type == "application/pdf"

    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document.file_unique_id == sent.document.file_unique_id
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(USER, "BQACnotAfile")
    with pytest.raises(BadRequest, match="(?i)type of file mismatch"):
        await bot.send_photo(USER, sent.document.file_id)
    with pytest.raises(BadRequest, match="(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, b"not an image")
    photo = await bot.send_photo(USER, b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert len(photo.photo) >= 2


async def test_user_document_download_and_too_big(emu, bot):
    payload = bytes(range(256)) * 10
    update = emu.send_document(USER, payload, file_name="ktp.pdf", mime_type="application/pdf")
    document = Update.de_json(update, bot).message.document
    assert document.file_size == len(payload)
    tg_file = await bot.get_file(document.file_id)
    assert tg_file.file_path.endswith(".pdf")
    assert bytes(await tg_file.download_as_bytearray()) == payload

    big = emu.send_document(USER, b"x", file_name="big.pdf", mime_type="application/pdf",
                            declared_size=25 * 1024 * 1024)
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(big["message"]["document"]["file_id"])

    photo_update = emu.send_photo(USER, b"\xff\xd8\xff" + b"j" * 500, caption="foto")
    sizes = Update.de_json(photo_update, bot).message.photo
    assert len({s.file_id for s in sizes}) == len(sizes) >= 2
    largest = await bot.get_file(sizes[-1].file_id)
    assert bytes(await largest.download_as_bytearray()) == b"\xff\xd8\xff" + b"j" * 500


# ------------------------------------------------------------------ faults


async def test_fail_next_500_has_no_effect(emu, bot):
    emu.send_text(USER, "hi")
    emu.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "lost")
    assert emu.bot_messages(USER) == []
    await bot.send_message(USER, "delivered")
    assert [m.text for m in emu.bot_messages(USER)] == ["delivered"]
    assert [c.status for c in emu.calls_of("sendMessage")] == [500, 200]


async def test_fail_next_429_retry_after(emu, bot):
    emu.send_text(USER, "hi")
    emu.fail_next(None, status=429, retry_after=7)
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(USER, "x")
    assert retry_seconds(exc.value) == 7
    assert emu.calls[-1].response["parameters"] == {"retry_after": 7}
    assert emu.bot_messages(USER) == []


async def test_delay_next_times_out_but_applies(emu, bot):
    emu.send_text(USER, "hi")
    emu.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "late", read_timeout=0.2)
    assert [m.text for m in emu.bot_messages(USER)] == ["late"]

    emu.delay_next("sendMessage", 1.0, apply=False)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "never", read_timeout=0.2)
    assert [m.text for m in emu.bot_messages(USER)] == ["late"]


async def test_flood_limit_per_chat(emu, bot):
    emu.send_text(USER, "hi")
    emu.send_text(OTHER, "hi")
    emu.flood_limit_per_chat = (3, 1.0)
    for i in range(3):
        await bot.send_message(USER, f"m{i}")
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(USER, "too many")
    assert retry_seconds(exc.value) >= 1
    await bot.send_message(OTHER, "other chat is fine")
    assert len(emu.bot_messages(USER)) == 3


# ------------------------------------------------------------------ commands


async def test_set_my_commands_per_scope(emu, bot):
    emu.send_text(USER, "hi")
    await bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("batal", "Batalkan")])
    await bot.set_my_commands([BotCommand("admin", "Panel admin")], scope=BotCommandScopeChat(USER))
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats(),
                              language_code="en")
    assert [c["command"] for c in emu.my_commands()] == ["start", "batal"]
    assert [c["command"] for c in emu.my_commands({"type": "chat", "chat_id": USER})] == ["admin"]
    assert emu.my_commands({"type": "all_private_chats"}, "en")[0]["command"] == "help"
    got = await bot.get_my_commands(scope=BotCommandScopeChat(USER))
    assert [c.command for c in got] == ["admin"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(USER))
    assert emu.my_commands({"type": "chat", "chat_id": USER}) is None
    assert await bot.set_my_description("Bot SPLP") and emu.descriptions[""] == "Bot SPLP"
    assert await bot.send_chat_action(USER, "typing")


# ------------------------------------------------------------------ end to end with Application


async def test_application_polling_end_to_end(emu):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(
            f"echo: {update.effective_message.text}",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]]),
        )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_html(f"<b>start</b>:{' '.join(context.args)}")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("done")
        await update.callback_query.edit_message_reply_markup(None)

    app = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(f"{emu.api_url}/bot")
        .base_file_url(f"{emu.api_url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(button))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            emu.send_text(USER, "halo bot")
            reply = await emu.wait_bot_message(USER, contains="echo: halo bot")
            emu.send_text(USER, "/start token123")
            started = await emu.wait_bot_message(USER, contains="start:token123", after=reply.message_id)
            assert started.html == "<b>start</b>:token123"

            query_id = emu.tap(USER, reply.message_id, "ok")
            assert (await emu.wait_callback_answer(query_id))["text"] == "done"
            await emu.wait_for(lambda: emu.message(USER, reply.message_id).reply_markup is None)
            with pytest.raises(LookupError):
                emu.tap(USER, reply.message_id, "ok")
        finally:
            await app.updater.stop()
            await app.stop()
    assert emu.calls_of("deleteWebhook")
    # the long poll abandoned by Updater.stop() is answered with 409 by the final getUpdates
    assert {c.status for c in emu.calls_of("getUpdates")} <= {200, 409}


async def test_wait_for_timeout_message(emu):
    with pytest.raises(TimeoutError, match="(?i)no bot message in chat"):
        await emu.wait_bot_message(USER, timeout=0.1)


# ------------------------------------------------------------------ the sandbox's additions


async def test_listeners_see_what_a_user_would_see(emu, bot):
    events: list[dict] = []
    unsubscribe = emu.subscribe(events.append)
    emu.subscribe(lambda e: 1 / 0)  # a broken listener never reaches the bot
    emu.send_text(USER, "hi")
    sent = await bot.send_message(USER, "Pilih:", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="a")]]))
    qid = emu.tap(USER, sent.message_id, "a")
    await bot.answer_callback_query(qid, text="Oke", show_alert=True)
    await bot.edit_message_text("Dipilih: A", chat_id=USER, message_id=sent.message_id)
    await bot.send_chat_action(USER, "typing")
    await bot.set_my_commands([BotCommand("status", "Status")], scope=BotCommandScopeChat(USER))
    await bot.delete_message(USER, sent.message_id)
    kinds = [e["type"] for e in events]
    assert kinds.count("chat") >= 4 and {"answer", "action", "commands"} <= set(kinds)
    assert {"type": "answer", "chat_id": USER, "text": "Oke", "show_alert": True} in events
    assert {"type": "action", "chat_id": USER, "action": "typing"} in events
    assert emu.commands_for(USER) == [{"command": "status", "description": "Status"}]
    assert emu.commands_for(OTHER) == []
    await bot.set_my_commands([BotCommand("mulai", "Mulai")], scope=BotCommandScopeAllPrivateChats())
    assert emu.commands_for(OTHER) == [{"command": "mulai", "description": "Mulai"}]
    unsubscribe()
    n = len(events)
    emu.send_text(USER, "lagi")
    assert len(events) == n


async def test_message_dates_follow_the_given_clock():
    emu = TelegramEmulator(now=lambda: 1_800_000_000.0)
    await emu.start()
    try:
        emu.send_text(USER, "hi")
        assert emu.chat(USER)[0].date == 1_800_000_000
    finally:
        await emu.stop()


async def test_state_survives_a_restart(emu, bot, tmp_path):
    emu.send_text(USER, "hi", first_name="Budi")
    doc = await bot.send_document(USER, b"%PDF-1.4 laporan", filename="lap.pdf", caption="<b>Laporan</b>",
                                  parse_mode="HTML")
    await bot.send_message(USER, "Nomor?", reply_to_message_id=doc.message_id, reply_markup=ReplyKeyboardMarkup(
        [[KeyboardButton("Bagikan nomor", request_contact=True)]], one_time_keyboard=True))
    await bot.set_my_commands([BotCommand("status", "Status")], scope=BotCommandScopeChat(USER))
    gone = await bot.send_message(USER, "sementara")
    await bot.delete_message(USER, gone.message_id)
    typed = emu.send_text(USER, "Rahasia#2026")["message"]["message_id"]  # a password the bot deletes
    handled = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=handled[-1].update_id + 1, timeout=0)
    await bot.delete_message(USER, typed)
    emu.send_photo(USER, b"\x89PNG\r\n\x1a\n" + b"0" * 300)  # not fetched yet: delivered after the restart
    pending = emu.pending_updates
    emu.save_state(tmp_path)
    assert "Rahasia#2026" not in (tmp_path / TelegramEmulator.STATE_FILE).read_text("utf-8")
    assert "sementara" not in (tmp_path / TelegramEmulator.STATE_FILE).read_text("utf-8")
    before = [(m.message_id, m.from_bot, m.content_text if not m.deleted else "", m.deleted) for m in emu.chat(USER)]
    last_update = emu._next_update_id  # noqa: SLF001 - comparing with the restored emulator
    emu.send_text(USER, "after the save")  # not saved: lost, like anything after a crash

    again = TelegramEmulator()
    assert again.load_state(tmp_path)
    assert not TelegramEmulator().load_state(tmp_path / "nothing")
    await again.start()
    try:
        assert [(m.message_id, m.from_bot, m.content_text, m.deleted) for m in again.chat(USER)] == before
        assert again.message(USER, typed).deleted and again.message(USER, typed).text is None
        restored = again.message(USER, doc.message_id)
        assert restored.content == b"%PDF-1.4 laporan" and restored.caption_entities[0]["type"] == "bold"
        assert again.message(USER, gone.message_id).deleted
        assert again.last_bot_message(USER).reply_to is restored
        assert again.current_reply_keyboard(USER)["keyboard"][0][0]["request_contact"]
        assert again.commands_for(USER) == [{"command": "status", "description": "Status"}]
        assert next(m for m in again.chat(USER) if m.photo).photo[-1].content.startswith(b"\x89PNG")
        assert again.users[USER]["first_name"] == "Budi" and again.is_started(USER)
        # Pending updates are delivered; new ids never repeat one the bot may have seen.
        rebot = make_bot(again)
        async with rebot:
            updates = await rebot.get_updates(timeout=0)
            assert len(updates) == pending
            again.send_text(USER, "baru")
            new = (await rebot.get_updates(offset=updates[-1].update_id + 1, timeout=0))[-1]
            assert new.update_id > last_update and new.message.message_id > max(b[0] for b in before) + 1
            assert (await rebot.get_file(restored.document.file_id)).file_path
        with pytest.raises(RuntimeError):
            again.load_state(tmp_path)  # not while serving
    finally:
        await again.stop()
    (tmp_path / TelegramEmulator.STATE_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot restore"):
        TelegramEmulator().load_state(tmp_path)


async def test_random_id_names_a_users_message_across_a_restart(tmp_path):
    """As Telegram clients send messages.sendMessage with random_id: the id of a message already
    sent is known, per user, also after the state was saved and restored; old ids are forgotten."""
    emu = TelegramEmulator()
    emu.add_user(USER, "Rina")
    sent = emu.send_text(USER, "/ajukan", random_id=42)["message"]["message_id"]
    assert emu.sent_with_random_id(USER, 42) == sent
    assert emu.sent_with_random_id(USER, 43) is None and emu.sent_with_random_id(USER + 1, 42) is None
    emu.save_state(tmp_path)
    again = TelegramEmulator()
    assert again.load_state(tmp_path)
    assert again.sent_with_random_id(USER, 42) == sent
    for i in range(TelegramEmulator.RANDOM_IDS_KEPT):
        again.send_text(USER, "x", random_id=1000 + i)
    assert again.sent_with_random_id(USER, 42) is None and again.sent_with_random_id(USER, 1000) is not None


async def test_call_log_can_be_bounded(emu, bot):
    emu.max_calls = 5
    emu.send_text(USER, "hi")
    for i in range(20):
        await bot.send_message(USER, f"pesan {i}")
    assert 5 <= len(emu.calls) <= 10
    assert emu.calls_of("sendMessage")[-1].params["text"] == "pesan 19"
    assert len(emu.calls_of("sendMessage")) == len(emu.calls)
