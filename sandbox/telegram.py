"""In-process Telegram Bot API emulator for tests and benchmarks.

The emulator speaks the real Bot API over real HTTP (aiohttp, 127.0.0.1, ephemeral
port), so an unmodified python-telegram-bot ``Bot``/``Application`` can run against it:

    emu = TelegramEmulator()
    await emu.start()
    bot = telegram.Bot(emu.token, base_url=f"{emu.api_url}/bot",
                       base_file_url=f"{emu.api_url}/file/bot")

Tests act as Telegram users (``send_text``, ``tap``, ``send_document`` ...) and observe
what the bot did (``chat``, ``wait_bot_message``, ``calls`` ...). The emulator is strict:
it rejects what Telegram rejects (bad HTML, too long texts, oversized callback data,
"message is not modified", answering a callback query twice, ...), with Telegram's
status codes and error descriptions.

The sandbox (``sandbox/run.py``) adds a clock (``now``), change listeners
(:meth:`TelegramEmulator.subscribe`, for the web page) and :meth:`TelegramEmulator.save_state` /
:meth:`TelegramEmulator.load_state` (chats kept across restarts).

Everything runs on the event loop that called :meth:`TelegramEmulator.start`; the
synchronous helper methods must be called from that loop's thread.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import logging
import math
import os
import random
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

__all__ = [
    "ApiError",
    "Call",
    "FileRec",
    "Msg",
    "TelegramEmulator",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
]

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_BOT_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """A Telegram-shaped API error (raised by handlers, turned into a JSON reply)."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class EntityParseError(ValueError):
    """Raised by the text parsers; the message is what follows "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of Telegram entity offsets)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------------------
# Text formatting parsers (modelled after tdlib's parse_html / parse_markdown_v2)
# --------------------------------------------------------------------------------------

_HTML_SPECIAL_RE = re.compile(r"[&<]")
_HTML_SPACES = frozenset(" \t\r\n\v\f\0")
_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)
_HTML_SIMPLE_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_URL_SCHEME_RE = re.compile(r"^(?:https?|tg|ton|ftp)://", re.IGNORECASE)
_BARE_DOMAIN_RE = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:[/?#:].*)?$")
_TG_USER_RE = re.compile(r"^tg://user\?id=(\d+)$", re.IGNORECASE)


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode an HTML entity at ``text[pos] == '&'`` the way tdlib does.

    Returns (character, new position) or (None, pos) if there is no supported entity.
    The trailing ';' is optional, as in tdlib.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                end += 1
            if end > start:
                value = int(text[start:end], 16)
        else:
            start = end
            while end < n and text[end].isdigit() and text[end].isascii():
                end += 1
            if end > start:
                value = int(text[start:end])
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None, pos
        char = chr(value)
    else:
        start = end
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        char = _NAMED_HTML_ENTITIES.get(text[start:end])
        if char is None:
            return None, pos
    if end < n and text[end] == ";":
        end += 1
    return char, end


def _check_url(url: str) -> str | None:
    url = url.strip()
    if not url:
        return None
    if _URL_SCHEME_RE.match(url):
        return url
    if _BARE_DOMAIN_RE.match(url):
        return "http://" + url + ("/" if "/" not in url else "")
    return None


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict]]:
    """Parse Telegram's HTML subset. Returns (plain text, entities with UTF-16 offsets).

    Raises :class:`EntityParseError` with a tdlib-like message on malformed input.
    ``strict_ampersand``: reject a bare '&' that does not start a supported entity
    (the Bot API documentation requires escaping it; tdlib itself keeps it literally).
    """
    out: list[str] = []
    u16 = 0
    entities: list[dict] = []
    # (tag name, argument, utf16 offset, index into `out`, begin position)
    stack: list[list[Any]] = []
    n = len(text)
    i = 0
    while i < n:
        match = _HTML_SPECIAL_RE.search(text, i)
        if match is None:
            chunk = text[i:]
            out.append(chunk)
            u16 += utf16_len(chunk)
            break
        j = match.start()
        if j > i:
            chunk = text[i:j]
            out.append(chunk)
            u16 += utf16_len(chunk)
            i = j
        if text[i] == "&":
            char, new_i = _decode_html_entity(text, i)
            if char is None:
                if strict_ampersand:
                    raise EntityParseError(
                        f"Unsupported HTML entity at byte offset {_byte_offset(text, i)}; "
                        "a bare '&' must be escaped as &amp;"
                    )
                char, new_i = "&", i + 1
            if 0xD800 <= ord(char) <= 0xDFFF:
                raise EntityParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            out.append(char)
            u16 += 2 if ord(char) > 0xFFFF else 1
            i = new_i
            continue

        # text[i] == "<"
        begin = i
        i += 1
        if i < n and text[i] == "/":
            # end tag
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            name_start = i
            while i < n and text[i] not in _HTML_SPACES and text[i] != ">":
                i += 1
            end_name = text[name_start:i]
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n or text[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            tag, argument, offset, out_index, _ = stack.pop()
            if end_name and end_name != tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            length = u16 - offset
            if length <= 0:
                continue
            entity = _html_entity(tag, argument, offset, length, "".join(out[out_index:]))
            if entity is None:
                continue
            if (
                tag == "pre"
                and entities
                and entities[-1]["type"] == "code"
                and entities[-1]["offset"] == offset
                and entities[-1]["length"] == length
                and entities[-1].get("language")
            ):
                language = entities.pop()["language"]
                entity["language"] = language
            entities.append(entity)
            continue

        # start tag
        name_start = i
        while i < n and text[i] not in _HTML_SPACES and text[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[name_start:i].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        argument = ""
        while True:
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            if text[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and text[i] not in _HTML_SPACES and text[i] not in "=>":
                i += 1
            attr_name = text[attr_start:i].lower()
            if not attr_name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n or text[i] != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
                    continue
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {_byte_offset(text, begin)}"
                )
            i += 1
            while i < n and text[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(
                    f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            if text[i] not in "'\"":
                token_start = i
                while i < n and (text[i].isascii() and (text[i].isalnum() or text[i] in ".-")):
                    i += 1
                value = text[token_start:i].lower()
                if i >= n or (text[i] not in _HTML_SPACES and text[i] != ">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                    )
            else:
                quote = text[i]
                i += 1
                parts: list[str] = []
                while i < n and text[i] != quote:
                    if text[i] == "&":
                        char, new_i = _decode_html_entity(text, i)
                        if char is not None:
                            parts.append(char)
                            i = new_i
                            continue
                    parts.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                    )
                i += 1
                value = "".join(parts)
            if tag == "a" and attr_name == "href":
                argument = value
            elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value[9:]
            elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value[3:]
            elif tag == "tg-emoji" and attr_name == "emoji-id":
                argument = value
            elif tag == "blockquote" and attr_name == "expandable":
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
            )
        if tag == "tg-emoji" and not argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        stack.append([tag, argument, u16, len(out), begin])
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(tag: str, argument: str, offset: int, length: int, inner: str) -> dict | None:
    simple = _HTML_SIMPLE_TYPES.get(tag)
    if simple is not None:
        return {"type": simple, "offset": offset, "length": length}
    if tag == "a":
        url = argument or inner
        user = _TG_USER_RE.match(url.strip())
        if user:
            return {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": inner or "User"},
            }
        checked = _check_url(url)
        if checked is None:
            return None
        return {"type": "text_link", "offset": offset, "length": length, "url": checked}
    if tag == "code":
        entity = {"type": "code", "offset": offset, "length": length}
        if argument:
            entity["language"] = argument  # only kept if wrapped by <pre>
        return entity
    if tag == "pre":
        return {"type": "pre", "offset": offset, "length": length}
    if tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        return {"type": kind, "offset": offset, "length": length}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": argument}
    return None  # pragma: no cover


def _strip_code_languages(entities: list[dict]) -> None:
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_END = {
    "bold": "*", "italic": "_", "underline": "__", "strikethrough": "~", "spoiler": "||",
    "text_link": "]",
}
_MDV2_TYPE_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
    "spoiler": "Spoiler", "text_link": "TextUrl", "code": "Code", "pre": "Pre",
}


def parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    """Parse Telegram MarkdownV2 (reasonably close to tdlib, strict about reserved chars)."""
    out: list[str] = []
    u16 = 0
    entities: list[dict] = []
    stack: list[list[Any]] = []  # [kind, u16 offset, begin index, out index, extra]
    quote_start: int | None = None
    n = len(text)
    i = 0

    def add(chunk: str) -> None:
        nonlocal u16
        out.append(chunk)
        u16 += utf16_len(chunk)

    while i < n:
        c = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        top = stack[-1] if stack else None
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            add(text[i + 1])
            i += 2
            continue
        if top is not None and top[0] in ("code", "pre"):
            if top[0] == "code" and c == "`":
                stack.pop()
                if u16 > top[1]:
                    entities.append({"type": "code", "offset": top[1], "length": u16 - top[1]})
                i += 1
                continue
            if top[0] == "pre" and text.startswith("```", i):
                stack.pop()
                body_start = top[1]
                if u16 > body_start:
                    entity = {"type": "pre", "offset": body_start, "length": u16 - body_start}
                    if top[4]:
                        entity["language"] = top[4]
                    entities.append(entity)
                i += 3
                continue
            add(c)
            i += 1
            continue
        if not stack and at_line_start:
            if c == ">":
                if quote_start is None:
                    quote_start = u16
                i += 1
                continue
            if quote_start is not None:
                # the quote ended with the previous line (excluding its newline)
                end = u16 - 1
                if end > quote_start:
                    entities.append({"type": "blockquote", "offset": quote_start, "length": end - quote_start})
                quote_start = None
        if top is not None:
            end_token = _MDV2_END.get(top[0])
            closes = False
            if top[0] == "italic" and c == "_" and not text.startswith("__", i):
                closes = True
            elif top[0] == "italic" and c == "_" and text.startswith("__", i):
                # "___" style ambiguity: italic closes first when underline is not open
                closes = not any(entry[0] == "underline" for entry in stack)
                end_token = "_"
            elif end_token is not None and top[0] != "italic" and text.startswith(end_token, i):
                closes = True
            if closes:
                assert end_token is not None
                stack.pop()
                i += len(end_token)
                if top[0] == "text_link":
                    url = None
                    if i < n and text[i] == "(":
                        i += 1
                        url_parts: list[str] = []
                        while i < n and text[i] != ")":
                            if text[i] == "\\" and i + 1 < n and text[i + 1] in ")\\":
                                url_parts.append(text[i + 1])
                                i += 2
                                continue
                            url_parts.append(text[i])
                            i += 1
                        if i >= n:
                            raise EntityParseError(
                                f"Can't find end of a URL at byte offset {_byte_offset(text, top[2])}"
                            )
                        i += 1
                        url = "".join(url_parts)
                    if u16 > top[1] and url is not None:
                        if top[4] == "emoji":
                            emoji = re.match(r"^tg://emoji\?id=(\d+)$", url)
                            if not emoji:
                                raise EntityParseError("Invalid custom emoji identifier specified")
                            entities.append({
                                "type": "custom_emoji", "offset": top[1], "length": u16 - top[1],
                                "custom_emoji_id": emoji.group(1),
                            })
                        else:
                            entity = _html_entity("a", url, top[1], u16 - top[1], "".join(out[top[3]:]))
                            if entity is not None:
                                entities.append(entity)
                elif u16 > top[1]:
                    entities.append({"type": top[0], "offset": top[1], "length": u16 - top[1]})
                continue
        if c not in _MDV2_RESERVED:
            add(c)
            i += 1
            continue
        # start of an entity?
        if c == "_":
            kind, width = ("underline", 2) if text.startswith("__", i) else ("italic", 1)
            stack.append([kind, u16, i, len(out), None])
            i += width
            continue
        if c == "*":
            stack.append(["bold", u16, i, len(out), None])
            i += 1
            continue
        if c == "~":
            stack.append(["strikethrough", u16, i, len(out), None])
            i += 1
            continue
        if c == "|" and text.startswith("||", i):
            stack.append(["spoiler", u16, i, len(out), None])
            i += 2
            continue
        if c == "[":
            stack.append(["text_link", u16, i, len(out), None])
            i += 1
            continue
        if c == "!" and text.startswith("![", i):
            stack.append(["text_link", u16, i, len(out), "emoji"])
            i += 2
            continue
        if c == "`":
            if text.startswith("```", i):
                i += 3
                line_end = text.find("\n", i)
                language = ""
                if line_end != -1:
                    candidate = text[i:line_end]
                    if candidate and not any(ch in candidate for ch in " `"):
                        language = candidate
                        i = line_end + 1
                    elif not candidate:
                        i = line_end + 1
                stack.append(["pre", u16, i, len(out), language])
            else:
                stack.append(["code", u16, i, len(out), None])
                i += 1
            continue
        raise EntityParseError(
            f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
        )
    if stack:
        kind, _, begin = stack[-1][0], stack[-1][1], stack[-1][2]
        raise EntityParseError(
            f"Can't find end of {_MDV2_TYPE_NAMES.get(kind, kind)} entity at byte offset "
            f"{_byte_offset(text, begin)}"
        )
    if quote_start is not None and u16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": u16 - quote_start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_markdown(text: str) -> tuple[str, list[dict]]:
    """Parse legacy Telegram Markdown (no nesting; *bold* _italic_ `code` ```pre``` [t](url))."""
    out: list[str] = []
    u16 = 0
    entities: list[dict] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if c == "`" and text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
                )
            body = text[i + 3:end]
            language = ""
            nl = body.find("\n")
            if nl != -1 and body[:nl] and " " not in body[:nl]:
                language, body = body[:nl], body[nl + 1:]
            if body:
                entity = {"type": "pre", "offset": u16, "length": utf16_len(body)}
                if language:
                    entity["language"] = language
                entities.append(entity)
            out.append(body)
            u16 += utf16_len(body)
            i = end + 3
            continue
        end_char = "]" if c == "[" else c
        end = text.find(end_char, i + 1)
        if end == -1:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        body = text[i + 1:end]
        i = end + 1
        entity_type = {"*": "bold", "_": "italic", "`": "code"}.get(c)
        url = None
        if c == "[":
            if i < n and text[i] == "(":
                close = text.find(")", i + 1)
                if close == -1:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
                    )
                url = text[i + 1:close]
                i = close + 1
            entity_type = "text_link"
        length = utf16_len(body)
        if length:
            if entity_type == "text_link":
                entity = _html_entity("a", url or "", u16, length, body) if url is not None else None
                if entity is not None:
                    entities.append(entity)
            else:
                entities.append({"type": entity_type, "offset": u16, "length": length})
        out.append(body)
        u16 += length
    return "".join(out), entities


_TRIM_CHARS = " \t\r\n"


def _trim(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Strip leading/trailing whitespace like Telegram does and fix entity offsets."""
    stripped = text.strip(_TRIM_CHARS)
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIM_CHARS))])
    total = utf16_len(stripped)
    fixed = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entity = dict(entity)
            entity["offset"] = start
            entity["length"] = end - start
            fixed.append(entity)
    return stripped, fixed


