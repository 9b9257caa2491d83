"""Where updates come in: getUpdates long polling or Telegram's webhook POSTs.

Either way an update is confirmed to Telegram only after the transaction that handled it
committed (bot/updates.py): polling moves its offset past a batch once every update of it is
handled, and a webhook POST is answered 200 only then, so Telegram retries anything lost.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import Conflict, RetryAfter
from telegram.ext import Application

from bot import metrics
from bot.updates import UpdateProcessor

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)


ALLOWED_UPDATES = ["message", "callback_query"]


class Poller:
    """getUpdates long polling that confirms an update only after it committed."""

    def __init__(self, app: Application, processor: UpdateProcessor, *, timeout: int = 25,
                 concurrency: int = 16) -> None:
        self.app, self.processor, self.timeout, self.concurrency = app, processor, timeout, concurrency
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._batch: asyncio.Future[None] | None = None
        self.offset: int | None = None

    async def start(self) -> None:
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._batch is not None and not self._batch.done():
            await self._batch  # the batch in hand finishes before anything it needs stops
        if self.offset is not None:  # confirm what was handled, as PTB does on a clean stop
            try:
                await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1,
                                               allowed_updates=ALLOWED_UPDATES)
            except Exception:
                pass

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset, timeout=self.timeout, limit=100, allowed_updates=ALLOWED_UPDATES,
                    read_timeout=self.timeout + 10)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Conflict:
                log.error("another instance is polling this bot (409 Conflict); use webhook mode for several")
                await asyncio.sleep(5)
                continue
            except RetryAfter as e:
                wait = e.retry_after if isinstance(e.retry_after, (int, float)) else e.retry_after.total_seconds()
                await asyncio.sleep(float(wait))
                continue
            except Exception as e:  # network errors, odd replies: never let polling die
                log.warning("getUpdates failed: %s; retrying in %.1fs", type(e).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            if not updates:
                continue
            # Shielded: a stop request lets the batch finish, so its offset can be confirmed.
            self._batch = asyncio.ensure_future(self._handle(updates))
            await asyncio.shield(self._batch)

    async def _handle(self, updates: list[Update]) -> None:
        while True:
            try:
                await self.processor.process_batch(updates, self.concurrency)
                break
            except Exception:
                log.exception("update batch failed; retrying")
                await asyncio.sleep(1)
        self.offset = updates[-1].update_id + 1


async def _healthz(_request: web.Request) -> web.Response:
    from aiohttp import web
    return web.Response(text="ok")


class WebhookServer:
    """Receives Telegram's POSTs; answers 200 only after the update committed."""

    def __init__(self, app: Application, processor: UpdateProcessor, *, listen: str, port: int, path: str,
                 secret: str, public_url: str, health: metrics.Health | None = None) -> None:
        self.app, self.processor, self.health = app, processor, health
        self.listen, self.port, self.path, self.secret, self.public_url = listen, port, path, secret, public_url
        self._runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        from aiohttp import web
        got = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if self.secret and not hmac.compare_digest(got, self.secret):
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.app.bot)
        except Exception:
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        try:
            await self.processor.process(update)
        except Exception:
            log.exception("webhook update %s failed", update.update_id)
            return web.Response(status=500)  # Telegram will deliver it again
        return web.Response(status=200)

    async def start(self) -> None:
        from aiohttp import web
        webapp = web.Application()
        webapp.router.add_post(self.path, self._post)
        if self.health is not None:
            self.health.routes(webapp)  # /healthz, /readyz, /metrics
        else:
            webapp.router.add_get("/healthz", _healthz)
        self._runner = web.AppRunner(webapp, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        if self.public_url:
            await self.app.bot.set_webhook(self.public_url.rstrip("/") + self.path,
                                           secret_token=self.secret or None, allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
