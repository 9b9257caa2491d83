"""What the owner and the officials are shown of a procedure-B application: what SPLP holds for it,
its catalogue lines, the credentials message with a ready-to-run example, the steps' timeline.
Pure functions of the application's recorded state (no database, no SPLP)."""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta
from typing import Any

from bot import texts as T
from bot.settings import Settings
from storage.models import Application, AppStep
from workflow.sop import Sop

SUB_LABELS = {"UNBLOCKED": "aktif", "ON_HOLD": "menunggu persetujuan", "REJECTED": "ditolak"}  # SPLP's statuses


def key_type(app: Application) -> str:
    return "SANDBOX" if app.data.get("environment") == "sandbox" else "PRODUCTION"


def subscribed(app: Application) -> list[dict[str, Any]]:
    """Catalogue entries of the APIs this application is subscribed to (approved)."""
    subs = (app.data.get("splp") or {}).get("subs") or {}
    return [a for a in app.data.get("catalogue", []) if subs.get(a["id"]) == "UNBLOCKED"]


def what_exists(app: Application) -> tuple[list[str], list[str]]:
    """(what SPLP holds for this application, what is still missing), in Indonesian."""
    st = app.data.get("splp") or {}
    names = {a["id"]: f"{a['name']} {a['version']}" for a in app.data.get("catalogue", [])}
    have, missing = [], []
    (have if st.get("id") else missing).append(f"aplikasi «{app.data.get('name', '')}»")
    (have if st.get("keys") else missing).append(f"kunci OAuth2 {key_type(app).title()} (consumer key/secret)")
    subs = st.get("subs") or {}
    for api_id in app.data.get("apis", []):
        status = subs.get(api_id)
        label = f"langganan API {names.get(api_id, api_id)}"
        if status in SUB_LABELS:
            have.append(label if status == "UNBLOCKED" else f"{label} ({SUB_LABELS[status]})")
        else:
            missing.append(label)
    (have if st.get("api_key") else missing).append("API key")
    return have, missing


def describe_api(a: dict[str, Any]) -> str:
    """One catalogue line: name, version, owner agency, and the header the gateway expects."""
    how = f"header <code>{T.e(a['auth_header'])}: Bearer …</code>"
    if a.get("api_key"):
        how += " atau <code>apikey</code>"
    return f"• <b>{T.e(a['name'])}</b> {T.e(a['version'])} — {T.e(a['provider'])}; {how}"


