"""Prometheus metrics (prometheus-client) and the health endpoints of a running instance.

Counters and histograms are updated on the hot path (an ``inc()`` or ``observe()``: well under a
microsecond); the gauges that need the database (outbox queue, requests by stage, open SLA
breaches) are computed when Prometheus scrapes, with queries that use indexes. No label carries
personal data: labels are outcomes, Bot API method names, HTTP statuses, workflow stages, reminder
kinds and SPLP operation templates (ids replaced by ``{id}``).

The metrics exist only where they are served: prometheus-client is imported (``enable``) in
webhook mode or with METRICS_PORT; elsewhere the hot-path calls return at once.

Endpoints (the webhook server's port; in polling mode ``127.0.0.1:$METRICS_PORT`` when set):
``GET /healthz`` (the process answers), ``GET /readyz`` (database reachable, migrations at head,
outbox not stuck), ``GET /metrics`` (Prometheus text format).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from telegram.error import NetworkError, TimedOut

from bot.transport import AiohttpRequest
from storage.db import Database
from storage.models import Outbox, Request, RequestStep

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)


class _Metrics:
    """The instance's Prometheus metrics (prometheus-client, imported when they are served)."""

    def __init__(self) -> None:
        from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                                       disable_created_metrics, generate_latest)

        disable_created_metrics()  # no *_created series: they double the output and nobody alerts on them
        self.content_type, self.generate = CONTENT_TYPE_LATEST, generate_latest
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter("splp_updates_total", "Telegram updates by outcome (handled, failed: the handler "
                               "raised and was rolled back, duplicate: a redelivered update with no second "
                               "effect)", ["outcome"], registry=r)
        self.update_seconds = Histogram("splp_update_handling_seconds", "Time to handle one update, transaction "
                                        "included", buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                                        registry=r)
        self.groups = Histogram("splp_update_group_size", "Updates handled in one transaction (group commit: "
                                "the updates of different users waiting at one moment)",
                                buckets=(1, 2, 4, 8, 16, 32), registry=r)
        self.groups_split = Counter("splp_update_groups_split_total", "Groups in which something failed, so "
                                    "their updates were handled again one at a time (nothing of the group "
                                    "had happened)", registry=r)
        self.bot_api = Counter("splp_bot_api_calls_total", "Bot API calls by method and HTTP status (timeout, "
                               "network: no answer)", ["method", "status"], registry=r)
        self.reminders = Counter("splp_reminders_sent_total", "Reminders and escalations sent, by kind (share, "
                                 "breach, overdue)", ["kind"], registry=r)
        self.splp_calls = Counter("splp_splp_calls_total", "Calls to SPLP (WSO2) by operation and HTTP status",
                                  ["operation", "status"], registry=r)
        self.outbox_depth = Gauge("splp_outbox_pending", "Outgoing Bot API calls not yet sent (due now or "
                                  "scheduled)", registry=r)
        self.outbox_due = Gauge("splp_outbox_due", "Outgoing Bot API calls due now and not yet sent", registry=r)
        self.outbox_age = Gauge("splp_outbox_oldest_due_age_seconds", "How long the oldest due, unsent call has "
                                "waited", registry=r)
        self.stages = Gauge("splp_requests", "Requests by stage", ["stage"], registry=r)
        self.breaches = Gauge("splp_sla_breaches_open", "Open steps past their SOP time limit", registry=r)
        self.ready = Gauge("splp_ready", "1 when /readyz passes", registry=r)
        for outcome in ("handled", "failed", "duplicate"):
            self.updates.labels(outcome)


# None until the metrics are served (webhook mode, or METRICS_PORT in polling mode): a process
# nobody can scrape neither counts nor carries prometheus-client.
_m: _Metrics | None = None


def enable() -> _Metrics:
    """Start counting (idempotent); the instance serves /metrics."""
    global _m
    if _m is None:
        _m = _Metrics()
    return _m


def observe_update(outcome: str, seconds: float) -> None:
    if _m is not None:
        _m.updates.labels(outcome).inc()
        _m.update_seconds.observe(seconds)


def update_group(size: int, split: bool) -> None:
    if _m is not None:
        _m.groups.observe(size)
        if split:
            _m.groups_split.inc()


def update_failed() -> None:
    if _m is not None:
        _m.updates.labels("failed").inc()


def bot_api_call(url: str, status: int | str) -> None:
    """One Bot API HTTP exchange: ``url`` ends with the method (the token is never a label)."""
    if _m is not None:
        method = "file" if "/file/bot" in url else url.rsplit("/", 1)[-1][:40]
        _m.bot_api.labels(method, str(status)).inc()


class CountingRequest(AiohttpRequest):
    """PTB's HTTP transport, counting every Bot API exchange by method and status (429s included)."""

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(url, method, *args, **kwargs)
        except TimedOut:
            bot_api_call(url, "timeout")
            raise
        except NetworkError:
            bot_api_call(url, "network")
            raise
        bot_api_call(url, code)
        return code, payload


def reminders_sent(kinds: Iterable[str]) -> None:
    if _m is not None:
        for k in kinds:
            _m.reminders.labels(k).inc()


_ID = re.compile(r"^(?:[0-9a-fA-F-]{16,}|\d+|[A-Za-z0-9_-]{32,})$")
_PREFIXES = (("/api/am/devportal/", "devportal"), ("/client-registration/", "dcr"), ("/oauth2/", "oauth2"))


