"""Telegram chats as HTML for the sandbox page, rendered the way a Telegram client shows them.

Everything the bot or a user wrote is escaped; markup comes only from the message entities
(bold, italics, links, code, ...) that the emulator parsed from the bot's HTML, never from
the bot's raw text. Links are limited to http(s), mailto and tg; plain URLs and /commands in
the text become clickable as in Telegram.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from datetime import date, datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.texts import DAYS, fmt_date
from sandbox.icons import icon
from sandbox.telegram import Msg

__all__ = ["render_chat", "render_message", "render_reply_keyboard", "render_text", "safe_href"]

_SIMPLE_TAGS = {
    "bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "code": "code",
}
# Entities inside which plain URLs and commands are not turned into links again.
_NO_AUTOLINK = frozenset({"text_link", "url", "email", "bot_command", "code", "pre", "text_mention"})
_AUTO_RE = re.compile(
    r"(?P<url>https?://[^\s<>\"']+)"
    r"|(?P<cmd>(?<![\w/@.:<-])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/]))"
)
_TRAILING = ".,;:!?)]}'\""
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tg"})


def _attr(value: str) -> str:
    return escape(value, quote=True)


def safe_href(url: str) -> str | None:
    """``url`` if it is a link a page may open (http, https, mailto, tg), else None."""
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in _SAFE_SCHEMES else None


def _link(href: str, inner_html: str) -> str:
    return f'<a href="{_attr(href)}" target="_blank" rel="noopener noreferrer">{inner_html}</a>'


def _autolink(text: str) -> str:
    """Escape ``text``, making plain URLs and /commands clickable (Telegram does the same)."""
    out: list[str] = []
    pos = 0
    for m in _AUTO_RE.finditer(text):
        start, end = m.span()
        token = m.group(0)
        if m.group("url"):
            stripped = token.rstrip(_TRAILING)
            end = start + len(stripped)
            token = stripped
        out.append(escape(text[pos:start], quote=False))
        if m.group("url"):
            href = safe_href(token)
            out.append(_link(href, escape(token, quote=False)) if href else escape(token, quote=False))
        else:
            out.append(f'<a href="#" class="cmd" data-cmd="{_attr(token)}">{escape(token, quote=False)}</a>')
        pos = end
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def _index_map(text: str) -> tuple[list[int], list[int]]:
    """UTF-16 offsets (entity units) of each character start, and the matching str indexes."""
    u16s: list[int] = []
    idx: list[int] = []
    u = 0
    for i, ch in enumerate(text):
        u16s.append(u)
        idx.append(i)
        u += 2 if ord(ch) > 0xFFFF else 1
    u16s.append(u)
    idx.append(len(text))
    return u16s, idx


def _open_tag(entity: dict, inner_text: str) -> tuple[str, str]:
    kind = entity.get("type")
    if kind in _SIMPLE_TAGS:
        tag = _SIMPLE_TAGS[kind]
        return f"<{tag}>", f"</{tag}>"
    if kind == "pre":
        lang = entity.get("language")
        return (f'<pre data-lang="{_attr(lang)}">' if lang else "<pre>"), "</pre>"
    if kind == "spoiler":
        return '<span class="spoiler" title="Klik untuk membuka">', "</span>"
    if kind == "blockquote":
        return "<blockquote>", "</blockquote>"
    if kind == "expandable_blockquote":
        return '<blockquote class="expandable">', "</blockquote>"
    if kind in ("text_link", "url", "email"):
        target = entity.get("url") if kind == "text_link" else inner_text
        if kind == "email":
            target = f"mailto:{inner_text}"
        href = safe_href(target or "")
        if href is None:
            return '<span class="link-blocked">', "</span>"
        return f'<a href="{_attr(href)}" target="_blank" rel="noopener noreferrer">', "</a>"
    if kind == "bot_command":
        return f'<a href="#" class="cmd" data-cmd="{_attr(inner_text)}">', "</a>"
    if kind in ("mention", "text_mention", "hashtag", "cashtag", "phone_number"):
        return f'<span class="{_attr(kind)}">', "</span>"
    return "", ""  # custom_emoji and anything new: the text as it is


def render_text(text: str, entities: Iterable[dict] | None) -> str:
    """Telegram text plus entities (UTF-16 offsets) as safe HTML; line breaks are kept by CSS."""
    if not text:
        return ""
    ents = list(entities or ())
    if not ents:
        return _autolink(text)
    u16s, idx = _index_map(text)

    def to_index(u: int) -> int:
        pos = bisect.bisect_right(u16s, u) - 1  # an offset inside a surrogate pair snaps back
        return idx[max(pos, 0)]

    spans: list[tuple[int, int, int, dict]] = []
    for n, e in enumerate(ents):
        try:
            start = to_index(int(e["offset"]))
            end = to_index(int(e["offset"]) + int(e["length"]))
        except (KeyError, TypeError, ValueError):
            continue
        if end > start:
            spans.append((start, end, n, e))
    bounds = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    out: list[str] = []
    stack: list[tuple[int, int, int, dict]] = []
    closers: dict[int, str] = {}
    for a, b in zip(bounds, bounds[1:]):
        active = sorted((sp for sp in spans if sp[0] <= a and sp[1] >= b), key=lambda sp: (sp[0], -sp[1], sp[2]))
        keep = 0
        while keep < len(stack) and keep < len(active) and stack[keep] is active[keep]:
            keep += 1
        for sp in reversed(stack[keep:]):
            out.append(closers.pop(sp[2]))
        for sp in active[keep:]:
            opener, closer = _open_tag(sp[3], text[sp[0]:sp[1]])
            out.append(opener)
            closers[sp[2]] = closer
        stack = active
        segment = text[a:b]
        if any(sp[3].get("type") in _NO_AUTOLINK for sp in active):
            out.append(escape(segment, quote=False))
        else:
            out.append(_autolink(segment))
    for sp in reversed(stack):
        out.append(closers.pop(sp[2]))
    return "".join(out)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB".replace(".", ",")
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")


def _preview(m: Msg) -> str:
    if m.content_text:
        return m.content_text[:90]
    if m.document is not None:
        return f"📄 {m.document.file_name or 'Berkas'}"
    if m.photo:
        return "🖼 Foto"
    if m.contact:
        return "👤 Kontak"
    return ""


def _inline_button(b: dict) -> str:
    label = escape(str(b.get("text", "")), quote=False)
    if "callback_data" in b:
        return f'<button type="button" class="ib" data-cb="{_attr(str(b["callback_data"]))}">{label}</button>'
    if "url" in b:
        href = safe_href(str(b["url"]))
        if href:
            return f'<a class="ib url" href="{_attr(href)}" target="_blank" rel="noopener noreferrer">{label} ↗</a>'
    if "copy_text" in b:
        text = (b["copy_text"] or {}).get("text", "") if isinstance(b["copy_text"], dict) else ""
        return f'<button type="button" class="ib" data-copy="{_attr(str(text))}">{label}</button>'
    return f'<button type="button" class="ib" disabled title="Tidak didukung di sandbox">{label}</button>'


def render_message(m: Msg, tz: ZoneInfo) -> str:
    """One chat bubble (bot messages on the left, the user's own on the right)."""
    parts: list[str] = []
    if m.reply_to is not None and not m.reply_to.deleted:
        parts.append(f'<div class="quote">{escape(_preview(m.reply_to), quote=False)}</div>')
    if m.photo:
        big = m.photo[-1]
        parts.append(f'<a class="photo" href="/file/{_attr(big.file_id)}" target="_blank" rel="noopener">'
                     f'<img src="/file/{_attr(big.file_id)}" alt="Foto" loading="lazy"></a>')
    if m.document is not None:
        d = m.document
        name = d.file_name or "Berkas"
        parts.append(f'<a class="doc" href="/file/{_attr(d.file_id)}" target="_blank" rel="noopener">'
                     f'<span class="doc-icon">{icon("document")}</span><span class="doc-name">{escape(name, quote=False)}</span>'
                     f'<span class="doc-size">{_size(d.size)}</span></a>')
    if m.contact:
        c = m.contact
        name = " ".join(str(c.get(k, "")) for k in ("first_name", "last_name") if c.get(k))
        parts.append(f'<div class="contact">👤 <b>{escape(name or "Kontak", quote=False)}</b><br>'
                     f'{escape(str(c.get("phone_number", "")), quote=False)}</div>')
    if m.text is not None:
        parts.append(f'<div class="text">{render_text(m.text, m.entities)}</div>')
    elif m.caption:
        parts.append(f'<div class="text">{render_text(m.caption, m.caption_entities)}</div>')
    t = datetime.fromtimestamp(m.edit_date or m.date, tz)
    edited = '<span class="edited">diedit</span> ' if m.edit_date else ""
    parts.append(f'<div class="meta">{edited}{t:%H.%M}</div>')
    keyboard = m.inline_keyboard
    if keyboard:
        rows = "".join(
            '<div class="ikb-row">' + "".join(_inline_button(b) for b in row) + "</div>" for row in keyboard if row
        )
        parts.append(f'<div class="ikb">{rows}</div>')
    side = "bot" if m.from_bot else "me"
    return f'<div class="msg {side}" data-mid="{m.message_id}">{"".join(parts)}</div>'


def _day_label(d: date) -> str:
    return f"{DAYS[d.weekday()]}, {fmt_date(d)}"


def render_chat(messages: Iterable[Msg], tz: ZoneInfo) -> str:
    """A chat's visible messages with a date line at each new day."""
    out: list[str] = []
    day: date | None = None
    for m in messages:
        if m.deleted:
            continue
        d = datetime.fromtimestamp(m.date, tz).date()
        if d != day:
            out.append(f'<div class="day">{escape(_day_label(d), quote=False)}</div>')
            day = d
        out.append(render_message(m, tz))
    return "".join(out)


def render_reply_keyboard(markup: dict[str, Any] | None) -> str:
    """The reply keyboard shown under the chat (empty when none)."""
    if not markup or "keyboard" not in markup:
        return ""
    rows = []
    for row in markup["keyboard"]:
        buttons = []
        for b in row:
            b = {"text": b} if isinstance(b, str) else b
            label = escape(str(b.get("text", "")), quote=False)
            contact = ' data-contact="1"' if b.get("request_contact") else ""
            buttons.append(f'<button type="button" class="rb" data-text="{_attr(str(b.get("text", "")))}"{contact}>'
                           f"{label}</button>")
        rows.append('<div class="rkb-row">' + "".join(buttons) + "</div>")
    return "".join(rows)
