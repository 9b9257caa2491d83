"""Procedure B through SPLP's DevPortal API (wso2 mode), as the agency's account.

The contact person types the account's password once; it is kept encrypted (a short-lived
secret) while the bot works and wiped at the end. SPLP calls run after the tap's transaction,
in the background; each result is recorded in a transaction of its own, and every step's start
and end against the SOP's 10 minutes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot import keyboards as kb
from bot import texts as T
from bot.env import Env
from bot.updates import Scope, work_scope
from storage.models import Account, Application, AppStep, Secret
from workflow.sop import PROCEDURE_B, STEPS

LOGIN_TTL = timedelta(minutes=15)


class AppsWso2:
    def __init__(self, env: Env) -> None:
        self.env = env

    def _scope(self, s: Any) -> Scope:
        now = self.env.clock.now()
        return work_scope(s, now)

    async def _login(self, app_id: int) -> tuple[Any, Application] | None:
        from splp import Login

        async with self.env.db.sessions() as s:  # type: ignore[union-attr]
            app = await s.get(Application, app_id)
            acct = await s.get(Account, app.request_id) if app else None
            sec = await s.scalar(select(Secret).where(Secret.request_id == app.request_id, Secret.kind == "login",
                                                      Secret.wiped_at.is_(None)).order_by(Secret.id.desc())) if app else None
        if app is None or acct is None or sec is None or sec.ciphertext is None or self.env.vault is None:
            return None
        return Login(acct.username, self.env.vault.decrypt(sec.ciphertext)), app

    async def _finish_step(self, s: Any, app: Application, code: str, *, start_next: str | None) -> None:
        now = self.env.clock.now()
        step = await s.scalar(select(AppStep).where(AppStep.application_id == app.id, AppStep.step_code == code,
                                                    AppStep.done_at.is_(None)))
        if step is not None:
            step.done_at = now
        if start_next:
            s.add(AppStep(application_id=app.id, step_code=start_next, started_at=now,
                          due_at=now + STEPS[start_next].limit.as_timedelta))

    async def _wipe_login(self, s: Any, request_id: int) -> None:
        await s.execute(update(Secret).where(Secret.request_id == request_id, Secret.kind == "login",
                                             Secret.wiped_at.is_(None))
                        .values(ciphertext=None, wiped_at=self.env.clock.now(), wipe_reason="used"))

    async def _fail(self, app_id: int, uid: int, err: Exception) -> None:
        async with self.env.db.transaction() as s:  # type: ignore[union-attr]
            scope = self._scope(s)
            app = await s.get(Application, app_id)
            if app is not None:
                await self._wipe_login(s, app.request_id)
                app.status, app.updated_at = "draft", scope.now
                await s.execute(update(AppStep).where(AppStep.application_id == app_id, AppStep.done_at.is_(None))
                                .values(done_at=scope.now))
            scope.outbox.send(uid, f"⚠️ Proses di SPLP gagal: {T.e(str(err))}\n\nTidak ada yang tertinggal setengah "
                                   "jalan di bot; Anda dapat menekan «Mulai» lagi.")
            await scope.outbox.flush()
        self._wake()

    def _wake(self) -> None:
        if self.env.wake_sender:
            self.env.wake_sender()

    async def catalogue(self, app_id: int, uid: int) -> None:
        """B1 (open the user portal = sign in) and the API catalogue to choose from."""
        from splp import SPLPError

        got = await self._login(app_id)
        if got is None:
            return
        login, app = got
        try:
            apis = await self.env.splp.list_apis(login)
        except SPLPError as e:
            await self._fail(app_id, uid, e)
            return
        async with self.env.db.transaction() as s:  # type: ignore[union-attr]
            scope = self._scope(s)
            app = await s.get(Application, app_id)
            app.data = {**app.data, "catalogue": [
                {"id": a.id, "name": a.name, "version": a.version, "context": a.context, "provider": a.provider,
                 "auth_header": a.auth_header or "Authorization", "api_key": bool(a.supports_api_key)}
                for a in apis[:8]]}
            await self._finish_step(s, app, "B1", start_next="B2")
            scope.outbox.send(uid, "✅ Langkah B1 selesai: masuk ke Portal Pengguna SPLP.\n\n"
                                   "Langkah B2 — pilih <b>API SPLP</b> yang dibutuhkan aplikasi:",
                              self.selection(app, 0))
            await scope.outbox.flush()
        self._wake()

    def selection(self, app: Application, mask: int) -> dict[str, Any]:
        codec = self.env.codec
        rows = [[kb.btn(f"{'☑️' if mask >> i & 1 else '⬜'} {a['name']} {a['version']} ({a['provider']})",
                        codec.encode("ap", app.id, mask, i))] for i, a in enumerate(app.data.get("catalogue", []))]
        if mask:
            rows.append([kb.btn("▶️ Proses", codec.encode("aq", app.id, mask))])
        return kb.inline(*rows)

    async def sequence(self, app_id: int, uid: int) -> None:
        """B2 (create the application) and B3 (OAuth2 keys, token, subscriptions, API key)."""
        from splp import AppSpec, KeySpec, SPLPError

        got = await self._login(app_id)
        if got is None:
            return
        login, app = got
        d = app.data
        key_type = "SANDBOX" if d.get("environment") == "sandbox" else "PRODUCTION"
        try:
            created = await self.env.splp.create_application(
                login, AppSpec(name=d["name"], description=d.get("description") or d.get("business_process", "")[:512]))
            if getattr(created, "pending", False):
                raise _Pending()
            async with self.env.db.transaction() as s:  # type: ignore[union-attr]
                a = await s.get(Application, app_id)
                a.data = {**a.data, "splp_app_id": created.id}
                await self._finish_step(s, a, "B2", start_next="B3")
            keys = await self.env.splp.generate_keys(login, created.id, KeySpec(
                key_type=key_type, callback_url=d.get("callback_url") or ""))
            for api_id in d.get("apis", []):
                await self.env.splp.subscribe(login, created.id, api_id)
            api_key = await self.env.splp.generate_api_key(login, created.id, key_type)
        except _Pending:
            async with self.env.db.transaction() as s:  # type: ignore[union-attr]
                scope = self._scope(s)
                scope.outbox.send(uid, "⏳ Aplikasi menunggu persetujuan admin SPLP. Anda akan diberi tahu.")
                await scope.outbox.flush()
            self._wake()
            return
        except SPLPError as e:
            await self._fail(app_id, uid, e)
            return
        creds = {"consumer_key": keys.consumer_key, "consumer_secret": keys.consumer_secret,
                 "access_token": keys.access_token, "api_key": api_key.key}
        async with self.env.db.transaction() as s:  # type: ignore[union-attr]
            scope = self._scope(s)
            a = await s.get(Application, app_id)
            sec = Secret(request_id=a.request_id, kind="app_credentials",
                         ciphertext=self.env.vault.encrypt(json.dumps(creds)),  # type: ignore[union-attr]
                         created_at=scope.now, expires_at=scope.now + timedelta(
                             hours=self.env.settings.secret_ttl_hours))
            s.add(sec)
            await s.flush()
            await self._wipe_login(s, a.request_id)
            await self._finish_step(s, a, "B3", start_next=None)
            a.status, a.updated_at = "done", scope.now
            a.data = {**a.data, "credentials_secret": sec.id}
            steps = (await s.scalars(select(AppStep).where(AppStep.application_id == app_id)
                                     .order_by(AppStep.id))).all()
            timeline = "\n".join(f"• {x.step_code}: {int(((x.done_at or scope.now) - x.started_at).total_seconds())} detik"
                                 f" ({'tepat waktu' if x.done_at and x.done_at <= x.due_at else 'melewati batas'})"
                                 for x in steps)
            scope.outbox.send(uid, (
                f"🎉 Aplikasi <b>{T.e(d['name'])}</b> terdaftar di SPLP dengan OAuth2 dan API key.\n\n<b>Waktu per "
                f"langkah (batas 10 menit):</b>\n{timeline}\n\nTekan <b>Tampilkan</b> untuk melihat kredensial "
                f"(sekali saja; pesan dihapus setelah {self.env.settings.secret_message_minutes} menit)."),
                kb.inline([kb.btn("👁 Tampilkan", self.env.codec.encode("av", app_id, sec.id))]))
            await scope.outbox.flush()
        self._wake()

    def render(self, app: Application, creds: dict[str, Any]) -> str:
        s = self.env.settings
        token_url = s.splp_base_url.rstrip("/") + "/oauth2/token"
        gw = s.splp_gateway_url.rstrip("/")
        lines = [f"🔐 <b>Kredensial aplikasi {T.e(app.data.get('name'))}</b>",
                 f"Consumer Key: <code>{T.e(creds['consumer_key'])}</code>",
                 f"Consumer Secret: <tg-spoiler><code>{T.e(creds['consumer_secret'] or '')}</code></tg-spoiler>",
                 f"API key: <tg-spoiler><code>{T.e(creds['api_key'])}</code></tg-spoiler>", "",
                 "<b>Contoh untuk pengembang</b> (token lalu panggil API):",
                 f"<pre>TOKEN=$(curl -s -u '{T.e(creds['consumer_key'])}:&lt;consumer secret&gt;' "
                 f"-d grant_type=client_credentials {T.e(token_url)} | python3 -c "
                 "'import sys,json;print(json.load(sys.stdin)[\"access_token\"])')</pre>"]
        for a in app.data.get("catalogue", []):
            if a["id"] in app.data.get("apis", []):
                url = f"{gw}{a['context']}/{a['version']}/"
                lines.append(f"<pre>curl -H '{T.e(a['auth_header'])}: Bearer $TOKEN' {T.e(url)}</pre>")
                if a.get("api_key"):
                    lines.append(f"<pre>curl -H 'apikey: &lt;API key&gt;' {T.e(url)}</pre>")
        lines.append("Simpan di tempat aman; jangan bagikan melalui chat.")
        return "\n".join(lines)


class _Pending(Exception):
    pass


__all__ = ["AppsWso2", "PROCEDURE_B", "LOGIN_TTL"]
