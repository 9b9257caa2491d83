"""WSO2 API Manager 4.x implementation of `SPLPAdapter` (SCIM 2.0 + DevPortal REST v3).

Contracts (see the project's research note on SPLP, section 2):

* Procedure A: ``POST {base}/t/{tenant}/scim2/Users`` with HTTP Basic of the tenant admin
  and ``application/scim+json``; then the DevPortal role: ``GET /t/{tenant}/scim2/Roles
  ?filter=displayName eq <role>`` and ``PATCH /t/{tenant}/scim2/Roles/{id}`` (PatchOp add
  ``users``).
* Procedure B, as the account itself: DCR ``POST {base}/client-registration/v0.17/register``
  (Basic ``user@tenant:password``), password-grant token at ``{base}/oauth2/token`` with the
  DevPortal scopes, then ``{base}/api/am/devportal/v3/...``.

Password at account creation (``password_flow``):

* ``"initial_password"`` (default): the adapter generates a strong password (`secrets`,
  20 characters by default, upper/lower/digit/symbol; BSSN 4/2021 asks for at least 12) and
  sends it in the SCIM create request. WSO2 APIM 4.x has no SCIM attribute that keeps an
  admin-set password usable *and* forces a change at first login: the only server-side
  mechanism, ``forcePasswordReset`` (admin-forced password reset, enterprise-extension
  claim mapped to ``identity/adminForcedPasswordReset``), *replaces* the password with an
  e-mailed link/OTP and needs a claim mapping and e-mail set up by the SPLP operator. So the
  result says ``must_change_password=True``: a policy marker that makes the bot instruct the
  contact person to change it at first login; it is not enforced by SPLP.
* ``"ask_password"``: the WSO2 "Ask Password" flow: the create request carries
  ``{"<scim_extension_urn>": {"askPassword": true}}`` and WSO2 e-mails the user a link to
  set their own password (needs e-mail configured on SPLP). The result has
  ``initial_password=None`` and ``credentials_sent_by_portal=True``. The extension URN is
  ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`` on APIM 4.x / IS 5.x
  (WSO2 docs "ask-password"); newer identity servers use ``urn:scim:wso2:schema`` (configurable).
  A throw-away random password is still sent, as in WSO2's own example; WSO2 discards it.

Retries: only idempotent calls (GET, PUT, DELETE, DCR -- WSO2 returns the existing client for
the same name and owner -- and token requests) are retried, on 5xx/429, connection errors
and timeouts, with exponential back-off, at most ``max_attempts`` tries. Create-style POSTs
(user, role membership, application, generate-keys, subscription) are sent once per attempt
and, after an uncertain failure (5xx, timeout, connection error), the adapter LOOKS for the
resource (user by ``userName eq``, application by ``query=<name>``, subscriptions of the
application, ``oauth-keys``, the user's roles) before sending again, so a retry never creates
two. Other POSTs (regenerate-secret, API key generate/revoke) are never retried.

Logging: method, URL path (no query), status/outcome, attempt and duration only; never
headers or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal, TypeVar
from urllib.parse import quote

import httpx

from splp.adapter import (
    Account,
    AccountRecord,
    AccountSpec,
    ApiInfo,
    ApiKey,
    App,
    AppSpec,
    DeleteResult,
    KeySpec,
    Keys,
    Login,
    PortalStep,
    SessionGrant,
    SPLPError,
    Subscription,
    Token,
    make_error,
    split_login,
)
from splp.manual import portal_steps as _portal_steps

log = logging.getLogger("splp.wso2")

T = TypeVar("T")

SCIM_USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM_WSO2_URN = "urn:scim:wso2:schema"
SCIM_PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_CONTENT_TYPE = "application/scim+json"
DEVPORTAL_SCOPES = ("apim:subscribe", "apim:app_manage", "apim:sub_manage", "apim:api_key")

# Symbols without quotes, backslash or space: WSO2's default password policy is ^[\S]{5,30}$,
# and these survive copy-paste from a chat message.
PASSWORD_SYMBOLS = "!#$%&*+-=?@^_~"
_PASSWORD_MIN, _PASSWORD_MAX = 16, 30


def generate_password(length: int = 20) -> str:
    """A random password with upper, lower, digit and symbol characters (16-30 long)."""
    if not _PASSWORD_MIN <= length <= _PASSWORD_MAX:
        raise ValueError(f"password length must be {_PASSWORD_MIN}-{_PASSWORD_MAX}")
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, PASSWORD_SYMBOLS)
    alphabet = "".join(classes)
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class _Transient(Exception):
    """An uncertain failure: the request may or may not have had its effect."""

    def __init__(self, kind: Literal["timeout", "unavailable"], status: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = status


@dataclass
class _Session:
    """DevPortal client registration and token of one account."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float = 0.0
    scopes: tuple[str, ...] = ()
    password_fp: bytes = field(default=b"", repr=False)  # HMAC of the password, to detect a change
    superseded: set[bytes] = field(default_factory=set, repr=False)  # HMACs of refresh tokens renewed here
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.client_secret, self.access_token, self.refresh_token) if s)


# ---------------------------------------------------------------------------------------
# Indonesian messages for the executor
# ---------------------------------------------------------------------------------------

MSG_ADMIN_401 = ("Kredensial admin SPLP ditolak. Periksa nama pengguna dan kata sandi admin tenant "
                 "{tenant} pada konfigurasi bot.")
MSG_ADMIN_403 = ("Akun admin tenant {tenant} tidak memiliki hak untuk mengelola pengguna di SPLP. "
                 "Mohon hubungi pengelola SPLP.")
MSG_USER_401 = ("Kredensial akun SPLP {user} ditolak. Periksa nama pengguna (format nama@{tenant}) "
                "dan kata sandi akun.")
MSG_USER_403 = ("Akun SPLP {user} tidak memiliki hak untuk tindakan ini di Portal Pengguna. "
                "Pastikan akun memiliki peran subscriber.")
