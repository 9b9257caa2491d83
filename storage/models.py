"""SQLAlchemy 2 models: the database is the single source of truth.

Times are stored as timezone-aware UTC datetimes. Personal data of contact
persons lives only in ``request`` / ``draft`` rows (what the SOP needs).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which has no time zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UTCDateTime()
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: TS, dict[str, Any]: JSON, list[Any]: JSON}


def partial(name: str, *columns: str, where: str, **kw: Any) -> Index:
    """A partial index (``where``: its condition, the same SQL on both databases). The migrations
    create the indexes; here they describe the schema. The condition is attached for the database
    in use by ``describe_partial_indexes`` when its engine is made: naming it here
    (``postgresql_where``, ``sqlite_where``) would load both of SQLAlchemy's dialects into every
    process (PostgreSQL's is 2 MB, SQLite's with sqlite3 and aiosqlite 1.5 MB)."""
    return Index(name, *columns, info={"where": where}, **kw)


def describe_partial_indexes(dialect: str, metadata: MetaData | None = None) -> None:
    """Give the partial indexes their condition on ``dialect`` ("postgresql" or "sqlite";
    idempotent; storage/db.py calls it when it makes an engine, the migrations' env.py for the
    database it migrates)."""
    for table in (metadata or Base.metadata).tables.values():
        for index in table.indexes:
            where = index.info.get("where")
            if where is not None:
                index.dialect_options[dialect]["where"] = text(where)


class Agency(Base):
    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Official(Base):
    __tablename__ = "official"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]


class OfficialRole(Base):
    __tablename__ = "official_role"
    official_id: Mapped[int] = mapped_column(ForeignKey("official.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Invite(Base):
    __tablename__ = "invite"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the secret in the link
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)


class StoredFile(Base):
    """A file the bot keeps (the scan of the signed request letter): the SOP's artefact, not
    only Telegram's copy."""

    __tablename__ = "stored_file"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # pdf | jpeg | png
    file_name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    owner_user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class Counter(Base):
    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Draft(Base):
    """A requester's form in progress (one open draft per user)."""

    __tablename__ = "draft"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("request.id"))  # correcting a returned request
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Session(Base):
    """What the bot waits for from a user (the next free-text answer), durable across restarts."""

    __tablename__ = "chat_session"
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    awaiting: Mapped[str | None] = mapped_column(String(40))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class Request(Base):
    __tablename__ = "request"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    requester_id: Mapped[int] = mapped_column(BigInteger, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    letter_number: Mapped[str] = mapped_column(String(100))
    letter_date: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(20))  # E.164
    app_name: Mapped[str] = mapped_column(String(100))
    business_process: Mapped[str] = mapped_column(Text)
    scan: Mapped[dict[str, Any]] = mapped_column(JSON)  # Telegram file reference and metadata
    stage: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    holder_role: Mapped[str | None] = mapped_column(String(20))
    holder_official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    executor_official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    return_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Working time from the letter (step A1) to Selesai, written when the request is finished.
    work_seconds: Mapped[int | None] = mapped_column(Integer)
    # The SOP version (sop_version.version) the request was submitted under: its chain, limits and
    # wording apply to it to the end, whatever file the bot runs later.
    sop_version: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_request_stage_holder", "stage", "holder_role"),
                      Index("ix_request_submitted", "submitted_at"),
                      partial("ix_request_closed", "closed_at", "stage", where="closed_at IS NOT NULL"),
                      # Letter to account: finished requests in order of working time.
                      partial("ix_request_finished", "work_seconds", "closed_at", where="work_seconds IS NOT NULL"))


class SopVersion(Base):
    """Every version of the SOP the bot has run (the document as validated, by its content hash):
    a request keeps the one it started under."""

    __tablename__ = "sop_version"
    version: Mapped[str] = mapped_column(String(16), primary_key=True)  # hash of the canonical content
    number: Mapped[str] = mapped_column(String(40))  # the SOP's number ("038")
    revision: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # the validated document as JSON
    source: Mapped[str] = mapped_column(String(255))  # the file it was first loaded from
    first_loaded_at: Mapped[datetime]


