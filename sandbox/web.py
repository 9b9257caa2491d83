"""The sandbox's web page: every persona's Telegram chat side by side, a clock bar, a reset
button and a short guided tour.

Plain server-rendered HTML (``sandbox/page.py``; ``sandbox/render.py`` renders the chats) and
small scripts (``sandbox/web/``). Changes are streamed with server-sent events (``/events``),
one stream for all of a browser's tabs (a SharedWorker relays it), or polled from
``/api/events`` where there is no SharedWorker; the page then fetches the changed pane. Everything a persona does goes through the emulator's
user-side interface (``send_text``, ``tap``, ``press_reply_button``, ``send_document`` ...), so
the bot sees exactly what real Telegram would send it.

Bound to 127.0.0.1. Requests must name this server as their Host (no DNS rebinding) and
changes need the ``X-Sandbox`` header, which a foreign web page cannot send without a CORS
preflight that this server never allows.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from sandbox.page import STATIC_DIR, error_page, render_page
from sandbox.render import render_chat, render_reply_keyboard

if TYPE_CHECKING:
    from sandbox.run import Persona, Sandbox


_STATIC = {"sandbox.css": "text/css", "sandbox.js": "text/javascript", "live.js": "text/javascript",
           "outbox.js": "text/javascript", "events-worker.js": "text/javascript"}
EVENT_LOG = 1000  # events kept for pages that poll (/api/events); one further behind resynchronises
RANDOM_ID_MAX = 2**63 - 1  # a client's message id (int64, as Telegram's random_id)
MAX_UPLOAD = 50 * 1024 * 1024
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# Files opened inline in the browser; anything else is downloaded (never rendered as a page).
_INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "text/plain"})

def _host_key(host: str | None) -> str:
    """The Host header as compared with the page's own address (case-insensitive)."""
    return (host or "").strip().lower()


def _is_api(path: str) -> bool:
    """Paths the page's script calls (answered in JSON); the rest are pages a person opens."""
    return path.startswith("/api/") or path == "/events"


