"""The SOP's last three steps of procedure A: the SPLP account, the credentials for the
phone-verified contact person, the activity report, and its forwarding to the requester."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot import keyboards as kb
from bot import texts as T
from bot.services.chain import REFUSAL_TEXT, Chain, view_of
from bot.services.reports import Reports
from storage.models import Account, Agency, ContactLink, Official, Report, Request, Secret
from workflow.account import check_initial_password, parse_splp_username
from workflow.form import Invalid, parse_contact_number
from workflow.machine import Action, Command, Refusal, decide
from workflow.sop import SystemStage


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _err(err: Invalid) -> str:
    return "⚠️ " + T.ERRORS.get(err.code, T.ERRORS["empty"]).format(**err.params)


class Accounts(Chain):
    # ------------------------------------------------------------------ step 5: registration
    async def gate(self, user_id: int, req: Request | None, version: int, action: Action) -> str | None:
        if req is None:
            return T.TAP_NOT_FOUND
        sop = await self.sop_of(req)
        probe = decide(sop, view_of(req), Command(action, version), await self.actor(user_id),
                       active_executor_ids=await self.active_executor_ids(sop))
        return REFUSAL_TEXT[probe] if isinstance(probe, Refusal) else None

    async def start_record(self, user_id: int, rid: int, ver: int) -> str | None:
        req = await self.s.get(Request, rid)
        if err := await self.gate(user_id, req, ver, Action.REGISTER):
            return err
        await self.set_awaiting(user_id, "acct_user", rid=rid, ver=ver)
        self.out.send(user_id, f"Ketik <b>nama pengguna akun SPLP</b> yang telah Anda daftarkan untuk {T.e(req.number)} "
                               f"(contoh: <code>dinkes.simpus@{T.e(self.sop.tenant)}</code>). "
                               "Ketik /batal untuk membatalkan.")
        return "Silakan ketik nama penggunanya."

    async def username_typed(self, user_id: int, text: str, ctx: dict[str, Any]) -> None:
        try:
            username = parse_splp_username(text, self.sop.tenant)
        except Invalid as err:
            self.out.send(user_id, _err(err))
            return
        rid, ver = ctx["rid"], ctx["ver"]
        await self.set_awaiting(user_id, "acct_choice", rid=rid, ver=ver, username=username)
        self.out.send(user_id, f"Nama pengguna: <code>{T.e(username)}</code>\nBagaimana kredensial awal disampaikan?",
                      kb.inline([kb.btn("📧 Portal SPLP mengirimkannya melalui email", self.cb("rm", rid, ver))],
                                [kb.btn("🔑 Saya ketik kata sandi awal", self.cb("rp", rid, ver))]))

    async def choose_delivery(self, user_id: int, rid: int, ver: int, how: str, tapped: tuple[int, int]) -> str | None:
        sess = await self.session(user_id)
        if sess is None or sess.awaiting != "acct_choice" or sess.context.get("rid") != rid:
            return T.TAP_STALE
        req = await self.s.get(Request, rid)
        if err := await self.gate(user_id, req, ver, Action.REGISTER):
            return err
        self.out.edit_markup(tapped[0], None, message_id=tapped[1])
        if how == "portal_email":
            res = await self.register(user_id, req, sess.context["username"], password=None)
            self.out.send(user_id, res)
            return T.TAP_OK
        await self.set_awaiting(user_id, "acct_pass", rid=rid, ver=ver, username=sess.context["username"])
        self.out.send(user_id, "Ketik <b>kata sandi awal</b> dari portal SPLP. Pesan Anda akan langsung dihapus dari "
                               "percakapan, dan kata sandi disimpan terenkripsi sampai ditampilkan satu kali kepada "
                               "narahubung yang terverifikasi.")
        return None

    async def password_typed(self, user_id: int, text: str, ctx: dict[str, Any], message_id: int) -> None:
        self.out.delete(user_id, message_id=message_id)  # the password does not stay in the chat
        try:
            password = check_initial_password(text)
        except Invalid as err:
            self.out.send(user_id, _err(err))
            return
        req = await self.s.get(Request, ctx["rid"])
        if ctx.get("reissue"):
            await self.clear_awaiting(user_id)
            if req is None or await self.s.get(Account, req.id) is None:
                self.out.send(user_id, T.TAP_NOT_FOUND)
                return
            await self.store_secret(req, password, reason="reissued")
            self.out.send(user_id, "✅ Kata sandi baru disimpan terenkripsi dan akan ditampilkan satu kali kepada "
                                   "narahubung yang terverifikasi.")
            await self.offer_secret(req)
            return
        if err := await self.gate(user_id, req, ctx["ver"], Action.REGISTER):
            await self.clear_awaiting(user_id)
            self.out.send(user_id, err)
            return
        res = await self.register(user_id, req, ctx["username"], password=password)  # type: ignore[arg-type]
        self.out.send(user_id, res)

    async def register(self, user_id: int, req: Request, username: str, *, password: str | None,
                       mode: str = "manual", splp_user_id: str | None = None, must_change: bool = False) -> str:
        """Record the account and move the request to step 6."""
        if password is not None and self.env.vault is None:
            return ("⚠️ Kunci enkripsi rahasia belum dikonfigurasi (SECRETS_KEY), sehingga kata sandi tidak dapat "
                    "disimpan. Hubungi admin, atau pilih pengiriman kredensial melalui email portal.")
        actor = await self.actor(user_id)
        self.s.add(Account(request_id=req.id, username=username, mode=mode, splp_user_id=splp_user_id,
                           delivery="telegram" if password else "portal_email", must_change_password=must_change,
                           created_by=actor.official_id, created_at=self.now))
        await self.s.flush()
        t = await self.apply(req, Command(Action.REGISTER, req.version), actor)
        if isinstance(t, Refusal):
            raise Abort(REFUSAL_TEXT[t])
        await self.clear_awaiting(user_id)
        link = await self.contact_link(req)
        if password is not None:
            await self.store_secret(req, password, reason=None)
        sop = await self.sop_of(req)
        report = T.e(sop.report_name.lower())
        self.tell_requester(req, (
            f"🎉 Akun SPLP untuk permohonan <b>{T.e(req.number)}</b> telah didaftarkan: <code>{T.e(username)}</code>.\n\n"
            + (f"Kredensial awal akan diberikan kepada narahubung ({T.e(T.mask_name(req.contact_name))}, "
               f"{T.e(T.mask_phone(req.contact_phone))}) melalui bot ini setelah nomor ponselnya diverifikasi. "
               f"Teruskan tautan pribadi berikut kepada narahubung (jika Anda sendiri narahubungnya, buka "
               f"tautan ini):\n{T.e(link)}" if password is not None else
               "Kredensial awal dikirim oleh portal SPLP ke email narahubung ("
               f"{T.e(T.mask_email(req.contact_email))}). Narahubung dapat tetap memverifikasi diri melalui tautan "
               f"berikut untuk menerima {report}:\n{T.e(link)}")))
        return f"Akun tercatat. Lanjutkan dengan {report} (langkah {sop.report_step.number})."

    # ------------------------------------------------------------------ step 5, wso2 mode
    def splp_username(self, req: Request, agency: Agency | None) -> str:
        slug = re.sub(r"[^a-z0-9]+", ".", req.app_name.lower()).strip(".")
        base = f"{agency.code if agency else 'pd'}.{slug}" if slug else (agency.code if agency else "pd")
        return base[:30].strip("._-") or f"pd{req.id}"

    async def start_wso2(self, user_id: int, rid: int, ver: int) -> tuple[str | None, bool]:
        """Claim the automatic registration. Returns (answer, whether to run it after commit)."""
        req = await self.s.get(Request, rid)
        if err := await self.gate(user_id, req, ver, Action.REGISTER):
            return err, False
        if self.env.splp is None:
            return "Mode SPLP otomatis tidak aktif.", False
        sess = await self.session(user_id)
        if sess and sess.awaiting == "wso2_busy" and sess.context.get("until", "") > self.now.isoformat():
            return "Pendaftaran sedang diproses…", False
        await self.set_awaiting(user_id, "wso2_busy", rid=rid, until=(self.now + timedelta(minutes=2)).isoformat())
        self.audit("splp_register_started", actor_tg=user_id, request_id=rid)
        return "Mendaftarkan akun di SPLP…", True

    def account_spec(self, req: Request, agency: Agency | None) -> Any:
        from splp import AccountSpec
        parts = req.contact_name.replace(",", " ").split()
        given = parts[0] if parts else req.contact_name
        family = " ".join(parts[1:]) or given
        return AccountSpec(username=self.splp_username(req, agency), given_name=given, family_name=family,
                           email=req.contact_email, phone_e164=req.contact_phone)

    # ------------------------------------------------------------------ credentials
    async def contact_link(self, req: Request) -> str:
        token = secrets.token_urlsafe(18)
        row = await self.s.get(ContactLink, req.id)
        if row is None:
            self.s.add(ContactLink(request_id=req.id, token_hash=token_hash(token), created_at=self.now, failures=0))
        else:
            row.token_hash = token_hash(token)
        return f"https://t.me/{self.env.bot_username}?start=cp_{token}"

    async def store_secret(self, req: Request, password: str, *, reason: str | None) -> Secret:
        assert self.env.vault is not None
        for old in (await self.s.scalars(select(Secret).where(Secret.request_id == req.id,
                                                               Secret.wiped_at.is_(None)))).all():
            old.ciphertext, old.wiped_at, old.wipe_reason = None, self.now, "reissued"
        sec = Secret(request_id=req.id, kind="account_password", ciphertext=self.env.vault.encrypt(password),
                     created_at=self.now, expires_at=self.now + timedelta(hours=self.settings.secret_ttl_hours))
        self.s.add(sec)
        await self.s.flush()
        self.audit("secret_stored", request_id=req.id, secret=sec.id, reason=reason)
        return sec

    async def open_link(self, user_id: int, token: str) -> None:
        link = await self.s.scalar(select(ContactLink).where(ContactLink.token_hash == token_hash(token)))
        if link is None:
            self.audit("contact_link_unknown", actor_tg=user_id)
            self.out.send(user_id, "Tautan narahubung tidak valid.")
            return
        req = await self.s.get(Request, link.request_id)
        if link.locked_at is not None:
            self.out.send(user_id, "Tautan ini terkunci karena terlalu banyak percobaan verifikasi yang gagal. "
                                   f"Petugas {T.e(self.sop.identity.office_short)} telah diberi tahu.")
            return
        if link.verified_telegram_id is not None and link.verified_telegram_id != user_id:
            self.audit("contact_link_other_user", actor_tg=user_id, request_id=link.request_id)
            self.out.send(user_id, "Narahubung permohonan ini sudah diverifikasi dengan akun Telegram lain.")
            return
        if link.verified_telegram_id == user_id:
            await self.offer_secret(req)  # type: ignore[arg-type]
            return
        await self.set_awaiting(user_id, "cp_verify", rid=link.request_id)
        self.out.send(user_id, (
            f"Tautan ini untuk narahubung permohonan akun SPLP <b>{T.e(req.number)}</b>. "  # type: ignore[union-attr]
            "Untuk memastikan Anda adalah narahubung yang tercantum dalam surat, tekan tombol di bawah untuk "
            "membagikan nomor ponsel Anda sendiri."), kb.contact_keyboard("📱 Bagikan nomor ponsel saya"))

    async def verify_contact(self, user_id: int, phone: str, contact_user_id: int | None, ctx: dict[str, Any]) -> None:
        link = await self.s.get(ContactLink, ctx["rid"])
        req = await self.s.get(Request, ctx["rid"])
        if link is None or req is None or link.locked_at is not None:
            await self.clear_awaiting(user_id)
            self.out.send(user_id, "Tautan narahubung tidak berlaku lagi.", kb.REMOVE_KEYBOARD)
            return
        try:
            e164 = parse_contact_number(phone)
        except Invalid:
            e164 = ""
        if contact_user_id != user_id or e164 != req.contact_phone:
            link.failures += 1
            why = "not_own_contact" if contact_user_id != user_id else "phone_mismatch"
            self.audit("contact_refused", actor_tg=user_id, request_id=req.id, reason=why, failures=link.failures)
            if link.failures >= self.settings.contact_max_failures:
                link.locked_at = self.now
                await self.clear_awaiting(user_id)
                self.out.send(user_id, "Verifikasi gagal terlalu sering; tautan ini kini terkunci. Petugas "
                                       f"{T.e(self.sop.identity.office_short)} "
                                       "telah diberi tahu.", kb.REMOVE_KEYBOARD)
                await self.tell_executor(req, f"⚠️ Tautan narahubung permohonan <b>{T.e(req.number)}</b> terkunci "
                                              f"setelah {link.failures} kali verifikasi gagal (kontak orang lain atau "
                                              "nomor yang tidak sesuai surat). Kredensial belum dapat disampaikan "
                                              "melalui Telegram.")
                return
            self.out.send(user_id, ("⚠️ Kontak yang dibagikan bukan milik Anda. Tekan tombol «Bagikan nomor ponsel "
                                    "saya»." if why == "not_own_contact" else
                                    "⚠️ Nomor ponsel Anda tidak sama dengan nomor narahubung dalam surat permohonan."))
            return
        link.verified_telegram_id, link.verified_at = user_id, self.now
        await self.clear_awaiting(user_id)
        self.audit("contact_verified", actor_tg=user_id, request_id=req.id)
        self.out.send(user_id, "✅ Nomor ponsel Anda terverifikasi sebagai narahubung.", kb.REMOVE_KEYBOARD)
        await self.offer_secret(req)

    async def offer_secret(self, req: Request) -> None:
        link = await self.s.get(ContactLink, req.id)
        if link is None or link.verified_telegram_id is None:
            return
        acct = await self.s.get(Account, req.id)
        sec = await self.s.scalar(select(Secret).where(Secret.request_id == req.id, Secret.wiped_at.is_(None))
                                  .order_by(Secret.id.desc()))
        uid = link.verified_telegram_id
        if sec is not None:
            self.out.send(uid, (
                f"🔐 Kredensial awal akun SPLP <code>{T.e(acct.username if acct else '')}</code> siap. Tekan "
                f"<b>Tampilkan</b> untuk melihatnya. Kredensial hanya ditampilkan <b>satu kali</b> dan pesannya "
                f"dihapus otomatis setelah {self.settings.secret_message_minutes} menit; segera ganti kata sandi "
                "pada login pertama."), kb.inline([kb.btn("👁 Tampilkan", self.cb("cs", req.id, sec.id))]))
        elif acct is not None and acct.delivery == "portal_email":
            self.out.send(uid, f"Akun SPLP <code>{T.e(acct.username)}</code>: kredensial awal dikirim oleh portal SPLP "
                               f"ke email {T.e(T.mask_email(req.contact_email))}. "
                               f"{T.e(T.sentence((await self.sop_of(req)).report_name))} akan dikirim ke sini setelah "
                               "selesai.")
        else:
            self.out.send(uid, "Kredensial belum tersedia. Anda akan diberi tahu bila sudah siap.")

    async def claim_reveal(self, user_id: int, rid: int, secret_id: int) -> tuple[list[str] | None, str | None]:
        """Checks and claims a reveal. Returns (plaintext to show, or None; answer text)."""
        link = await self.s.get(ContactLink, rid)
        sec = await self.s.get(Secret, secret_id)
        if link is None or link.verified_telegram_id != user_id or sec is None or sec.request_id != rid:
            self.audit("reveal_refused", actor_tg=user_id, request_id=rid)
            return None, T.TAP_FORBIDDEN
        if sec.wiped_at is not None or sec.ciphertext is None:
            return None, ("Kredensial ini sudah ditampilkan sebelumnya." if sec.wipe_reason == "revealed"
                          else "Kredensial ini sudah tidak berlaku. Petugas akan menerbitkan yang baru.")
        if sec.reveal_claimed_until is not None and sec.reveal_claimed_until > self.now:
            return None, "Sedang ditampilkan…"
        if self.env.vault is None:
            return None, "Kunci enkripsi tidak tersedia. Hubungi petugas."
        sec.reveal_claimed_until = self.now + timedelta(seconds=60)
        acct = await self.s.get(Account, rid)
        password = self.env.vault.decrypt(sec.ciphertext)
        text = (f"🔐 <b>Kredensial awal akun SPLP</b>\nNama pengguna: <code>{T.e(acct.username if acct else '')}</code>\n"
                f"Kata sandi awal: <tg-spoiler><code>{T.e(password)}</code></tg-spoiler>\n\nMasuk di "
                f"{T.e(self.settings.splp_portal_url)} dan segera ganti kata sandi. Pesan ini akan dihapus dalam "
                f"{self.settings.secret_message_minutes} menit.")
        return [text], None

    def revealed(self, req_id: int, sec: Secret, user_id: int, message_ids: list[int]) -> None:
        sec.ciphertext, sec.wiped_at, sec.wipe_reason = None, self.now, "revealed"
        sec.revealed_at, sec.revealed_to, sec.reveal_claimed_until = self.now, user_id, None
        for message_id in message_ids:
            self.out.delete(user_id, message_id=message_id,
                            delay=timedelta(minutes=self.settings.secret_message_minutes))
        self.audit("secret_revealed", actor_tg=user_id, request_id=req_id, secret=sec.id)

    async def expire_secrets(self) -> int:
        """Wipe secrets nobody saw in time, and those whose reveal may or may not have reached the
        chat (a crash or a timeout between sending and recording); the executor is asked to reissue."""
        rows = (await self.s.execute(select(Secret.id, Secret.request_id, Secret.expires_at, Secret.kind).where(
            Secret.wiped_at.is_(None),
            ((Secret.expires_at <= self.now) & ((Secret.reveal_claimed_until.is_(None))
                                                | (Secret.reveal_claimed_until <= self.now)))
            | ((Secret.reveal_claimed_until <= self.now) & Secret.revealed_at.is_(None))))).all()
        n = 0
        for sec_id, rid, expires_at, kind in rows:
            reason = "expired" if expires_at <= self.now else "uncertain"
            if await self.wipe(sec_id, rid, reason, kind):
                n += 1
        return n

    async def wipe(self, sec_id: int, rid: int, reason: str, kind: str = "account_password") -> bool:
        """Wipe one secret (once, also with several instances) and tell whoever must act: the
        executor for an account password, the application's owner for its credentials; the
        working secrets of procedure B (a password typed for a session, a session grant, an old
        API key to revoke) just lapse."""
        res = await self.s.execute(update(Secret).where(Secret.id == sec_id, Secret.wiped_at.is_(None)).values(
            ciphertext=None, wiped_at=self.now, wipe_reason=reason, reveal_claimed_until=None))
        if res.rowcount != 1:
            return False
        self.audit(f"secret_{reason}", request_id=rid, secret=sec_id, kind=kind)
        if kind == "app_credentials":
            from bot.services.apps import Apps
            await Apps(self.scope, self.env).credentials_lapsed(sec_id, reason)
            return True
        if kind != "account_password":
            return True
        req = await self.s.get(Request, rid)
        if req is not None:
            why = (f"tidak ditampilkan oleh narahubung sampai batasnya ({self.settings.secret_ttl_hours} jam)"
                   if reason == "expired" else
                   "mungkin tidak sampai kepada narahubung (gangguan saat ditampilkan)")
            await self.tell_executor(req, (
                f"⌛ Kredensial awal permohonan <b>{T.e(req.number)}</b> {why} dan telah dihapus. Atur ulang kata "
                "sandi di portal SPLP, lalu terbitkan ulang."), kb.inline(
                [kb.btn("🔁 Terbitkan ulang kata sandi", self.cb("rr", req.id))]))
        return True

    async def start_reissue(self, user_id: int, rid: int) -> str | None:
        req = await self.s.get(Request, rid)
        actor = await self.actor(user_id)
        if req is None:
            return T.TAP_NOT_FOUND
        if actor.official_id is None or actor.official_id != req.executor_official_id:
            return T.TAP_FORBIDDEN
        if await self.s.get(Account, rid) is None or req.stage == SystemStage.CANCELLED:
            return T.TAP_STALE
        await self.set_awaiting(user_id, "acct_pass", rid=rid, ver=req.version, reissue=True)
        self.out.send(user_id, f"Ketik kata sandi awal yang baru untuk {T.e(req.number)} (pesan Anda akan dihapus).")
        return None

    async def tell_executor(self, req: Request, text: str, markup: dict[str, Any] | None = None) -> None:
        if req.executor_official_id:
            off = await self.s.get(Official, req.executor_official_id)
            if off is not None and off.active:
                self.out.send(off.telegram_id, text, markup)

    # ------------------------------------------------------------------ step 6: report
    async def report_preview(self, req: Request, official_tg: int) -> None:
        sop = await self.sop_of(req)
        rep = await Reports(self.scope, self.env).build_report(req, sop)
        self.out.send_stored(official_tg, rep.stored_file_id, f"{rep.number}.pdf",  # type: ignore[arg-type]
                             caption=f"Pratinjau {T.e(sop.report_name.lower())} {T.e(req.number)}")

    async def start_note(self, user_id: int, rid: int, ver: int) -> str | None:
        req = await self.s.get(Request, rid)
        if err := await self.gate(user_id, req, ver, Action.SUBMIT_REPORT):
            return err
        await self.set_awaiting(user_id, "report_note", rid=rid, ver=ver)
        self.out.send(user_id, f"Ketik catatan yang akan dicantumkan dalam {T.e((await self.sop_of(req)).report_name.lower())} "  # type: ignore[arg-type]
                               "(maksimal 1000 karakter).")
        return "Silakan ketik catatannya."

    async def note_typed(self, user_id: int, text: str, ctx: dict[str, Any]) -> None:
        text = text.strip()
        if not 3 <= len(text) <= 1000:
            self.out.send(user_id, "⚠️ Catatan harus 3–1000 karakter.")
            return
        req = await self.s.get(Request, ctx["rid"])
        if err := await self.gate(user_id, req, ctx["ver"], Action.SUBMIT_REPORT):
            await self.clear_awaiting(user_id)
            self.out.send(user_id, err)
            return
        rep = await self.s.get(Report, req.id)  # type: ignore[union-attr]
        if rep is not None:
            rep.note = text
        await self.clear_awaiting(user_id)
        await self.report_preview(req, user_id)  # type: ignore[arg-type]
        step = await self.open_step(req.id)  # type: ignore[union-attr]
        sop = await self.sop_of(req)  # type: ignore[arg-type]
        self.out.send(user_id, await self.holder_text(req, step, sop), await self.holder_keyboard(req, sop),  # type: ignore[arg-type]
                      request_id=req.id, live=True)  # type: ignore[union-attr]

    async def submit_report(self, user_id: int, rid: int, ver: int, tapped: tuple[int, int]) -> str:
        req = await self.s.get(Request, rid)
        if req is None:
            return T.TAP_NOT_FOUND
        t = await self.apply(req, Command(Action.SUBMIT_REPORT, ver), await self.actor(user_id), tapped=tapped)
        if isinstance(t, Refusal):
            return REFUSAL_TEXT[t]
        sop = await self.sop_of(req)
        return f"Laporan dikirim kepada {sop.role_title(sop.forwarder)}."

    # ------------------------------------------------------------------ step 7: forwarding
    async def forward(self, user_id: int, rid: int, ver: int, tapped: tuple[int, int]) -> str:
        req = await self.s.get(Request, rid)
        if req is None:
            return T.TAP_NOT_FOUND
        t = await self.apply(req, Command(Action.FORWARD, ver), await self.actor(user_id), tapped=tapped)
        return REFUSAL_TEXT[t] if isinstance(t, Refusal) else "Laporan diteruskan kepada pemohon."


class Abort(Exception):
    """A step-5 action cannot go on; the message says why (shown to the executor)."""


__all__ = ["Abort", "Accounts"]
