"""The SPLP adapter interface: everything the product needs from SPLP, in one place.

SPLP (splp.layanan.go.id) runs WSO2 API Manager 4.x, multi-tenant (one tenant per
government domain; logins look like ``user@kotacontoh.go.id``). The office's SOP has two
procedures that touch it:

* Procedure A (step A5): the executor registers an SPLP account for the requesting unit.
* Procedure B (steps B1-B3): in the Developer Portal ("Portal Pengguna") the account
  creates an application, OAuth2 keys/token, subscribes to APIs and creates an API key.

Two implementations exist: :mod:`splp.manual` (the executor does it on the portal and
records the result) and :mod:`splp.wso2` (REST calls to SCIM 2.0 and the DevPortal API).

Secrets (passwords, consumer secrets, access tokens, API keys) are plain ``str`` fields
declared with ``repr=False``, so they never show in ``repr()``/``str()`` of a result or in
a log line that formats one. Error texts (``SPLPError.message_id``) are formal Indonesian,
written for the executor (an official); they never contain secrets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

ErrorCode = Literal[
    "bad_credentials",  # 401
    "forbidden",  # 403
    "conflict",  # 409: user exists, application name used, already subscribed ...
    "invalid",  # 400 (and 412/415): the fields WSO2 refused are in `details`
    "not_found",  # 404
    "unavailable",  # 5xx or no connection, after the bounded retries
    "timeout",  # no answer in time, after the bounded retries
    "pending",  # the resource awaits approval by an SPLP admin (WSO2 workflow)
    "rejected",  # the resource was rejected by an SPLP admin (WSO2 workflow)
    "not_automated",  # manual mode: the step is done on the portal
]

HTTP_STATUS_OF: dict[str, int] = {
    "bad_credentials": 401,
    "forbidden": 403,
    "conflict": 409,
    "invalid": 400,
    "not_found": 404,
}


class SPLPError(Exception):
    """An SPLP operation failed.

    ``code`` is for the program (branch on it), ``message_id`` is the formal Indonesian
    text to show to the executor, ``status`` the HTTP status if there was one, and
    ``details`` the field-level reasons SPLP gave (WSO2 ``error[]`` / SCIM ``detail``),
    already scrubbed of any secret the adapter sent.
    """

    def __init__(
        self,
        code: ErrorCode,
        message_id: str,
        status: int | None = None,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message_id)
        self.code: ErrorCode = code
        self.message_id = message_id
        self.status = status
        self.details = tuple(details)

    @property
    def message(self) -> str:
        return self.message_id

    @property
    def retryable(self) -> bool:
        """Whether trying again later may help (the executor may simply retry)."""
        return self.code in ("unavailable", "timeout", "pending")

    def __str__(self) -> str:
        return self.message_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message_id={self.message_id!r})"


class BadCredentials(SPLPError):
    pass


class Forbidden(SPLPError):
    pass


class Conflict(SPLPError):
    pass


class Invalid(SPLPError):
    pass


class NotFound(SPLPError):
    pass


class Unavailable(SPLPError):
    pass


class Timeout(SPLPError):
    pass


class Pending(SPLPError):
    pass


class Rejected(SPLPError):
    pass


class NotAutomated(SPLPError):
    """Manual mode: this step is done by a person on the portal; ``steps`` says how."""

    def __init__(self, message_id: str, steps: tuple[PortalStep, ...] = ()) -> None:
        super().__init__("not_automated", message_id)
        self.steps = steps


_ERROR_CLASSES: dict[str, type[SPLPError]] = {
    "bad_credentials": BadCredentials,
    "forbidden": Forbidden,
    "conflict": Conflict,
    "invalid": Invalid,
    "not_found": NotFound,
    "unavailable": Unavailable,
    "timeout": Timeout,
    "pending": Pending,
    "rejected": Rejected,
}


def make_error(
    code: ErrorCode, message_id: str, status: int | None = None, details: tuple[str, ...] = ()
) -> SPLPError:
    """The right `SPLPError` subclass for ``code`` (catch either the subclass or `SPLPError`)."""
    cls = _ERROR_CLASSES.get(code, SPLPError)
    return cls(code, message_id, status, details)


# --------------------------------------------------------------------------------------
# Procedure A: account
# --------------------------------------------------------------------------------------

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,30}$")  # WSO2 default: ^[\S]{3,30}$, no '@' in a tenant
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")


@dataclass(frozen=True)
class AccountSpec:
    """What SOP step A4 collected for the requesting unit's SPLP account.

    ``username`` is the local part; the login becomes ``username@<tenant-domain>``.
    """

    username: str
    given_name: str
    family_name: str
    email: str
    phone_e164: str | None = None

    def problems(self) -> list[str]:
        """Indonesian descriptions of invalid fields (empty when valid)."""
        out = []
        if not USERNAME_RE.match(self.username or ""):
            out.append("Nama pengguna harus 3-30 karakter berupa huruf, angka, titik, garis bawah, "
                       "atau tanda hubung, tanpa '@' dan domain tenant.")
        if not (self.given_name or "").strip():
            out.append("Nama depan wajib diisi.")
        if not (self.family_name or "").strip():
            out.append("Nama belakang wajib diisi.")
        if not EMAIL_RE.match(self.email or ""):
            out.append("Alamat email tidak valid.")
        if self.phone_e164 is not None and not E164_RE.match(self.phone_e164):
            out.append("Nomor ponsel harus dalam format internasional, misalnya +6281234567890.")
        return out


@dataclass(frozen=True)
class AccountRecord:
    """What the executor recorded after registering the account on the portal (manual mode).

    Exactly one of ``initial_password`` (the password the executor set) and
    ``sent_by_portal`` (the portal e-mailed the credentials/invitation) applies.
    """

    username_with_tenant: str
    initial_password: str | None = field(default=None, repr=False)
    sent_by_portal: bool = False
    user_id: str | None = None


@dataclass(frozen=True)
class Account:
    """An SPLP account that exists.

    ``initial_password`` is set only when the bot knows it (it must be handed to the
    contact person over a secure channel and then forgotten). ``must_change_password``
    tells the bot to instruct the contact person to change it at first login.
    ``credentials_sent_by_portal``: SPLP itself e-mailed the login/invitation.
    ``role_assigned`` is False when the account exists but the DevPortal role could not be
    given (see `SPLPAdapter.assign_subscriber_role`).
    """

    username_with_tenant: str
    user_id: str | None
    initial_password: str | None = field(default=None, repr=False)
    must_change_password: bool = False
    credentials_sent_by_portal: bool = False
    role_assigned: bool = True


@dataclass(frozen=True)
class SessionGrant:
    """What resumes an account's DevPortal session without its password: the DevPortal
    client's registration and a refresh token (SPLP renews it at each refresh, so the caller
    stores the grant `SPLPAdapter.session_grant` returns after every use). Revocable, scoped
    to the DevPortal, and it never reveals the password."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class Login:
    """Credentials of an SPLP (DevPortal) account; procedure B runs as this account.
    Either the password, or (to check on a pending approval later) a `SessionGrant`."""

    username_with_tenant: str
    password: str = field(repr=False)
    grant: SessionGrant | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------
