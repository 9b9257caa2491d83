"""The oversight figures of a period, computed in SQL (one query per figure family).

Each family is an aggregate over ``request_step`` / ``app_step`` / ``request`` / ``audit_log``
read through an index on the period's bounds. Working time is never computed here: it was
stored on each hop when it closed (``work_seconds``, ``step_seconds``; see
``workflow/oversight.py``), so SQL only counts, sums and ranks. Percentiles come from window
functions (``row_number`` / ``count`` over the step, ordered by working time): the query returns
only the two to four rows per step at the ranks the percentiles need, and
``workflow.oversight.percentile`` interpolates them. SQLite and PostgreSQL run the same
statements (bar the JSON expansion of missing items and epoch arithmetic), so both give exactly
the same numbers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, cast, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    TS,
    Agency,
    Application,
    AppStep,
    AuditLog,
    Official,
    Request,
    RequestStep,
)
from workflow.calendar import WorkingCalendar
from workflow.monev import AGE_BUCKETS, NOTES_PER_STEP, OLDEST_SHOWN, Figures, HolderRow, MonthRow, OpenRow, \
    age_thresholds, official_steps, total_limit_seconds
from workflow.oversight import PERCENTILES, Distribution, Period, limit_seconds
from workflow.sop import PROCEDURE_A, Role, Stage

rs = RequestStep.__table__
rq = Request.__table__
ap = AppStep.__table__
al = AuditLog.__table__


def _rank_filter(rn: Any, n: Any) -> Any:
    """``rn`` (1-based) is one of the ranks the percentiles need: floor or ceil of (n-1)*p."""
    terms = []
    for p in PERCENTILES:
        terms.append(rn - 1 == ((n - 1) * p) // 100)
        terms.append(rn - 1 == ((n - 1) * p + 99) // 100)
    return or_(*terms)


async def _distributions(s: AsyncSession, key: Sequence[Any], value: Any, on_time: Any,
                         where: Any = None) -> dict[tuple, Distribution]:
    """Count, on time, worst and the order statistics of ``value`` per ``key`` (all rows when
    ``key`` is empty), in one query that returns only the rows at the needed ranks."""
    part = list(key) or None
    inner = select(*[k.label(f"k{i}") for i, k in enumerate(key)], value.label("v"),
                   func.row_number().over(partition_by=part, order_by=value).label("rn"),
                   func.count().over(partition_by=part).label("n"),
                   func.sum(on_time).over(partition_by=part).label("ok"),
                   func.max(value).over(partition_by=part).label("worst"))
    if where is not None:
        inner = inner.where(where)
    sub = inner.subquery()
    rows = (await s.execute(select(sub).where(_rank_filter(sub.c.rn, sub.c.n)))).all()
    out: dict[tuple, tuple[int, int, int, dict[int, int]]] = {}
    for r in rows:
        k = tuple(getattr(r, f"k{i}") for i in range(len(key)))
        d = out.setdefault(k, (r.n, int(r.ok or 0), r.worst, {}))
        d[3][r.rn - 1] = r.v
    return {k: Distribution(n, ok, worst, ranks) for k, (n, ok, worst, ranks) in out.items()}


def _ts(name: str, value: datetime) -> Any:
    return bindparam(name, value, type_=TS)


def _b_seconds(dialect: str) -> Any:
    """Elapsed seconds of a procedure-B step (its limit is in minutes, not working days)."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", func.date_trunc("second", ap.c.done_at))
                               - func.extract("epoch", func.date_trunc("second", ap.c.started_at))), Integer)
    return (cast(func.strftime("%s", ap.c.done_at), Integer) - cast(func.strftime("%s", ap.c.started_at), Integer))


