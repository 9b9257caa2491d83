"""The WSO2 adapter end to end against the stateful WSO2 sandbox (sandbox/wso2.py):
procedure A (SCIM account + role), then procedure B (catalogue, application, keys, token,
subscription, API key, regeneration, revocation, deletion), with contract checks on every
exchange (``not sandbox.violations``) and fault injection for the no-duplicate rules."""

from __future__ import annotations

import httpx
import pytest

from splp import AccountSpec, AppSpec, BadCredentials, Conflict, Login, Pending
from splp.wso2 import WSO2Adapter

sandbox_mod = pytest.importorskip("sandbox.wso2")
WSO2Sandbox = sandbox_mod.WSO2Sandbox
API_SIMPEG_ID = sandbox_mod.API_SIMPEG_ID
API_KESEHATAN_ID = sandbox_mod.API_KESEHATAN_ID

TENANT = "kotabogor.go.id"
ADMIN_PW = "admin-pass-Sandbox1"
SPEC = AccountSpec("dinkes.simpus", "Budi", "Santoso", "cp.dinkes@kotabogor.go.id", "+6281234567890")


@pytest.fixture
async def sandbox():
    box = WSO2Sandbox(tenant=TENANT, admin_password=ADMIN_PW)
    await box.start()
    try:
        yield box
    finally:
        await box.stop()
    assert not box.errors


@pytest.fixture
async def adapter_for():
    made: list[WSO2Adapter] = []

    def make(box, **kw) -> WSO2Adapter:
        cfg = dict(base_url=box.base_url, tenant_domain=TENANT, admin_username="admin",
                   admin_password=ADMIN_PW, backoff_base=0.01, timeout=5.0)
        cfg.update(kw)
        a = WSO2Adapter(**cfg)
        made.append(a)
        return a

    yield make
    for a in made:
        await a.aclose()


async def _account_login(adapter: WSO2Adapter) -> Login:
    account = await adapter.create_account(SPEC)
    assert account.role_assigned and account.initial_password
    return Login(account.username_with_tenant, account.initial_password)


async def test_procedure_a_then_b_end_to_end(sandbox, adapter_for):
    adapter = adapter_for(sandbox)

    # Procedure A: account + DevPortal role
    account = await adapter.create_account(SPEC)
    assert account.username_with_tenant == f"dinkes.simpus@{TENANT}"
    assert account.must_change_password and not account.credentials_sent_by_portal
    assert "Internal/subscriber" in sandbox.user_roles("dinkes.simpus")
    with pytest.raises(Conflict) as e:
        await adapter.create_account(SPEC)
    assert "sudah ada" in e.value.message_id
    login = Login(account.username_with_tenant, account.initial_password)

    # Catalogue
    apis = await adapter.list_apis(login)
    assert {a.id for a in apis} >= {API_SIMPEG_ID, API_KESEHATAN_ID}
    anonymous = await adapter.list_apis(None, "SIMPEG")
    assert [a.id for a in anonymous] == [API_SIMPEG_ID]
    api = await adapter.get_api(login, API_SIMPEG_ID)
    assert api.auth_header == "AuthorizationSPLP" and api.supports_api_key
    assert "Unlimited" in await adapter.list_tiers(login)

    # Application, keys + token, subscription, API key
    app = await adapter.create_application(login, AppSpec("SIMPUS-Dinkes", description="SIMPUS Puskesmas"))
    assert app.status == "APPROVED"
    assert (await adapter.find_application(login, "SIMPUS-Dinkes")).id == app.id
    with pytest.raises(Conflict):
        await adapter.create_application(login, AppSpec("SIMPUS-Dinkes"))
    keys = await adapter.generate_keys(login, app.id)
    assert keys.consumer_key and keys.consumer_secret and keys.access_token and keys.key_mapping_id
    sub = await adapter.subscribe(login, app.id, API_SIMPEG_ID, "Gold")
    assert sub.status == "UNBLOCKED" and sub.id
    assert [s.api_id for s in await adapter.list_subscriptions(login, app.id)] == [API_SIMPEG_ID]
    with pytest.raises(Conflict):
        await adapter.subscribe(login, app.id, API_SIMPEG_ID, "Gold")
    api_key = await adapter.generate_api_key(login, app.id)
    assert api_key.key

    # The credentials work at the gateway, with the API's own auth header.
    async with httpx.AsyncClient() as gw:
        url = sandbox.gateway_url(API_SIMPEG_ID) + "/pegawai"
        r = await gw.get(url, headers={api.auth_header: f"Bearer {keys.access_token}"})
        assert r.status_code == 200, r.text
        r = await gw.get(url, headers={"apikey": api_key.key})
        assert r.status_code == 200, r.text

        # Regeneration: new secret -> new token; revoked API key stops working.
        new = await adapter.regenerate_secret(login, app.id, keys.key_mapping_id)
        assert new.consumer_key == keys.consumer_key and new.consumer_secret != keys.consumer_secret
        token = await adapter.generate_token(login, app.id, keys.key_mapping_id, new.consumer_secret)
        r = await gw.get(url, headers={api.auth_header: f"Bearer {token.access_token}"})
        assert r.status_code == 200, r.text
        await adapter.revoke_api_key(login, app.id, api_key.key)
        r = await gw.get(url, headers={"apikey": api_key.key})
        assert r.status_code in (401, 403)

    # Unsubscribe and delete
    await adapter.unsubscribe(login, sub.id)
    assert await adapter.list_subscriptions(login, app.id) == []
    assert await adapter.delete_application(login, app.id) == "DELETED"
    assert await adapter.find_application(login, "SIMPUS-Dinkes") is None

    # One DCR and one password grant for the whole session (token cached).
    assert len(sandbox.calls_matching("POST", r"/client-registration/")) == 1
    assert len(sandbox.calls_matching("POST", r"^/oauth2/token$")) == 1
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_ask_password_flow(sandbox, adapter_for):
    account = await adapter_for(sandbox, password_flow="ask_password").create_account(SPEC)
    assert account.initial_password is None and account.credentials_sent_by_portal
    assert sandbox.user("dinkes.simpus").ask_password
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_wrong_admin_password_is_bad_credentials(sandbox, adapter_for):
    with pytest.raises(BadCredentials) as e:
        await adapter_for(sandbox, admin_password="wrong-password").create_account(SPEC)
    assert e.value.message_id.startswith("Kredensial admin SPLP ditolak")
    assert not sandbox.violations


