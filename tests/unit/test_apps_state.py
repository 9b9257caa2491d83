"""What a stopped procedure-B sequence reports as existing in SPLP, from its recorded progress."""

from __future__ import annotations

from bot.services.apps_wso2 import subscribed, what_exists
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
