"""Secrets never show in repr()/str() of results and errors, nor in log records."""

from __future__ import annotations

import logging

import pytest

from splp import (Account, AccountRecord, AccountSpec, ApiKey, AppSpec, Keys, Login, SPLPError, Token)
from splp.wso2 import _Session

from .conftest import ADMIN_PW, DP, SCIM, TENANT, ROLE_LIST, dp_error, js, scim_error, user_resource

LOGIN = Login(f"dinkes.simpus@{TENANT}", "Us3r-Passw0rd-#1")
SECRETS = [ADMIN_PW, LOGIN.password, "dcr-secret-xyz", "DP-token-1", "DP-refresh-1", "CS-secret-123",
           "AT-app-token-xyz", "eyJ-api-key-value"]


def test_dataclass_reprs_hide_secrets():
    objs = [
        Account("a@b.go.id", "u-1", initial_password="S3cret!S3cret!S3cret", must_change_password=True),
        AccountRecord("a@b.go.id", initial_password="S3cret!S3cret!S3cret"),
        Login("a@b.go.id", "S3cret!S3cret!S3cret"),
        Keys("CK", "S3cret!S3cret!S3cret", "km", access_token="S3cret!S3cret!S3cret"),
        Token("S3cret!S3cret!S3cret", 3600),
        ApiKey("S3cret!S3cret!S3cret", -1),
        _Session("cid", "S3cret!S3cret!S3cret", "S3cret!S3cret!S3cret", "S3cret!S3cret!S3cret"),
    ]
    for o in objs:
        assert "S3cret" not in repr(o) and "S3cret" not in str(o), type(o).__name__
    assert "CK" in repr(objs[3])  # non-secret fields stay visible


async def test_no_secret_in_logs_results_or_errors(router, make_adapter, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, httpx/httpcore included
    router.on("POST", f"{SCIM}/Users", scim_error(500),
              js(201, user_resource(), content_type="application/scim+json"))
    router.on("GET", f"{SCIM}/Users", js(200, {"Resources": []}))
    router.on("GET", f"{SCIM}/Roles", js(200, ROLE_LIST))
    router.on("PATCH", f"{SCIM}/Roles/role-sub", js(200, {"id": "role-sub"}))
    router.on("POST", "/client-registration/v0.17/register",
              js(200, {"clientId": "dcr-client", "clientSecret": "dcr-secret-xyz", "clientName": "x"}))
    router.on("POST", "/oauth2/token", js(200, {"access_token": "DP-token-1", "refresh_token": "DP-refresh-1",
                                                "token_type": "Bearer", "expires_in": 3600}))
    router.on("GET", f"{DP}/applications/app-1", js(200, {"applicationId": "app-1", "name": "SIMPUS",
                                                           "status": "APPROVED"}))
    router.on("POST", f"{DP}/applications/app-1/generate-keys", js(200, {
        "keyMappingId": "km-1", "consumerKey": "CK-abc", "consumerSecret": "CS-secret-123", "keyType": "PRODUCTION",
        "keyState": "APPROVED", "token": {"accessToken": "AT-app-token-xyz", "validityTime": 3600}}))
    router.on("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/generate",
              js(200, {"apikey": "eyJ-api-key-value", "validityTime": -1}))
    # An error body that echoes a secret back must not leak it into the message.
    router.on("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/revoke",
              dp_error(400, "Bad Request", "Invalid API key eyJ-api-key-value", [
                  {"code": "apikey", "message": "eyJ-api-key-value is not valid"}]))
    adapter = make_adapter()

    account = await adapter.create_account(AccountSpec("dinkes.simpus", "Budi", "Santoso", "cp@bogorkota.go.id"))
    keys = await adapter.generate_keys(LOGIN, "app-1")
    api_key = await adapter.generate_api_key(LOGIN, "app-1")
    with pytest.raises(SPLPError) as e:
        await adapter.revoke_api_key(LOGIN, "app-1", api_key.key)

    secrets = [*SECRETS, account.initial_password]
    texts = [r.getMessage() for r in caplog.records] + [repr(account), str(account), repr(keys), str(keys),
                                                        repr(api_key), repr(e.value), str(e.value),
                                                        repr(e.value.details), repr(adapter)]
    assert caplog.records, "the adapter logs its calls"
    for text in texts:
        for s in secrets:
            assert s not in text, (s, text)
    # What is logged: method, path and status.
    assert any("POST /t/bogorkota.go.id/scim2/Users -> 500" in r.getMessage() for r in caplog.records)


async def test_appspec_and_errors_have_indonesian_messages(router, make_adapter):
    with pytest.raises(SPLPError) as e:
        await make_adapter().create_application(LOGIN, AppSpec("", description="x" * 600))
    assert e.value.code == "invalid"
    assert "Nama aplikasi wajib diisi" in e.value.message_id and "512" in e.value.message_id
