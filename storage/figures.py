"""The oversight figures of a period, computed in SQL (one query per figure family).

Working time is never computed here: it was stored when each hop closed (``work_seconds`` and
``step_seconds`` on ``request_step``, ``work_seconds`` on a finished ``request``; see
``workflow/oversight.py``), so SQL only counts, sums and ranks. Each family is two statements at
most, both read from an index alone:

* the aggregates (count, within the limit, worst; the items missing at returns) grouped by step,
  official, item or month, summed from the days' tallies (``oversight_day``, kept when each hop
  closes) -- a few rows per day;
* the order statistics the percentiles need, as one ``UNION ALL`` of ``ORDER BY value LIMIT 2
  OFFSET k`` over the index that holds the values in order (``ix_request_step_passage``,
  ``ix_request_step_official``, ``ix_request_finished``): the database walks the index up to the
  rank and returns two rows, never the whole period; ``workflow.oversight.percentile`` interpolates.

SQLite and PostgreSQL run the same statements, so both give exactly the same numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, case, func, literal, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import upsert
from storage.models import (
    Agency,
    Application,
    AppStep,
    AuditLog,
    Official,
    OversightDay,
    Request,
    RequestStep,
)
from workflow.calendar import WorkingCalendar
from workflow.monev import AGE_BUCKETS, NOTES_PER_STEP, OLDEST_SHOWN, Figures, HolderRow, MonthRow, OpenRow, \
    age_thresholds, official_steps, total_limit_seconds
from workflow.oversight import PERCENTILES, Distribution, Period, Tally
from workflow.sop import REQUESTER, Sop, SystemStage

rs = RequestStep.__table__
rq = Request.__table__
ap = AppStep.__table__
al = AuditLog.__table__
od = OversightDay.__table__


async def _order_stats(s: AsyncSession, counts: dict[Hashable, int], value: Any,
                       where: Callable[[Hashable], Any]) -> dict[Hashable, dict[int, int]]:
    """The values at the ranks the percentiles need, for each key with ``counts[key]`` rows
    (``where(key)`` selects them): one statement, each part walking an index to ``OFFSET k``."""
    parts, keys = [], list(counts)
    for i, key in enumerate(keys):
        n = counts[key]
        for lo in sorted({(n - 1) * p // 100 for p in PERCENTILES} if n else set()):
            hi = min(lo + 1, n - 1)
            q = select(value.label("v")).where(where(key))
            if lo < n // 2:  # walk from the smallest value ...
                q = q.order_by(value).limit(hi - lo + 1).offset(lo)
            else:  # ... or from the largest, whichever is nearer (the 90th percentile: a tenth of the way)
                q = q.order_by(value.desc()).limit(hi - lo + 1).offset(n - 1 - hi)
            sub = q.subquery()
            parts.append(select(literal(i).label("k"), literal(lo).label("lo"), func.min(sub.c.v).label("a"),
                                func.max(sub.c.v).label("b")).select_from(sub))
    out: dict[Hashable, dict[int, int]] = {k: {} for k in keys}
    if not parts:
        return out
    for i, lo, a, b in (await s.execute(union_all(*parts) if len(parts) > 1 else parts[0])).all():
        ranks = out[keys[i]]
        ranks[lo] = a
        if lo + 1 < counts[keys[i]]:
            ranks[lo + 1] = b
    return out


@cache
def _add_to_days(dialect: str) -> Any:
    """The upsert that adds to the days' tallies, built once per database kind."""
    ins = upsert(dialect)(od)
    greatest = func.greatest if dialect == "postgresql" else func.max  # SQLite's max() of two is a scalar
    return ins.on_conflict_do_update(index_elements=[od.c.day, od.c.kind, od.c.key], set_={
        "n": od.c.n + ins.excluded.n, "on_time": od.c.on_time + ins.excluded.on_time,
        "returns": od.c.returns + ins.excluded.returns, "worst": greatest(od.c.worst, ins.excluded.worst)})


