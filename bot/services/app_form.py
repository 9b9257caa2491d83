"""Procedure B's application data (SOP step B2's form): the questions, the answers typed or
tapped, the summary; and the prompt for the account's password. The chat side that the
background work (``bot/services/apps_wso2.py``) returns to as well as ``/aplikasi``
(``bot/services/apps.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot import keyboards as kb
from bot import texts as T
from bot.services.base import Ctx
from storage.models import Account, Application, Request
from workflow.application import (
    APP_FIELDS,
    OPTIONAL,
    AppField,
    next_missing,
    parse_app_name,
    parse_callback_url,
    parse_description,
)
from workflow.form import Invalid, parse_business_process
from workflow.sop import Sop

LABELS = {
    AppField.NAME: "Nama aplikasi",
    AppField.DESCRIPTION: "Deskripsi",
    AppField.BUSINESS_PROCESS: "Proses bisnis yang dilayani",
    AppField.ENVIRONMENT: "Lingkungan",
    AppField.CALLBACK_URL: "Callback URL",
}
QUESTIONS = {
    AppField.NAME: "Ketik <b>nama aplikasi</b> (3–100 karakter: huruf, angka, spasi, titik, garis bawah, tanda hubung).",
    AppField.DESCRIPTION: "Ketik <b>deskripsi singkat</b> aplikasi (maksimal 512 karakter), atau lewati.",
    AppField.BUSINESS_PROCESS: "Uraikan <b>proses bisnis</b> yang dilayani aplikasi ini (minimal 30 karakter), atau "
                               "gunakan proses bisnis dari surat permohonan akun.",
    AppField.ENVIRONMENT: "Pilih <b>lingkungan</b> kunci yang dibutuhkan:",
    AppField.CALLBACK_URL: "Ketik <b>callback URL</b> (hanya untuk alur authorization code), atau lewati.",
}
ENV_LABELS = {"production": "Production", "sandbox": "Sandbox"}


def b_limits(sop: Sop) -> str:
    """Procedure B's limits: ``"batas 10 menit"`` (every step the same) or ``"batas B1 15 menit, ..."``."""
    labels = [s.limit.label() for s in sop.procedure_b]
    if len(set(labels)) == 1:
        return f"batas {labels[0]}"
    return "batas " + ", ".join(f"{s.code} {s.limit.label()}" for s in sop.procedure_b)


def b_each(sop: Sop) -> str:
    """``"masing-masing 10 menit"`` or ``"B1 15 menit, B2 10 menit, B3 10 menit"``."""
    labels = [s.limit.label() for s in sop.procedure_b]
    if len(set(labels)) == 1:
        return f"masing-masing {labels[0]}"
    return ", ".join(f"{s.code} {s.limit.label()}" for s in sop.procedure_b)


def app_error(err: Invalid) -> str:
    return "⚠️ " + T.ERRORS.get(err.code, T.ERRORS["empty"]).format(**err.params)