async def test_lost_responses_never_create_twice(sandbox, adapter_for):
    adapter = adapter_for(sandbox)
    # The server applies each create but the reply is lost (502 from the proxy).
    sandbox.fail_next(r"/scim2/Users$", 502, method="POST", process=True)
    sandbox.fail_next(r"/scim2/Roles/", 502, method="PATCH", process=True)
    login = await _account_login(adapter)
    assert len([u for u in sandbox.users.values() if u.user_name == "dinkes.simpus"]) == 1
    assert len(sandbox.calls_matching("POST", r"/scim2/Users$")) == 1
    assert len(sandbox.calls_matching("PATCH", r"/scim2/Roles/")) == 1

    sandbox.fail_next(r"/applications$", 500, method="POST", process=True)
    app = await adapter.create_application(login, AppSpec("SIMPUS-Dinkes"))
    assert [a.id for a in sandbox.applications.values()] == [app.id]

    sandbox.fail_next(r"/generate-keys$", 504, method="POST", process=True)
    keys = await adapter.generate_keys(login, app.id)
    assert keys.consumer_secret and keys.access_token
    assert len(sandbox.calls_matching("POST", r"/generate-keys$")) == 1

    sandbox.fail_next(r"/subscriptions$", 503, method="POST", process=True)
    sub = await adapter.subscribe(login, app.id, API_SIMPEG_ID)
    assert [s.id for s in sandbox.subscriptions.values()] == [sub.id]
    assert len(sandbox.calls_matching("POST", r"/subscriptions$")) == 1
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_timeout_with_late_reply_does_not_duplicate(sandbox, adapter_for):
    adapter = adapter_for(sandbox, timeout=0.3)
    login = await _account_login(adapter)
    sandbox.delay_next(r"/applications$", 1.0, method="POST", process_first=True)
    app = await adapter.create_application(login, AppSpec("SIMPUS-Dinkes"))
    assert [a.id for a in sandbox.applications.values()] == [app.id]
    assert len(sandbox.calls_matching("POST", r"/applications$")) == 1
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_hashed_secret_after_lost_key_reply_is_regenerated(sandbox, adapter_for):
    sandbox.hash_secrets = True
    adapter = adapter_for(sandbox)
    login = await _account_login(adapter)
    app = await adapter.create_application(login, AppSpec("SIMPUS-Dinkes"))
    sandbox.fail_next(r"/generate-keys$", 502, method="POST", process=True)
    keys = await adapter.generate_keys(login, app.id)
    assert keys.consumer_secret and keys.access_token
    token = await adapter.generate_token(login, app.id, keys.key_mapping_id, keys.consumer_secret)
    assert token.access_token
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_expired_token_is_refreshed_once(sandbox, adapter_for):
    adapter = adapter_for(sandbox)
    login = await _account_login(adapter)
    app = await adapter.create_application(login, AppSpec("SIMPUS-Dinkes"))
    assert sandbox.expire_tokens() >= 1
    assert (await adapter.get_application(login, app.id)).id == app.id
    grants = [c for c in sandbox.calls_matching("POST", r"^/oauth2/token$")]
    assert len(grants) == 2  # password grant, then one refresh
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_approval_workflows_give_pending_states(sandbox, adapter_for):
    sandbox.app_approval = True
    sandbox.subscription_approval = True
    adapter = adapter_for(sandbox)
    login = await _account_login(adapter)

    app = await adapter.create_application(login, AppSpec("SIMPUS-Dinkes"))
    assert app.status == "CREATED" and app.pending and app.id in sandbox.applications
    with pytest.raises(Pending):
        await adapter.generate_keys(login, app.id)
    with pytest.raises(Pending):
        await adapter.subscribe(login, app.id, API_SIMPEG_ID)

    sandbox.approve(app.id)
    keys = await adapter.generate_keys(login, app.id)
    assert keys.consumer_key
    sub = await adapter.subscribe(login, app.id, API_SIMPEG_ID)
    assert sub.status == "ON_HOLD" and sub.pending and sub.id
    sandbox.approve(sub.id)
    assert (await adapter.list_subscriptions(login, app.id))[0].status == "UNBLOCKED"
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_wrong_user_password_is_bad_credentials(sandbox, adapter_for):
    adapter = adapter_for(sandbox)
    login = await _account_login(adapter)
    with pytest.raises(BadCredentials):
        await adapter.list_tiers(Login(login.username_with_tenant, "Wrong-Password-123"))
    assert not sandbox.violations, [str(v) for v in sandbox.violations]


