"""The sandbox page's rendering of Telegram messages: entities to HTML, always escaped."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.render import render_chat, render_message, render_reply_keyboard, render_text, safe_href
from sandbox.telegram import FileRec, Msg, parse_html

WIB = ZoneInfo("Asia/Jakarta")
T0 = int(datetime(2026, 11, 30, 9, 5, tzinfo=WIB).timestamp())


def html(source: str) -> str:
    """What the page shows for a bot text sent with parse_mode=HTML."""
    return render_text(*parse_html(source))


def test_formatting_as_telegram_renders_it() -> None:
    assert html("<b>Tebal</b> dan <i>miring</i>\nbaris <u>dua</u> <s>coret</s> <code>x</code>") == (
        "<b>Tebal</b> dan <i>miring</i>\nbaris <u>dua</u> <s>coret</s> <code>x</code>")
    assert html("<b>a <i>b</i> c</b>") == "<b>a <i>b</i> c</b>"
    assert html('<a href="https://splp.layanan.go.id/">portal</a>') == (
        '<a href="https://splp.layanan.go.id/" target="_blank" rel="noopener noreferrer">portal</a>')
    assert html("<pre>kode\n  baris</pre>") == "<pre>kode\n  baris</pre>"
    assert html("<tg-spoiler>rahasia</tg-spoiler>").startswith('<span class="spoiler"')
    assert html("<blockquote>kutipan</blockquote>") == "<blockquote>kutipan</blockquote>"


def test_text_is_escaped_and_links_are_limited() -> None:
    assert html("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"x\"") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"x\"")
    out = render_text('"><img src=x onerror=alert(1)>', [{"type": "bold", "offset": 0, "length": 5}])
    assert out == '<b>"&gt;&lt;im</b>g src=x onerror=alert(1)&gt;'
    # Entities sent directly may carry any URL: only http(s), mailto and tg become links.
    out = render_text("klik", [{"type": "text_link", "offset": 0, "length": 4, "url": "javascript:alert(1)"}])
    assert "href" not in out and "klik" in out
    out = render_text("klik", [{"type": "text_link", "offset": 0, "length": 4, "url": 'https://x.id/"onmouseover="a'}])
    assert 'href="https://x.id/&quot;onmouseover=&quot;a"' in out
    assert safe_href("tg://user?id=1") and safe_href("mailto:a@b.id") and not safe_href("data:text/html,x")


def test_utf16_offsets_with_emoji() -> None:
    text, entities = parse_html("🎉 <b>Akun</b> 👍🏽 <i>siap</i>")
    assert render_text(text, entities) == "🎉 <b>Akun</b> 👍🏽 <i>siap</i>"


def test_overlapping_entities_stay_well_formed() -> None:
    out = render_text("abcdef", [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 2, "length": 4}])
    assert out == "<b>ab<i>cd</i></b><i>ef</i>"


def test_plain_urls_and_commands_become_clickable() -> None:
    out = render_text("Buka https://t.me/splp_bot?start=cp_Ab-1. Lalu /status atau /ajukan@splp_bot.", None)
    assert '<a href="https://t.me/splp_bot?start=cp_Ab-1" target="_blank"' in out
    assert "cp_Ab-1</a>. Lalu" in out  # the full stop is not part of the link
    assert '<a href="#" class="cmd" data-cmd="/status">/status</a>' in out
    assert 'data-cmd="/ajukan@splp_bot"' in out
    # Not commands: parts of letter numbers, dates and paths.
    for text in ("000.1/123-Dinkes/2026", "27/11/2026", "a/b", "http://x.id/status"):
        assert 'class="cmd"' not in render_text(text, None), text
    # Inside code or a link nothing is linked twice.
    assert "href" not in render_text("/status", [{"type": "code", "offset": 0, "length": 7}])


def _msg(**kw: object) -> Msg:
    return Msg(message_id=kw.pop("message_id", 7), chat_id=1, from_bot=kw.pop("from_bot", True),  # type: ignore[arg-type]
               date=T0, **kw)  # type: ignore[arg-type]


def test_message_parts() -> None:
    doc = FileRec("BQAC1", "u1", "document", b"%PDF-1.4", 27_900, file_name="LAP <1>.pdf", mime_type="application/pdf")
    m = _msg(caption="Laporan", document=doc, edit_date=T0 + 16 * 60,
             reply_markup={"inline_keyboard": [[{"text": "Kirim <x>", "callback_data": "a:1"},
                                                {"text": "Portal", "url": "https://splp.layanan.go.id"}]]})
    out = render_message(m, WIB)
    assert 'class="msg bot" data-mid="7"' in out
    assert 'href="/file/BQAC1"' in out and "LAP &lt;1&gt;.pdf" in out and "27,2 KB" in out
    assert '<button type="button" class="ib" data-cb="a:1">Kirim &lt;x&gt;</button>' in out
    assert 'class="ib url" href="https://splp.layanan.go.id"' in out
    assert "diedit" in out and "09.21" in out  # edit time in WIB
    contact = render_message(_msg(from_bot=False, contact={"phone_number": "6281234567890", "first_name": "Siti"}), WIB)
    assert 'class="msg me"' in contact and "Siti" in contact and "6281234567890" in contact


def test_chat_skips_deleted_and_marks_days() -> None:
    a = _msg(message_id=1, text="satu")
    b = _msg(message_id=2, text="dua", deleted=True)
    c = Msg(message_id=3, chat_id=1, from_bot=True, date=T0 + 86_400, text="tiga")
    out = render_chat([a, b, c], WIB)
    assert "satu" in out and "dua" not in out and "tiga" in out
    assert out.count('class="day"') == 2


def test_reply_keyboard() -> None:
    assert render_reply_keyboard(None) == "" and render_reply_keyboard({"remove_keyboard": True}) == ""
    out = render_reply_keyboard({"keyboard": [[{"text": "Bagikan nomor", "request_contact": True}], ["Batal"]]})
    assert 'data-text="Bagikan nomor" data-contact="1"' in out and 'data-text="Batal">Batal' in out
