"""Procedure B (SOP: B1 open the user portal, B2 application data, B3 OAuth2 token and API key),
guided step by step; each step's start and end recorded against its 10-minute limit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot import keyboards as kb
from bot import texts as T
from bot.services.apps_view import SUB_LABELS, credentials_message, step_timeline, took
from bot.services.apps_wso2 import BUSY_TEXT, LOGIN_TTL, OP, OPS, WORK_SECRETS, allowed, claim, live_work_secrets
from bot.services.app_form import ENV_LABELS, AppForm, b_limits
from splp.manual import portal_steps
from storage.figures import add_tallies
from storage.models import Account, Agency, Application, AppStep, ContactLink, Request
from workflow.application import next_missing
from workflow.oversight import elapsed_seconds, passage_tally
from workflow.sop import SystemStage

STATUS_LABELS = {"draft": "draf", "in_progress": "sedang berjalan", "waiting": "menunggu persetujuan SPLP",
                 "incomplete": "terhenti, dapat dilanjutkan", "done": "selesai", "rejected": "ditolak SPLP",
                 "deleted": "dihapus", "cancelled": "dibatalkan"}


MANUAL_MANAGE = (
    "\n<b>Mengelola aplikasi di Portal Pengguna SPLP</b> ({url}):\n"
    "• API lain: menu APIs → pilih API → Subscriptions → Subscribe. API key yang sudah ada <b>tidak</b> "
    "mencakup API baru: buat API key baru sesudahnya.\n"
    "• Consumer secret baru: aplikasi → Production Keys → OAuth2 Tokens → Regenerate Secret (yang lama "
    "tidak berlaku lagi).\n"
    "• API key baru: aplikasi → Production Keys → API Key → Generate Key; cabut kunci lama bila tidak dipakai.\n"
    "• Hapus: menu Applications → Delete (kunci dan langganan ikut terhapus).")


class Apps(AppForm):
    async def accounts_for(self, user_id: int) -> list[tuple[Request, Account, Agency | None]]:
        """Accounts this user may use: as the verified contact person, or as an official of the office."""
        q = (select(Request, Account).join(Account, Account.request_id == Request.id)
             .where(Request.stage == SystemStage.DONE).order_by(Request.id))
        if (await self.actor(user_id)).official_id is None:
            q = q.join(ContactLink, ContactLink.request_id == Request.id).where(
                ContactLink.verified_telegram_id == user_id)
        out = []
        for req, acct in (await self.s.execute(q)).all():
            out.append((req, acct, await self.s.get(Agency, req.agency_id)))
        return out

    async def start(self, user_id: int) -> None:
        accounts = await self.accounts_for(user_id)
        mine = (await self.s.scalars(select(Application).where(Application.owner_telegram_id == user_id,
                                                               Application.status.notin_(["draft", "cancelled"]))
                                     .order_by(Application.id.desc()).limit(10))).all()
        if not accounts:
            self.out.send(user_id, "Pendaftaran aplikasi SPLP tersedia bagi narahubung terverifikasi dari Perangkat "
                                   "Daerah yang akun SPLP-nya sudah selesai dibuat (prosedur A), dan bagi pejabat "
                                   f"{T.e(self.sop.identity.office_short)}.")
            return
        lines = ["<b>Aplikasi SPLP</b>"]
        for app in mine:
            st = STATUS_LABELS.get(app.status, app.status)
            lines.append(f"• {T.e(app.data.get('name', '—'))} ({ENV_LABELS.get(app.data.get('environment', ''), '—')}) — {st}")
        if not mine:
            lines.append("Belum ada aplikasi yang didaftarkan melalui bot.")
        lines.append("\nDaftarkan aplikasi baru untuk akun:")
        self.out.send(user_id, "\n".join(lines), kb.inline(
            *[[kb.btn(f"➕ {agency.short_name if agency else ''} — {acct.username}", self.cb("ab", req.id))]
              for req, acct, agency in accounts],
            *[[kb.btn(f"ℹ️ {app.data.get('name', '—')}", self.cb("ai", app.id))] for app in mine
              if app.status in ("done", "waiting", "incomplete", "rejected")
              or (app.status == "in_progress" and app.mode == "wso2")]))

    async def details(self, user_id: int, app_id: int) -> str | None:
        """An application's data, APIs and step timeline -- never its secrets."""
        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN
        acct = await self.s.get(Account, app.request_id)
        steps = (await self.s.scalars(select(AppStep).where(AppStep.application_id == app.id)
                                      .order_by(AppStep.id))).all()
        subs = (app.data.get("splp") or {}).get("subs") or {}
        apis = [f"{a['name']} {a['version']} ({a['provider']})"
                + (f" — {SUB_LABELS.get(subs[a['id']], subs[a['id']])}" if a["id"] in subs else "")
                for a in app.data.get("catalogue", []) if a["id"] in app.data.get("apis", [])]
        lines = [f"<b>{T.e(app.data.get('name'))}</b>", self.card(app),
                 f"<b>Akun SPLP:</b> {T.e(acct.username if acct else '—')}",
                 f"<b>Status:</b> {STATUS_LABELS.get(app.status, app.status)}",
                 f"<b>Mode:</b> {'otomatis (API SPLP)' if app.mode == 'wso2' else 'panduan portal'}"]
        if apis:
            lines.append("<b>API:</b> " + T.e(", ".join(apis)))
        lines.append(f"<b>Langkah ({b_limits(self.sop)}):</b>")
        lines.append(step_timeline(self.sop, steps, self.now, started=lambda t: T.fmt_dt(t, self.tz)))
        lines.append("\nKredensial tidak disimpan oleh bot setelah ditampilkan.")
        if app.mode != "wso2" and app.status == "done":
            lines.append(MANUAL_MANAGE.format(url=T.e(portal_steps("B", self.sop.tenant)[2].url)))
        self.out.send(user_id, "\n".join(lines), self.manage_markup(app))
        return None

    def manage_markup(self, app: Application) -> dict[str, Any] | None:
        """What the owner can do with the application now (automated mode only)."""
        if app.mode != "wso2" or self.env.splp is None:
            return None
        def b(label: str, op: str) -> list[dict[str, Any]]:
            return [kb.btn(label, self.cb("am", app.id, OP[op]))]
        rows = {"done": [b("➕ Langganan API lain", "more"), b("🔑 Buat ulang consumer secret", "secret"),
                         b("🗝 Buat ulang API key", "apikey"), b("🗑 Hapus aplikasi", "delete_ask")],
                "waiting": [b("🔄 Periksa persetujuan", "check")],
                "incomplete": [b("🔁 Lanjutkan", "resume"), b("🗑 Hapus dari SPLP", "delete_ask")],
                "in_progress": [b("🔁 Lanjutkan", "resume")],
                "rejected": [b("🗑 Hapus dari SPLP", "delete_ask")]}.get(app.status)
        return kb.inline(*rows) if rows else None

    # --- automated mode: operations as the account, after sign-in ---
    async def has_login(self, request_id: int) -> bool:
        return await self.s.scalar(live_work_secrets(request_id, self.now).limit(1)) is not None

    def busy(self, app: Application) -> bool:
        return app.busy_until is not None and app.busy_until > self.now

    async def schedule(self, user_id: int, app: Application, kind: str, **args: Any) -> tuple[str | None, bool]:
        """Record the operation; True when it can run now (signed in, and the application claimed:
        one run of SPLP work at a time, whether from a tap or the sweep), else the password is asked."""
        if self.busy(app):
            return BUSY_TEXT, False
        app.data = {**app.data, "op": {"kind": kind, **args}}
        app.updated_at = self.now
        if await self.has_login(app.request_id):
            return ("Diproses.", True) if await claim(self.s, app.id, self.now) else (BUSY_TEXT, False)
        await self.ask_password(user_id, app, await self.s.get(Account, app.request_id))
        return None, False

    async def manage(self, user_id: int, app_id: int, index: int) -> tuple[str | None, bool]:
        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN, False
        if not 0 <= index < len(OPS):
            return T.TAP_INVALID, False
        op = OPS[index]
        if app.mode != "wso2" or self.env.splp is None or not allowed(app, op):
            return T.TAP_STALE, False
        name = T.e(app.data.get("name"))
        if op == "delete_ask":
            self.out.send(user_id, f"Hapus aplikasi <b>{name}</b> dari SPLP? Kunci OAuth2, API key, dan semua "
                                   "langganannya ikut dihapus dan aplikasi pengguna tidak dapat lagi memanggil API.",
                          kb.inline([kb.btn("🗑 Ya, hapus", self.cb("am", app.id, OP["delete"]))]))
            return None, False
        if op == "apikey":
            await self.set_awaiting(user_id, "app_oldkey", app_id=app.id)
            self.out.send(user_id, f"Buat API key baru untuk <b>{name}</b>. Agar API key lama dicabut, kirim API key "
                                   "lama sekarang (pesan langsung dihapus). Bila tidak ada, tekan tombol di bawah; "
                                   "kunci lama lalu tetap berlaku.",
                          kb.inline([kb.btn("Tidak ada kunci lama", self.cb("am", app.id, OP["apikey_nokey"]))]))
            return None, False
        if op == "apikey_nokey":
            await self.clear_awaiting(user_id)
            op = "apikey"
        if op == "resume":  # after a failure, or after a crash left the work unfinished
            if app.status == "in_progress" and not self.busy(app) and "apis" not in app.data \
                    and app.data.get("catalogue"):
                return "Silakan pilih API pada pesan katalog.", False
            app.status = "in_progress"
            return await self.schedule(user_id, app, "resume" if "apis" in app.data else "start")
        return await self.schedule(user_id, app, op)

    async def old_key_typed(self, user_id: int, text: str, ctx: dict[str, Any], message_id: int) -> tuple[int, bool]:
        from datetime import timedelta

        from storage.models import Secret

        self.out.delete(user_id, message_id=message_id)
        await self.clear_awaiting(user_id)
        app = await self._load(user_id, ctx["app_id"])
        if app is None or app.status != "done" or self.env.vault is None or not text.strip():
            self.out.send(user_id, T.TAP_STALE)
            return 0, False
        self.s.add(Secret(request_id=app.request_id, kind="old_api_key", ciphertext=self.env.vault.encrypt(text.strip()),
                          created_at=self.now, expires_at=self.now + timedelta(minutes=15)))
        ans, run = await self.schedule(user_id, app, "apikey")
        if ans and not run:
            self.out.send(user_id, ans)
        return app.id, run

    async def claim_reveal(self, user_id: int, app_id: int, secret_id: int
                           ) -> tuple[list[str] | None, str | None, int]:
        """Checks and claims the reveal of an application's credentials:
        (plaintext messages or None, refusal, the account's request id)."""
        import json
        from datetime import timedelta

        from storage.models import Secret

        app = await self.s.get(Application, app_id)
        sec = await self.s.get(Secret, secret_id)
        if app is None or app.owner_telegram_id != user_id or sec is None or sec.request_id != app.request_id \
                or sec.kind != "app_credentials" or secret_id not in (app.data.get("creds"), app.data.get("reveal")):
            return None, T.TAP_FORBIDDEN, 0
        if sec.wiped_at is not None or sec.ciphertext is None:
            return None, "Kredensial ini sudah ditampilkan sebelumnya atau tidak berlaku lagi.", 0
        if (sec.reveal_claimed_until and sec.reveal_claimed_until > self.now) or self.env.vault is None:
            return None, "Sedang ditampilkan…", 0
        sec.reveal_claimed_until = self.now + timedelta(seconds=60)
        creds = json.loads(self.env.vault.decrypt(sec.ciphertext))
        return credentials_message(self.settings, self.now, app, creds), None, app.request_id

    async def credentials_lapsed(self, sec_id: int, reason: str) -> None:
        """Application credentials nobody saw in time (or whose reveal may have failed) were wiped."""
        from storage.models import Secret

        sec = await self.s.get(Secret, sec_id)
        if sec is None:
            return
        apps = (await self.s.scalars(select(Application).where(Application.request_id == sec.request_id))).all()
        app = next((a for a in apps if sec_id in (a.data.get("creds"), a.data.get("reveal"))), None)
        if app is None or app.status in ("deleted", "cancelled"):
            return
        why = ("tidak ditampilkan sampai batas waktunya" if reason == "expired"
               else "mungkin tidak sampai kepada Anda (gangguan saat ditampilkan)")
        self.out.send(app.owner_telegram_id, f"⌛ Kredensial aplikasi <b>{T.e(app.data.get('name'))}</b> {why} dan "
                                             "telah dihapus dari bot. Buat ulang consumer secret dan API key:",
                      self.manage_markup(app))

    async def begin(self, user_id: int, request_id: int) -> str | None:
        if request_id not in {r.id for r, _, _ in await self.accounts_for(user_id)}:
            return T.TAP_FORBIDDEN
        app = Application(request_id=request_id, owner_telegram_id=user_id, data={}, mode=self.settings.splp_mode,
                          status="draft", created_at=self.now, updated_at=self.now)
        self.s.add(app)
        await self.s.flush()
        await self.ask(user_id, app)
        return None

    async def cancel(self, user_id: int, app_id: int) -> str | None:
        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN
        # In automated mode an application that was started may exist in SPLP: it is deleted from
        # its card instead (cancelling here would orphan it).
        if app.status != "draft" and (app.mode == "wso2" or app.status != "in_progress"):
            return T.TAP_STALE
        app.status, app.updated_at = "cancelled", self.now
        await self.clear_awaiting(user_id)
        self.out.send(user_id, f"Pendaftaran aplikasi {T.e(app.data.get('name', ''))} dibatalkan.")
        return "Dibatalkan."

    # --- the three SOP steps, guided (the portal does the work; the bot records the time) ---
    async def go(self, user_id: int, app_id: int, tapped: tuple[int, int]) -> tuple[str | None, bool]:
        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN, False
        if app.status != "draft" or next_missing(app.data) is not None:
            return T.TAP_STALE, False
        self.out.edit_markup(tapped[0], None, message_id=tapped[1])  # the summary's buttons are spent
        app.status, app.name_key, app.updated_at = "in_progress", str(app.data["name"]).lower(), self.now
        self.audit("app_started", actor_tg=user_id, request_id=app.request_id, application=app.id)
        link = await self.s.get(ContactLink, app.request_id)
        if self.env.splp is not None and link is not None and link.verified_telegram_id == user_id:
            # wso2 mode, as the account's own contact person: the bot does B1-B3 through the DevPortal API.
            b1 = self.sop.procedure_b[0]
            self.s.add(AppStep(application_id=app.id, step_code=b1.code, started_at=self.now,
                               due_at=self.now + b1.limit.as_timedelta))
            app.data = {**app.data, "splp": {}}
            self.out.send(user_id, "Langkah B1 — masuk ke Portal Pengguna SPLP.")
            return await self.schedule(user_id, app, "start")
        app.mode = "manual"  # guided through the portal (officials do not hold the agency's password)
        await self.open_step(user_id, app, 0)
        return None, False

    async def password_typed(self, user_id: int, text: str, ctx: dict[str, Any], message_id: int) -> bool:
        """The account's password for the DevPortal calls; True when the work may start."""
        from storage.models import Secret

        self.out.delete(user_id, message_id=message_id)
        app = await self._load(user_id, ctx["app_id"])
        if app is None or app.status in ("draft", "deleted", "cancelled") or not text.strip() or self.env.vault is None:
            await self.clear_awaiting(user_id)
            self.out.send(user_id, T.TAP_STALE if app is None or app.status in ("draft", "deleted", "cancelled")
                          else "Kunci enkripsi tidak tersedia; gunakan panduan manual.")
            return False
        await self.s.execute(update(Secret).where(Secret.request_id == app.request_id, Secret.kind.in_(WORK_SECRETS),
                                                  Secret.wiped_at.is_(None))
                             .values(ciphertext=None, wiped_at=self.now, wipe_reason="replaced"))
        self.s.add(Secret(request_id=app.request_id, kind="login", ciphertext=self.env.vault.encrypt(text.strip()),
                          created_at=self.now, expires_at=self.now + LOGIN_TTL))
        await self.clear_awaiting(user_id)
        if not await claim(self.s, app.id, self.now):
            self.out.send(user_id, BUSY_TEXT)
            return False
        self.out.send(user_id, "Masuk ke SPLP…")
        return True

    async def choose_apis(self, user_id: int, app_id: int, mask: int, toggle: int | None,
                          tapped: tuple[int, int], *, more: bool = False) -> tuple[str | None, bool]:
        """The API checklist: for a new application (B2), or ``more`` for an existing one."""
        from bot.services.apps_wso2 import AppsWso2

        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN, False
        entries = app.data.get("offer" if more else "catalogue", [])
        open_ = app.status == "done" if more else app.status == "in_progress" and "apis" not in app.data
        if not open_ or not entries:
            return T.TAP_STALE, False
        if toggle is not None:
            if not 0 <= toggle < len(entries):
                return T.TAP_INVALID, False
            self.out.edit_markup(tapped[0], AppsWso2(self.env).selection(app, mask ^ (1 << toggle), more=more),
                                 message_id=tapped[1])
            return None, False
        chosen = [a["id"] for i, a in enumerate(entries) if mask >> i & 1]
        if not chosen:
            return T.TAP_INVALID, False
        self.out.edit_markup(tapped[0], None, message_id=tapped[1])
        if more:
            return await self.schedule(user_id, app, "more_go", apis=chosen)
        app.data = {**app.data, "apis": chosen}
        self.out.send(user_id, "Membuat aplikasi, kunci OAuth2, langganan API, dan API key di SPLP…")
        return await self.schedule(user_id, app, "create")

    async def open_step(self, user_id: int, app: Application, index: int) -> None:
        step = self.sop.procedure_b[index]
        code = step.code
        self.s.add(AppStep(application_id=app.id, step_code=code, started_at=self.now,
                           due_at=self.now + step.limit.as_timedelta))
        acct = await self.s.get(Account, app.request_id)
        guide = {p.code: p for p in portal_steps("B", self.sop.tenant)}[code]
        lines = [f"<b>Langkah {code} — {T.e(guide.title)}</b> (batas SOP {step.limit.label()})",
                 f"🔗 {T.e(guide.url)}", ""]
        lines += [f"{i}. {T.e(x)}" for i, x in enumerate(guide.instructions, 1)]
        if code == "B1" and acct:
            lines.append(f"\nNama pengguna: <code>{T.e(acct.username)}</code>")
        if code == "B2":
            lines.append(f"\n<b>Data yang diisikan:</b>\n{self.card(app)}")
        if guide.record:
            lines.append("\nSimpan: " + "; ".join(T.e(r) for r in guide.record))
        lines.append("\nTekan tombol di bawah bila langkah ini sudah selesai.")
        self.out.send(user_id, "\n".join(lines), kb.inline([kb.btn(f"✅ Langkah {code} selesai",
                                                                   self.cb("ad", app.id, index))]))

    async def step_done(self, user_id: int, app_id: int, index: int, tapped: tuple[int, int]) -> str | None:
        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN
        step = await self.s.scalar(select(AppStep).where(AppStep.application_id == app.id, AppStep.done_at.is_(None))
                                   .order_by(AppStep.id.desc()))
        procedure = self.sop.procedure_b
        if app.status != "in_progress" or step is None or not 0 <= index < len(procedure) \
                or step.step_code != procedure[index].code:
            return T.TAP_STALE
        step.done_at = self.now
        step.seconds = elapsed_seconds(step.started_at, self.now)
        await add_tallies(self.s, [passage_tally(procedure[index], self.now, step.due_at, step.seconds, None,
                                                 self.env.calendar)])
        elapsed = self.now - step.started_at
        verdict = "✅ tepat waktu" if self.now <= step.due_at else f"⏰ melewati {procedure[index].limit.label()}"
        self.out.edit_markup(tapped[0], None, message_id=tapped[1])
        self.out.send(user_id, f"Langkah {step.step_code} selesai dalam {took(elapsed)} — {verdict}.")
        self.audit("app_step_done", actor_tg=user_id, request_id=app.request_id, application=app.id,
                   step=step.step_code, seconds=int(elapsed.total_seconds()))
        if index + 1 < len(procedure):
            await self.open_step(user_id, app, index + 1)
            return None
        app.status, app.updated_at = "done", self.now
        steps = (await self.s.scalars(select(AppStep).where(AppStep.application_id == app.id)
                                      .order_by(AppStep.id))).all()
        timeline = step_timeline(self.sop, steps, self.now)
        self.out.send(user_id, f"🎉 Aplikasi <b>{T.e(app.data.get('name'))}</b> telah memiliki akses API SPLP "
                               f"(OAuth2 token dan API key).\n\n<b>Waktu per langkah ({b_limits(self.sop)}):</b>\n{timeline}\n\n"
                               "Simpan Consumer Secret dan API key di tempat yang aman; jangan bagikan melalui chat.")
        return None