# --------------------------------------------------------------------------------------
# Data records
# --------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class FileRec:
    """A stored file (user upload or bot upload)."""

    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo"
    content: bytes
    size: int
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None

    def document_dict(self) -> dict:
        d: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name is not None:
            d["file_name"] = self.file_name
        if self.mime_type is not None:
            d["mime_type"] = self.mime_type
        d["file_size"] = self.size
        return d

    def photo_dict(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
        }


@dataclass(slots=True, eq=False)
class Msg:
    """A message in a private chat, as the emulator stores it (mutable: edits update it)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None  # plain text (entities removed), None for media/contact
    entities: list[dict] | None = None
    raw: str | None = None  # text or caption exactly as sent by the bot
    parse_mode: str | None = None
    caption: str | None = None
    caption_entities: list[dict] | None = None
    reply_markup: dict | None = None  # whatever was sent (inline/reply keyboard/remove/force)
    document: FileRec | None = None
    photo: list[FileRec] | None = None
    contact: dict | None = None
    reply_to: Msg | None = None
    deleted: bool = False
    edit_count: int = 0
    edit_date: int | None = None
    # previous versions: (text or caption, reply_markup) before each edit
    history: list[tuple[str | None, dict | None]] = field(default_factory=list)

    # ---- convenience views ----
    @property
    def html(self) -> str | None:
        """Raw text/caption as sent, if a parse_mode was used (else None)."""
        return self.raw if self.parse_mode else None

    @property
    def content_text(self) -> str:
        """Text or caption (plain), '' if none."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def inline_keyboard(self) -> list[list[dict]] | None:
        markup = self.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            return markup["inline_keyboard"]
        return None

    @property
    def buttons(self) -> list[dict]:
        """Flat list of the inline keyboard buttons (empty if none)."""
        keyboard = self.inline_keyboard
        return [button for row in keyboard for button in row] if keyboard else []

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons]

    @property
    def file(self) -> FileRec | None:
        if self.document is not None:
            return self.document
        if self.photo:
            return self.photo[-1]
        return None

    @property
    def file_name(self) -> str | None:
        return self.document.file_name if self.document is not None else None

    @property
    def mime_type(self) -> str | None:
        return self.document.mime_type if self.document is not None else None

    @property
    def content(self) -> bytes | None:
        rec = self.file
        return rec.content if rec is not None else None


