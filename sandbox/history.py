"""Request histories written straight into the database the way the bot records them: the
sandbox's demo past (so ``/rekap`` has months to show), and the oversight tests' and
benchmark's data sets.

A :class:`Story` is one request: when its letter was drafted and sent, then the moves of its
holders (dispose, assign, complete or return, resubmit, register, report, forward, cancel), each
at a moment or after some working time. :func:`write_stories` checks every move with the state
machine (``workflow.machine.decide``) under the given SOP, and writes what
``bot/services/chain.py`` writes for it: the ``request`` row (with the SOP's version), one
``request_step`` per hop (deadline from the SOP's limit on the working calendar, a step's later
hops inheriting its first's; working time and passage time on close), the days' tallies, the
audit rows (each move, the missing items of a return, the escalations the reminder sweep would
have made while a hop was overdue). No messages are queued: it is the past.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import sops
from storage.figures import add_tallies
from storage.models import Agency, AuditLog, Counter, Official, OfficialRole, Request, RequestStep
from workflow.calendar import WorkingCalendar
from workflow.machine import Action, Actor, Command, RequestView, ResubmitRoute, Transition, decide
from workflow.oversight import Tally, earlier_hops, ends_passage, hop_tally, missing_tallies, passage_tally, \
    working_seconds
from workflow.reminders import next_overdue
from workflow.sop import CLOSED_STAGES, REQUESTER, Sop, SystemStage


@dataclass(frozen=True)
class Move:
    """One holder's action: at ``at``, or after ``took`` working time from receiving the hop."""

    action: Action
    by: int | None = None  # official id; None for the requester
    at: datetime | None = None
    took: timedelta | None = None
    executor: int | None = None  # ASSIGN: the executor's official id
    missing: tuple[str, ...] = ()  # RETURN: the SOP's completeness item codes
    note: str | None = None  # the hand-over note (RETURN: the reason)


@dataclass(frozen=True)
class Story:
    number: str
    agency_id: int
    requester_id: int
    drafted: datetime
    submitted: datetime
    moves: tuple[Move, ...] = ()
    app_name: str = "Aplikasi Demo"


@dataclass
class _Hop:
    stage: str
    cycle: int
    received: datetime
    due: datetime | None
    holder_role: str | None
    holder_official_id: int | None
    from_official_id: int | None
    instruction: str | None = None
    note: str | None = None
    done: datetime | None = None
    done_by: int | None = None
    outcome: str | None = None
    work: int | None = None
    passage: int | None = None


@dataclass
class _Batch:
    requests: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    tallies: list[Tally] = field(default_factory=list)


def _close(cal: WorkingCalendar, sop: Sop, hops: list[_Hop], hop: _Hop, to: str | None) -> None:
    hop.work = working_seconds(cal, hop.received, hop.done)  # type: ignore[arg-type]
    if ends_passage(sop, hop.stage, to):
        earlier = set(earlier_hops(sop, hop.stage))
        hop.passage = hop.work + sum(h.work or 0 for h in hops if h.cycle == hop.cycle and h.stage in earlier)


def _escalations(cal: WorkingCalendar, sop: Sop, hop: _Hop, request_id: int,
                 until: datetime) -> list[dict[str, Any]]:
    """What the reminder sweep escalated while ``hop`` was overdue, before ``until``: at the breach
    (or when the hop arrived already overdue), then once per working day."""
    sup = sop.superior(hop.holder_role)
    if hop.due is None or sup is None:
        return []
    out = []
    day, at = 0, max(cal.next_working_moment(hop.due), hop.received)
    while at < until:
        out.append(dict(at=at, actor_telegram_id=None, actor_official_id=None, request_id=request_id,
                        action="escalated", from_state=hop.stage, to_state=hop.stage,
                        detail={"to_role": sup, "day": day}))
        day += 1
        nxt = next_overdue(hop.due, day, cal)
        while nxt.at <= at:
            day += 1
            nxt = next_overdue(hop.due, day, cal)
        at = nxt.at
    return out


