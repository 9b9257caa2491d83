"""Procedure B: the application's data (SOP step B2), validated as SPLP (WSO2 DevPortal) allows."""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlparse

from workflow.form import Invalid, clean_text, within_length

ENVIRONMENTS = ("production", "sandbox")
_APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


class AppField(StrEnum):
    NAME = "name"
    DESCRIPTION = "description"
    BUSINESS_PROCESS = "business_process"
    ENVIRONMENT = "environment"
    CALLBACK_URL = "callback_url"


APP_FIELDS: tuple[AppField, ...] = tuple(AppField)
OPTIONAL = {AppField.DESCRIPTION, AppField.CALLBACK_URL}


def parse_app_name(text: str | None) -> str:
    """WSO2 application names: at most 100 characters; letters, digits, space, '.', '_' and '-'."""
    value = within_length(clean_text(text), 3, 100)
    if not _APP_NAME.match(value):
        raise Invalid("app_name_format")
    return value


def parse_description(text: str | None) -> str:
    return within_length(clean_text(text), 3, 512)


def parse_callback_url(text: str | None) -> str:
    value = clean_text(text)
    if len(value) > 255:
        raise Invalid("too_long", max=255)
    u = urlparse(value)
    if u.scheme not in ("https", "http") or not u.netloc or " " in value or "." not in u.netloc.split(":")[0]:
        raise Invalid("url_format")
    return value


def next_missing(data: dict[str, object]) -> AppField | None:
    for f in APP_FIELDS:
        if f.value not in data:
            return f
    return None
