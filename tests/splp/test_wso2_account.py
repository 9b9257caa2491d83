"""Procedure A over SCIM 2.0 (WSO2 APIM 4.x), against a scripted MockTransport."""

from __future__ import annotations

import base64
import json
import string

import httpx
import pytest

from splp import AccountSpec, BadCredentials, Conflict, Invalid, SPLPError, Timeout, Unavailable
from splp.wso2 import PASSWORD_SYMBOLS, generate_password

from .conftest import ADMIN_PW, BASE, ROLE_LIST, SCIM, TENANT, js, list_response, scim_error, user_resource

SPEC = AccountSpec("dinkes.simpus", "Budi", "Santoso", "cp@bogorkota.go.id", "+6281234567890")
ADMIN_BASIC = "Basic " + base64.b64encode(f"admin@{TENANT}:{ADMIN_PW}".encode()).decode()


def role_routes(router, user_id="u-1"):
    router.on("GET", f"{SCIM}/Roles", js(200, ROLE_LIST, content_type="application/scim+json"))
    router.on("PATCH", f"{SCIM}/Roles/role-sub",
              js(200, {"id": "role-sub", "displayName": "subscriber"}, content_type="application/scim+json"))


async def test_create_account_happy_path_request_exactly_as_wso2_expects(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", js(201, user_resource(), content_type="application/scim+json"))
    role_routes(router)
    adapter = make_adapter()

    account = await adapter.create_account(SPEC)

    assert router.sequence() == [f"POST {SCIM}/Users", f"GET {SCIM}/Roles", f"PATCH {SCIM}/Roles/role-sub"]
    post = router.calls("POST", f"{SCIM}/Users")[0]
    assert str(post.url) == f"{BASE}/t/{TENANT}/scim2/Users"
    assert post.headers["Authorization"] == ADMIN_BASIC
    assert post.headers["Content-Type"] == "application/scim+json"
    body = json.loads(post.content)
    assert body == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "dinkes.simpus",
        "password": account.initial_password,
        "name": {"givenName": "Budi", "familyName": "Santoso"},
        "emails": [{"value": "cp@bogorkota.go.id", "primary": True}],
        "phoneNumbers": [{"type": "mobile", "value": "+6281234567890"}],
    }
    roles = router.calls("GET", f"{SCIM}/Roles")[0]
    assert roles.url.params["filter"] == "displayName eq subscriber"
    assert roles.headers["Authorization"] == ADMIN_BASIC
    patch = router.calls("PATCH", f"{SCIM}/Roles/role-sub")[0]
    assert patch.headers["Content-Type"] == "application/scim+json"
    assert json.loads(patch.content) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "users", "value": [{"value": "u-1"}]}],
    }
    assert account.username_with_tenant == f"dinkes.simpus@{TENANT}"
    assert account.user_id == "u-1"
    assert account.must_change_password and not account.credentials_sent_by_portal
    assert account.role_assigned


