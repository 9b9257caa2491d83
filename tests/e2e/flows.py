"""Reusable steps of procedure A for end-to-end tests, under the harness's SOP (its chain: the
first hop disposes, ..., the last hop assigns the executor)."""

from __future__ import annotations

from sandbox.telegram import Msg
from tests.e2e.harness import EXEC1, HEAD, Harness


async def pick(h: Harness, uid: int, msg: Msg, button: str, then: str) -> Msg:
    """Tap ``button`` on ``msg`` and wait until the same message offers ``then``."""
    await h.tap(uid, msg, text=h.button(msg, button))
    await h.emu.wait_for(lambda: then in " ".join(h.emu.message(uid, msg.message_id).button_texts))
    return h.emu.message(uid, msg.message_id)  # type: ignore[return-value]


async def disposes(h: Harness, uid: int, after: int = 0) -> None:
    """A hop of the chain that hands the request on: an instruction, no note."""
    m = await h.wait_msg(uid, "Disposisikan kepada", after=after)
    m = await pick(h, uid, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    ans = await h.tap(uid, m, text=h.button(m, "Kirim tanpa catatan"))
    assert ans["text"] == "Disposisi terkirim.", ans


async def head_disposes(h: Harness, after: int = 0) -> None:
    await disposes(h, HEAD, after)


async def division_disposes(h: Harness, after: int = 0) -> None:
    await disposes(h, h.hop_user(h.sop.chain[1]), after)


async def assigns(h: Harness, uid: int, executor_name: str = "Budi Pranoto", after: int = 0) -> None:
    """The chain's last hop: the executor, an instruction, no note."""
    m = await h.wait_msg(uid, "yang ditugaskan", after=after)
    m = await pick(h, uid, m, executor_name, "Untuk ditindaklanjuti")
    m = await pick(h, uid, m, "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    ans = await h.tap(uid, m, text=h.button(m, "Kirim tanpa catatan"))
    assert ans["text"] == "Penugasan terkirim.", ans


async def team_assigns(h: Harness, executor_name: str = "Budi Pranoto", after: int = 0) -> None:
    await assigns(h, h.hop_user(h.sop.assigner), executor_name, after)


async def to_executor(h: Harness, after: dict[int, int] | None = None) -> Msg:
    """Every hop of the chain in turn, then the executor's card (the completeness check)."""
    after = after or {}
    for stage in h.sop.chain:
        uid = h.hop_user(stage)
        if stage == h.sop.assigner:
            await assigns(h, uid, after=after.get(uid, 0))
        else:
            await disposes(h, uid, after.get(uid, 0))
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
    task = await h.wait_msg(EXEC1, "terlampir. Tambahkan catatan")
    await h.tap(EXEC1, task, text=h.button(task, "Kirim ke "))
    forwarder = h.user_of(h.sop.forwarder)
    fwd = await h.wait_msg(forwarder, "Teruskan kepada pemohon untuk menyelesaikan")
    await h.tap(forwarder, fwd, text=h.button(fwd, "Teruskan kepada pemohon"))
    await h.wait_msg(REQUESTER, "selesai")
    return number
