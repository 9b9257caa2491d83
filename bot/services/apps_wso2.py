"""Procedure B in wso2 mode: the DevPortal work, run in the background after the tap's
transaction, as the agency's own account.

Each result is recorded in a transaction of its own as soon as SPLP returns it, in
``application.data["splp"]`` (the SPLP application id, whether the OAuth2 keys and the API key
exist, each subscription's status), so a failure later in the sequence is reported with exactly
what exists in SPLP, and "continue" never makes anything twice. Every step's start and end are
recorded against the SOP's 10 minutes.

The account's password is typed by its owner, kept encrypted for one working session
(`LOGIN_TTL`) and wiped. While SPLP's approval is awaited the bot keeps only a DevPortal session
grant (client registration + refresh token, renewed at every check), never the password, and
looks again with a growing interval; any instance may run the check, each claim exclusive.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot import keyboards as kb
from bot import texts as T
from bot.env import Env
from bot.services.app_form import AppForm, b_limits
from bot.services.apps_view import describe_api, key_type, step_timeline, what_exists
from bot.services.base import Ctx
from bot.updates import Scope, work_scope
from storage.figures import add_tallies
from storage.models import Account, Application, AppStep, Secret
from workflow.oversight import elapsed_seconds, passage_tally

log = logging.getLogger(__name__)

LOGIN_TTL = timedelta(minutes=15)
FIRST_CHECK = timedelta(minutes=1)
MAX_CHECK_GAP = timedelta(minutes=30)
CHECK_CLAIM = timedelta(minutes=5)
BUSY = timedelta(minutes=5)
WORK_SECRETS = ("login", "grant")

# Management operations: the index is what the button carries ("am", app id, index).
OPS = ("resume", "check", "more", "secret", "apikey", "delete_ask", "delete", "apikey_nokey")
OP = {name: i for i, name in enumerate(OPS)}
OP_STATUSES = {"resume": ("incomplete", "in_progress"), "check": ("waiting",), "more": ("done",), "secret": ("done",),
               "apikey": ("done",), "apikey_nokey": ("done",),
               "delete_ask": ("done", "incomplete", "rejected", "waiting"),
               "delete": ("done", "incomplete", "rejected", "waiting")}
BUSY_TEXT = "Sedang diproses; mohon tunggu."


def live_work_secrets(request_id: int, now: Any) -> Any:
    """The account's working secrets still usable now (a typed password, a session grant)."""
    return select(Secret).where(Secret.request_id == request_id, Secret.kind.in_(WORK_SECRETS),
                                Secret.wiped_at.is_(None), Secret.expires_at > now)


def allowed(app: Application, op: str) -> bool:
    """May ``op`` run on the application now? A finished application whose new subscription
    awaits approval stays manageable; a deletion awaiting approval allows only a check."""
    w = app.data.get("waiting") or {}
    if app.status == "waiting" and w.get("kind") == "deletion":
        return op == "check"
    if app.status == "waiting" and w.get("resume") == "done" and "done" in OP_STATUSES[op]:
        return op != "more"
    return app.status in OP_STATUSES[op]


async def claim(s: Any, app_id: int, now: Any, *, due_check: bool = False) -> bool:
    """Claim the application for one run of SPLP work (a tap's or the sweep's; never both, also
    across instances): True when this caller got it. With ``due_check``, only a waiting
    application whose check is due, and its next check is pushed back as well."""
    cond = [Application.id == app_id, (Application.busy_until.is_(None)) | (Application.busy_until <= now)]
    values: dict[str, Any] = {"busy_until": now + BUSY}
    if due_check:
        cond += [Application.check_at <= now, Application.status == "waiting"]
        values["check_at"] = now + CHECK_CLAIM
    res = await s.execute(update(Application).where(*cond).values(**values))
    return res.rowcount == 1