async def load_figures(s: AsyncSession, period: Period, *, cutoff: datetime, cal: WorkingCalendar,
                       with_holders: bool = True) -> Figures:
    p0, p1 = period.bounds(cal.tz)
    dialect = s.bind.dialect.name
    in_period = and_(rs.c.done_at >= p0, rs.c.done_at < p1)

    # 1. Requests received, finished, withdrawn, open at the cutoff.
    def count(*where: Any) -> Any:
        return select(func.count()).select_from(rq).where(*where).scalar_subquery()
    c = (await s.execute(select(
        count(rq.c.submitted_at >= p0, rq.c.submitted_at < p1),
        count(rq.c.closed_at >= p0, rq.c.closed_at < p1, rq.c.stage == Stage.DONE.value),
        count(rq.c.closed_at >= p0, rq.c.closed_at < p1, rq.c.stage == Stage.CANCELLED.value),
        count(rq.c.submitted_at < cutoff) - count(rq.c.closed_at < cutoff)))).one()

    # 2. Completeness checks and returns (step A4), and the items most often missing.
    chk = (await s.execute(select(func.count(), func.coalesce(func.sum(case((rs.c.outcome == "return", 1), else_=0)), 0))
                           .where(in_period, rs.c.stage == Stage.COMPLETENESS.value))).one()
    if dialect == "postgresql":
        sql = ("SELECT m AS item, count(*) AS n FROM audit_log AS a "
               "CROSS JOIN LATERAL json_array_elements_text(a.detail -> 'missing') AS m "
               "WHERE a.action = 'return' AND a.at >= :p0 AND a.at < :p1 GROUP BY m")
    else:
        sql = ("SELECT j.value AS item, count(*) AS n FROM audit_log AS a, json_each(a.detail, '$.missing') AS j "
               "WHERE a.action = 'return' AND a.at >= :p0 AND a.at < :p1 GROUP BY j.value")
    missing = {r.item: r.n for r in (await s.execute(text(sql).bindparams(_ts("p0", p0), _ts("p1", p1)))).all()}

    # 3. Passages per SOP step: count, on time, order statistics of working time.
    limits = {st.code: limit_seconds(st, cal.standard_day) for st in PROCEDURE_A}
    limit_of = case(limits, value=rs.c.step_code, else_=None)
    on_time = case((rs.c.due_at.is_not(None), case((rs.c.done_at <= rs.c.due_at, 1), else_=0)),
                   else_=case((rs.c.step_seconds <= limit_of, 1), else_=0))
    steps = {k[0]: d for k, d in (await _distributions(
        s, [rs.c.step_code], rs.c.step_seconds, on_time, and_(rs.c.step_seconds.is_not(None), in_period))).items()}
    b_secs = _b_seconds(dialect)
    b_on_time = case((ap.c.done_at <= ap.c.due_at, 1), else_=0)
    steps.update({k[0]: d for k, d in (await _distributions(
        s, [ap.c.step_code], b_secs, b_on_time, and_(ap.c.done_at >= p0, ap.c.done_at < p1))).items()})

    # 4. Escalations in the period, by the stage escalated.
    esc = dict((await s.execute(select(al.c.from_state, func.count()).where(
        al.c.action == "escalated", al.c.at >= p0, al.c.at < p1).group_by(al.c.from_state))).all())

    # 5. Per official: hops closed, on time, median working time.
    holders: list[HolderRow] = []
    if with_holders:
        hop_on_time = case((rs.c.done_at <= rs.c.due_at, 1), else_=0)
        dists = await _distributions(
            s, [rs.c.done_by_official_id, rs.c.holder_role], rs.c.work_seconds, hop_on_time,
            and_(in_period, rs.c.done_by_official_id.is_not(None), rs.c.work_seconds.is_not(None),
                 rs.c.holder_role != Role.REQUESTER.value))
        names = dict((await s.execute(select(Official.id, Official.name).where(
            Official.id.in_({k[0] for k in dists})))).all()) if dists else {}
        holders = [HolderRow(k[0], names.get(k[0], "—"), k[1], d) for k, d in dists.items()]

    # 6. Letter -> account: the working time of every finished request (all its hops).
    tot = (select(rs.c.request_id, func.sum(rs.c.work_seconds).label("secs"))
           .join(rq, rq.c.id == rs.c.request_id)
           .where(rq.c.closed_at >= p0, rq.c.closed_at < p1, rq.c.stage == Stage.DONE.value)
           .group_by(rs.c.request_id).subquery())
    total_limit = total_limit_seconds(cal.standard_day)
    total = (await _distributions(s, [], tot.c.secs, case((tot.c.secs <= total_limit, 1), else_=0))).get(
        (), Distribution())

    # 7. On-time share per month (steps held by officials), over the trend's months.
    months = period.trend_months()
    edges = [datetime.combine(m, datetime.min.time(), tzinfo=cal.tz) for m in months[1:]]
    t0 = datetime.combine(months[0], datetime.min.time(), tzinfo=cal.tz)
    bucket = case(*[(rs.c.done_at < e, i) for i, e in enumerate(edges)], else_=len(edges)) if edges else literal(0)
    codes = [st.code for st in official_steps()]
    mrows = (await s.execute(select(bucket.label("b"), func.count(), func.sum(case((rs.c.done_at <= rs.c.due_at, 1),
                                                                                  else_=0)))
                             .where(rs.c.step_seconds.is_not(None), rs.c.step_code.in_(codes),
                                    rs.c.due_at.is_not(None), rs.c.done_at >= t0, rs.c.done_at < p1)
                             .group_by(bucket))).all()
    month_rows = [MonthRow(months[b], n, int(ok or 0)) for b, n, ok in mrows]

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

    # 9. Officials' notes written when handing over a passage that was late.
    late = aliased(RequestStep)
    nxt = aliased(RequestStep)
    nq = (select(late.step_code.label("code"), nxt.note.label("note"),
                 func.row_number().over(partition_by=late.step_code,
                                        order_by=(late.done_at.desc(), late.id.desc())).label("rn"))
          .join(nxt, and_(nxt.request_id == late.request_id, nxt.received_at == late.done_at,
                          nxt.from_official_id == late.done_by_official_id, nxt.note.is_not(None)))
          .where(late.step_seconds.is_not(None), late.due_at.is_not(None), late.done_at > late.due_at,
                 late.done_at >= p0, late.done_at < p1).subquery())
    notes: dict[str, list[str]] = {}
    for code, note, _ in (await s.execute(select(nq).where(nq.c.rn <= NOTES_PER_STEP).order_by(nq.c.code, nq.c.rn))).all():
        notes.setdefault(code, []).append(note)

    return Figures(received=c[0], finished=c[1], withdrawn=c[2], in_progress=c[3], checks=chk[0], returns=int(chk[1]),
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
    b_secs = _b_seconds(s.bind.dialect.name)
    qb = (select(Request.number, Agency.short_name, AppStep.step_code, literal(None), Application.data["name"].as_string(),
                 literal(None), literal(Role.REQUESTER.value), AppStep.started_at, AppStep.done_at, AppStep.due_at,
                 case((AppStep.done_at.is_not(None), b_secs), else_=None), literal(None), literal(None))
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
