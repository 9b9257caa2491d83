"""Every tap is checked against the current state and the tapping user's role."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.models import AuditLog, Outbox, RequestStep
from tests.e2e.flows import pick
from tests.e2e.harness import DIVISION, EXEC1, EXEC2, HEAD, REQUESTER, STRANGER, TEAM, Harness


async def _head_msg(h: Harness):  # type: ignore[no-untyped-def]
    await h.submit()
    return await h.wait_msg(HEAD, "Disposisikan kepada")


async def _final_data(h: Harness, uid: int, msg) -> str:  # type: ignore[no-untyped-def]
    m = await pick(h, uid, msg, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    return next(b["callback_data"] for b in m.buttons if "Kirim tanpa" in b["text"])


async def _count_steps(h: Harness) -> int:
    async with h.db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(RequestStep))  # type: ignore[return-value]


async def test_stale_tap_changes_nothing(h: Harness) -> None:
    m = await _head_msg(h)
    data = await _final_data(h, HEAD, m)
    ans = await h.tap(HEAD, m, data=data)
    assert ans["text"] == "Disposisi terkirim."
    await h.settle()
    steps = await _count_steps(h)
    # The same (now stale) button again, e.g. from an old copy of the message.
    qid = h.emu.tap_raw(HEAD, m.message_id, data)
    ans = await h.emu.wait_callback_answer(qid)
    assert "sudah tidak berlaku" in ans["text"] and ans.get("show_alert")
    assert await _count_steps(h) == steps
    assert (await h.request()).stage == "division_review"


async def test_forged_tap_is_refused(h: Harness) -> None:
    m = await _head_msg(h)
    data = m.buttons[0]["callback_data"]
    forged = data.replace(":0:0:", ":0:1:") if ":0:0:" in data else data[:-1] + ("A" if data[-1] != "A" else "B")
    for bad in (forged, "dn:1:1:0:0:AAAAAAAA", "garbage"):
        qid = h.emu.tap_raw(HEAD, m.message_id, bad)
        ans = await h.emu.wait_callback_answer(qid)
        assert ans["text"] == "Tombol tidak valid."
    assert (await h.request()).stage == "head_review"
    async with h.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "forged_tap")) == 3


async def test_a_signed_button_with_other_numbers_than_its_action_takes_changes_nothing(h: Harness) -> None:
    """A button whose signature is good but whose numbers do not fit its action (one missing, one too
    many, not a number): «Pilihan tidak valid», and the request stays where it is."""
    m = await _head_msg(h)
    req = await h.request()
    codec = h.runtime.env.codec  # type: ignore[union-attr]
    steps = await _count_steps(h)
    for args in ((req.id, req.version, 0), (req.id, req.version, 0, 0, 0), (req.id, req.version, 0, "x")):
        qid = h.emu.tap_raw(HEAD, m.message_id, codec.encode("dn", *args))
        ans = await h.emu.wait_callback_answer(qid)
        assert ans["text"] == "Pilihan tidak valid. Silakan ulangi."
    await h.settle()
    assert (await h.request()).stage == "head_review" and await _count_steps(h) == steps
    qid = h.emu.tap_raw(HEAD, m.message_id, codec.encode("dn", req.id, req.version, 0, 0))  # well formed
    assert (await h.emu.wait_callback_answer(qid))["text"] == "Disposisi terkirim."


async def test_foreign_taps_are_refused(h: Harness) -> None:
    m = await _head_msg(h)
    data = await _final_data(h, HEAD, m)
    # A stranger, the requester, and officials of other roles press the Head's button.
    # (A button's data copied into another chat: a modified client could send it.)
    for uid in (STRANGER, REQUESTER, DIVISION, TEAM, EXEC1):
        own = await h.say(uid, "/start", expect="Selamat datang")
        qid = h.emu.tap_raw(uid, own.message_id, data)
        ans = await h.emu.wait_callback_answer(qid)
        assert ans["text"] == "Anda tidak berwenang melakukan tindakan ini.", (uid, ans)
    assert (await h.request()).stage == "head_review"
    async with h.db.sessions() as s:
        refused = await s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "refused"))
    assert refused == 5
    # The Head still can.
    ans = await h.tap(HEAD, m, data=data)
    assert ans["text"] == "Disposisi terkirim."


async def test_only_assigned_executor_may_check(h: Harness) -> None:
    from tests.e2e.flows import to_executor

    await h.submit()
    ex = await to_executor(h)
    ok = next(b["callback_data"] for b in ex.buttons if "Lengkap" == b["text"].split(" ", 1)[1])
    own = await h.say(EXEC2, "/start", expect="Selamat datang")
    qid = h.emu.tap_raw(EXEC2, own.message_id, ok)
    assert (await h.emu.wait_callback_answer(qid))["text"] == "Anda tidak berwenang melakukan tindakan ini."
    assert (await h.request()).stage == "completeness"


async def test_two_heads_tap_at_once_one_transition(h: Harness) -> None:
    second_head = 1011
    await h.add_official(second_head, "Plt Kepala Dinas", "head")
    await h.submit()
    m1 = await h.wait_msg(HEAD, "Disposisikan kepada")
    m2 = await h.wait_msg(second_head, "Disposisikan kepada")
    d1 = await _final_data(h, HEAD, m1)
    d2 = await _final_data(h, second_head, m2)
    q1 = h.emu.tap_raw(HEAD, m1.message_id, d1)
    q2 = h.emu.tap_raw(second_head, m2.message_id, d2)
    a1, a2 = await asyncio.gather(h.emu.wait_callback_answer(q1), h.emu.wait_callback_answer(q2))
    texts = sorted([a1["text"], a2["text"]])
    assert texts[0] == "Disposisi terkirim." and "tidak berlaku" in texts[1], texts
    await h.settle()
    req = await h.request()
    assert req.stage == "division_review" and req.version == 2
    async with h.db.sessions() as s:
        n = await s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "dispose"))
    assert n == 1
    # Neither head is left with live buttons; the division head got exactly one disposition.
    await h.emu.wait_for(lambda: not h.emu.message(HEAD, m1.message_id).buttons
                         and not h.emu.message(second_head, m2.message_id).buttons)
    await h.settle()
    assert len([m for m in h.emu.bot_messages(DIVISION) if "Disposisikan kepada" in m.content_text]) == 1


async def test_double_tap_same_button_one_effect(h: Harness) -> None:
    m = await _head_msg(h)
    data = await _final_data(h, HEAD, m)
    qids = [h.emu.tap_raw(HEAD, m.message_id, data) for _ in range(3)]
    answers = [await h.emu.wait_callback_answer(q) for q in qids]
    assert [a["text"] for a in answers].count("Disposisi terkirim.") == 1
    await h.settle()
    assert len([x for x in h.emu.bot_messages(DIVISION) if "Disposisikan kepada" in x.content_text]) == 1


async def test_deactivated_official_cannot_act(h: Harness) -> None:
    m = await _head_msg(h)
    data = await _final_data(h, HEAD, m)
    async with h.db.transaction() as s:
        from sqlalchemy import update

        from storage.models import Official
        await s.execute(update(Official).where(Official.telegram_id == HEAD).values(active=False))
    qid = h.emu.tap_raw(HEAD, m.message_id, data)
    assert (await h.emu.wait_callback_answer(qid))["text"] == "Anda tidak berwenang melakukan tindakan ini."


async def test_tap_before_the_bot_recorded_the_delivery(h: Harness) -> None:
    """The executor taps «Lengkap» on a card whose delivery the bot has not recorded yet (Telegram
    shows it, its reply is slow): the card keeps its text with the outcome, loses its buttons,
    and the bot makes no call Telegram refuses (no second "remove the buttons" edit)."""
    from tests.e2e.flows import division_disposes, head_disposes, team_assigns

    await h.submit()
    await head_disposes(h)
    await division_disposes(h)
    h.emu.delay_next("sendMessage", 1.5, chat_id=EXEC1)  # shown at once, acknowledged late
    after = h.last_id(EXEC1)
    await team_assigns(h)
    card = await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan", after=after)
    ans = await h.tap(EXEC1, card, text=h.button(card, "Lengkap"))
    assert ans["text"]
    await h.settle()
    await h.emu.wait_for(lambda: not h.emu.message(EXEC1, card.message_id).buttons, timeout=5)
    shown = h.emu.message(EXEC1, card.message_id)
    assert "Pemeriksaan kelengkapan" in shown.text and "Dinyatakan LENGKAP" in shown.text
    assert (await h.request()).stage == "registration"
    # The card was delivered: its row says so (the tap's transaction had cancelled it as not yet out).
    async with h.db.sessions() as s:
        row = await s.scalar(select(Outbox).where(Outbox.chat_id == EXEC1, Outbox.sent_message_id == card.message_id))
    assert row is not None and row.status == "sent" and not row.live_buttons, row and (row.status, row.live_buttons)
