"""Tests for the WSO2 API Manager sandbox (sandbox/wso2.py), driven with plain httpx."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from sandbox.wso2 import (
    API_DUKCAPIL_ID,
    API_KESEHATAN_ID,
    API_SIMPEG_ID,
    KEY_MANAGER_ID,
    SCHEMA_DIR,
    SchemaRegistry,
    WSO2Sandbox,
)

TENANT = "kotabogor.go.id"
ADMIN = f"admin@{TENANT}"
ADMIN_PW = "admin-pass"
DP = "/api/am/devportal/v3"
SCIM = f"/t/{TENANT}/scim2"
SCIM_JSON = {"Content-Type": "application/scim+json"}
REST_SCOPES = "apim:subscribe apim:app_manage apim:sub_manage apim:api_key"


def basic(user: str, pw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def bearer(token: str, header: str = "Authorization") -> dict[str, str]:
    return {header: f"Bearer {token}"}


def new_user_body(user_name: str, password: str | None = "Rahasia#2024", **ext: object) -> dict:
    body: dict = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Budi", "familyName": "Santoso"},
        "emails": [{"value": f"{user_name}@kotabogor.go.id", "primary": True}],
        "phoneNumbers": [{"type": "mobile", "value": "+6281234567890"}],
    }
    if password is not None:
        body["password"] = password
    if ext:
        body["urn:scim:wso2:schema"] = ext
    return body


@pytest.fixture
async def sb():
    async with WSO2Sandbox(tenant=TENANT, admin_username=ADMIN, admin_password=ADMIN_PW) as s:
        yield s


@pytest.fixture
async def client(sb: WSO2Sandbox):
    async with httpx.AsyncClient(base_url=sb.base_url, timeout=5) as c:
        yield c


async def scim_create(client: httpx.AsyncClient, body: dict, auth: dict | None = None) -> httpx.Response:
    return await client.post(f"{SCIM}/Users", json=body, headers={**SCIM_JSON, **(auth or basic(ADMIN, ADMIN_PW))})


async def rest_token(client: httpx.AsyncClient, user: str, pw: str, scopes: str = REST_SCOPES) -> dict:
    """DCR (Basic user) + password grant, as a DevPortal REST client does."""
    r = await client.post("/client-registration/v0.17/register", headers=basic(user, pw), json={
        "callbackUrl": "https://localhost/cb", "clientName": f"sop_bot_{user.split('@')[0]}", "owner": user,
        "grantType": "client_credentials password refresh_token", "saasApp": True, "tokenType": "JWT",
    })
    assert r.status_code == 200, r.text
    reg = r.json()
    r = await client.post("/oauth2/token", auth=(reg["clientId"], reg["clientSecret"]), data={
        "grant_type": "password", "username": user, "password": pw, "scope": scopes,
    })
    assert r.status_code == 200, r.text
    return {**r.json(), "clientId": reg["clientId"], "clientSecret": reg["clientSecret"]}


async def subscriber(sb: WSO2Sandbox, client: httpx.AsyncClient, name: str = "dinkes.simpus") -> str:
    """A user with the Internal/subscriber role; returns a DevPortal REST token."""
    sb.create_user(name, "Rahasia#2024", roles=("Internal/subscriber",))
    return (await rest_token(client, f"{name}@{TENANT}", "Rahasia#2024"))["access_token"]


async def create_app(client: httpx.AsyncClient, token: str, name: str = "SIMPUS-Dinkes") -> httpx.Response:
    return await client.post(f"{DP}/applications", headers=bearer(token), json={
        "name": name, "throttlingPolicy": "Unlimited", "description": "Aplikasi SIMPUS",
        "tokenType": "JWT", "groups": [], "attributes": {},
    })


async def generate_keys(client: httpx.AsyncClient, token: str, app_id: str, key_type: str = "PRODUCTION"):
    return await client.post(f"{DP}/applications/{app_id}/generate-keys", headers=bearer(token), json={
        "keyType": key_type, "keyManager": "Resident Key Manager",
        "grantTypesToBeSupported": ["client_credentials", "refresh_token"], "callbackUrl": "",
        "scopes": ["default"], "validityTime": "3600", "additionalProperties": {},
    })


async def subscribe(client: httpx.AsyncClient, token: str, app_id: str, api_id: str, policy: str = "Unlimited"):
    return await client.post(f"{DP}/subscriptions", headers=bearer(token),
                             json={"applicationId": app_id, "apiId": api_id, "throttlingPolicy": policy})


async def api_key(client: httpx.AsyncClient, token: str, app_id: str) -> str:
    r = await client.post(f"{DP}/applications/{app_id}/api-keys/PRODUCTION/generate", headers=bearer(token),
                          json={"validityPeriod": 3600, "additionalProperties": {"permittedIP": "",
                                                                                "permittedReferer": ""}})
    assert r.status_code == 200, r.text
    return r.json()["apikey"]


async def app_with_keys(sb: WSO2Sandbox, client: httpx.AsyncClient) -> tuple[str, str, dict]:
    token = await subscriber(sb, client)
    app = (await create_app(client, token)).json()
    keys = (await generate_keys(client, token, app["applicationId"])).json()
    return token, app["applicationId"], keys


# ---------------------------------------------------------------- SCIM (procedure A)
async def test_scim_create_duplicate_auth_and_bad_body(sb: WSO2Sandbox, client: httpx.AsyncClient):
    r = await scim_create(client, new_user_body("dinkes.simpus", forcePasswordReset=True))
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/scim+json")
    user = r.json()
    assert user["userName"] == "dinkes.simpus" and user["id"]
    assert user["meta"]["resourceType"] == "User"
    assert r.headers["Location"] == user["meta"]["location"] == f"{sb.scim_url}/Users/{user['id']}"
    assert "password" not in user
    assert user["urn:scim:wso2:schema"]["forcePasswordReset"] is True
    stored = sb.user("dinkes.simpus")
    assert stored.force_password_reset and "Rahasia" not in stored.password_hash

    # lookup by filter (quoted and unquoted) and by id
    r = await client.get(f"{SCIM}/Users", params={"filter": 'userName eq "dinkes.simpus"'},
                         headers=basic(ADMIN, ADMIN_PW))
    assert r.status_code == 200 and r.json()["totalResults"] == 1
    assert r.json()["Resources"][0]["id"] == user["id"]
    r = await client.get(f"{SCIM}/Users", params={"filter": "userName eq nobody"}, headers=basic(ADMIN, ADMIN_PW))
    assert r.json()["totalResults"] == 0 and "Resources" not in r.json()
    r = await client.get(f"{SCIM}/Users/{user['id']}", headers=basic(ADMIN, ADMIN_PW))
    assert r.status_code == 200 and r.json()["userName"] == "dinkes.simpus"

    # duplicate userName (case-insensitive)
    r = await scim_create(client, new_user_body("Dinkes.Simpus"))
    assert r.status_code == 409
    assert r.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and r.json()["status"] == "409"

    # wrong admin password / non-admin caller
    r = await scim_create(client, new_user_body("other.user"), auth=basic(ADMIN, "wrong"))
    assert r.status_code == 401 and r.json()["status"] == "401"
    sb.create_user("plain.user", "Rahasia#2024", roles=("Internal/subscriber",))
    r = await scim_create(client, new_user_body("other.user"), auth=basic(f"plain.user@{TENANT}", "Rahasia#2024"))
    assert r.status_code == 403

    # password policy (schema-valid body, server-side rule)
    r = await scim_create(client, new_user_body("other.user", password="abc"))
    assert r.status_code == 400
    # askPassword users need no password
    r = await scim_create(client, new_user_body("invited.user", password=None, askPassword=True))
    assert r.status_code == 201 and r.json()["urn:scim:wso2:schema"]["askPassword"] is True
    assert not sb.violations

    # bodies violating the contract: recorded; answered 400 invalidSyntax when not strict
    with sb.lenient() as caught:
        r = await scim_create(client, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "password": "x1234"})
        assert r.status_code == 400 and r.json()["scimType"] == "invalidSyntax"
        r = await client.post(f"{SCIM}/Users", content=b"{not json", headers={**SCIM_JSON, **basic(ADMIN, ADMIN_PW)})
        assert r.status_code == 400 and r.json()["scimType"] == "invalidSyntax"
    assert [v.direction for v in caught] == ["request", "request"]
    assert "userName" in caught[0].message and "JSON" in caught[1].message
    assert not sb.violations

    r = await client.delete(f"{SCIM}/Users/{user['id']}", headers=basic(ADMIN, ADMIN_PW))
    assert r.status_code == 204
    r = await client.get(f"{SCIM}/Users/{user['id']}", headers=basic(ADMIN, ADMIN_PW))
    assert r.status_code == 404
    assert not sb.violations


async def test_scim_role_assignment_and_bearer(sb: WSO2Sandbox, client: httpx.AsyncClient):
    uid = (await scim_create(client, new_user_body("bkpsdm.simpeg"))).json()["id"]
    ids = set()
    for f in ("displayName eq subscriber", "displayName eq Internal/subscriber", 'displayName eq "subscriber"'):
        r = await client.get(f"{SCIM}/Roles", params={"filter": f}, headers=basic(ADMIN, ADMIN_PW))
        assert r.status_code == 200 and r.json()["totalResults"] == 1, (f, r.text)
        role = r.json()["Resources"][0]
        assert role["displayName"] == "subscriber"
        ids.add(role["id"])
    assert ids == {sb.role_id("Internal/subscriber")}
    role_id = ids.pop()
    r = await client.patch(f"{SCIM}/Roles/{role_id}", headers={**SCIM_JSON, **basic(ADMIN, ADMIN_PW)}, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "users", "value": [{"value": uid}]}],
    })
    assert r.status_code == 200, r.text
    assert "Internal/subscriber" in sb.user_roles("bkpsdm.simpeg")
    r = await client.get(f"{SCIM}/Roles/{role_id}", headers=basic(ADMIN, ADMIN_PW))
    assert uid in [u["value"] for u in r.json()["users"]]  # next to the seeded admin
    r = await client.patch(f"{SCIM}/Roles/{role_id}", headers={**SCIM_JSON, **basic(ADMIN, ADMIN_PW)}, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "users", "value": [{"value": "no-such-user"}]}],
    })
    assert r.status_code == 400

    # the new user can now use the DevPortal
    tok = await rest_token(client, f"bkpsdm.simpeg@{TENANT}", "Rahasia#2024")
    assert set(tok["scope"].split()) == set(REST_SCOPES.split())

    # SCIM with a Bearer token: admin token with internal_user_mgt_create works, plain token is 403
    admin_tok = await rest_token(client, ADMIN, ADMIN_PW, scopes="internal_user_mgt_create")
    r = await scim_create(client, new_user_body("via.bearer"), auth=bearer(admin_tok["access_token"]))
    assert r.status_code == 201
    r = await scim_create(client, new_user_body("via.bearer2"), auth=bearer(tok["access_token"]))
    assert r.status_code == 403
    assert not sb.violations


# ---------------------------------------------------------------- DCR + password grant
async def test_dcr_and_password_grant_scopes(sb: WSO2Sandbox, client: httpx.AsyncClient):
    sb.create_user("subscriber.one", "Rahasia#2024", roles=("Internal/subscriber",))
    sb.create_user("no.role", "Rahasia#2024", roles=())
    sb.create_user("must.change", "Rahasia#2024", force_password_reset=True)

    tok = await rest_token(client, f"subscriber.one@{TENANT}", "Rahasia#2024",
                           scopes=REST_SCOPES + " apim:admin")
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600 and tok["refresh_token"]
    assert "apim:admin" not in tok["scope"].split()  # not allowed by the role: dropped silently
    assert tok["access_token"].startswith("eyJ")

    # DCR is idempotent per clientName for the same owner; owner must be the caller
    body = {"clientName": "sop_bot_subscriber.one", "owner": f"subscriber.one@{TENANT}",
            "grantType": "password refresh_token", "saasApp": True}
    r = await client.post("/client-registration/v0.17/register", json=body,
                          headers=basic(f"subscriber.one@{TENANT}", "Rahasia#2024"))
    assert r.status_code == 200 and r.json()["clientId"] == tok["clientId"]
    r = await client.post("/client-registration/v0.17/register", json={**body, "owner": ADMIN},
                          headers=basic(f"subscriber.one@{TENANT}", "Rahasia#2024"))
    assert r.status_code == 400
    r = await client.post("/client-registration/v0.17/register", json=body, headers=basic(ADMIN, ADMIN_PW))
    assert r.status_code in (400, 403)
    r = await client.post("/client-registration/v0.17/register", json=body,
                          headers=basic(f"subscriber.one@{TENANT}", "bad"))
    assert r.status_code == 401

    cid, csec = tok["clientId"], tok["clientSecret"]
    form = {"grant_type": "password", "username": f"subscriber.one@{TENANT}", "password": "nope",
            "scope": REST_SCOPES}
    r = await client.post("/oauth2/token", auth=(cid, csec), data=form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = await client.post("/oauth2/token", auth=(cid, "bad-secret"), data={**form, "password": "Rahasia#2024"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await client.post("/oauth2/token", auth=(cid, csec), data={**form, "username": "subscriber.one"})
    assert r.status_code == 400  # no tenant domain -> not a user of this tenant

    # a user without Internal/subscriber gets no DevPortal scope -> 403 on the REST API
    r = await client.post("/oauth2/token", auth=(cid, csec),
                          data={**form, "username": f"no.role@{TENANT}", "password": "Rahasia#2024"})
    assert r.status_code == 200 and r.json()["scope"] == "default"
    r = await client.get(f"{DP}/applications", headers=bearer(r.json()["access_token"]))
    assert r.status_code == 403 and r.json()["code"] == 900910

    # forced password reset blocks the login until the user sets a password
    r = await client.post("/oauth2/token", auth=(cid, csec),
                          data={**form, "username": f"must.change@{TENANT}", "password": "Rahasia#2024"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    sb.set_user_password("must.change", "Baru#2024x")
    r = await client.post("/oauth2/token", auth=(cid, csec),
                          data={**form, "username": f"must.change@{TENANT}", "password": "Baru#2024x"})
    assert r.status_code == 200

    # refresh_token grant, and revocation
    r = await client.post("/oauth2/token", auth=(cid, csec),
                          data={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    assert r.status_code == 200
    fresh = r.json()["access_token"]
    r = await client.get(f"{DP}/applications", headers=bearer(tok["access_token"]))
    assert r.status_code == 401  # the refreshed-away token is gone
    r = await client.get(f"{DP}/applications", headers=bearer(fresh))
    assert r.status_code == 200
    r = await client.post("/oauth2/revoke", auth=(cid, csec), data={"token": fresh})
    assert r.status_code == 200
    r = await client.get(f"{DP}/applications", headers=bearer(fresh))
    assert r.status_code == 401 and r.json()["code"] == 900901

    # DevPortal without credentials / with Basic auth
    r = await client.get(f"{DP}/applications")
    assert r.status_code == 401 and r.json()["code"] == 900902
    r = await client.get(f"{DP}/applications", headers=basic(f"subscriber.one@{TENANT}", "Rahasia#2024"))
    assert r.status_code == 200
    assert not sb.violations


# ---------------------------------------------------------------- procedure B
async def test_procedure_b_full_sequence(sb: WSO2Sandbox, client: httpx.AsyncClient):
    token = await subscriber(sb, client)

    r = await client.get(f"{DP}/throttling-policies/application")
    assert r.status_code == 200 and "Unlimited" in [p["name"] for p in r.json()["list"]]
    r = await client.get(f"{DP}/key-managers", headers=bearer(token))
    assert r.json()["list"][0]["id"] == KEY_MANAGER_ID
    assert r.json()["list"][0]["tokenEndpoint"] == sb.token_url
    r = await client.get(f"{DP}/apis", params={"query": "name:simpeg"})
    assert r.status_code == 200 and [a["id"] for a in r.json()["list"]] == [API_SIMPEG_ID]
    r = await client.get(f"{DP}/apis/{API_SIMPEG_ID}")
    api = r.json()
    assert api["authorizationHeader"] == "AuthorizationSPLP"
    assert "api_key" in api["securityScheme"]
    assert api["businessInformation"]["businessOwner"] == "BKPSDM"
    assert api["endpointURLs"][0]["URLs"]["https"] == sb.gateway_url(API_SIMPEG_ID)

    r = await create_app(client, token)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "APPROVED" and app["owner"] == f"dinkes.simpus@{TENANT}"
    assert r.headers["Location"].endswith(app["applicationId"])
    app_id = app["applicationId"]
    r = await create_app(client, token)
    assert r.status_code == 409 and r.json()["code"] == 900301
    r = await client.get(f"{DP}/applications", params={"query": "simpus"}, headers=bearer(token))
    assert [a["applicationId"] for a in r.json()["list"]] == [app_id]

    r = await generate_keys(client, token, app_id)
    assert r.status_code == 200, r.text
    keys = r.json()
    assert keys["consumerKey"] and keys["consumerSecret"] and keys["token"]["accessToken"]
    assert keys["keyType"] == "PRODUCTION" and keys["keyManager"] == "Resident Key Manager"
    r = await generate_keys(client, token, app_id)
    assert r.status_code == 409 and r.json()["message"] == "Application already Registered"
    r = await client.get(f"{DP}/applications/{app_id}/oauth-keys", headers=bearer(token))
    assert r.json()["count"] == 1 and r.json()["list"][0]["keyMappingId"] == keys["keyMappingId"]

    # client_credentials at the token endpoint, Basic and form client authentication
    r = await client.post("/oauth2/token", auth=(keys["consumerKey"], keys["consumerSecret"]),
                          data={"grant_type": "client_credentials"})
    assert r.status_code == 200 and r.json()["scope"] == "default" and "refresh_token" not in r.json()
    access = r.json()["access_token"]
    r = await client.post("/oauth2/token", data={"grant_type": "client_credentials",
                                                 "client_id": keys["consumerKey"],
                                                 "client_secret": keys["consumerSecret"]})
    assert r.status_code == 200

    gw = sb.gateway_url(API_SIMPEG_ID) + "/pegawai/123"
    r = await client.get(gw, headers=bearer(access, "AuthorizationSPLP"))
    assert r.status_code == 401 and r.json()["code"] == "900901"  # not subscribed yet

    r = await subscribe(client, token, app_id, API_SIMPEG_ID)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"] == "UNBLOCKED" and sub["apiInfo"]["name"] == "SIMPEG"
    r = await subscribe(client, token, app_id, API_SIMPEG_ID)
    assert r.status_code == 409
    r = await subscribe(client, token, app_id, API_DUKCAPIL_ID, policy="Gold")
    assert r.status_code == 400  # tier not offered by that API
    r = await client.get(f"{DP}/subscriptions", params={"applicationId": app_id}, headers=bearer(token))
    assert [s["subscriptionId"] for s in r.json()["list"]] == [sub["subscriptionId"]]

    key = await api_key(client, token, app_id)

    r = await client.get(gw, headers=bearer(access, "AuthorizationSPLP"))
    assert r.status_code == 200 and r.json()["authenticatedBy"] == "oauth2"
    assert r.json()["resource"] == "/pegawai/123"
    r = await client.get(gw, headers=bearer(access))
    assert r.status_code == 200
    r = await client.get(gw, headers=bearer(keys["token"]["accessToken"], "AuthorizationSPLP"))
    assert r.status_code == 200
    r = await client.get(gw, headers={"apikey": key})
    assert r.status_code == 200 and r.json()["authenticatedBy"] == "api_key"
    r = await client.get(gw)
    assert r.status_code == 401 and r.json()["code"] == "900902"
    r = await client.get(gw, headers=bearer("not-a-token"))
    assert r.status_code == 401 and r.json() == {
        "code": "900901", "message": "Invalid Credentials",
        "description": "Make sure you have provided the correct security credentials"}
    # the same token is refused by an API the app is not subscribed to
    r = await client.get(sb.gateway_url(API_DUKCAPIL_ID) + "/nik/3271", headers=bearer(access))
    assert r.status_code == 401 and r.json()["code"] == "900901"

    # applications of other users are invisible
    other = await subscriber(sb, client, "other.user")
    r = await client.get(f"{DP}/applications/{app_id}", headers=bearer(other))
    assert r.status_code == 404
    assert not sb.violations
    assert not sb.errors


async def test_gateway_strict_header_and_403_option(client: httpx.AsyncClient):
    async with WSO2Sandbox(tenant=TENANT, admin_password=ADMIN_PW, gateway_strict_auth_header=True,
                           unsubscribed_status=403) as sb2:
        async with httpx.AsyncClient(base_url=sb2.base_url, timeout=5) as c:
            token, app_id, keys = await app_with_keys(sb2, c)
            assert (await subscribe(c, token, app_id, API_SIMPEG_ID)).status_code == 201
            gw = sb2.gateway_url(API_SIMPEG_ID) + "/x"
            access = keys["token"]["accessToken"]
            assert (await c.get(gw, headers=bearer(access, "AuthorizationSPLP"))).status_code == 200
            assert (await c.get(gw, headers=bearer(access))).status_code == 401  # only the custom header counts
            r = await c.get(sb2.gateway_url(API_DUKCAPIL_ID) + "/x", headers=bearer(access))
            assert r.status_code == 403 and r.json()["code"] == "900908"
        assert not sb2.violations


async def test_api_key_embeds_subscriptions_at_generation(sb: WSO2Sandbox, client: httpx.AsyncClient):
    token, app_id, keys = await app_with_keys(sb, client)
    assert (await subscribe(client, token, app_id, API_SIMPEG_ID)).status_code == 201
    old_key = await api_key(client, token, app_id)
    payload = json.loads(base64.urlsafe_b64decode(old_key.split(".")[1] + "=="))
    assert [a["name"] for a in payload["subscribedAPIs"]] == ["SIMPEG"]

    assert (await subscribe(client, token, app_id, API_DUKCAPIL_ID)).status_code == 201
    dukcapil = sb.gateway_url(API_DUKCAPIL_ID) + "/nik/3271"
    simpeg = sb.gateway_url(API_SIMPEG_ID) + "/pegawai"
    assert (await client.get(simpeg, headers={"apikey": old_key})).status_code == 200
    r = await client.get(dukcapil, headers={"apikey": old_key})
    assert r.status_code == 401 and r.json()["code"] == "900901"

    new_key = await api_key(client, token, app_id)
    assert (await client.get(dukcapil, headers={"apikey": new_key})).status_code == 200
    assert (await client.get(dukcapil, params={"apikey": new_key})).status_code == 200  # query form
    assert (await client.get(simpeg, headers={"apikey": new_key})).status_code == 200

    # an API without the api_key security scheme refuses keys but accepts tokens
    assert (await subscribe(client, token, app_id, API_KESEHATAN_ID)).status_code == 201
    third_key = await api_key(client, token, app_id)
    kesehatan = sb.gateway_url(API_KESEHATAN_ID) + "/stats"
    assert (await client.get(kesehatan, headers={"apikey": third_key})).status_code == 401
    assert (await client.get(kesehatan, headers=bearer(keys["token"]["accessToken"]))).status_code == 200

    # a tampered key fails
    head, body, sig = new_key.split(".")
    assert (await client.get(simpeg, headers={"apikey": f"{head}.{body}.{sig[:-2]}AA"})).status_code == 401
    assert not sb.violations


async def test_regenerate_secret_invalidates_old_secret(sb: WSO2Sandbox, client: httpx.AsyncClient):
    token, app_id, keys = await app_with_keys(sb, client)
    ck, old = keys["consumerKey"], keys["consumerSecret"]
    r = await client.post(f"{DP}/applications/{app_id}/oauth-keys/{keys['keyMappingId']}/regenerate-secret",
                          headers=bearer(token))
    assert r.status_code == 200 and r.json()["consumerKey"] == ck
    new = r.json()["consumerSecret"]
    assert new != old
    r = await client.post("/oauth2/token", auth=(ck, old), data={"grant_type": "client_credentials"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await client.post("/oauth2/token", auth=(ck, new), data={"grant_type": "client_credentials"})
    assert r.status_code == 200

    url = f"{DP}/applications/{app_id}/oauth-keys/{keys['keyMappingId']}/generate-token"
    body = {"consumerSecret": new, "validityPeriod": 600, "scopes": ["default"], "revokeToken": "",
            "grantType": "CLIENT_CREDENTIALS", "additionalProperties": {}}
    r = await client.post(url, headers=bearer(token), json=body)
    assert r.status_code == 200 and r.json()["validityTime"] == 600 and r.json()["accessToken"]
    r = await client.post(url, headers=bearer(token), json={**body, "consumerSecret": old})
    assert r.status_code == 400
    assert not sb.violations


async def test_revoke_api_key_and_delete_application(sb: WSO2Sandbox, client: httpx.AsyncClient):
    token, app_id, keys = await app_with_keys(sb, client)
    assert (await subscribe(client, token, app_id, API_SIMPEG_ID)).status_code == 201
    key = await api_key(client, token, app_id)
    gw = sb.gateway_url(API_SIMPEG_ID) + "/pegawai"
    assert (await client.get(gw, headers={"apikey": key})).status_code == 200
    r = await client.post(f"{DP}/applications/{app_id}/api-keys/PRODUCTION/revoke", headers=bearer(token),
                          json={"apikey": key})
    assert r.status_code == 200 and r.content == b""
    r = await client.get(gw, headers={"apikey": key})
    assert r.status_code == 401 and "revoked" in r.json()["description"]

    # deleting the application kills its credentials
    access = keys["token"]["accessToken"]
    assert (await client.get(gw, headers=bearer(access))).status_code == 200
    assert (await client.delete(f"{DP}/applications/{app_id}", headers=bearer(token))).status_code == 200
    assert (await client.get(gw, headers=bearer(access))).status_code == 401
    r = await client.post("/oauth2/token", auth=(keys["consumerKey"], keys["consumerSecret"]),
                          data={"grant_type": "client_credentials"})
    assert r.status_code == 401
    assert not sb.violations


# ---------------------------------------------------------------- workflows
async def test_subscription_approval_workflow(sb: WSO2Sandbox, client: httpx.AsyncClient):
    sb.subscription_approval = True
    token, app_id, keys = await app_with_keys(sb, client)
    access = keys["token"]["accessToken"]

    r = await subscribe(client, token, app_id, API_SIMPEG_ID)
    assert r.status_code == 202 and r.json()["workflowStatus"] == "CREATED"
    sub_id = r.headers["Location"].rsplit("/", 1)[1]
    assert json.loads(r.json()["jsonPayload"])["subscriptionId"] == sub_id
    r = await client.get(f"{DP}/subscriptions/{sub_id}", headers=bearer(token))
    assert r.json()["status"] == "ON_HOLD"
    assert ("subscription", sub_id) in sb.pending_workflows()
    gw = sb.gateway_url(API_SIMPEG_ID) + "/x"
    assert (await client.get(gw, headers=bearer(access))).status_code == 401
    sb.approve(sub_id)
    r = await client.get(f"{DP}/subscriptions/{sub_id}", headers=bearer(token))
    assert r.json()["status"] == "UNBLOCKED"
    assert (await client.get(gw, headers=bearer(access))).status_code == 200

    r = await subscribe(client, token, app_id, API_DUKCAPIL_ID)
    sub2 = r.headers["Location"].rsplit("/", 1)[1]
    sb.reject(sub2)
    r = await client.get(f"{DP}/subscriptions/{sub2}", headers=bearer(token))
    assert r.json()["status"] == "REJECTED"
    assert (await client.get(sb.gateway_url(API_DUKCAPIL_ID) + "/x", headers=bearer(access))).status_code == 401
    with pytest.raises(KeyError):
        sb.approve(sub2)  # no longer pending
    assert not sb.violations


async def test_application_approval_workflow(sb: WSO2Sandbox, client: httpx.AsyncClient):
    sb.app_approval = True
    token = await subscriber(sb, client)
    r = await create_app(client, token)
    assert r.status_code == 202 and r.json()["workflowStatus"] == "CREATED"
    app_id = r.headers["Location"].rsplit("/", 1)[1]
    r = await client.get(f"{DP}/applications/{app_id}", headers=bearer(token))
    assert r.json()["status"] == "CREATED"
    assert (await subscribe(client, token, app_id, API_SIMPEG_ID)).status_code == 400
    sb.approve(app_id)
    r = await client.get(f"{DP}/applications/{app_id}", headers=bearer(token))
    assert r.json()["status"] == "APPROVED"
    assert (await subscribe(client, token, app_id, API_SIMPEG_ID)).status_code == 201

    r = await create_app(client, token, "Ditolak-App")
    rejected = r.headers["Location"].rsplit("/", 1)[1]
    sb.reject(rejected)
    r = await client.get(f"{DP}/applications/{rejected}", headers=bearer(token))
    assert r.json()["status"] == "REJECTED"
    assert (await subscribe(client, token, rejected, API_SIMPEG_ID)).status_code == 400
    assert not sb.violations


# ---------------------------------------------------------------- clock, faults, contract
async def test_token_expiry_with_injected_clock():
    clock = [1_700_000_000.0]
    async with WSO2Sandbox(tenant=TENANT, admin_password=ADMIN_PW, now=lambda: clock[0],
                           token_validity=600) as sb2:
        async with httpx.AsyncClient(base_url=sb2.base_url, timeout=5) as c:
            token, app_id, keys = await app_with_keys(sb2, c)
            assert (await subscribe(c, token, app_id, API_SIMPEG_ID)).status_code == 201
            r = await c.post("/oauth2/token", auth=(keys["consumerKey"], keys["consumerSecret"]),
                             data={"grant_type": "client_credentials"})
            access = r.json()["access_token"]
            assert r.json()["expires_in"] == 3600  # validityTime given at generate-keys
            gw = sb2.gateway_url(API_SIMPEG_ID) + "/x"
            assert (await c.get(gw, headers=bearer(access))).status_code == 200

            clock[0] += 599
            assert (await c.get(f"{DP}/applications", headers=bearer(token))).status_code == 200
            clock[0] += 2
            r = await c.get(f"{DP}/applications", headers=bearer(token))  # REST token: 600 s
            assert r.status_code == 401 and r.json()["code"] == 900901 and "expired" in r.json()["description"]
            assert (await c.get(gw, headers=bearer(access))).status_code == 200
            clock[0] += 3000
            r = await c.get(gw, headers=bearer(access))
            assert r.status_code == 401 and r.json()["description"] == "Access token expired"

            r = await c.post("/oauth2/token", auth=(keys["consumerKey"], keys["consumerSecret"]),
                             data={"grant_type": "client_credentials"})
            fresh = r.json()["access_token"]
            assert (await c.get(gw, headers=bearer(fresh))).status_code == 200
            assert sb2.expire_tokens() >= 1
            assert (await c.get(gw, headers=bearer(fresh))).status_code == 401
        assert not sb2.violations


async def test_fault_injection_and_call_log(sb: WSO2Sandbox, client: httpx.AsyncClient):
    token = await subscriber(sb, client)

    sb.fail_next(r"/applications$", status=503)
    r = await create_app(client, token)
    assert r.status_code == 503 and "<html>" in r.text
    assert sb.applications == {}  # not processed
    sb.fail_next(r"/applications$", status=500, method="POST")
    r = await create_app(client, token)
    assert r.status_code == 500 and r.json()["code"] == 500

    # a lost response: processed, reply replaced -> a retry sees 409
    sb.fail_next(r"/applications$", status=502, process=True)
    r = await create_app(client, token)
    assert r.status_code == 502 and len(sb.applications) == 1
    r = await create_app(client, token)
    assert r.status_code == 409
    posts = sb.calls_matching("POST", r"/applications$")
    assert [c.status for c in posts] == [503, 500, 502, 409]
    assert [c.fault for c in posts] == ["fail", "fail", "fail", None]
    assert posts[0].request_body["name"] == "SIMPUS-Dinkes"
    assert posts[-1].response_body["code"] == 900301

    # delay -> client timeout; the slow request is still processed afterwards
    sb.delay_next(r"/applications$", 0.6)
    with pytest.raises(httpx.TimeoutException):
        await client.post(f"{DP}/applications", headers=bearer(token), timeout=0.2, json={
            "name": "Lambat-App", "throttlingPolicy": "Unlimited"})
    pending = sb.calls_matching("POST", r"/applications$")[-1]
    assert pending.request_body["name"] == "Lambat-App"
    assert "Lambat-App" not in {a.name for a in sb.applications.values()}  # still sleeping
    for _ in range(50):
        if pending.status is not None:
            break
        await asyncio.sleep(0.05)
    assert pending.status == 201
    assert {a.name for a in sb.applications.values()} == {"SIMPUS-Dinkes", "Lambat-App"}
    assert not sb.violations


async def test_contract_violations_are_reported(sb: WSO2Sandbox, client: httpx.AsyncClient):
    token = await subscriber(sb, client)
    # strict (default): a request body that breaks the contract is answered 500
    r = await client.post(f"{DP}/applications", headers=bearer(token),
                          json={"throttlingPolicy": "Unlimited", "description": "no name"})
    assert r.status_code == 500 and r.json()["message"] == "Sandbox contract violation"
    assert len(sb.violations) == 1
    v = sb.violations[0]
    assert (v.operation, v.direction) == ("devportal.POST.applications", "request")
    assert "'name' is a required property" in v.message
    assert sb.applications == {}
    sb.violations.clear()

    # non-strict: recorded, and the server answers as WSO2 would (400)
    with sb.lenient() as caught:
        r = await client.post(f"{DP}/applications", headers=bearer(token),
                              json={"name": "x" * 101, "throttlingPolicy": "Unlimited"})
        assert r.status_code == 400
        r = await client.post("/oauth2/token", json={"grant_type": "client_credentials"})
        assert r.status_code in (400, 401)
    assert [v.operation for v in caught] == ["devportal.POST.applications", "oauth2.POST.token"]
    assert "too long" in caught[0].message and "x-www-form-urlencoded" in caught[1].message
    assert not sb.violations

    # responses are checked too: corrupt the catalogue so the API list breaks its schema
    sb.apis[API_SIMPEG_ID]["version"] = 1
    r = await client.get(f"{DP}/apis")
    assert r.status_code == 500
    assert sb.violations[-1].direction == "response" and "version" in sb.violations[-1].message


async def test_options_updates_and_helpers():
    attrs = [{"attribute": "Instansi", "required": "true", "hidden": "false", "type": "text",
              "description": "Nama perangkat daerah", "tooltip": "Perangkat daerah pemilik aplikasi"}]
    async with WSO2Sandbox(tenant=TENANT, admin_username="admin", admin_password=ADMIN_PW, hash_secrets=True,
                           application_attributes=attrs, role_display_with_domain=True) as sb2:
        assert sb2.admin_username == ADMIN
        sb2.create_user("bappeda.app", "Rahasia#2024")
        token = sb2.issue_user_token(f"bappeda.app@{TENANT}")
        async with httpx.AsyncClient(base_url=sb2.base_url, timeout=5) as c:
            r = await c.get(f"{DP}/settings/application-attributes", headers=bearer(token))
            assert r.json()["list"][0]["attribute"] == "Instansi"
            r = await create_app(c, token, "SIPD-Bappeda")
            assert r.status_code == 400  # required custom attribute missing
            r = await c.post(f"{DP}/applications", headers=bearer(token), json={
                "name": "SIPD-Bappeda", "throttlingPolicy": "10PerMin", "attributes": {"Instansi": "Bappeda"}})
            assert r.status_code == 201 and r.json()["hashEnabled"] is True
            app = r.json()
            app_id = app["applicationId"]
            r = await c.put(f"{DP}/applications/{app_id}", headers=bearer(token),
                            json={**app, "name": "SIPD-Bappeda-2", "throttlingPolicy": "Unlimited"})
            assert r.status_code == 200 and r.json()["name"] == "SIPD-Bappeda-2"
            keys = (await generate_keys(c, token, app_id, "SANDBOX")).json()
            assert keys["consumerSecret"]  # shown once...
            r = await c.get(f"{DP}/applications/{app_id}/oauth-keys/{keys['keyMappingId']}", headers=bearer(token))
            assert r.status_code == 200 and "consumerSecret" not in r.json()  # ...then hidden
            r = await c.get(f"{SCIM}/Roles", params={"filter": "displayName eq subscriber"},
                            headers=basic(ADMIN, ADMIN_PW))
            assert r.json()["Resources"][0]["displayName"] == "Internal/subscriber"
            r = await c.get(f"{DP}/throttling-policies/bogus")
            assert r.status_code == 400
        assert not sb2.violations and not sb2.errors


def test_schema_files_are_self_contained_and_loadable():
    reg = SchemaRegistry(SCHEMA_DIR)
    assert len(reg.operations) == 31
    assert (SCHEMA_DIR / "README.md").is_file()
    for f in SCHEMA_DIR.glob("*.json"):
        doc = json.loads(f.read_text())
        assert set(doc) >= {"operation", "method", "path", "request", "responses"}

        def walk(node, parent_is_properties=False):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref" and not parent_is_properties:
                        raise AssertionError(f"unresolved $ref in {f.name}")
                    walk(v, k == "properties" and not parent_is_properties)
            elif isinstance(node, list):
                for x in node:
                    walk(x)

        walk(doc["request"])
        walk(doc["responses"])
    scim_error = json.loads((SCHEMA_DIR / "scim2.POST.Users.json").read_text())["responses"]["400"]
    assert "schemas" in scim_error["required"] and "schema" not in scim_error["required"]


async def test_the_portal_address_says_it_is_the_sandbox(sb: WSO2Sandbox, client: httpx.AsyncClient):
    """The bot's messages point to SPLP_BASE_URL (splp.layanan.go.id in production); in the sandbox
    a person who opens it reads, in Indonesian, that this is the sandbox's SPLP."""
    sb.create_user("dinkes.simpus", "Rahasia#2026")
    for path in ("/", "/devportal/apis?tenant=" + TENANT):
        r = await client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        page = r.text
        assert '<html lang="id">' in page and "Portal SPLP — sandbox" in page
        assert "Ini bukan portal SPLP yang sebenarnya" in page and "splp.layanan.go.id" in page
        assert f"Tenant: <b>{TENANT}</b>" in page and "terdaftar: <b>1</b>" in page
        assert all(api["name"] in page for api in sb.apis.values())
    r = await client.get("/nothing")  # the API server's other addresses answer as WSO2 does
    assert r.status_code == 404 and r.json()["message"] == "Not Found"
    assert (await client.post("/", json={})).status_code == 404
    assert not sb.violations