class AppsWso2:
    def __init__(self, env: Env) -> None:
        self.env = env
        # The claim each run holds (its busy_until as last written): a run gives back only its own
        # claim, never one a later tap took after this run's message reached the owner.
        self._claims: dict[int, Any] = {}

    # ------------------------------------------------------------------ plumbing
    def _scope(self, s: Any) -> Scope:
        return work_scope(s, self.env.clock.now())

    def _wake(self) -> None:
        if self.env.wake_sender:
            self.env.wake_sender()

    def _tx(self):  # type: ignore[no-untyped-def]
        return self.env.db.transaction()  # type: ignore[union-attr]

    async def _tell(self, uid: int, text: str, markup: Any = None) -> None:
        async with self._tx() as s:
            scope = self._scope(s)
            scope.outbox.send(uid, text, markup)
            await scope.outbox.flush()
        self._wake()

    def _btn(self, label: str, app_id: int, op: str) -> dict[str, Any]:
        return kb.btn(label, self.env.codec.encode("am", app_id, OP[op]))

    async def _record(self, app_id: int, **data: Any) -> None:
        """Record progress at once (and renew the claim of the run)."""
        async with self._tx() as s:
            now = self.env.clock.now()
            a = await s.get(Application, app_id)
            a.data = {**a.data, **data}
            a.updated_at, a.busy_until = now, now + BUSY
            self._claims[app_id] = a.busy_until

    async def _release(self, app_id: int) -> None:
        mine = self._claims.pop(app_id, None)
        cond = [Application.id == app_id] + ([Application.busy_until == mine] if mine is not None else [])
        async with self._tx() as s:
            await s.execute(update(Application).where(*cond).values(busy_until=None))

    async def _finish_step(self, s: Any, app_id: int, code: str, *, start_next: str | None) -> None:
        now = self.env.clock.now()
        steps = (await s.scalars(select(AppStep).where(AppStep.application_id == app_id))).all()
        for step in steps:
            if step.step_code == code and step.done_at is None:
                step.done_at, step.seconds = now, elapsed_seconds(step.started_at, now)
                await add_tallies(s, [passage_tally(self.env.sop.steps[code], now, step.due_at, step.seconds, None,
                                                    self.env.calendar)])
        if start_next and not any(x.step_code == start_next for x in steps):
            s.add(AppStep(application_id=app_id, step_code=start_next, started_at=now,
                          due_at=now + self.env.sop.steps[start_next].limit.as_timedelta))

    async def _wipe(self, s: Any, request_id: int, kinds: tuple[str, ...], reason: str = "used") -> None:
        await s.execute(update(Secret).where(Secret.request_id == request_id, Secret.kind.in_(kinds),
                                             Secret.wiped_at.is_(None))
                        .values(ciphertext=None, wiped_at=self.env.clock.now(), wipe_reason=reason))

    async def _app(self, app_id: int) -> Application:
        async with self.env.db.sessions() as s:  # type: ignore[union-attr]
            return await s.get(Application, app_id)

    async def _login(self, app_id: int) -> Any:
        """The account's sign-in: the password typed for this session, else the session grant kept
        while an approval is awaited, else None (the owner is asked for the password)."""
        from splp import Login, SessionGrant

        async with self.env.db.sessions() as s:  # type: ignore[union-attr]
            app = await s.get(Application, app_id)
            acct = await s.get(Account, app.request_id)
            rows = (await s.scalars(live_work_secrets(app.request_id, self.env.clock.now())
                                    .order_by(Secret.id.desc()))).all()
        vault = self.env.vault
        if acct is None or vault is None:
            return None
        for kind in WORK_SECRETS:
            sec = next((r for r in rows if r.kind == kind and r.ciphertext is not None), None)
            if sec is None:
                continue
            if kind == "login":
                return Login(acct.username, vault.decrypt(sec.ciphertext))
            return Login(acct.username, "", SessionGrant(**json.loads(vault.decrypt(sec.ciphertext))))
        return None

    async def _keep_grant(self, s: Any, app: Application, login: Any) -> bool:
        """Store the (renewed) session grant in place of any earlier one; False if there is none."""
        await self._wipe(s, app.request_id, ("grant",), "renewed")
        grant = self.env.splp.session_grant(login)
        if grant is None or self.env.vault is None:
            return False
        now = self.env.clock.now()
        payload = json.dumps({"client_id": grant.client_id, "client_secret": grant.client_secret,
                              "refresh_token": grant.refresh_token})
        s.add(Secret(request_id=app.request_id, kind="grant", ciphertext=self.env.vault.encrypt(payload),
                     created_at=now, expires_at=now + timedelta(days=self.env.settings.splp_approval_watch_days)))
        return True

    async def _store_creds(self, app_id: int, new: dict[str, Any], *, slot: str = "creds") -> int:
        """Merge freshly made credentials into the application's encrypted secret awaiting its
        reveal (created on first use); returns the secret's id."""
        vault = self.env.vault
        assert vault is not None
        async with self._tx() as s:
            now = self.env.clock.now()
            a = await s.get(Application, app_id)
            sec = await s.get(Secret, a.data[slot]) if a.data.get(slot) else None
            if sec is not None and sec.ciphertext is not None:
                sec.ciphertext = vault.encrypt(json.dumps({**json.loads(vault.decrypt(sec.ciphertext)), **new}))
                return sec.id
            if sec is not None:  # the earlier part lapsed unseen (a long wait for approval): say so at the end
                a.data = {**a.data, "lapsed": True}
            sec = Secret(request_id=a.request_id, kind="app_credentials", ciphertext=vault.encrypt(json.dumps(new)),
                         created_at=now, expires_at=now + timedelta(hours=self.env.settings.secret_ttl_hours))
            s.add(sec)
            await s.flush()
            a.data = {**a.data, slot: sec.id}
            return sec.id

    async def _fresh_reveal(self, app_id: int, creds: dict[str, Any]) -> int:
        """New credentials from a management action replace any earlier ones not yet shown."""
        async with self._tx() as s:
            a = await s.get(Application, app_id)
            if a.data.get("reveal"):
                await s.execute(update(Secret).where(Secret.id == a.data["reveal"], Secret.wiped_at.is_(None))
                                .values(ciphertext=None, wiped_at=self.env.clock.now(), wipe_reason="replaced"))
            a.data = {**a.data, "reveal": None}
        return await self._store_creds(app_id, creds, slot="reveal")

    def _token(self, access_token: str | None, expires_in: int | None) -> dict[str, Any]:
        """An access token to reveal, with the moment it expires."""
        if not access_token:
            return {}
        out: dict[str, Any] = {"access_token": access_token}
        if expires_in is not None and int(expires_in) > 0:
            out["token_expires_at"] = (self.env.clock.now() + timedelta(seconds=int(expires_in))).isoformat()
        return out

    def _reveal_markup(self, app_id: int, sec_id: int) -> dict[str, Any]:
        return kb.inline([kb.btn("👁 Tampilkan", self.env.codec.encode("av", app_id, sec_id))])

    def _reveal_note(self) -> str:
        return (f"Tekan <b>Tampilkan</b> untuk melihat kredensial (sekali saja; pesan dihapus setelah "
                f"{self.env.settings.secret_message_minutes} menit).")

    # ------------------------------------------------------------------ entry point
    async def run(self, app_id: int, uid: int) -> None:
        """Carry out the operation the owner asked for (``data["op"]``), after sign-in."""
        from splp import SPLPError

        app = await self._app(app_id)
        self._claims[app_id] = app.busy_until  # taken by the tap that started this run
        op = dict(app.data.get("op") or {})
        kind = op.get("kind")
        login = await self._login(app_id)
        if login is None:
            await self._need_login(app_id, uid)
            return
        released = False
        try:
            if kind == "start":
                await self.catalogue(app_id, uid, login)
            elif kind == "more":
                await self.catalogue(app_id, uid, login, more=True)
            elif kind in ("resume", "create"):
                await self.advance(app_id, uid, login)
            elif kind == "check":
                await self.check(app_id, uid, login, asked=True)
            elif kind == "more_go":
                await self.subscribe_more(app_id, uid, login, op.get("apis") or [])
            elif kind == "secret":
                await self.regenerate_secret(app_id, uid, login)
            elif kind == "apikey":
                await self.regenerate_api_key(app_id, uid, login)
            elif kind == "delete":
                await self.delete(app_id, uid, login)
        except SPLPError as e:
            await self._failed(app_id, uid, e, kind or "", release=True)
            released = True
        finally:
            if not released:
                await self._release(app_id)

    async def _need_login(self, app_id: int, uid: int) -> None:
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            acct = await s.get(Account, a.request_id)
            await AppForm(scope, self.env).ask_password(uid, a, acct)
            await scope.outbox.flush()
        self._wake()

    # ------------------------------------------------------------------ B1: sign in, choose APIs
    async def catalogue(self, app_id: int, uid: int, login: Any, *, more: bool = False) -> None:
        """B1 (open the user portal = sign in) and the API catalogue to choose from; with ``more``,
        the APIs an existing application is not yet subscribed to."""
        app = await self._app(app_id)
        taken = set(((app.data.get("splp") or {}).get("subs") or {}))
        listed = [a for a in await self.env.splp.list_apis(login) if a.id not in taken][:8]
        # The listing omits the security schemes and the header: each API's own record has them.
        apis = [await self.env.splp.get_api(login, a.id) for a in listed]
        async with self._tx() as s:
            scope = self._scope(s)
            app = await s.get(Application, app_id)
            entries = [{"id": a.id, "name": a.name, "version": a.version, "context": a.context,
                        "provider": a.owner or a.provider, "auth_header": a.auth_header or "Authorization",
                        "api_key": bool(a.supports_api_key)} for a in apis]
            listing = "\n".join(describe_api(a) for a in entries)
            if more:
                app.data = {**app.data, "offer": entries}
                if not entries:
                    scope.outbox.send(uid, "Aplikasi ini sudah berlangganan semua API yang tersedia di katalog.")
                else:
                    scope.outbox.send(uid, f"Pilih <b>API tambahan</b> untuk {T.e(app.data.get('name'))}:\n{listing}",
                                      self.selection(app, 0, more=True))
            else:
                app.data = {**app.data, "catalogue": entries}
                await self._finish_step(s, app_id, "B1", start_next="B2")
                scope.outbox.send(uid, "✅ Langkah B1 selesai: masuk ke Portal Pengguna SPLP.\n\n"
                                       f"Langkah B2 — pilih <b>API SPLP</b> yang dibutuhkan aplikasi:\n{listing}",
                                  self.selection(app, 0))
            await scope.outbox.flush()
        self._wake()

    def selection(self, app: Application, mask: int, *, more: bool = False) -> dict[str, Any]:
        codec = self.env.codec
        toggle, go = ("an", "at") if more else ("ap", "aq")
        entries = app.data.get("offer" if more else "catalogue", [])
        rows = [[kb.btn(f"{'☑️' if mask >> i & 1 else '⬜'} {a['name']} {a['version']} ({a['provider']})",
                        codec.encode(toggle, app.id, mask, i))] for i, a in enumerate(entries)]
        if mask:
            rows.append([kb.btn("▶️ Proses", codec.encode(go, app.id, mask))])
        return kb.inline(*rows)

    # ------------------------------------------------------------------ B2 + B3, resumable
    async def advance(self, app_id: int, uid: int, login: Any) -> None:
        """B2 (create the application) and B3 (OAuth2 keys and token, subscriptions, API key);
        whatever SPLP already holds (``data["splp"]``) is not made again."""
        from splp import AppSpec, KeySpec

        splp = self.env.splp
        app = await self._app(app_id)
        d = app.data
        st: dict[str, Any] = dict(d.get("splp") or {})
        ktype = key_type(app)
        if not st.get("id"):
            created = await splp.create_application(login, AppSpec(
                name=d["name"], description=(d.get("description") or d.get("business_process", ""))[:512]))
            st["id"] = created.id
            await self._record(app_id, splp=st)
            if created.rejected:
                await self._rejected(app_id, uid, "application")
                return
            if created.pending:
                await self._wait(app_id, uid, login, "application", after="advance")
                return
            async with self._tx() as s:
                await self._finish_step(s, app_id, "B2", start_next="B3")
        if not st.get("keys"):
            keys = await splp.generate_keys(login, st["id"], KeySpec(key_type=ktype,  # type: ignore[arg-type]
                                                                     callback_url=d.get("callback_url") or ""))
            await self._store_creds(app_id, {"consumer_key": keys.consumer_key, "consumer_secret": keys.consumer_secret,
                                             **self._token(keys.access_token, keys.expires_in)})
            st.update(keys=True, km=keys.key_mapping_id)
            await self._record(app_id, splp=st)
        subs: dict[str, str] = dict(st.get("subs") or {})
        for api_id in d.get("apis", []):
            if api_id not in subs:
                sub = await splp.subscribe(login, st["id"], api_id)
                subs[api_id] = sub.status
                st["subs"] = subs
                await self._record(app_id, splp=st)
        if any(v == "ON_HOLD" for v in subs.values()):
            await self._wait(app_id, uid, login, "subscription", after="advance")
            return
        if not st.get("api_key"):
            key = await splp.generate_api_key(login, st["id"], ktype)  # type: ignore[arg-type]
            await self._store_creds(app_id, {"api_key": key.key})
            st["api_key"] = True
            await self._record(app_id, splp=st)
        await self._finish(app_id, uid)

    async def _finish(self, app_id: int, uid: int) -> None:
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            await self._wipe(s, a.request_id, WORK_SECRETS)
            await self._finish_step(s, app_id, "B2", start_next=None)
            await self._finish_step(s, app_id, "B3", start_next=None)
            a.status, a.updated_at, a.check_at = "done", scope.now, None
            a.data = {k: v for k, v in a.data.items() if k not in ("op", "waiting")}
            steps = (await s.scalars(select(AppStep).where(AppStep.application_id == app_id)
                                     .order_by(AppStep.id))).all()
            timeline = step_timeline(self.env.sop, steps, scope.now)
            rejected = [f"{c['name']} {c['version']}" for c in a.data.get("catalogue", [])
                        if ((a.data.get("splp") or {}).get("subs") or {}).get(c["id"]) == "REJECTED"]
            note = (f"\n\n⚠️ Langganan ditolak admin SPLP: {T.e(', '.join(rejected))}." if rejected else "")
            sec = await s.get(Secret, a.data.get("creds")) if a.data.get("creds") else None
            if sec is None or sec.ciphertext is None:
                tail, markup = ("Kredensial yang dibuat sudah tidak tersimpan (melewati batas waktu); buat ulang "
                                "consumer secret dan API key dari menu /aplikasi."), None
            else:
                tail, markup = self._reveal_note(), self._reveal_markup(app_id, sec.id)
                if a.data.get("lapsed"):
                    tail = ("⚠️ Consumer secret yang dibuat sebelum masa tunggu persetujuan sudah dihapus (melewati "
                            "batas waktu); buat ulang consumer secret dari menu /aplikasi.\n\n" + tail)
            scope.outbox.send(uid, (
                f"🎉 Aplikasi <b>{T.e(a.data['name'])}</b> terdaftar di SPLP dengan OAuth2 dan API key.{note}\n\n"
                f"<b>Waktu per langkah ({b_limits(self.env.sop)}):</b>\n{timeline}\n\n{tail}"), markup)
            self._log(s, "app_registered", actor_tg=uid, request_id=a.request_id, application=app_id)
            await scope.outbox.flush()
        self._wake()

    # ------------------------------------------------------------------ approval
    async def _wait(self, app_id: int, uid: int, login: Any, kind: str, *, after: str) -> None:
        """SPLP holds the application or a subscription for an admin's approval: keep only a
        session grant, look again later, and tell the owner."""
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            watching = await self._keep_grant(s, a, login)
            await self._wipe(s, a.request_id, ("login",))
            a.status, a.updated_at = "waiting", scope.now
            a.data = {**a.data, "waiting": {"kind": kind, "after": after, "checks": 0,
                                            "resume": "done" if after == "notify" else "in_progress"}}
            a.check_at = scope.now + FIRST_CHECK if watching else None
            what = {"application": "Aplikasi", "deletion": "Penghapusan aplikasi"}.get(kind, "Langganan API untuk")
            how = ("Bot memeriksa statusnya secara berkala dan akan memberi tahu Anda segera setelah disetujui "
                   "atau ditolak." if watching else "Tekan «Periksa sekarang» untuk memeriksa statusnya.")
            scope.outbox.send(uid, f"⏳ {what} <b>{T.e(a.data.get('name'))}</b> menunggu persetujuan admin SPLP. {how}",
                              kb.inline([self._btn("🔄 Periksa sekarang", app_id, "check")]))
            self._log(s, "app_waiting", actor_tg=uid, request_id=a.request_id, application=app_id, kind=kind)
            await scope.outbox.flush()
        self._wake()

    async def sweep_pending(self) -> int:
        """Look again at every application whose approval check is due (reads only due rows; each
        claimed exclusively -- against other instances and against a tap's run alike)."""
        now = self.env.clock.now()
        async with self.env.db.sessions() as s:  # type: ignore[union-attr]
            due = (await s.execute(select(Application.id, Application.owner_telegram_id).where(
                Application.check_at <= now, Application.status == "waiting")
                .order_by(Application.check_at).limit(20))).all()
        n = 0
        for app_id, uid in due:
            now = self.env.clock.now()
            async with self._tx() as s:
                got = await claim(s, app_id, now, due_check=True)
            if not got:
                continue
            self._claims[app_id] = now + BUSY
            n += 1
            try:
                await self.run_check(app_id, uid)
            finally:
                await self._release(app_id)
        return n

    async def sweep_abandoned(self) -> int:
        """Runs that a crash cut short (their claim lapsed without being released): the owner is
        told what exists in SPLP and offered to continue. Reads only lapsed claims (partial index)."""
        now = self.env.clock.now()
        async with self.env.db.sessions() as s:  # type: ignore[union-attr]
            lapsed = (await s.execute(select(Application.id, Application.owner_telegram_id, Application.status)
                                      .where(Application.busy_until <= now).limit(20))).all()
        n = 0
        for app_id, uid, status in lapsed:
            async with self._tx() as s:
                res = await s.execute(update(Application).where(Application.id == app_id,
                                                                Application.busy_until <= now)
                                      .values(busy_until=None))
            if res.rowcount == 1 and status != "waiting":  # a check cut short is simply due again
                n += 1
                await self._failed(app_id, uid, RuntimeError("pekerjaan terputus karena layanan bot dimulai ulang"),
                                   "abandoned")
        return n

    async def run_check(self, app_id: int, uid: int) -> None:
        from splp import BadCredentials, SPLPError

        login = await self._login(app_id)
        if login is None:
            await self._unwatched(app_id, uid)
            return
        try:
            await self.check(app_id, uid, login)
        except BadCredentials:
            await self._unwatched(app_id, uid)
        except SPLPError as e:
            app = await self._app(app_id)
            if app.status == "waiting":  # SPLP unreachable or failing: look again later
                log.info("approval check of application %s failed: %s", app_id, e.code)
                await self._reschedule(app_id, login)
            else:  # approved, then the rest of the sequence failed
                await self._failed(app_id, uid, e, "check")

    async def _unwatched(self, app_id: int, uid: int) -> None:
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            a.check_at = None
            await self._wipe(s, a.request_id, ("grant",), "expired")
            scope.outbox.send(uid, f"⏳ Bot tidak dapat lagi memeriksa persetujuan SPLP untuk "
                                   f"<b>{T.e(a.data.get('name'))}</b> tanpa masuk kembali. Tekan «Periksa sekarang» "
                                   "(kata sandi akun akan diminta).",
                              kb.inline([self._btn("🔄 Periksa sekarang", app_id, "check")]))
            await scope.outbox.flush()
        self._wake()

    async def _reschedule(self, app_id: int, login: Any, *, tell: int | None = None) -> None:
        """Still pending: look again later (1, 2, 4 ... 30 minutes), with the grant only."""
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            w = dict(a.data.get("waiting") or {})
            w["checks"] = int(w.get("checks", 0)) + 1
            a.data = {**a.data, "waiting": w}
            watching = await self._keep_grant(s, a, login)
            await self._wipe(s, a.request_id, ("login",))
            gap = min(FIRST_CHECK * (2 ** w["checks"]), MAX_CHECK_GAP)
            a.check_at = scope.now + gap if watching else None
            if tell is not None:
                scope.outbox.send(tell, f"⏳ <b>{T.e(a.data.get('name'))}</b> masih menunggu persetujuan admin SPLP."
                                  + (" Bot akan memeriksa lagi." if watching else ""),
                                  kb.inline([self._btn("🔄 Periksa sekarang", app_id, "check")]))
            await scope.outbox.flush()
        self._wake()

    async def check(self, app_id: int, uid: int, login: Any, *, asked: bool = False) -> None:
        """Has SPLP decided? Approved: carry on (or offer the new API key); rejected: say so.
        ``asked``: the owner pressed «Periksa sekarang» (an undecided check is answered too)."""
        from splp import NotFound

        splp = self.env.splp
        app = await self._app(app_id)
        if app.status != "waiting":
            return
        st = dict(app.data.get("splp") or {})
        w = dict(app.data.get("waiting") or {})
        tell = uid if asked else None
        if w.get("kind") == "deletion":
            try:
                await splp.get_application(login, st["id"])
            except NotFound:
                await self._deleted(app_id, uid)
                return
            await self._reschedule(app_id, login, tell=tell)
            return
        if w.get("kind") == "application":
            got = await splp.get_application(login, st["id"])
            if got.pending:
                await self._reschedule(app_id, login, tell=tell)
                return
            if got.rejected:
                await self._rejected(app_id, uid, "application")
                return
            async with self._tx() as s:
                scope = self._scope(s)
                a = await s.get(Application, app_id)
                a.status, a.check_at, a.updated_at = "in_progress", None, scope.now
                a.data = {k: v for k, v in a.data.items() if k != "waiting"}
                await self._finish_step(s, app_id, "B2", start_next="B3")
                await self._keep_grant(s, a, login)
                scope.outbox.send(uid, f"✅ Aplikasi <b>{T.e(a.data.get('name'))}</b> disetujui admin SPLP. "
                                       "Melanjutkan pembuatan kunci OAuth2, langganan, dan API key…")
                await scope.outbox.flush()
            self._wake()
            await self.advance(app_id, uid, login)
            return
        before = dict(st.get("subs") or {})
        listed = {x.api_id: x.status for x in await splp.list_subscriptions(login, st["id"])}
        subs = {k: listed.get(k, v) for k, v in before.items()}
        st["subs"] = subs
        await self._record(app_id, splp=st)
        if any(v == "ON_HOLD" for v in subs.values()):
            await self._reschedule(app_id, login, tell=tell)
            return
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            a.status, a.check_at, a.updated_at = w.get("resume", "in_progress"), None, scope.now
            a.data = {k: v for k, v in a.data.items() if k != "waiting"}
            names = {c["id"]: f"{c['name']} {c['version']}" for c in a.data.get("catalogue", [])}
            newly = {k: v for k, v in subs.items() if before.get(k) == "ON_HOLD"}
            decided = "; ".join(f"{names.get(k, k)}: {'disetujui' if v == 'UNBLOCKED' else 'ditolak'}"
                                for k, v in newly.items())
            if w.get("after") == "advance":
                await self._keep_grant(s, a, login)
                scope.outbox.send(uid, f"✅ Keputusan admin SPLP atas langganan: {T.e(decided)}. Melanjutkan…")
            else:
                await self._wipe(s, a.request_id, ("grant",))
                approved = any(v == "UNBLOCKED" for v in newly.values())
                scope.outbox.send(uid, f"Keputusan admin SPLP atas langganan: {T.e(decided)}."
                                  + ("\n\n⚠️ API key yang sudah ada tidak mencakup API yang baru disetujui; buat "
                                     "API key baru." if approved else ""),
                                  kb.inline([self._btn("🗝 Buat API key baru", app_id, "apikey")]) if approved else None)
            await scope.outbox.flush()
        self._wake()
        if w.get("after") == "advance":
            await self.advance(app_id, uid, login)

    async def _rejected(self, app_id: int, uid: int, kind: str) -> None:
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            await self._wipe(s, a.request_id, WORK_SECRETS)
            a.status, a.check_at, a.updated_at = "rejected", None, scope.now
            await s.execute(update(AppStep).where(AppStep.application_id == app_id, AppStep.done_at.is_(None))
                            .values(done_at=scope.now))
            scope.outbox.send(uid, f"❌ Aplikasi <b>{T.e(a.data.get('name'))}</b> ditolak oleh admin SPLP. "
                                   "Hubungi pengelola SPLP untuk alasannya; Anda dapat mendaftarkan aplikasi lagi "
                                   "melalui /aplikasi.")
            self._log(s, "app_rejected", actor_tg=uid, request_id=a.request_id, application=app_id, kind=kind)
            await scope.outbox.flush()
        self._wake()

    # ------------------------------------------------------------------ failures
    async def _failed(self, app_id: int, uid: int, err: Exception, kind: str, *, release: bool = False) -> None:
        """Say what went wrong and, when the sequence stopped half-way, exactly what exists in SPLP.
        ``release``: the run's claim is given back with the message, so an owner who taps «Lanjutkan»
        as soon as it arrives is not told the work is still going on (and no later release of this
        run clears the claim that tap takes)."""
        from splp import BadCredentials, Conflict

        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            if release and a.busy_until == self._claims.get(app_id):
                a.busy_until = None
                self._claims.pop(app_id, None)
            if isinstance(err, BadCredentials):
                await self._wipe(s, a.request_id, WORK_SECRETS)
            creating = a.status in ("in_progress", "incomplete")
            if a.status != "waiting":
                a.check_at = None
                await self._wipe(s, a.request_id, ("grant",))  # a grant is only for watching an approval
            if creating and not (a.data.get("splp") or {}).get("id"):
                # Nothing exists in SPLP: back to the summary, as if never started.
                await self._wipe(s, a.request_id, WORK_SECRETS)
                a.status, a.updated_at = "draft", scope.now
                a.data = {k: v for k, v in a.data.items() if k not in ("apis", "catalogue", "op", "splp", "offer")}
                await s.execute(update(AppStep).where(AppStep.application_id == app_id, AppStep.done_at.is_(None))
                                .values(done_at=scope.now))
                scope.outbox.send(uid, f"⚠️ Proses di SPLP gagal: {T.e(str(err))}\n\nBelum ada yang dibuat di SPLP.")
                if isinstance(err, Conflict):  # the name is taken in SPLP: ask for another, then the summary
                    a.data = {k: v for k, v in a.data.items() if k != "name"}
                    await AppForm(scope, self.env).ask(uid, a)
                else:
                    await AppForm(scope, self.env).summary(uid, a)
            elif creating:
                a.status, a.updated_at = "incomplete", scope.now
                have, missing = what_exists(a)
                scope.outbox.send(uid, (
                    f"⚠️ Proses di SPLP terhenti: {T.e(str(err))}\n\n<b>Sudah ada di SPLP:</b>\n"
                    + "\n".join(f"• {T.e(x)}" for x in have) + "\n<b>Belum dibuat:</b>\n"
                    + "\n".join(f"• {T.e(x)}" for x in missing)
                    + "\n\n«Lanjutkan» menyelesaikan yang belum dibuat tanpa membuat ulang yang sudah ada; "
                      "«Hapus dari SPLP» menghapus aplikasi beserta kunci dan langganannya."),
                    kb.inline([self._btn("🔁 Lanjutkan", app_id, "resume")],
                              [self._btn("🗑 Hapus dari SPLP", app_id, "delete_ask")]))
            else:
                scope.outbox.send(uid, f"⚠️ Permintaan ke SPLP gagal: {T.e(str(err))}\n\nTidak ada yang berubah pada "
                                       "aplikasi di bot; silakan coba lagi dari /aplikasi.")
            self._log(s, "app_splp_error", actor_tg=uid, request_id=a.request_id, application=app_id, op=kind,
                        code=getattr(err, "code", type(err).__name__))
            await scope.outbox.flush()
        self._wake()

    # ------------------------------------------------------------------ managing an application
    async def subscribe_more(self, app_id: int, uid: int, login: Any, api_ids: list[str]) -> None:
        splp = self.env.splp
        app = await self._app(app_id)
        st = dict(app.data.get("splp") or {})
        subs = dict(st.get("subs") or {})
        offer = {a["id"]: a for a in app.data.get("offer", [])}
        catalogue = list(app.data.get("catalogue", []))
        for api_id in api_ids:
            if api_id in subs or api_id not in offer:
                continue
            sub = await splp.subscribe(login, st["id"], api_id)
            subs[api_id] = sub.status
            st["subs"] = subs
            if not any(c["id"] == api_id for c in catalogue):
                catalogue.append(offer[api_id])
            await self._record(app_id, splp=st, catalogue=catalogue,
                               apis=list(dict.fromkeys([*app.data.get("apis", []), *subs])))
        if any(subs.get(a) == "ON_HOLD" for a in api_ids):
            await self._wait(app_id, uid, login, "subscription", after="notify")
            return
        names = ", ".join(f"{offer[a]['name']} {offer[a]['version']}" for a in api_ids if a in offer)
        await self._tell(uid, f"✅ Aplikasi berlangganan: {T.e(names)}.\n\n⚠️ API key yang sudah ada dibuat sebelum "
                              "langganan ini dan <b>tidak berlaku</b> untuk API tersebut. Buat API key baru (kunci lama "
                              "dapat dicabut sekaligus).",
                         kb.inline([self._btn("🗝 Buat API key baru", app_id, "apikey")]))

    async def regenerate_secret(self, app_id: int, uid: int, login: Any) -> None:
        """A new consumer secret (SPLP invalidates the old one) and a fresh access token."""
        from splp import SPLPError

        splp = self.env.splp
        app = await self._app(app_id)
        st = app.data.get("splp") or {}
        keys = await splp.get_keys(login, st["id"], key_type(app))  # type: ignore[arg-type]
        if keys is None:
            await self._tell(uid, "Aplikasi ini belum memiliki kunci OAuth2 di SPLP.")
            return
        fresh = await splp.regenerate_secret(login, st["id"], keys.key_mapping_id)
        creds: dict[str, Any] = {"consumer_key": fresh.consumer_key or keys.consumer_key,
                                 "consumer_secret": fresh.consumer_secret}
        try:
            tok = await splp.generate_token(login, st["id"], keys.key_mapping_id, fresh.consumer_secret or "")
            creds.update(self._token(tok.access_token, tok.expires_in))
        except SPLPError as e:  # the secret matters; a token can be obtained with it
            log.info("token after secret regeneration failed: %s", e.code)
        sec_id = await self._fresh_reveal(app_id, creds)
        await self._audit(app_id, uid, "app_secret_regenerated")
        await self._tell(uid, "🔑 Consumer secret baru telah dibuat; consumer secret lama <b>tidak berlaku lagi</b>. "
                              + self._reveal_note(), self._reveal_markup(app_id, sec_id))

    async def regenerate_api_key(self, app_id: int, uid: int, login: Any) -> None:
        """A new API key covering every current subscription; the old key, when its owner sent it,
        is revoked."""
        from splp import SPLPError

        splp = self.env.splp
        app = await self._app(app_id)
        st = app.data.get("splp") or {}
        ktype = key_type(app)
        new = await splp.generate_api_key(login, st["id"], ktype)  # type: ignore[arg-type]
        sec_id = await self._fresh_reveal(app_id, {"api_key": new.key})
        old, sent = await self._take_old_key(app)
        if old is None:
            why = "dikirim lebih dari 15 menit sebelumnya" if sent else "tidak dikirim"
            revoked = (f"Kunci lama <b>tidak dicabut</b> ({why}) dan tetap berlaku; bila kunci lama bocor, "
                       "hubungi admin SPLP atau hapus aplikasi.")
        else:
            try:
                await splp.revoke_api_key(login, st["id"], old, ktype)  # type: ignore[arg-type]
                revoked = "API key lama telah <b>dicabut</b>."
            except SPLPError as e:
                revoked = f"API key lama <b>gagal dicabut</b>: {T.e(str(e))}"
        await self._audit(app_id, uid, "app_api_key_regenerated", revoked_old=old is not None)
        await self._tell(uid, f"🗝 API key baru telah dibuat untuk semua API yang dilanggani. {revoked}\n\n"
                              + self._reveal_note(), self._reveal_markup(app_id, sec_id))

    async def _take_old_key(self, app: Application) -> tuple[str | None, bool]:
        """(the old API key its owner sent for revocation, or None; whether one was sent at all)."""
        async with self._tx() as s:
            rows = (await s.scalars(select(Secret).where(Secret.request_id == app.request_id,
                                                         Secret.kind == "old_api_key")
                                    .order_by(Secret.id.desc()).limit(1))).all()
            sec = rows[0] if rows else None
            old = None
            if sec is not None and sec.ciphertext is not None and sec.expires_at > self.env.clock.now() \
                    and self.env.vault is not None:
                old = self.env.vault.decrypt(sec.ciphertext)
            sent = sec is not None and sec.wipe_reason in (None, "expired")  # not one an earlier run used
            await self._wipe(s, app.request_id, ("old_api_key",))
            return old, sent

    async def delete(self, app_id: int, uid: int, login: Any) -> None:
        app = await self._app(app_id)
        st = app.data.get("splp") or {}
        result = await self.env.splp.delete_application(login, st["id"]) if st.get("id") else "DELETED"
        await self._audit(app_id, uid, "app_delete_requested", result=result)
        if result == "PENDING":  # a deletion workflow: watched like an approval
            await self._wait(app_id, uid, login, "deletion", after="deleted")
            return
        await self._deleted(app_id, uid)

    async def _deleted(self, app_id: int, uid: int) -> None:
        async with self._tx() as s:
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            await self._wipe(s, a.request_id, WORK_SECRETS)
            for slot in ("creds", "reveal"):
                if a.data.get(slot):
                    await s.execute(update(Secret).where(Secret.id == a.data[slot], Secret.wiped_at.is_(None))
                                    .values(ciphertext=None, wiped_at=scope.now, wipe_reason="deleted"))
            a.status, a.check_at, a.updated_at, a.name_key = "deleted", None, scope.now, None
            await s.execute(update(AppStep).where(AppStep.application_id == app_id, AppStep.done_at.is_(None))
                            .values(done_at=scope.now))
            scope.outbox.send(uid, f"🗑 Aplikasi <b>{T.e(a.data.get('name'))}</b> telah dihapus dari SPLP "
                                   "beserta kunci OAuth2, API key, dan langganannya.")
            self._log(s, "app_deleted", actor_tg=uid, request_id=a.request_id, application=app_id)
            await scope.outbox.flush()
        self._wake()

    def _log(self, s: Any, action: str, *, actor_tg: int, request_id: int, **detail: Any) -> None:
        Ctx(self._scope(s), self.env).audit(action, actor_tg=actor_tg, request_id=request_id, **detail)

    async def _audit(self, app_id: int, uid: int, action: str, **detail: Any) -> None:
        async with self._tx() as s:
            a = await s.get(Application, app_id)
            self._log(s, action, actor_tg=uid, request_id=a.request_id, application=app_id, **detail)


__all__ = ["AppsWso2", "BUSY", "BUSY_TEXT", "LOGIN_TTL", "OP", "OPS", "OP_STATUSES", "WORK_SECRETS", "allowed",
           "claim", "live_work_secrets"]