def plan_story(cal: WorkingCalendar, sop: Sop, story: Story, request_id: int, batch: _Batch,
               telegram_ids: dict[int, int] | None = None, until: datetime | None = None) -> None:
    """Add the rows of ``story`` (request ``request_id``, under ``sop``) to ``batch``;
    ``telegram_ids`` maps the officials' ids to their Telegram ids (the audit's actor); ``until``:
    the escalations of a hop still open are recorded up to then."""
    telegram_ids = telegram_ids or {}
    first = sop.first_stage
    letter = _Hop(SystemStage.RETURNED, 1, story.drafted, None, REQUESTER, None, None, done=story.submitted,
                  outcome="submitted")
    hops: list[_Hop] = [letter]
    _close(cal, sop, hops, letter, first)
    stage, version, cycle = first, 1, 1
    holder_official, executor = None, None
    return_info = None
    cur = _Hop(stage, 1, story.submitted, sop.due(cal, stage, story.submitted), sop.holder(stage), None, None)
    hops.append(cur)
    audit = [dict(at=story.submitted, actor_telegram_id=story.requester_id, actor_official_id=None,
                  request_id=request_id, action="submit", from_state=None, to_state=stage, detail=None)]
    closed_at = None
    for mv in story.moves:
        now = mv.at if mv.at is not None else cal.add_working_time(cur.received, mv.took or timedelta(0))
        role = sop.holder(stage)
        actor = Actor(story.requester_id if role == REQUESTER else 0, mv.by,
                      frozenset() if role in (None, REQUESTER) else frozenset({role}))
        t = decide(sop, RequestView(stage, version, story.requester_id, holder_official, executor),
                   Command(mv.action, version, executor_official_id=mv.executor, missing_items=mv.missing,
                           reason=mv.note or ""), actor,
                   active_executor_ids=frozenset({mv.executor}) if mv.executor else frozenset(),
                   resubmit_route=ResubmitRoute.CHAIN)
        if not isinstance(t, Transition):
            raise ValueError(f"{story.number}: {mv.action} refused in {stage}: {t}")
        cur.done, cur.done_by, cur.outcome = now, mv.by, t.action.value
        _close(cal, sop, hops, cur, t.to_stage)
        audit += _escalations(cal, sop, cur, request_id, now)
        detail: dict[str, Any] = {}
        instruction = sop.instructions[0] if t.action in (Action.DISPOSE, Action.ASSIGN) else None
        if instruction:
            detail["instruction"] = instruction
        if t.action == Action.RETURN:
            detail["missing"] = list(t.notes["missing"])  # type: ignore[arg-type]
            return_info = dict(t.notes)
            batch.tallies += missing_tallies(detail["missing"], now, cal)
        audit.append(dict(at=now, actor_telegram_id=story.requester_id if mv.by is None else telegram_ids.get(mv.by),
                          actor_official_id=mv.by, request_id=request_id, action=t.action.value,
                          from_state=str(t.from_stage), to_state=str(t.to_stage), detail=detail or None))
        version += 1
        if t.new_cycle:
            cycle += 1
        stage, holder_official, executor = t.to_stage, t.holder_official_id, t.executor_official_id
        if stage in CLOSED_STAGES:
            closed_at = now
            break
        due = sop.due(cal, stage, now) if t.opens_new_step else cur.due
        note = t.notes.get("reason") if t.action == Action.RETURN else mv.note  # type: ignore[assignment]
        cur = _Hop(stage, cycle, now, due, t.holder_role, t.holder_official_id, mv.by, instruction, note)
        hops.append(cur)
    if closed_at is None and until is not None:
        audit += _escalations(cal, sop, cur, request_id, until)
    last = max(h.done or h.received for h in hops)
    batch.requests.append(dict(
        id=request_id, number=story.number, requester_id=story.requester_id, agency_id=story.agency_id,
        letter_number=f"000.1/{request_id}/2026", letter_date=story.drafted.date(),
        subject="Permohonan Pembuatan Akun SPLP", contact_name="Narahubung Demo",
        contact_email="narahubung@contoh.go.id", contact_phone="+6281200000000", app_name=story.app_name,
        business_process="Pertukaran data layanan antarperangkat daerah melalui SPLP (data contoh).",
        scan={"kind": "pdf", "file_id": "demo", "file_name": "surat.pdf"}, stage=str(stage), version=version,
        cycle=cycle, holder_role=sop.holder(stage), sop_version=sop.version,
        holder_official_id=holder_official, executor_official_id=executor, return_info=return_info,
        created_at=story.drafted, submitted_at=story.submitted, updated_at=last, closed_at=closed_at,
        work_seconds=sum(h.work or 0 for h in hops) if stage == SystemStage.DONE else None))
    for h in hops:
        if h.done is not None and h.done_by is not None and h.holder_role is not None:
            batch.tallies.append(hop_tally(h.done_by, h.holder_role, h.done, h.due, h.work or 0, cal))
        if h.done is not None and h.passage is not None:
            batch.tallies.append(passage_tally(sop.stage_step(h.stage), h.done, h.due, h.passage, h.outcome, cal))
        batch.steps.append(dict(
            request_id=request_id, cycle=h.cycle, stage=str(h.stage), step_code=sop.stages[h.stage].step,
            holder_role=h.holder_role, holder_official_id=h.holder_official_id,
            from_official_id=h.from_official_id, instruction=h.instruction, note=h.note, received_at=h.received,
            due_at=h.due, done_at=h.done, done_by_official_id=h.done_by, outcome=h.outcome, work_seconds=h.work,
            step_seconds=h.passage))
    batch.audit.extend(audit)


