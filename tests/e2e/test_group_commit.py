"""Group commit (bot/updates.py): different users' updates that wait at one moment are handled in
one transaction; a failure anywhere in a group leaves none of it, and its updates are handled again
one at a time; one user's updates stay in order; what an update made is freed when it is done.
End to end, the real bot over the emulator."""

from __future__ import annotations

import gc
import weakref
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event, select

from bot import texts as T
from bot.services.form import Form
from bot.updates import Scope
from storage.models import Draft, ProcessedUpdate
from tests.e2e.harness import Harness, wait_until

USERS = list(range(5101, 5109))
FIRST = "Langkah 1/10"  # the form's first question (the agency)


class Transactions:
    """How many updates (rows of processed_update) each committed transaction recorded."""

    def __init__(self, engine: Any) -> None:
        self.committed: list[int] = []
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _statement(self, conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if statement.startswith("INSERT INTO processed_update"):  # a group's updates: one statement
            conn.info["updates"] = conn.info.get("updates", 0) + len(context.compiled_parameters)

    def _commit(self, conn: Any) -> None:
        n = conn.info.pop("updates", 0)
        if n:
            self.committed.append(n)

    def _rollback(self, conn: Any) -> None:
        conn.info.pop("updates", None)

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)
        event.remove(self._engine, "commit", self._commit)
        event.remove(self._engine, "rollback", self._rollback)


@pytest.fixture
def tx(h: Harness):  # type: ignore[no-untyped-def]
    t = Transactions(h.db.engine.sync_engine)
    yield t
    t.close()


def texts(h: Harness, uid: int) -> list[str]:
    return [m.text or "" for m in h.emu.bot_messages(uid)]


async def drafts(h: Harness) -> dict[int, dict[str, Any]]:
    async with h.db.sessions() as s:
        return {d.user_id: dict(d.data) for d in await s.scalars(select(Draft))}


async def test_users_waiting_together_share_one_transaction(h: Harness, tx: Transactions) -> None:
    for u in USERS:
        h.emu.add_user(u, "Pemohon", started=True)
    for u in USERS:  # queued before the bot polls again: one getUpdates batch
        h.emu.send_text(u, "/ajukan")
    for u in USERS:
        await h.emu.wait_bot_message(u, contains=FIRST)
    await h.settle()
    assert sum(tx.committed) == len(USERS)  # every update recorded once, in a committed transaction
    assert len(tx.committed) < len(USERS) and max(tx.committed) > 1, tx.committed
    for u in USERS:  # and each handled once
        assert sum(FIRST in t for t in texts(h, u)) == 1, texts(h, u)
    assert set(await drafts(h)) == set(USERS)