MSG_INVALID = "SPLP menolak data yang dikirim karena tidak valid."
MSG_INVALID_WITH = "SPLP menolak data yang dikirim karena tidak valid: {details}"
MSG_NOT_FOUND = "Data yang diminta tidak ditemukan di SPLP."
MSG_CONFLICT = "Data yang sama sudah ada di SPLP."
MSG_UNAVAILABLE = ("Layanan SPLP sedang tidak dapat dihubungi atau mengalami gangguan{status}. "
                   "Silakan coba kembali beberapa saat lagi.")
MSG_TIMEOUT = ("SPLP tidak memberikan jawaban dalam batas waktu. Silakan coba kembali beberapa saat "
               "lagi; sebelum mengulang, periksa apakah data sudah tersimpan di portal SPLP.")
MSG_USER_EXISTS = ("Akun dengan nama pengguna {username}@{tenant} sudah ada di SPLP, atau email/atribut "
                   "lain sudah digunakan oleh pengguna lain. Gunakan nama pengguna lain atau periksa "
                   "akun yang sudah ada.")
MSG_APP_EXISTS = ("Nama aplikasi \"{name}\" sudah digunakan oleh akun ini di SPLP. Gunakan nama "
                  "aplikasi lain.")
MSG_APP_NOT_FOUND = "Aplikasi tidak ditemukan di SPLP."
MSG_API_NOT_FOUND = "API tidak ditemukan di Portal Pengguna SPLP."
MSG_KEYS_EXIST = ("Kunci OAuth2 {key_type} untuk aplikasi ini sudah pernah dibuat. Gunakan kunci yang "
                  "sudah ada atau buat ulang consumer secret.")
MSG_SUB_EXISTS = "Aplikasi sudah berlangganan API tersebut."
MSG_SUB_NOT_FOUND = "Langganan tidak ditemukan di SPLP."
MSG_ROLE_NOT_FOUND = "Peran {role} tidak ditemukan di tenant {tenant} pada SPLP."
MSG_APP_PENDING = ("Aplikasi \"{name}\" masih menunggu persetujuan admin SPLP. Kunci OAuth2 dan langganan "
                   "dapat dibuat setelah aplikasi disetujui.")
MSG_APP_REJECTED = "Aplikasi \"{name}\" ditolak oleh admin SPLP."
MSG_APP_PENDING_NO_ID = ("Permohonan pembuatan aplikasi \"{name}\" sedang menunggu persetujuan admin "
                         "SPLP.")
MSG_GRANT_EXPIRED = ("Sesi Portal Pengguna SPLP untuk akun {user} sudah berakhir; masuk kembali dengan "
                     "kata sandi akun.")
MSG_DCR_FAILED = ("Pendaftaran klien Portal Pengguna untuk akun {user} ditolak oleh SPLP. Mohon hubungi "
                  "pengelola SPLP.")

_OAUTH_CREDENTIAL_ERRORS = ("invalid_grant", "invalid_client", "unauthorized_client", "access_denied")


def _scrub(text: str, secret_values: tuple[str, ...]) -> str:
    for s in secret_values:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def _details(resp: httpx.Response, secret_values: tuple[str, ...]) -> tuple[str, ...]:
    """Field-level reasons from a WSO2 error body: DevPortal ``error[]``, SCIM ``detail``,
    OAuth ``error_description``."""
    try:
        body = resp.json()
    except ValueError:
        return ()
    if not isinstance(body, dict):
        return ()
    out: list[str] = []
    items = body.get("error")
    if isinstance(items, list):  # DevPortal Error
        for it in items:
            if isinstance(it, dict) and it.get("message"):
                code = str(it.get("code") or "")
                msg = str(it["message"])
                out.append(f"{code}: {msg}" if code and not code.isdigit() else msg)
        if not out and body.get("description"):
            out.append(str(body["description"]))
    elif isinstance(items, str):  # OAuth 2.0 (RFC 6749)
        out.append(str(body.get("error_description") or items))
    elif body.get("detail"):  # SCIM Error
        out.append(str(body["detail"]))
    elif body.get("description") or body.get("message"):
        out.append(str(body.get("description") or body.get("message")))
    return tuple(_scrub(d, secret_values)[:500] for d in out)


MSG_UNREADABLE = ("Jawaban SPLP tidak dapat dibaca (bukan JSON yang diharapkan). Kemungkinan ada gangguan "
                  "pada layanan atau proxy SPLP; silakan coba kembali beberapa saat lagi.")


