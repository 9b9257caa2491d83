"""Steps 5-7 buttons (executor, Head), the contact person's link and the one-time reveal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.env import Env
from bot.services.account import Accounts, Abort
from bot.updates import Scope, work_scope
from handlers.common import Tap, answer, in_background, numbers, svc, user_id
from storage.models import Secret

log = logging.getLogger(__name__)

# Each button: how it is taken, and the names of the numbers it carries in the order its keyboard
# wrote them (bot/services/chain.py, account.py), passed by name.
TAPS: dict[str, tuple[Callable[..., Awaitable[str | None]], tuple[str, ...]]] = {
    "ra": (lambda t, rid, ver: t.svc.start_record(t.uid, rid, ver), ("rid", "ver")),
    "rm": (lambda t, rid, ver: t.svc.choose_delivery(t.uid, rid, ver, "portal_email", t.message), ("rid", "ver")),
    "rp": (lambda t, rid, ver: t.svc.choose_delivery(t.uid, rid, ver, "password", t.message), ("rid", "ver")),
    "rn": (lambda t, rid, ver: t.svc.start_note(t.uid, rid, ver), ("rid", "ver")),
    "rk": (lambda t, rid, ver: t.svc.submit_report(t.uid, rid, ver, t.message), ("rid", "ver")),
    "rf": (lambda t, rid, ver: t.svc.forward(t.uid, rid, ver, t.message), ("rid", "ver")),
    "rr": (lambda t, rid: t.svc.start_reissue(t.uid, rid), ("rid",)),
    "rw": (lambda t, rid, ver: register_wso2(t.update, t.context, t.svc, t.uid, rid, ver), ("rid", "ver")),
    "cs": (lambda t, rid, secret_id: reveal(t.update, t.context, t.svc, t.uid, rid, secret_id), ("rid", "secret_id")),
}
ACTIONS = tuple(TAPS)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    take, names = TAPS[cb.action]
    args = numbers(cb, names)
    res: str | None
    try:
        res = await take(Tap(update, context, svc(context, Accounts), user_id(update)), **args)
    except Abort as e:
        res = str(e)
    answer(update, res, alert=res in (T.TAP_FORBIDDEN, T.TAP_STALE, T.TAP_CLOSED, T.TAP_NOT_FOUND))


async def reveal(update: Update, context: ContextTypes.DEFAULT_TYPE, a: Accounts, uid: int, rid: int,
                 secret_id: int) -> str | None:
    """The account's initial credentials, once (see `show_once`)."""
    parts, refusal = await a.claim_reveal(uid, rid, secret_id)
    if parts is None:
        return refusal
    offer = Offer.of(update)
    a.scope.after_commit.append(lambda: show_once(context, uid, parts, rid, secret_id, "account_password", offer))
    return "Kredensial ditampilkan."


@dataclass(frozen=True)
class Offer:
    """The message whose «Tampilkan» button was pressed: its id and text (HTML), to spend the button."""

    message_id: int
    html: str

    @classmethod
    def of(cls, update: Update) -> Offer | None:
        m = update.callback_query.message if update.callback_query else None
        if m is None or not getattr(m, "text", None):
            return None
        return cls(m.message_id, m.text_html)

    def spend(self, scope: Scope, uid: int, outcome: str) -> None:
        scope.outbox.edit(uid, f"{self.html}\n\n{outcome}", None, message_id=self.message_id)


