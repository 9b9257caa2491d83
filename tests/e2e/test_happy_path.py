"""Procedure A from the letter through the disposition chain to registration, over HTTP, under
both shipped SOP files: Bogor's three hops (head, division head, team lead) and the regency's
two (the head, then the division head who assigns the executor)."""

from __future__ import annotations

from tests.e2e.conftest import BOTH_SOPS
from tests.e2e.flows import assigns, disposes
from tests.e2e.harness import EXEC1, HEAD, REQUESTER, Harness


@BOTH_SOPS
async def test_request_through_chain_to_registration(h: Harness) -> None:
    emu, sop = h.emu, h.sop
    number = await h.submit()
    assert number == "SPLP-2026-000001"

    # The first hop receives the scan and the disposition message with the SOP's instructions.
    first, second = sop.chain[0], sop.chain[1]
    head_msg = await h.wait_msg(HEAD, "Disposisikan kepada")
    assert number in head_msg.text and f"({sop.limit_label(first)})" in head_msg.text
    assert f"Disposisikan kepada {sop.role_title(sop.holder(second))} dengan instruksi" in head_msg.text
    assert [b.removeprefix("➡️ ") for b in head_msg.button_texts] == list(sop.instructions)
    assert any(m.file_name == "surat.pdf" for m in emu.bot_messages(HEAD))
    await h.tap(HEAD, head_msg, text=h.button(head_msg, "Segera"))
    await emu.wait_for(lambda: "Tulis catatan" in " ".join(emu.message(HEAD, head_msg.message_id).button_texts))
    cur = emu.message(HEAD, head_msg.message_id)
    await h.tap(HEAD, cur, text=h.button(cur, "Tulis catatan"), expect="Ketik catatan")
    await h.say(HEAD, "Mohon diproses minggu ini.", expect="Disposisi terkirim")
    await emu.wait_for(lambda: not emu.message(HEAD, head_msg.message_id).buttons)
    assert "Didisposisikan oleh Rahmat Hidayat" in emu.message(HEAD, head_msg.message_id).text
    await h.wait_msg(REQUESTER, sop.stage_label(second))

    # The next hop sees sender, instruction and note; the chain goes on to the hop that assigns.
    nxt = await h.wait_msg(h.hop_user(second), "Langkah")
    assert "Rahmat Hidayat" in nxt.text and "Segera" in nxt.text and "minggu ini" in nxt.text
    assert sop.role_title(sop.holder(first)) in nxt.text  # the sender's title
    for stage in sop.chain[1:]:
        if stage == sop.assigner:
            await assigns(h, h.hop_user(stage))
        else:
            await disposes(h, h.hop_user(stage))

    # The executor checks completeness: full contact data and the SOP's items with their pre-checks.
    ex_msg = await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan")
    assert "siti.aminah@kotabogor.go.id" in ex_msg.text and "+6281234567890" in ex_msg.text
    for item in sop.items:
        assert f"✅ {item.label}" in ex_msg.text, item  # every pre-check passes (the scan too)
    ans = await h.tap(EXEC1, ex_msg, text=h.button(ex_msg, "Lengkap"))
    assert ans["text"] == "Permohonan dinyatakan lengkap."
    await h.wait_msg(REQUESTER, sop.stages["registration"].label)
    req = await h.request(number)
    assert req.stage == "registration" and req.executor_official_id == await h.official_id(EXEC1)
    assert req.sop_version == sop.version

    # /status shows the timeline under the request's SOP, and the version.
    st = await h.say(REQUESTER, "/status", expect=number)
    assert sop.stages[first].label in st.text and sop.stages["completeness"].label in st.text
    assert "Durasi: 0 menit (jam kerja) ✅ tepat waktu" in st.text and "Perkiraan selesai" in st.text
    assert f"Menurut: SOP {sop.identity.number} rev. {sop.revision} ({sop.version[:8]})" in st.text
    assert f"Batas waktu SOP prosedur A: {sop.official_limit_label()} untuk langkah 2–7." in st.text