# Procedure B: catalogue, application, keys, subscription, API key
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiInfo:
    """An API in the DevPortal catalogue.

    ``auth_header`` (e.g. ``Authorization`` or a custom ``AuthorizationSPLP``) and
    ``supports_api_key`` are only known from `SPLPAdapter.get_api` (None from listings).
    """

    id: str
    name: str
    version: str
    context: str
    provider: str
    lifecycle_status: str | None = None
    auth_header: str | None = None
    supports_api_key: bool | None = None
    endpoint_urls: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    owner: str | None = None  # the owning agency (businessInformation.businessOwner)


@dataclass(frozen=True)
class AppSpec:
    """SOP step B2 (the application's data) = DevPortal "Create application"."""

    name: str
    throttling_policy: str = "Unlimited"  # an *application* tier ("Per Token Quota")
    description: str = ""
    token_type: Literal["JWT", "OAUTH"] = "JWT"
    attributes: dict[str, str] = field(default_factory=dict)  # operator-defined custom attributes
    groups: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        out = []
        if not (1 <= len((self.name or "").strip()) <= 100):
            out.append("Nama aplikasi wajib diisi, paling banyak 100 karakter.")
        if len(self.description or "") > 512:
            out.append("Deskripsi aplikasi paling banyak 512 karakter.")
        if not (self.throttling_policy or "").strip():
            out.append("Kuota aplikasi (throttling policy) wajib dipilih.")
        if self.token_type not in ("JWT", "OAUTH"):
            out.append("Jenis token harus JWT atau OAUTH.")
        return out


AppStatus = str  # "APPROVED" | "CREATED" (awaiting approval) | "REJECTED" | ...


@dataclass(frozen=True)
class App:
    id: str
    name: str
    status: AppStatus
    throttling_policy: str | None = None
    owner: str | None = None

    @property
    def pending(self) -> bool:
        return self.status not in ("APPROVED", "REJECTED")

    @property
    def rejected(self) -> bool:
        return self.status == "REJECTED"


@dataclass(frozen=True)
class KeySpec:
    """DevPortal "Generate Keys" settings (SOP step B3, OAuth2)."""

    key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION"
    key_manager: str = "Resident Key Manager"
    grant_types: tuple[str, ...] = ("client_credentials", "refresh_token")
    callback_url: str = ""
    scopes: tuple[str, ...] = ("default",)
    validity_time: int = 3600  # seconds, for the access token


@dataclass(frozen=True)
class Keys:
    """OAuth2 client credentials of an application, and a token when one was issued.

    ``consumer_secret`` may be None when SPLP keeps it hashed and the adapter did not
    regenerate it (it is shown only once). ``key_state`` other than APPROVED means the key
    generation awaits approval.
    """

    consumer_key: str
    consumer_secret: str | None = field(repr=False)
    key_mapping_id: str
    access_token: str | None = field(default=None, repr=False)
    expires_in: int | None = None
    key_type: str = "PRODUCTION"
    key_state: str = "APPROVED"
    token_endpoint: str | None = None

    @property
    def pending(self) -> bool:
        return self.key_state not in ("APPROVED", "COMPLETED")


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_in: int | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscription:
    """``status``: UNBLOCKED (usable), ON_HOLD (awaiting approval), REJECTED, BLOCKED, ..."""

    id: str | None
    api_id: str
    status: str
    app_id: str | None = None
    throttling_policy: str | None = None

    @property
    def pending(self) -> bool:
        return self.status in ("ON_HOLD", "TIER_UPDATE_PENDING")