async def add_tallies(s: AsyncSession, tallies: Iterable[Tally]) -> None:
    """Add finished passages and hops to their days' tallies (in the caller's transaction)."""
    sums: dict[tuple[date, str, str], list[int]] = {}
    for t in tallies:
        acc = sums.setdefault((t.day, t.kind, t.key), [0, 0, 0, 0])
        acc[0] += 1
        acc[1] += t.on_time
        acc[2] += t.returned
        acc[3] = max(acc[3], t.seconds)
    if not sums:
        return
    stmt = _add_to_days(s.bind.dialect.name)
    rows = [dict(day=d, kind=k, key=key, n=v[0], on_time=v[1], returns=v[2], worst=v[3])
            for (d, k, key), v in sums.items()]
    for i in range(0, len(rows), 1000):
        await s.execute(stmt, rows[i:i + 1000])


async def load_figures(s: AsyncSession, sop: Sop, period: Period, *, cutoff: datetime, cal: WorkingCalendar,
                       with_holders: bool = True) -> Figures:
    p0, p1 = period.bounds(cal.tz)
    in_period = and_(rs.c.done_at >= p0, rs.c.done_at < p1)  # hops that closed in the period

    # 1. Requests received, finished, withdrawn, open at the cutoff.
    def count(*where: Any, what: Any = None) -> Any:
        return select(func.count() if what is None else func.sum(what)).select_from(rq).where(*where).scalar_subquery()

    def closed(stage: str) -> Any:  # counted over the closed requests' index (closed_at, stage)
        return case((rq.c.stage == str(stage), 1), else_=0)
    c = (await s.execute(select(
        count(rq.c.submitted_at >= p0, rq.c.submitted_at < p1),
        count(rq.c.closed_at >= p0, rq.c.closed_at < p1, what=closed(SystemStage.DONE)),
        count(rq.c.closed_at >= p0, rq.c.closed_at < p1, what=closed(SystemStage.CANCELLED)),
        count(rq.c.submitted_at < cutoff) - count(rq.c.closed_at < cutoff)))).one()

    # 2. Passages per SOP step: count, within the limit, worst, returns (the days' tallies); the order
    #    statistics of working time from the hops (walking ix_request_step_passage).
    days = and_(od.c.day >= period.start, od.c.day <= period.end)
    agg = {r[0]: r[1:] for r in (await s.execute(
        select(od.c.key, func.sum(od.c.n), func.sum(od.c.on_time), func.max(od.c.worst), func.sum(od.c.returns))
        .where(od.c.kind == "passage", days).group_by(od.c.key))).all()}
    passages = and_(rs.c.step_seconds.is_not(None), in_period)
    a = [k for k in agg if not k.startswith("B")]
    ranks = await _order_stats(s, {k: agg[k][0] for k in a}, rs.c.step_seconds,
                               lambda code: and_(rs.c.step_code == code, passages))
    steps = {k: Distribution(agg[k][0], agg[k][1], agg[k][2], ranks[k]) for k in a}
    check = sop.check_step.code  # returns happen at the completeness check
    checks, returns = (agg[check][0], agg[check][3]) if check in agg else (0, 0)
    # (Procedure B's steps are in the same tallies; their times are on app_step.)
    b_done = and_(ap.c.seconds.is_not(None), ap.c.done_at >= p0, ap.c.done_at < p1)
    b = [k for k in agg if k.startswith("B")]
    b_ranks = await _order_stats(s, {k: agg[k][0] for k in b}, ap.c.seconds,
                                 lambda code: and_(ap.c.step_code == code, b_done))
    steps.update({k: Distribution(agg[k][0], agg[k][1], agg[k][2], b_ranks[k]) for k in b})

    # 3. The items most often missing when a request was returned (the days' tallies).
    missing = dict((await s.execute(select(od.c.key, func.sum(od.c.n)).where(od.c.kind == "missing", days)
                                    .group_by(od.c.key))).all())

    # 4. Escalations in the period, by the stage escalated.
    esc = dict((await s.execute(select(al.c.from_state, func.count()).where(  # a literal: the partial index's
        al.c.action == literal_column("'escalated'"), al.c.at >= p0, al.c.at < p1)  # condition, ix_audit_log_escalated
        .group_by(al.c.from_state))).all())

    # 5. Per official (and role held): hops closed, on time (the days' tallies), median working time.
    holders: list[HolderRow] = []
    if with_holders:
        h_agg = {k: v for k, *v in (await s.execute(
            select(od.c.key, func.sum(od.c.n), func.sum(od.c.on_time), func.max(od.c.worst))
            .where(od.c.kind == "hop", days).group_by(od.c.key))).all()}
        hops = and_(rs.c.work_seconds.is_not(None), in_period)

        def of(key: str) -> tuple[int, str]:
            oid, _, role = key.partition(":")
            return int(oid), role
        h_ranks = await _order_stats(s, {k: v[0] for k, v in h_agg.items()}, rs.c.work_seconds,
                                     lambda k: and_(rs.c.done_by_official_id == of(k)[0],
                                                    rs.c.holder_role == of(k)[1], hops))
        names = dict((await s.execute(select(Official.id, Official.name).where(
            Official.id.in_({of(k)[0] for k in h_agg})))).all()) if h_agg else {}
        holders = [HolderRow(of(k)[0], names.get(of(k)[0], "—"), of(k)[1], Distribution(n, ok, worst, h_ranks[k]))
                   for k, (n, ok, worst) in h_agg.items()]

    # 6. Letter -> account: finished requests' working time (stored when they finished).
    closed_at = func.coalesce(rq.c.closed_at, rq.c.closed_at)  # not an index bound: walk ix_request_finished
    finished = and_(rq.c.work_seconds.is_not(None), closed_at >= p0, closed_at < p1)
    total_limit = total_limit_seconds(sop, cal.standard_day)
    n, ok, worst = (await s.execute(select(func.count(), func.sum(case((rq.c.work_seconds <= total_limit, 1),
                                                                       else_=0)), func.max(rq.c.work_seconds))
                                    .where(finished))).one()
    t_ranks = await _order_stats(s, {"total": n}, rq.c.work_seconds, lambda _: finished)
    total = Distribution(n, int(ok or 0), worst, t_ranks["total"])

    # 7. On-time share per month (steps held by officials), over the trend's months (the days' tallies).
    months = period.trend_months()
    bucket = case(*[(od.c.day < m, i) for i, m in enumerate(months[1:])], else_=len(months) - 1)
    mrows = (await s.execute(select(bucket.label("b"), func.sum(od.c.n), func.sum(od.c.on_time)).where(
        od.c.kind == "passage", od.c.key.in_([st.code for st in official_steps(sop)]), od.c.day >= months[0],
        od.c.day <= period.end).group_by(bucket))).all()
    month_rows = [MonthRow(months[b], n, ok) for b, n, ok in mrows]

    # 8. Open at the cutoff, by how late (working days past the deadline), and the oldest ones.
    if cutoff < p1:  # the period runs until now: what is open now
        open_at = rs.c.done_at.is_(None)
    else:  # a past period: what was open at its end
        open_at = and_(rs.c.received_at < cutoff, or_(rs.c.done_at.is_(None), rs.c.done_at >= cutoff))
    th = age_thresholds(cal, cutoff)
    age = case((rs.c.due_at.is_(None), -1), (rs.c.due_at > th[0], 0),
               *[(rs.c.due_at >= th[k], k) for k in range(1, len(th))], else_=len(AGE_BUCKETS) - 1)
    ageing: dict[int, int] = {}
    waiting = 0
    for b, n in (await s.execute(select(age.label("b"), func.count()).where(open_at).group_by(age))).all():
        if b == -1:
            waiting = n
        else:
            ageing[b] = n
    holder = aliased(Official)
    oldest = [OpenRow(r.number, r.short_name or "", r.stage, r.holder, r.holder_role, r.received_at, r.due_at)
              for r in (await s.execute(
                  select(Request.number, Agency.short_name, RequestStep.stage, holder.name.label("holder"),
                         RequestStep.holder_role, RequestStep.received_at, RequestStep.due_at)
                  .join(Request, Request.id == RequestStep.request_id).join(Agency, Agency.id == Request.agency_id)
                  .outerjoin(holder, holder.id == RequestStep.holder_official_id)
                  .where(open_at, RequestStep.due_at.is_not(None))
                  .order_by(RequestStep.due_at, RequestStep.id).limit(OLDEST_SHOWN))).all()]

    # 9. Officials' notes written when handing over a passage that was late: read from the notes
    #    written in the period (few; ix_request_step_noted), each checked against the hop it closed.
    late = aliased(RequestStep)
    nxt = aliased(RequestStep)
    late_code = (select(late.step_code).where(
        late.request_id == nxt.request_id, late.done_at == nxt.received_at,
        late.done_by_official_id == nxt.from_official_id, late.step_seconds.is_not(None), late.due_at.is_not(None),
        late.done_at > late.due_at).limit(1).scalar_subquery())
    noted = (select(late_code.label("code"), nxt.note.label("note"), nxt.received_at.label("at"), nxt.id.label("id"))
             .where(nxt.note.is_not(None), nxt.received_at >= p0, nxt.received_at < p1).subquery())
    nq = select(noted.c.code, noted.c.note, func.row_number().over(
        partition_by=noted.c.code, order_by=(noted.c.at.desc(), noted.c.id.desc())).label("rn")).where(
        noted.c.code.is_not(None)).subquery()
    notes: dict[str, list[str]] = {}
    for code, note, _ in (await s.execute(select(nq).where(nq.c.rn <= NOTES_PER_STEP)
                                          .order_by(nq.c.code, nq.c.rn))).all():
        notes.setdefault(code, []).append(note)

    return Figures(received=c[0], finished=c[1], withdrawn=c[2], in_progress=c[3], checks=checks, returns=returns,
                   missing=missing, steps=steps, escalations=esc, holders=holders, total=total, months=month_rows,
                   ageing=ageing, waiting_requester=waiting, oldest=oldest, notes=notes)