def splp_operation(method: str, path: str) -> str:
    """``POST /t/kotacontoh.go.id/scim2/Users`` -> ``POST scim2/Users``; ids become ``{id}``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "t":
        parts = parts[2:]  # the tenant
    if parts[:3] == ["api", "am", "devportal"]:
        parts = ["devportal", *parts[4:]]  # drop the version
    elif parts and parts[0] == "client-registration":
        parts = ["dcr", *parts[2:]]
    return f"{method} " + "/".join("{id}" if _ID.match(p) else p for p in parts)[:80]


def splp_call(method: str, path: str, outcome: object) -> None:
    if _m is not None:
        status = outcome if isinstance(outcome, int) else ("timeout" if outcome == "timeout" else "network")
        _m.splp_calls.labels(splp_operation(method, path), str(status)).inc()


class Health:
    """/healthz, /readyz and /metrics for one instance."""

    def __init__(self, db: Database, now: Callable[[], datetime], *, max_outbox_age: float,
                 stages: tuple[str, ...] = (), open_stages: frozenset[str] = frozenset(),
                 ready_extra: Callable[[], Awaitable[list[str]]] | None = None) -> None:
        """``stages``: the SOP in force's (each gets its gauge, also at 0); ``open_stages``: the
        stages officials hold (the breach count's)."""
        self.db, self.now, self.max_outbox_age = db, now, max_outbox_age
        self.stages, self.open_stages = stages, open_stages
        self.m = enable()
        for st in stages:
            self.m.stages.labels(st)
        self.ready_extra = ready_extra
        self._head: str | None = None
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)

    async def healthz(self, _request: web.Request) -> web.Response:
        from aiohttp import web
        return web.Response(text="ok")

    def script_head(self) -> str:
        if self._head is None:
            from storage.db import head_revision
            self._head = head_revision()
        return self._head

    async def problems(self) -> tuple[list[str], dict[str, Any]]:
        """What keeps this instance from being ready (empty: ready), and the figures read."""
        problems: list[str] = []
        figures: dict[str, Any] = {}
        for attempt in (1, 2):
            try:
                async with self.db.sessions() as s:
                    current = await s.scalar(text("SELECT version_num FROM alembic_version"))
                    due, age = await _outbox_due(s, self.now())
                break
            except Exception as e:  # noqa: BLE001 - reported, not raised
                if attempt == 1 and getattr(e, "connection_invalidated", False):
                    continue  # a pooled connection the server had closed (storage/db.py): the pool is renewed
                return [f"database unreachable ({type(e).__name__})"], figures
        figures.update(migration=current, outbox_due=due, outbox_oldest_due_seconds=round(age, 1))
        if current != self.script_head():
            problems.append(f"database migration {current} is not the code's head {self.script_head()}")
        if age > self.max_outbox_age:
            problems.append(f"outbox stuck: the oldest due message has waited {age:.0f} s "
                            f"(limit {self.max_outbox_age:.0f} s)")
        if self.ready_extra:
            problems += await self.ready_extra()
        return problems, figures

    async def readyz(self, _request: web.Request) -> web.Response:
        from aiohttp import web
        problems, figures = await self.problems()
        self.m.ready.set(0 if problems else 1)
        return web.json_response({"ready": not problems, "problems": problems, **figures},
                                 status=503 if problems else 200)

    async def refresh(self) -> None:
        """The database gauges, read at scrape time."""
        now = self.now()
        async with self.db.sessions() as s:
            m = self.m
            m.outbox_depth.set(await s.scalar(select(func.count()).select_from(Outbox)
                                              .where(Outbox.status == "pending")) or 0)
            due, age = await _outbox_due(s, now)
            m.outbox_due.set(due)
            m.outbox_age.set(age)
            counts = dict((await s.execute(select(Request.stage, func.count()).group_by(Request.stage))).all())
            for st in dict.fromkeys([*self.stages, *counts]):
                m.stages.labels(st).set(counts.get(st, 0))
            m.breaches.set(await s.scalar(open_breaches_query(now, self.open_stages)) or 0)

    async def metrics(self, _request: web.Request) -> web.Response:
        from aiohttp import web
        started = time.monotonic()
        try:
            await self.refresh()
        except Exception as e:  # noqa: BLE001 - the process metrics still answer
            log.warning("metrics: database gauges not read: %s", type(e).__name__)
        log.debug("metrics scrape took %.1f ms", (time.monotonic() - started) * 1000)
        resp = web.Response(body=self.m.generate(self.m.registry))
        resp.headers["Content-Type"] = self.m.content_type
        return resp

    async def serve(self, host: str, port: int) -> None:
        """The endpoints on their own port (polling mode: METRICS_PORT)."""
        from aiohttp import web
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _outbox_due(s: Any, now: datetime) -> tuple[int, float]:
    """Due, unsent calls and the age of the oldest (the partial index ix_outbox_pending)."""
    n, oldest = (await s.execute(select(func.count(), func.min(Outbox.available_at)).where(
        Outbox.status == "pending", Outbox.available_at <= now))).one()
    if oldest is not None and oldest.tzinfo is None:
        from datetime import UTC
        oldest = oldest.replace(tzinfo=UTC)
    return int(n or 0), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def open_breaches_query(now: datetime, open_stages: frozenset[str]) -> Any:
    """Open steps past their limit: from the open requests (index on stage) to their steps (index on
    request_id), so the cost follows the open requests, not the whole history. ``open_stages``: the
    SOP in force's (the bot refuses to start on a file that would leave open requests elsewhere)."""
    return (select(func.count()).select_from(RequestStep)
            .join(Request, Request.id == RequestStep.request_id)
            .where(Request.stage.in_(sorted(open_stages)), RequestStep.done_at.is_(None),
                   RequestStep.due_at < now))
