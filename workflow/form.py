"""The request letter (SOP step 1) as a form: its fields, their order and validation.

Pure: validators take the text and return the normalised value or raise
:class:`Invalid` with a code; the bot turns codes into Indonesian messages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from workflow.sop import Item, Precheck


class Field(StrEnum):
    AGENCY = "agency"
    LETTER_NUMBER = "letter_number"
    LETTER_DATE = "letter_date"
    SUBJECT = "subject"
    CONTACT_NAME = "contact_name"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"
    APP_NAME = "app_name"
    BUSINESS_PROCESS = "business_process"
    SCAN = "scan"


FORM_FIELDS: tuple[Field, ...] = tuple(Field)
DEFAULT_SUBJECT = "Permohonan Pembuatan Akun SPLP"

MAX_SCAN_BYTES = 20 * 1024 * 1024  # Telegram's getFile download limit
MIN_BUSINESS_PROCESS_CHARS = 30
MIN_BUSINESS_PROCESS_WORDS = 5
MAX_LETTER_AGE_DAYS = 366
SCAN_MIME_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png"}
SCAN_EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}


class Invalid(ValueError):
    """A rejected answer. ``code`` selects the user-facing message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def clean_text(text: str | None) -> str:
    if text is None:
        raise Invalid("empty")
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"[ \t]+", " ", text).strip()


def within_length(text: str, lo: int, hi: int) -> str:
    if not text:
        raise Invalid("empty")
    if len(text) < lo:
        raise Invalid("too_short", min=lo)
    if len(text) > hi:
        raise Invalid("too_long", max=hi)
    return text


_LETTER_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./\-_()&:]*$")


def parse_letter_number(text: str | None) -> str:
    value = within_length(clean_text(text), 3, 100)
    if "\n" in value or not _LETTER_NO.match(value) or not re.search(r"\d", value):
        raise Invalid("letter_number_format")
    return value


_MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "november": 11, "nov": 11, "nopember": 11,
    "desember": 12, "des": 12,
}


def parse_letter_date(text: str | None, today: date) -> date:
    """Accepts 31-12-2026, 31/12/2026, 31.12.2026, 2026-12-31 and "31 Desember 2026"."""
    value = clean_text(text).lower()
    if not value:
        raise Invalid("empty")
    d: date | None = None
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
            d = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", value):
            d = date(int(m[3]), int(m[2]), int(m[1]))
        elif m := re.fullmatch(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})", value):
            month = _MONTHS.get(m[2])
            if month:
                d = date(int(m[3]), month, int(m[1]))
    except ValueError:
        raise Invalid("date_not_exist") from None
    if d is None:
        raise Invalid("date_format")
    if d > today:
        raise Invalid("date_future")
    if d < today - timedelta(days=MAX_LETTER_AGE_DAYS):
        raise Invalid("date_too_old", days=MAX_LETTER_AGE_DAYS)
    return d


def parse_subject(text: str | None) -> str:
    value = within_length(clean_text(text), 5, 200)
    if "\n" in value:
        raise Invalid("single_line")
    return value


_NAME = re.compile(r"^[^\W\d_]+(?:[ .,'\-]+[^\W\d_]+)*\.?$", re.UNICODE)


def parse_person_name(text: str | None) -> str:
    value = within_length(clean_text(text), 3, 100)
    if not _NAME.match(value):
        raise Invalid("name_format")
    return value


def parse_email(text: str | None) -> str:
    value = clean_text(text)
    if not value:
        raise Invalid("empty")
    if len(value) > 254 or " " in value:
        raise Invalid("email_format")
    from email_validator import EmailNotValidError, validate_email  # only once somebody gives an email

    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid("email_format") from None
    return info.normalized


