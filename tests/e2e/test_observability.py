"""Health, readiness, Prometheus metrics (polling mode on 127.0.0.1:METRICS_PORT) and JSON logs."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from telegram.error import RetryAfter

from bot.logging_setup import JsonFormatter, RedactFilter, log_context, track_requests
from bot.outbox import OutboxWriter
from tests.e2e.flows import head_disposes
from tests.e2e.harness import HEAD, REQUESTER, WIB, Harness


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + want + '}') if want else ''} (\S+)$"
    m = re.search(pattern, body, re.M)
    return float(m.group(1)) if m else 0.0


async def test_health_readiness_and_metrics(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    port = _port()
    h = Harness(emu, db_url, metrics_port=port, ready_outbox_max_age_seconds=60)
    await h.start()
    await h.cast()
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as c:
            assert (await c.get(f"{base}/healthz")).text == "ok"
            ready = await c.get(f"{base}/readyz")
            assert ready.status_code == 200 and ready.json()["ready"] is True, ready.text
            m0 = (await c.get(f"{base}/metrics")).text

            number = await h.submit()
            await head_disposes(h)
            await h.settle()
            emu.fail_next("sendMessage", status=429, retry_after=1)  # Telegram's flood control: counted
            with pytest.raises(RetryAfter):
                await h.runtime.app.bot.send_message(REQUESTER, "x")  # type: ignore[union-attr]
            m1 = (await c.get(f"{base}/metrics")).text
            assert sample(m1, "splp_updates_total", outcome="handled") - \
                sample(m0, "splp_updates_total", outcome="handled") >= 14
            assert sample(m1, "splp_update_handling_seconds_count") > sample(m0, "splp_update_handling_seconds_count")
            # Every update was in one group (of one or more) handled in a transaction.
            assert sample(m1, "splp_update_group_size_sum") - sample(m0, "splp_update_group_size_sum") == \
                sum(sample(m1, "splp_updates_total", outcome=o) - sample(m0, "splp_updates_total", outcome=o)
                    for o in ("handled", "failed", "duplicate"))
            assert sample(m1, "splp_update_groups_split_total") == sample(m0, "splp_update_groups_split_total")
            assert sample(m1, "splp_bot_api_calls_total", method="sendMessage", status="429") - \
                sample(m0, "splp_bot_api_calls_total", method="sendMessage", status="429") == 1
            assert sample(m1, "splp_bot_api_calls_total", method="answerCallbackQuery", status="200") > 0
            assert sample(m1, "splp_requests", stage="division_review") == 1
            assert sample(m1, "splp_requests", stage="head_review") == 0
            assert sample(m1, "splp_sla_breaches_open") == 0
            assert sample(m1, "splp_outbox_due") == 0
            # No personal data in any label or value name.
            for personal in ("Siti", "siti.aminah", "6281234567890", "0812", number):
                assert personal not in m1

            # Past the Division's limit: an open breach, and the breach reminder is counted.
            h.clock.set(datetime(2026, 12, 1, 9, 31, tzinfo=WIB))
            await h.runtime.sweep_reminders()  # type: ignore[union-attr]
            m2 = (await c.get(f"{base}/metrics")).text
            assert sample(m2, "splp_sla_breaches_open") == 1
            assert sample(m2, "splp_reminders_sent_total", kind="breach") - \
                sample(m1, "splp_reminders_sent_total", kind="breach") == 1

            # An outbox that does not move: not ready, and the reason says why.
            await h.runtime.sender.stop()  # type: ignore[union-attr]
            async with h.db.transaction() as s:
                OutboxWriter(s, h.clock.now() - timedelta(minutes=5)).send(HEAD, "tertahan")
            stuck = await c.get(f"{base}/readyz")
            assert stuck.status_code == 503 and "outbox stuck" in stuck.json()["problems"][0], stuck.text
            m3 = (await c.get(f"{base}/metrics")).text
            assert sample(m3, "splp_outbox_oldest_due_age_seconds") >= 300
            assert sample(m3, "splp_ready") == 0
    finally:
        await h.close()


async def test_open_breaches_are_counted_from_the_open_requests(h: Harness) -> None:
    """The scrape's breach query reads the open steps or the open requests, not the history."""
    from bot.metrics import open_breaches_query

    q = open_breaches_query(h.clock.now(), h.runtime.env.sop.open_stages)  # type: ignore[union-attr]
    async with h.db.sessions() as s:
        bind = s.get_bind()
        sql = str(q.compile(bind, compile_kwargs={"literal_binds": True}))
        if bind.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in (await s.execute(text(f"EXPLAIN QUERY PLAN {sql}"))).all())
        else:
            await s.execute(text("SET LOCAL enable_seqscan = off"))  # the plan it takes once tables grow
            plan = " ".join(r[0] for r in (await s.execute(text(f"EXPLAIN {sql}"))).all())
        # Either from the open steps (partial index) or from the open requests (index on stage), never
        # through the whole history.
        assert "ix_request_step_open" in plan or (
            "ix_request_stage_holder" in plan and "ix_request_step_request_id" in plan), plan
        assert "SCAN request_step" not in plan and "Seq Scan" not in plan, plan


async def test_json_logs_name_the_update_and_the_request(h: Harness) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    redact = RedactFilter([h.settings.bot_token])
    handler.setFormatter(JsonFormatter("bot-7", redact))
    handler.addFilter(redact)
    track_requests()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        number = await h.submit()
        await head_disposes(h)
        token = log_context.set({"update_id": 42, "request": None})
        try:
            logging.getLogger("bot.test").warning("called bot%s/getMe", h.settings.bot_token)
        finally:
            log_context.reset(token)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert records and all({"time", "level", "logger", "instance", "event"} <= r.keys() for r in records)
    dispose = [r for r in records if r["event"] == "audit dispose"]
    assert len(dispose) == 1 and dispose[0]["request"] == number and isinstance(dispose[0]["update_id"], int)
    assert dispose[0]["instance"] == "bot-7" and dispose[0]["logger"] == "bot.services.base"
    submitted = [r for r in records if r["event"] == "audit submit"]
    assert submitted and submitted[0]["request"] == number  # the request created by this very update
    last = records[-1]
    assert last["update_id"] == 42 and last["event"] == "called bot<redacted>/getMe" and last["level"] == "WARNING"
    assert h.settings.bot_token not in stream.getvalue()
    for personal in ("Siti Aminah", "siti.aminah@", "6281234567890"):
        assert personal not in stream.getvalue()
