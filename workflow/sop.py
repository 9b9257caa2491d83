"""The SOP the bot runs: the document's schema and the model derived from it.

An office's SOP (its chain of officials, time limits, completeness items, letterhead, ...) is a
YAML file (``sop/*.yaml``; read and validated by ``workflow/sopdoc.py``, documented field by
field in the README, "Another Pemda's SOP"). Nothing Pemda-specific lives in the code: what the
code provides is the fixed set of step kinds (:class:`Kind`), automatic pre-checks
(:class:`Precheck`) and the stages every SOP has (:class:`SystemStage`); the disposition chain's
stages, the roles and their titles, the wording, the limits come from the file.

Pure: no I/O here (``workflow/sopdoc.py`` reads files), no clock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from annotated_types import Ge, Gt, MaxLen, MinLen

if TYPE_CHECKING:
    from workflow.calendar import WorkingCalendar

REQUESTER, ADMIN = "requester", "admin"
Day = date  # DayOff's field is named ``date``: its type by another name  # built-in roles: any Telegram user; the bot's admin


class Kind(StrEnum):
    """What the bot does at a step: the fixed set of behaviours the code provides."""

    REQUEST = "request"  # A: the requester's letter (the form)
    DISPOSITION = "disposition"  # A: a hop (or several) of the disposition chain
    COMPLETENESS_CHECK = "completeness_check"  # A: the executor checks the items
    REGISTRATION = "registration"  # A: the SPLP account is registered
    REPORT = "report"  # A: the activity report is written
    FORWARD = "forward"  # A: the report goes to the requester; the request is done
    PORTAL = "portal"  # B: sign in to the user portal
    APPLICATION_DATA = "application_data"  # B: the application's data
    CREDENTIALS = "credentials"  # B: OAuth2 keys, token, API key


A_ORDER = (Kind.REQUEST, Kind.DISPOSITION, Kind.COMPLETENESS_CHECK, Kind.REGISTRATION, Kind.REPORT, Kind.FORWARD)
B_ORDER = (Kind.PORTAL, Kind.APPLICATION_DATA, Kind.CREDENTIALS)


class Precheck(StrEnum):
    """Automatic pre-checks of a completeness item (the executor still decides)."""

    CONTACT_NAME = "contact_name"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"
    BUSINESS_PROCESS = "business_process"
    LETTER_SCAN = "letter_scan"
    NONE = "none"


class SystemStage(StrEnum):
    """Stages that exist in every SOP; the disposition chain's stages come from the file."""

    COMPLETENESS = "completeness"
    RETURNED = "returned"  # back with the requester (step 1 again); the officials' clock paused
    REGISTRATION = "registration"
    REPORT = "report"
    FORWARD = "forward"
    DONE = "done"
    CANCELLED = "cancelled"


CLOSED_STAGES = frozenset({SystemStage.DONE, SystemStage.CANCELLED})


# --------------------------------------------------------------------------- the schema

# The schema is plain frozen dataclasses: the bot runs them as they are, and pydantic validates a
# file against them (``workflow/sopdoc.py``, imported only where a file is checked: it would cost a
# running bot about 10 MB). The constraints are annotated_types' markers, which pydantic reads;
# ``_CONFIG`` is pydantic's configuration of a stdlib dataclass (a plain dict: no import).
_CONFIG = {"extra": "forbid", "str_strip_whitespace": True}