async def show_once(context: ContextTypes.DEFAULT_TYPE, uid: int, parts: list[str], rid: int, secret_id: int,
                    kind: str, offer: Offer | None = None) -> None:
    """The one reveal of a secret claimed in the tap's transaction, sent after commit (the
    plaintext is never written anywhere), then recorded and wiped in a second transaction once
    Telegram has accepted the message; the message itself is deleted later. The offer's button is
    spent once the secret is gone (shown, or possibly shown); a refused reveal keeps it."""
    env: Env = context.bot_data["env"]
    try:
        shown = [(await context.bot.send_message(uid, parts[0], parse_mode=ParseMode.HTML)).message_id]
    except (BadRequest, Forbidden, RetryAfter):  # refused outright: nothing was shown, it may be tried again
        await _release(env, secret_id)
        return
    except NetworkError:
        # Timed out or failed on the way back: Telegram may have shown it. Treat it as possibly
        # seen: wipe it; whoever must issue a new one is told (Accounts.wipe).
        async with env.db.transaction() as s:  # type: ignore[union-attr]
            scope = work_scope(s, env.clock.now())
            await Accounts(scope, env).wipe(secret_id, rid, "uncertain", kind)
            if kind == "account_password":
                scope.outbox.send(uid, "Kredensial tidak dapat ditampilkan dengan pasti karena gangguan jaringan; "
                                       "petugas akan menerbitkan yang baru.")
            if offer is not None:
                offer.spend(scope, uid, "⚠️ Tidak dapat ditampilkan dengan pasti; kredensial ini tidak berlaku lagi.")
            await scope.outbox.flush()
        if env.wake_sender:
            env.wake_sender()
        return
    except TelegramError:
        await _release(env, secret_id)
        return
    for more in parts[1:]:  # the developers' example: shown already counts; a failure here loses only it
        try:
            shown.append((await context.bot.send_message(uid, more, parse_mode=ParseMode.HTML)).message_id)
        except TelegramError as e:
            log.warning("part of a reveal was not shown: %s", type(e).__name__)
    async with env.db.transaction() as s:  # type: ignore[union-attr]
        scope = work_scope(s, env.clock.now())
        sec = await s.get(Secret, secret_id)
        if sec is not None:
            Accounts(scope, env).revealed(rid, sec, uid, shown)
        if offer is not None:
            offer.spend(scope, uid, f"✅ Ditampilkan pada {T.fmt_dt(scope.now, env.settings.tz)}.")
        await scope.outbox.flush()
    if env.wake_sender:
        env.wake_sender()


async def _release(env: Env, secret_id: int) -> None:
    async with env.db.transaction() as s:  # type: ignore[union-attr]
        sec = await s.get(Secret, secret_id)
        if sec is not None:
            sec.reveal_claimed_until = None


def register(app: Application) -> None:  # buttons are routed by handlers/router.py
    del app


async def register_wso2(update: Update, context: ContextTypes.DEFAULT_TYPE, a: Accounts, uid: int, rid: int,
                        ver: int) -> str | None:
    """Claim in this transaction; call SPLP after commit (no database lock held during the call);
    record the account in a second transaction. A retried call never creates two users: the
    adapter looks before it creates again."""
    answer_text, run = await a.start_wso2(uid, rid, ver)
    if not run:
        return answer_text
    env: Env = context.bot_data["env"]

    async def call() -> None:
        from splp import SPLPError

        from storage.models import Agency, Request

        async with env.db.sessions() as s:  # type: ignore[union-attr]
            req = await s.get(Request, rid)
            agency = await s.get(Agency, req.agency_id) if req else None
        if req is None:
            return
        spec = Accounts(a.scope, env).account_spec(req, agency)
        account, failure = None, None
        try:
            account = await env.splp.create_account(spec)
        except SPLPError as e:
            failure = e
        async with env.db.transaction() as s:  # type: ignore[union-attr]
            now = env.clock.now()
            scope = work_scope(s, now)
            acc = Accounts(scope, env)
            await acc.clear_awaiting(uid)
            req2 = await s.get(Request, rid)
            if failure is not None or account is None:
                acc.audit("splp_register_failed", actor_tg=uid, request_id=rid,
                          code=getattr(failure, "code", "unknown"))
                step = (await acc.sop_of(req)).registration_step.number
                acc.out.send(uid, f"⚠️ Pendaftaran akun di SPLP gagal: {T.e(str(failure))}\n\nPermohonan tetap pada "
                                  f"langkah {step}; Anda dapat mencoba lagi atau mencatat akun yang didaftarkan secara "
                                  "manual.")
            elif req2 is None or req2.version != ver:
                acc.out.send(uid, T.TAP_STALE)
            else:
                try:
                    res = await acc.register(uid, req2, account.username_with_tenant,
                                             password=account.initial_password, mode="wso2",
                                             splp_user_id=account.user_id,
                                             must_change=account.must_change_password)
                except Abort as e:
                    res = str(e)
                if not account.role_assigned:
                    res += (" Catatan: peran subscriber belum berhasil diberikan; berikan melalui konsol SPLP.")
                acc.out.send(uid, f"✅ {T.e(res)} Nama pengguna: <code>{T.e(account.username_with_tenant)}</code>.")
            await scope.outbox.flush()
        if env.wake_sender:
            env.wake_sender()

    a.scope.after_commit.append(in_background(call))
    return answer_text