class RequestStep(Base):
    """One hop of the timeline: who held the request, from when, until when, against which limit."""

    __tablename__ = "request_step"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))
    step_code: Mapped[str] = mapped_column(String(4))
    holder_role: Mapped[str | None] = mapped_column(String(20))
    holder_official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    from_official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    instruction: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_by_official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Working time on the calendar, written when the hop closes (oversight figures aggregate these
    # in SQL): this hop's, and -- on the hop that ends a passage of its SOP step (step A3 has two
    # hops) -- the whole passage's.
    work_seconds: Mapped[int | None] = mapped_column(Integer)
    step_seconds: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # Percentiles per SOP step, read from the index alone: a step's passages in order of working
        # time, walked to a rank (ORDER BY ... OFFSET k), skipping those outside the period.
        partial("ix_request_step_passage", "step_code", "step_seconds", "done_at",
                where="step_seconds IS NOT NULL"),
        # Likewise per official (and role held): their hops in order of working time.
        partial("ix_request_step_official", "done_by_official_id", "holder_role", "work_seconds", "done_at",
                where="done_by_official_id IS NOT NULL"),
        # Hand-over notes (the officials' word on a late passage), by when they were written.
        partial("ix_request_step_noted", "received_at", where="note IS NOT NULL"),
        # Hops closed in a period (the inspector's rows).
        partial("ix_request_step_done", "done_at", where="done_at IS NOT NULL"),
        # What is open now, by deadline (ageing, the morning digest).
        partial("ix_request_step_open", "due_at", where="done_at IS NULL"),
    )


class Reminder(Base):
    """A planned reminder or escalation of one step's time limit. Sent at most once: the sweep
    claims due rows exclusively (SKIP LOCKED on PostgreSQL) and marks them in the same transaction
    as the messages it enqueues."""

    __tablename__ = "reminder"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(ForeignKey("request_step.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # share | breach | overdue
    share: Mapped[float | None] = mapped_column(Float)
    day: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # handled: sent, or skipped
    # "sent"; "skipped" when a more advanced notice of the same step was due at the same sweep (after
    # downtime or quiet hours only the latest goes out); "moot" when the step had moved on.
    outcome: Mapped[str | None] = mapped_column(String(10))

    __table_args__ = (
        # The sweep reads only due, unsent rows.
        partial("ix_reminder_due", "due_at", where="sent_at IS NULL"),
    )


class Account(Base):
    """The SPLP account registered for a request (SOP step 5). Never holds a secret."""

    __tablename__ = "account"
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))  # manual | wso2
    splp_user_id: Mapped[str | None] = mapped_column(String(100))
    delivery: Mapped[str] = mapped_column(String(20))  # telegram | portal_email
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    created_at: Mapped[datetime]


class Secret(Base):
    """An encrypted secret waiting for its one reveal to the verified contact person."""

    __tablename__ = "secret"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # account_password
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once wiped
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(TS, index=True)
    reveal_claimed_until: Mapped[datetime | None]
    revealed_at: Mapped[datetime | None]
    revealed_to: Mapped[int | None] = mapped_column(BigInteger)
    wiped_at: Mapped[datetime | None]
    wipe_reason: Mapped[str | None] = mapped_column(String(20))  # revealed | expired | reissued


class ContactLink(Base):
    """The personal deep link the requester passes to the contact person, verified by phone."""

    __tablename__ = "contact_link"
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None]
    verified_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    verified_at: Mapped[datetime | None]


class Report(Base):
    """The activity report of a request (SOP step 6): its number, the executor's note, the PDF."""

    __tablename__ = "report"
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    stored_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Application(Base):
    """An application an agency registers in SPLP (procedure B), and where it stands."""

    __tablename__ = "application"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"), index=True)  # the agency's account (A)
    owner_telegram_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name, description, ... as entered
    name_key: Mapped[str | None] = mapped_column(String(100))  # lower-cased name once confirmed
    mode: Mapped[str] = mapped_column(String(10))  # manual | wso2
    # draft | in_progress | waiting (for SPLP's approval) | incomplete (a call failed; what exists is
    # in data["splp"]) | done | rejected | deleted | cancelled
    status: Mapped[str] = mapped_column(String(12))
    check_at: Mapped[datetime | None] = mapped_column(TS)  # next look at a pending approval
    busy_until: Mapped[datetime | None] = mapped_column(TS)  # claim of the one run of SPLP work at a time
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (partial("ix_application_check", "check_at", where="check_at IS NOT NULL"),
                      partial("ix_application_busy", "busy_until", where="busy_until IS NOT NULL"))


class AppStep(Base):
    """One SOP step of procedure B for an application, against its 10-minute limit."""

    __tablename__ = "app_step"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    step_code: Mapped[str] = mapped_column(String(4))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # Seconds it took, written when the step is completed (not when an abandoned application's open
    # step is closed): the oversight figures count these.
    seconds: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (partial("ix_app_step_done", "done_at", where="done_at IS NOT NULL"),
                      # Percentiles per step, like ix_request_step_passage.
                      partial("ix_app_step_passage", "step_code", "seconds", "done_at", where="seconds IS NOT NULL"))


