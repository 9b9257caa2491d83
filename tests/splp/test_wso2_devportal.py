"""Procedure B over the DevPortal REST API v3 (DCR, token, applications, keys, subscriptions,
API keys), against a scripted MockTransport."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import httpx
import pytest

from splp import AppSpec, BadCredentials, Conflict, Invalid, KeySpec, Login, Pending, Unavailable

from .conftest import BASE, DP, TENANT, dp_error, js

LOGIN = Login(f"dinkes.simpus@{TENANT}", "Us3r-Passw0rd-#1")
DCR = "/client-registration/v0.17/register"
TOKEN = "/oauth2/token"
APP = {"applicationId": "app-1", "name": "SIMPUS", "throttlingPolicy": "Unlimited", "description": "",
       "tokenType": "JWT", "status": "APPROVED", "groups": [], "subscriptionCount": 0, "keys": [],
       "attributes": {}, "subscriptionScopes": [], "owner": LOGIN.username_with_tenant, "hashEnabled": False}
KEYS = {"keyMappingId": "km-1", "keyManager": "Resident Key Manager", "consumerKey": "CK-abc",
        "consumerSecret": "CS-secret-123", "supportedGrantTypes": ["client_credentials", "refresh_token"],
        "keyState": "APPROVED", "keyType": "PRODUCTION", "mode": "CREATED",
        "token": {"accessToken": "AT-app-token-xyz", "tokenScopes": ["default"], "validityTime": 3600},
        "additionalProperties": {}}


def token_body(n: int = 1) -> dict:
    return {"access_token": f"DP-token-{n}", "refresh_token": f"DP-refresh-{n}", "token_type": "Bearer",
            "expires_in": 3600, "scope": "apim:subscribe apim:app_manage apim:sub_manage apim:api_key"}


def auth_routes(router, tokens=None):
    router.on("POST", DCR, js(200, {"clientId": "dcr-client", "clientSecret": "dcr-secret-xyz",
                                    "clientName": "splp_bot", "isSaasApplication": True}))
    router.on("POST", TOKEN, *(tokens or [js(200, token_body(1))]))


def form(req: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(req.content.decode()).items()}


async def test_dcr_then_password_grant_and_the_token_is_cached(router, make_adapter):
    auth_routes(router)
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    adapter = make_adapter()

    await adapter.get_application(LOGIN, "app-1")
    await adapter.get_application(LOGIN, "app-1")

    assert router.sequence() == [f"POST {DCR}", f"POST {TOKEN}",
                                 f"GET {DP}/applications/app-1", f"GET {DP}/applications/app-1"]
    dcr = router.calls("POST", DCR)[0]
    assert dcr.headers["Authorization"] == "Basic " + base64.b64encode(
        f"{LOGIN.username_with_tenant}:{LOGIN.password}".encode()).decode()
    body = json.loads(dcr.content)
    assert body["owner"] == LOGIN.username_with_tenant
    assert body["grantType"] == "client_credentials password refresh_token"
    tok = router.calls("POST", TOKEN)[0]
    assert tok.headers["Authorization"] == "Basic " + base64.b64encode(b"dcr-client:dcr-secret-xyz").decode()
    assert tok.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(tok) == {"grant_type": "password", "username": LOGIN.username_with_tenant,
                         "password": LOGIN.password,
                         "scope": "apim:subscribe apim:app_manage apim:sub_manage apim:api_key"}
    for r in router.calls("GET", f"{DP}/applications/app-1"):
        assert r.headers["Authorization"] == "Bearer DP-token-1"


async def test_401_refreshes_the_token_once_then_repeats_the_call(router, make_adapter):
    auth_routes(router, [js(200, token_body(1)), js(200, token_body(2))])
    router.on("GET", f"{DP}/applications/app-1", dp_error(401, "Unauthenticated"), js(200, APP))

    app = await make_adapter().get_application(LOGIN, "app-1")

    assert app.id == "app-1"
    gets = router.calls("GET", f"{DP}/applications/app-1")
    assert [r.headers["Authorization"] for r in gets] == ["Bearer DP-token-1", "Bearer DP-token-2"]
    refresh = router.calls("POST", TOKEN)[1]
    assert form(refresh) == {"grant_type": "refresh_token", "refresh_token": "DP-refresh-1"}
    assert len(router.calls("POST", DCR)) == 1


async def test_persistent_401_refreshes_only_once_and_is_bad_credentials(router, make_adapter):
    auth_routes(router, [js(200, token_body(1)), js(200, token_body(2))])
    router.on("GET", f"{DP}/applications/app-1", dp_error(401, "Unauthenticated"))

    with pytest.raises(BadCredentials) as e:
        await make_adapter().get_application(LOGIN, "app-1")

    assert len(router.calls("POST", TOKEN)) == 2  # the first token and ONE refresh
    assert len(router.calls("GET", f"{DP}/applications/app-1")) == 2
    assert LOGIN.username_with_tenant in e.value.message_id
    assert e.value.message_id.startswith("Kredensial akun SPLP")


async def test_wrong_user_password_is_bad_credentials(router, make_adapter):
    auth_routes(router, [js(400, {"error": "invalid_grant",
                                  "error_description": "Authentication failed for dinkes.simpus"})])
    with pytest.raises(BadCredentials) as e:
        await make_adapter().list_tiers(LOGIN)
    assert e.value.status == 400


async def test_idempotent_get_is_retried_on_503_up_to_the_limit(router, make_adapter):
    router.on("GET", f"{DP}/apis", js(503, {"code": 503, "message": "Service Unavailable"}))
    with pytest.raises(Unavailable) as e:
        await make_adapter().list_apis()
    assert len(router.calls("GET", f"{DP}/apis")) == 3
    assert e.value.status == 503 and "HTTP 503" in e.value.message_id


async def test_idempotent_get_recovers_after_503(router, make_adapter):
    router.on("GET", f"{DP}/apis", js(503, {}), js(503, {}), js(200, {"count": 1, "list": [
        {"id": "api-1", "name": "DukcapilAPI", "context": "/t/bogorkota.go.id/dukcapil", "version": "1.0.0",
         "provider": "admin", "lifeCycleStatus": "PUBLISHED", "throttlingPolicies": ["Unlimited"]}]}))

    apis = await make_adapter().list_apis()

    assert [a.name for a in apis] == ["DukcapilAPI"] and apis[0].tiers == ("Unlimited",)
    req = router.calls("GET", f"{DP}/apis")[0]
    assert req.headers["X-WSO2-Tenant"] == TENANT and "Authorization" not in req.headers


async def test_get_timeout_is_retried(router, make_adapter):
    router.on("GET", f"{DP}/apis/api-1", httpx.ConnectTimeout("timed out"), js(200, {
        "id": "api-1", "name": "DukcapilAPI", "context": "/dukcapil", "version": "1.0.0", "provider": "admin",
        "lifeCycleStatus": "PUBLISHED", "authorizationHeader": "AuthorizationSPLP",
        "securityScheme": ["oauth2", "api_key"],
        "endpointURLs": [{"environmentName": "Default", "URLs": {"https": "https://api-splp.test/dukcapil/1.0.0"}}]}))

    api = await make_adapter().get_api(None, "api-1")

    assert api.auth_header == "AuthorizationSPLP" and api.supports_api_key is True
    assert api.endpoint_urls == ("https://api-splp.test/dukcapil/1.0.0",)


async def test_non_idempotent_post_is_never_blindly_retried(router, make_adapter):
    auth_routes(router)
    router.on("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/generate", js(503, {}))
    with pytest.raises(Unavailable):
        await make_adapter().generate_api_key(LOGIN, "app-1")
    assert len(router.calls("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/generate")) == 1


async def test_create_application_request_and_201(router, make_adapter):
    auth_routes(router)
    router.on("POST", f"{DP}/applications", js(201, APP, {"Location": f"{BASE}{DP}/applications/app-1"}))

    app = await make_adapter().create_application(LOGIN, AppSpec("SIMPUS", description="Puskesmas"))

    assert (app.id, app.name, app.status, app.pending) == ("app-1", "SIMPUS", "APPROVED", False)
    body = json.loads(router.calls("POST", f"{DP}/applications")[0].content)
    assert body == {"name": "SIMPUS", "throttlingPolicy": "Unlimited", "description": "Puskesmas",
                    "tokenType": "JWT", "groups": [], "attributes": {}}


async def test_create_application_name_exists_409(router, make_adapter):
    auth_routes(router)
    router.on("POST", f"{DP}/applications", dp_error(409, "Conflict", "Specified resource already exists"))
    with pytest.raises(Conflict) as e:
        await make_adapter().create_application(LOGIN, AppSpec("SIMPUS"))
    assert 'Nama aplikasi "SIMPUS" sudah digunakan' in e.value.message_id


async def test_create_application_400_lists_the_field_errors(router, make_adapter):
    auth_routes(router)
    router.on("POST", f"{DP}/applications", dp_error(400, "Bad Request", "Invalid request", [
        {"code": "throttlingPolicy", "message": "Specified throttling policy Gold is invalid"}]))
    with pytest.raises(Invalid) as e:
        await make_adapter().create_application(LOGIN, AppSpec("SIMPUS", throttling_policy="Gold"))
    assert e.value.details == ("throttlingPolicy: Specified throttling policy Gold is invalid",)
    assert "throttlingPolicy: Specified throttling policy Gold is invalid" in e.value.message_id


async def test_create_application_5xx_looks_by_name_before_creating_again(router, make_adapter):
    auth_routes(router)
    router.on("POST", f"{DP}/applications", js(500, {"code": 500, "message": "Internal Server Error"}))
    router.on("GET", f"{DP}/applications", js(200, {"count": 1, "list": [APP]}))

    app = await make_adapter().create_application(LOGIN, AppSpec("SIMPUS"))

    assert app.id == "app-1"
    assert len(router.calls("POST", f"{DP}/applications")) == 1
    assert router.calls("GET", f"{DP}/applications")[0].url.params["query"] == "SIMPUS"


async def test_application_workflow_202_is_pending_and_blocks_keys(router, make_adapter):
    auth_routes(router)
    pending_app = {**APP, "status": "CREATED"}
    router.on("POST", f"{DP}/applications", js(202, {"workflowStatus": "CREATED", "jsonPayload": ""},
                                               {"Location": f"{BASE}{DP}/applications/app-1"}))
    router.on("GET", f"{DP}/applications/app-1", js(200, pending_app))
    adapter = make_adapter()

    app = await adapter.create_application(LOGIN, AppSpec("SIMPUS"))
    assert app.status == "CREATED" and app.pending

    with pytest.raises(Pending) as e:
        await adapter.generate_keys(LOGIN, "app-1")
    assert "menunggu persetujuan" in e.value.message_id
    assert router.calls("POST", f"{DP}/applications/app-1/generate-keys") == []


async def test_generate_keys_request_and_result(router, make_adapter):
    auth_routes(router)
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    router.on("POST", f"{DP}/applications/app-1/generate-keys", js(200, KEYS))

    keys = await make_adapter().generate_keys(LOGIN, "app-1", KeySpec())

    body = json.loads(router.calls("POST", f"{DP}/applications/app-1/generate-keys")[0].content)
    assert body == {"keyType": "PRODUCTION", "keyManager": "Resident Key Manager",
                    "grantTypesToBeSupported": ["client_credentials", "refresh_token"], "callbackUrl": "",
                    "scopes": ["default"], "validityTime": "3600", "additionalProperties": {}}
    assert (keys.consumer_key, keys.consumer_secret, keys.key_mapping_id) == ("CK-abc", "CS-secret-123", "km-1")
    assert keys.access_token == "AT-app-token-xyz" and keys.expires_in == 3600
    assert keys.token_endpoint == f"{BASE}/oauth2/token"


async def test_generate_keys_without_token_fetches_one(router, make_adapter):
    auth_routes(router)
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    router.on("POST", f"{DP}/applications/app-1/generate-keys", js(200, {**KEYS, "token": None}))
    router.on("POST", f"{DP}/applications/app-1/oauth-keys/km-1/generate-token",
              js(200, {"accessToken": "AT-2", "tokenScopes": ["default"], "validityTime": 1800}))

    keys = await make_adapter().generate_keys(LOGIN, "app-1")

    assert keys.access_token == "AT-2" and keys.expires_in == 1800
    body = json.loads(router.calls("POST", f"{DP}/applications/app-1/oauth-keys/km-1/generate-token")[0].content)
    assert body["consumerSecret"] == "CS-secret-123" and body["grantType"] == "CLIENT_CREDENTIALS"


async def test_generate_keys_timeout_looks_at_oauth_keys_and_regenerates_a_hidden_secret(router, make_adapter):
    auth_routes(router)
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    router.on("POST", f"{DP}/applications/app-1/generate-keys", httpx.ReadTimeout("timed out"))
    router.on("GET", f"{DP}/applications/app-1/oauth-keys",
              js(200, {"count": 1, "list": [{**KEYS, "consumerSecret": None, "token": None}]}))
    router.on("POST", f"{DP}/applications/app-1/oauth-keys/km-1/regenerate-secret",
              js(200, {"consumerKey": "CK-abc", "consumerSecret": "CS-new-456"}))
    router.on("POST", f"{DP}/applications/app-1/oauth-keys/km-1/generate-token",
              js(200, {"accessToken": "AT-3", "validityTime": 3600}))

    keys = await make_adapter().generate_keys(LOGIN, "app-1")

    assert len(router.calls("POST", f"{DP}/applications/app-1/generate-keys")) == 1
    assert keys.consumer_secret == "CS-new-456" and keys.access_token == "AT-3"


async def test_subscribe_5xx_looks_before_subscribing_again(router, make_adapter):
    auth_routes(router)
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    router.on("POST", f"{DP}/subscriptions", js(502, {}))
    router.on("GET", f"{DP}/subscriptions", js(200, {"count": 1, "list": [
        {"subscriptionId": "sub-1", "applicationId": "app-1", "apiId": "api-1", "status": "UNBLOCKED",
         "throttlingPolicy": "Unlimited"}]}))

    sub = await make_adapter().subscribe(LOGIN, "app-1", "api-1", provider_tenant="carbon.super")

    assert (sub.id, sub.api_id, sub.status) == ("sub-1", "api-1", "UNBLOCKED")
    post = router.calls("POST", f"{DP}/subscriptions")
    assert len(post) == 1 and post[0].headers["X-WSO2-Tenant"] == "carbon.super"
    assert json.loads(post[0].content) == {"applicationId": "app-1", "apiId": "api-1", "throttlingPolicy": "Unlimited"}
    assert router.calls("GET", f"{DP}/subscriptions")[0].url.params["applicationId"] == "app-1"


async def test_subscription_workflow_202_is_on_hold(router, make_adapter):
    auth_routes(router)
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    router.on("POST", f"{DP}/subscriptions", js(202, {"workflowStatus": "CREATED"}))
    router.on("GET", f"{DP}/subscriptions", js(200, {"count": 1, "list": [
        {"subscriptionId": "sub-1", "applicationId": "app-1", "apiId": "api-1", "status": "ON_HOLD"}]}))

    sub = await make_adapter().subscribe(LOGIN, "app-1", "api-1")

    assert sub.status == "ON_HOLD" and sub.pending


async def test_api_key_generate_and_revoke(router, make_adapter):
    auth_routes(router)
    router.on("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/generate",
              js(200, {"apikey": "eyJ-api-key", "validityTime": -1}))
    router.on("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/revoke", js(200))
    adapter = make_adapter()

    key = await adapter.generate_api_key(LOGIN, "app-1")
    await adapter.revoke_api_key(LOGIN, "app-1", key.key)

    assert key.key == "eyJ-api-key" and key.validity == -1
    gen = json.loads(router.calls("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/generate")[0].content)
    assert gen == {"validityPeriod": -1, "additionalProperties": {"permittedIP": "", "permittedReferer": ""}}
    rev = json.loads(router.calls("POST", f"{DP}/applications/app-1/api-keys/PRODUCTION/revoke")[0].content)
    assert rev == {"apikey": "eyJ-api-key"}


async def test_delete_application_200_and_202(router, make_adapter):
    auth_routes(router)
    router.on("DELETE", f"{DP}/applications/app-1", js(200), js(202, {"workflowStatus": "CREATED"}))
    adapter = make_adapter()
    assert await adapter.delete_application(LOGIN, "app-1") == "DELETED"
    assert await adapter.delete_application(LOGIN, "app-1") == "PENDING"


async def test_delete_retried_after_503_counts_a_later_404_as_deleted(router, make_adapter):
    auth_routes(router)
    router.on("DELETE", f"{DP}/applications/app-1", js(503, {}), dp_error(404, "Not Found"))
    assert await make_adapter().delete_application(LOGIN, "app-1") == "DELETED"


async def test_basic_auth_mode_skips_dcr(router, make_adapter):
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    await make_adapter(devportal_auth="basic").get_application(LOGIN, "app-1")
    assert router.sequence() == [f"GET {DP}/applications/app-1"]
    assert router.requests[0].headers["Authorization"].startswith("Basic ")


async def test_a_cached_token_never_stands_in_for_another_password(router, make_adapter):
    auth_routes(router, [js(200, token_body(1)),
                         js(400, {"error": "invalid_grant", "error_description": "Authentication failed"})])
    router.on("GET", f"{DP}/applications/app-1", js(200, APP))
    adapter = make_adapter()
    await adapter.get_application(LOGIN, "app-1")

    with pytest.raises(BadCredentials):
        await adapter.get_application(Login(LOGIN.username_with_tenant, "Wrong-Password-1"), "app-1")

    assert form(router.calls("POST", TOKEN)[1])["grant_type"] == "password"


async def test_an_html_page_instead_of_json_is_unavailable(router, make_adapter):
    router.on("GET", f"{DP}/apis", httpx.Response(200, text="<html>login</html>",
                                                  headers={"Content-Type": "text/html"}))
    with pytest.raises(Unavailable) as e:
        await make_adapter().list_apis()
    assert "tidak dapat dibaca" in e.value.message_id