async def test_ask_password_flow_marks_the_extension_and_returns_no_password(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", js(201, user_resource(), content_type="application/scim+json"))
    role_routes(router)
    adapter = make_adapter(password_flow="ask_password")

    account = await adapter.create_account(SPEC)

    body = json.loads(router.calls("POST", f"{SCIM}/Users")[0].content)
    urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", urn]
    assert body[urn] == {"askPassword": True}
    assert account.initial_password is None
    assert account.credentials_sent_by_portal and not account.must_change_password


async def test_user_exists_409_is_conflict_with_indonesian_message(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", scim_error(409, "User with the name dinkes.simpus already exists in the system"))
    adapter = make_adapter()

    with pytest.raises(Conflict) as e:
        await adapter.create_account(SPEC)

    assert e.value.code == "conflict" and e.value.status == 409
    assert "sudah ada di SPLP" in e.value.message_id
    assert f"dinkes.simpus@{TENANT}" in e.value.message_id
    assert e.value.details == ("User with the name dinkes.simpus already exists in the system",)
    assert len(router.calls("POST", f"{SCIM}/Users")) == 1


async def test_admin_401_is_bad_credentials(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", scim_error(401))
    with pytest.raises(BadCredentials) as e:
        await make_adapter().create_account(SPEC)
    assert e.value.code == "bad_credentials" and e.value.status == 401
    assert e.value.message_id.startswith("Kredensial admin SPLP ditolak")


async def test_400_is_invalid_with_the_scim_detail(router, make_adapter):
    router.on("POST", f"{SCIM}/Users",
              scim_error(400, "The provided email address is not valid", "invalidValue"))
    with pytest.raises(Invalid) as e:
        await make_adapter().create_account(SPEC)
    assert e.value.code == "invalid" and e.value.status == 400
    assert "tidak valid" in e.value.message_id
    assert "The provided email address is not valid" in e.value.message_id
    assert e.value.details == ("The provided email address is not valid",)


async def test_invalid_spec_is_refused_before_any_call(router, make_adapter):
    bad = AccountSpec("x", "", "Santoso", "not-an-email", "0812")
    with pytest.raises(Invalid) as e:
        await make_adapter().create_account(bad)
    assert len(e.value.details) == 4
    assert router.requests == []


async def test_5xx_on_create_looks_for_the_user_and_does_not_create_twice(router, make_adapter):
    # The first POST fails with 502 although WSO2 did create the user.
    router.on("POST", f"{SCIM}/Users", scim_error(502))
    router.on("GET", f"{SCIM}/Users", js(200, list_response([user_resource("u-9")]),
                                         content_type="application/scim+json"))
    role_routes(router)

    account = await make_adapter().create_account(SPEC)

    assert router.sequence()[:2] == [f"POST {SCIM}/Users", f"GET {SCIM}/Users"]
    assert len(router.calls("POST", f"{SCIM}/Users")) == 1
    assert router.calls("GET", f"{SCIM}/Users")[0].url.params["filter"] == "userName eq dinkes.simpus"
    assert account.user_id == "u-9" and account.initial_password


async def test_5xx_then_not_found_creates_again_once(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", scim_error(503), js(201, user_resource(), content_type="application/scim+json"))
    router.on("GET", f"{SCIM}/Users", js(200, list_response([]), content_type="application/scim+json"))
    role_routes(router)

    account = await make_adapter().create_account(SPEC)

    assert router.sequence()[:3] == [f"POST {SCIM}/Users", f"GET {SCIM}/Users", f"POST {SCIM}/Users"]
    first, second = router.calls("POST", f"{SCIM}/Users")
    assert first.content == second.content  # the same password both times
    assert account.user_id == "u-1"


async def test_409_after_an_uncertain_attempt_uses_the_existing_user(router, make_adapter):
    # POST times out; the look misses (not yet visible); the second POST says 409; look again finds it.
    router.on("POST", f"{SCIM}/Users", httpx.ReadTimeout("timed out"), scim_error(409, "exists"))
    router.on("GET", f"{SCIM}/Users", js(200, list_response([])),
              js(200, list_response([user_resource("u-7")])))
    role_routes(router)

    account = await make_adapter().create_account(SPEC)

    assert account.user_id == "u-7"
    assert len(router.calls("POST", f"{SCIM}/Users")) == 2


async def test_timeout_on_create_after_all_attempts_is_timeout_error(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", httpx.ReadTimeout("timed out"))
    router.on("GET", f"{SCIM}/Users", js(200, list_response([])))

    with pytest.raises(Timeout) as e:
        await make_adapter().create_account(SPEC)

    assert e.value.code == "timeout" and e.value.retryable
    assert "batas waktu" in e.value.message_id
    assert router.sequence() == [f"POST {SCIM}/Users", f"GET {SCIM}/Users", f"POST {SCIM}/Users",
                                 f"GET {SCIM}/Users", f"POST {SCIM}/Users"]


async def test_look_failure_stops_instead_of_creating_blindly(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", scim_error(500))
    router.on("GET", f"{SCIM}/Users", scim_error(503))

    with pytest.raises(Unavailable):
        await make_adapter().create_account(SPEC)

    assert len(router.calls("POST", f"{SCIM}/Users")) == 1
    assert len(router.calls("GET", f"{SCIM}/Users")) == 3  # the look itself is an idempotent GET


async def test_role_failure_keeps_the_account_and_its_password(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", js(201, user_resource(), content_type="application/scim+json"))
    router.on("GET", f"{SCIM}/Roles", js(200, list_response([])))  # role not there
    adapter = make_adapter()

    account = await adapter.create_account(SPEC)

    assert not account.role_assigned and account.initial_password
    role_routes(router)
    fixed = await adapter.assign_subscriber_role(account)
    assert fixed.role_assigned and fixed.initial_password == account.initial_password


async def test_role_patch_5xx_checks_membership_before_patching_again(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", js(201, user_resource(), content_type="application/scim+json"))
    router.on("GET", f"{SCIM}/Roles", js(200, ROLE_LIST))
    router.on("PATCH", f"{SCIM}/Roles/role-sub", scim_error(500))
    member = user_resource(roles=[{"value": "role-sub", "display": "subscriber"}])
    router.on("GET", f"{SCIM}/Users/u-1", js(200, member))

    account = await make_adapter().create_account(SPEC)

    assert account.role_assigned
    assert len(router.calls("PATCH", f"{SCIM}/Roles/role-sub")) == 1


def test_generated_password_strength():
    seen = set()
    for _ in range(500):
        pw = generate_password()
        assert 16 <= len(pw) <= 30
        assert any(c in string.ascii_uppercase for c in pw)
        assert any(c in string.ascii_lowercase for c in pw)
        assert any(c in string.digits for c in pw)
        assert any(c in PASSWORD_SYMBOLS for c in pw)
        assert not any(c.isspace() or c in "\"'\\`" for c in pw)
        seen.add(pw)
    assert len(seen) == 500
    assert len(generate_password(16)) == 16
    with pytest.raises(ValueError):
        generate_password(12)  # below the adapter's floor (BSSN asks for at least 12; we use 16+)


async def test_errors_are_splp_errors_with_status(router, make_adapter):
    router.on("POST", f"{SCIM}/Users", scim_error(403))
    with pytest.raises(SPLPError) as e:
        await make_adapter().create_account(SPEC)
    assert e.value.code == "forbidden" and e.value.status == 403
