"""The SPLP sandbox's state saved and restored (what keeps the sandbox's SPLP across restarts)."""

from __future__ import annotations

import httpx
import pytest

from sandbox.snapshot import load_wso2, save_wso2
from sandbox.wso2 import API_SIMPEG_ID, WSO2Sandbox
from tests.sandbox.test_wso2 import (
    ADMIN,
    ADMIN_PW,
    DP,
    SCIM,
    TENANT,
    api_key,
    basic,
    bearer,
    create_app,
    generate_keys,
    subscribe,
    subscriber,
)


async def test_users_applications_keys_and_subscriptions_survive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with WSO2Sandbox(tenant=TENANT, admin_username=ADMIN, admin_password=ADMIN_PW) as sb:
        async with httpx.AsyncClient(base_url=sb.base_url, timeout=5) as c:
            token = await subscriber(sb, c)
            app = (await create_app(c, token)).json()
            keys = (await generate_keys(c, token, app["applicationId"])).json()
            assert (await subscribe(c, token, app["applicationId"], API_SIMPEG_ID)).status_code == 201
            key = await api_key(c, token, app["applicationId"])
        save_wso2(sb, tmp_path)

    async with WSO2Sandbox(tenant=TENANT, admin_username=ADMIN, admin_password="other") as again:
        assert load_wso2(again, tmp_path)
        async with httpx.AsyncClient(base_url=again.base_url, timeout=5) as c:
            r = await c.get(f"{DP}/applications/{app['applicationId']}", headers=bearer(token))  # same token
            assert r.status_code == 200, r.text
            assert r.json()["keys"][0]["consumerKey"] == keys["consumerKey"]
            r = await c.get(f"{DP}/subscriptions", params={"applicationId": app["applicationId"]},
                            headers=bearer(token))
            assert r.json()["count"] == 1
            gw = again.gateway_url(API_SIMPEG_ID) + "/pegawai/123"
            assert (await c.get(gw, headers={"apikey": key})).status_code == 200  # signing key kept
            r = await c.post("/oauth2/token", auth=(keys["consumerKey"], keys["consumerSecret"]),
                             data={"grant_type": "client_credentials"})
            assert r.status_code == 200, r.text
            # The admin's password is the saved one, not the new constructor's.
            assert (await c.get(f"{SCIM}/Users", headers=basic(ADMIN, ADMIN_PW))).status_code == 200
            assert (await c.get(f"{SCIM}/Users", headers=basic(ADMIN, "other"))).status_code == 401
        assert not again.violations


async def test_nothing_saved_or_unusable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sb = WSO2Sandbox(tenant=TENANT)
    assert not load_wso2(sb, tmp_path)
    save_wso2(sb, tmp_path)
    with pytest.raises(ValueError, match="another version or tenant"):
        load_wso2(WSO2Sandbox(tenant="other.go.id"), tmp_path)
    (tmp_path / "wso2.json").write_text('{"version": 1, "tenant": "%s", "attrs": {}}' % TENANT)
    users = dict(sb.users)
    with pytest.raises(ValueError, match="cannot restore"):
        load_wso2(sb, tmp_path)
    assert sb.users == users  # untouched