@dataclass(frozen=True)
class Pattern:
    """A string's pattern, for pydantic's validation of the file (read through its hook; pydantic is
    not imported here)."""

    regex: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema["pattern"] = self.regex
        return schema


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """An SOP time limit: working days or working hours on the working calendar, or minutes of
    clock time (procedure B)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    working_days: Annotated[int, Gt(0)] | None = None
    working_hours: Annotated[float, Gt(0)] | None = None
    minutes: Annotated[int, Gt(0)] | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.working_days, self.working_hours, self.minutes) if v is not None]
        if len(given) != 1:
            raise ValueError("limit: give exactly one of working_days, working_hours, minutes")
        if given[0] <= 0:  # (a file's is checked by its annotation first, with pydantic's message)
            raise ValueError("limit: must be greater than 0")

    @property
    def as_timedelta(self) -> timedelta:
        """A minute limit as a duration (working limits need the calendar)."""
        if self.minutes is None:
            raise ValueError("a working-time limit has no fixed duration; use the working calendar")
        return timedelta(minutes=self.minutes)

    def due(self, cal: WorkingCalendar, received: datetime) -> datetime:
        """The deadline of a step received at ``received`` (docs/working-time.md)."""
        if self.working_days:
            return cal.due_after_working_days(received, self.working_days)
        if self.working_hours:
            return cal.add_working_time(received, timedelta(hours=self.working_hours))
        return received + self.as_timedelta

    def seconds(self, standard_day: timedelta) -> int:
        """The limit as working time in seconds (a working day counts as the standard day)."""
        if self.working_days:
            return int((standard_day * self.working_days).total_seconds())
        if self.working_hours:
            return int(self.working_hours * 3600)
        return (self.minutes or 0) * 60

    def label(self) -> str:
        if self.working_days:
            return f"{self.working_days} hari kerja"
        if self.working_hours:
            return f"{self.working_hours:g} jam kerja".replace(".", ",")
        return f"{self.minutes} menit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    code: Annotated[str, Pattern(r"^[A-Z][0-9]{1,2}$")]
    kind: Kind
    actor: str
    label: Annotated[str, MinLen(3), MaxLen(60)]  # short, for timelines and buttons
    title: Annotated[str, MinLen(3), MaxLen(300)]  # the SOP's own wording
    limit: Limit
    requirement: str | None = None
    output: str | None = None
    number: int = 0  # its place in the procedure (1, 2, ...), set by the loader


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    stage: str
    step: str
    role: str
    label: Annotated[str, MinLen(3), MaxLen(60)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    code: Annotated[str, Pattern(r"^[a-z][a-z0-9_]{1,29}$")]
    label: Annotated[str, MinLen(3), MaxLen(80)]
    precheck: Precheck = Precheck.NONE


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    number: str
    reference: str
    title: str
    pemda: str
    office: str
    office_short: str
    place: str
    signed_by: str
    effective: date
    revision: Annotated[int, Ge(0)]
    service_name: str
    legal_basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Reminders:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    shares: tuple[float, ...] = (0.5, 0.9)

    def __post_init__(self) -> None:
        if any(not 0 < x < 1 for x in self.shares):
            raise ValueError("each share must be between 0 and 1, e.g. 0.5")
        object.__setattr__(self, "shares", tuple(sorted(set(self.shares))))


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    letterhead: Annotated[tuple[str, ...], MinLen(1), MaxLen(4)]
    title: str
    signatory: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Splp:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    tenant: Annotated[str, Pattern(r"^[a-z0-9.-]+\.[a-z]{2,}$")]


@dataclass(frozen=True, slots=True, kw_only=True)
class DayOff:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    date: Day
    note: str = "Libur"


@dataclass(frozen=True, slots=True, kw_only=True)
class SopSchema:
    __pydantic_config__: ClassVar[dict[str, Any]] = _CONFIG
    identity: Identity
    roles: Annotated[dict[str, str], MinLen(1)]
    procedure_a: tuple[Step, ...]
    chain: Annotated[tuple[Hop, ...], MinLen(1), MaxLen(5)]
    procedure_b: tuple[Step, ...]
    completeness: Annotated[tuple[Item, ...], MinLen(1), MaxLen(8)]  # each a bit of a button's mask
    instructions: Annotated[tuple[str, ...], MinLen(1), MaxLen(8)]
    escalation: dict[str, str] = field(default_factory=dict)
    reminders: Reminders = Reminders()
    digest_to: tuple[str, ...] = ()
    oversight: tuple[str, ...] = ()
    report: Report
    splp: Splp
    working_hours: str | None = None  # "mon-thu=07:30-12:00,13:00-16:00;fri=..."; none: the default hours
    days_off: tuple[DayOff, ...] = ()

    def plain(self) -> dict[str, Any]:
        """The document as JSON's types (dates as ISO text, tuples as lists)."""
        return _plain(self)


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