def parse_mobile(text: str | None) -> str:
    """An Indonesian mobile number, returned in E.164 (+62812...)."""
    import phonenumbers  # its metadata (~1 MB) only once somebody gives a number

    value = clean_text(text)
    if not value:
        raise Invalid("empty")
    raw = re.sub(r"[\s\-().]", "", value)
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if raw.startswith("62") and not raw.startswith("+"):
        raw = "+" + raw
    try:
        num = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        raise Invalid("phone_format") from None
    if not phonenumbers.is_valid_number(num):
        raise Invalid("phone_format")
    if phonenumbers.region_code_for_number(num) != "ID":
        raise Invalid("phone_not_indonesian")
    if phonenumbers.number_type(num) not in (phonenumbers.PhoneNumberType.MOBILE,
                                             phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise Invalid("phone_not_mobile")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def parse_contact_number(phone: str | None) -> str:
    """A number from a shared Telegram contact (international form, often without "+")."""
    phone = (phone or "").strip()
    if phone and phone[0].isdigit() and not phone.startswith("0"):
        phone = "+" + phone
    return parse_mobile(phone)


def parse_app_name(text: str | None) -> str:
    value = within_length(clean_text(text), 3, 100)
    if "\n" in value:
        raise Invalid("single_line")
    return value


def parse_business_process(text: str | None) -> str:
    value = within_length(clean_text(text), MIN_BUSINESS_PROCESS_CHARS, 3000)
    if len(re.findall(r"\w+", value)) < MIN_BUSINESS_PROCESS_WORDS:
        raise Invalid("too_few_words", min=MIN_BUSINESS_PROCESS_WORDS)
    return value


@dataclass(frozen=True)
class Scan:
    file_id: str
    file_unique_id: str
    kind: str  # "pdf" | "jpeg" | "png" | "photo"
    file_name: str | None
    mime_type: str | None
    size: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sniff_kind(content: bytes) -> str | None:
    """What a file really is, from its first bytes."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def check_content(scan: Scan, content: bytes) -> str:
    """The downloaded bytes must be what the scan claims to be; returns the real kind."""
    real = sniff_kind(content)
    if real is None:
        raise Invalid("scan_type")
    if scan.kind != "photo" and real != scan.kind:
        raise Invalid("scan_type")
    if len(content) < 100:
        raise Invalid("scan_empty")
    return real


def check_scan(*, file_id: str, file_unique_id: str, is_photo: bool, file_name: str | None,
               mime_type: str | None, size: int | None) -> Scan:
    """The scan of the signed letter: a PDF or an image, at most 20 MB (its metadata; the
    downloaded content is checked by :func:`check_content`)."""
    if is_photo:
        kind = "photo"
    else:
        kind = SCAN_MIME_TYPES.get((mime_type or "").lower())
        ext = ("." + file_name.rsplit(".", 1)[-1].lower()) if file_name and "." in file_name else ""
        by_ext = SCAN_EXTENSIONS.get(ext)
        if kind is None and mime_type in (None, "", "application/octet-stream"):
            kind = by_ext
        if kind is None or (by_ext is not None and by_ext != kind):
            raise Invalid("scan_type")
    if size is not None and size > MAX_SCAN_BYTES:
        raise Invalid("scan_too_big", max_mb=MAX_SCAN_BYTES // (1024 * 1024))
    if size is not None and size < 100:
        raise Invalid("scan_empty")
    return Scan(file_id, file_unique_id, kind, file_name, mime_type, size)


TEXT_PARSERS = {
    Field.LETTER_NUMBER: parse_letter_number,
    Field.SUBJECT: parse_subject,
    Field.CONTACT_NAME: parse_person_name,
    Field.CONTACT_EMAIL: parse_email,
    Field.CONTACT_PHONE: parse_mobile,
    Field.APP_NAME: parse_app_name,
    Field.BUSINESS_PROCESS: parse_business_process,
}


def next_missing(data: Mapping[str, Any]) -> Field | None:
    """The first field of the form that has no answer yet."""
    for f in FORM_FIELDS:
        if data.get(f.value) in (None, ""):
            return f
    return None


def _scan_ok(scan: Any) -> None:
    """The letter's scan was received, downloaded and kept, and its content checked (PDF, JPEG
    or PNG, 100 bytes to 20 MB): what ``check_scan`` and ``check_content`` let through."""
    if not isinstance(scan, Mapping) or not scan.get("file_id") or not scan.get("stored_file_id"):
        raise Invalid("scan_empty")
    if not 100 <= int(scan.get("size") or 0) <= MAX_SCAN_BYTES:
        raise Invalid("scan_too_big")


PRECHECKS = {
    Precheck.CONTACT_NAME: ("contact_name", parse_person_name),
    Precheck.CONTACT_EMAIL: ("contact_email", parse_email),
    Precheck.CONTACT_PHONE: ("contact_phone", parse_mobile),
    Precheck.BUSINESS_PROCESS: ("business_process", parse_business_process),
    Precheck.LETTER_SCAN: ("scan", _scan_ok),
}


def precheck(data: Mapping[str, Any], items: Iterable[Item]) -> dict[str, bool | None]:
    """Automatic pre-checks of the completeness items (re-validates what is stored): per item
    code, whether it passed, or None when the SOP gives the item no pre-check."""
    out: dict[str, bool | None] = {}
    for item in items:
        check = PRECHECKS.get(item.precheck)
        if check is None:
            out[item.code] = None
            continue
        key, fn = check
        try:
            fn(data.get(key))
            out[item.code] = True
        except Invalid:
            out[item.code] = False
    return out


@dataclass(frozen=True)
class AgencyRef:
    id: int
    code: str
    name: str
    short_name: str


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def find_agencies(query: str, agencies: Iterable[AgencyRef], limit: int = 8) -> list[AgencyRef]:
    """Agencies whose name, short name or code contain every word of ``query``.

    An exact short-name or code match wins outright.
    """
    q = _norm(query)
    if len(q) < 2:
        return []
    words = q.split()
    exact: list[AgencyRef] = []
    found: list[AgencyRef] = []
    for a in agencies:
        if q in (_norm(a.short_name), _norm(a.code)):
            exact.append(a)
            continue
        hay = f"{_norm(a.name)} {_norm(a.short_name)} {a.code}"
        if all(w in hay for w in words):
            found.append(a)
    return exact if exact else found[:limit]
