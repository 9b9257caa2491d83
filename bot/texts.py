"""User-facing text (formal Bahasa Indonesia) and renderers. HTML parse mode.

Only generic wording lives here: the office's and the service's names, the roles' titles, the
steps' labels and limits, the completeness items come from the SOP in force (``workflow.sop.Sop``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

from workflow.form import Field
from workflow.sop import Sop

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")
TZ_ABBR = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}

FIELD_LABELS = {
    Field.AGENCY: "Perangkat Daerah",
    Field.LETTER_NUMBER: "Nomor surat",
    Field.LETTER_DATE: "Tanggal surat",
    Field.SUBJECT: "Perihal",
    Field.CONTACT_NAME: "Nama narahubung",
    Field.CONTACT_EMAIL: "Email narahubung",
    Field.CONTACT_PHONE: "Nomor ponsel",
    Field.APP_NAME: "Nama aplikasi",
    Field.BUSINESS_PROCESS: "Proses bisnis",
    Field.SCAN: "Pindaian surat",
}

QUESTIONS = {
    Field.AGENCY: "Langkah 1/10 — Pilih <b>Perangkat Daerah</b> pemohon dari daftar di bawah, "
                  "atau ketik sebagian namanya (misalnya: <i>kesehatan</i> atau <i>Dinkes</i>).",
    Field.LETTER_NUMBER: "Langkah 2/10 — Ketik <b>nomor surat permohonan</b> "
                         "(contoh: <code>000.1/123-Dinkes/2026</code>).",
    Field.LETTER_DATE: "Langkah 3/10 — Ketik <b>tanggal surat</b> (contoh: <code>27-11-2026</code> atau "
                       "<code>27 November 2026</code>), atau pilih «Hari ini».",
    Field.SUBJECT: "Langkah 4/10 — Ketik <b>perihal surat</b>, atau pilih perihal baku "
                   "«Permohonan Pembuatan Akun SPLP».",
    Field.CONTACT_NAME: "Langkah 5/10 — Ketik <b>nama lengkap narahubung</b> (contact person).",
    Field.CONTACT_EMAIL: "Langkah 6/10 — Ketik <b>alamat email narahubung</b>.",
    Field.CONTACT_PHONE: "Langkah 7/10 — Ketik <b>nomor ponsel narahubung</b> (contoh: <code>0812-3456-7890</code>). "
                         "Jika Anda sendiri narahubungnya, tekan tombol «Saya narahubung — kirim nomor saya».",
    Field.APP_NAME: "Langkah 8/10 — Ketik <b>nama aplikasi</b> yang akan diintegrasikan dengan SPLP.",
    Field.BUSINESS_PROCESS: "Langkah 9/10 — Uraikan <b>proses bisnis aplikasi</b> tersebut: data apa yang "
                            "dipertukarkan, dengan siapa, dan untuk layanan apa (minimal 30 karakter).",
    Field.SCAN: "Langkah 10/10 — Kirim <b>pindaian surat permohonan yang telah ditandatangani</b> "
                "sebagai berkas PDF atau foto (paling besar 20 MB).",
}

ERRORS = {
    "empty": "Jawaban tidak boleh kosong.",
    "too_short": "Jawaban terlalu pendek (minimal {min} karakter).",
    "too_long": "Jawaban terlalu panjang (maksimal {max} karakter).",
    "single_line": "Mohon ketik dalam satu baris.",
    "letter_number_format": "Format nomor surat tidak valid. Gunakan huruf, angka, titik, garis miring atau "
                            "tanda hubung, dan sertakan setidaknya satu angka.",
    "date_format": "Format tanggal tidak dikenali. Contoh yang benar: 27-11-2026 atau 27 November 2026.",
    "date_not_exist": "Tanggal tersebut tidak ada dalam kalender.",
    "date_future": "Tanggal surat tidak boleh melewati hari ini.",
    "date_too_old": "Tanggal surat terlalu lama (lebih dari {days} hari yang lalu). Mohon periksa kembali.",
    "name_format": "Nama hanya boleh berisi huruf, spasi, titik, koma, apostrof, dan tanda hubung.",
    "email_format": "Alamat email tidak valid. Contoh yang benar: nama.pegawai@instansi.go.id.",
    "phone_format": "Nomor ponsel tidak valid. Contoh yang benar: 0812-3456-7890 atau +62 812-3456-7890.",
    "phone_not_indonesian": "Nomor ponsel harus nomor Indonesia (+62).",
    "phone_not_mobile": "Nomor tersebut bukan nomor ponsel. Mohon masukkan nomor ponsel narahubung.",
    "too_few_words": "Uraian proses bisnis terlalu singkat (minimal {min} kata).",
    "scan_type": "Jenis berkas tidak didukung. Kirim berkas PDF, atau gambar JPG/PNG.",
    "scan_too_big": "Berkas terlalu besar. Ukuran paling besar {max_mb} MB.",
    "scan_empty": "Berkas kosong atau rusak. Mohon kirim ulang.",
    "scan_download": "Berkas tidak dapat diunduh dari Telegram saat ini. Mohon kirim ulang berkas tersebut.",
    "agency_none": "Perangkat Daerah dengan nama tersebut tidak ditemukan. Coba kata lain atau pilih dari daftar.",
    "agency_short": "Ketik paling sedikit 2 huruf dari nama Perangkat Daerah.",
    "expect_text": "Mohon jawab dengan teks.",
    "expect_file": "Mohon kirim pindaian surat sebagai berkas PDF atau foto.",
    "contact_not_own": "Kontak yang dikirim bukan milik Anda. Ketik nomor ponsel narahubung, "
                       "atau tekan tombol «Saya narahubung» untuk mengirim nomor Anda sendiri.",
    "note_too_long": "Catatan terlalu panjang (maksimal {max} karakter).",
    "username_tenant": "Nama pengguna harus berakhiran @{tenant}.",
    "username_format": "Nama pengguna hanya boleh berisi huruf kecil, angka, titik, garis bawah, atau tanda hubung "
                       "(3–64 karakter), contoh: dinkes.simpus@{tenant}.",
    "password_format": "Kata sandi awal harus 8–128 karakter dalam satu baris.",
    "app_name_format": "Nama aplikasi hanya boleh berisi huruf, angka, spasi, titik, garis bawah, dan tanda hubung.",
    "app_name_taken": "Nama aplikasi tersebut sudah digunakan untuk akun ini. Pilih nama lain.",
    "url_format": "URL tidak valid. Contoh: https://aplikasi.instansi.go.id/callback",
    "range_backwards": "Tanggal akhir tidak boleh sebelum tanggal awal.",
    "range_too_long": "Rentang tanggal terlalu panjang (maksimal {days} hari sekaligus).",
    "hours_format": "Format jam tidak valid. Contoh: 08:00-12:00,12:30-15:00 | 08:00-11:30,12:30-15:30 "
                    "(bagian setelah | untuk hari Jumat).",
}

GREETING = (
    "Selamat datang di <b>{service}</b>.\n\n"
    "Melalui layanan ini Perangkat Daerah dapat mengajukan permohonan pembuatan akun SPLP "
    "(Sistem Penghubung Layanan Pemerintah) sesuai SOP Nomor {number}, dan memantau prosesnya.\n\n"
    "Silakan pilih layanan:"
)
GREETING_OFFICIAL = "\n\nAnda terdaftar sebagai <b>{roles}</b>. Gunakan /tugas untuk melihat permohonan yang menunggu tindakan Anda."

HELP = (
    "<b>Bantuan</b>\n\n"
    "/ajukan — mengajukan permohonan akun SPLP (surat permohonan diisi langkah demi langkah)\n"
    "/status — melihat status dan riwayat permohonan Anda\n"
    "/aplikasi — mendaftarkan aplikasi ke SPLP (OAuth2 token dan API key), bagi akun yang sudah selesai\n"
    "/batal — membatalkan pengisian yang sedang berlangsung\n"
    "/bantuan — menampilkan bantuan ini\n\n"
    "Data narahubung (nama, email, nomor ponsel) digunakan hanya untuk keperluan administrasi akun SPLP "
    "sesuai UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi."
)
HELP_OFFICIAL = (
    "\n\n<b>Untuk pejabat</b>\n/tugas — permohonan yang menunggu tindakan Anda, dari yang terlama"
)
HELP_OVERSIGHT = "\n/rekap — rekapitulasi pelaksanaan SOP dan laporan monitoring (PDF, XLSX, log audit)"
HELP_ADMIN = (
    "\n\n<b>Untuk admin</b>\n/undang — membuat tautan undangan pejabat\n/pejabat — daftar pejabat dan penonaktifan"
    "\n/kalender — hari libur tambahan dan jam kerja khusus (misalnya Ramadan)"
    "\n/perangkat — daftar Perangkat Daerah (tambah, aktifkan, nonaktifkan)"
)

CANCELLED_INPUT = "Pengisian dibatalkan. Draf permohonan Anda telah dihapus."
NOTHING_TO_CANCEL = "Tidak ada pengisian yang sedang berlangsung."
INPUT_CANCELLED = "Input dibatalkan."
DRAFT_EXISTS = ("Anda memiliki draf permohonan yang belum dikirim (terakhir diubah {when}). "
                "Lanjutkan draf tersebut atau mulai dari awal?")
UNKNOWN_INPUT = "Maaf, pesan tersebut tidak dikenali. Gunakan /ajukan untuk mengajukan permohonan, atau /bantuan."
# The hint that fits who wrote (Ctx.unknown_input): officials, the contact person, admins.
UNKNOWN_INPUT_HEAD = "Maaf, pesan tersebut tidak dikenali."
UNKNOWN_HINT_OFFICIAL = "/tugas — permohonan yang menunggu tindakan Anda"
UNKNOWN_HINT_CONTACT = "/aplikasi — mendaftarkan atau mengelola aplikasi di SPLP (OAuth2 token dan API key)"
UNKNOWN_HINT_ADMIN = "/undang, /pejabat, /kalender, /perangkat — perintah admin"
UNKNOWN_HINT_TAIL = "/bantuan — semua perintah"
GENERIC_ERROR = "Maaf, terjadi kesalahan saat memproses permintaan Anda. Tidak ada perubahan yang disimpan. Silakan coba lagi."

# Callback answers (≤200 characters)
TAP_STALE = "Tombol ini sudah tidak berlaku: permohonan telah diproses lebih lanjut."
TAP_CLOSED = "Permohonan ini sudah selesai atau dibatalkan."
TAP_FORBIDDEN = "Anda tidak berwenang melakukan tindakan ini."
TAP_FORGED = "Tombol tidak valid."
PAGE_OF = "Halaman {page} dari {pages}."
TAP_INVALID = "Pilihan tidak valid. Silakan ulangi."
TAP_NOT_FOUND = "Permohonan tidak ditemukan."
TAP_OK = "Tersimpan."


def fmt_dt(t: datetime | None, tz: ZoneInfo, *, with_day: bool = True) -> str:
    if t is None:
        return "—"
    t = t.astimezone(tz)
    s = f"{t.day} {MONTHS[t.month - 1]} {t.year} {t:%H.%M} {TZ_ABBR.get(str(tz), str(tz))}"
    return f"{DAYS[t.weekday()]}, {s}" if with_day else s


def fmt_date(d: date | None) -> str:
    if d is None:
        return "—"
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def e(s: object) -> str:
    return escape(str(s), quote=False)


def mask_name(name: str) -> str:
    return " ".join(w[0] + "***" if len(w) > 1 else w for w in name.split())


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    return phone[:6] + "*" * max(0, len(phone) - 9) + phone[-3:] if len(phone) > 9 else "***"


def sentence(name: str) -> str:
    """A document's name at the start of a sentence: ``"Laporan kegiatan"``, ``"Berita acara"``."""
    return name[:1].upper() + name[1:].lower()


def greeting(sop: Sop) -> str:
    return GREETING.format(service=e(sop.identity.service_name), number=e(sop.identity.number))


def role_titles(sop: Sop, roles: Iterable[str]) -> str:
    """The titles of ``roles`` in the SOP's order (the admin last)."""
    order = {r: i for i, r in enumerate(sop.official_roles())}
    return ", ".join(sop.role_title(r) for r in sorted(roles, key=lambda r: (order.get(r, 99), r)))