@dataclass(slots=True, eq=False)
class Call:
    """One Bot API HTTP request as received by the emulator."""

    method: str
    params: dict
    http_method: str
    t_received: float
    status: int | None = None
    response: dict | None = None
    t_replied: float | None = None
    fault: str | None = None  # "fail" | "delay" | "delay-noapply" | "flood" | "abandoned" | None
    content_type: str | None = None  # how the parameters came: application/json, multipart/form-data ...

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result") if self.response else None

    @property
    def duration(self) -> float | None:
        return None if self.t_replied is None else self.t_replied - self.t_received


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(slots=True, eq=False)
class _CallbackQuery:
    id: str
    user_id: int
    message_key: tuple[int, int]
    data: str
    created: float
    answer: dict | None = None


@dataclass(slots=True, eq=False)
class _Rule:
    method: str | None  # lower-case name or None (= any except getUpdates)
    count: int
    status: int = 500
    retry_after: int | None = None
    description: str | None = None
    seconds: float = 0.0
    apply: bool = True
    chat_id: int | None = None  # only calls for this chat (None: any)

    def matches(self, method_lower: str, chat_id: Any = None) -> bool:
        if self.chat_id is not None and str(chat_id) != str(self.chat_id):
            return False
        if self.method is None:
            return method_lower != "getupdates"
        return self.method == method_lower