async def write_stories(s: AsyncSession, cal: WorkingCalendar, sop: Sop, stories: list[Story],
                        until: datetime | None = None) -> list[int]:
    """Insert ``stories`` under ``sop`` (request numbers must be new; the SOP's version is recorded)
    and move the number counters past them. Returns the requests' ids."""
    await sops.register(s, sop, min((st.drafted for st in stories), default=datetime.now(cal.tz)))
    first = (await s.scalar(select(func.max(Request.id)))) or 0
    telegram_ids = dict((await s.execute(select(Official.id, Official.telegram_id))).all())
    batch = _Batch()
    for i, story in enumerate(stories, start=first + 1):
        plan_story(cal, sop, story, i, batch, telegram_ids, until)
    for table, rows in ((Request, batch.requests), (RequestStep, batch.steps), (AuditLog, batch.audit)):
        for k in range(0, len(rows), 2000):
            await s.execute(insert(table), rows[k:k + 2000])
    await add_tallies(s, batch.tallies)
    seqs: dict[str, int] = {}
    for st in stories:
        _, year, seq = st.number.split("-")
        seqs[f"request:{year}"] = max(seqs.get(f"request:{year}", 0), int(seq))
    for name, value in seqs.items():
        row = await s.get(Counter, name)
        if row is None:
            s.add(Counter(name=name, value=value))
        elif row.value < value:
            row.value = value
    return [r["id"] for r in batch.requests]


# ----------------------------------------------------------------------------- the sandbox's demo


