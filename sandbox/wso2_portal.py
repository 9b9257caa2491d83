"""The SPLP sandbox's portal page: what a person sees who opens the sandbox's SPLP address
(the bot's messages point there, as they point to splp.layanan.go.id in production). It says,
in Indonesian, that this is the sandbox and what is in it; there is no login here."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

#: Paths served with the page (GET): the portal's root and the Developer Portal's pages.
PORTAL_PREFIXES = ("/devportal",)


def is_portal_path(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PORTAL_PREFIXES)


def portal_page(*, tenant: str, accounts: int, apis: Iterable[str]) -> str:
    api_items = "".join(f"<li>{escape(name)}</li>" for name in sorted(apis))
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portal SPLP (sandbox)</title></head>
<body style="font: 15px/1.5 sans-serif; max-width: 640px; margin: 8vh auto; padding: 0 16px; color: #1f2933">
<h1 style="font-size: 22px">Portal SPLP — sandbox</h1>
<p><b>Ini bukan portal SPLP yang sebenarnya.</b> Ini SPLP tiruan yang berjalan di komputer ini bersama
sandbox bot, untuk mencoba dan berlatih. Akun, aplikasi, dan kunci API di sini hanya berlaku di sandbox
ini; portal yang sebenarnya adalah <b>splp.layanan.go.id</b>.</p>
<p>Di portal yang sebenarnya narahubung masuk dengan nama pengguna dan kata sandi awal, lalu segera
menggantinya. Sandbox ini tidak memiliki halaman masuk: kata sandi awal dipakai pada prosedur B di bot
(<b>/aplikasi</b>), yang membuat aplikasi dan kunci API melalui API SPLP sandbox ini.</p>
<ul>
<li>Tenant: <b>{escape(tenant)}</b></li>
<li>Akun Perangkat Daerah yang terdaftar: <b>{accounts}</b></li>
</ul>
<p>API yang tersedia untuk berlangganan:</p>
<ul>{api_items}</ul>
</body></html>
"""
