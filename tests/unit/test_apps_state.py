"""What a stopped procedure-B sequence reports as existing in SPLP, from its recorded progress."""

from __future__ import annotations

from bot.services.apps_view import subscribed, what_exists
from storage.models import Application

CAT = [{"id": "a1", "name": "SIMPEG", "version": "v1", "context": "/t/x/simpeg", "provider": "BKPSDM",
        "auth_header": "Authorization", "api_key": True},
       {"id": "a2", "name": "Dukcapil-NIK", "version": "v2", "context": "/t/x/nik", "provider": "Disdukcapil",
        "auth_header": "Authorization", "api_key": True}]


def _app(splp: dict, environment: str = "production") -> Application:
    return Application(data={"name": "SIMPUS", "environment": environment, "catalogue": CAT, "apis": ["a1", "a2"],
                             "splp": splp})


def test_nothing_made_yet() -> None:
    have, missing = what_exists(_app({}))
    assert have == [] and missing[0] == "aplikasi «SIMPUS»" and missing[-1] == "API key"


def test_stopped_after_keys_and_one_subscription() -> None:
    have, missing = what_exists(_app({"id": "x", "keys": True, "subs": {"a1": "UNBLOCKED", "a2": "ON_HOLD"}},
                                     "sandbox"))
    assert have == ["aplikasi «SIMPUS»", "kunci OAuth2 Sandbox (consumer key/secret)", "langganan API SIMPEG v1",
                    "langganan API Dukcapil-NIK v2 (menunggu persetujuan)"]
    assert missing == ["API key"]


def test_only_approved_subscriptions_are_in_the_example() -> None:
    app = _app({"id": "x", "subs": {"a1": "REJECTED", "a2": "UNBLOCKED"}})
    assert [a["id"] for a in subscribed(app)] == ["a2"]
    assert "langganan API SIMPEG v1 (ditolak)" in what_exists(app)[0]


def test_reveal_fits_telegram_with_eight_apis_and_long_tokens() -> None:
    """Real WSO2 tokens and API keys are JWTs of about a kilobyte: the reveal and its example are
    split into messages Telegram accepts (4096 characters, valid HTML), the bash lines whole."""
    from datetime import datetime, timezone

    from bot.services.apps_view import credentials_message
    from bot.settings import Settings
    from sandbox.telegram import parse_html

    cat = [{"id": f"a{i}", "name": f"API-Dinas-{i}", "version": "v1.0.0", "context": f"/t/kotabogor.go.id/api{i}",
            "provider": "X", "auth_header": "Authorization", "api_key": True} for i in range(8)]
    app = Application(data={"name": "SIMPUS", "environment": "production", "catalogue": cat,
                            "splp": {"id": "x", "subs": {a["id"]: "UNBLOCKED" for a in cat}}})
    jwt = "eyJ" + "A" * 1200
    parts = credentials_message(Settings(), datetime(2026, 11, 30, 2, tzinfo=timezone.utc), app,
                                {"consumer_key": "ck" * 14, "consumer_secret": "cs" * 14, "access_token": jwt,
                                 "token_expires_at": "2026-11-30T03:00:00+00:00", "api_key": jwt + "B"})
    assert len(parts) >= 2
    script = []
    for p in parts:
        text, entities = parse_html(p)
        assert len(text) <= 4096
        script += [text[e["offset"]:e["offset"] + e["length"]] for e in entities if e["type"] == "pre"]
    lines = "\n".join(script).splitlines()
    assert sum(1 for ln in lines if ln.startswith("curl ")) == 16 and lines[0].startswith("CONSUMER_KEY=")
    assert "berlaku sampai Senin, 30 November 2026 10.00 WIB" in parts[0]
