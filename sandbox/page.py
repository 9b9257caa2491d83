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
    from sandbox.cast import Persona
    from sandbox.run import Sandbox

STATIC_DIR = Path(__file__).with_name("web")

def tour_a(sb: Sandbox) -> tuple[tuple[str, str, str], ...]:
    """The guided tour of procedure A, one line per move: (SOP step number, persona key, what to do),
    following the sandbox's SOP (its chain, roles and steps)."""
    sop, keys = sb.sop, {p.role: p.key for p in sb.personas if p.role}
    out = [(str(sop.request_step.number), "requester",
            "kirim <b>/ajukan</b> dan jawab pertanyaannya (Perangkat Daerah: <i>dinkes</i>; narahubung "
            f"<i>Siti Aminah</i>, <i>siti.aminah@{escape(sop.tenant)}</i>, <i>0812-3456-7890</i>), unggah "
            f"pindaian surat (PDF) dengan tombol lampiran {icon('attach', size=15, label='Lampirkan berkas')}, "
            "lalu <b>Kirim</b>.")]
    for i, st in enumerate(sop.chain):
        info = sop.stages[st]
        n = str(sop.steps[info.step].number)
        if st == sop.assigner:
            what = "pilih pelaksana dan instruksi, lalu kirim."
        elif i == 0:
            what = "pilih instruksi disposisi, lalu <b>Kirim tanpa catatan</b>."
        else:
            what = f"pilih instruksi, lalu kirim kepada {escape(sop.role_title(sop.holder(sop.next_stage(st))))}."
        out.append((n, keys[info.holder or ""], what))
    ex, num = keys[sop.executor], {s.kind: str(s.number) for s in sop.procedure_a}
    out += [(num["completeness_check"], ex, "periksa kelengkapan: <b>Lengkap</b>."),
            (num["registration"], ex, "<b>Daftarkan otomatis</b>: akun dibuat di SPLP sandbox."),
            (num["registration"], "requester", "klik tautan pribadi untuk narahubung dan pilih <b>Siti Aminah</b>."),
            (num["report"], "contact", "<b>Bagikan nomor ponsel saya</b>, lalu <b>Tampilkan</b> kredensial. Salin "
             "kata sandi awal sekarang: prosedur B memerlukannya, dan pesannya dihapus setelah 10 menit (waktu "
             "sandbox), juga saat jam dimajukan."),
            (num["report"], ex, f"periksa pratinjau {escape(sop.report_name.lower())}, kirim ke "
             f"{escape(sop.role_title(sop.forwarder))}."),
            (num["forward"], keys[sop.forwarder], f"<b>Teruskan kepada pemohon</b>: permohonan <b>Selesai</b>, "
             f"{escape(sop.report_name.lower())} (PDF) diterima.")]
    return tuple(out)


TOUR_B: tuple[tuple[str, str, str], ...] = (
    ("B1", "contact", "kirim <b>/aplikasi</b>, pilih akun, isi data aplikasi."),
    ("B2", "contact", "<b>Mulai</b>, ketik kata sandi akun SPLP, pilih API, <b>Proses</b>."),
    ("B3", "contact", "<b>Tampilkan</b>: Consumer Key/Secret, API key dan contoh pemakaian."),
)


def tour_clock(sb: Sandbox) -> str:
    digest = " dan ".join(escape(sb.sop.role_title(r)) for r in sb.sop.digest_to) or "pejabat"
    return ("Jam: <b>+1 hari kerja</b> melewati batas waktu langkah yang sedang berjalan: pemegangnya "
            "menerima pengingat, atasannya eskalasi; <b>Ke awal hari kerja berikutnya</b> memicu rekap pagi "
            f"untuk {digest}.")


def render_page(sb: Sandbox, *, clock: dict[str, Any], epoch: str,
                states: Iterable[tuple[Persona, dict[str, Any]]]) -> str:
    """The whole page: ``states`` are the personas with their chat state (``SandboxWeb.chat_state``)."""
    from sandbox.run import BOT_USERNAME

    template = (STATIC_DIR / "page.html").read_text("utf-8")
    panes = "".join(pane_html(sb, p, st) for p, st in states)
    names = {p.key: p.name for p in sb.personas}

    def tour(steps: tuple[tuple[str, str, str], ...]) -> str:
        return "".join(f'<li><span class="step">{escape(n)}</span> <b class="tour-who">{escape(names[k])}</b>: {what}</li>'
                       for n, k, what in steps)

    config = {"epoch": epoch, "bot": BOT_USERNAME,
              "personas": [{"key": p.key, "name": p.name, "title": p.title} for p in sb.personas]}
    # JSON in a <script type="application/json"> block: "<" escaped so that it cannot end it.
    config_json = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    return (template
            .replace("{{config}}", config_json)
            .replace("{{bot_name}}", escape(sb.bot_name))
            .replace("{{clock_text}}", escape(clock["text"]))
            .replace("{{clock_class}}", "on" if clock["working"] else "off")
            .replace("{{clock_label}}", "jam kerja" if clock["working"] else "di luar jam kerja")
            .replace("{{tour_a}}", tour(tour_a(sb)))
            .replace("{{tour_b}}", tour(TOUR_B))
            .replace("{{tour_clock}}", tour_clock(sb))
            .replace("{{panes}}", panes))


def pane_html(sb: Sandbox, p: Persona, st: dict[str, Any]) -> str:
    """One persona's pane: the chat, its keyboards and the composer."""
    initials = "".join(w[0] for w in p.name.split()[:2]).upper()
    menu = "".join(
        f'<button type="button" class="menu-item" data-cmd="/{escape(c["command"])}">'
        f'<b>/{escape(c["command"])}</b> {escape(c["description"])}</button>' for c in st["commands"])
    return f"""
<section class="pane" id="pane-{p.key}" data-persona="{p.key}" data-last="{st['last']}">
  <div class="persona"><span class="avatar av-{p.key}">{escape(initials)}</span>
    <span class="who"><span class="name">{escape(p.name)}</span><span class="title">{escape(p.title)}</span></span></div>
  <div class="chat-head"><span class="bot-name">{escape(sb.bot_name)}</span><span class="status">bot</span></div>
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
