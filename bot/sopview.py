"""``python main.py sop check FILE`` and ``python main.py sop show [FILE]``: an SOP file as the
bot will run it, and whether the bot can switch to it.

The tables are plain text for a terminal (the SOP's own wording in Indonesian, the headings in
English like the rest of the command line)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bot.settings import Settings
from workflow.sop import REQUESTER, Sop, SystemStage
from workflow.sopdoc import SopInvalid, load


DEFAULT_HOURS = "the default (Mon-Thu 07:30-12:00, 13:00-16:00; Fri 07:30-11:30, 13:00-16:30)"


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[int, ...]) -> list[str]:
    """Columns of at most ``widths`` characters, long cells wrapped onto more lines."""
    cols = [max([len(h), *(min(len(line), w) for r in rows for line in [r[i]])]) for i, (h, w) in
            enumerate(zip(head, widths))]
    out = ["  ".join(h.ljust(c) for h, c in zip(head, cols)).rstrip(),
           "  ".join("-" * c for c in cols)]
    for r in rows:
        cells = [textwrap.wrap(v, c) or [""] for v, c in zip(r, cols)]
        for i in range(max(len(c) for c in cells)):
            out.append("  ".join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, cols)).rstrip())
    return out


def show(sop: Sop) -> str:
    """The SOP as the bot runs it: identity and version, procedure A hop by hop with who holds each
    and its limit, procedure B, the completeness items, who is told what, the documents."""
    i = sop.identity
    lines = [f"{i.reference}", f"{i.title} — {i.office} ({i.office_short}), {i.pemda}",
             f"Effective {i.effective.isoformat()}, revision {sop.revision}; version {sop.version} "
             f"(stored with every request started under it)", f"File: {sop.source}", ""]
    lines.append("Roles: " + "; ".join(f"{code} = {title}" for code, title in sop.roles.items())
                 + "; admin = the bot's administrator; requester = any Telegram user")
    lines += ["", "Procedure A, as the bot runs it (one row per stage; the clock of a step with several hops is "
              "shared):"]
    rows = []
    a = sop.request_step
    rows.append((f"{a.number} {a.code}", a.label, sop.role_title(REQUESTER), a.limit.label() + " (recorded)",
                 "form, then the first hop", a.title))
    for st, info in sop.stages.items():
        if st in (SystemStage.RETURNED, SystemStage.DONE, SystemStage.CANCELLED):
            continue
        step = sop.steps[info.step]
        if st == sop.assigner:
            then = f"assigns a {sop.role_title(sop.executor)}"
        elif st in sop.chain:
            then = f"disposes to {sop.role_title(sop.holder(sop.next_stage(st)))}"
        else:
            then = {SystemStage.COMPLETENESS: "Lengkap → next; Tidak lengkap → back to the requester",
                    SystemStage.REGISTRATION: "the SPLP account", SystemStage.REPORT: f"{sop.report_name} → "
                    f"{sop.role_title(sop.forwarder)}", SystemStage.FORWARD: "to the requester; Selesai"}[st]
        first = sop.step_stages(step.code)[0] == st
        rows.append((f"{step.number} {step.code}" if first else "", f"{info.label} [{st}]",
                     sop.role_title(info.holder), step.limit.label() if first else "(same step)", then,
                     step.title if first else ""))
    lines += _table(("Step", "Stage", "Holder", "Limit", "Then", "SOP wording"), rows, (7, 34, 30, 16, 30, 60))
    lines += ["", f"Officials' limits together: {sop.official_limit_label()} for {sop.official_span()}.", "",
              "Requirements (Kelengkapan) and outputs (Output) of procedure A's steps:"]
    lines += _table(("Step", "Requirement", "Output"),
                    [(s.code, s.requirement or "-", s.output or "-") for s in sop.procedure_a], (5, 60, 40))
    lines += ["", "Procedure B:"]
    lines += _table(("Step", "Label", "Limit", "SOP wording"),
                    [(f"{s.number} {s.code}", s.label, s.limit.label(), s.title) for s in sop.procedure_b],
                    (7, 30, 12, 70))
    lines += ["", "Completeness items (the executor's checklist):"]
    lines += _table(("Item", "Label", "Automatic pre-check"),
                    [(it.code, it.label, str(it.precheck)) for it in sop.items], (20, 60, 20))
    esc = "; ".join(f"{sop.role_title(a)} → {sop.role_title(b)}" for a, b in sop.escalation.items()) or "none"
    lines += ["", f"Instructions: {' | '.join(sop.instructions)}",
              f"Reminders at {', '.join(f'{x:.0%}' for x in sop.shares)} of a limit, then the breach; "
              f"escalation: {esc}",
              f"Morning digest and monthly report to: {', '.join(sop.role_title(r) for r in sop.digest_to) or '-'}",
              f"/rekap for: {', '.join(sop.role_title(r) for r in sop.oversight)} and the admin",
              f"Report: {sop.doc.report.title}; letterhead {' / '.join(sop.doc.report.letterhead)}; "
              f"signed by {sop.role_title(sop.doc.report.signatory)} in {i.place}",
              f"SPLP tenant: {sop.tenant}",
              f"Working hours: {sop.doc.working_hours or DEFAULT_HOURS}",
              "Regional days off: " + (", ".join(f"{d.date.isoformat()} {d.note}" for d in sop.doc.days_off)
                                       or "none in the file")]
    if i.legal_basis:
        lines += ["Legal basis:", *(f"  - {x}" for x in i.legal_basis)]
    return "\n".join(lines)


async def _database_check(settings: Settings, sop: Sop) -> list[str]:
    """What the configured database says about switching to ``sop`` (nothing is written)."""
    from storage import sops
    from storage.db import Database, current_revision, head_revision, is_sqlite

    url = settings.database_url
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if not path or not Path(path).exists():
            return [f"database: {path or url} does not exist yet; nothing to compare with"]
    db = Database(url)
    try:
        if await current_revision(db) != head_revision():
            return ["database: not migrated to the code's head (python main.py db upgrade); not compared"]
        async with db.sessions() as s:
            blocked = await sops.blockers(s, sop)
            in_use = await sops.versions_in_use(s)
    except Exception as e:  # noqa: BLE001 - reported, the file check stands on its own
        return [f"database: not reachable ({type(e).__name__}); not compared"]
    finally:
        await db.dispose()
    if blocked:
        return ["REFUSED: " + sops.describe(blocked, sop)]
    open_n = sum(in_use.values())
    others = sum(n for v, n in in_use.items() if v != sop.version)
    return [f"database: {open_n} open request(s); none stranded by this file"
            + (f" ({others} keep the version they started under)" if others else "")]


async def check(settings: Settings, path: Path) -> int:
    """Validate ``path``; when a database is configured, say whether the bot could switch to it.
    0: valid (and no open request stranded), 1: not."""
    try:
        sop = load(path)
    except SopInvalid as e:
        print(f"INVALID: {len(e.problems)} problem(s)\n{e}")
        return 1
    print(f"OK: {sop.source} is a valid SOP: {sop.label}, {sop.identity.title}")
    print(f"  chain: {' → '.join(sop.role_title(r) for r in sop.chain_roles)}; {len(sop.procedure_a)} steps in "
          f"procedure A, {len(sop.procedure_b)} in B, {len(sop.items)} completeness items")
    lines = await _database_check(settings, sop)
    for line in lines:
        print(f"  {line}")
    return 1 if any(line.startswith("REFUSED") for line in lines) else 0


__all__ = ["check", "show"]
