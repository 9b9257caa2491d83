"""Procedure A steps 1-4 with the requester and the four officials, over HTTP."""

from __future__ import annotations

from tests.e2e.harness import DIVISION, EXEC1, HEAD, REQUESTER, TEAM, Harness


async def test_request_through_chain_to_registration(h: Harness) -> None:
    emu = h.emu
    number = await h.submit()
    assert number == "SPLP-2026-000001"

    # Head receives the scan and the disposition message with instructions.
    head_msg = await h.wait_msg(HEAD, "Disposisikan kepada")
    assert number in head_msg.text and "1 hari kerja" in head_msg.text
    assert any(m.file_name == "surat.pdf" for m in emu.bot_messages(HEAD))
    ans = await h.tap(HEAD, head_msg, text=h.button(head_msg, "Segera"))
    after = h.last_id(HEAD)
    cur = emu.message(HEAD, head_msg.message_id)
    await emu.wait_for(lambda: "Tulis catatan" in " ".join(emu.message(HEAD, head_msg.message_id).button_texts))
    cur = emu.message(HEAD, head_msg.message_id)
    await h.tap(HEAD, cur, text=h.button(cur, "Tulis catatan"), expect="Ketik catatan")
    await h.say(HEAD, "Mohon diproses minggu ini.", expect="Disposisi terkirim")
    await emu.wait_for(lambda: not emu.message(HEAD, head_msg.message_id).buttons)
    assert "Didisposisikan oleh Rahmat Hidayat" in emu.message(HEAD, head_msg.message_id).text
    await h.wait_msg(REQUESTER, "Kepala Bidang E-Government")

    # Division head sees sender, instruction and note; disposes without a note.
    div_msg = await h.wait_msg(DIVISION, "Disposisikan kepada")
    assert "Rahmat Hidayat" in div_msg.text and "Segera" in div_msg.text and "minggu ini" in div_msg.text
    await h.tap(DIVISION, div_msg, text=h.button(div_msg, "Untuk ditindaklanjuti"))
    await emu.wait_for(lambda: "Kirim tanpa catatan" in " ".join(emu.message(DIVISION, div_msg.message_id).button_texts))
    cur = emu.message(DIVISION, div_msg.message_id)
    ans = await h.tap(DIVISION, cur, text=h.button(cur, "Kirim tanpa catatan"))
    assert ans["text"] == "Disposisi terkirim."

    # Team lead assigns an executor.
    team_msg = await h.wait_msg(TEAM, "Pilih <b>Pejabat".replace("<b>", ""))
    await h.tap(TEAM, team_msg, text=h.button(team_msg, "Budi Pranoto"))
    await emu.wait_for(lambda: "Untuk ditindaklanjuti" in " ".join(emu.message(TEAM, team_msg.message_id).button_texts))
    cur = emu.message(TEAM, team_msg.message_id)
    await h.tap(TEAM, cur, text=h.button(cur, "Untuk ditindaklanjuti"))
    await emu.wait_for(lambda: "Kirim tanpa catatan" in " ".join(emu.message(TEAM, team_msg.message_id).button_texts))
    cur = emu.message(TEAM, team_msg.message_id)
    ans = await h.tap(TEAM, cur, text=h.button(cur, "Kirim tanpa catatan"))
    assert ans["text"] == "Penugasan terkirim."

    # Executor checks completeness: full contact data and pre-checks are shown.
    ex_msg = await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan")
    assert "siti.aminah@kotabogor.go.id" in ex_msg.text and "+6281234567890" in ex_msg.text
    ans = await h.tap(EXEC1, ex_msg, text=h.button(ex_msg, "Lengkap"))
    assert ans["text"] == "Permohonan dinyatakan lengkap."
    await h.wait_msg(REQUESTER, "Pendaftaran akun SPLP")
    req = await h.request(number)
    assert req.stage == "registration" and req.executor_official_id == await h.official_id(EXEC1)

    # /status shows the timeline.
    st = await h.say(REQUESTER, "/status", expect=number)
    assert "Disposisi Kepala Diskominfo" in st.text and "Pemeriksaan kelengkapan" in st.text
    assert "Durasi: 0 menit (jam kerja) ✅ tepat waktu" in st.text and "Perkiraan selesai" in st.text
