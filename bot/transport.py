"""The Bot API's HTTP transport: python-telegram-bot's request interface on aiohttp's client.

Every update costs the bot one or more Bot API calls (the tap's answer, the messages the outbox
sends, getUpdates). PTB's default transport is httpx, whose pure-Python HTTP stack costs several
times aiohttp's C-accelerated one per call (bench: about 0.65 ms against 0.1 ms of client CPU for a
sendMessage on this machine), and that difference is most of what a busy bot spends beyond its
own work. Same semantics as PTB's HTTPXRequest (multipart for files, TimedOut for timeouts,
NetworkError for the rest) but for the parameters, which go as a JSON body (the Bot API takes it for
every method but uploads) instead of form fields: json's C encoder costs less than form-encoding's
Python quoting of every field (bench: about a fifth of the client's CPU a call).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    __slots__ = ("_pool_size", "_timeouts", "_session")

    def __init__(self, *, connection_pool_size: int = 8, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout}
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT}, raise_for_status=False)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, read: Any, write: Any, connect: Any, pool: Any, files: bool) -> aiohttp.ClientTimeout:
        def pick(value: Any, key: str) -> float | None:
            return self._timeouts[key] if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value

        read_t, write_t = pick(read, "read"), pick(write, "write")
        connect_t, pool_t = pick(connect, "connect"), pick(pool, "pool")
        # aiohttp's "connect" covers waiting for a pooled connection and connecting; "sock_read" is
        # the longest silence while reading (a long poll's read timeout); an upload's writing time
        # is bounded by "total" when it sends files.
        waits = [t for t in (connect_t, pool_t) if t is not None]
        return aiohttp.ClientTimeout(
            total=(read_t + (write_t or 0) + (connect_t or 0)) if files and read_t is not None else None,
            connect=sum(waits) if waits else None, sock_connect=connect_t, sock_read=read_t)

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.contains_files)
        data: Any = None
        if request_data is not None:
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            else:
                data = json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":")).encode()
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, files)
        headers = _JSON if data is not None and not files else None
        try:
            async with self._session.request(method, url, data=data, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