class _Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SandboxWeb:
    """The page's aiohttp server (started before the rest, so a taken port fails fast)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._clients: set[asyncio.Queue[dict | None]] = set()
        self._allowed_hosts: set[str] = set()
        self._seq = 0  # numbers every broadcast event (for pages that poll)
        self._log: deque[tuple[int, dict]] = deque(maxlen=EVENT_LOG)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str, port: int) -> None:
        from sandbox.run import SandboxError, is_addr_in_use, port_in_use_message

        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024, middlewares=[self._guard])
        r = app.router
        r.add_get("/", self._page)
        r.add_get("/static/{name}", self._static)
        r.add_get("/events", self._events)
        r.add_get("/api/events", self._poll)
        r.add_get("/api/chat/{persona}", self._chat)
        r.add_get("/api/clock", self._clock)
        r.add_post("/api/send", self._send)
        r.add_post("/api/tap", self._tap)
        r.add_post("/api/press", self._press)
        r.add_post("/api/contact", self._contact)
        r.add_post("/api/upload", self._upload)
        r.add_post("/api/clock", self._advance)
        r.add_post("/api/reset", self._reset)
        r.add_get("/file/{file_id}", self._file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            if is_addr_in_use(e):
                raise SandboxError(port_in_use_message(port)) from None
            raise SandboxError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        self._runner = runner
        bound = runner.addresses[0][1]
        self.url = f"http://{host}:{bound}"
        self._allowed_hosts = {f"{host}:{bound}", f"localhost:{bound}"}
        if bound == 80:
            self._allowed_hosts |= {host, "localhost"}

    async def stop(self) -> None:
        for q in list(self._clients):
            self._offer(q, None)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ------------------------------------------------------------------ events to pages
    def _offer(self, q: asyncio.Queue[dict | None], event: dict | None) -> None:
        try:
            q.put_nowait(event)
        except asyncio.QueueFull:  # a stalled page: it resynchronises everything instead
            while not q.empty():
                q.get_nowait()
            q.put_nowait({"type": "resync"} if event is not None else None)

    def broadcast(self, event: dict) -> None:
        self._seq += 1
        self._log.append((self._seq, event))
        for q in list(self._clients):
            self._offer(q, event)

    @property
    def live_streams(self) -> int:
        """Open event streams (one per browser when its tabs share it)."""
        return len(self._clients)

    def on_emulator_event(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "commands":
            self.broadcast({"type": "resync"})
            return
        persona = self.sb.persona_by_id.get(event.get("chat_id"))  # type: ignore[arg-type]
        if persona is None:
            return
        if kind == "chat":
            self.broadcast({"type": "chat", "persona": persona.key})
        elif kind == "answer" and event.get("text"):
            self.broadcast({"type": "toast", "persona": persona.key, "text": event["text"],
                            "alert": bool(event.get("show_alert"))})
        elif kind == "action":
            self.broadcast({"type": "typing", "persona": persona.key, "action": event.get("action")})

    # ------------------------------------------------------------------ helpers
    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if _host_key(request.host) not in self._allowed_hosts:
            return web.Response(status=421, text=f"Sandbox ini hanya melayani alamatnya sendiri: {self.url}/")
        if request.method == "POST" and request.headers.get("X-Sandbox") != "1":
            return web.json_response({"ok": False, "error": "Permintaan tanpa header X-Sandbox."}, status=403)
        try:
            resp = await handler(request)
        except _Rejected as e:
            resp = self._error(request, e.status, e.message)
        except web.HTTPException as e:  # no such route or method: said in Indonesian, as the page is
            if e.status < 400:
                raise
            resp = self._error(request, e.status, "Alamat ini tidak ada di sandbox." if e.status == 404
                               else "Permintaan ini tidak dapat dilayani.")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        return resp

    @staticmethod
    def _error(request: web.Request, status: int, message: str) -> web.Response:
        """JSON for the page's script, a short Indonesian page for a person (a /file/… link)."""
        if _is_api(request.path):
            return web.json_response({"ok": False, "error": message}, status=status)
        return web.Response(status=status, text=error_page(status, message), content_type="text/html",
                            headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"})

    def _ready(self) -> None:
        if not self.sb.ready or self.sb.emu is None:
            raise _Rejected(503, "Sandbox sedang dimulai ulang. Coba lagi sebentar lagi.")

    def _persona(self, key: object) -> Persona:
        p = self.sb.persona_by_key.get(str(key))
        if p is None:
            raise _Rejected(404, "Persona tidak dikenal.")
        return p

    @staticmethod
    async def _json(request: web.Request) -> dict:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise _Rejected(400, "Permintaan tidak valid.") from None
        if not isinstance(body, dict):
            raise _Rejected(400, "Permintaan tidak valid.")
        return body

    def chat_state(self, persona: Persona) -> dict[str, Any]:
        emu = self.sb.emu
        assert emu is not None and self.sb.settings is not None
        messages = emu.chat(persona.user_id)
        keyboard = emu.current_reply_keyboard(persona.user_id)
        visible = [m for m in messages if not m.deleted]
        return {
            "persona": persona.key,
            "html": render_chat(messages, self.sb.settings.tz),
            "keyboard": render_reply_keyboard(keyboard),
            "placeholder": (keyboard or {}).get("input_field_placeholder") or "",
            "started": bool(messages) or emu.is_started(persona.user_id),
            "last": visible[-1].message_id if visible else 0,
            "commands": [{"command": c["command"], "description": c["description"]}
                         for c in emu.commands_for(persona.user_id, "id")],
        }

    # ------------------------------------------------------------------ pages
    async def _page(self, request: web.Request) -> web.Response:
        if not self.sb.ready:
            return web.Response(status=503, content_type="text/html", text=(
                '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="1">'
                "<title>Sandbox SPLP</title><p>Sandbox sedang dimulai…</p>"))
        return web.Response(text=self.render_page(), content_type="text/html",
                            headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"})

    def render_page(self) -> str:
        return render_page(self.sb, clock=self.sb.clock_state(), epoch=self.sb.epoch,
                           states=[(p, self.chat_state(p)) for p in self.sb.personas])

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        ctype = _STATIC.get(name)
        if ctype is None:
            raise web.HTTPNotFound()
        return web.Response(body=(STATIC_DIR / name).read_bytes(), content_type=ctype,
                            headers={"Cache-Control": "no-cache"})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        q: asyncio.Queue[dict | None] = asyncio.Queue(maxsize=1000)
        self._clients.add(q)
        try:
            await resp.write(_sse({"type": "hello", "epoch": self.sb.epoch}))
            while True:
                try:
                    event = await asyncio.wait_for(q.get(), 15)
                except TimeoutError:
                    await resp.write(b": ping\n\n")
                    continue
                if event is None:
                    break
                await resp.write(_sse(event))
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            self._clients.discard(q)
        return resp

    async def _poll(self, request: web.Request) -> web.Response:
        """The events after ``after`` (a number this gave before), for a page without a shared
        event stream; ``resync`` when they are no longer kept. Without ``after``: none, and the
        number to start from."""
        self._ready()
        after = request.query.get("after", "")
        events: list[dict] = []
        if after.isdigit():
            n = int(after)
            oldest = self._log[0][0] if self._log else self._seq + 1
            if n > self._seq or n < oldest - 1:
                events = [{"type": "resync"}]
            else:
                events = [e for seq, e in self._log if seq > n]
        return web.json_response({"epoch": self.sb.epoch, "last": self._seq, "events": events},
                                 headers={"Cache-Control": "no-store"})

    async def _chat(self, request: web.Request) -> web.Response:
        self._ready()
        return web.json_response(self.chat_state(self._persona(request.match_info["persona"])))

    async def _clock(self, request: web.Request) -> web.Response:
        self._ready()
        return web.json_response(self.sb.clock_state())

    # ------------------------------------------------------------------ actions
    async def _send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self._ready()
        p = self._persona(body.get("persona"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _Rejected(400, "Pesan kosong.")
        if len(text) > 4096:
            raise _Rejected(400, "Pesan terlalu panjang (maksimal 4096 karakter).")
        # The page's own id of the message: a send it retries after losing the answer is the
        # same message (the emulator keeps the ids with the chats, across restarts).
        random_id = body.get("random_id")
        if random_id is not None and (type(random_id) is not int or not 0 < random_id <= RANDOM_ID_MAX):
            raise _Rejected(400, "Permintaan tidak valid.")
        emu = self.sb.emu
        assert emu is not None
        if random_id is not None and emu.sent_with_random_id(p.user_id, random_id) is not None:
            return web.json_response({"ok": True, "duplicate": True})
        emu.send_text(p.user_id, text, random_id=random_id)
        return web.json_response({"ok": True})

    async def _tap(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self._ready()
        p = self._persona(body.get("persona"))
        mid, data = body.get("message_id"), body.get("data")
        if not isinstance(mid, int) or not isinstance(data, str):
            raise _Rejected(400, "Permintaan tidak valid.")
        assert self.sb.emu is not None
        try:
            self.sb.emu.tap(p.user_id, mid, data)
        except LookupError:
            raise _Rejected(409, "Tombol ini sudah tidak berlaku.") from None
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self._ready()
        p = self._persona(body.get("persona"))
        text = body.get("text")
        if not isinstance(text, str):
            raise _Rejected(400, "Permintaan tidak valid.")
        assert self.sb.emu is not None
        try:  # a contact button shares the persona's own number, as Telegram does
            self.sb.emu.press_reply_button(p.user_id, text, phone_number=p.phone, first_name=p.name)
        except LookupError:
            raise _Rejected(409, "Tombol ini sudah tidak berlaku.") from None
        return web.json_response({"ok": True})

    async def _contact(self, request: web.Request) -> web.Response:
        """The persona shares their own contact from the attachment menu (no keyboard needed)."""
        body = await self._json(request)
        self._ready()
        p = self._persona(body.get("persona"))
        assert self.sb.emu is not None
        self.sb.emu.send_contact(p.user_id, p.phone, first_name=p.name)
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.Response:
        try:
            form = await request.post()  # first the body (it may take long), then the world as it is now
        except ValueError:
            raise _Rejected(400, "Unggahan tidak valid.") from None
        self._ready()
        emu = self.sb.emu
        assert emu is not None
        p = self._persona(form.get("persona"))
        f = form.get("file")
        if not isinstance(f, web.FileField):
            raise _Rejected(400, "Tidak ada berkas.")
        content = f.file.read()
        if not content:
            raise _Rejected(400, "Berkas kosong.")
        name = Path(f.filename or "berkas").name[:200] or "berkas"
        ctype = f.content_type if f.content_type and f.content_type != "application/octet-stream" else None
        ctype = ctype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        caption = form.get("caption")
        caption = (caption.strip() or None) if isinstance(caption, str) else None
        if ctype in ("image/jpeg", "image/png"):  # Telegram sends pictures as photos by default
            emu.send_photo(p.user_id, content, caption=caption)
        else:
            emu.send_document(p.user_id, content, file_name=name, mime_type=ctype, caption=caption)
        return web.json_response({"ok": True})

    async def _advance(self, request: web.Request) -> web.Response:
        from sandbox.run import SandboxError

        body = await self._json(request)
        self._ready()
        action = body.get("action")
        if action not in ("hour", "next_start", "working_day"):
            raise _Rejected(400, "Aksi jam tidak dikenal.")
        try:
            state = await self.sb.advance(str(action))
        except SandboxError:
            raise _Rejected(503, "Sandbox sedang dimulai ulang.") from None
        return web.json_response(state)

    async def _reset(self, request: web.Request) -> web.Response:
        await self._json(request)
        await self.sb.reset()
        return web.json_response({"ok": True, "epoch": self.sb.epoch})

    async def _file(self, request: web.Request) -> web.Response:
        self._ready()
        assert self.sb.emu is not None
        rec = self.sb.emu.file(request.match_info["file_id"])
        if rec is None:
            raise _Rejected(404, "Berkas ini tidak ada di sandbox (mungkin sandbox telah diatur ulang sejak "
                                 "berkas dikirim).")
        ctype = rec.mime_type or ("image/jpeg" if rec.kind == "photo" else "application/octet-stream")
        if rec.content.startswith(b"%PDF-"):
            ctype = "application/pdf"
        name = rec.file_name or ("foto.jpg" if rec.kind == "photo" else "berkas")
        inline = ctype in _INLINE_TYPES
        if not inline:
            ctype = "application/octet-stream"
        disposition = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"
        return web.Response(body=rec.content, content_type=ctype,
                            headers={"Content-Disposition": disposition, "Cache-Control": "private, max-age=3600"})


def _sse(event: dict) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
