"""The Bot API transport (bot/transport.py) over real HTTP against the emulator: parameters as a JSON
body (nested objects such as keyboards as objects), files as multipart."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.transport import AiohttpRequest
from sandbox.telegram import TelegramEmulator

USER = 4242
PDF = b"%PDF-1.4\n" + b"0" * 1500 + b"\n%%EOF\n"


async def test_parameters_go_as_json_and_files_as_multipart(emu: TelegramEmulator) -> None:
    emu.add_user(USER, "Siti", started=True)
    api = emu.api_url.rstrip("/")
    bot = Bot(emu.token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=AiohttpRequest(),
              get_updates_request=AiohttpRequest())
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Setujui ✅", callback_data="a:1")]])
    async with bot:
        sent = await bot.send_message(USER, "Surat <b>baru</b> — «masuk»", parse_mode="HTML", reply_markup=keyboard)
        doc = await bot.send_document(USER, PDF, filename="laporan.pdf", caption="Laporan", reply_markup=keyboard)
    (msg_call,) = emu.calls_of("sendMessage")
    assert msg_call.content_type == "application/json"
    assert msg_call.params["reply_markup"] == keyboard.to_dict()
    got = emu.message(USER, sent.message_id)
    assert got is not None and got.text == "Surat baru — «masuk»" and got.button_texts == ["Setujui ✅"]
    (doc_call,) = emu.calls_of("sendDocument")
    assert doc_call.content_type == "multipart/form-data"
    assert doc.document is not None and doc.document.file_name == "laporan.pdf"
    assert emu.message(USER, doc.message_id).button_texts == ["Setujui ✅"]  # type: ignore[union-attr]
    assert {c.content_type for c in emu.calls if c.method == "getMe"} <= {"application/json", None}
