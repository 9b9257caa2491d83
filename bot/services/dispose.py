"""Officials acting on a request by buttons: disposition, assignment, completeness check --
each under the request's own SOP (its chain, instructions and completeness items).

Intermediate choices (instruction, executor, missing items) only edit the
tapped message; the transition happens on the final tap or typed note, checked
against the state version named in the button.
"""

from __future__ import annotations

from sqlalchemy import select

from bot import keyboards as kb
from bot import texts as T
from bot.services.chain import REFUSAL_TEXT, Chain, view_of
from storage.models import Official, Request
from workflow.machine import Action, Command, Refusal, Transition, decide, may_hold
from workflow.sop import Sop, SystemStage

MAX_NOTE = 500


class Dispose(Chain):
    async def load(self, request_id: int) -> Request | None:
        return await self.s.get(Request, request_id)

    async def gate(self, user_id: int, req: Request | None, version: int, action: Action) -> str | None:
        if req is None:
            return T.TAP_NOT_FOUND
        actor = await self.actor(user_id)
        probe = decide(await self.sop_of(req), view_of(req), Command(action, version, executor_official_id=-1,
                                                                    missing_items=(), reason=""),
                       actor, active_executor_ids=frozenset({-1}))
        if isinstance(probe, Refusal) and probe != Refusal.INVALID:
            if probe == Refusal.NOT_ALLOWED:
                self.audit("refused", actor_tg=user_id, official_id=actor.official_id, request_id=req.id,
                           from_state=req.stage, action_tried=action.value, reason=probe.value)
            return REFUSAL_TEXT[probe]
        return None

    # --- the chain's hops: disposition, and the last hop's assignment ---
    async def action_of(self, req: Request | None) -> Action:
        """What the request's current hop does: assign (the chain's last hop) or dispose."""
        if req is not None and req.stage == (await self.sop_of(req)).assigner:
            return Action.ASSIGN
        return Action.DISPOSE

    async def choose_executor(self, user_id: int, rid: int, ver: int, exec_id: int,
                              tapped: tuple[int, int]) -> str | None:
        req = await self.load(rid)
        if err := await self.gate(user_id, req, ver, Action.ASSIGN):
            return err
        sop = await self.sop_of(req)  # type: ignore[arg-type]
        off = await self.s.get(Official, exec_id)
        if off is None or exec_id not in await self.active_executor_ids(sop):
            return T.TAP_INVALID
        base = await self.base_text(*tapped) or ""
        rows = [[kb.btn(f"➡️ {ins}", self.cb("di", rid, ver, i, exec_id))]
                for i, ins in enumerate(sop.instructions)]
        rows.append([kb.btn("« Kembali", self.cb("db", rid, ver))])
        self.out.edit(tapped[0], f"{base}\n\n👤 Pelaksana: <b>{T.e(off.name)}</b>\nPilih instruksi:",
                      kb.inline(*rows), message_id=tapped[1])
        return None

    async def choose_instruction(self, user_id: int, rid: int, ver: int, idx: int, exec_id: int,
                                 tapped: tuple[int, int]) -> str | None:
        req = await self.load(rid)
        if err := await self.gate(user_id, req, ver, await self.action_of(req)):
            return err
        instructions = (await self.sop_of(req)).instructions  # type: ignore[arg-type]
        if not 0 <= idx < len(instructions):
            return T.TAP_INVALID
        base = await self.base_text(*tapped) or ""
        extra = ""
        if exec_id:
            extra = f"\n👤 Pelaksana: <b>{T.e(await self.official_name(exec_id))}</b>"
        self.out.edit(tapped[0], f"{base}\n{extra}\n📝 Instruksi: <b>{T.e(instructions[idx])}</b>\n"
                                 "Tambahkan catatan disposisi?", kb.inline(
            [kb.btn("📤 Kirim tanpa catatan", self.cb("dn", rid, ver, idx, exec_id))],
            [kb.btn("✍️ Tulis catatan", self.cb("dw", rid, ver, idx, exec_id))],
            [kb.btn("« Kembali", self.cb("db", rid, ver))]), message_id=tapped[1])
        return None

    async def back(self, user_id: int, rid: int, ver: int, tapped: tuple[int, int]) -> str | None:
        req = await self.load(rid)
        if req is None:
            return T.TAP_NOT_FOUND
        actor = await self.actor(user_id)
        if req.version != ver:
            return T.TAP_STALE
        sop = await self.sop_of(req)
        if not may_hold(sop, view_of(req), actor):
            return T.TAP_FORBIDDEN
        await self.clear_awaiting(user_id)
        base = await self.base_text(*tapped) or ""
        self.out.edit(tapped[0], base, await self.holder_keyboard(req, sop), message_id=tapped[1])
        return None

    async def ask_note(self, user_id: int, rid: int, ver: int, idx: int, exec_id: int,
                       tapped: tuple[int, int]) -> str | None:
        req = await self.load(rid)
        if err := await self.gate(user_id, req, ver, await self.action_of(req)):
            return err
        await self.set_awaiting(user_id, "note", rid=rid, ver=ver, idx=idx, exec_id=exec_id,
                                chat=tapped[0], mid=tapped[1])
        self.out.send(user_id, f"Ketik catatan disposisi untuk {T.e(req.number)} (maksimal {MAX_NOTE} karakter). "
                               "Ketik /batal untuk membatalkan.")
        return "Silakan ketik catatan."

    async def dispose(self, user_id: int, rid: int, ver: int, idx: int, exec_id: int, note: str | None,
                      tapped: tuple[int, int]) -> str:
        req = await self.load(rid)
        if req is None:
            return T.TAP_NOT_FOUND
        instructions = (await self.sop_of(req)).instructions
        if not 0 <= idx < len(instructions):
            return T.TAP_INVALID
        actor = await self.actor(user_id)
        action = await self.action_of(req)
        t = await self.apply(req, Command(action, ver, executor_official_id=exec_id or None), actor,
                             instruction=instructions[idx], note=note, tapped=tapped)
        if isinstance(t, Refusal):
            return REFUSAL_TEXT[t]
        await self.clear_awaiting(user_id)
        return "Disposisi terkirim." if action == Action.DISPOSE else "Penugasan terkirim."

    async def note_typed(self, user_id: int, text: str, ctx: dict) -> None:
        text = text.strip()
        if not text:
            self.out.send(user_id, "⚠️ " + T.ERRORS["empty"])
            return
        if len(text) > MAX_NOTE:
            self.out.send(user_id, "⚠️ " + T.ERRORS["note_too_long"].format(max=MAX_NOTE))
            return
        res = await self.dispose(user_id, ctx["rid"], ctx["ver"], ctx["idx"], ctx["exec_id"], text,
                                 (ctx["chat"], ctx["mid"]))
        await self.clear_awaiting(user_id)
        self.out.send(user_id, res)

    # --- completeness check (executor): the request's SOP's items, a bit each in the buttons' mask ---
    async def complete(self, user_id: int, rid: int, ver: int, tapped: tuple[int, int]) -> str:
        req = await self.load(rid)
        if req is None:
            return T.TAP_NOT_FOUND
        t = await self.apply(req, Command(Action.COMPLETE, ver), await self.actor(user_id), tapped=tapped)
        return REFUSAL_TEXT[t] if isinstance(t, Refusal) else "Permohonan dinyatakan lengkap."

    def checklist(self, sop: Sop, rid: int, ver: int, mask: int) -> dict:
        rows = [[kb.btn(f"{'☑️' if mask >> i & 1 else '⬜'} {item.label}",
                        self.cb("nt", rid, ver, mask, i))] for i, item in enumerate(sop.items)]
        if mask:
            rows.append([kb.btn("✍️ Lanjut: tulis alasan", self.cb("nr", rid, ver, mask))])
        rows.append([kb.btn("« Kembali", self.cb("db", rid, ver))])
        return kb.inline(*rows)

    async def incomplete(self, user_id: int, rid: int, ver: int, mask: int, toggle: int | None,
                         tapped: tuple[int, int]) -> str | None:
        req = await self.load(rid)
        if err := await self.gate(user_id, req, ver, Action.RETURN):
            return err
        sop = await self.sop_of(req)  # type: ignore[arg-type]
        if toggle is not None:
            if not 0 <= toggle < len(sop.items):
                return T.TAP_INVALID
            mask ^= 1 << toggle
        mask &= (1 << len(sop.items)) - 1
        base = await self.base_text(*tapped) or ""
        self.out.edit(tapped[0], f"{base}\n\n❌ <b>Tidak lengkap.</b> Tandai item yang kurang atau salah:",
                      self.checklist(sop, rid, ver, mask), message_id=tapped[1])
        return None

    async def ask_reason(self, user_id: int, rid: int, ver: int, mask: int, tapped: tuple[int, int]) -> str | None:
        req = await self.load(rid)
        if err := await self.gate(user_id, req, ver, Action.RETURN):
            return err
        items = [i.code for n, i in enumerate((await self.sop_of(req)).items) if mask >> n & 1]  # type: ignore[arg-type]
        if not items:
            return T.TAP_INVALID
        await self.set_awaiting(user_id, "reason", rid=rid, ver=ver, items=items, chat=tapped[0], mid=tapped[1])
        self.out.send(user_id, f"Ketik alasan pengembalian {T.e(req.number)} kepada pemohon "
                               f"(maksimal {MAX_NOTE} karakter). Ketik /batal untuk membatalkan.")
        return "Silakan ketik alasannya."

    async def reason_typed(self, user_id: int, text: str, ctx: dict) -> None:
        text = text.strip()
        if len(text) < 5:
            self.out.send(user_id, "⚠️ " + T.ERRORS["too_short"].format(min=5))
            return
        if len(text) > MAX_NOTE:
            self.out.send(user_id, "⚠️ " + T.ERRORS["note_too_long"].format(max=MAX_NOTE))
            return
        req = await self.load(ctx["rid"])
        await self.clear_awaiting(user_id)
        if req is None:
            self.out.send(user_id, T.TAP_NOT_FOUND)
            return
        t = await self.apply(req, Command(Action.RETURN, ctx["ver"],
                                          missing_items=tuple(ctx["items"]), reason=text),
                             await self.actor(user_id), tapped=(ctx["chat"], ctx["mid"]))
        self.out.send(user_id, REFUSAL_TEXT[t] if isinstance(t, Refusal)
                      else "Permohonan dikembalikan kepada pemohon beserta alasannya.")

    # --- requester ---
    async def cancel_request(self, user_id: int, rid: int, ver: int, tapped: tuple[int, int]) -> str:
        req = await self.load(rid)
        if req is None:
            return T.TAP_NOT_FOUND
        t = await self.apply(req, Command(Action.CANCEL, ver), await self.actor(user_id), tapped=tapped)
        return REFUSAL_TEXT[t] if isinstance(t, Refusal) else "Permohonan dibatalkan."

    async def pending_for(self, user_id: int) -> list[Request]:
        """/tugas: requests the official holds now, oldest first."""
        off = await self.official(user_id)
        if off is None:
            return []
        roles = list(await self.roles_of(off))
        q = (select(Request).where(Request.holder_role.in_(roles),
                                   (Request.holder_official_id.is_(None)) | (Request.holder_official_id == off.id),
                                   Request.stage.notin_([SystemStage.RETURNED, SystemStage.DONE,
                                                         SystemStage.CANCELLED]))
             .order_by(Request.updated_at, Request.id))
        return list((await self.s.scalars(q)).all())

    async def send_tasks(self, user_id: int) -> None:
        reqs = await self.pending_for(user_id)
        if not reqs:
            self.out.send(user_id, "Tidak ada permohonan yang menunggu tindakan Anda saat ini. 👍")
            return
        self.out.send(user_id, f"Ada <b>{len(reqs)}</b> permohonan yang menunggu tindakan Anda (terlama lebih dahulu):")
        for req in reqs[:20]:
            step = await self.open_step(req.id)
            if step is None:
                continue
            sop = await self.sop_of(req)
            self.out.send(user_id, await self.holder_text(req, step, sop), await self.holder_keyboard(req, sop),
                          request_id=req.id, live=True)


__all__ = ["Dispose", "Transition"]