async def test_a_session_grant_resumes_without_the_password_and_follows_its_renewal(sandbox, adapter_for):
    """A pending approval is checked later from a stored grant, not the password; each use
    renews the refresh token (the old one stops working), and a dead grant asks for the password."""
    first = adapter_for(sandbox)
    login = await _account_login(first)
    app = await first.create_application(login, AppSpec(name="Grant-App"))
    grant = first.session_grant(login)
    assert grant is not None and login.password not in repr(grant)

    other = adapter_for(sandbox)  # another instance, later: no password, only the grant
    resumed = Login(login.username_with_tenant, "", grant)
    assert (await other.get_application(resumed, app.id)).name == "Grant-App"
    renewed = other.session_grant(resumed)
    assert renewed is not None and renewed.refresh_token != grant.refresh_token
    sandbox.expire_tokens()  # the access token lapses: the renewed grant refreshes again
    again = Login(login.username_with_tenant, "", renewed)
    assert (await other.get_application(again, app.id)).name == "Grant-App"

    third = adapter_for(sandbox)  # the superseded grant was revoked by its renewal
    with pytest.raises(BadCredentials) as err:
        await third.get_application(Login(login.username_with_tenant, "", grant), app.id)
    assert "kata sandi" in str(err.value)
    assert adapter_for(sandbox, devportal_auth="basic").session_grant(login) is None
    assert not sandbox.violations


async def test_two_instances_take_turns_with_one_grant(sandbox, adapter_for):
    """Instances share the grant through the database: the one that renewed it last stored the
    newest refresh token, and the other adopts it instead of using its own revoked pair."""
    first = adapter_for(sandbox)
    login = await _account_login(first)
    app = await first.create_application(login, AppSpec(name="Two-Instances"))
    stored = first.session_grant(login)  # what the bot keeps in the database
    a, b = adapter_for(sandbox), adapter_for(sandbox)
    for who in (a, b, a, b, a):
        sandbox.expire_tokens()  # every turn has to refresh
        resumed = Login(login.username_with_tenant, "", stored)
        assert (await who.get_application(resumed, app.id)).name == "Two-Instances"
        stored = who.session_grant(resumed)
        # A stale grant read before the other's renewal does not undo this instance's newer one.
        assert (await who.get_application(resumed, app.id)).name == "Two-Instances"
    assert not sandbox.violations
