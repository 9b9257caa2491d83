"""The sandbox page's HTML: the template filled in with the clock, the guided tour and one pane
per persona (each pane's chat rendered by ``sandbox/render.py``). The server is ``sandbox/web.py``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.icons import icon

if TYPE_CHECKING:
    from sandbox.run import Persona

STATIC_DIR = Path(__file__).with_name("web")

# The guided tour: one line per step, who acts next (persona key, what to do).
TOUR_A: tuple[tuple[str, str, str], ...] = (
    ("1", "requester", "kirim <b>/ajukan</b> dan jawab pertanyaannya (Perangkat Daerah: <i>dinkes</i>; "
                       "narahubung <i>Siti Aminah</i>, <i>siti.aminah@kotabogor.go.id</i>, "
                       "<i>0812-3456-7890</i>), unggah pindaian surat (PDF) dengan tombol lampiran "
                       f"{icon('attach', size=15, label='Lampirkan berkas')}, lalu <b>Kirim</b>."),
    ("2", "head", "pilih instruksi disposisi, lalu <b>Kirim tanpa catatan</b>."),
    ("3", "division", "pilih instruksi, lalu kirim kepada Ketua Tim Aplikasi."),
    ("3", "team", "pilih pelaksana dan instruksi, lalu kirim."),
    ("4", "executor", "periksa kelengkapan: <b>Lengkap</b>."),
    ("5", "executor", "<b>Daftarkan otomatis</b>: akun dibuat di SPLP sandbox."),
    ("5", "requester", "klik tautan pribadi untuk narahubung dan pilih <b>Siti Aminah</b>."),
    ("6", "contact", "<b>Bagikan nomor ponsel saya</b>, lalu <b>Tampilkan</b> kredensial. Salin kata sandi awal "
                     "sekarang: prosedur B memerlukannya, dan pesannya dihapus setelah 10 menit (waktu sandbox), "
                     "juga saat jam dimajukan."),
    ("6", "executor", "periksa pratinjau laporan kegiatan, kirim ke Kepala."),
    ("7", "head", "<b>Teruskan kepada pemohon</b>: permohonan <b>Selesai</b>, laporan (PDF) diterima."),
)
TOUR_B: tuple[tuple[str, str, str], ...] = (
    ("B1", "contact", "kirim <b>/aplikasi</b>, pilih akun, isi data aplikasi."),
    ("B2", "contact", "<b>Mulai</b>, ketik kata sandi akun SPLP, pilih API, <b>Proses</b>."),
    ("B3", "contact", "<b>Tampilkan</b>: Consumer Key/Secret, API key dan contoh pemakaian."),
)
TOUR_CLOCK = ("Jam: <b>+1 hari kerja</b> melewati batas waktu langkah yang sedang berjalan: pemegangnya "
              "menerima pengingat, atasannya eskalasi; <b>Ke awal hari kerja berikutnya</b> memicu rekap pagi "
              "untuk Kepala dan Kepala Bidang.")


def render_page(*, clock: dict[str, Any], epoch: str, states: Iterable[tuple[Persona, dict[str, Any]]]) -> str:
    """The whole page: ``states`` are the personas with their chat state (``SandboxWeb.chat_state``)."""
    from sandbox.run import BOT_NAME, BOT_USERNAME, PERSONAS

    template = (STATIC_DIR / "page.html").read_text("utf-8")
    panes = "".join(pane_html(p, st) for p, st in states)
    names = {p.key: p.name for p in PERSONAS}

    def tour(steps: tuple[tuple[str, str, str], ...]) -> str:
        return "".join(f'<li><span class="step">{escape(n)}</span> <b class="tour-who">{escape(names[k])}</b>: {what}</li>'
                       for n, k, what in steps)

    config = {"epoch": epoch, "bot": BOT_USERNAME,
              "personas": [{"key": p.key, "name": p.name, "title": p.title} for p in PERSONAS]}
    # JSON in a <script type="application/json"> block: "<" escaped so that it cannot end it.
    config_json = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return (template
            .replace("{{config}}", config_json)
            .replace("{{bot_name}}", escape(BOT_NAME))
            .replace("{{clock_text}}", escape(clock["text"]))
            .replace("{{clock_class}}", "on" if clock["working"] else "off")
            .replace("{{clock_label}}", "jam kerja" if clock["working"] else "di luar jam kerja")
            .replace("{{tour_a}}", tour(TOUR_A))
            .replace("{{tour_b}}", tour(TOUR_B))
            .replace("{{tour_clock}}", TOUR_CLOCK)
            .replace("{{panes}}", panes))


def pane_html(p: Persona, st: dict[str, Any]) -> str:
    """One persona's pane: the chat, its keyboards and the composer."""
    from sandbox.run import BOT_NAME

    initials = "".join(w[0] for w in p.name.split()[:2]).upper()
    menu = "".join(
        f'<button type="button" class="menu-item" data-cmd="/{escape(c["command"])}">'
        f'<b>/{escape(c["command"])}</b> {escape(c["description"])}</button>' for c in st["commands"])
    return f"""
<section class="pane" id="pane-{p.key}" data-persona="{p.key}" data-last="{st['last']}">
  <div class="persona"><span class="avatar av-{p.key}">{escape(initials)}</span>
    <span class="who"><span class="name">{escape(p.name)}</span><span class="title">{escape(p.title)}</span></span></div>
  <div class="chat-head"><span class="bot-name">{escape(BOT_NAME)}</span><span class="status">bot</span></div>
  <div class="chat">{st['html']}</div>
  <div class="outbox"></div>
  <div class="start-wrap"{'' if not st['started'] else ' hidden'}><button type="button" class="start">MULAI</button></div>
  <div class="menu" hidden>{menu}</div>
  <div class="rkb">{st['keyboard']}</div>
  <div class="notice" role="status" hidden></div>
  <form class="composer" autocomplete="off">
    <div class="as">Sebagai <b class="as-name">{escape(p.name)}</b></div>
    <button type="button" class="menu-btn" title="Menu perintah" aria-label="Menu perintah">{icon('menu')}</button>
    <button type="button" class="attach" title="Lampirkan berkas" aria-label="Lampirkan berkas">{icon('attach')}</button>
    <input type="file" name="file" hidden>
    <button type="button" class="contact-btn" title="Bagikan kontak saya" aria-label="Bagikan kontak saya">{icon('contact')}</button>
    <input type="text" name="text" class="txt" aria-label="Pesan sebagai {escape(p.name)}" placeholder="{escape(st['placeholder'] or 'Tulis pesan…')}" maxlength="4096">
    <button type="submit" class="send" title="Kirim" aria-label="Kirim">{icon('send')}</button>
  </form>
  <div class="toast" hidden></div>
  <div class="alert" hidden><div class="alert-box"><div class="alert-text"></div><button type="button" class="alert-ok">OK</button></div></div>
</section>"""


_ERROR_TITLES = {404: "Tidak ditemukan", 503: "Sandbox belum siap"}


def error_page(status: int, message: str) -> str:
    """A short Indonesian page for an address a person opened (a /file/… link) that cannot be served."""
    title = _ERROR_TITLES.get(status, "Permintaan tidak dapat dilayani")
    return (f'<!doctype html><html lang="id"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} — Sandbox SPLP</title>"
            f'<link rel="stylesheet" href="/static/sandbox.css"></head>'
            f'<body class="error-page"><main><h1>{escape(title)}</h1><p>{escape(message)}</p>'
            f'<p><a href="/">Kembali ke sandbox</a></p><p class="code">Kode {status}</p></main></body></html>')
