"""Step 4 "Tidak lengkap": back to the requester, corrected, resubmitted (the chain again), complete --
under both shipped SOP files (their own completeness items and chains)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditLog, RequestStep
from tests.e2e.conftest import BOTH_SOPS
from tests.e2e.flows import pick, to_executor
from tests.e2e.harness import DIVISION, EXEC1, HEAD, REQUESTER, TEAM, Harness


async def _return_it(h: Harness, ex: object) -> None:
    """The executor ticks the e-mail and the business process (the SOP's labels for them)."""
    email, process = h.sop.item_label("contact_email"), h.sop.item_label("business_process")
    m = await pick(h, EXEC1, ex, "Tidak lengkap", email)  # type: ignore[arg-type]
    assert [b.split(" ", 1)[1] for b in m.button_texts[:len(h.sop.items)]] == [i.label for i in h.sop.items]
    m = await pick(h, EXEC1, m, email, f"☑️ {email}")
    m = await pick(h, EXEC1, m, process, f"☑️ {process}")
    await h.tap(EXEC1, m, text=h.button(m, "Lanjut"), expect="Ketik alasan")
    await h.say(EXEC1, "Email bukan email dinas dan proses bisnis kurang rinci.", expect="dikembalikan kepada pemohon")


@BOTH_SOPS
async def test_incomplete_returned_corrected_resubmitted_complete(h: Harness) -> None:
    emu, sop = h.emu, h.sop
    number = await h.submit()
    ex = await to_executor(h)
    await _return_it(h, ex)

    back = await h.wait_msg(REQUESTER, "belum lengkap")
    assert sop.item_label("contact_email") in back.text and sop.item_label("business_process") in back.text
    assert "bukan email dinas" in back.text
    assert not emu.message(EXEC1, ex.message_id).buttons  # no live buttons left behind
    req = await h.request(number)
    assert req.stage == "returned" and req.return_info["missing"] == ["contact_email", "business_process"]

    # The requester corrects the email and sends again.
    after = {u: h.last_id(u) for u in (HEAD, DIVISION, TEAM, EXEC1)}
    await h.emu.wait_for(lambda: not emu.message(EXEC1, ex.message_id).buttons)
    await h.tap(REQUESTER, back, text=h.button(back, "Perbaiki"), expect="Perbaikan permohonan")
    summary = emu.last_bot_message(REQUESTER)
    await h.tap(REQUESTER, summary, text=h.button(summary, "Email narahubung"), expect="alamat email")
    s2 = await h.say(REQUESTER, "siti.aminah@dinkes.kotabogor.go.id", expect="Perbaikan permohonan")
    assert "siti.aminah@dinkes.kotabogor.go.id" in s2.text
    await h.tap(REQUESTER, s2, text=h.button(s2, "Kirim"), expect="dikirim ulang")
    await emu.wait_for(lambda: not emu.message(REQUESTER, back.message_id).buttons)

    # By default the resubmission passes steps 2-3 again.
    ex2 = await to_executor(h, after)
    assert "Pengajuan ulang ke-1" in ex2.text and "dinkes.kotabogor.go.id" in ex2.text
    ans = await h.tap(EXEC1, ex2, text=h.button(ex2, "Lengkap"))
    assert ans["text"] == "Permohonan dinyatakan lengkap."
    req = await h.request(number)
    assert req.stage == "registration" and req.cycle == 2 and req.number == number

    async with h.db.sessions() as s:
        steps = (await s.scalars(select(RequestStep).where(RequestStep.request_id == req.id)
                                 .order_by(RequestStep.id))).all()
        actions = (await s.scalars(select(AuditLog.action).where(AuditLog.request_id == req.id)
                                   .order_by(AuditLog.id))).all()
    cycle = [*sop.chain, "completeness"]
    assert [x.stage for x in steps] == ["returned", *cycle, "returned", *cycle, "registration"]
    assert all(x.done_at for x in steps[:-1]) and steps[-1].done_at is None
    assert steps[len(cycle) + 1].due_at is None  # the officials' clock is paused while the requester holds it
    if sop.chain == ("head_review", "division_review", "team_assign"):  # step A3's two hops share its limit
        assert steps[3].due_at == steps[2].due_at
    hops = ["assign" if st == sop.assigner else "dispose" for st in sop.chain]
    assert list(actions) == ["submit", *hops, "return", "resubmit", *hops, "complete"]


async def test_resubmission_straight_to_same_executor(emu, db_url) -> None:  # type: ignore[no-untyped-def]
    from workflow.machine import ResubmitRoute

    h = Harness(emu, db_url, resubmit_route=ResubmitRoute.EXECUTOR)
    await h.start()
    await h.cast()
    try:
        await h.submit()
        ex = await to_executor(h)
        await _return_it(h, ex)
        back = await h.wait_msg(REQUESTER, "belum lengkap")
        after = h.last_id(EXEC1)
        head_before = len(emu.bot_messages(HEAD))
        await h.tap(REQUESTER, back, text=h.button(back, "Perbaiki"), expect="Perbaikan permohonan")
        summary = emu.last_bot_message(REQUESTER)
        await h.tap(REQUESTER, summary, text=h.button(summary, "Kirim"), expect="dikirim ulang")
        ex2 = await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan", after=after)
        assert "Pengajuan ulang" in ex2.text
        assert len(emu.bot_messages(HEAD)) == head_before  # steps 2-3 skipped
    finally:
        await h.close()


async def test_requester_may_cancel_returned_request(h: Harness) -> None:
    number = await h.submit()
    ex = await to_executor(h)
    await _return_it(h, ex)
    back = await h.wait_msg(REQUESTER, "belum lengkap")
    correct_data = back.buttons[0]["callback_data"]
    ans = await h.tap(REQUESTER, back, text=h.button(back, "Batalkan permohonan"))
    assert ans["text"] == "Permohonan dibatalkan."
    req = await h.request(number)
    assert req.stage == "cancelled" and req.closed_at is not None
    # The old "correct" button is now stale.
    qid = h.emu.tap_raw(REQUESTER, back.message_id, correct_data)
    ans = await h.emu.wait_callback_answer(qid)
    assert "tidak berlaku" in ans["text"]