# ----------------------------------------------------------------------------- rows for files


async def step_rows(s: AsyncSession, period: Period, tz: Any, chunk: int = 2000) -> AsyncIterator[list[Any]]:
    """Every hop of procedure A and step of procedure B that overlaps the period, in chunks
    (streamed: a year of rows never sits in memory at once). Columns: number, agency, step code,
    stage (None for procedure B), application (procedure B), holder's name, holder's role,
    received, done, due, working seconds (elapsed seconds for procedure B), the passage's working
    seconds (on the hop that ends one), outcome."""
    p0, p1 = period.bounds(tz)
    holder = aliased(Official)
    q = (select(Request.number, Agency.short_name, RequestStep.step_code, RequestStep.stage, literal(None),
                holder.name, RequestStep.holder_role, RequestStep.received_at, RequestStep.done_at,
                RequestStep.due_at, RequestStep.work_seconds, RequestStep.step_seconds, RequestStep.outcome)
         .join(Request, Request.id == RequestStep.request_id).join(Agency, Agency.id == Request.agency_id)
         .outerjoin(holder, holder.id == func.coalesce(RequestStep.done_by_official_id,
                                                       RequestStep.holder_official_id))
         .where(RequestStep.received_at < p1, or_(RequestStep.done_at.is_(None), RequestStep.done_at >= p0))
         .order_by(Request.id, RequestStep.id))
    async for part in (await s.stream(q.execution_options(yield_per=chunk))).partitions(chunk):
        yield list(part)
    qb = (select(Request.number, Agency.short_name, AppStep.step_code, literal(None), Application.data["name"].as_string(),
                 literal(None), literal(REQUESTER), AppStep.started_at, AppStep.done_at, AppStep.due_at,
                 AppStep.seconds, literal(None), literal(None))
          .join(Application, Application.id == AppStep.application_id)
          .join(Request, Request.id == Application.request_id).join(Agency, Agency.id == Request.agency_id)
          .where(AppStep.started_at < p1, or_(AppStep.done_at.is_(None), AppStep.done_at >= p0))
          .order_by(Application.id, AppStep.id))
    async for part in (await s.stream(qb.execution_options(yield_per=chunk))).partitions(chunk):
        yield list(part)


async def audit_rows(s: AsyncSession, period: Period, tz: Any, chunk: int = 2000) -> AsyncIterator[list[Any]]:
    """The audit log of the period in order: when, the acting official's name (or None), whether
    the actor was the request's requester, what, the request's number, from, to, detail."""
    p0, p1 = period.bounds(tz)
    q = (select(AuditLog.at, Official.name, AuditLog.actor_telegram_id == Request.requester_id,
                AuditLog.actor_telegram_id.is_not(None), AuditLog.action, Request.number, AuditLog.from_state,
                AuditLog.to_state, AuditLog.detail)
         .outerjoin(Official, Official.id == AuditLog.actor_official_id)
         .outerjoin(Request, Request.id == AuditLog.request_id)
         .where(AuditLog.at >= p0, AuditLog.at < p1).order_by(AuditLog.at, AuditLog.id))
    async for part in (await s.stream(q.execution_options(yield_per=chunk))).partitions(chunk):
        yield list(part)


__all__ = ["audit_rows", "load_figures", "step_rows"]