class _Signal:
    """Edge-triggered broadcast: ``fire()`` wakes everybody currently in ``wait()``."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def fire(self) -> None:
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    async def wait(self, timeout: float) -> bool:
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False


# --------------------------------------------------------------------------------------
# Parameter decoding
# --------------------------------------------------------------------------------------

_INT_PARAMS = frozenset(
    {
        "message_id", "offset", "limit", "timeout", "cache_time", "message_thread_id",
        "reply_to_message_id", "max_connections", "duration", "width", "height",
        "from_chat_id", "user_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "disable_web_page_preview", "allow_sending_without_reply",
        "disable_content_type_detection", "has_spoiler", "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
        "link_preview_options", "reply_parameters", "menu_button", "media", "message_ids",
    }
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
}


def _coerce(name: str, value: Any) -> Any:
    if isinstance(value, UploadedFile):
        return value
    if name == "chat_id":
        if isinstance(value, bool):
            raise _bad("chat not found")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        try:
            return int(text)
        except ValueError:
            return text  # "@username" (not supported for private chats -> chat not found)
    if name in _INT_PARAMS:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise _bad(f'field "{name}" must be of type Integer') from None
    if name in _BOOL_PARAMS:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0", ""):
            return False
        raise _bad(f'field "{name}" must be of type Boolean')
    if name in _JSON_PARAMS:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(_JSON_ERRORS.get(name, f"can't parse {name} JSON object")) from None
        return value
    return value


# --------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "business_connection",
        "business_message", "edited_business_message", "deleted_business_messages",
        "purchased_paid_media", "message_reaction_count", "removed_chat_boost", "chat_boost",
    }
)
_INLINE_ACTIONS = (
    "callback_data", "url", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game",
    "pay", "web_app", "copy_text",
)
_COUNTED_METHODS = frozenset(
    {"sendmessage", "senddocument", "sendphoto", "editmessagetext", "editmessagereplymarkup",
     "editmessagecaption"}
)
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 413: "Request Entity Too Large", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


def _looks_like_image(data: bytes) -> bool:
    if data.startswith(_IMAGE_MAGIC):
        return True
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


class TelegramEmulator:
    """A strict, in-process Telegram Bot API server for tests (see module docstring)."""

    #: Reject a bare '&' in HTML texts (documented rule; real Telegram tolerates it).
    html_strict_ampersand: bool = True
    #: Seconds after which a callback query can no longer be answered (None = never).
    callback_query_ttl: float | None = 15.0
    #: Accept ``http://`` webhook URLs, as the local Bot API server does (Telegram wants HTTPS).
    allow_http_webhook: bool = False
    #: Seconds between failed webhook deliveries of one update (the last repeats), and per POST.
    webhook_retry_delays: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0)
    webhook_timeout: float = 10.0

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "splp_test_bot",
        bot_id: int = 123456,
        *,
        bot_first_name: str = "SPLP Test Bot",
        first_update_id: int | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        #: Seconds since the epoch for message dates (the sandbox passes its adjustable clock).
        self.now = now
        #: Keep at most about this many entries in :attr:`calls` (None: all; a long-running
        #: sandbox bounds it).
        self.max_calls: int | None = None
        self._listeners: list[Callable[[dict], None]] = []
        #: Counts changes to what :meth:`save_state` writes (the sandbox saves when it moved).
        self.changes = 0
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        self.api_url = ""
        self.flood_limit_per_chat: tuple[int, float] | None = None
        self.flood_limit_global: tuple[int, float] | None = None

        self.calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = {}

        self._bot_user = {
            "id": bot_id, "is_bot": True, "first_name": bot_first_name, "username": bot_username,
        }
        self.users: dict[int, dict] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._chats: dict[int, list[Msg]] = {}
        self._messages: dict[tuple[int, int], Msg] = {}
        self._next_message_id = 1
        self._reply_keyboard: dict[int, dict | None] = {}
        #: (user id, random_id) -> message id of the user's recent text messages: a client's
        #: retry of a send whose answer it lost is not delivered twice (see :meth:`send_text`).
        self._random_ids: dict[tuple[int, int], int] = {}

        self._updates: deque[dict] = deque()
        self._next_update_id = (
            first_update_id if first_update_id is not None else random.randint(100_000, 900_000)
        )
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._poll_seq = 0

        self._files: dict[str, FileRec] = {}
        self._files_by_path: dict[str, FileRec] = {}
        self._file_seq = itertools.count(1)

        self._callbacks: dict[str, _CallbackQuery] = {}
        self._callback_seq = itertools.count(1)
        self._callback_base = random.randint(10**17, 9 * 10**17)

        self._fail_rules: list[_Rule] = []
        self._delay_rules: list[_Rule] = []
        self._flood_chat: dict[int, deque[float]] = {}
        self._flood_global: deque[float] = deque()

        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.menu_buttons: dict[int | None, dict] = {}
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_max_connections = 40
        self._webhook_error: tuple[int, str] | None = None  # (date, message) of the last failed delivery
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_wake = asyncio.Event()
        self._webhook_retry: dict[int, tuple[int, float]] = {}  # update_id -> (failures, not before)
        #: Every webhook delivery: {"update_id", "status" (None: no HTTP answer), "error"}.
        self.webhook_deliveries: list[dict] = []

        self._sig_any = _Signal()
        self._sig_updates = _Signal()
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None

        self._methods: dict[str, tuple[str, Callable[[dict], Any]]] = {}
        for name in (
            "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook",
            "getWebhookInfo", "sendMessage", "editMessageText", "editMessageReplyMarkup",
            "editMessageCaption", "deleteMessage", "answerCallbackQuery", "sendDocument",
            "sendPhoto", "getFile", "setMyCommands", "getMyCommands", "deleteMyCommands",
            "setMyDescription", "getMyDescription", "setMyShortDescription",
            "getMyShortDescription", "setMyName", "getMyName", "setChatMenuButton",
            "getChatMenuButton", "sendChatAction",
        ):
            handler = getattr(self, "_m_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())
            self._methods[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 5 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.api_url = f"http://{host}:{address[1]}"
        self._start_webhook()

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
        self._sig_updates.fire()
        self._sig_any.fire()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        closing = self._closing
        if closing is None:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(closing.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ users & updates
    def _user(self, user_id: int, first_name: str | None = None) -> dict:
        user = self.users.get(user_id)
        if user is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User{user_id}",
                "language_code": "id",
            }
            self.users[user_id] = user
            self._chats[user_id] = []
        elif first_name and user["first_name"] != first_name:
            user = dict(user, first_name=first_name)  # new object: old snapshots stay intact
            self.users[user_id] = user
        return user

    def add_user(self, user_id: int, first_name: str | None = None, *, started: bool = False) -> dict:
        """Register a user without sending anything (e.g. to test 403 for never-started users)."""
        user = self._user(user_id, first_name)
        if started:
            self._started.add(user_id)
        return user

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends fail with 403 until the user writes again."""
        self._user(user_id)
        self._blocked.add(user_id)

    def _chat_obj(self, chat_id: int) -> dict:
        user = self.users[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        if user.get("username"):
            chat["username"] = user["username"]
        return chat

    def _user_acts(self, user_id: int, first_name: str | None) -> dict:
        user = self._user(user_id, first_name)
        self._started.add(user_id)
        self._blocked.discard(user_id)
        return user

    def _new_message(self, chat_id: int, from_bot: bool, **fields: Any) -> Msg:
        msg = Msg(
            message_id=self._next_message_id,
            chat_id=chat_id,
            from_bot=from_bot,
            date=int(self.now()),
            **fields,
        )
        self._next_message_id += 1
        self._chats[chat_id].append(msg)
        self._messages[(chat_id, msg.message_id)] = msg
        self._notify({"type": "chat", "chat_id": chat_id})
        return msg

    def _message_dict(self, msg: Msg, *, with_reply: bool = True) -> dict:
        d: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self._bot_user if msg.from_bot else self.users[msg.chat_id],
            "chat": self._chat_obj(msg.chat_id),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            d["edit_date"] = msg.edit_date
        if msg.reply_to is not None and with_reply:
            d["reply_to_message"] = self._message_dict(msg.reply_to, with_reply=False)
        if msg.text is not None:
            d["text"] = msg.text
            if msg.entities:
                d["entities"] = msg.entities
        if msg.document is not None:
            d["document"] = msg.document.document_dict()
        if msg.photo:
            d["photo"] = [size.photo_dict() for size in msg.photo]
        if msg.caption is not None:
            d["caption"] = msg.caption
            if msg.caption_entities:
                d["caption_entities"] = msg.caption_entities
        if msg.contact is not None:
            d["contact"] = msg.contact
        markup = msg.reply_markup
        if markup is not None and "inline_keyboard" in markup:
            d["reply_markup"] = markup
        return d

    def _push_update(self, kind: str, payload: dict) -> dict:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self.changes += 1
        if kind in self._allowed_updates:
            self._updates.append(update)
            self._webhook_wake.set()
        self._sig_updates.fire()
        self._sig_any.fire()
        return update

    def _user_message(self, user_id: int, first_name: str | None, **fields: Any) -> dict:
        self._user_acts(user_id, first_name)
        msg = self._new_message(user_id, False, **fields)
        return self._push_update("message", self._message_dict(msg))

    #: How many recent ``random_id`` values are remembered (Telegram keeps them for a while).
    RANDOM_IDS_KEPT = 1000

    def send_text(self, user_id: int, text: str, *, first_name: str | None = None,
                  random_id: int | None = None) -> dict:
        """The user sends a text message to the bot. Returns the queued Update dict.

        ``random_id``: the client's own id of this message, as Telegram clients send with
        ``messages.sendMessage``; check :meth:`sent_with_random_id` first, a repeated id is
        the same message and must not be sent again."""
        entities = None
        match = _COMMAND_RE.match(text)
        if match:
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
        update = self._user_message(user_id, first_name, text=text, entities=entities)
        if random_id is not None:
            self._random_ids[(user_id, random_id)] = update["message"]["message_id"]
            while len(self._random_ids) > self.RANDOM_IDS_KEPT:
                del self._random_ids[next(iter(self._random_ids))]
        return update

    def sent_with_random_id(self, user_id: int, random_id: int) -> int | None:
        """The id of the message ``user_id`` sent with ``random_id``, if it was sent."""
        return self._random_ids.get((user_id, random_id))

    def press_reply_button(
        self, user_id: int, text: str, *, phone_number: str | None = None,
        first_name: str = "Kontak",
    ) -> dict:
        """Press a button of the reply keyboard currently shown in the chat.

        Raises LookupError if the current reply keyboard has no such button. A
        ``request_contact`` button shares the user's own contact (needs ``phone_number``;
        ``first_name`` is the contact's name).
        """
        keyboard = self._reply_keyboard.get(user_id)
        if not keyboard:
            raise LookupError(f"no reply keyboard is shown in chat {user_id}")
        for row in keyboard["keyboard"]:
            for button in row:
                button = {"text": button} if isinstance(button, str) else button
                if button.get("text") != text:
                    continue
                if button.get("request_contact"):
                    if phone_number is None:
                        raise ValueError(f"button {text!r} requests a contact: pass phone_number")
                    update = self.send_contact(user_id, phone_number, first_name=first_name)
                else:
                    update = self.send_text(user_id, text)
                if keyboard.get("one_time_keyboard"):
                    self._reply_keyboard[user_id] = None
                    self._notify({"type": "chat", "chat_id": user_id})
                return update
        raise LookupError(
            f"reply keyboard in chat {user_id} has no button {text!r}: "
            f"{[b if isinstance(b, str) else b.get('text') for r in keyboard['keyboard'] for b in r]}"
        )

    def current_reply_keyboard(self, user_id: int) -> dict | None:
        return self._reply_keyboard.get(user_id)

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None | str = "same",
        first_name: str = "Kontak",
    ) -> dict:
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if contact_user_id == "same":
            contact["user_id"] = user_id
        elif contact_user_id is not None:
            contact["user_id"] = int(contact_user_id)
        return self._user_message(user_id, None, contact=contact)

    def _new_file(
        self, kind: str, content: bytes, size: int | None = None, **fields: Any
    ) -> FileRec:
        seq = next(self._file_seq)
        prefix = "BQACAgUAAxkBAAI" if kind == "document" else "AgACAgUAAxkBAAI"
        rec = FileRec(
            file_id=f"{prefix}{seq:06d}{random.getrandbits(40):010x}",
            file_unique_id=f"AQAD{seq:06d}{random.getrandbits(16):04x}",
            kind=kind,
            content=content,
            size=len(content) if size is None else size,
            **fields,
        )
        self._files[rec.file_id] = rec
        return rec

    def _photo_sizes(self, content: bytes) -> list[FileRec]:
        length = len(content)
        dims = [(90, 67), (320, 240), (800, 600)]
        if length < 64:
            dims = dims[1:]
        sizes = []
        for index, (width, height) in enumerate(dims):
            last = index == len(dims) - 1
            part = content if last else content[: max(1, length // (4 ** (len(dims) - 1 - index)))]
            sizes.append(self._new_file("photo", part, width=width, height=height))
        return sizes

    def send_document(
        self,
        user_id: int,
        content: bytes,
        *,
        file_name: str,
        mime_type: str | None,
        declared_size: int | None = None,
        caption: str | None = None,
    ) -> dict:
        rec = self._new_file(
            "document", content, declared_size, file_name=file_name, mime_type=mime_type
        )
        return self._user_message(user_id, None, document=rec, caption=caption)

    def send_photo(self, user_id: int, content: bytes, *, caption: str | None = None) -> dict:
        return self._user_message(user_id, None, photo=self._photo_sizes(content), caption=caption)

    def _find_button(self, user_id: int, message_id: int) -> Msg:
        msg = self._messages.get((user_id, message_id))
        if msg is None or msg.deleted:
            raise LookupError(f"message {message_id} not found in chat {user_id}")
        if not msg.from_bot:
            raise LookupError(f"message {message_id} in chat {user_id} is not a bot message")
        return msg

    def tap(
        self,
        user_id: int,
        message_id: int,
        data: str | None = None,
        *,
        button_text: str | None = None,
    ) -> str:
        """The user taps an inline callback button. Returns the callback query id."""
        if data is None and button_text is None:
            raise ValueError("pass data or button_text")
        msg = self._find_button(user_id, message_id)
        for button in msg.buttons:
            if "callback_data" not in button:
                continue
            if data is not None and button["callback_data"] != data:
                continue
            if button_text is not None and button["text"] != button_text:
                continue
            return self._callback(user_id, msg, button["callback_data"])
        raise LookupError(
            f"message {message_id} in chat {user_id} has no live inline button "
            f"(data={data!r}, text={button_text!r}); buttons: "
            f"{[(b['text'], b.get('callback_data')) for b in msg.buttons]}"
        )

    def tap_raw(self, user_id: int, message_id: int, data: str) -> str:
        """A forged/stale tap: arbitrary callback data for a message (not checked)."""
        msg = self._messages.get((user_id, message_id))
        if msg is None:
            raise LookupError(f"message {message_id} not found in chat {user_id}")
        return self._callback(user_id, msg, data)

    def _callback(self, user_id: int, msg: Msg, data: str) -> str:
        user = self._user_acts(user_id, None)
        query_id = str(self._callback_base + next(self._callback_seq))
        self._callbacks[query_id] = _CallbackQuery(
            id=query_id,
            user_id=user_id,
            message_key=(msg.chat_id, msg.message_id),
            data=data,
            created=time.monotonic(),
        )
        payload = {
            "id": query_id,
            "from": user,
            "message": self._message_dict(msg),
            "chat_instance": str((self.bot_id * 7919 + user_id) % 10**18),
            "data": data,
        }
        self._push_update("callback_query", payload)
        return query_id

    # ------------------------------------------------------------------ observing
    def chat(self, chat_id: int) -> list[Msg]:
        return list(self._chats.get(chat_id, ()))

    def bot_messages(self, chat_id: int, include_deleted: bool = False) -> list[Msg]:
        return [
            m for m in self._chats.get(chat_id, ())
            if m.from_bot and (include_deleted or not m.deleted)
        ]

    def last_bot_message(self, chat_id: int, include_deleted: bool = False) -> Msg | None:
        for msg in reversed(self._chats.get(chat_id, ())):
            if msg.from_bot and (include_deleted or not msg.deleted):
                return msg
        return None

    def message(self, chat_id: int, message_id: int) -> Msg | None:
        return self._messages.get((chat_id, message_id))

    def last_message_id(self) -> int:
        """The highest message id used so far (handy as ``after=`` for wait_bot_message)."""
        return self._next_message_id - 1

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    @property
    def next_update_id(self) -> int:
        """The id the next update will get (ids are consecutive)."""
        return self._next_update_id

    def calls_of(self, method: str) -> list[Call]:
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        return list(self._calls_by_method.get(name, ()))

    def reset_calls(self) -> None:
        self.calls.clear()
        self._calls_by_method.clear()

    def callback_answer(self, callback_query_id: str) -> dict | None:
        query = self._callbacks.get(callback_query_id)
        return query.answer if query is not None else None

    def my_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict] | None:
        return self.commands.get((self._scope_key(scope), language_code))

    def _describe_recent_calls(self, count: int = 8) -> str:
        if not self.calls:
            return "no bot API calls received"
        lines = []
        for call in self.calls[-count:]:
            params = {k: v for k, v in call.params.items() if k not in ("reply_markup",)}
            text = repr(params)
            if len(text) > 200:
                text = text[:200] + "..."
            error = ""
            if call.response and not call.response.get("ok"):
                error = f" -> {call.response.get('description')}"
            lines.append(f"  {call.method} [{call.status}] {text}{error}")
        return "last calls:\n" + "\n".join(lines)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every API call / user action)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met within {timeout}s\n{self._describe_recent_calls()}"
                )
            # also re-check periodically so time-based predicates work
            await self._sig_any.wait(min(remaining, 0.25))

    async def wait_bot_message(
        self,
        chat_id: int,
        *,
        contains: str | None = None,
        after: int = 0,
        timeout: float = 5.0,
    ) -> Msg:
        """First (non-deleted) bot message in chat with message_id > after (containing text)."""

        def find() -> Msg | None:
            messages = self._chats.get(chat_id, ())
            start = bisect.bisect_right(messages, after, key=lambda m: m.message_id)
            for msg in itertools.islice(messages, start, None):
                if not msg.from_bot or msg.deleted:
                    continue
                if contains is None or contains in msg.content_text:
                    return msg
            return None

        try:
            return await self.wait_for(find, timeout)
        except TimeoutError as exc:
            raise TimeoutError(
                f"no bot message in chat {chat_id} after id {after}"
                f"{f' containing {contains!r}' if contains else ''} within {timeout}s; "
                f"bot messages: {[m.content_text[:60] for m in self.bot_messages(chat_id)[-5:]]}\n"
                f"{self._describe_recent_calls()}"
            ) from exc

    async def wait_callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> dict:
        try:
            return await self.wait_for(lambda: self.callback_answer(callback_query_id), timeout)
        except TimeoutError as exc:
            raise TimeoutError(
                f"callback query {callback_query_id} not answered within {timeout}s\n"
                f"{self._describe_recent_calls()}"
            ) from exc

    # ------------------------------------------------------------------ listeners (the sandbox page)
    def subscribe(self, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Call ``listener(event)`` on every change a user could see; returns an unsubscriber.

        Events (plain dicts): ``{"type": "chat", "chat_id"}`` (a message arrived, was edited or
        deleted, or the reply keyboard changed), ``{"type": "answer", "chat_id", "text",
        "show_alert"}`` (a callback query was answered), ``{"type": "action", "chat_id",
        "action"}`` (sendChatAction), ``{"type": "commands"}`` (a command menu changed).
        Listeners run synchronously on the event loop and must not block; an exception in one
        is logged and does not reach the bot.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, event: dict) -> None:
        self.changes += 1
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken page must never break the Bot API
                log.exception("emulator listener failed")

    def commands_for(self, chat_id: int, language_code: str = "") -> list[dict]:
        """The command menu a private chat shows, resolved as Telegram does (chat scope, then
        all private chats, then default; the user's language before the default language)."""
        scopes = (
            {"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}, {"type": "default"},
        )
        for scope in scopes:
            key = json.dumps(scope, sort_keys=True, separators=(",", ":"))
            for language in dict.fromkeys((language_code, "")):
                found = self.commands.get((key, language))
                if found:
                    return list(found)
        return []

    def file(self, file_id: str) -> FileRec | None:
        """A stored file (sent by a user or the bot) by its file_id."""
        return self._files.get(file_id)

    def is_started(self, user_id: int) -> bool:
        """Whether the user has started the bot (sent anything or was added as started)."""
        return user_id in self._started

    # ------------------------------------------------------------------ persistence (the sandbox)
    STATE_FILE = "telegram.json"
    FILES_DIR = "telegram-files"
    #: Ids skipped on restore: a crash after the bot recorded an id but before the state was
    #: saved must never make the emulator hand out that id again.
    RESTORE_ID_GAP = 1000

    def save_state(self, directory: Path) -> None:
        """Write users, chats, files, pending updates and bot settings to ``directory``
        (``telegram.json``, atomically, and ``telegram-files/`` for file contents)."""
        directory.mkdir(parents=True, exist_ok=True)
        files_dir = directory / self.FILES_DIR
        files_dir.mkdir(exist_ok=True)
        for rec in self._files.values():
            target = files_dir / rec.file_id
            if not target.exists():
                _atomic_write(target, rec.content)
        state = {
            "version": 1,
            "bot": {"id": self.bot_id, "username": self.bot_username},
            "next_message_id": self._next_message_id,
            "next_update_id": self._next_update_id,
            "users": list(self.users.values()),
            "started": sorted(self._started),
            "blocked": sorted(self._blocked),
            "files": [
                {k: getattr(rec, k) for k in FileRec.__slots__ if k != "content"}
                for rec in self._files.values()
            ],
            "messages": [self._msg_state(m) for chat in self._chats.values() for m in chat],
            "reply_keyboards": [[c, k] for c, k in self._reply_keyboard.items() if k is not None],
            "random_ids": [[u, r, m] for (u, r), m in self._random_ids.items()],
            "updates": list(self._updates),
            "allowed_updates": sorted(self._allowed_updates),
            "commands": [[scope, language, cmds] for (scope, language), cmds in self.commands.items()],
            "descriptions": self.descriptions,
            "short_descriptions": self.short_descriptions,
            "names": self.names,
            "menu_buttons": [[c, b] for c, b in self.menu_buttons.items()],
            "webhook_url": self.webhook_url,
        }
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        _atomic_write(directory / self.STATE_FILE, data)

    @staticmethod
    def _msg_state(m: Msg) -> dict:
        if m.deleted:  # gone, as in Telegram: nothing of it is written (e.g. a typed password)
            return {
                "message_id": m.message_id, "chat_id": m.chat_id, "from_bot": m.from_bot, "date": m.date,
                "text": None, "entities": None, "raw": None, "parse_mode": None, "caption": None,
                "caption_entities": None, "reply_markup": None, "document": None, "photo": None,
                "contact": None, "reply_to": None, "deleted": True, "edit_count": m.edit_count,
                "edit_date": m.edit_date, "history": [],
            }
        return {
            "message_id": m.message_id, "chat_id": m.chat_id, "from_bot": m.from_bot, "date": m.date,
            "text": m.text, "entities": m.entities, "raw": m.raw, "parse_mode": m.parse_mode,
            "caption": m.caption, "caption_entities": m.caption_entities, "reply_markup": m.reply_markup,
            "document": m.document.file_id if m.document is not None else None,
            "photo": [p.file_id for p in m.photo] if m.photo else None,
            "contact": m.contact, "reply_to": m.reply_to.message_id if m.reply_to is not None else None,
            "deleted": m.deleted, "edit_count": m.edit_count, "edit_date": m.edit_date,
            "history": [list(h) for h in m.history],
        }

    def load_state(self, directory: Path) -> bool:
        """Restore what :meth:`save_state` wrote (before :meth:`start`). Returns False when
        ``directory`` holds no saved state; raises ValueError when the state is unusable."""
        if self._runner is not None:
            raise RuntimeError("load_state must be called before start()")
        path = directory / self.STATE_FILE
        if not path.exists():
            return False
        try:
            state = json.loads(path.read_bytes())
            if state.get("version") != 1:
                raise ValueError(f"unknown state version {state.get('version')!r}")
            files_dir = directory / self.FILES_DIR
            files: dict[str, FileRec] = {}
            for meta in state["files"]:
                content = (files_dir / meta["file_id"]).read_bytes()
                files[meta["file_id"]] = FileRec(content=content, **meta)
            users = {int(u["id"]): u for u in state["users"]}
            chats: dict[int, list[Msg]] = {uid: [] for uid in users}
            messages: dict[tuple[int, int], Msg] = {}
            for d in state["messages"]:
                fields = dict(d)
                doc, photo, reply_to = fields.pop("document"), fields.pop("photo"), fields.pop("reply_to")
                fields["history"] = [tuple(h) for h in fields["history"]]
                msg = Msg(**fields)
                msg.document = files[doc] if doc is not None else None
                msg.photo = [files[f] for f in photo] if photo else None
                msg.reply_to = messages.get((msg.chat_id, reply_to)) if reply_to is not None else None
                chats.setdefault(msg.chat_id, []).append(msg)
                messages[(msg.chat_id, msg.message_id)] = msg
            random_ids = {(int(u), int(r)): int(m) for u, r, m in state.get("random_ids", [])}
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"cannot restore the Telegram emulator from {path}: {type(exc).__name__}: {exc}") from None
        self.users = users
        self._chats = chats
        self._messages = messages
        self._started = set(state["started"])
        self._blocked = set(state["blocked"])
        self._files = files
        self._files_by_path = {rec.file_path: rec for rec in files.values() if rec.file_path}
        self._file_seq = itertools.count(len(files) + 1)
        self._reply_keyboard = {int(c): k for c, k in state["reply_keyboards"]}
        self._random_ids = random_ids
        self._updates = deque(state["updates"])
        self._next_message_id = int(state["next_message_id"]) + self.RESTORE_ID_GAP
        self._next_update_id = int(state["next_update_id"]) + self.RESTORE_ID_GAP
        self._allowed_updates = frozenset(state["allowed_updates"]) or _DEFAULT_UPDATE_TYPES
        self.commands = {(scope, language): cmds for scope, language, cmds in state["commands"]}
        self.descriptions = dict(state["descriptions"])
        self.short_descriptions = dict(state["short_descriptions"])
        self.names = dict(state["names"])
        self.menu_buttons = {c: b for c, b in state["menu_buttons"]}
        self.webhook_url = state["webhook_url"]
        return True

    # ------------------------------------------------------------------ faults
    def fail_next(
        self,
        method: str | None,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        if status == 429 and retry_after is None:
            retry_after = 1
        self._fail_rules.append(
            _Rule(
                method.lower() if method else None, count, status=status,
                retry_after=retry_after, description=description,
            )
        )

    def delay_next(
        self, method: str | None, seconds: float, count: int = 1, *, apply: bool = True,
        chat_id: int | None = None,
    ) -> None:
        """Delay the reply to the next ``count`` calls of ``method`` (for ``chat_id`` only, if
        given); with ``apply`` the call takes effect at once and only its reply is late."""
        self._delay_rules.append(
            _Rule(method.lower() if method else None, count, seconds=seconds, apply=apply,
                  chat_id=chat_id)
        )

    def clear_faults(self) -> None:
        self._fail_rules.clear()
        self._delay_rules.clear()

    @staticmethod
    def _take_rule(rules: list[_Rule], method_lower: str, chat_id: Any = None) -> _Rule | None:
        for rule in rules:
            if rule.matches(method_lower, chat_id):
                rule.count -= 1
                if rule.count <= 0:
                    rules.remove(rule)
                return rule
        return None

    @staticmethod
    def _fault_body(rule: _Rule) -> dict:
        status = rule.status
        if status == 429:
            description = rule.description or f"Too Many Requests: retry after {rule.retry_after}"
        else:
            default = _DEFAULT_DESCRIPTIONS.get(status, "Error")
            description = rule.description or default
        error = ApiError(status, description)
        if rule.retry_after is not None:
            error.parameters = {"retry_after": rule.retry_after}
        return error.body()

    def _check_flood(self, chat_id: int) -> None:
        now = time.monotonic()
        limits = []
        if self.flood_limit_per_chat is not None:
            limits.append((self.flood_limit_per_chat, self._flood_chat.setdefault(chat_id, deque())))
        if self.flood_limit_global is not None:
            limits.append((self.flood_limit_global, self._flood_global))
        for (limit, window), stamps in limits:
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if len(stamps) >= limit:
                retry = max(1, math.ceil(stamps[0] + window - now))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        for _, stamps in limits:
            stamps.append(now)

    # ------------------------------------------------------------------ HTTP layer
    @staticmethod
    def _json_response(status: int, body: dict) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            content_type="application/json",
        )

    async def _read_params(self, request: web.Request) -> dict:
        params: dict[str, Any] = dict(request.query) if request.query_string else {}
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise _bad("can't parse JSON object") from None
                    if not isinstance(body, dict):
                        raise _bad("JSON object expected")
                    params.update(body)
            elif ctype.startswith("multipart/"):
                reader = await request.multipart()
                async for part in reader:
                    if part.name is None:
                        continue
                    if part.filename is not None:
                        data = bytes(await part.read())
                        params[part.name] = UploadedFile(
                            part.filename, part.headers.get("Content-Type"), data
                        )
                    else:
                        params[part.name] = await part.text()
            else:
                post = await request.post()
                params.update(post)
        return {name: _coerce(name, value) for name, value in params.items()}

    def _log_call(self, call: Call) -> None:
        self.calls.append(call)
        self._calls_by_method.setdefault(call.method, []).append(call)
        if self.max_calls is not None and len(self.calls) > 2 * self.max_calls:
            self.calls = self.calls[-self.max_calls:]
            self._calls_by_method = {}
            for kept in self.calls:
                self._calls_by_method.setdefault(kept.method, []).append(kept)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        t_received = time.monotonic()
        path = request.path
        if path.startswith("/file/bot"):
            return self._handle_file(path[len("/file/bot"):])
        if not path.startswith("/bot"):
            return self._json_response(404, ApiError(404, "Not Found").body())
        token, sep, method = path[4:].partition("/")
        if not sep or not method or "/" in method or not _TOKEN_RE.match(token):
            return self._json_response(404, ApiError(404, "Not Found").body())
        entry = self._methods.get(method.lower())
        call = Call(method=entry[0] if entry else method, params={},
                    http_method=request.method, t_received=t_received,
                    content_type=request.content_type if request.can_read_body else None)
        self._log_call(call)
        try:
            call.params = await self._read_params(request)
        except ApiError as exc:
            return self._finish(call, exc.status, exc.body())
        if token != self.token:
            return self._finish(call, 401, ApiError(401, "Unauthorized").body())
        if entry is None:
            return self._finish(call, 404, ApiError(404, "Not Found").body())

        method_lower = method.lower()
        handler = entry[1]
        chat = call.params.get("chat_id")
        fail = self._take_rule(self._fail_rules, method_lower, chat) if self._fail_rules else None
        delay = self._take_rule(self._delay_rules, method_lower, chat) if self._delay_rules else None

        if delay is not None and (fail is not None or not delay.apply):
            call.fault = "delay-noapply"
            await self._sleep(delay.seconds)
            if fail is None:
                return self._finish(call, 504, ApiError(504, "Gateway Timeout").body())
        if fail is not None:
            call.fault = "fail"
            body = self._fault_body(fail)
            return self._finish(call, fail.status, body)

        try:
            result = handler(call.params)
            if asyncio.iscoroutine(result):
                result = await result
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            if exc.status == 429:
                call.fault = "flood"
            status, body = exc.status, exc.body()
        if request.transport is None or request.transport.is_closing():
            call.fault = "abandoned"  # the client went away (a cancelled long poll): nobody reads this reply
        if delay is not None:
            call.fault = "delay"
            self._sig_any.fire()  # the effect is visible before the (late) reply
            await self._sleep(delay.seconds)
        return self._finish(call, status, body)

    def _finish(self, call: Call, status: int, body: dict) -> web.Response:
        call.status = status
        call.response = body
        response = self._json_response(status, body)
        call.t_replied = time.monotonic()
        self._sig_any.fire()
        return response

    def _handle_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return self._json_response(401, ApiError(401, "Unauthorized").body())
        rec = self._files_by_path.get(file_path)
        if rec is None:
            return self._json_response(404, ApiError(404, "Not Found").body())
        return web.Response(
            body=rec.content, content_type=rec.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ method helpers
    def _chat_for_send(self, params: dict) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int):
            raise _bad("chat not found")
        if chat_id not in self._started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _bot_message(self, params: dict, *, action: str) -> Msg:
        chat_id = params.get("chat_id")
        if params.get("inline_message_id") is not None and chat_id is None:
            raise _bad("MESSAGE_ID_INVALID")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int) or chat_id not in self.users:
            raise _bad("chat not found")
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = self._messages.get((chat_id, message_id))
        if msg is None or msg.deleted:
            raise _bad(f"message to {action} not found")
        return msg

    def _parse_text(
        self, params: dict, text_key: str, entities_key: str
    ) -> tuple[str, list[dict] | None, str | None, str]:
        """Returns (plain text, entities, parse_mode, raw text)."""
        raw = params.get(text_key)
        raw = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode") or None
        explicit = params.get(entities_key)
        if explicit:
            if not isinstance(explicit, list) or not all(
                isinstance(e, dict) and "type" in e and "offset" in e and "length" in e
                for e in explicit
            ):
                raise _bad("can't parse entities JSON object")
            text, entities = _trim(raw, [dict(e) for e in explicit])
            return text, entities or None, None, raw
        if parse_mode is None:
            text, _ = _trim(raw, [])
            return text, None, None, raw
        mode = str(parse_mode).lower()
        try:
            if mode == "html":
                text, entities = parse_html(raw, strict_ampersand=self.html_strict_ampersand)
                _strip_code_languages(entities)
            elif mode == "markdownv2":
                text, entities = parse_markdown_v2(raw)
            elif mode == "markdown":
                text, entities = parse_markdown(raw)
            else:
                raise _bad("unsupported parse_mode")
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
        text, entities = _trim(text, entities)
        return text, entities or None, str(parse_mode), raw

    def _parse_markup(self, params: dict, *, inline_only: bool = False) -> dict | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._validate_inline_keyboard(markup["inline_keyboard"])
            return markup
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            keyboard = markup["keyboard"]
            if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
                raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
            for row in keyboard:
                for button in row:
                    text = button if isinstance(button, str) else (
                        button.get("text") if isinstance(button, dict) else None
                    )
                    if not isinstance(text, str) or not text.strip():
                        raise _bad("BUTTON_TEXT_INVALID")
            return markup
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_keyboard(keyboard: Any) -> None:
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        total = 0
        for row in keyboard:
            for button in row:
                total += 1
                if not isinstance(button, dict):
                    raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                text = button.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise _bad("text buttons are unallowed in the inline keyboard")
                actions = [key for key in _INLINE_ACTIONS if key in button]
                if len(actions) != 1:
                    raise _bad("text buttons are unallowed in the inline keyboard")
                if actions[0] == "callback_data":
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                elif actions[0] == "url":
                    url = button["url"]
                    if not isinstance(url, str) or _check_url(url) is None:
                        raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        if total > 100:
            raise _bad("reply markup is too long")

    def _reply_target(self, params: dict, chat_id: int) -> Msg | None:
        reply = params.get("reply_parameters")
        message_id = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
            if reply.get("chat_id") not in (None, chat_id):
                raise _bad("message to be replied not found")
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        target = self._messages.get((chat_id, message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return target

    def _record_sent(self, msg: Msg, markup: dict | None) -> None:
        if markup is not None and ("keyboard" in markup or "remove_keyboard" in markup):
            self._reply_keyboard[msg.chat_id] = markup if "keyboard" in markup else None
            self._notify({"type": "chat", "chat_id": msg.chat_id})

    def _resolve_file(self, params: dict, key: str, kind: str) -> tuple[FileRec | None, UploadedFile | None]:
        value = params.get(key)
        if value is None or value == "":
            raise _bad(f"there is no {kind} in the request")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://"):])
            if not isinstance(value, UploadedFile):
                raise _bad("wrong file identifier/HTTP URL specified")
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad("file must be non-empty")
            limit = MAX_PHOTO_UPLOAD_SIZE if kind == "photo" else MAX_UPLOAD_SIZE
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            return None, value
        value = str(value)
        if value.lower().startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        rec = self._files.get(value)
        if rec is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if rec.kind != kind:
            raise _bad("type of file mismatch")
        return rec, None

    # ------------------------------------------------------------------ methods
    def _m_get_me(self, params: dict) -> dict:
        return dict(
            self._bot_user,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )

    def _m_log_out(self, params: dict) -> bool:
        return True

    def _m_close(self, params: dict) -> bool:
        return True

    def _confirm(self, offset: int) -> None:
        updates = self._updates
        if offset < 0:
            keep = -offset
            while len(updates) > keep:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()
            self.changes += 1  # confirmed updates must not be replayed after a restart

    async def _m_get_updates(self, params: dict) -> list[dict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._poll_seq += 1
        my_seq = self._poll_seq
        self._sig_updates.fire()  # an older waiting getUpdates gets 409

        offset = params.get("offset")
        limit = params.get("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = max(params.get("timeout") or 0, 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        if offset is not None:
            self._confirm(offset)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._poll_seq != my_seq:
                raise ApiError(409, _CONFLICT)
            if self._updates:
                return list(itertools.islice(self._updates, limit))
            remaining = deadline - loop.time()
            if remaining <= 0 or (self._closing is not None and self._closing.is_set()):
                return []
            await self._sig_updates.wait(remaining)

    def _m_set_webhook(self, params: dict) -> bool:
        url = str(params.get("url") or "")
        scheme = url.lower().partition("://")[0]
        if url and not (scheme == "https" or (scheme == "http" and self.allow_http_webhook)):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _WEBHOOK_SECRET_RE.match(str(secret)):
            raise _bad("bad webhook: Secret token contains unallowed characters")
        max_connections = params.get("max_connections")
        if max_connections is not None and not 1 <= int(max_connections) <= 100:
            raise _bad("bad webhook: Wrong max_connections specified")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_UPDATE_TYPES
        if url != self.webhook_url:
            self._webhook_error = None
        self.webhook_url = url
        self.webhook_secret = str(secret or "")
        self.webhook_max_connections = int(max_connections or 40)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._start_webhook()
        return True

    def _m_delete_webhook(self, params: dict) -> bool:
        self.webhook_url = ""
        self._webhook_error = None
        self._webhook_wake.set()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_get_webhook_info(self, params: dict) -> dict:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ------------------------------------------------------------------ webhook delivery
    def _start_webhook(self) -> None:
        if self.webhook_url and self._runner is not None and (
                self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())
        self._webhook_wake.set()

    @staticmethod
    def _update_chat(update: dict) -> Any:
        for kind in ("message", "edited_message", "callback_query"):
            body = update.get(kind)
            if body:
                return (body.get("chat") or {}).get("id") or (body.get("from") or {}).get("id")
        return ("update", update["update_id"])

    async def _webhook_loop(self) -> None:
        """Telegram's side of a webhook: POST each pending update (with the secret token header) until
        the server answers 2xx; on anything else record the error and try again later. Up to
        ``max_connections`` deliveries at once, one at a time per chat so a chat's order holds."""
        import aiohttp

        loop = asyncio.get_running_loop()
        inflight: dict[int, asyncio.Task[None]] = {}
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            try:
                while self.webhook_url:
                    self._webhook_wake.clear()
                    busy = {self._update_chat(u) for u in self._updates if u["update_id"] in inflight}
                    wait = 1.0
                    for update in list(self._updates):
                        chat = self._update_chat(update)
                        if chat in busy or len(inflight) >= self.webhook_max_connections:
                            continue
                        busy.add(chat)  # later updates of this chat wait for this one
                        not_before = self._webhook_retry.get(update["update_id"], (0, 0.0))[1]
                        if not_before > loop.time():
                            wait = min(wait, not_before - loop.time())
                            continue
                        task = loop.create_task(self._deliver_update(http, update))
                        inflight[update["update_id"]] = task
                        task.add_done_callback(lambda _t, uid=update["update_id"]: inflight.pop(uid, None))
                    try:
                        await asyncio.wait_for(self._webhook_wake.wait(), max(wait, 0.01))
                    except TimeoutError:
                        pass
            finally:
                for task in list(inflight.values()):
                    task.cancel()
                await asyncio.gather(*inflight.values(), return_exceptions=True)

    async def _deliver_update(self, http: Any, update: dict) -> None:
        import aiohttp

        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        status: int | None = None
        error = ""
        try:
            async with http.post(self.webhook_url, data=json.dumps(update, ensure_ascii=False).encode(),
                                 headers=headers) as resp:
                status = resp.status
                await resp.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {resp.reason or ''}".rstrip()
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientError as e:
            error = "Connection refused" if isinstance(e, aiohttp.ClientConnectorError) else type(e).__name__
        finally:
            self._webhook_wake.set()
        self.webhook_deliveries.append({"update_id": update["update_id"], "status": status, "error": error})
        if not error:
            self._webhook_retry.pop(update["update_id"], None)
            try:
                self._updates.remove(update)
                self.changes += 1
            except ValueError:
                pass
        else:
            self._webhook_error = (int(self.now()), error)
            failures = self._webhook_retry.get(update["update_id"], (0, 0.0))[0] + 1
            delay = self.webhook_retry_delays[min(failures, len(self.webhook_retry_delays)) - 1]
            self._webhook_retry[update["update_id"]] = (failures, asyncio.get_running_loop().time() + delay)
        self._sig_any.fire()

    def _m_send_message(self, params: dict) -> dict:
        chat_id = self._chat_for_send(params)
        markup = self._parse_markup(params)
        text, entities, parse_mode, raw = self._parse_text(params, "text", "entities")
        if not text:
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        reply_to = self._reply_target(params, chat_id)
        self._check_flood(chat_id)
        msg = self._new_message(
            chat_id, True, text=text, entities=entities, raw=raw, parse_mode=parse_mode,
            reply_markup=markup, reply_to=reply_to,
        )
        self._record_sent(msg, markup)
        return self._message_dict(msg)

    def _send_file(self, params: dict, kind: str) -> dict:
        chat_id = self._chat_for_send(params)
        markup = self._parse_markup(params)
        rec, upload = self._resolve_file(params, kind, kind)
        caption = entities = parse_mode = raw = None
        if params.get("caption") not in (None, ""):
            caption, entities, parse_mode, raw = self._parse_text(params, "caption", "caption_entities")
            if len(caption) > MAX_CAPTION_LENGTH:
                raise _bad("message caption is too long")
            caption = caption or None
        reply_to = self._reply_target(params, chat_id)
        if upload is not None and kind == "photo" and not _looks_like_image(upload.data):
            raise _bad("IMAGE_PROCESS_FAILED")
        self._check_flood(chat_id)
        fields: dict[str, Any] = {}
        if kind == "document":
            if rec is None:
                assert upload is not None
                rec = self._new_file(
                    "document", upload.data, file_name=upload.filename,
                    mime_type=upload.content_type or "application/octet-stream",
                )
            fields["document"] = rec
        else:
            if rec is None:
                assert upload is not None
                sizes = self._photo_sizes(upload.data)
            else:
                sizes = next(
                    (m.photo for m in self._iter_photo_messages(rec)), [rec]
                )
            fields["photo"] = sizes
        msg = self._new_message(
            chat_id, True, caption=caption, caption_entities=entities, raw=raw,
            parse_mode=parse_mode, reply_markup=markup, reply_to=reply_to, **fields,
        )
        self._record_sent(msg, markup)
        return self._message_dict(msg)

    def _iter_photo_messages(self, rec: FileRec):
        # Re-sending a photo by file_id: reuse the size set it belongs to (rare path).
        for messages in self._chats.values():
            for msg in messages:
                if msg.photo and rec in msg.photo:
                    yield msg
                    return

    def _m_send_document(self, params: dict) -> dict:
        return self._send_file(params, "document")

    def _m_send_photo(self, params: dict) -> dict:
        return self._send_file(params, "photo")

    def _apply_edit(
        self, msg: Msg, *, text: tuple | None = None, caption: tuple | None = None,
        markup: dict | None,
    ) -> dict:
        old_inline = msg.reply_markup if msg.inline_keyboard is not None else None
        unchanged_markup = old_inline == markup
        if text is not None:
            unchanged = unchanged_markup and msg.text == text[0] and (msg.entities or None) == text[1]
        elif caption is not None:
            unchanged = (
                unchanged_markup and msg.caption == caption[0]
                and (msg.caption_entities or None) == caption[1]
            )
        else:
            unchanged = unchanged_markup
        if unchanged:
            raise _bad(_NOT_MODIFIED)
        self._check_flood(msg.chat_id)
        msg.history.append((msg.content_text, msg.reply_markup))
        if text is not None:
            msg.text, msg.entities, msg.parse_mode, msg.raw = text
        if caption is not None:
            msg.caption, msg.caption_entities, msg.parse_mode, msg.raw = caption
        if markup is not None or old_inline is not None:
            msg.reply_markup = markup
        msg.edit_count += 1
        msg.edit_date = int(self.now())
        self._notify({"type": "chat", "chat_id": msg.chat_id})
        return self._message_dict(msg)

    def _m_edit_message_text(self, params: dict) -> dict:
        msg = self._bot_message(params, action="edit")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        markup = self._parse_markup(params, inline_only=True)
        text, entities, parse_mode, raw = self._parse_text(params, "text", "entities")
        if not text:
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        if msg.text is None:
            raise _bad("there is no text in the message to edit")
        return self._apply_edit(msg, text=(text, entities, parse_mode, raw), markup=markup)

    def _m_edit_message_caption(self, params: dict) -> dict:
        msg = self._bot_message(params, action="edit")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        markup = self._parse_markup(params, inline_only=True)
        caption, entities, parse_mode, raw = self._parse_text(params, "caption", "caption_entities")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        if msg.document is None and not msg.photo:
            raise _bad("there is no caption in the message to edit")
        return self._apply_edit(
            msg, caption=(caption or None, entities, parse_mode, raw if caption else None),
            markup=markup,
        )

    def _m_edit_message_reply_markup(self, params: dict) -> dict:
        msg = self._bot_message(params, action="edit")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        markup = self._parse_markup(params, inline_only=True)
        return self._apply_edit(msg, markup=markup)

    def _m_delete_message(self, params: dict) -> bool:
        msg = self._bot_message(params, action="delete")
        msg.deleted = True
        self._notify({"type": "chat", "chat_id": msg.chat_id})
        return True

    def _m_answer_callback_query(self, params: dict) -> bool:
        query_id = params.get("callback_query_id")
        query = self._callbacks.get(str(query_id)) if query_id is not None else None
        too_old = _bad("query is too old and response timeout expired or query ID is invalid")
        if query is None or query.answer is not None:
            raise too_old
        if self.callback_query_ttl is not None and time.monotonic() - query.created > self.callback_query_ttl:
            raise too_old
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answer = {
            "text": None if text is None else str(text),
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
            "answered_at": time.monotonic(),
            "latency": time.monotonic() - query.created,
        }
        self._notify({"type": "answer", "chat_id": query.message_key[0], "text": query.answer["text"],
                      "show_alert": query.answer["show_alert"]})
        return True

    def _m_get_file(self, params: dict) -> dict:
        file_id = params.get("file_id")
        rec = self._files.get(str(file_id)) if file_id else None
        if rec is None:
            raise _bad("wrong file_id or the file is temporarily unavailable")
        if rec.size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        if rec.file_path is None:
            seq = len(self._files_by_path) + 1
            if rec.kind == "photo":
                rec.file_path = f"photos/file_{seq}.jpg"
            else:
                ext = ""
                if rec.file_name and "." in rec.file_name:
                    ext = "." + rec.file_name.rsplit(".", 1)[1]
                rec.file_path = f"documents/file_{seq}{ext}"
            self._files_by_path[rec.file_path] = rec
        return {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "file_size": rec.size,
            "file_path": rec.file_path,
        }

    def _scope_key(self, scope: Any) -> str:
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in (
            "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
            "chat", "chat_administrators", "chat_member",
        ):
            raise _bad("can't parse BotCommandScope JSON object")
        if scope["type"] in ("chat", "chat_administrators", "chat_member"):
            chat_id = _coerce("chat_id", scope.get("chat_id"))
            if not isinstance(chat_id, int) or chat_id not in self.users:
                raise _bad("chat not found")
            scope = dict(scope, chat_id=chat_id)
        return json.dumps(scope, sort_keys=True, separators=(",", ":"))

    @staticmethod
    def _language(params: dict) -> str:
        code = params.get("language_code") or ""
        if code and not re.fullmatch(r"[a-z]{2}", str(code)):
            raise _bad("invalid language code specified")
        return str(code)

    def _m_set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        key = (self._scope_key(params.get("scope")), self._language(params))
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _BOT_COMMAND_NAME_RE.match(name.lstrip("/")):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name.lstrip("/"), "description": description.strip()})
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        self._notify({"type": "commands"})
        return True

    def _m_get_my_commands(self, params: dict) -> list[dict]:
        key = (self._scope_key(params.get("scope")), self._language(params))
        return self.commands.get(key, [])

    def _m_delete_my_commands(self, params: dict) -> bool:
        key = (self._scope_key(params.get("scope")), self._language(params))
        self.commands.pop(key, None)
        self._notify({"type": "commands"})
        return True

    def _set_text_setting(self, store: dict, params: dict, key: str, limit: int) -> bool:
        value = str(params.get(key) or "")
        if len(value) > limit:
            raise _bad(f"{key} is too long")
        language = self._language(params)
        if value:
            store[language] = value
        else:
            store.pop(language, None)
        return True

    def _m_set_my_description(self, params: dict) -> bool:
        return self._set_text_setting(self.descriptions, params, "description", 512)

    def _m_get_my_description(self, params: dict) -> dict:
        return {"description": self.descriptions.get(self._language(params), "")}

    def _m_set_my_short_description(self, params: dict) -> bool:
        return self._set_text_setting(self.short_descriptions, params, "short_description", 120)

    def _m_get_my_short_description(self, params: dict) -> dict:
        return {"short_description": self.short_descriptions.get(self._language(params), "")}

    def _m_set_my_name(self, params: dict) -> bool:
        return self._set_text_setting(self.names, params, "name", 64)

    def _m_get_my_name(self, params: dict) -> dict:
        return {"name": self.names.get(self._language(params), self.bot_first_name)}

    def _m_set_chat_menu_button(self, params: dict) -> bool:
        chat_id = params.get("chat_id")
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise _bad("can't parse menu button JSON object")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = button
        return True

    def _m_get_chat_menu_button(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(
            chat_id if isinstance(chat_id, int) else None,
            self.menu_buttons.get(None, {"type": "commands"}),
        )

    def _m_send_chat_action(self, params: dict) -> bool:
        chat_id = self._chat_for_send(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._notify({"type": "action", "chat_id": chat_id, "action": params["action"]})
        return True
