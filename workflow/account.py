"""SPLP account data entered by the executor (pure validation)."""

from __future__ import annotations

import re

from workflow.form import Invalid

_LOCAL = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def parse_splp_username(text: str | None, tenant: str) -> str:
    """``user@<tenant-domain>`` (WSO2 multi-tenancy); a bare ``user`` gets the tenant appended."""
    value = (text or "").strip().lower()
    if not value:
        raise Invalid("empty")
    local, at, domain = value.partition("@")
    if not at:
        domain = tenant.lower()
    if domain != tenant.lower():
        raise Invalid("username_tenant", tenant=tenant)
    if not _LOCAL.match(local):
        raise Invalid("username_format", tenant=tenant)
    return f"{local}@{domain}"


def check_initial_password(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) < 8 or len(value) > 128 or "\n" in value:
        raise Invalid("password_format")
    return value