# --------------------------------------------------------------------------- the model the bot runs

@dataclass(frozen=True)
class StageInfo:
    stage: str
    step: str  # the SOP step the stage belongs to
    holder: str | None  # the role holding a request in this stage (None: nobody, it is closed)
    label: str


class Sop:
    """A validated SOP: the document, and what the bot derives from it."""

    def __init__(self, doc: SopSchema, *, source: str) -> None:
        self.doc, self.source = doc, source
        self.identity = doc.identity
        a = [replace(s, number=i + 1) for i, s in enumerate(doc.procedure_a)]
        b = [replace(s, number=i + 1) for i, s in enumerate(doc.procedure_b)]
        self.procedure_a: tuple[Step, ...] = tuple(a)
        self.procedure_b: tuple[Step, ...] = tuple(b)
        self.steps: dict[str, Step] = {s.code: s for s in a + b}
        by_kind = {s.kind: s for s in a}
        self.request_step = by_kind[Kind.REQUEST]
        self.check_step = by_kind[Kind.COMPLETENESS_CHECK]
        self.registration_step = by_kind[Kind.REGISTRATION]
        self.report_step = by_kind[Kind.REPORT]
        self.forward_step = by_kind[Kind.FORWARD]
        self.roles: dict[str, str] = dict(doc.roles)  # code -> title, the officials' roles
        self.executor = self.check_step.actor
        self.forwarder = self.forward_step.actor
        self.chain: tuple[str, ...] = tuple(h.stage for h in doc.chain)
        self.assigner = self.chain[-1]  # the last hop names the executor
        stages = [StageInfo(h.stage, h.step, h.role, h.label) for h in doc.chain] + [
            StageInfo(SystemStage.COMPLETENESS, self.check_step.code, self.executor, self.check_step.label),
            StageInfo(SystemStage.RETURNED, self.request_step.code, REQUESTER, "Dikembalikan kepada pemohon"),
            StageInfo(SystemStage.REGISTRATION, self.registration_step.code, self.executor,
                      self.registration_step.label),
            StageInfo(SystemStage.REPORT, self.report_step.code, self.executor, self.report_step.label),
            StageInfo(SystemStage.FORWARD, self.forward_step.code, self.forwarder, self.forward_step.label),
            StageInfo(SystemStage.DONE, self.forward_step.code, None, "Selesai"),
            StageInfo(SystemStage.CANCELLED, self.request_step.code, None, "Dibatalkan"),
        ]
        self.stages: dict[str, StageInfo] = {s.stage: s for s in stages}
        self.open_stages = frozenset(self.chain) | {SystemStage.COMPLETENESS, SystemStage.REGISTRATION,
                                                    SystemStage.REPORT, SystemStage.FORWARD}
        self.items: tuple[Item, ...] = doc.completeness
        self.instructions = doc.instructions
        self.escalation = dict(doc.escalation)
        self.shares = doc.reminders.shares
        self.digest_to = doc.digest_to
        self.oversight = doc.oversight
        self.tenant = doc.splp.tenant
        canonical = json.dumps(doc.plain(), sort_keys=True, ensure_ascii=False)
        self.version = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        self.revision = doc.identity.revision

    def __repr__(self) -> str:
        return f"<Sop {self.label} from {self.source}>"

    # --- roles ---
    def official_roles(self) -> tuple[str, ...]:
        """The roles an official may hold: the SOP's, then the admin."""
        return (*self.roles, ADMIN)

    def role_title(self, role: str | None) -> str:
        if role == REQUESTER:
            return "Pemohon"
        if role == ADMIN:
            return "Admin"
        return self.roles.get(role or "", role or "—")

    def superior(self, role: str | None) -> str | None:
        """Whom a breach by ``role`` escalates to (None: nobody)."""
        return self.escalation.get(role) if role else None

    @property
    def chain_roles(self) -> tuple[str, ...]:
        """The roles of the disposition chain's hops, in order, then the executor."""
        return (*(self.stages[st].holder or "" for st in self.chain), self.executor)

    # --- stages and steps ---
    @property
    def first_stage(self) -> str:
        return self.chain[0]

    def holder(self, stage: str) -> str | None:
        return self.stages[stage].holder

    def stage_step(self, stage: str) -> Step:
        return self.steps[self.stages[stage].step]

    def next_stage(self, stage: str) -> str:
        """The stage after a disposition hop (the last hop's next is the completeness check)."""
        i = self.chain.index(stage)
        return self.chain[i + 1] if i + 1 < len(self.chain) else SystemStage.COMPLETENESS

    def stage_label(self, stage: str) -> str:
        """``"Langkah 2 — Disposisi Kepala ..."``: the step's number and the stage's label."""
        return f"Langkah {self.stage_step(stage).number} — {self.stages[stage].label}"

    def limit_label(self, stage: str) -> str:
        return self.stage_step(stage).limit.label()

    def due(self, cal: WorkingCalendar, stage: str, received: datetime) -> datetime | None:
        """The deadline of ``stage``'s step when it starts at ``received`` (the requester's own
        step has none: it is recorded, not timed)."""
        step = self.stage_step(stage)
        return None if step.actor == REQUESTER else step.limit.due(cal, received)

    def step_stages(self, code: str) -> tuple[str, ...]:
        """The stages (hops) of step ``code`` that officials hold, in order."""
        return tuple(st for st, info in self.stages.items() if info.step == code and st in self.open_stages)

    def step_label(self, step: Step) -> str:
        """A short name of a step: its stages' labels (a disposition step may have several hops);
        the requester's step of procedure A by its output (the letter); procedure B's by its title."""
        labels = [self.stages[st].label for st in self.step_stages(step.code)]
        if labels:
            return " / ".join(labels)
        return step.output if step in self.procedure_a and step.output else step.title

    def official_steps(self) -> tuple[Step, ...]:
        """Procedure A's steps that officials hold (each carries a deadline)."""
        return tuple(s for s in self.procedure_a if s.actor != REQUESTER)

    def official_limit(self, standard_day: timedelta) -> timedelta:
        """Procedure A's officials' limits together, as working time."""
        return timedelta(seconds=sum(s.limit.seconds(standard_day) for s in self.official_steps()))

    def official_limit_label(self) -> str:
        """``"7 hari kerja"``, or with limits in hours ``"1 hari kerja dan 22 jam kerja"``."""
        steps = self.official_steps()
        days = sum(s.limit.working_days or 0 for s in steps)
        hours = sum(s.limit.working_hours or 0 for s in steps)
        parts = ([f"{days} hari kerja"] if days else []) + ([f"{hours:g} jam kerja".replace(".", ",")] if hours else [])
        return " dan ".join(parts) or "—"

    def official_span(self) -> str:
        """``"langkah 2–7"``: the steps the officials' limits cover."""
        steps = self.official_steps()
        return f"langkah {steps[0].number}–{steps[-1].number}" if steps else "—"

    def total_limit_seconds(self, standard_day: timedelta) -> int:
        """Procedure A's total (all its steps' limits): letter to account."""
        return sum(s.limit.seconds(standard_day) for s in self.procedure_a)

    # --- the completeness check ---
    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    def item_label(self, code: str) -> str:
        item = self.item(code)
        return item.label if item else code

    # --- names of things ---
    @property
    def report_name(self) -> str:
        """What the report step produces (``"Laporan Kegiatan"``, ``"Berita Acara"``)."""
        return self.report_step.output or "Laporan"

    @property
    def label(self) -> str:
        """``"SOP <number> rev. <revision> (<8 characters of the content's hash>)"``."""
        return f"SOP {self.identity.number} rev. {self.revision} ({self.version[:8]})"

    def to_json(self) -> str:
        return json.dumps(self.doc.plain(), ensure_ascii=False)


__all__ = ["A_ORDER", "ADMIN", "B_ORDER", "CLOSED_STAGES", "DayOff", "Hop", "Identity", "Item", "Kind", "Limit",
           "Precheck", "REQUESTER", "Reminders", "Report", "Sop", "SopSchema", "Splp", "StageInfo", "Step",
           "SystemStage"]
