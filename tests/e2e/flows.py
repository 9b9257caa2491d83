"""Reusable steps of procedure A for end-to-end tests."""

from __future__ import annotations

from sandbox.telegram import Msg
from tests.e2e.harness import DIVISION, EXEC1, HEAD, TEAM, Harness


async def pick(h: Harness, uid: int, msg: Msg, button: str, then: str) -> Msg:
    """Tap ``button`` on ``msg`` and wait until the same message offers ``then``."""
    await h.tap(uid, msg, text=h.button(msg, button))
    await h.emu.wait_for(lambda: then in " ".join(h.emu.message(uid, msg.message_id).button_texts))
    return h.emu.message(uid, msg.message_id)  # type: ignore[return-value]


async def head_disposes(h: Harness, after: int = 0) -> None:
    m = await h.wait_msg(HEAD, "Disposisikan kepada", after=after)
    m = await pick(h, HEAD, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    ans = await h.tap(HEAD, m, text=h.button(m, "Kirim tanpa catatan"))
    assert ans["text"] == "Disposisi terkirim.", ans


async def division_disposes(h: Harness, after: int = 0) -> None:
    m = await h.wait_msg(DIVISION, "Disposisikan kepada", after=after)
    m = await pick(h, DIVISION, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    ans = await h.tap(DIVISION, m, text=h.button(m, "Kirim tanpa catatan"))
    assert ans["text"] == "Disposisi terkirim.", ans


async def team_assigns(h: Harness, executor_name: str = "Budi Pranoto", after: int = 0) -> None:
    m = await h.wait_msg(TEAM, "Pelaksana", after=after)
    m = await pick(h, TEAM, m, executor_name, "Untuk ditindaklanjuti")
    m = await pick(h, TEAM, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    ans = await h.tap(TEAM, m, text=h.button(m, "Kirim tanpa catatan"))
    assert ans["text"] == "Penugasan terkirim.", ans


async def to_executor(h: Harness, after: dict[int, int] | None = None) -> Msg:
    after = after or {}
    await head_disposes(h, after.get(HEAD, 0))
    await division_disposes(h, after.get(DIVISION, 0))
    await team_assigns(h, after=after.get(TEAM, 0))
    return await h.wait_msg(EXEC1, "Pemeriksaan kelengkapan", after=after.get(EXEC1, 0))


async def complete_procedure_a(h: Harness, contact: int) -> str:
    """Procedure A to Selesai (portal e-mail delivery), with ``contact`` verified as the contact person."""
    from tests.e2e.harness import REQUESTER

    number = await h.submit()
    ex = await to_executor(h)
    await h.tap(EXEC1, ex, text=h.button(ex, "Lengkap"))
    reg = await h.wait_msg(EXEC1, "Kartu data untuk portal SPLP")
    await h.tap(EXEC1, reg, text=h.button(reg, "Catat akun"), expect="nama pengguna akun SPLP")
    choice = await h.say(EXEC1, "dinkes.simpus", expect="Bagaimana kredensial awal")
    await h.tap(EXEC1, choice, text=h.button(choice, "melalui email"), expect="Akun tercatat")
    link = await h.wait_msg(REQUESTER, "?start=cp_")
    token = next(w for w in link.text.split() if "?start=cp_" in w).split("?start=", 1)[1]
    await h.say(contact, f"/start {token}", expect="membagikan nomor")
    after = h.last_id(contact)
    h.emu.send_contact(contact, "6281234567890")
    await h.wait_msg(contact, "terverifikasi", after=after)
    task = await h.wait_msg(EXEC1, "Pratinjau laporan kegiatan terlampir")
    await h.tap(EXEC1, task, text=h.button(task, "Kirim ke Kepala"))
    fwd = await h.wait_msg(HEAD, "Teruskan kepada pemohon untuk menyelesaikan")
    await h.tap(HEAD, fwd, text=h.button(fwd, "Teruskan kepada pemohon"))
    await h.wait_msg(REQUESTER, "selesai")
    return number
