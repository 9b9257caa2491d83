"""In-process, stateful fake of the WSO2 API Manager 4.x endpoints SPLP uses (the SOP's step A5 and procedure B).

One aiohttp server (127.0.0.1, ephemeral port) plays every WSO2 host at once:

* SCIM 2.0 user management of one tenant: ``/t/{tenant}/scim2/Users`` and ``/Roles``
  (Basic auth of a user with the ``admin`` role, or a Bearer token with ``internal_*`` scopes);
* the resident key manager: DCR ``/client-registration/v0.17/register``, ``/oauth2/token``
  (password, client_credentials, refresh_token) and ``/oauth2/revoke``;
* the Developer Portal REST API v3 under ``/api/am/devportal/v3`` (APIs, throttling policies,
  key managers, applications, keys, API keys, subscriptions) with optional approval workflows;
* a gateway ``/t/{tenant}/{context}/{version}/...`` for every seeded API, checking access
  tokens (``Authorization`` or the API's ``authorizationHeader``) and ``apikey`` JWTs.
* for a person who opens its address (``/``, ``/devportal/...``: the bot's messages name it as
  the SPLP portal), an Indonesian page saying that this is the sandbox (``sandbox/wso2_portal.py``).

Contract checking: every request body and every response body of an operation listed in
``sandbox/wso2_schemas/`` (JSON Schemas derived from the official WSO2 spec files, see the
README there) is validated with ``jsonschema``. Problems are appended to
:attr:`WSO2Sandbox.violations`; with ``strict=True`` (default) the offending exchange is
answered ``500`` with a "Sandbox contract violation" message instead.

    async with WSO2Sandbox(tenant="kotacontoh.go.id") as wso2:
        httpx.AsyncClient(base_url=wso2.base_url) ...
        assert not wso2.violations

Test helpers: :meth:`~WSO2Sandbox.approve` / :meth:`~WSO2Sandbox.reject` (workflows),
:meth:`~WSO2Sandbox.fail_next`, :meth:`~WSO2Sandbox.delay_next`,
:meth:`~WSO2Sandbox.expire_tokens`, :meth:`~WSO2Sandbox.lenient`, :attr:`~WSO2Sandbox.calls`
(call log), :meth:`~WSO2Sandbox.create_user`, :meth:`~WSO2Sandbox.issue_user_token`.
Time comes from the injectable ``now`` callable so tests can expire tokens without sleeping.

Everything runs on the event loop that called :meth:`WSO2Sandbox.start`; the synchronous
helpers must be called from that loop's thread.

Choices where WSO2 behaviour is unknown or configurable are documented at the attribute or
method concerned (search for "Choice:").
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jsonschema
from aiohttp import web

from sandbox.wso2_portal import is_portal_path, portal_page

__all__ = [
    "API_DUKCAPIL_ID",
    "API_KESEHATAN_ID",
    "API_SIMPEG_ID",
    "DEVPORTAL_SCOPES",
    "KEY_MANAGER_ID",
    "Call",
    "SchemaRegistry",
    "Violation",
    "WSO2Sandbox",
]

SCHEMA_DIR = Path(__file__).with_name("wso2_schemas")
DEVPORTAL_BASE = "/api/am/devportal/v3"

KEY_MANAGER_ID = "7a0c2f1e-5b3d-4c6a-9e8f-0d1c2b3a4f5e"
KEY_MANAGER_NAME = "Resident Key Manager"
API_SIMPEG_ID = "3f6b1c2a-1001-4c1a-8a01-5b0d0c0a0001"
API_DUKCAPIL_ID = "3f6b1c2a-1002-4c1a-8a01-5b0d0c0a0002"
API_KESEHATAN_ID = "3f6b1c2a-1003-4c1a-8a01-5b0d0c0a0003"

DEVPORTAL_SCOPES = (
    "apim:subscribe",
    "apim:app_manage",
    "apim:sub_manage",
    "apim:api_key",
    "apim:app_import_export",
    "apim:store_settings",
    "apim:sub_alert_manage",
    "apim:admin",
    "openid",
)
SCIM_SCOPES = (
    "internal_user_mgt_create",
    "internal_user_mgt_list",
    "internal_user_mgt_view",
    "internal_user_mgt_delete",
    "internal_user_mgt_update",
    "internal_role_mgt_view",
    "internal_role_mgt_update",
)
# Role -> REST API scopes, after APIM 4.x's default tenant-conf "RESTAPIScopes".
_ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(DEVPORTAL_SCOPES) | frozenset(SCIM_SCOPES),
    "Internal/subscriber": frozenset(
        {
            "apim:subscribe",
            "apim:app_manage",
            "apim:sub_manage",
            "apim:api_key",
            "apim:store_settings",
            "apim:sub_alert_manage",
        }
    ),
    "Internal/everyone": frozenset({"openid"}),
}
SEED_ROLES = (
    "admin",
    "Internal/subscriber",
    "Internal/creator",
    "Internal/publisher",
    "Internal/devops",
    "Internal/everyone",
)

SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_WSO2_SCHEMA = "urn:scim:wso2:schema"
SCIM_ROLE_SCHEMA = "urn:ietf:params:scim:schemas:extension:2.0:Role"
SCIM_LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

_APP_TIERS = (
    ("10PerMin", 10, 60000, "Allows 10 request per minute"),
    ("20PerMin", 20, 60000, "Allows 20 request per minute"),
    ("50PerMin", 50, 60000, "Allows 50 request per minute"),
    ("Unlimited", 2147483647, 0, "Allows unlimited requests"),
)
_SUB_TIERS = (
    ("Bronze", 1000, 60000, "Allows 1000 requests per minute"),
    ("Silver", 2000, 60000, "Allows 2000 requests per minute"),
    ("Gold", 5000, 60000, "Allows 5000 requests per minute"),
    ("Unlimited", 2147483647, 0, "Allows unlimited requests"),
)
_KM_GRANT_TYPES = (
    "client_credentials",
    "password",
    "refresh_token",
    "authorization_code",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
)
_TOKEN_GRANTS = ("password", "client_credentials", "refresh_token")
_ALNUM = string.ascii_letters + string.digits
_NGINX_HTML = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
            504: "Gateway Time-out"}


def _seed_apis(tenant: str) -> list[dict[str, Any]]:
    """The seeded catalogue: three APIs of a Pemda's agencies, all in the sandbox's tenant."""
    return [
        {
            "id": API_SIMPEG_ID,
            "name": "SIMPEG",
            "description": "Data kepegawaian ASN pemerintah daerah",
            "context": "simpeg",
            "version": "1.0.0",
            "provider": f"bkpsdm@{tenant}",
            "agency": "BKPSDM",
            "agency_email": f"bkpsdm@{tenant}",
            "authorizationHeader": "AuthorizationSPLP",
            "securityScheme": ["oauth2", "api_key"],
            "tiers": ["Unlimited", "Gold"],
            "tags": ["kepegawaian", "asn"],
        },
        {
            "id": API_DUKCAPIL_ID,
            "name": "Dukcapil-NIK",
            "description": "Verifikasi NIK penduduk",
            "context": "dukcapil-nik",
            "version": "v1",
            "provider": f"disdukcapil@{tenant}",
            "agency": "Disdukcapil",
            "agency_email": f"disdukcapil@{tenant}",
            "authorizationHeader": "Authorization",
            "securityScheme": ["oauth2", "api_key"],
            "tiers": ["Unlimited", "Bronze"],
            "tags": ["kependudukan"],
        },
        {
            "id": API_KESEHATAN_ID,
            "name": "SatuData-Kesehatan",
            "description": "Statistik layanan kesehatan (OAuth2 only, API keys not enabled)",
            "context": "satudata/kesehatan",
            "version": "1.0",
            "provider": f"dinkes@{tenant}",
            "agency": "Dinas Kesehatan",
            "agency_email": f"dinkes@{tenant}",
            "authorizationHeader": "Authorization",
            "securityScheme": ["oauth2"],
            "tiers": ["Unlimited"],
            "tags": ["kesehatan", "satu-data"],
        },
    ]


# ====================================================================== contract registry
@dataclass
class Violation:
    """A contract problem: a request or response body that does not match its schema."""

    operation: str
    direction: str  # "request" | "response"
    method: str
    path: str
    status: int | None
    message: str

    def __str__(self) -> str:
        where = f" (status {self.status})" if self.status is not None else ""
        return f"{self.direction} {self.method} {self.path} [{self.operation}]{where}: {self.message}"


@dataclass
class _Operation:
    name: str
    method: str
    path: str
    scopes: tuple[str, ...]
    request_content_type: str | None
    request_required: bool
    request: jsonschema.protocols.Validator | None
    responses: dict[str, jsonschema.protocols.Validator | None]


class SchemaRegistry:
    """Loads ``sandbox/wso2_schemas/*.json`` and validates bodies against them.

    Immutable once loaded; :meth:`load` shares one instance per directory and process
    (checking ~200 schemas takes a noticeable fraction of a second)."""

    _cache: dict[Path, SchemaRegistry] = {}

    @classmethod
    def load(cls, directory: Path = SCHEMA_DIR) -> SchemaRegistry:
        key = Path(directory).resolve()
        if key not in cls._cache:
            cls._cache[key] = cls(key)
        return cls._cache[key]

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self.operations: dict[str, _Operation] = {}
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        for f in sorted(directory.glob("*.json")):
            d = json.loads(f.read_text(encoding="utf-8"))
            self.operations[d["operation"]] = _Operation(
                name=d["operation"],
                method=d["method"],
                path=d["path"],
                scopes=tuple(d.get("scopes") or ()),
                request_content_type=d.get("request_content_type"),
                request_required=bool(d.get("request_required")),
                request=self._validator(d.get("request")),
                responses={k: self._validator(v) for k, v in d["responses"].items()},
            )

    def _validator(self, schema: dict | None) -> jsonschema.protocols.Validator | None:
        if schema is None:
            return None
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[key] = cls(schema)
        return self._validators[key]

    @staticmethod
    def _errors(validator: jsonschema.protocols.Validator, instance: Any) -> list[str]:
        out = []
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
            where = "/".join(str(p) for p in e.absolute_path) or "<root>"
            out.append(f"{where}: {e.message}")
        return out

    def check_request(self, op: _Operation, body: Any, present: bool) -> list[str]:
        if op.request is None:
            return []
        if not present:
            return ["request body is required but missing"] if op.request_required else []
        return self._errors(op.request, body)

    def check_response(self, op: _Operation, status: int, body: Any) -> list[str]:
        key = str(status)
        if key not in op.responses:
            return [f"status {status} is not declared for this operation"]
        validator = op.responses[key]
        if validator is None:
            return [] if body is None else [f"status {status} declares no body but one was sent"]
        if body is None:
            return [f"status {status} requires a body but none was sent"]
        return self._errors(validator, body)


# ====================================================================== state
@dataclass
class Call:
    """One HTTP exchange as seen by the sandbox (appended on arrival, completed on reply)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    request_body: Any
    operation: str | None
    status: int | None = None
    response_body: Any = None
    fault: str | None = None  # "fail" when the reply was injected by fail_next
    started_at: float = 0.0


@dataclass
class _User:
    id: str
    user_name: str  # without tenant domain
    password_hash: str | None
    given_name: str | None
    family_name: str | None
    emails: list[dict]
    phone_numbers: list[dict]
    extension: dict[str, Any]
    created: str
    last_modified: str
    ask_password: bool = False
    force_password_reset: bool = False
    account_locked: bool = False


@dataclass
class _Role:
    id: str
    name: str  # with domain, e.g. "Internal/subscriber"; "admin" has none
    users: set[str] = field(default_factory=set)


@dataclass
class _Client:
    client_id: str
    secret: str
    owner: str  # full username user@tenant
    grant_types: list[str]
    kind: str  # "dcr" | "app"
    client_name: str = ""
    callback: str = ""
    saas: bool = True
    app_id: str | None = None
    key_type: str | None = None
    token_type: str = "JWT"
    validity: int | None = None


@dataclass
class _Token:
    value: str
    kind: str  # "access" | "refresh"
    client_id: str
    subject: str  # full username
    scopes: list[str]
    issued_at: float
    expires_at: float | None
    grant: str
    app_id: str | None = None
    key_type: str | None = None
    pair: str | None = None  # the matching refresh/access token
    revoked: bool = False


@dataclass
class _KeyMapping:
    id: str
    key_type: str
    client_id: str
    callback: str
    grant_types: list[str]
    scopes: list[str]
    validity: int
    additional: dict[str, Any]


@dataclass
class _Application:
    id: str
    name: str
    owner: str
    throttling_policy: str
    description: str
    token_type: str
    status: str  # APPROVED | CREATED (pending) | REJECTED
    groups: list[str]
    attributes: dict[str, str]
    keys: dict[str, _KeyMapping] = field(default_factory=dict)  # keyType -> mapping
    status_before_delete: str | None = None  # while a deletion awaits approval (status DELETE_PENDING)


@dataclass
class _Subscription:
    id: str
    app_id: str
    api_id: str
    throttling_policy: str
    requested_policy: str
    status: str


@dataclass
class _ApiKey:
    jti: str
    app_id: str
    key_type: str
    api_ids: frozenset[str]
    issued_at: float
    expires_at: float | None
    revoked: bool = False


@dataclass
class _Principal:
    username: str
    scopes: frozenset[str]
    token: _Token | None = None


@dataclass
class _Rule:
    regex: re.Pattern
    method: str | None
    count: int
    status: int = 500
    body: Any = None
    seconds: float = 0.0
    process: bool = False


class _Reply(Exception):
    """Raised by handlers to answer immediately (errors)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 content_type: str = "application/json"):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


@dataclass
class _Ctx:
    request: web.Request
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    raw: bytes
    op: _Operation | None


@dataclass
class _Route:
    method: str
    regex: re.Pattern
    handler: Callable
    op: str | None
    content_type: str = "application/json"  # of the reply


# ====================================================================== helpers
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _rand(n: int = 28) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 10_000)
    return f"pbkdf2_sha256$10000${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    _, rounds, salt, digest = stored.split("$")
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(rounds))
    return hmac.compare_digest(got.hex(), digest)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _dp_error(status: int, message: str, description: str = "", code: int | None = None) -> _Reply:
    return _Reply(status, {
        "code": code if code is not None else status,
        "message": message,
        "description": description or message,
        "moreInfo": "",
        "error": [],
    })


def _scim_error(status: int, detail: str, scim_type: str | None = None) -> _Reply:
    body: dict[str, Any] = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _Reply(status, body, content_type="application/scim+json")


def _workflow_reply(payload: dict[str, Any], location: str) -> _Reply:
    """202 + WorkflowResponse: the object waits for an admin's approval (application, subscription,
    deletion)."""
    return _Reply(202, {"workflowStatus": "CREATED", "jsonPayload": json.dumps(payload)}, {"Location": location})


def _oauth_error(status: int, error: str, description: str) -> _Reply:
    return _Reply(status, {"error": error, "error_description": description})


def _path_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    rx = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{rx}/?$")


_FILTER_RE = re.compile(
    r'^\s*([A-Za-z][\w.:]*)\s+(eq|ne|co|sw|ew)\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$', re.IGNORECASE
)


def _parse_filter(expr: str, allowed: tuple[str, ...]) -> tuple[str, str, str]:
    m = _FILTER_RE.match(expr or "")
    if not m or m.group(1).lower() not in {a.lower() for a in allowed}:
        raise _scim_error(400, f"Invalid filter: {expr!r}. Supported: "
                          f"{' / '.join(allowed)} with eq, ne, co, sw, ew.", "invalidFilter")
    value = m.group(3) if m.group(3) is not None else m.group(4)
    return m.group(1), m.group(2).lower(), value.replace('\\"', '"')


def _match_op(op: str, actual: str, wanted: str) -> bool:
    a, w = actual.lower(), wanted.lower()
    return {"eq": a == w, "ne": a != w, "co": w in a, "sw": a.startswith(w), "ew": a.endswith(w)}[op]


# ====================================================================== the sandbox
class WSO2Sandbox:
    """Stateful WSO2 API Manager 4.x fake for one tenant. See the module docstring.

    Constructor arguments:

    * ``tenant`` -- tenant domain (``/t/{tenant}/...`` paths, ``user@tenant`` logins).
    * ``admin_username`` / ``admin_password`` -- the tenant admin (``admin@tenant`` or just
      ``admin``), seeded with the ``admin`` and ``Internal/subscriber`` roles.
    * ``app_approval`` / ``subscription_approval`` -- approval workflows: creation answers
      ``202`` + WorkflowResponse and the object stays pending (application status
      ``CREATED``, subscription ``ON_HOLD``) until :meth:`approve` / :meth:`reject`.
    * ``deletion_approval`` -- the application-deletion workflow: ``DELETE`` answers ``202`` and
      the application stays (status ``DELETE_PENDING``) until approved (removed) or rejected.
    * ``token_validity`` -- default access-token lifetime in seconds.
    * ``now`` -- clock (seconds since the epoch), default :func:`time.time`.
    * ``strict`` -- answer contract violations with 500 (they are always recorded).
    * ``devportal_basic_auth`` -- accept ``Authorization: Basic user@tenant:pw`` on the
      DevPortal API (APIM's BasicAuthenticationInterceptor), scopes from the user's roles.
    * ``hash_secrets`` -- consumer secrets are shown only when generated/regenerated.
    * ``application_attributes`` -- DevPortal custom application attributes
      (``[{"attribute": "...", "required": "true", ...}]``); required ones are enforced.
    * ``unsubscribed_status`` -- gateway status for a valid credential without an active
      subscription. Choice: 401 ``900901 Invalid Credentials`` (what the Pemda note in
      research §1 observed); real gateways may answer 403 ``900908`` -- pass 403 for that.
    * ``gateway_strict_auth_header`` -- Choice: by default the gateway accepts a token in
      ``Authorization`` *or* the API's ``authorizationHeader``; WSO2 itself reads only the
      configured header, which ``True`` enforces.
    * ``role_display_with_domain`` -- Choice: SCIM ``/Roles`` lists internal roles without the
      ``Internal/`` domain (``"subscriber"``), as APIM 4.x's role management does; ``True``
      shows ``"Internal/subscriber"``. Filters accept both forms either way.
    * ``username_regex`` / ``password_regex`` -- WSO2's default JDBC user-store policies.
    * ``apis`` -- replace the seeded catalogue (same dict shape as :func:`_seed_apis`).
    """

    def __init__(
        self,
        *,
        tenant: str = "kotacontoh.go.id",
        admin_username: str | None = None,
        admin_password: str = "admin-pass",
        app_approval: bool = False,
        subscription_approval: bool = False,
        deletion_approval: bool = False,
        token_validity: int = 3600,
        now: Callable[[], float] = time.time,
        strict: bool = True,
        devportal_basic_auth: bool = True,
        hash_secrets: bool = False,
        application_attributes: list[dict[str, str]] | None = None,
        unsubscribed_status: int = 401,
        gateway_strict_auth_header: bool = False,
        role_display_with_domain: bool = False,
        username_regex: str = r"^[\S]{3,30}$",
        password_regex: str = r"^[\S]{5,30}$",
        apis: list[dict[str, Any]] | None = None,
        schema_dir: Path = SCHEMA_DIR,
    ) -> None:
        self.tenant = tenant
        admin = admin_username or f"admin@{tenant}"
        self.admin_username = admin if "@" in admin else f"{admin}@{tenant}"
        self.admin_password = admin_password
        self.app_approval = app_approval
        self.subscription_approval = subscription_approval
        self.deletion_approval = deletion_approval
        self.token_validity = token_validity
        self.now = now
        self.strict = strict
        self.devportal_basic_auth = devportal_basic_auth
        self.hash_secrets = hash_secrets
        self.application_attributes = list(application_attributes or [])
        self.unsubscribed_status = unsubscribed_status
        self.gateway_strict_auth_header = gateway_strict_auth_header
        self.role_display_with_domain = role_display_with_domain
        self.username_regex = re.compile(username_regex)
        self.password_regex = re.compile(password_regex)

        self.schemas = SchemaRegistry.load(schema_dir)
        self.violations: list[Violation] = []
        self.calls: list[Call] = []
        self.errors: list[str] = []  # unexpected exceptions inside the sandbox

        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._faults: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._signing_key = secrets.token_bytes(32)

        self.users: dict[str, _User] = {}
        self.roles: dict[str, _Role] = {}
        self.clients: dict[str, _Client] = {}
        self.tokens: dict[str, _Token] = {}
        self.applications: dict[str, _Application] = {}
        self.subscriptions: dict[str, _Subscription] = {}
        self.api_keys: dict[str, _ApiKey] = {}
        self.apis: dict[str, dict[str, Any]] = {a["id"]: dict(a) for a in (apis or _seed_apis(tenant))}
        self._created_at = {a: int(self.now() * 1000) for a in self.apis}

        for name in SEED_ROLES:
            rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"wso2-sandbox/{tenant}/role/{name}"))
            self.roles[rid] = _Role(rid, name)
        self.create_user(self.admin_username, admin_password, roles=("admin", "Internal/subscriber"),
                         given_name="Tenant", family_name="Admin")
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.base_url = f"http://{host}:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> WSO2Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ URLs
    @property
    def devportal_url(self) -> str:
        return self.base_url + DEVPORTAL_BASE

    @property
    def token_url(self) -> str:
        return self.base_url + "/oauth2/token"

    @property
    def revoke_url(self) -> str:
        return self.base_url + "/oauth2/revoke"

    @property
    def dcr_url(self) -> str:
        return self.base_url + "/client-registration/v0.17/register"

    @property
    def scim_url(self) -> str:
        return f"{self.base_url}/t/{self.tenant}/scim2"

    def api_context(self, api_id: str) -> str:
        """The API's ``context`` as the DevPortal shows it (``/t/{tenant}/{context}``)."""
        return f"/t/{self.tenant}/{self.apis[api_id]['context']}"

    def gateway_url(self, api_id: str) -> str:
        """Gateway base URL of an API: ``{base}/t/{tenant}/{context}/{version}``."""
        return f"{self.base_url}{self.api_context(api_id)}/{self.apis[api_id]['version']}"

    def api_by_name(self, name: str) -> dict[str, Any]:
        for a in self.apis.values():
            if a["name"] == name:
                return a
        raise KeyError(name)

    # ------------------------------------------------------------------ test helpers
    def fail_next(self, path_regex: str, status: int = 500, count: int = 1, *, method: str | None = None,
                  body: Any = None, process: bool = False) -> None:
        """Answer the next ``count`` requests whose path matches ``path_regex`` (``re.search``)
        with ``status``. Default bodies: WSO2's JSON Error for 500, an nginx HTML page for
        502/503/504 (what a reverse proxy in front of WSO2 sends). With ``process=True`` the
        request is processed first (state changes) and only the reply is replaced -- a lost
        response. Injected replies are not contract-checked."""
        self._faults.append(_Rule(re.compile(path_regex), method.upper() if method else None, count,
                                  status=status, body=body, process=process))

    def delay_next(self, path_regex: str, seconds: float, count: int = 1, *, method: str | None = None,
                   process_first: bool = False) -> None:
        """Delay the next ``count`` matching requests by ``seconds`` (to provoke client
        timeouts). By default the delay comes before processing -- like a slow server, the
        request is still processed after the delay even if the client gave up. With
        ``process_first=True`` the state changes immediately and only the reply is late."""
        self._delays.append(_Rule(re.compile(path_regex), method.upper() if method else None, count,
                                  seconds=seconds, process=process_first))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def expire_tokens(self, *, include_api_keys: bool = False) -> int:
        """Make every current access token expired (refresh tokens stay valid). Returns how
        many were expired."""
        t = self.now() - 1
        n = 0
        for tok in self.tokens.values():
            if tok.kind == "access" and (tok.expires_at is None or tok.expires_at > t):
                tok.expires_at = t
                n += 1
        if include_api_keys:
            for k in self.api_keys.values():
                k.expires_at = t
        return n

    @contextlib.contextmanager
    def lenient(self) -> Iterator[list[Violation]]:
        """Temporarily non-strict; violations recorded inside the block are moved from
        :attr:`violations` into the yielded list (for tests that send bad bodies on purpose)."""
        saved, start = self.strict, len(self.violations)
        self.strict = False
        caught: list[Violation] = []
        try:
            yield caught
        finally:
            self.strict = saved
            caught.extend(self.violations[start:])
            del self.violations[start:]

    def calls_matching(self, method: str | None = None, path_regex: str | None = None) -> list[Call]:
        return [c for c in self.calls
                if (method is None or c.method == method.upper())
                and (path_regex is None or re.search(path_regex, c.path))]

    # ------------------------------------------------------------------ snapshot
    STATE = ("users", "roles", "clients", "tokens", "applications", "subscriptions", "api_keys",
             "_signing_key", "_created_at")

    def snapshot(self) -> dict[str, Any]:
        """The whole server state as JSON-ready data (for the sandbox command, which keeps SPLP's
        users, applications, keys and subscriptions across restarts)."""
        from sandbox.snapshot import encode

        return {"version": 1, "tenant": self.tenant, "attrs": {n: encode(getattr(self, n)) for n in self.STATE}}

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with a `snapshot`; ValueError (state untouched) when it does not fit."""
        from sandbox.snapshot import decode

        if state.get("version") != 1 or state.get("tenant") != self.tenant:
            raise ValueError("saved for another version or tenant")
        values = {n: decode(state["attrs"][n]) for n in self.STATE}
        for n, v in values.items():
            setattr(self, n, v)

    def pending_workflows(self) -> list[tuple[str, str]]:
        """``[(kind, id)]`` of objects waiting for approval (``application``/``subscription``)."""
        out = [("application", a.id) for a in self.applications.values() if a.status == "CREATED"]
        out += [("deletion", a.id) for a in self.applications.values() if a.status == "DELETE_PENDING"]
        out += [("subscription", s.id) for s in self.subscriptions.values() if s.status == "ON_HOLD"]
        return out

    def approve(self, obj_id: str) -> None:
        """Approve a pending application (-> APPROVED) or subscription (-> UNBLOCKED)."""
        self._decide(obj_id, approve=True)

    def reject(self, obj_id: str) -> None:
        """Reject a pending application or subscription (status REJECTED; it stays listed)."""
        self._decide(obj_id, approve=False)

    def _decide(self, obj_id: str, approve: bool) -> None:
        app = self.applications.get(obj_id)
        if app is not None and app.status == "CREATED":
            app.status = "APPROVED" if approve else "REJECTED"
            return
        if app is not None and app.status == "DELETE_PENDING":
            if approve:
                self._remove_app(app)
            else:
                app.status = app.status_before_delete or "APPROVED"
            return
        sub = self.subscriptions.get(obj_id)
        if sub is not None and sub.status == "ON_HOLD":
            sub.status = "UNBLOCKED" if approve else "REJECTED"
            return
        raise KeyError(f"no pending workflow for {obj_id!r}")

    def create_user(self, user_name: str, password: str | None, *, roles: tuple[str, ...] = ("Internal/subscriber",),
                    given_name: str | None = None, family_name: str | None = None,
                    email: str | None = None, force_password_reset: bool = False) -> _User:
        """Seed a user directly (no HTTP). ``user_name`` with or without ``@tenant``."""
        local = self._local_name(user_name) or user_name
        ts = self._iso()
        user = _User(id=str(uuid.uuid4()), user_name=local,
                     password_hash=_hash_password(password) if password else None,
                     given_name=given_name, family_name=family_name,
                     emails=[{"value": email, "primary": True}] if email else [], phone_numbers=[],
                     extension={}, created=ts, last_modified=ts, ask_password=password is None,
                     force_password_reset=force_password_reset)
        self.users[user.id] = user
        for r in roles:
            self._role_by_name(r).users.add(user.id)
        return user

    def user(self, user_name: str) -> _User | None:
        """Look a user up by name (with or without ``@tenant``, case-insensitive)."""
        local = (self._local_name(user_name) or user_name).lower()
        return next((u for u in self.users.values() if u.user_name.lower() == local), None)

    def set_user_password(self, user_name: str, password: str) -> None:
        """The user sets a new password (clears askPassword / forcePasswordReset)."""
        u = self.user(user_name)
        if u is None:
            raise KeyError(user_name)
        u.password_hash = _hash_password(password)
        u.ask_password = u.force_password_reset = False

    def user_roles(self, user_name: str) -> list[str]:
        u = self.user(user_name)
        if u is None:
            raise KeyError(user_name)
        return sorted(r.name for r in self.roles.values() if u.id in r.users)

    def role_id(self, name: str) -> str:
        return self._role_by_name(name).id

    def issue_user_token(self, username: str, scopes: list[str] | tuple[str, ...] = DEVPORTAL_SCOPES,
                         validity: int | None = None) -> str:
        """Mint a REST-API access token for a user without DCR (scopes limited by roles)."""
        u = self.user(username)
        if u is None:
            raise KeyError(username)
        client = next((c for c in self.clients.values() if c.kind == "dcr" and c.client_name == "__sandbox__"), None)
        if client is None:
            client = _Client(_rand(), _rand(), self.admin_username, ["password", "refresh_token"], "dcr",
                             client_name="__sandbox__")
            self.clients[client.client_id] = client
        granted = self._grant_scopes(u, list(scopes))
        return self._issue(client, self._full_name(u), granted, "password", validity)[0].value

    # ------------------------------------------------------------------ internals: users/roles
    def _local_name(self, login: str) -> str | None:
        suffix = "@" + self.tenant
        if login.lower().endswith(suffix.lower()) and len(login) > len(suffix):
            return login[: -len(suffix)]
        return None

    def _full_name(self, user: _User) -> str:
        return f"{user.user_name}@{self.tenant}"

    def _role_by_name(self, name: str) -> _Role:
        want = self._norm_role(name)
        for r in self.roles.values():
            if self._norm_role(r.name) == want:
                return r
        raise KeyError(name)

    @staticmethod
    def _norm_role(name: str) -> str:
        n = name.strip()
        if n.lower().startswith("internal/"):
            n = n[len("internal/"):]
        return n.lower()

    def _role_display(self, role: _Role) -> str:
        if self.role_display_with_domain:
            return role.name
        return role.name.split("/", 1)[1] if role.name.lower().startswith("internal/") else role.name

    def _roles_of(self, user: _User) -> set[str]:
        return {r.name for r in self.roles.values() if user.id in r.users} | {"Internal/everyone"}

    def _allowed_scopes(self, user: _User) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for r in self._roles_of(user):
            out |= _ROLE_SCOPES.get(r, frozenset())
        return out

    def _grant_scopes(self, user: _User, requested: list[str]) -> list[str]:
        allowed = self._allowed_scopes(user)
        granted = [s for s in dict.fromkeys(requested) if s in allowed]
        return granted or ["default"]

    def _authenticate_user(self, login: str, password: str) -> _User | None:
        local = self._local_name(login)
        if local is None:
            return None
        u = self.user(local)
        if u is None or u.account_locked or not _check_password(password, u.password_hash):
            return None
        return u

    def _iso(self) -> str:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    # ------------------------------------------------------------------ internals: tokens
    def _make_jwt_like(self, claims: dict[str, Any]) -> str:
        header = {"x5t#S256": _b64url(secrets.token_bytes(32)), "kid": "sandbox", "typ": "at+jwt", "alg": "RS256"}
        head = _b64url(json.dumps(header, separators=(",", ":")).encode())
        body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{head}.{body}.{_b64url(secrets.token_bytes(64))}"

    def _issue(self, client: _Client, subject: str, scopes: list[str], grant: str,
               validity: int | None = None, with_refresh: bool | None = None) -> tuple[_Token, _Token | None]:
        now = self.now()
        life = validity if validity is not None else (client.validity or self.token_validity)
        expires = None if life is not None and life < 0 else now + life
        jti = str(uuid.uuid4())
        if client.token_type == "OAUTH":
            value = str(uuid.uuid4())
        else:
            value = self._make_jwt_like({
                "sub": subject, "aut": "APPLICATION" if grant == "client_credentials" else "APPLICATION_USER",
                "aud": client.client_id, "nbf": int(now), "azp": client.client_id, "scope": " ".join(scopes),
                "iss": self.token_url, "exp": int(expires) if expires else None, "iat": int(now), "jti": jti,
                "client_id": client.client_id,
            })
        tok = _Token(value, "access", client.client_id, subject, scopes, now, expires, grant,
                     app_id=client.app_id, key_type=client.key_type)
        self.tokens[value] = tok
        refresh = None
        if with_refresh is None:
            with_refresh = grant != "client_credentials" and "refresh_token" in client.grant_types
        if with_refresh:
            rvalue = str(uuid.uuid4())
            refresh = _Token(rvalue, "refresh", client.client_id, subject, scopes, now, now + 86400, grant,
                             app_id=client.app_id, key_type=client.key_type, pair=value)
            tok.pair = rvalue
            self.tokens[rvalue] = refresh
        return tok, refresh

    def _token_state(self, value: str) -> tuple[_Token | None, str]:
        tok = self.tokens.get(value)
        if tok is None or tok.kind != "access":
            return None, "invalid"
        if tok.revoked:
            return None, "revoked"
        if tok.expires_at is not None and self.now() >= tok.expires_at:
            return None, "expired"
        client = self.clients.get(tok.client_id)
        if client is None:
            return None, "invalid"
        if tok.app_id and tok.app_id not in self.applications:
            return None, "invalid"
        return tok, "ok"

    # ------------------------------------------------------------------ routing
    def _build_routes(self) -> list[_Route]:
        dp = DEVPORTAL_BASE
        t = "/t/{tenant}/scim2"
        table = [
            ("POST", t + "/Users", self._scim_create_user, "scim2.POST.Users"),
            ("GET", t + "/Users", self._scim_list_users, "scim2.GET.Users"),
            ("GET", t + "/Users/{id}", self._scim_get_user, "scim2.GET.Users.id"),
            ("DELETE", t + "/Users/{id}", self._scim_delete_user, "scim2.DELETE.Users.id"),
            ("GET", t + "/Roles", self._scim_list_roles, "scim2.GET.Roles"),
            ("GET", t + "/Roles/{id}", self._scim_get_role, "scim2.GET.Roles.id"),
            ("PATCH", t + "/Roles/{id}", self._scim_patch_role, "scim2.PATCH.Roles.id"),
            ("POST", "/client-registration/v0.17/register", self._dcr_register, "dcr.POST.register"),
            ("POST", "/oauth2/token", self._oauth_token, "oauth2.POST.token"),
            ("POST", "/oauth2/revoke", self._oauth_revoke, "oauth2.POST.revoke"),
            ("GET", dp + "/apis", self._dp_list_apis, "devportal.GET.apis"),
            ("GET", dp + "/apis/{apiId}", self._dp_get_api, "devportal.GET.apis.apiId"),
            ("GET", dp + "/throttling-policies/{policyLevel}", self._dp_policies,
             "devportal.GET.throttling-policies.policyLevel"),
            ("GET", dp + "/key-managers", self._dp_key_managers, "devportal.GET.key-managers"),
            ("GET", dp + "/settings/application-attributes", self._dp_app_attributes,
             "devportal.GET.settings.application-attributes"),
            ("GET", dp + "/applications", self._dp_list_apps, "devportal.GET.applications"),
            ("POST", dp + "/applications", self._dp_create_app, "devportal.POST.applications"),
            ("GET", dp + "/applications/{applicationId}", self._dp_get_app, "devportal.GET.applications.applicationId"),
            ("PUT", dp + "/applications/{applicationId}", self._dp_put_app, "devportal.PUT.applications.applicationId"),
            ("DELETE", dp + "/applications/{applicationId}", self._dp_delete_app,
             "devportal.DELETE.applications.applicationId"),
            ("POST", dp + "/applications/{applicationId}/generate-keys", self._dp_generate_keys,
             "devportal.POST.applications.applicationId.generate-keys"),
            ("GET", dp + "/applications/{applicationId}/oauth-keys", self._dp_list_keys,
             "devportal.GET.applications.applicationId.oauth-keys"),
            ("GET", dp + "/applications/{applicationId}/oauth-keys/{keyMappingId}", self._dp_get_key,
             "devportal.GET.applications.applicationId.oauth-keys.keyMappingId"),
            ("POST", dp + "/applications/{applicationId}/oauth-keys/{keyMappingId}/regenerate-secret",
             self._dp_regenerate_secret,
             "devportal.POST.applications.applicationId.oauth-keys.keyMappingId.regenerate-secret"),
            ("POST", dp + "/applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token",
             self._dp_generate_token,
             "devportal.POST.applications.applicationId.oauth-keys.keyMappingId.generate-token"),
            ("POST", dp + "/applications/{applicationId}/api-keys/{keyType}/generate", self._dp_generate_api_key,
             "devportal.POST.applications.applicationId.api-keys.keyType.generate"),
            ("POST", dp + "/applications/{applicationId}/api-keys/{keyType}/revoke", self._dp_revoke_api_key,
             "devportal.POST.applications.applicationId.api-keys.keyType.revoke"),
            ("GET", dp + "/subscriptions", self._dp_list_subs, "devportal.GET.subscriptions"),
            ("POST", dp + "/subscriptions", self._dp_create_sub, "devportal.POST.subscriptions"),
            ("GET", dp + "/subscriptions/{subscriptionId}", self._dp_get_sub,
             "devportal.GET.subscriptions.subscriptionId"),
            ("DELETE", dp + "/subscriptions/{subscriptionId}", self._dp_delete_sub,
             "devportal.DELETE.subscriptions.subscriptionId"),
        ]
        routes = []
        for method, template, handler, op in table:
            if op not in self.schemas.operations:
                raise RuntimeError(f"schema file for operation {op} missing in {SCHEMA_DIR}")
            ctype = "application/scim+json" if op.startswith("scim2.") else "application/json"
            routes.append(_Route(method, _path_regex(template), handler, op, ctype))
        return routes

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        path_known = False
        for r in self._routes:
            m = r.regex.match(path)
            if m:
                path_known = True
                if r.method == method:
                    return r, m.groupdict(), True
        return None, {}, path_known

    def _find_gateway_api(self, path: str) -> tuple[dict[str, Any], str] | None:
        for api in self.apis.values():
            prefix = f"{self.api_context(api['id'])}/{api['version']}"
            if path == prefix or path.startswith(prefix + "/"):
                return api, path[len(prefix):] or "/"
        return None

    @staticmethod
    def _take(rules: list[_Rule], method: str, path: str) -> _Rule | None:
        for rule in rules:
            if rule.count > 0 and (rule.method is None or rule.method == method) and rule.regex.search(path):
                rule.count -= 1
                if rule.count <= 0:
                    rules.remove(rule)
                return rule
        return None

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0 or self._closing is None:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # ------------------------------------------------------------------ request handling
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        method, path = request.method, request.path
        route, params, path_known = self._match(method, path)
        op = self.schemas.operations.get(route.op) if route and route.op else None
        body, present, parse_problem = self._parse_body(request, raw, op)
        call = Call(method, path, dict(request.query), dict(request.headers),
                    body if parse_problem is None else raw.decode("utf-8", "replace"),
                    op.name if op else None, started_at=self.now())
        self.calls.append(call)

        delay = self._take(self._delays, method, path)
        if delay is not None and not delay.process:
            await self._sleep(delay.seconds)
        fault = self._take(self._faults, method, path)
        if fault is not None and not fault.process:
            reply = self._fault_reply(fault)
        else:
            try:
                reply = await self._process(request, route, params, path_known, op, body, present,
                                            parse_problem, raw)
            except Exception as e:  # noqa: BLE001 - report sandbox bugs as 500s
                self.errors.append(f"{method} {path}: {type(e).__name__}: {e}")
                reply = _dp_error(500, "Internal Server Error", f"sandbox error: {type(e).__name__}: {e}")
            if fault is not None:
                reply = self._fault_reply(fault)
        if delay is not None and delay.process:
            await self._sleep(delay.seconds)

        call.status, call.response_body = reply.status, reply.body
        call.fault = "fail" if fault is not None else None
        return self._to_response(reply)

    def _fault_reply(self, rule: _Rule) -> _Reply:
        body = rule.body
        if body is None:
            if rule.status == 500:
                body = {"code": 500, "message": "Internal Server Error",
                        "description": "The server encountered an internal error. Please contact administrator.",
                        "moreInfo": "", "error": []}
            else:
                reason = _REASONS.get(rule.status, "Error")
                body = _NGINX_HTML.format(status=rule.status, reason=reason)
        ctype = "application/json" if isinstance(body, (dict, list)) else "text/html"
        return _Reply(rule.status, body, content_type=ctype)

    @staticmethod
    def _to_response(reply: _Reply) -> web.Response:
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        if isinstance(reply.body, (dict, list)):
            text = json.dumps(reply.body)
        else:
            text = str(reply.body)
        return web.Response(status=reply.status, body=text.encode(), headers=reply.headers,
                            content_type=reply.content_type, charset="utf-8")

    def _parse_body(self, request: web.Request, raw: bytes, op: _Operation | None) -> tuple[Any, bool, str | None]:
        """Returns (body, present, problem). JSON or form according to the operation."""
        if not raw.strip():
            return None, False, None
        kind = op.request_content_type if op else request.content_type
        if kind == "application/x-www-form-urlencoded":
            if request.content_type != "application/x-www-form-urlencoded":
                return None, True, f"Content-Type must be application/x-www-form-urlencoded, got {request.content_type}"
            pairs = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            return {k: v[0] for k, v in pairs.items()}, True, None
        try:
            return json.loads(raw), True, None
        except ValueError as e:
            return None, True, f"body is not valid JSON: {e}"

    def _violation(self, op: _Operation, direction: str, method: str, path: str, status: int | None,
                   messages: list[str]) -> Violation:
        v = Violation(op.name, direction, method, path, status, "; ".join(messages))
        self.violations.append(v)
        return v

    async def _process(self, request: web.Request, route: _Route | None, params: dict[str, str], path_known: bool,
                       op: _Operation | None, body: Any, present: bool, parse_problem: str | None,
                       raw: bytes) -> _Reply:
        method, path = request.method, request.path
        if route is None:
            gw = self._find_gateway_api(path)
            if gw is not None:
                return self._gateway(request, *gw)
            if method == "GET" and is_portal_path(path):  # a person opened the portal's address
                accounts = sum(1 for u in self.users.values() if u.user_name != self._local_name(self.admin_username))
                return _Reply(200, portal_page(tenant=self.tenant, accounts=accounts,
                                               apis=(a["name"] for a in self.apis.values())), content_type="text/html")
            if path_known:
                return _dp_error(405, "Method Not Allowed", f"{method} is not allowed on {path}")
            return _dp_error(404, "Not Found", f"No matching resource found for {method} {path}")

        assert op is not None
        if parse_problem is not None:
            problems = [parse_problem]
        else:
            problems = self.schemas.check_request(op, body, present)
        if problems:
            v = self._violation(op, "request", method, path, None, problems)
            if self.strict:
                return self._contract_reply(str(v))
        ctx = _Ctx(request, params, dict(request.query), body if parse_problem is None else _Unparsable(parse_problem),
                   raw, op)
        try:
            reply = await route.handler(ctx)
        except _Reply as r:
            reply = r
        if reply.content_type == "application/json" and route.content_type != "application/json":
            reply.content_type = route.content_type
        problems = self.schemas.check_response(op, reply.status, reply.body)
        if problems:
            v = self._violation(op, "response", method, path, reply.status, problems)
            if self.strict:
                return self._contract_reply(str(v))
        return reply

    @staticmethod
    def _contract_reply(message: str) -> _Reply:
        return _Reply(500, {"code": 500, "message": "Sandbox contract violation", "description": message,
                            "moreInfo": "see WSO2Sandbox.violations", "error": []})

    # ------------------------------------------------------------------ auth
    @staticmethod
    def _basic(request: web.Request) -> tuple[str, str] | None:
        h = request.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return ("", "")
        return user, pw

    @staticmethod
    def _bearer(value: str | None) -> str | None:
        if not value:
            return None
        v = value.strip()
        if v.lower().startswith("bearer "):
            return v[7:].strip()
        return None

    def _dp_auth(self, ctx: _Ctx) -> _Principal | None:
        """DevPortal REST auth: Bearer token (or Basic) and scope check (any listed scope)."""
        assert ctx.op is not None
        header = ctx.request.headers.get("Authorization")
        scopes = ctx.op.scopes
        if not header:
            if not scopes:
                return None  # anonymous access allowed
            raise _dp_error(401, "Unauthenticated request",
                            "Invalid Credentials. Make sure your API invocation call has a header: "
                            "'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN'",
                            code=900902)
        principal: _Principal
        basic = self._basic(ctx.request)
        if basic is not None and self.devportal_basic_auth:
            user = self._authenticate_user(*basic)
            if user is None:
                raise _dp_error(401, "Invalid Credentials",
                                "Invalid Credentials. Make sure you have provided the correct security credentials",
                                code=900901)
            principal = _Principal(self._full_name(user), self._allowed_scopes(user))
        else:
            value = self._bearer(header)
            tok, state = self._token_state(value) if value else (None, "invalid")
            if tok is None:
                desc = {"expired": "Access token expired",
                        "revoked": "Access token revoked"}.get(state, "Invalid Credentials. Make sure you have "
                                                                      "provided the correct security credentials")
                raise _dp_error(401, "Invalid Credentials", desc, code=900901)
            principal = _Principal(tok.subject, frozenset(tok.scopes), tok)
        if scopes and not principal.scopes.intersection(scopes):
            raise _dp_error(403, "The access token does not allow you to access the requested resource",
                            f"User is NOT authorized to access the Resource: {ctx.request.path}. "
                            f"Scope validation failed.", code=900910)
        return principal

    def _scim_auth(self, ctx: _Ctx, scope: str) -> None:
        if ctx.params.get("tenant", "").lower() != self.tenant.lower():
            raise _scim_error(404, f"Tenant {ctx.params.get('tenant')!r} does not exist.")
        basic = self._basic(ctx.request)
        if basic is not None:
            user = self._authenticate_user(*basic)
            if user is None:
                raise _scim_error(401, "Authentication failed for this resource.")
            if "admin" not in self._roles_of(user):
                raise _scim_error(403, "Operation is not permitted. You do not have permissions to make this request.")
            return
        value = self._bearer(ctx.request.headers.get("Authorization"))
        if value is None:
            raise _scim_error(401, "Authentication required for this resource.")
        tok, _state = self._token_state(value)
        if tok is None:
            raise _scim_error(401, "Authentication failed for this resource.")
        if scope not in tok.scopes:
            raise _scim_error(403, "Operation is not permitted. You do not have permissions to make this request.")

    def _client_auth(self, ctx: _Ctx, form: dict[str, str]) -> _Client:
        basic = self._basic(ctx.request)
        if basic is not None:
            cid, csecret = basic
        else:
            cid, csecret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.clients.get(cid)
        if client is None:
            raise _oauth_error(401, "invalid_client",
                               f"A valid OAuth client could not be found for client_id: {cid}")
        if not csecret or not hmac.compare_digest(client.secret, csecret):
            raise _oauth_error(401, "invalid_client", "Client Authentication failed.")
        if client.app_id and client.app_id not in self.applications:
            raise _oauth_error(401, "invalid_client", "Client Authentication failed.")
        return client

    # ------------------------------------------------------------------ SCIM
    def _scim_user_json(self, u: _User) -> dict[str, Any]:
        loc = f"{self.scim_url}/Users/{u.id}"
        body: dict[str, Any] = {
            "schemas": [SCIM_USER_SCHEMA, SCIM_WSO2_SCHEMA],
            "id": u.id,
            "userName": u.user_name,
            "meta": {"created": u.created, "lastModified": u.last_modified, "location": loc, "resourceType": "User"},
        }
        name = {k: v for k, v in (("givenName", u.given_name), ("familyName", u.family_name)) if v}
        if name:
            body["name"] = name
        if u.emails:
            body["emails"] = u.emails
        if u.phone_numbers:
            body["phoneNumbers"] = u.phone_numbers
        roles = [{"display": self._role_display(r), "value": r.id, "$ref": f"{self.scim_url}/Roles/{r.id}"}
                 for r in self.roles.values() if u.id in r.users]
        if roles:
            body["roles"] = roles
        ext = dict(u.extension)
        ext.update({"askPassword": u.ask_password, "forcePasswordReset": u.force_password_reset,
                    "accountLocked": u.account_locked})
        body[SCIM_WSO2_SCHEMA] = ext
        return body

    async def _scim_create_user(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_user_mgt_create")
        b = ctx.body
        if isinstance(b, _Unparsable) or not isinstance(b, dict):
            raise _scim_error(400, "Request is unparsable, syntactically incorrect, or violates schema.",
                              "invalidSyntax")
        user_name = b.get("userName")
        if not isinstance(user_name, str) or not user_name.strip():
            raise _scim_error(400, "Required attribute userName is missing in the SCIM Object.", "invalidSyntax")
        if not self.username_regex.match(user_name):
            raise _scim_error(400, f"Username {user_name} is not valid. User name must be a non null string "
                              f"with following format, {self.username_regex.pattern}", "invalidSyntax")
        ext = b.get(SCIM_WSO2_SCHEMA) or {}
        legacy = b.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") or {}
        if not isinstance(ext, dict) or not isinstance(legacy, dict):
            raise _scim_error(400, f"{SCIM_WSO2_SCHEMA} must be an object.", "invalidSyntax")
        ask = _truthy(ext.get("askPassword", legacy.get("askPassword", False)))
        force = _truthy(ext.get("forcePasswordReset", legacy.get("forcePasswordReset", False)))
        password = b.get("password")
        if password is None and not ask:
            raise _scim_error(400, "A password is required unless urn:scim:wso2:schema askPassword is true.",
                              "invalidSyntax")
        if password is not None and (not isinstance(password, str) or not self.password_regex.match(password)):
            raise _scim_error(400, "Password pattern policy violated. Password should satisfy "
                              f"{self.password_regex.pattern}", "invalidValue")
        name = b.get("name") if isinstance(b.get("name"), dict) else {}
        emails = b.get("emails") or []
        phones = b.get("phoneNumbers") or []
        if not isinstance(emails, list) or not isinstance(phones, list):
            raise _scim_error(400, "emails and phoneNumbers must be arrays.", "invalidSyntax")
        if self.user(user_name) is not None:
            raise _scim_error(409, f"User with the name: {user_name} already exists in the system.", "uniqueness")
        ts = self._iso()
        u = _User(id=str(uuid.uuid4()), user_name=user_name,
                  password_hash=_hash_password(password) if password else None,
                  given_name=name.get("givenName") or name.get("firstName"),
                  family_name=name.get("familyName") or name.get("lastName"),
                  emails=[e for e in emails if isinstance(e, dict)], phone_numbers=[p for p in phones if isinstance(p, dict)],
                  extension={k: v for k, v in ext.items() if k not in ("askPassword", "forcePasswordReset")},
                  created=ts, last_modified=ts, ask_password=ask, force_password_reset=force)
        self.users[u.id] = u
        body = self._scim_user_json(u)
        return _Reply(201, body, {"Location": body["meta"]["location"]}, "application/scim+json")

    async def _scim_list_users(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_user_mgt_list")
        users = sorted(self.users.values(), key=lambda u: u.created + u.id)
        f = ctx.query.get("filter")
        if f:
            _attr, op, value = _parse_filter(f, ("userName",))
            value = value.split("/", 1)[1] if value.upper().startswith("PRIMARY/") else value
            users = [u for u in users if _match_op(op, u.user_name, value)]
        return _Reply(200, self._scim_list(users, ctx.query, self._scim_user_json), content_type="application/scim+json")

    @staticmethod
    def _scim_list(items: list, query: dict[str, str], render: Callable) -> dict[str, Any]:
        try:
            start = max(1, int(query.get("startIndex", "1")))
            count = int(query["count"]) if "count" in query else None
        except ValueError as e:
            raise _scim_error(400, "startIndex and count must be integers.", "invalidValue") from e
        page = items[start - 1:] if count is None else items[start - 1:start - 1 + max(count, 0)]
        body: dict[str, Any] = {"totalResults": len(items), "startIndex": start, "itemsPerPage": len(page),
                                "schemas": [SCIM_LIST_SCHEMA]}
        if page:
            body["Resources"] = [render(x) for x in page]
        return body

    async def _scim_get_user(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_user_mgt_view")
        u = self.users.get(ctx.params["id"])
        if u is None:
            raise _scim_error(404, f"Specified resource (e.g., User) or endpoint does not exist. No user with the id : "
                              f"{ctx.params['id']} in the user store.")
        return _Reply(200, self._scim_user_json(u), content_type="application/scim+json")

    async def _scim_delete_user(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_user_mgt_delete")
        u = self.users.pop(ctx.params["id"], None)
        if u is None:
            raise _scim_error(404, f"No user with the id : {ctx.params['id']} in the user store.")
        for r in self.roles.values():
            r.users.discard(u.id)
        full = self._full_name(u).lower()
        for tok in self.tokens.values():
            if tok.subject.lower() == full:
                tok.revoked = True
        return _Reply(204, None)

    def _scim_role_json(self, r: _Role, with_users: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": [SCIM_ROLE_SCHEMA],
            "id": r.id,
            "displayName": self._role_display(r),
            "meta": {"location": f"{self.scim_url}/Roles/{r.id}", "resourceType": "Role"},
        }
        if with_users and r.users:
            body["users"] = [{"value": uid, "display": self.users[uid].user_name,
                              "$ref": f"{self.scim_url}/Users/{uid}"} for uid in sorted(r.users) if uid in self.users]
        return body

    async def _scim_list_roles(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_role_mgt_view")
        roles = list(self.roles.values())
        f = ctx.query.get("filter")
        if f:
            _attr, op, value = _parse_filter(f, ("displayName",))
            want = self._norm_role(value)
            roles = [r for r in roles if _match_op(op, self._norm_role(r.name), want)]
        body = self._scim_list(roles, ctx.query, lambda r: self._scim_role_json(r, with_users=False))
        return _Reply(200, body, content_type="application/scim+json")

    async def _scim_get_role(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_role_mgt_view")
        r = self.roles.get(ctx.params["id"])
        if r is None:
            raise _scim_error(404, f"Role not found in the system: {ctx.params['id']}")
        return _Reply(200, self._scim_role_json(r), content_type="application/scim+json")

    async def _scim_patch_role(self, ctx: _Ctx) -> _Reply:
        self._scim_auth(ctx, "internal_role_mgt_update")
        r = self.roles.get(ctx.params["id"])
        if r is None:
            raise _scim_error(404, f"Role not found in the system: {ctx.params['id']}")
        b = ctx.body
        ops = b.get("Operations") if isinstance(b, dict) else None
        if not isinstance(ops, list) or not ops:
            raise _scim_error(400, "Request is unparsable, syntactically incorrect, or violates schema.",
                              "invalidSyntax")
        changes: list[tuple[str, str]] = []
        for o in ops:
            if not isinstance(o, dict):
                raise _scim_error(400, "Invalid PatchOp operation.", "invalidSyntax")
            kind = str(o.get("op", "")).lower()
            path = o.get("path")
            value = o.get("value")
            if path is None and isinstance(value, dict) and "users" in value:
                path, value = "users", value["users"]
            m = re.match(r'^users\[value eq "?([^"\]]+)"?\]$', path or "")
            if kind == "remove" and m:
                changes.append(("remove", m.group(1)))
                continue
            if path != "users" or kind not in ("add", "remove") or not isinstance(value, list):
                raise _scim_error(400, f"Unsupported PatchOp operation on roles: {o!r}", "invalidSyntax")
            for item in value:
                uid = item.get("value") if isinstance(item, dict) else None
                if not isinstance(uid, str):
                    raise _scim_error(400, "Each value item needs a user id in 'value'.", "invalidSyntax")
                changes.append((kind, uid))
        for kind, uid in changes:
            if kind == "add" and uid not in self.users:
                raise _scim_error(400, f"A user doesn't exist with the userID: {uid} for operation add in users.",
                                  "invalidValue")
        for kind, uid in changes:
            (r.users.add if kind == "add" else r.users.discard)(uid)
        return _Reply(200, self._scim_role_json(r, with_users=False), content_type="application/scim+json")

    # ------------------------------------------------------------------ DCR / OAuth2
    async def _dcr_register(self, ctx: _Ctx) -> _Reply:
        basic = self._basic(ctx.request)
        user = self._authenticate_user(*basic) if basic else None
        if user is None:
            raise _dp_error(401, "Unauthorized", "Authentication failed. Provide valid Basic credentials "
                            "(user@tenant:password).", code=900901)
        b = ctx.body if isinstance(ctx.body, dict) else {}
        caller = self._full_name(user)
        owner = b.get("owner") or caller
        if owner.lower() not in (caller.lower(), user.user_name.lower()):
            raise _dp_error(400, "Bad Request",
                            f"Logged in user '{caller}' and application owner '{owner}' should be same.")
        name = b.get("clientName")
        if not isinstance(name, str) or not name:
            raise _dp_error(400, "Bad Request", "Required parameter clientName is missing.")
        existing = next((c for c in self.clients.values() if c.kind == "dcr" and c.client_name == name), None)
        if existing is not None:
            if existing.owner.lower() != caller.lower():
                raise _dp_error(403, "Forbidden", "Access is forbidden to the application")
            client = existing
        else:
            grants = str(b.get("grantType") or "password refresh_token client_credentials").split()
            client = _Client(_rand(), _rand(), caller, grants, "dcr", client_name=name,
                             callback=str(b.get("callbackUrl") or ""), saas=bool(b.get("saasApp", False)),
                             token_type="OAUTH" if str(b.get("tokenType", "")).upper() == "OAUTH" else "JWT")
            self.clients[client.client_id] = client
        grant_str = " ".join(client.grant_types)
        return _Reply(200, {
            "clientId": client.client_id,
            "clientName": client.client_name,
            "callBackURL": client.callback or None,
            "clientSecret": client.secret,
            "isSaasApplication": client.saas,
            "appOwner": client.owner,
            "jsonString": json.dumps({"grant_types": grant_str, "redirect_uris": client.callback,
                                      "client_name": client.client_name}),
            "jsonAppAttribute": "{}",
            "tokenType": None,
        })

    async def _oauth_token(self, ctx: _Ctx) -> _Reply:
        if isinstance(ctx.body, _Unparsable) or (ctx.body is not None and not isinstance(ctx.body, dict)):
            raise _oauth_error(400, "invalid_request", "Request must be application/x-www-form-urlencoded.")
        form: dict[str, str] = ctx.body or {}
        client = self._client_auth(ctx, form)
        grant = form.get("grant_type", "")
        if grant not in _TOKEN_GRANTS:
            raise _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type value: {grant!r}")
        if grant not in client.grant_types:
            raise _oauth_error(400, "unauthorized_client",
                               "The authenticated client is not authorized to use this authorization grant type")
        requested = form.get("scope", "").split()
        validity = None
        if form.get("validity_period", "").lstrip("-").isdigit():
            validity = int(form["validity_period"])
        if grant == "password":
            login, password = form.get("username", ""), form.get("password", "")
            local = self._local_name(login)
            u = self.user(local) if local else None
            if u is None or not _check_password(password, u.password_hash):
                # also users created with askPassword that have not set a password yet
                raise _oauth_error(400, "invalid_grant", "Authentication failed for " + login)
            if u.account_locked:
                raise _oauth_error(400, "invalid_grant", "Account is locked for user " + login)
            if u.force_password_reset:
                # Choice: WSO2 blocks logins after an admin-forced password reset; the exact
                # error text of the password grant is not documented, this one is ours.
                raise _oauth_error(400, "invalid_grant", "Password reset is required for " + login)
            tok, refresh = self._issue(client, self._full_name(u), self._grant_scopes(u, requested), grant, validity)
        elif grant == "client_credentials":
            if client.kind == "app":
                scopes = ["default"]
                subject = client.owner
            else:
                owner = self.user(client.owner)
                if owner is None:
                    raise _oauth_error(400, "invalid_grant", "Application owner no longer exists")
                scopes = self._grant_scopes(owner, requested)
                subject = client.owner
            tok, refresh = self._issue(client, subject, scopes, grant, validity)
        else:
            old = self.tokens.get(form.get("refresh_token", ""))
            if (old is None or old.kind != "refresh" or old.revoked or old.client_id != client.client_id
                    or (old.expires_at is not None and self.now() >= old.expires_at)):
                raise _oauth_error(400, "invalid_grant", "Persisted access token data not found")
            old.revoked = True
            if old.pair and old.pair in self.tokens:
                self.tokens[old.pair].revoked = True
            scopes = [s for s in requested if s in old.scopes] or old.scopes
            tok, refresh = self._issue(client, old.subject, scopes, old.grant, validity, with_refresh=True)
        body: dict[str, Any] = {
            "access_token": tok.value,
            "scope": " ".join(tok.scopes),
            "token_type": "Bearer",
            "expires_in": int(tok.expires_at - tok.issued_at) if tok.expires_at else 9223372036854775,
        }
        if refresh is not None:
            body["refresh_token"] = refresh.value
        return _Reply(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _oauth_revoke(self, ctx: _Ctx) -> _Reply:
        if isinstance(ctx.body, _Unparsable) or (ctx.body is not None and not isinstance(ctx.body, dict)):
            raise _oauth_error(400, "invalid_request", "Request must be application/x-www-form-urlencoded.")
        form: dict[str, str] = ctx.body or {}
        client = self._client_auth(ctx, form)
        tok = self.tokens.get(form.get("token", ""))
        if tok is not None and tok.client_id == client.client_id:
            tok.revoked = True
            if tok.pair and tok.pair in self.tokens:
                self.tokens[tok.pair].revoked = True
        return _Reply(200, None, {"RevokedAccessToken": form.get("token", "")} if tok else {})

    # ------------------------------------------------------------------ DevPortal: catalogue
    def _api_info(self, api: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": api["id"],
            "name": api["name"],
            "description": api["description"],
            "context": self.api_context(api["id"]),
            "version": api["version"],
            "type": "HTTP",
            "createdTime": str(self._created_at.get(api["id"], 0)),
            "provider": api["provider"],
            "lifeCycleStatus": "PUBLISHED",
            "thumbnailUri": "",
            "avgRating": "0.0",
            "throttlingPolicies": list(api["tiers"]),
            "advertiseInfo": {"advertised": False, "apiOwner": api["provider"], "vendor": "WSO2"},
            "businessInformation": self._business(api),
            "isSubscriptionAvailable": True,
            "monetizationLabel": "Free",
        }

    @staticmethod
    def _business(api: dict[str, Any]) -> dict[str, str]:
        return {"businessOwner": api["agency"], "businessOwnerEmail": api["agency_email"],
                "technicalOwner": api["agency"], "technicalOwnerEmail": api["agency_email"]}

    def _api_full(self, api: dict[str, Any]) -> dict[str, Any]:
        url = self.gateway_url(api["id"])
        created = str(self._created_at.get(api["id"], 0))
        return {
            "id": api["id"],
            "name": api["name"],
            "description": api["description"],
            "context": self.api_context(api["id"]),
            "version": api["version"],
            "provider": api["provider"],
            "lifeCycleStatus": "PUBLISHED",
            "isDefaultVersion": False,
            "type": "HTTP",
            "transport": ["http", "https"],
            "operations": [{"id": "", "target": "/*", "verb": v} for v in ("GET", "POST")],
            "authorizationHeader": api["authorizationHeader"],
            "securityScheme": list(api["securityScheme"]),
            "tags": list(api.get("tags", [])),
            "tiers": [{"tierName": t, "tierPlan": "FREE"} for t in api["tiers"]],
            "hasThumbnail": False,
            "additionalProperties": [],
            "endpointURLs": [{
                "environmentName": "Default",
                "environmentDisplayName": "Default",
                "environmentType": "hybrid",
                "URLs": {"http": url, "https": url},
                "defaultVersionURLs": {},
            }],
            "businessInformation": self._business(api),
            "environmentList": ["Default"],
            "scopes": [],
            "avgRating": "0.0",
            "advertiseInfo": {"advertised": False, "apiOwner": api["provider"], "vendor": "WSO2"},
            "isSubscriptionAvailable": True,
            "categories": [],
            "createdTime": created,
            "lastUpdatedTime": created,
            "gatewayVendor": "wso2",
        }

    @staticmethod
    def _paging(query: dict[str, str]) -> tuple[int, int]:
        try:
            limit = int(query.get("limit", "25"))
            offset = int(query.get("offset", "0"))
        except ValueError as e:
            raise _dp_error(400, "Bad Request", "limit and offset must be integers") from e
        return max(limit, 0), max(offset, 0)

    def _page(self, items: list, query: dict[str, str], render: Callable, path: str,
              extra_query: str = "") -> dict[str, Any]:
        limit, offset = self._paging(query)
        page = items[offset:offset + limit]
        nxt = f"{path}?limit={limit}&offset={offset + limit}{extra_query}" if offset + limit < len(items) else ""
        prv = f"{path}?limit={limit}&offset={max(offset - limit, 0)}{extra_query}" if offset > 0 else ""
        return {"count": len(page), "list": [render(x) for x in page],
                "pagination": {"offset": offset, "limit": limit, "total": len(items), "next": nxt, "previous": prv}}

    async def _dp_list_apis(self, ctx: _Ctx) -> _Reply:
        self._dp_auth(ctx)
        apis = list(self.apis.values())
        q = (ctx.query.get("query") or "").strip()
        if q:
            key, sep, val = q.partition(":")
            fields = {"name": "name", "version": "version", "context": "context", "provider": "provider",
                      "description": "description", "tag": "tags"}
            if sep and key.lower() in fields:
                f, val = fields[key.lower()], val.strip().lower()
                if f == "tags":
                    apis = [a for a in apis if val in [t.lower() for t in a.get("tags", [])]]
                else:
                    apis = [a for a in apis if val in str(a[f]).lower()]
            else:
                apis = [a for a in apis if q.lower() in a["name"].lower() or q.lower() in a["description"].lower()]
        return _Reply(200, self._page(apis, ctx.query, self._api_info, DEVPORTAL_BASE + "/apis"))

    async def _dp_get_api(self, ctx: _Ctx) -> _Reply:
        self._dp_auth(ctx)
        api = self.apis.get(ctx.params["apiId"])
        if api is None:
            raise _dp_error(404, "Not Found", f"Requested API with Id '{ctx.params['apiId']}' not found",
                            code=900310)
        return _Reply(200, self._api_full(api))

    async def _dp_policies(self, ctx: _Ctx) -> _Reply:
        self._dp_auth(ctx)
        level = ctx.params["policyLevel"]
        tiers = {"application": _APP_TIERS, "subscription": _SUB_TIERS}.get(level)
        if tiers is None:
            raise _dp_error(400, "Bad Request", "policyLevel should be one of application, subscription")
        items = [{
            "name": n, "description": d, "policyLevel": level, "attributes": {}, "requestCount": c,
            "unitTime": u, "timeUnit": "min", "rateLimitCount": 0,
            "quotaPolicyType": "REQUESTCOUNT", "tierPlan": "FREE", "stopOnQuotaReach": True,
        } for n, c, u, d in tiers]
        return _Reply(200, self._page(items, ctx.query, lambda x: x,
                                      f"{DEVPORTAL_BASE}/throttling-policies/{level}"))

    async def _dp_key_managers(self, ctx: _Ctx) -> _Reply:
        self._dp_auth(ctx)
        return _Reply(200, {"count": 1, "list": [{
            "id": KEY_MANAGER_ID,
            "name": KEY_MANAGER_NAME,
            "type": "default",
            "displayName": KEY_MANAGER_NAME,
            "description": "This is Resident Key Manager",
            "enabled": True,
            "availableGrantTypes": list(_KM_GRANT_TYPES),
            "tokenEndpoint": self.token_url,
            "revokeEndpoint": self.revoke_url,
            "userInfoEndpoint": "",
            "enableTokenGeneration": True,
            "enableTokenEncryption": False,
            "enableTokenHashing": self.hash_secrets,
            "enableOAuthAppCreation": True,
            "enableMapOAuthConsumerApps": False,
            "applicationConfiguration": [{
                "name": "application_access_token_expiry_time", "label": "Application Access Token Expiry Time",
                "type": "input", "required": False, "mask": False, "multiple": False,
                "tooltip": "Type Application Access Token Expiry Time", "values": [],
            }],
            "alias": self.token_url,
            "additionalProperties": {},
            "tokenType": "DIRECT",
        }]})

    async def _dp_app_attributes(self, ctx: _Ctx) -> _Reply:
        self._dp_auth(ctx)
        items = [dict(a) for a in self.application_attributes]
        return _Reply(200, {"count": len(items), "list": items})

    # ------------------------------------------------------------------ DevPortal: applications
    def _own_app(self, principal: _Principal | None, app_id: str) -> _Application:
        app = self.applications.get(app_id)
        if app is None or principal is None or app.owner.lower() != principal.username.lower():
            raise _dp_error(404, "Not Found", f"Requested application with Id '{app_id}' not found", code=900307)
        return app

    def _sub_count(self, app: _Application) -> int:
        return sum(1 for s in self.subscriptions.values() if s.app_id == app.id)

    def _app_info(self, app: _Application) -> dict[str, Any]:
        return {"applicationId": app.id, "name": app.name, "throttlingPolicy": app.throttling_policy,
                "description": app.description, "status": app.status, "groups": list(app.groups),
                "subscriptionCount": self._sub_count(app), "attributes": dict(app.attributes), "owner": app.owner}

    def _app_json(self, app: _Application) -> dict[str, Any]:
        return {
            "applicationId": app.id,
            "name": app.name,
            "throttlingPolicy": app.throttling_policy,
            "description": app.description,
            "tokenType": app.token_type,
            "status": app.status,
            "groups": list(app.groups),
            "subscriptionCount": self._sub_count(app),
            "keys": [self._key_json(app, k) for k in app.keys.values()],
            "attributes": dict(app.attributes),
            "subscriptionScopes": [],
            "owner": app.owner,
            "hashEnabled": self.hash_secrets,
        }

    def _key_json(self, app: _Application, km: _KeyMapping, *, show_secret: bool | None = None,
                  token: dict[str, Any] | None = None) -> dict[str, Any]:
        client = self.clients[km.client_id]
        body: dict[str, Any] = {
            "keyMappingId": km.id,
            "keyManager": KEY_MANAGER_NAME,
            "consumerKey": client.client_id,
            "supportedGrantTypes": list(km.grant_types),
            "callbackUrl": km.callback,
            "keyState": "APPROVED",
            "keyType": km.key_type,
            "mode": "CREATED",
            "additionalProperties": dict(km.additional),
        }
        if show_secret if show_secret is not None else not self.hash_secrets:
            body["consumerSecret"] = client.secret
        if token is not None:
            body["token"] = token
        return body

    def _validate_app_fields(self, b: dict[str, Any], principal: _Principal, exclude: str | None) -> None:
        name = b.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _dp_error(400, "Bad Request", "Application name is required")
        if name != name.strip():
            raise _dp_error(400, "Bad Request", "Application name cannot contain leading or trailing white spaces")
        if len(name) > 100:
            raise _dp_error(400, "Bad Request", "Application name is too long (max 100 characters)")
        policy = b.get("throttlingPolicy")
        if policy not in [t[0] for t in _APP_TIERS]:
            raise _dp_error(400, "Bad Request", f"Specified throttling policy '{policy}' is invalid")
        attrs = b.get("attributes") or {}
        for a in self.application_attributes:
            if str(a.get("required", "false")).lower() == "true" and not attrs.get(a.get("attribute", "")):
                raise _dp_error(400, "Bad Request", f"Missing required application attribute '{a.get('attribute')}'")
        for other in self.applications.values():
            if (other.id != exclude and other.owner.lower() == principal.username.lower()
                    and other.name.lower() == name.lower()):
                raise _dp_error(409, "Conflict", f"A duplicate application already exists by the name - {name}",
                                code=900301)

    async def _dp_list_apps(self, ctx: _Ctx) -> _Reply:
        p = self._dp_auth(ctx)
        assert p is not None
        apps = [a for a in self.applications.values() if a.owner.lower() == p.username.lower()]
        q = (ctx.query.get("query") or "").strip().lower()
        if q:
            apps = [a for a in apps if q in a.name.lower()]
        reverse = (ctx.query.get("sortOrder") or "ASC").upper() == "DESC"
        sort_by = ctx.query.get("sortBy") or "name"
        key = {"name": lambda a: a.name.lower(), "throttlingPolicy": lambda a: a.throttling_policy,
               "status": lambda a: a.status}.get(sort_by, lambda a: a.name.lower())
        apps.sort(key=key, reverse=reverse)
        extra = f"&query={quote(q)}" if q else ""
        return _Reply(200, self._page(apps, ctx.query, self._app_info, DEVPORTAL_BASE + "/applications", extra))

    async def _dp_create_app(self, ctx: _Ctx) -> _Reply:
        p = self._dp_auth(ctx)
        assert p is not None
        ctype = ctx.request.content_type
        if ctype != "application/json":
            raise _dp_error(415, "Unsupported media type", f"Content-Type {ctype} is not supported")
        b = ctx.body if isinstance(ctx.body, dict) else None
        if b is None:
            raise _dp_error(400, "Bad Request", "Request body is not a valid Application object")
        self._validate_app_fields(b, p, None)
        token_type = b.get("tokenType") or "JWT"
        if token_type not in ("JWT", "OAUTH"):
            raise _dp_error(400, "Bad Request", f"Invalid token type {token_type}")
        app = _Application(
            id=str(uuid.uuid4()), name=b["name"], owner=p.username, throttling_policy=b["throttlingPolicy"],
            description=b.get("description") or "", token_type=token_type,
            status="CREATED" if self.app_approval else "APPROVED",
            groups=[g for g in b.get("groups") or [] if isinstance(g, str)],
            attributes={str(k): str(v) for k, v in (b.get("attributes") or {}).items()},
        )
        self.applications[app.id] = app
        location = f"{DEVPORTAL_BASE}/applications/{app.id}"
        if self.app_approval:
            return _workflow_reply(self._app_json(app), location)
        return _Reply(201, self._app_json(app), {"Location": location})

    async def _dp_get_app(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        return _Reply(200, self._app_json(app))

    async def _dp_put_app(self, ctx: _Ctx) -> _Reply:
        p = self._dp_auth(ctx)
        app = self._own_app(p, ctx.params["applicationId"])
        assert p is not None
        b = ctx.body if isinstance(ctx.body, dict) else None
        if b is None:
            raise _dp_error(400, "Bad Request", "Request body is not a valid Application object")
        self._validate_app_fields(b, p, app.id)
        app.name, app.throttling_policy = b["name"], b["throttlingPolicy"]
        app.description = b.get("description") or ""
        if b.get("tokenType") in ("JWT", "OAUTH"):
            app.token_type = b["tokenType"]
            for km in app.keys.values():
                self.clients[km.client_id].token_type = app.token_type
        if "attributes" in b:
            app.attributes = {str(k): str(v) for k, v in (b.get("attributes") or {}).items()}
        if "groups" in b:
            app.groups = [g for g in b.get("groups") or [] if isinstance(g, str)]
        return _Reply(200, self._app_json(app))

    async def _dp_delete_app(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        if self.deletion_approval:  # WSO2's deletion workflow: the application stays until approved
            if app.status != "DELETE_PENDING":
                app.status_before_delete, app.status = app.status, "DELETE_PENDING"
            return _workflow_reply(self._app_json(app), f"{DEVPORTAL_BASE}/applications/{app.id}")
        self._remove_app(app)
        return _Reply(200, None)

    def _remove_app(self, app: _Application) -> None:
        for sid in [s.id for s in self.subscriptions.values() if s.app_id == app.id]:
            del self.subscriptions[sid]
        for km in app.keys.values():
            self.clients.pop(km.client_id, None)
        for tok in self.tokens.values():
            if tok.app_id == app.id:
                tok.revoked = True
        for k in self.api_keys.values():
            if k.app_id == app.id:
                k.revoked = True
        del self.applications[app.id]

    # ------------------------------------------------------------------ DevPortal: keys
    def _km(self, app: _Application, key_mapping_id: str) -> _KeyMapping:
        for km in app.keys.values():
            if km.id == key_mapping_id:
                return km
        raise _dp_error(404, "Not Found", f"Requested key mapping with Id '{key_mapping_id}' not found")

    async def _dp_generate_keys(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        b = ctx.body if isinstance(ctx.body, dict) else None
        if b is None:
            raise _dp_error(400, "Bad Request", "Request body is not a valid key generation request")
        key_type = b.get("keyType")
        if key_type not in ("PRODUCTION", "SANDBOX"):
            raise _dp_error(400, "Bad Request", "keyType must be PRODUCTION or SANDBOX")
        km_name = b.get("keyManager") or KEY_MANAGER_NAME
        if km_name not in (KEY_MANAGER_NAME, KEY_MANAGER_ID):
            raise _dp_error(400, "Bad Request", f"Key Manager {km_name} not found", code=901403)
        grants = b.get("grantTypesToBeSupported")
        if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
            raise _dp_error(400, "Bad Request", "grantTypesToBeSupported must be a list of grant types")
        bad = [g for g in grants if g not in _KM_GRANT_TYPES]
        if bad:
            raise _dp_error(400, "Bad Request", f"Unsupported grant types {bad}")
        callback = b.get("callbackUrl") or ""
        if ("authorization_code" in grants or "implicit" in grants) and not callback:
            raise _dp_error(400, "Bad Request", "Callback URL is required for authorization_code/implicit grants")
        if key_type in app.keys:
            raise _dp_error(409, "Application already Registered",
                            f"Application '{app.name}' already has {key_type} keys of {KEY_MANAGER_NAME}",
                            code=901408)
        additional = dict(b.get("additionalProperties") or {})
        validity = self.token_validity
        raw_validity = additional.get("application_access_token_expiry_time", b.get("validityTime"))
        if raw_validity is not None and str(raw_validity).lstrip("-").isdigit():
            validity = int(raw_validity)
        additional.setdefault("application_access_token_expiry_time", str(validity))
        additional = {str(k): str(v) for k, v in additional.items()}
        client = _Client(_rand(), _rand(), app.owner, list(grants), "app", client_name=f"{app.owner}_{app.name}_{key_type}",
                         callback=callback, app_id=app.id, key_type=key_type, token_type=app.token_type,
                         validity=validity)
        self.clients[client.client_id] = client
        km = _KeyMapping(str(uuid.uuid4()), key_type, client.client_id, callback, list(grants),
                         [s for s in b.get("scopes") or [] if isinstance(s, str)] or ["default"], validity, additional)
        app.keys[key_type] = km
        token = None
        if "client_credentials" in grants:
            tok, _ = self._issue(client, app.owner, ["default"], "client_credentials", validity)
            token = {"accessToken": tok.value, "tokenScopes": tok.scopes, "validityTime": validity}
        return _Reply(200, self._key_json(app, km, show_secret=True, token=token))

    async def _dp_list_keys(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        items = [self._key_json(app, k) for k in app.keys.values()]
        return _Reply(200, {"count": len(items), "list": items})

    async def _dp_get_key(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        return _Reply(200, self._key_json(app, self._km(app, ctx.params["keyMappingId"])))

    async def _dp_regenerate_secret(self, ctx: _Ctx) -> _Reply:
        """Choice: tokens issued with the old secret stay valid until they expire."""
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        km = self._km(app, ctx.params["keyMappingId"])
        client = self.clients[km.client_id]
        client.secret = _rand()
        return _Reply(200, {"consumerKey": client.client_id, "consumerSecret": client.secret})

    async def _dp_generate_token(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        km = self._km(app, ctx.params["keyMappingId"])
        client = self.clients[km.client_id]
        b = ctx.body if isinstance(ctx.body, dict) else {}
        secret = b.get("consumerSecret")
        if not self.hash_secrets or secret is not None:
            if not isinstance(secret, str) or not hmac.compare_digest(secret, client.secret):
                raise _dp_error(400, "Bad Request", "Invalid consumer secret for the given key mapping")
        if "client_credentials" not in km.grant_types:
            raise _dp_error(400, "Bad Request", "client_credentials grant is not allowed for this key mapping")
        revoke = b.get("revokeToken")
        if revoke and revoke in self.tokens and self.tokens[revoke].client_id == client.client_id:
            self.tokens[revoke].revoked = True
        validity = b.get("validityPeriod")
        validity = int(validity) if isinstance(validity, int) else km.validity
        tok, _ = self._issue(client, app.owner, ["default"], "client_credentials", validity)
        return _Reply(200, {"accessToken": tok.value, "tokenScopes": tok.scopes, "validityTime": validity})

    # ------------------------------------------------------------------ DevPortal: API keys
    def _active_sub_api_ids(self, app: _Application, key_type: str) -> frozenset[str]:
        ok = {"UNBLOCKED"} | ({"PROD_ONLY_BLOCKED"} if key_type == "SANDBOX" else set())
        return frozenset(s.api_id for s in self.subscriptions.values() if s.app_id == app.id and s.status in ok)

    async def _dp_generate_api_key(self, ctx: _Ctx) -> _Reply:
        """API keys embed the subscriptions that are active when they are generated (as WSO2's
        JWT API keys do); a key made before a subscription does not open that API.
        ``validityPeriod`` absent or <= 0 means no expiry."""
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        key_type = ctx.params["keyType"]
        if key_type not in ("PRODUCTION", "SANDBOX"):
            raise _dp_error(400, "Bad Request", "keyType must be PRODUCTION or SANDBOX")
        if app.status != "APPROVED":
            raise _dp_error(400, "Bad Request", f"Application '{app.name}' is not active (status {app.status})")
        b = ctx.body if isinstance(ctx.body, dict) else {}
        validity = b.get("validityPeriod")
        validity = int(validity) if isinstance(validity, int) else -1
        now = self.now()
        api_ids = self._active_sub_api_ids(app, key_type)
        rec = _ApiKey(str(uuid.uuid4()), app.id, key_type, api_ids, now, now + validity if validity > 0 else None)
        self.api_keys[rec.jti] = rec
        claims = {
            "sub": app.owner,
            "application": {"owner": app.owner, "tier": app.throttling_policy, "name": app.name,
                            "uuid": app.id},
            "iss": self.token_url,
            "keytype": key_type,
            "subscribedAPIs": [{
                "subscriberTenantDomain": self.tenant, "name": self.apis[a]["name"],
                "context": f"{self.api_context(a)}/{self.apis[a]['version']}", "publisherTenantDomain": self.tenant,
                "version": self.apis[a]["version"], "subscriptionTier": self._sub_tier(app.id, a),
            } for a in sorted(api_ids)],
            "token_type": "apiKey",
            "permittedIP": str((b.get("additionalProperties") or {}).get("permittedIP", "")),
            "permittedReferer": str((b.get("additionalProperties") or {}).get("permittedReferer", "")),
            "iat": int(now),
            "jti": rec.jti,
        }
        if rec.expires_at:
            claims["exp"] = int(rec.expires_at)
        head = _b64url(json.dumps({"typ": "JWT", "alg": "HS256", "kid": "sandbox"}, separators=(",", ":")).encode())
        body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64url(hmac.new(self._signing_key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return _Reply(200, {"apikey": f"{head}.{body}.{sig}", "validityTime": validity})

    def _sub_tier(self, app_id: str, api_id: str) -> str:
        return next((s.throttling_policy for s in self.subscriptions.values()
                     if s.app_id == app_id and s.api_id == api_id), "Unlimited")

    def _decode_api_key(self, key: str) -> dict[str, Any] | None:
        parts = key.split(".")
        if len(parts) != 3:
            return None
        expect = _b64url(hmac.new(self._signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expect, parts[2]):
            return None
        try:
            return json.loads(_b64url_decode(parts[1]))
        except ValueError:
            return None

    async def _dp_revoke_api_key(self, ctx: _Ctx) -> _Reply:
        app = self._own_app(self._dp_auth(ctx), ctx.params["applicationId"])
        b = ctx.body if isinstance(ctx.body, dict) else {}
        claims = self._decode_api_key(str(b.get("apikey") or ""))
        rec = self.api_keys.get(claims.get("jti", "")) if claims else None
        if rec is None or rec.app_id != app.id or rec.key_type != ctx.params["keyType"]:
            raise _dp_error(400, "Bad Request", "The API key does not belong to this application and key type")
        rec.revoked = True
        return _Reply(200, None)

    # ------------------------------------------------------------------ DevPortal: subscriptions
    def _sub_json(self, s: _Subscription) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subscriptionId": s.id,
            "applicationId": s.app_id,
            "apiId": s.api_id,
            "throttlingPolicy": s.throttling_policy,
            "requestedThrottlingPolicy": s.requested_policy,
            "status": s.status,
            "redirectionParams": "",
        }
        if s.api_id in self.apis:
            body["apiInfo"] = self._api_info(self.apis[s.api_id])
        if s.app_id in self.applications:
            body["applicationInfo"] = self._app_info(self.applications[s.app_id])
        return body

    def _own_sub(self, principal: _Principal | None, sub_id: str) -> _Subscription:
        s = self.subscriptions.get(sub_id)
        app = self.applications.get(s.app_id) if s else None
        if s is None or app is None or principal is None or app.owner.lower() != principal.username.lower():
            raise _dp_error(404, "Not Found", f"Requested subscription with Id '{sub_id}' not found")
        return s

    async def _dp_list_subs(self, ctx: _Ctx) -> _Reply:
        p = self._dp_auth(ctx)
        assert p is not None
        app_id, api_id = ctx.query.get("applicationId"), ctx.query.get("apiId")
        if not app_id and not api_id:
            raise _dp_error(400, "Bad Request", "Either applicationId or apiId should be available")
        if app_id:
            self._own_app(p, app_id)
        subs = [s for s in self.subscriptions.values()
                if (not app_id or s.app_id == app_id) and (not api_id or s.api_id == api_id)
                and self.applications[s.app_id].owner.lower() == p.username.lower()]
        extra = "".join(f"&{k}={v}" for k, v in (("applicationId", app_id), ("apiId", api_id)) if v)
        return _Reply(200, self._page(subs, ctx.query, self._sub_json, DEVPORTAL_BASE + "/subscriptions", extra))

    async def _dp_create_sub(self, ctx: _Ctx) -> _Reply:
        p = self._dp_auth(ctx)
        ctype = ctx.request.content_type
        if ctype != "application/json":
            raise _dp_error(415, "Unsupported media type", f"Content-Type {ctype} is not supported")
        b = ctx.body if isinstance(ctx.body, dict) else None
        if b is None:
            raise _dp_error(400, "Bad Request", "Request body is not a valid Subscription object")
        app = self._own_app(p, str(b.get("applicationId")))
        api = self.apis.get(str(b.get("apiId")))
        if api is None:
            raise _dp_error(404, "Not Found", f"Requested API with Id '{b.get('apiId')}' not found", code=900310)
        policy = b.get("throttlingPolicy")
        if policy not in api["tiers"]:
            raise _dp_error(400, "Bad Request", f"Tier {policy} is not allowed for API {api['name']}-"
                            f"{api['version']}. Only {api['tiers']} Tiers are allowed.")
        if app.status != "APPROVED":
            raise _dp_error(400, "Bad Request", f"Application '{app.name}' is not active (status {app.status})")
        if any(s.app_id == app.id and s.api_id == api["id"] for s in self.subscriptions.values()):
            raise _dp_error(409, "Conflict", f"Subscription already exists for API {api['name']}-{api['version']} "
                            f"in Application {app.name}", code=900336)
        s = _Subscription(str(uuid.uuid4()), app.id, api["id"], policy, policy,
                          "ON_HOLD" if self.subscription_approval else "UNBLOCKED")
        self.subscriptions[s.id] = s
        location = f"{DEVPORTAL_BASE}/subscriptions/{s.id}"
        if self.subscription_approval:
            return _workflow_reply(self._sub_json(s), location)
        return _Reply(201, self._sub_json(s), {"Location": location})

    async def _dp_get_sub(self, ctx: _Ctx) -> _Reply:
        return _Reply(200, self._sub_json(self._own_sub(self._dp_auth(ctx), ctx.params["subscriptionId"])))

    async def _dp_delete_sub(self, ctx: _Ctx) -> _Reply:
        s = self._own_sub(self._dp_auth(ctx), ctx.params["subscriptionId"])
        del self.subscriptions[s.id]
        return _Reply(200, None)

    # ------------------------------------------------------------------ gateway
    def _gateway_denied(self, description: str, *, unsubscribed: bool = False, missing: bool = False) -> _Reply:
        if unsubscribed and self.unsubscribed_status == 403:
            return _Reply(403, {"code": "900908", "message": "Resource forbidden ",
                                "description": "User is NOT authorized to access the Resource. "
                                               "API Subscription validation failed."})
        if missing:
            return _Reply(401, {"code": "900902", "message": "Missing Credentials",
                                "description": "Invalid Credentials. Make sure your API invocation call has a "
                                               "header: 'Authorization : Bearer ACCESS_TOKEN' or "
                                               "'apikey : API_KEY'"})
        return _Reply(self.unsubscribed_status if unsubscribed else 401,
                      {"code": "900901", "message": "Invalid Credentials", "description": description})

    def _gateway(self, request: web.Request, api: dict[str, Any], resource: str) -> _Reply:
        """Gateway invocation (not contract-checked: no spec covers backend APIs)."""
        apikey = request.headers.get("apikey") or request.query.get("apikey")
        if apikey:
            if "api_key" not in api["securityScheme"]:
                return self._gateway_denied("API key authentication is not enabled for this API")
            claims = self._decode_api_key(apikey)
            rec = self.api_keys.get(claims.get("jti", "")) if claims else None
            if rec is None:
                return self._gateway_denied("Invalid API Key")
            if rec.revoked:
                return self._gateway_denied("API Key has been revoked")
            if rec.expires_at is not None and self.now() >= rec.expires_at:
                return self._gateway_denied("API Key has expired")
            app = self.applications.get(rec.app_id)
            if app is None:
                return self._gateway_denied("Invalid API Key")
            if api["id"] not in rec.api_ids or api["id"] not in self._active_sub_api_ids(app, rec.key_type):
                return self._gateway_denied("API Key is not valid for this API (API Subscription validation failed)",
                                            unsubscribed=True)
            return self._gateway_ok(request, api, resource, app, rec.key_type, "api_key")

        headers = [api["authorizationHeader"]]
        if not self.gateway_strict_auth_header and "Authorization" not in headers:
            headers.append("Authorization")
        value = None
        for h in headers:
            raw = request.headers.get(h)
            if raw:
                value = self._bearer(raw) or raw.strip()
                break
        if not value:
            return self._gateway_denied("", missing=True)
        if "oauth2" not in api["securityScheme"]:
            return self._gateway_denied("OAuth2 is not enabled for this API")
        tok, state = self._token_state(value)
        if tok is None:
            return self._gateway_denied({"expired": "Access token expired", "revoked": "Access token revoked"}
                                        .get(state, "Make sure you have provided the correct security credentials"))
        app = self.applications.get(tok.app_id or "")
        if app is None or app.status != "APPROVED" or api["id"] not in self._active_sub_api_ids(app, tok.key_type or ""):
            return self._gateway_denied("User is NOT authorized to access the Resource. "
                                        "API Subscription validation failed.", unsubscribed=True)
        return self._gateway_ok(request, api, resource, app, tok.key_type or "", "oauth2")

    @staticmethod
    def _gateway_ok(request: web.Request, api: dict[str, Any], resource: str, app: _Application,
                    key_type: str, how: str) -> _Reply:
        return _Reply(200, {
            "api": {"id": api["id"], "name": api["name"], "version": api["version"]},
            "resource": resource,
            "method": request.method,
            "query": dict(request.query),
            "authenticatedBy": how,
            "application": {"id": app.id, "name": app.name, "owner": app.owner},
            "keyType": key_type,
            "data": {"message": f"Hello from {api['name']} {api['version']}"},
        })


@dataclass
class _Unparsable:
    """Stands for a request body that could not be parsed (handlers answer 400)."""

    problem: str