class AppForm(Ctx):
    async def ask_password(self, user_id: int, app: Application, acct: Account | None) -> None:
        await self.set_awaiting(user_id, "app_pw", app_id=app.id)
        self.out.send(user_id, f"Masuk ke Portal Pengguna SPLP sebagai <code>{T.e(acct.username if acct else '')}</code>: "
                               "ketik <b>kata sandi akun SPLP</b> Anda. Pesan akan langsung dihapus; kata sandi "
                               "disimpan terenkripsi hanya selama proses (paling lama 15 menit).")

    async def ask(self, user_id: int, app: Application) -> None:
        f = next_missing(app.data)
        if f is None:
            await self.summary(user_id, app)
            return
        await self.set_awaiting(user_id, f"app:{f.value}", app_id=app.id)
        markup = None
        if f == AppField.ENVIRONMENT:
            markup = kb.inline([kb.btn("Production", self.cb("ae", app.id, 0)),
                                kb.btn("Sandbox", self.cb("ae", app.id, 1))])
        elif f in OPTIONAL:
            markup = kb.inline([kb.btn("⏭ Lewati", self.cb("as", app.id, APP_FIELDS.index(f)))])
        elif f == AppField.BUSINESS_PROCESS:
            markup = kb.inline([kb.btn("Gunakan proses bisnis dari surat permohonan", self.cb("as", app.id, 99))])
        step = APP_FIELDS.index(f) + 1
        self.out.send(user_id, f"Data aplikasi {step}/{len(APP_FIELDS)} — {QUESTIONS[f]}", markup)

    async def _load(self, user_id: int, app_id: int) -> Application | None:
        app = await self.s.get(Application, app_id)
        return app if app is not None and app.owner_telegram_id == user_id else None

    async def _save(self, user_id: int, app: Application, f: AppField, value: Any) -> None:
        app.data = {**app.data, f.value: value}
        app.updated_at = self.now
        await self.ask(user_id, app)

    async def typed(self, user_id: int, field: str, text: str, ctx: dict[str, Any]) -> None:
        app = await self._load(user_id, ctx["app_id"])
        if app is None or app.status != "draft":
            await self.clear_awaiting(user_id)
            self.out.send(user_id, await self.unknown_input(user_id))
            return
        f = AppField(field)
        try:
            if f == AppField.NAME:
                value: Any = parse_app_name(text)
                taken = await self.s.scalar(select(func.count()).select_from(Application).where(
                    Application.request_id == app.request_id, Application.name_key == value.lower(),
                    Application.status.in_(["in_progress", "done"])))
                if taken:
                    raise Invalid("app_name_taken")
            elif f == AppField.DESCRIPTION:
                value = parse_description(text)
            elif f == AppField.BUSINESS_PROCESS:
                value = parse_business_process(text)
            elif f == AppField.CALLBACK_URL:
                value = parse_callback_url(text)
            else:
                self.out.send(user_id, "Mohon pilih dengan tombol.")
                return
        except Invalid as err:
            self.out.send(user_id, app_error(err))
            return
        await self._save(user_id, app, f, value)

    async def button(self, user_id: int, action: str, app_id: int, arg: int) -> str | None:
        app = await self._load(user_id, app_id)
        if app is None:
            return T.TAP_FORBIDDEN
        if app.status != "draft":
            return T.TAP_STALE
        want = next_missing(app.data)
        if action == "ae" and want == AppField.ENVIRONMENT and arg in (0, 1):
            await self._save(user_id, app, AppField.ENVIRONMENT, ("production", "sandbox")[arg])
        elif action == "as" and arg == 99 and want == AppField.BUSINESS_PROCESS:
            req = await self.s.get(Request, app.request_id)
            await self._save(user_id, app, AppField.BUSINESS_PROCESS, req.business_process if req else "")
        elif action == "as" and 0 <= arg < len(APP_FIELDS) and APP_FIELDS[arg] in OPTIONAL and want == APP_FIELDS[arg]:
            await self._save(user_id, app, APP_FIELDS[arg], "")
        else:
            return T.TAP_STALE
        return None

    def card(self, app: Application) -> str:
        rows = []
        for f in APP_FIELDS:
            v = app.data.get(f.value) or "—"
            if f == AppField.ENVIRONMENT:
                v = ENV_LABELS.get(str(v), "—")
            rows.append(f"<b>{LABELS[f]}:</b> {T.e(v)}")
        return "\n".join(rows)

    async def summary(self, user_id: int, app: Application) -> None:
        await self.clear_awaiting(user_id)
        self.out.send(user_id, f"<b>Ringkasan data aplikasi</b>\n\n{self.card(app)}\n\nLanjutkan ke Portal Pengguna SPLP "
                               f"(langkah B1–B3, {b_each(self.sop)} menurut SOP)?", kb.inline(
            [kb.btn("▶️ Mulai", self.cb("ag", app.id))], [kb.btn("🗑 Batalkan", self.cb("ax", app.id))]))