async def test_a_failing_update_takes_back_its_group_and_fails_alone(h: Harness, tx: Transactions,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bad = USERS[3]
    real, ran = Form.start, Counter[int]()

    async def start(self: Form, user_id: int) -> None:
        ran[user_id] += 1
        await real(self, user_id)  # its writes happen, then the handler fails
        if user_id == bad:
            raise RuntimeError("a bug")

    monkeypatch.setattr(Form, "start", start)
    for u in USERS:
        h.emu.add_user(u, "Pemohon", started=True)
    for u in USERS:
        h.emu.send_text(u, "/ajukan")
    for u in USERS:
        await h.emu.wait_bot_message(u, contains=T.GENERIC_ERROR if u == bad else FIRST)
    await h.settle()

    # The group with the failing update was rolled back whole: its other updates ran again, alone.
    assert any(n == 2 for u, n in ran.items() if u != bad), ran
    # Yet every update had its effects once: one question each, a draft each, nothing of the failure.
    for u in USERS:
        got = texts(h, u)
        if u == bad:
            assert got == [T.GENERIC_ERROR], got
        else:
            assert sum(FIRST in t for t in got) == 1 and T.GENERIC_ERROR not in got, got
    assert set(await drafts(h)) == set(USERS) - {bad}
    async with h.db.sessions() as s:
        outcomes = Counter((await s.scalars(select(ProcessedUpdate.outcome))).all())
    assert outcomes == {"ok": len(USERS) - 1, "error": 1}, outcomes
    assert sum(tx.committed) == len(USERS)


async def test_one_users_updates_in_one_batch_stay_in_order(h: Harness, tx: Transactions) -> None:
    for u in USERS:
        h.emu.add_user(u, "Pemohon", started=True)
    for u in USERS:  # each user's second answer needs the state the first one left
        h.emu.send_text(u, "/ajukan")
        h.emu.send_text(u, "dinkes")
    for u in USERS:
        await h.emu.wait_bot_message(u, contains="Langkah 2/10")
    await h.settle()
    got = await drafts(h)
    for u in USERS:  # the first question, then the second: once each, in that order
        asked = [t.split(" — ")[0] for t in texts(h, u) if t.startswith("Langkah")]
        assert asked == ["Langkah 1/10", "Langkah 2/10"], texts(h, u)
        assert got[u]["agency"], got[u]
    assert sum(tx.committed) == 2 * len(USERS)
    assert len(tx.committed) < 2 * len(USERS), tx.committed


async def test_a_handled_update_is_freed_without_the_cycle_collector(h: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each update's scope, session, Update and rows go when it is done (reference counting): left
    in reference cycles, they waited for the collector's full passes, which took 20-100 ms at a
    time under load (the tap latency's tail)."""
    refs: list[weakref.ref[Any]] = []
    real = Scope.__post_init__

    def post_init(self: Scope) -> None:
        real(self)
        refs.extend([weakref.ref(self), weakref.ref(self.session), weakref.ref(self.outbox)])

    monkeypatch.setattr(Scope, "__post_init__", post_init)
    u = USERS[0]
    h.emu.add_user(u, "Pemohon", started=True)
    gc.collect()
    gc.disable()
    try:
        await h.say(u, "/ajukan", expect=FIRST)
        await h.say(u, "dinkes", expect="Langkah 2/10")
        menu = await h.say(u, "/start")
        before = len(h.emu.bot_messages(u))
        await h.tap(u, menu, text=h.button(menu, "Status"))
        await h.emu.wait_for(lambda: len(h.emu.bot_messages(u)) > before)
        await h.settle()
        assert len(refs) >= 12

        def alive() -> list[str]:
            return [type(r()).__name__ for r in refs if r() is not None]

        try:  # the last post-commit work (the tap's answer) may still be on its way back
            await wait_until(lambda: not alive(), timeout=3)
        except TimeoutError:
            pytest.fail(f"still alive with the collector off: {alive()}")
    finally:
        gc.enable()


async def test_redelivered_updates_in_a_group_have_no_second_effect(h: Harness, tx: Transactions) -> None:
    """The inbox rows of a group go in one statement; the updates it finds recorded already (Telegram
    delivered them again) are skipped, the others handled, in the same transaction."""
    from telegram import Update

    assert h.runtime is not None and h.runtime.processor is not None
    old, new = USERS[:4], USERS[4:]
    for u in USERS:
        h.emu.add_user(u, "Pemohon", started=True)
    first = [h.emu.send_text(u, "/ajukan") for u in old]
    for u in old:
        await h.emu.wait_bot_message(u, contains=FIRST)
    await h.settle()
    again = first + [h.emu.send_text(u, "/ajukan") for u in new]  # the bot polls these too: a race
    bot = h.runtime.app.bot
    await h.runtime.processor.process_batch([Update.de_json(d, bot) for d in again], concurrency=16)
    for u in new:
        await h.emu.wait_bot_message(u, contains=FIRST)
    await h.settle()
    for u in USERS:  # one form each: the old ones' redelivery did nothing
        assert sum(FIRST in t for t in texts(h, u)) == 1, (u, texts(h, u))
    async with h.db.sessions() as s:
        recorded = (await s.scalars(select(ProcessedUpdate.update_id))).all()
    assert Counter(recorded) == Counter(d["update_id"] for d in again)
    assert max(tx.committed) > 1, tx.committed  # some went together
