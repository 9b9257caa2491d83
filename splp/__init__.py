"""SPLP adapter: what the product needs from SPLP (splp.layanan.go.id, WSO2 API Manager 4.x).

``make_adapter("manual", tenant_domain=...)`` -- the executor works on the portal and records
the result; ``make_adapter("wso2", base_url=..., tenant_domain=..., admin_username=...,
admin_password=...)`` -- SCIM 2.0 and DevPortal REST calls. See `splp.adapter` for the
interface and `splp.wso2` for the configuration parameters.
"""

from __future__ import annotations

from typing import Any, Literal

from splp.adapter import (
    Account,
    AccountRecord,
    AccountSpec,
    ApiInfo,
    ApiKey,
    App,
    AppSpec,
    BadCredentials,
    Conflict,
    DeleteResult,
    Forbidden,
    Invalid,
    KeySpec,
    Keys,
    Login,
    NotAutomated,
    NotFound,
    Pending,
    PortalStep,
    Rejected,
    SPLPAdapter,
    SessionGrant,
    SPLPError,
    Subscription,
    Timeout,
    Token,
    Unavailable,
)
from splp.manual import ManualAdapter

__all__ = [
    "Account", "AccountRecord", "AccountSpec", "ApiInfo", "ApiKey", "App", "AppSpec",
    "BadCredentials", "Conflict", "DeleteResult", "Forbidden", "Invalid", "KeySpec", "Keys",
    "Login", "ManualAdapter", "NotAutomated", "NotFound", "Pending", "PortalStep", "Rejected",
    "SPLPAdapter", "SPLPError", "SessionGrant", "Subscription", "Timeout", "Token", "Unavailable", "make_adapter",
]


def make_adapter(mode: Literal["manual", "wso2"], **config: Any) -> SPLPAdapter:
    """The adapter for ``mode``; ``config`` is passed to its constructor
    (`ManualAdapter` or `splp.wso2.WSO2Adapter`)."""
    if mode == "manual":
        return ManualAdapter(**config)
    if mode == "wso2":
        from splp.wso2 import WSO2Adapter  # httpx only when needed

        return WSO2Adapter(**config)
    raise ValueError(f"unknown SPLP adapter mode {mode!r} (expected 'manual' or 'wso2')")