class CalendarDay(Base):
    """Admin-managed calendar data: an extra day off, or dated special hours (e.g. Ramadan)."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # off | hours
    hours: Mapped[str | None] = mapped_column(String(200))  # "08:00-12:00,12:30-15:00" for kind=hours
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class DigestRun(Base):
    """One row per working day whose morning digest went out: the exclusive claim for it."""

    __tablename__ = "digest_run"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime]


class OversightJob(Base):
    """A report being produced (``/rekap``'s summary and files, the monthly report): durable, so a
    crash does not lose it. A worker claims it (``claimed_until``) and renders it outside any write
    transaction; the transaction that marks it done also queues its messages, so it is delivered
    once. The monthly report of a month is one row (unique), claimed like the morning digest."""

    __tablename__ = "oversight_job"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # summary | pdf | xlsx | csv | monthly
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # who asked; None: the monthly report
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    status: Mapped[str] = mapped_column(String(10))  # pending | done | failed
    # The summary goes out in two parts, its text as soon as the figures are known, then the chart
    # (with the buttons): 1 once the text is queued, so a resumed job does not send it again.
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # The stored files it sent (deleted a while after delivery: Telegram keeps its copy).
    files: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))

    __table_args__ = (
        partial("ix_oversight_job_pending", "claimed_until", where="status = 'pending'"),
        partial("uq_oversight_job_monthly", "period_start", unique=True, where="kind = 'monthly'"),
    )


class OversightDay(Base):
    """Daily tallies of the oversight figures, kept in the transaction that closes each hop: per SOP
    step (``kind`` "passage", ``key`` the step code) and per official and role (``kind`` "hop",
    ``key`` "official_id:role"), on the office's calendar day. A period's counts, on-time counts and
    worst times are sums over its days, so they never scan a year of hops; the percentiles still come
    from the hops themselves (``storage/figures.py``)."""

    __tablename__ = "oversight_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    returns: Mapped[int] = mapped_column(Integer)
    worst: Mapped[int] = mapped_column(Integer)


class OversightAction(Base):
    """The action to take for an SOP step (the monitoring form's *Tindakan yang harus diambil*),
    typed by the Head for a period before the PDF is produced."""

    __tablename__ = "oversight_action"
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    period_end: Mapped[date] = mapped_column(Date, primary_key=True)
    step_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    updated_at: Mapped[datetime]


class AuditLog(Base):
    """Append-only: who did what, from which state to which, when. No personal data, no secrets."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_official_id: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_audit_log_at", "at"),  # the audit log of a period (the inspector's CSV)
        # Escalations and returns in a period (oversight figures); only those rows are indexed.
        partial("ix_audit_log_escalated", "at", "from_state", where="action = 'escalated'"),
        partial("ix_audit_log_returned", "at", where="action = 'return'"),
    )


class ProcessedUpdate(Base):
    """Durable inbox: an update_id is handled once, in the same transaction as its effects."""

    __tablename__ = "processed_update"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(TS, index=True)
    outcome: Mapped[str] = mapped_column(String(10))


class Outbox(Base):
    """Transactional outbox: Bot API calls committed with the state change that caused them."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    ref_outbox_id: Mapped[int | None] = mapped_column(BigInteger)  # edit/delete the message this row sent
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    live_buttons: Mapped[bool] = mapped_column(Boolean, default=False)  # holds action buttons of request_id
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        partial("ix_outbox_pending", "status", "available_at", where="status = 'pending'"),
        Index("ix_outbox_chat", "chat_id", "id"),
        # A chat's next pending rows (the sender's claim): without it the claim walks every pending
        # row of every chat (ix_outbox_pending), hundreds when one official receives many cards at
        # once. "status" is constant here but makes SQLite's planner prefer this index (two equal
        # columns) without statistics.
        partial("ix_outbox_chat_pending", "chat_id", "status", "id", where="status = 'pending'"),
        Index("ix_outbox_message", "chat_id", "sent_message_id"),
        Index("ix_outbox_request", "request_id", "live_buttons"),
    )


class ChatLock(Base):
    """Per-chat lease so that one sender (of possibly several instances) sends a chat's messages in order."""

    __tablename__ = "chat_lock"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]  # a released lease is kept (until in the past) for its pacing state
    # The chat's sending pace (a token bucket), shared by restarts and instances: the tokens left
    # after the last send and when that was.
    tokens: Mapped[float | None] = mapped_column(Float)
    sent_at: Mapped[datetime | None]


__all__ = [
    "Agency", "AuditLog", "Base", "ChatLock", "Counter", "Draft", "Invite", "Official",
    "OfficialRole", "Outbox", "ProcessedUpdate", "Reminder", "CalendarDay", "DigestRun", "Account",
    "Secret", "ContactLink", "Report", "Application", "AppStep", "Request", "RequestStep", "Session",
    "StoredFile", "OversightJob", "OversightAction", "OversightDay", "SopVersion",
    "UniqueConstraint",
]