def credentials_message(settings: Settings, now: datetime, app: Application, creds: dict[str, Any]) -> list[str]:
    """The credentials (whichever were made), then a ready-to-run example for developers: bash
    that works when pasted as it is (the values filled in). Tokens and API keys are long JWTs,
    so the example is a message of its own (several if many APIs), each within Telegram's limit."""
    s = settings
    tz = s.tz
    token_url = s.splp_base_url.rstrip("/") + "/oauth2/token"
    gw = s.splp_gateway_url.rstrip("/")
    lines = [f"🔐 <b>Kredensial aplikasi {T.e(app.data.get('name'))}</b>"]
    if creds.get("consumer_key"):
        lines.append(f"Consumer Key: <code>{T.e(creds['consumer_key'])}</code>")
    if creds.get("consumer_secret"):
        lines.append(f"Consumer Secret: <tg-spoiler><code>{T.e(creds['consumer_secret'])}</code></tg-spoiler>")
    if creds.get("access_token"):
        expires = datetime.fromisoformat(creds["token_expires_at"]) if creds.get("token_expires_at") else None
        when = ("" if expires is None else
                f" (kedaluwarsa sejak {T.fmt_dt(expires, tz)})" if expires <= now else
                f" (berlaku sampai {T.fmt_dt(expires, tz)})")
        lines.append(f"Access token OAuth2{when}: <tg-spoiler><code>{T.e(creds['access_token'])}</code></tg-spoiler>")
    if creds.get("api_key"):
        lines.append(f"API key: <tg-spoiler><code>{T.e(creds['api_key'])}</code></tg-spoiler>")
    if creds.get("access_token") and creds.get("consumer_key"):
        lines.append("\nAccess token baru diperoleh dengan Consumer Key dan Consumer Secret, seperti pada contoh.")
    apis = subscribed(app)
    script = []
    if creds.get("consumer_key") and creds.get("consumer_secret"):
        script += [f"CONSUMER_KEY={shlex.quote(creds['consumer_key'])}",
                   f"CONSUMER_SECRET={shlex.quote(creds['consumer_secret'])}",
                   f'TOKEN=$(curl -s -u "$CONSUMER_KEY:$CONSUMER_SECRET" -d grant_type=client_credentials '
                   f"{shlex.quote(token_url)} | python3 -c "
                   """'import sys,json;print(json.load(sys.stdin)["access_token"])')"""]
        script += [f'curl -H "{header(a)}: Bearer $TOKEN" {shlex.quote(gateway(gw, a))}' for a in apis]
    if creds.get("api_key"):
        with_key = [a for a in apis if a.get("api_key")]
        if with_key:
            script.append(f"API_KEY={shlex.quote(creds['api_key'])}")
            script += [f'curl -H "apikey: $API_KEY" {shlex.quote(gateway(gw, a))}' for a in with_key]
    lines.append("Simpan di tempat aman; jangan bagikan melalui chat.")
    parts = ["\n".join(lines)]
    chunks: list[list[str]] = []
    for line in script:  # whole lines per message, in order (the variables come first)
        if chunks and sum(len(T.e(x)) + 1 for x in chunks[-1]) + len(T.e(line)) < _EXAMPLE_BUDGET:
            chunks[-1].append(line)
        else:
            chunks.append([line])
    for i, chunk in enumerate(chunks):
        head = ("<b>Contoh untuk pengembang</b> (bash; salin seluruhnya)" if i == 0 else
                "<b>Contoh untuk pengembang</b> (lanjutan, di terminal yang sama)")
        parts.append(f"{head}:\n<pre>{T.e(chr(10).join(chunk))}</pre>")
    return parts


_EXAMPLE_BUDGET = 3800  # characters of bash per message (Telegram allows 4096 with the heading)


def header(api: dict[str, Any]) -> str:
    """The header an API expects the token in (a plain header name, else the default)."""
    h = str(api.get("auth_header") or "")
    return h if re.fullmatch(r"[A-Za-z0-9-]{1,64}", h) else "Authorization"


def gateway(base: str, api: dict[str, Any]) -> str:
    """An API's address on the gateway: {gateway}{context}/{version}/."""
    return base + api["context"] + "/" + api["version"] + "/"


def took(td: timedelta) -> str:
    secs = int(td.total_seconds())
    return f"{secs // 60} menit {secs % 60} detik" if secs >= 60 else f"{secs} detik"


def step_timeline(sop: Sop, steps: Any, now: Any, *, started: Any = None) -> str:
    """One line per procedure-B step, in order: the working time of its attempts together against
    its limit (a sign-in that failed and was tried again is one step with two attempts); with
    ``started``, a function of the start time, when it began."""
    groups: dict[str, list[AppStep]] = {}
    for x in steps:
        groups.setdefault(x.step_code, []).append(x)
    lines = []
    for code, tries in groups.items():
        spent = sum(((x.done_at or now) - x.started_at for x in tries), timedelta())
        last = tries[-1]
        limit = sop.steps[code].limit.as_timedelta if code in sop.steps else None
        verdict = ("berjalan" if last.done_at is None else
                   "tepat waktu" if limit is None or spent <= limit else "melewati batas")
        attempts = f", {len(tries)} percobaan" if len(tries) > 1 else ""
        lines.append(f"• {code}: {started(tries[0].started_at) + ' — ' if started else ''}"
                     f"{took(spent)}{attempts} ({verdict})")
    return "\n".join(lines)