def demo_stories(cal: WorkingCalendar, sop: Sop, today: date, officials: dict[str, int], agencies: list[int],
                 *, months: int = 6, per_month: int = 9, seed: int = 38) -> list[Story]:
    """A deterministic history under ``sop`` over the ``months`` before ``today`` (all closed before
    today): varied timings, some late (and escalated), some returned as incomplete, a few withdrawn.
    ``officials``: one official's id per role of the SOP."""
    rng = random.Random(seed)
    day = cal.standard_day
    stories: list[Story] = []
    start = cal.day_start(cal.add_working_days(today - timedelta(days=30 * months + 15), 1))
    assert start is not None
    t = start
    n = 0
    total = months * per_month
    end = datetime.combine(today, time(0), tzinfo=cal.tz)
    gap = cal.working_time_between(start, end) * 0.93 / total
    ex, fwd = officials[sop.executor], officials[sop.forwarder]
    items = [i.code for i in sop.items]

    def limit(stage_or_code: str) -> float:
        """A step's limit in standard days; a step of several hops: its first hop half of it, each
        next hop 40 %."""
        step = sop.steps.get(stage_or_code) or sop.stage_step(stage_or_code)
        hops = sop.step_stages(step.code)
        days = step.limit.seconds(day) / day.total_seconds()
        if len(hops) < 2 or stage_or_code not in hops:
            return days
        return days * (0.5 if stage_or_code == hops[0] else 0.4)

    def took(limit_days: float, late_chance: float) -> timedelta:
        share = rng.uniform(1.05, 2.6) if rng.random() < late_chance else rng.triangular(0.05, 0.98, 0.35)
        return day * limit_days * share

    def chain(first_late: float, late: float) -> list[Move]:
        return [Move(Action.ASSIGN if st == sop.assigner else Action.DISPOSE, officials[sop.holder(st) or ""],
                     took=took(limit(st), first_late if i == 0 else late),
                     executor=ex if st == sop.assigner else None) for i, st in enumerate(sop.chain)]

    while n < total:
        n += 1
        drafted = cal.next_working_moment(t)
        submitted = cal.add_working_time(drafted, day * rng.uniform(0.05, 1.3))
        moves: list[Move] = chain(0.15, 0.2)
        if rng.random() < 0.25:  # incomplete: back to the requester
            missing = tuple(rng.sample(items, k=min(len(items), rng.choice((1, 1, 2)))))
            moves.append(Move(Action.RETURN, ex, took=took(limit(sop.check_step.code), 0.2), missing=missing,
                              note="Mohon lengkapi data narahubung dan proses bisnis sesuai ketentuan."))
            if rng.random() < 0.2:
                moves.append(Move(Action.CANCEL, None, took=day * rng.uniform(0.5, 3)))
                stories.append(_story(n, agencies, rng, drafted, submitted, moves))
                t = cal.add_working_time(t, gap)
                continue
            moves += [Move(Action.RESUBMIT, None, took=day * rng.uniform(0.2, 2)), *chain(0.1, 0.1)]
        late_note = "Menunggu konfirmasi data dari perangkat daerah." if rng.random() < 0.5 else None
        moves += [Move(Action.COMPLETE, ex, took=took(limit(sop.check_step.code), 0.2)),
                  Move(Action.REGISTER, ex, took=took(limit(sop.registration_step.code), 0.25), note=late_note),
                  Move(Action.SUBMIT_REPORT, ex, took=took(limit(sop.report_step.code), 0.15)),
                  Move(Action.FORWARD, fwd, took=took(limit(sop.forward_step.code), 0.15))]
        stories.append(_story(n, agencies, rng, drafted, submitted, moves))
        t = cal.add_working_time(t, gap)
    # Only the past: stories that would still run today are left out. Numbers as the bot gives them.
    past = [s for s in stories if _ends_before(cal, s, today)]
    seq: dict[int, int] = {}
    out = []
    for st in past:
        year = st.submitted.astimezone(cal.tz).year
        seq[year] = seq.get(year, 0) + 1
        out.append(replace(st, number=f"SPLP-{year}-{seq[year]:06d}"))
    return out


def _story(n: int, agencies: list[int], rng: random.Random, drafted: datetime, submitted: datetime,
           moves: list[Move]) -> Story:
    apps = ("SIMPUS", "E-Kinerja", "SIPD", "Sistem Perizinan", "Data Kependudukan", "Satu Data", "E-Office")
    return Story(number="", agency_id=rng.choice(agencies), requester_id=9_000_000 + n, drafted=drafted,
                 submitted=submitted, moves=tuple(moves), app_name=f"{rng.choice(apps)} (contoh)")


def _ends_before(cal: WorkingCalendar, story: Story, today: date) -> bool:
    t = story.submitted
    for mv in story.moves:
        t = mv.at if mv.at is not None else cal.add_working_time(t, mv.took or timedelta(0))
    return t.astimezone(cal.tz).date() < today


async def seed_demo_history(s: AsyncSession, cal: WorkingCalendar, sop: Sop, now: datetime) -> int:
    """The sandbox's past under ``sop``, once (skipped when any request exists). Returns how many
    requests."""
    if await s.scalar(select(func.count()).select_from(Request)):
        return 0
    rows = (await s.execute(select(OfficialRole.role, Official.id).join(Official, Official.id == OfficialRole.official_id)
                            .order_by(Official.id))).all()
    officials: dict[str, int] = {}
    for role, oid in rows:
        officials.setdefault(role, oid)
    if not {*sop.chain_roles, sop.forwarder} <= officials.keys():
        return 0
    agencies = list((await s.scalars(select(Agency.id).where(Agency.active.is_(True)).order_by(Agency.id))).all())
    stories = demo_stories(cal, sop, now.astimezone(cal.tz).date(), officials, agencies)
    await write_stories(s, cal, sop, stories)
    return len(stories)


__all__ = ["Move", "Story", "demo_stories", "seed_demo_history", "write_stories"]