@dataclass(frozen=True)
class ApiKey:
    """A DevPortal API key (a self-contained JWT). It embeds the application's subscriptions
    at generation time: generate it after subscribing, regenerate after each new subscription.
    ``validity`` in seconds; -1 means no expiry."""

    key: str = field(repr=False)
    validity: int | None = None
    key_type: str = "PRODUCTION"


DeleteResult = Literal["DELETED", "PENDING"]


@dataclass(frozen=True)
class PortalStep:
    """A step a person does on the SPLP portal (shown by the bot in manual mode)."""

    code: str  # SOP step code, e.g. "B2"
    title: str  # Indonesian
    url: str
    instructions: tuple[str, ...]  # Indonesian, in order
    fields: tuple[str, ...] = ()  # what to enter, Indonesian labels
    record: tuple[str, ...] = ()  # what to note down / report back to the bot


# --------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------


@runtime_checkable
class SPLPAdapter(Protocol):
    """Everything the product needs from SPLP.

    All procedure-B calls act as the account in ``login`` (the application owner), as the
    DevPortal does. Every method raises `SPLPError` (or a subclass) on failure; the manual
    adapter raises `NotAutomated` (carrying the portal steps) for procedure B.
    """

    mode: Literal["manual", "wso2"]
    tenant_domain: str

    @property
    def automated(self) -> bool:
        """True when procedure B calls go to SPLP; False in manual mode."""
        ...

    def portal_steps(self, procedure: Literal["A", "B"] = "B") -> tuple[PortalStep, ...]:
        """Portal instructions for a person (both modes; the bot's fallback)."""
        ...

    # ---- procedure A -------------------------------------------------------------------
    async def create_account(self, spec: AccountSpec, record: AccountRecord | None = None) -> Account:
        """Create (wso2) or record (manual, from ``record``) the unit's SPLP account."""
        ...

    async def assign_subscriber_role(self, account: Account) -> Account:
        """Give the account the DevPortal role (retry after ``role_assigned=False``)."""
        ...

    # ---- procedure B -------------------------------------------------------------------
    async def list_apis(self, login: Login | None = None, query: str = "", *,
                        tenant: str | None = None, limit: int = 25, offset: int = 0) -> list[ApiInfo]:
        ...

    async def get_api(self, login: Login | None, api_id: str, *, tenant: str | None = None) -> ApiInfo:
        ...

    async def list_tiers(self, login: Login | None,
                         level: Literal["application", "subscription"] = "application") -> list[str]:
        ...

    async def create_application(self, login: Login, spec: AppSpec) -> App:
        ...

    async def get_application(self, login: Login, app_id: str) -> App:
        ...

    async def find_application(self, login: Login, name: str) -> App | None:
        ...

    async def generate_keys(self, login: Login, app_id: str, spec: KeySpec = KeySpec()) -> Keys:
        ...

    async def get_keys(self, login: Login, app_id: str,
                       key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION") -> Keys | None:
        ...

    async def regenerate_secret(self, login: Login, app_id: str, key_mapping_id: str) -> Keys:
        ...

    async def generate_token(self, login: Login, app_id: str, key_mapping_id: str, consumer_secret: str,
                             *, validity: int = 3600, scopes: tuple[str, ...] = ("default",),
                             revoke_token: str | None = None) -> Token:
        ...

    async def subscribe(self, login: Login, app_id: str, api_id: str, tier: str = "Unlimited", *,
                        provider_tenant: str | None = None) -> Subscription:
        ...

    async def list_subscriptions(self, login: Login, app_id: str) -> list[Subscription]:
        ...

    async def unsubscribe(self, login: Login, subscription_id: str) -> None:
        ...

    async def generate_api_key(self, login: Login, app_id: str,
                               key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION", *,
                               validity: int = -1, permitted_ips: str = "",
                               permitted_referers: str = "") -> ApiKey:
        ...

    async def revoke_api_key(self, login: Login, app_id: str, api_key: str,
                             key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION") -> None:
        ...

    async def delete_application(self, login: Login, app_id: str) -> DeleteResult:
        ...

    def session_grant(self, login: Login) -> SessionGrant | None:
        """The current grant of ``login``'s DevPortal session (after at least one call), or
        None when sessions cannot be resumed without the password (manual mode, basic auth)."""
        ...

    async def aclose(self) -> None:
        ...


def split_login(username_with_tenant: str) -> tuple[str, str]:
    """``"user@tenant.go.id"`` -> ``("user", "tenant.go.id")`` (split at the last '@')."""
    user, sep, tenant = username_with_tenant.rpartition("@")
    if not sep or not user or not tenant:
        raise ValueError("expected user@tenant-domain")
    return user, tenant