def _body(resp: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful response; anything else (an HTML page from a proxy,
    a JSON array ...) is reported as SPLP being unavailable."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise make_error("unavailable", MSG_UNREADABLE, resp.status_code)
    return data


class WSO2Adapter:
    """`SPLPAdapter` over WSO2 API Manager 4.x REST APIs.

    Config: ``base_url`` (e.g. https://splp.layanan.go.id), ``tenant_domain``
    (e.g. kotacontoh.go.id), ``admin_username``/``admin_password`` (tenant admin, for SCIM;
    ``@tenant`` is appended when missing), ``timeout`` (seconds per request),
    ``max_attempts`` (3), ``backoff_base``/``backoff_max`` (seconds), ``devportal_version``
    ("v3"; "v2" on APIM 4.0/4.1), ``dcr_version`` ("v0.17"), ``subscriber_role``
    (SCIM role display name, "subscriber"), ``password_flow`` ("initial_password" |
    "ask_password"), ``scim_extension_urn``, ``password_length`` (20), ``client_name_prefix``,
    ``devportal_scopes``, ``devportal_auth`` ("oauth" = DCR + password grant; "basic" = HTTP
    Basic on each DevPortal call), ``portal_url``, ``verify`` (TLS), ``transport`` (tests),
    ``on_call`` (called with method, path and outcome of every HTTP exchange: metrics).
    """

    mode: Literal["manual", "wso2"] = "wso2"

    def __init__(
        self,
        base_url: str,
        tenant_domain: str,
        admin_username: str = "",
        admin_password: str = "",
        *,
        timeout: float = 20.0,
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 4.0,
        devportal_version: str = "v3",
        dcr_version: str = "v0.17",
        subscriber_role: str = "subscriber",
        password_flow: Literal["initial_password", "ask_password"] = "initial_password",
        scim_extension_urn: str = SCIM_ENTERPRISE_URN,
        password_length: int = 20,
        client_name_prefix: str = "splp_bot",
        devportal_scopes: tuple[str, ...] = DEVPORTAL_SCOPES,
        devportal_auth: Literal["oauth", "basic"] = "oauth",
        portal_url: str | None = None,
        verify: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        on_call: Callable[[str, str, object], None] | None = None,
    ) -> None:
        if not tenant_domain or "@" in tenant_domain:
            raise ValueError("tenant_domain must be a domain such as kotacontoh.go.id")
        if password_flow not in ("initial_password", "ask_password"):
            raise ValueError("password_flow must be 'initial_password' or 'ask_password'")
        if devportal_auth not in ("oauth", "basic"):
            raise ValueError("devportal_auth must be 'oauth' or 'basic'")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        generate_password(password_length)  # validates the length
        self.base_url = base_url.rstrip("/")
        self.tenant_domain = tenant_domain.lower()
        self.admin_username = (admin_username if "@" in admin_username or not admin_username
                               else f"{admin_username}@{self.tenant_domain}")
        self._admin_password = admin_password
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.subscriber_role = subscriber_role
        self.password_flow = password_flow
        self.scim_extension_urn = scim_extension_urn
        self.password_length = password_length
        self.client_name_prefix = client_name_prefix
        self.devportal_scopes = tuple(devportal_scopes)
        self.devportal_auth = devportal_auth
        self.portal_url = (portal_url or self.base_url).rstrip("/")
        self.devportal_base = f"{self.base_url}/api/am/devportal/{devportal_version}"
        self.dcr_url = f"{self.base_url}/client-registration/{dcr_version}/register"
        self.token_url = f"{self.base_url}/oauth2/token"
        self.scim_base = (f"{self.base_url}/t/{self.tenant_domain}/scim2" if self.tenant_domain != "carbon.super"
                          else f"{self.base_url}/scim2")
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), verify=verify, transport=transport)
        self.on_call = on_call  # (method, path, HTTP status or "timeout"/error) of every exchange: metrics
        self._sessions: dict[str, _Session] = {}
        self._role_id: str | None = None
        self._fp_key = secrets.token_bytes(32)

    def __repr__(self) -> str:
        return f"WSO2Adapter(base_url={self.base_url!r}, tenant_domain={self.tenant_domain!r})"

    @property
    def automated(self) -> bool:
        return True

    def portal_steps(self, procedure: Literal["A", "B"] = "B") -> tuple[PortalStep, ...]:
        return _portal_steps(procedure, self.tenant_domain, self.portal_url)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> WSO2Adapter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ===================================================================================
    # HTTP plumbing
    # ===================================================================================

    async def _backoff(self, attempt: int) -> None:
        delay = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        if delay > 0:
            await asyncio.sleep(delay)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content_type: str = "application/json",
        form: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, int]:
        """One request, retried when ``idempotent``. Returns (response, attempt) for any
        status below 500 (and not 429); raises `_Transient` when the outcome is uncertain
        after the allowed attempts."""
        hdrs = {"Accept": "application/json"}
        hdrs.update(headers or {})
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            hdrs["Content-Type"] = content_type
        attempts = self.max_attempts if idempotent else 1
        path = httpx.URL(url).path
        failure = _Transient("unavailable")
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await self._backoff(attempt - 1)
            started = time.monotonic()
            try:
                resp = await self._client.request(method, url, headers=hdrs, params=params,
                                                  content=content, data=form)
            except httpx.TimeoutException:
                self._log(method, path, "timeout", attempt, started)
                failure = _Transient("timeout")
                continue
            except httpx.TransportError as e:
                self._log(method, path, f"connection error ({type(e).__name__})", attempt, started)
                failure = _Transient("unavailable")
                continue
            self._log(method, path, resp.status_code, attempt, started)
            if resp.status_code >= 500 or resp.status_code == 429:
                failure = _Transient("unavailable", resp.status_code)
                continue
            return resp, attempt
        raise failure

    def _log(self, method: str, path: str, outcome: object, attempt: int, started: float) -> None:
        log.info("SPLP %s %s -> %s (attempt %d, %.0f ms)", method, path, outcome, attempt,
                 (time.monotonic() - started) * 1000)
        if self.on_call is not None:
            self.on_call(method, path, outcome)

    @staticmethod
    def _transient_error(t: _Transient) -> SPLPError:
        if t.kind == "timeout":
            return make_error("timeout", MSG_TIMEOUT)
        status = f" (HTTP {t.status})" if t.status else ""
        return make_error("unavailable", MSG_UNAVAILABLE.format(status=status), t.status)

    async def _call(self, method: str, url: str, **kw: Any) -> tuple[httpx.Response, int]:
        try:
            return await self._send(method, url, **kw)
        except _Transient as t:
            raise self._transient_error(t) from None

    def _error(
        self,
        resp: httpx.Response,
        *,
        actor: Literal["admin", "user"],
        user: str = "",
        secret_values: tuple[str, ...] = (),
        messages: dict[int, str] | None = None,
    ) -> SPLPError:
        """Map a 4xx response to an `SPLPError` with an Indonesian message."""
        status = resp.status_code
        details = _details(resp, secret_values)
        messages = messages or {}
        fmt = {"tenant": self.tenant_domain, "user": user or "ini"}
        if status in messages:
            text = messages[status]
            if details and status != 401:
                text = f"{text} Rincian: {'; '.join(details)}"
            code = {400: "invalid", 401: "bad_credentials", 403: "forbidden", 404: "not_found",
                    409: "conflict"}.get(status, "invalid")
            return make_error(code, text, status, details)  # type: ignore[arg-type]
        if status == 401:
            return make_error("bad_credentials", (MSG_ADMIN_401 if actor == "admin" else MSG_USER_401).format(**fmt),
                              status, details)
        if status == 403:
            return make_error("forbidden", (MSG_ADMIN_403 if actor == "admin" else MSG_USER_403).format(**fmt),
                              status, details)
        if status == 404:
            return make_error("not_found", MSG_NOT_FOUND, status, details)
        if status == 409:
            text = MSG_CONFLICT + (f" Rincian: {'; '.join(details)}" if details else "")
            return make_error("conflict", text, status, details)
        text = MSG_INVALID_WITH.format(details="; ".join(details)) if details else MSG_INVALID
        return make_error("invalid", text, status, details)

    async def _create(
        self,
        send: Callable[[], Awaitable[tuple[httpx.Response, int]]],
        look: Callable[[], Awaitable[T | None]],
        parse: Callable[[httpx.Response], Awaitable[T]],
        fail: Callable[[httpx.Response], SPLPError],
        what: str,
    ) -> T:
        """A create-style (non-idempotent) POST: after an uncertain failure, look for the
        resource before sending again, so a retry never creates two."""
        failure: _Transient | None = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                await self._backoff(attempt - 1)
                found = await look()
                if found is not None:
                    log.info("SPLP %s: found after an uncertain attempt; not creating again", what)
                    return found
            try:
                resp, _ = await send()
            except _Transient as t:
                failure = t
                continue
            if resp.status_code == 409 and failure is not None:
                # An earlier attempt may have been applied after all.
                found = await look()
                if found is not None:
                    log.info("SPLP %s: 409 after an uncertain attempt; using the existing one", what)
                    return found
            if resp.is_success:
                return await parse(resp)
            raise fail(resp)
        assert failure is not None
        raise self._transient_error(failure)

    # ===================================================================================
    # Procedure A: SCIM 2.0
    # ===================================================================================

    def _scim_headers(self) -> dict[str, str]:
        return {"Authorization": _basic(self.admin_username, self._admin_password),
                "Accept": SCIM_CONTENT_TYPE}

    def _scim_error(self, resp: httpx.Response, extra: tuple[str, ...] = (),
                    messages: dict[int, str] | None = None) -> SPLPError:
        return self._error(resp, actor="admin", secret_values=(self._admin_password, *extra), messages=messages)

    def scim_user_body(self, spec: AccountSpec, password: str) -> dict[str, Any]:
        """The SCIM 2.0 create-user body (section 2.9 of the research note)."""
        body: dict[str, Any] = {
            "schemas": [SCIM_USER_URN],
            "userName": spec.username,
            "password": password,
            "name": {"givenName": spec.given_name.strip(), "familyName": spec.family_name.strip()},
            "emails": [{"value": spec.email.strip(), "primary": True}],
        }
        if spec.phone_e164:
            body["phoneNumbers"] = [{"type": "mobile", "value": spec.phone_e164}]
        if self.password_flow == "ask_password":
            body["schemas"].append(self.scim_extension_urn)
            body[self.scim_extension_urn] = {"askPassword": True}
        return body

    @staticmethod
    def _plain_username(name: str) -> str:
        """``PRIMARY/dinkes.simpus@kotacontoh.go.id`` -> ``dinkes.simpus`` (lower case)."""
        name = name.split("/", 1)[1] if "/" in name else name
        return name.rpartition("@")[0].lower() if "@" in name else name.lower()

    async def find_user(self, username: str) -> dict[str, Any] | None:
        """The SCIM user with this ``userName`` (local part), or None."""
        resp, _ = await self._call("GET", f"{self.scim_base}/Users", idempotent=True,
                                   headers=self._scim_headers(),
                                   params={"filter": f"userName eq {username}"})
        if resp.status_code == 404:  # WSO2 answers 404 for "no users" in some versions
            return None
        if not resp.is_success:
            raise self._scim_error(resp)
        for r in _body(resp).get("Resources") or []:
            if self._plain_username(str(r.get("userName", ""))) == username.lower():
                return r
        return None

    async def create_account(self, spec: AccountSpec, record: AccountRecord | None = None) -> Account:
        """Create the account with SCIM and give it the DevPortal role (``record`` is ignored)."""
        problems = spec.problems()
        if problems:
            raise make_error("invalid", MSG_INVALID_WITH.format(details=" ".join(problems)), None, tuple(problems))
        password = generate_password(self.password_length)
        body = self.scim_user_body(spec, password)
        url = f"{self.scim_base}/Users"
        headers = self._scim_headers()
        messages = {409: MSG_USER_EXISTS.format(username=spec.username, tenant=self.tenant_domain)}

        async def parse(resp: httpx.Response) -> dict[str, Any]:
            try:
                return _body(resp)
            except SPLPError:  # created, but the reply is unreadable: read the user instead
                found = await self.find_user(spec.username)
                if found is None:
                    raise
                return found

        user = await self._create(
            send=lambda: self._send("POST", url, idempotent=False, headers=headers, json_body=body,
                                    content_type=SCIM_CONTENT_TYPE),
            look=lambda: self.find_user(spec.username),
            parse=parse,
            fail=lambda r: self._scim_error(r, (password,), messages),
            what="create user",
        )
        user_id = str(user.get("id") or "")
        asked = self.password_flow == "ask_password"
        account = Account(
            username_with_tenant=f"{spec.username}@{self.tenant_domain}",
            user_id=user_id or None,
            initial_password=None if asked else password,
            must_change_password=not asked,
            credentials_sent_by_portal=asked,
            role_assigned=False,
        )
        try:
            return await self.assign_subscriber_role(account)
        except SPLPError as e:
            # The account exists and its password is only known here: return it, flagged.
            log.warning("SPLP role assignment failed after user creation: %s (HTTP %s)", e.code, e.status)
            return account

    async def check_admin(self) -> None:
        """SPLP answers and accepts the tenant admin (and the subscriber role exists): raises
        `SPLPError` (BadCredentials, Unavailable, Timeout, NotFound) otherwise."""
        self._role_id = None
        await self._subscriber_role_id()

    async def _subscriber_role_id(self) -> str:
        if self._role_id:
            return self._role_id
        resp, _ = await self._call("GET", f"{self.scim_base}/Roles", idempotent=True,
                                   headers=self._scim_headers(),
                                   params={"filter": f"displayName eq {self.subscriber_role}"})
        missing = make_error("not_found", MSG_ROLE_NOT_FOUND.format(role=self.subscriber_role,
                                                                    tenant=self.tenant_domain), 404)
        if resp.status_code == 404:
            raise missing
        if not resp.is_success:
            raise self._scim_error(resp)
        wanted = self.subscriber_role.lower().removeprefix("internal/")
        for r in _body(resp).get("Resources") or []:
            if str(r.get("displayName", "")).lower().removeprefix("internal/") == wanted and r.get("id"):
                self._role_id = str(r["id"])
                return self._role_id
        raise missing

    async def _user_has_role(self, user_id: str, role_id: str) -> bool:
        resp, _ = await self._call("GET", f"{self.scim_base}/Users/{quote(user_id, safe='')}", idempotent=True,
                                   headers=self._scim_headers())
        if not resp.is_success:
            raise self._scim_error(resp)
        wanted = self.subscriber_role.lower().removeprefix("internal/")
        for r in _body(resp).get("roles") or []:
            if str(r.get("value", "")) == role_id or \
                    str(r.get("display", "")).lower().removeprefix("internal/") == wanted:
                return True
        return False

    async def assign_subscriber_role(self, account: Account) -> Account:
        """PATCH the subscriber role to add the user (looks before re-sending)."""
        user_id = account.user_id
        if not user_id:
            user = await self.find_user(split_login(account.username_with_tenant)[0])
            if user is None:
                raise make_error("not_found", "Akun SPLP tidak ditemukan.", 404)
            user_id = str(user["id"])
        role_id = await self._subscriber_role_id()
        body = {"schemas": [SCIM_PATCH_URN],
                "Operations": [{"op": "add", "path": "users", "value": [{"value": user_id}]}]}
        url = f"{self.scim_base}/Roles/{quote(role_id, safe='')}"
        headers = self._scim_headers()

        async def look() -> bool | None:
            return True if await self._user_has_role(user_id, role_id) else None

        async def parse(resp: httpx.Response) -> bool:
            return True

        await self._create(
            send=lambda: self._send("PATCH", url, idempotent=False, headers=headers, json_body=body,
                                    content_type=SCIM_CONTENT_TYPE),
            look=look, parse=parse, fail=self._scim_error, what="assign role",
        )
        return Account(account.username_with_tenant, user_id, account.initial_password,
                       account.must_change_password, account.credentials_sent_by_portal, role_assigned=True)

    # ===================================================================================
    # DevPortal: client registration and token (per account)
    # ===================================================================================

    def _fingerprint(self, login: Login) -> bytes:
        # A grant proves itself by its DevPortal client's secret (stable while its refresh token renews).
        proof = (login.password if login.password or login.grant is None
                 else f"grant:{login.grant.client_id}:{login.grant.client_secret}")
        return hmac.new(self._fp_key, proof.encode(), hashlib.sha256).digest()

    def _session_for(self, login: Login) -> _Session:
        """The cached session of this account; a different password (or grant) drops its tokens
        (a cached token must never stand in for a password or grant that was not checked)."""
        s = self._sessions.setdefault(login.username_with_tenant.lower(), _Session())
        fp = self._fingerprint(login)
        if not hmac.compare_digest(s.password_fp, fp):
            s.access_token = s.refresh_token = None
            s.expires_at = 0.0
            s.password_fp = fp
            if not login.password and login.grant is not None:
                s.client_id, s.client_secret = login.grant.client_id, login.grant.client_secret
                s.refresh_token = login.grant.refresh_token
        elif not login.password and login.grant is not None and login.grant.refresh_token != s.refresh_token \
                and self._token_fp(login.grant.refresh_token) not in s.superseded:
            # Another instance renewed the grant (SPLP revoked the pair this session holds): use it.
            s.access_token, s.expires_at = None, 0.0
            s.refresh_token = login.grant.refresh_token
        return s

    def _token_fp(self, token: str) -> bytes:
        return hmac.new(self._fp_key, token.encode(), hashlib.sha256).digest()

    def session_grant(self, login: Login) -> SessionGrant | None:
        if self.devportal_auth != "oauth":
            return None
        s = self._sessions.get(login.username_with_tenant.lower())
        if s is None or not (s.client_id and s.client_secret and s.refresh_token):
            return None
        return SessionGrant(s.client_id, s.client_secret, s.refresh_token)

    def _user_error(self, resp: httpx.Response, login: Login | None, messages: dict[int, str] | None = None,
                    extra: tuple[str, ...] = ()) -> SPLPError:
        secret_values: tuple[str, ...] = extra
        user = ""
        if login is not None:
            user = login.username_with_tenant
            s = self._sessions.get(login.username_with_tenant.lower())
            secret_values = (login.password, *(s.secrets() if s else ()), *extra)
        return self._error(resp, actor="user", user=user, secret_values=secret_values, messages=messages)

    async def _register_client(self, login: Login, s: _Session) -> None:
        user = login.username_with_tenant
        client_name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.client_name_prefix}_{user}")
        body = {"callbackUrl": "https://localhost/cb", "clientName": client_name, "owner": user,
                "grantType": "client_credentials password refresh_token", "saasApp": True,
                "tokenType": "JWT"}
        # Idempotent by WSO2's contract: the same clientName and owner returns the same client.
        resp, _ = await self._call("POST", self.dcr_url, idempotent=True, json_body=body,
                                   headers={"Authorization": _basic(user, login.password)})
        if not resp.is_success:
            raise self._user_error(resp, login, {403: MSG_DCR_FAILED.format(user=user)})
        data = _body(resp)
        s.client_id, s.client_secret = data.get("clientId"), data.get("clientSecret")
        if not s.client_id or not s.client_secret:
            raise make_error("unavailable", MSG_DCR_FAILED.format(user=user), resp.status_code)

    async def _token_request(self, login: Login, s: _Session, form: dict[str, str]) -> httpx.Response:
        assert s.client_id and s.client_secret
        resp, _ = await self._call("POST", self.token_url, idempotent=True, form=form,
                                   headers={"Authorization": _basic(s.client_id, s.client_secret)})
        return resp

    def _store_token(self, s: _Session, data: dict[str, Any]) -> None:
        s.access_token = data.get("access_token")
        renewed = data.get("refresh_token")
        if renewed and s.refresh_token and renewed != s.refresh_token:
            if len(s.superseded) > 64:
                s.superseded.clear()
            s.superseded.add(self._token_fp(s.refresh_token))
        s.refresh_token = renewed or s.refresh_token
        expires_in = int(data.get("expires_in") or 3600)
        s.expires_at = time.monotonic() + max(0, expires_in - 30)
        s.scopes = tuple(str(data.get("scope") or "").split())
        missing = set(self.devportal_scopes) - set(s.scopes)
        if s.scopes and missing:
            log.warning("SPLP token lacks DevPortal scopes: %s", " ".join(sorted(missing)))

    async def _obtain_token(self, login: Login, s: _Session, *, refresh: bool) -> None:
        """Refresh-token grant when ``refresh`` and possible, else password grant (re-registering
        the client once if SPLP no longer knows it)."""
        if refresh and s.refresh_token and s.client_id:
            resp = await self._token_request(login, s, {"grant_type": "refresh_token",
                                                        "refresh_token": s.refresh_token})
            if resp.is_success:
                self._store_token(s, _body(resp))
                return
            s.refresh_token = None
        if not login.password:  # a grant only: without the password there is no way back in
            s.access_token = None
            raise make_error("bad_credentials", MSG_GRANT_EXPIRED.format(user=login.username_with_tenant))
        for registration in (1, 2):
            if not s.client_id:
                await self._register_client(login, s)
            resp = await self._token_request(login, s, {
                "grant_type": "password", "username": login.username_with_tenant,
                "password": login.password, "scope": " ".join(self.devportal_scopes)})
            if resp.is_success:
                self._store_token(s, _body(resp))
                return
            try:
                payload = resp.json()
            except ValueError:
                payload = None
            error = str(payload.get("error", "")) if isinstance(payload, dict) else ""
            if error == "invalid_client" and registration == 1:
                s.client_id = s.client_secret = None  # stale registration: register again once
                continue
            if resp.status_code in (400, 401) and (error in _OAUTH_CREDENTIAL_ERRORS or resp.status_code == 401):
                err = self._user_error(resp, login)
                raise make_error("bad_credentials", MSG_USER_401.format(user=login.username_with_tenant,
                                                                        tenant=self.tenant_domain),
                                 resp.status_code, err.details)
            raise self._user_error(resp, login)

    async def _auth_header(self, login: Login, *, renew: bool) -> str:
        if self.devportal_auth == "basic":
            return _basic(login.username_with_tenant, login.password)
        s = self._session_for(login)
        async with s.lock:
            if renew or not s.access_token or time.monotonic() >= s.expires_at:
                await self._obtain_token(login, s, refresh=bool(s.access_token) or not login.password)
            assert s.access_token
            return f"Bearer {s.access_token}"

    async def _dp_send(
        self, login: Login | None, method: str, path: str, *, idempotent: bool,
        params: dict[str, Any] | None = None, json_body: Any = None, headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, int]:
        """A DevPortal request as ``login``; on 401 the token is refreshed ONCE and the call
        repeated. Raises `_Transient` like `_send`."""
        url = f"{self.devportal_base}{path}"
        for renew in (False, True):
            hdrs = dict(headers or {})
            if login is not None:
                hdrs["Authorization"] = await self._auth_header(login, renew=renew)
            resp, attempt = await self._send(method, url, idempotent=idempotent, headers=hdrs,
                                             params=params, json_body=json_body)
            if resp.status_code == 401 and login is not None and not renew and self.devportal_auth == "oauth":
                log.info("SPLP %s %s -> 401; refreshing the token once", method, httpx.URL(url).path)
                continue
            return resp, attempt
        raise AssertionError("unreachable")

    async def _dp(self, login: Login | None, method: str, path: str, **kw: Any) -> tuple[httpx.Response, int]:
        try:
            return await self._dp_send(login, method, path, **kw)
        except _Transient as t:
            raise self._transient_error(t) from None

    # ===================================================================================
    # Procedure B: catalogue
    # ===================================================================================

    @staticmethod
    def _api(d: dict[str, Any]) -> ApiInfo:
        schemes = d.get("securityScheme")
        urls: list[str] = []
        for env in d.get("endpointURLs") or []:
            u = (env.get("URLs") or {}) if isinstance(env, dict) else {}
            if u.get("https") or u.get("http"):
                urls.append(str(u.get("https") or u.get("http")))
        return ApiInfo(
            id=str(d.get("id", "")), name=str(d.get("name", "")), version=str(d.get("version", "")),
            context=str(d.get("context", "")), provider=str(d.get("provider", "")),
            lifecycle_status=d.get("lifeCycleStatus"),
            auth_header=d.get("authorizationHeader"),
            supports_api_key=(any("api_key" in str(x) for x in schemes) if isinstance(schemes, list) else None),
            endpoint_urls=tuple(urls),
            tiers=tuple(str(t.get("tierName", "")) if isinstance(t, dict) else str(t)
                        for t in (d.get("throttlingPolicies") or d.get("tiers") or ())),
            owner=(d.get("businessInformation") or {}).get("businessOwner") or None,
        )

    def _tenant_header(self, login: Login | None, tenant: str | None) -> dict[str, str]:
        t = tenant or (self.tenant_domain if login is None else None)
        return {"X-WSO2-Tenant": t} if t else {}

    async def list_apis(self, login: Login | None = None, query: str = "", *,
                        tenant: str | None = None, limit: int = 25, offset: int = 0) -> list[ApiInfo]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if query:
            params["query"] = query
        resp, _ = await self._dp(login, "GET", "/apis", idempotent=True, params=params,
                                 headers=self._tenant_header(login, tenant))
        if not resp.is_success:
            raise self._user_error(resp, login)
        return [self._api(d) for d in _body(resp).get("list") or []]

    async def get_api(self, login: Login | None, api_id: str, *, tenant: str | None = None) -> ApiInfo:
        resp, _ = await self._dp(login, "GET", f"/apis/{quote(api_id, safe='')}", idempotent=True,
                                 headers=self._tenant_header(login, tenant))
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_API_NOT_FOUND})
        return self._api(_body(resp))

    async def list_tiers(self, login: Login | None,
                         level: Literal["application", "subscription"] = "application") -> list[str]:
        resp, _ = await self._dp(login, "GET", f"/throttling-policies/{level}", idempotent=True,
                                 headers=self._tenant_header(login, None))
        if not resp.is_success:
            raise self._user_error(resp, login)
        return [str(p.get("name")) for p in _body(resp).get("list") or [] if p.get("name")]

    # ===================================================================================
    # Procedure B: application
    # ===================================================================================

    @staticmethod
    def _app(d: dict[str, Any]) -> App:
        return App(id=str(d.get("applicationId", "")), name=str(d.get("name", "")),
                   status=str(d.get("status") or "APPROVED"), throttling_policy=d.get("throttlingPolicy"),
                   owner=d.get("owner"))

    async def find_application(self, login: Login, name: str) -> App | None:
        resp, _ = await self._dp(login, "GET", "/applications", idempotent=True, params={"query": name})
        if not resp.is_success:
            raise self._user_error(resp, login)
        for d in _body(resp).get("list") or []:
            if d.get("name") == name:
                return self._app(d)
        return None

    async def get_application(self, login: Login, app_id: str) -> App:
        resp, _ = await self._dp(login, "GET", f"/applications/{quote(app_id, safe='')}", idempotent=True)
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND})
        return self._app(_body(resp))

    async def create_application(self, login: Login, spec: AppSpec) -> App:
        """Create the application; a 202 (approval workflow) gives an App with status CREATED."""
        problems = spec.problems()
        if problems:
            raise make_error("invalid", MSG_INVALID_WITH.format(details=" ".join(problems)), None, tuple(problems))
        body = {"name": spec.name, "throttlingPolicy": spec.throttling_policy, "description": spec.description,
                "tokenType": spec.token_type, "groups": list(spec.groups), "attributes": dict(spec.attributes)}

        async def parse(resp: httpx.Response) -> App:
            if resp.status_code == 202:  # workflow: the application awaits approval
                app_id = resp.headers.get("Location", "").rstrip("/").rpartition("/")[2]
                app = None
                if app_id:
                    try:
                        app = await self.get_application(login, app_id)
                    except SPLPError as e:
                        if e.code != "not_found":
                            raise
                app = app or await self.find_application(login, spec.name)
                if app is None:
                    raise make_error("pending", MSG_APP_PENDING_NO_ID.format(name=spec.name), 202)
                return app
            return self._app(_body(resp))

        return await self._create(
            send=lambda: self._dp_send(login, "POST", "/applications", idempotent=False, json_body=body),
            look=lambda: self.find_application(login, spec.name),
            parse=parse,
            fail=lambda r: self._user_error(r, login, {409: MSG_APP_EXISTS.format(name=spec.name)}),
            what="create application",
        )

    async def _require_approved(self, login: Login, app_id: str) -> App:
        app = await self.get_application(login, app_id)
        if app.rejected:
            raise make_error("rejected", MSG_APP_REJECTED.format(name=app.name))
        if app.pending:
            raise make_error("pending", MSG_APP_PENDING.format(name=app.name))
        return app

    async def delete_application(self, login: Login, app_id: str) -> DeleteResult:
        resp, attempt = await self._dp(login, "DELETE", f"/applications/{quote(app_id, safe='')}", idempotent=True)
        if resp.status_code == 202:
            return "PENDING"
        if resp.is_success or (resp.status_code == 404 and attempt > 1):  # an earlier try went through
            return "DELETED"
        raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND})

    # ===================================================================================
    # Procedure B: OAuth2 keys and token
    # ===================================================================================

    def _keys(self, d: dict[str, Any], key_mapping_id: str | None = None) -> Keys:
        token = d.get("token") or {}
        return Keys(
            consumer_key=str(d.get("consumerKey", "")),
            consumer_secret=d.get("consumerSecret") or None,
            key_mapping_id=str(d.get("keyMappingId") or key_mapping_id or ""),
            access_token=token.get("accessToken") or None,
            expires_in=token.get("validityTime"),
            key_type=str(d.get("keyType") or "PRODUCTION"),
            key_state=str(d.get("keyState") or "APPROVED"),
            token_endpoint=self.token_url,
        )

    async def _list_keys(self, login: Login, app_id: str) -> list[dict[str, Any]]:
        resp, _ = await self._dp(login, "GET", f"/applications/{quote(app_id, safe='')}/oauth-keys", idempotent=True)
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND})
        return list(_body(resp).get("list") or [])

    async def get_keys(self, login: Login, app_id: str,
                       key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION") -> Keys | None:
        for d in await self._list_keys(login, app_id):
            if d.get("keyType") == key_type and d.get("consumerKey"):
                return self._keys(d)
        return None

    async def generate_keys(self, login: Login, app_id: str, spec: KeySpec = KeySpec()) -> Keys:
        """Generate the consumer key/secret (and a token when SPLP returns none, via generate-token).

        Save ``consumer_secret`` at once: with secret hashing SPLP shows it only once. After an
        uncertain failure the existing keys are looked up; if their secret is hidden, the
        secret is regenerated so the caller still gets a working one."""
        await self._require_approved(login, app_id)
        body = {"keyType": spec.key_type, "keyManager": spec.key_manager,
                "grantTypesToBeSupported": list(spec.grant_types), "callbackUrl": spec.callback_url,
                "scopes": list(spec.scopes), "validityTime": str(spec.validity_time), "additionalProperties": {}}
        path = f"/applications/{quote(app_id, safe='')}/generate-keys"

        async def look() -> Keys | None:
            keys = await self.get_keys(login, app_id, spec.key_type)
            if keys is not None and keys.consumer_secret is None and keys.key_mapping_id:
                keys = await self.regenerate_secret(login, app_id, keys.key_mapping_id)
            return keys

        async def parse(resp: httpx.Response) -> Keys:
            return self._keys(_body(resp))

        keys = await self._create(
            send=lambda: self._dp_send(login, "POST", path, idempotent=False, json_body=body),
            look=look, parse=parse,
            fail=lambda r: self._user_error(r, login, {404: MSG_APP_NOT_FOUND,
                                                       409: MSG_KEYS_EXIST.format(key_type=spec.key_type)}),
            what="generate keys",
        )
        if keys.access_token is None and keys.consumer_secret and not keys.pending and keys.key_mapping_id:
            try:
                tok = await self.generate_token(login, app_id, keys.key_mapping_id, keys.consumer_secret,
                                                validity=spec.validity_time, scopes=spec.scopes)
            except SPLPError as e:  # the keys matter most; a token can be made later
                log.warning("SPLP token after key generation failed: %s (HTTP %s)", e.code, e.status)
            else:
                keys = Keys(keys.consumer_key, keys.consumer_secret, keys.key_mapping_id, tok.access_token,
                            tok.expires_in, keys.key_type, keys.key_state, keys.token_endpoint)
        return keys

    async def regenerate_secret(self, login: Login, app_id: str, key_mapping_id: str) -> Keys:
        """New consumer secret (the old one stops working). Never retried."""
        path = f"/applications/{quote(app_id, safe='')}/oauth-keys/{quote(key_mapping_id, safe='')}/regenerate-secret"
        resp, _ = await self._dp(login, "POST", path, idempotent=False)
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND})
        d = _body(resp)
        return Keys(consumer_key=str(d.get("consumerKey", "")), consumer_secret=d.get("consumerSecret"),
                    key_mapping_id=key_mapping_id, token_endpoint=self.token_url)

    async def generate_token(self, login: Login, app_id: str, key_mapping_id: str, consumer_secret: str,
                             *, validity: int = 3600, scopes: tuple[str, ...] = ("default",),
                             revoke_token: str | None = None) -> Token:
        """An application access token (client_credentials) through the DevPortal. A token
        request, so it is retried like an idempotent call (an extra token is harmless)."""
        path = f"/applications/{quote(app_id, safe='')}/oauth-keys/{quote(key_mapping_id, safe='')}/generate-token"
        body = {"consumerSecret": consumer_secret, "validityPeriod": validity, "scopes": list(scopes),
                "revokeToken": revoke_token or "", "grantType": "CLIENT_CREDENTIALS", "additionalProperties": {}}
        resp, _ = await self._dp(login, "POST", path, idempotent=True, json_body=body)
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND},
                                   extra=tuple(s for s in (consumer_secret, revoke_token) if s))
        d = _body(resp)
        return Token(access_token=str(d.get("accessToken", "")), expires_in=d.get("validityTime"),
                     scopes=tuple(d.get("tokenScopes") or ()))

    # ===================================================================================
    # Procedure B: subscriptions
    # ===================================================================================

    @staticmethod
    def _sub(d: dict[str, Any]) -> Subscription:
        api_id = str(d.get("apiId") or (d.get("apiInfo") or {}).get("id", ""))
        return Subscription(id=d.get("subscriptionId"), api_id=api_id,
                            status=str(d.get("status") or "UNBLOCKED"), app_id=d.get("applicationId"),
                            throttling_policy=d.get("throttlingPolicy"))

    async def list_subscriptions(self, login: Login, app_id: str) -> list[Subscription]:
        out: list[Subscription] = []
        offset, limit = 0, 100
        while True:
            resp, _ = await self._dp(login, "GET", "/subscriptions", idempotent=True,
                                     params={"applicationId": app_id, "limit": limit, "offset": offset})
            if not resp.is_success:
                raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND})
            page = _body(resp).get("list") or []
            out += [self._sub(d) for d in page]
            if len(page) < limit:
                return out
            offset += limit

    async def subscribe(self, login: Login, app_id: str, api_id: str, tier: str = "Unlimited", *,
                        provider_tenant: str | None = None) -> Subscription:
        """Subscribe; with an approval workflow (202) the result has status ON_HOLD.
        ``provider_tenant`` for an API of another tenant (sent as X-WSO2-Tenant)."""
        await self._require_approved(login, app_id)
        body = {"applicationId": app_id, "apiId": api_id, "throttlingPolicy": tier}
        headers = {"X-WSO2-Tenant": provider_tenant} if provider_tenant else None

        async def look() -> Subscription | None:
            for s in await self.list_subscriptions(login, app_id):
                if s.api_id == api_id:
                    return s
            return None

        async def parse(resp: httpx.Response) -> Subscription:
            if resp.status_code == 202:
                found = await look()
                return found or Subscription(id=None, api_id=api_id, status="ON_HOLD", app_id=app_id,
                                             throttling_policy=tier)
            return self._sub(_body(resp))

        return await self._create(
            send=lambda: self._dp_send(login, "POST", "/subscriptions", idempotent=False, json_body=body,
                                       headers=headers),
            look=look, parse=parse,
            fail=lambda r: self._user_error(r, login, {404: MSG_API_NOT_FOUND, 409: MSG_SUB_EXISTS}),
            what="subscribe",
        )

    async def unsubscribe(self, login: Login, subscription_id: str) -> None:
        resp, attempt = await self._dp(login, "DELETE", f"/subscriptions/{quote(subscription_id, safe='')}",
                                       idempotent=True)
        if resp.is_success or (resp.status_code == 404 and attempt > 1):
            return None
        raise self._user_error(resp, login, {404: MSG_SUB_NOT_FOUND})

    # ===================================================================================
    # Procedure B: API key
    # ===================================================================================

    async def generate_api_key(self, login: Login, app_id: str,
                               key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION", *,
                               validity: int = -1, permitted_ips: str = "",
                               permitted_referers: str = "") -> ApiKey:
        """A self-contained API key (generate after subscribing). Never retried."""
        path = f"/applications/{quote(app_id, safe='')}/api-keys/{key_type}/generate"
        body = {"validityPeriod": validity,
                "additionalProperties": {"permittedIP": permitted_ips, "permittedReferer": permitted_referers}}
        resp, _ = await self._dp(login, "POST", path, idempotent=False, json_body=body)
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND})
        d = _body(resp)
        return ApiKey(key=str(d.get("apikey", "")), validity=d.get("validityTime"), key_type=key_type)

    async def revoke_api_key(self, login: Login, app_id: str, api_key: str,
                             key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION") -> None:
        path = f"/applications/{quote(app_id, safe='')}/api-keys/{key_type}/revoke"
        resp, _ = await self._dp(login, "POST", path, idempotent=False, json_body={"apikey": api_key})
        if not resp.is_success:
            raise self._user_error(resp, login, {404: MSG_APP_NOT_FOUND}, extra=(api_key,))
