"""Steps 5-7 buttons (executor, Head), the contact person's link and the one-time reveal."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot import texts as T
from bot.callbacks import Callback
from bot.env import Env
from bot.services.account import Accounts, _Abort
from bot.updates import work_scope
from handlers.common import answer, in_background, svc, tapped, user_id
from storage.models import Secret

ACTIONS = ("ra", "rm", "rp", "rn", "rk", "rf", "rr", "cs", "rw")


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: Callback) -> None:
    a = svc(context, Accounts)
    uid, n = user_id(update), [int(x) for x in cb.args]
    res: str | None
    try:
        if cb.action == "ra":
            res = await a.start_record(uid, n[0], n[1])
        elif cb.action in ("rm", "rp"):
            res = await a.choose_delivery(uid, n[0], n[1], "portal_email" if cb.action == "rm" else "password",
                                          tapped(update))
        elif cb.action == "rn":
            res = await a.start_note(uid, n[0], n[1])
        elif cb.action == "rk":
            res = await a.submit_report(uid, n[0], n[1], tapped(update))
        elif cb.action == "rf":
            res = await a.forward(uid, n[0], n[1], tapped(update))
        elif cb.action == "rr":
            res = await a.start_reissue(uid, n[0])
        elif cb.action == "rw":
            res = await register_wso2(update, context, a, uid, n[0], n[1])
        else:  # "cs": reveal
            res = await reveal(update, context, a, uid, n[0], n[1])
    except _Abort as e:
        res = str(e)
    answer(update, res, alert=res in (T.TAP_FORBIDDEN, T.TAP_STALE, T.TAP_CLOSED, T.TAP_NOT_FOUND))


async def reveal(update: Update, context: ContextTypes.DEFAULT_TYPE, a: Accounts, uid: int, rid: int,
                 secret_id: int) -> str | None:
    """The account's initial credentials, once (see `show_once`)."""
    text, refusal = await a.claim_reveal(uid, rid, secret_id)
    if text is None:
        return refusal
    a.scope.after_commit.append(lambda: show_once(context, uid, text, rid, secret_id, "account_password"))
    return "Kredensial ditampilkan."


async def show_once(context: ContextTypes.DEFAULT_TYPE, uid: int, text: str, rid: int, secret_id: int,
                    kind: str) -> None:
    """The one reveal of a secret claimed in the tap's transaction, sent after commit (the
    plaintext is never written anywhere), then recorded and wiped in a second transaction once
    Telegram has accepted the message; the message itself is deleted later."""
    env: Env = context.bot_data["env"]
    try:
        msg = await context.bot.send_message(uid, text, parse_mode=ParseMode.HTML)
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
            await scope.outbox.flush()
        if env.wake_sender:
            env.wake_sender()
        return
    except TelegramError:
        await _release(env, secret_id)
        return
    async with env.db.transaction() as s:  # type: ignore[union-attr]
        scope = work_scope(s, env.clock.now())
        sec = await s.get(Secret, secret_id)
        if sec is not None:
            Accounts(scope, env).revealed(rid, sec, uid, msg.message_id)
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
                acc.out.send(uid, f"⚠️ Pendaftaran akun di SPLP gagal: {T.e(str(failure))}\n\nPermohonan tetap pada "
                                  "langkah 5; Anda dapat mencoba lagi atau mencatat akun yang didaftarkan secara manual.")
            elif req2 is None or req2.version != ver:
                acc.out.send(uid, T.TAP_STALE)
            else:
                try:
                    res = await acc.register(uid, req2, account.username_with_tenant,
                                             password=account.initial_password, mode="wso2",
                                             splp_user_id=account.user_id,
                                             must_change=account.must_change_password)
                except _Abort as e:
                    res = str(e)
                if not account.role_assigned:
                    res += (" Catatan: peran subscriber belum berhasil diberikan; berikan melalui konsol SPLP.")
                acc.out.send(uid, f"✅ {T.e(res)} Nama pengguna: <code>{T.e(account.username_with_tenant)}</code>.")
            await scope.outbox.flush()
        if env.wake_sender:
            env.wake_sender()

    a.scope.after_commit.append(in_background(call))
    return answer_text
