"""SOP 038 (Pengelolaan Layanan SPLP Kota Bogor) as data.

Everything the rest of the product knows about the procedure -- its steps, who
acts at each step, the time limits, the requirements and the outputs, and the
disposition chain -- is defined here. Changing a time limit or the chain is a
change of this data only.

The step titles are the SOP's own wording (Indonesian), because they are shown
to users as they are written in the signed document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Role(StrEnum):
    """Who acts. Officials are bound to roles by an admin."""

    REQUESTER = "requester"  # Perangkat Daerah (any Telegram user)
    HEAD = "head"  # Kepala Diskominfo
    DIVISION_HEAD = "division_head"  # Kepala Bidang E-Government
    TEAM_LEAD = "team_lead"  # Ketua Tim Aplikasi
    EXECUTOR = "executor"  # Pejabat Fungsional / Pelaksana
    ADMIN = "admin"  # manages officials, agencies, calendar


OFFICIAL_ROLES: tuple[Role, ...] = (
    Role.HEAD,
    Role.DIVISION_HEAD,
    Role.TEAM_LEAD,
    Role.EXECUTOR,
    Role.ADMIN,
)

# Escalation ladder: whom to tell when a holder breaches a time limit.
SUPERIOR: dict[Role, Role] = {
    Role.EXECUTOR: Role.TEAM_LEAD,
    Role.TEAM_LEAD: Role.DIVISION_HEAD,
    Role.DIVISION_HEAD: Role.HEAD,
}


@dataclass(frozen=True)
class TimeLimit:
    """An SOP time limit: working days (procedure A) or minutes (procedure B)."""

    working_days: int = 0
    minutes: int = 0

    def __post_init__(self) -> None:
        if (self.working_days > 0) == (self.minutes > 0):
            raise ValueError("a time limit is either working days or minutes")

    @property
    def as_timedelta(self) -> timedelta:
        """A minute limit as a duration (working-day limits need the calendar)."""
        if self.working_days:
            raise ValueError("a working-day limit has no fixed duration; use the working calendar")
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Step:
    code: str  # "A1".."A7", "B1".."B3"
    number: int
    title: str  # SOP wording
    actor: Role
    limit: TimeLimit
    requirement: str | None = None
    output: str | None = None


PROCEDURE_A: tuple[Step, ...] = (
    Step("A1", 1, "Membuat dan mengirim surat permohonan pembuatan Akun SPLP",
         Role.REQUESTER, TimeLimit(working_days=1), "Surat Permohonan", "Surat Permohonan"),
    Step("A2", 2, "Surat permohonan diterima Diskominfo, Kepala Diskominfo mendisposisikan "
         "kepada Kepala Bidang E-Government", Role.HEAD, TimeLimit(working_days=1), "Surat Permohonan"),
    Step("A3", 3, "Kepala Bidang E-Government mendisposisikan kepada Ketua Tim Aplikasi, kemudian "
         "mendisposisikan pekerjaan kepada Pejabat Fungsional/Pelaksana",
         Role.DIVISION_HEAD, TimeLimit(working_days=1), "Surat Permohonan"),
    Step("A4", 4, "Mengecek kelengkapan surat permohonan", Role.EXECUTOR, TimeLimit(working_days=1),
         "Nama, email, nomor ponsel contact person dan proses bisnis aplikasi yang akan diintegrasikan"),
    Step("A5", 5, "Mendaftarkan akun melalui splp.layanan.go.id untuk unit kerja pemohon",
         Role.EXECUTOR, TimeLimit(working_days=2), None, "Layanan pembuatan akun SPLP"),
    Step("A6", 6, "Menyusun laporan kegiatan pelaksanaan pembuatan akun SPLP", Role.EXECUTOR,
         TimeLimit(working_days=1), None, "Laporan Kegiatan"),
    Step("A7", 7, "Menerima laporan kegiatan dan meneruskan kepada pemohon", Role.HEAD,
         TimeLimit(working_days=1), "Laporan Kegiatan"),
)

PROCEDURE_B: tuple[Step, ...] = (
    Step("B1", 1, "Membuka aplikasi portal pengguna pada laman SPLP", Role.REQUESTER,
         TimeLimit(minutes=10), "Akun SPLP"),
    Step("B2", 2, "Mengisikan data kelengkapan aplikasi", Role.REQUESTER, TimeLimit(minutes=10),
         "Data Aplikasi"),
    Step("B3", 3, "Membuat OAuth2 Token dan API key", Role.REQUESTER, TimeLimit(minutes=10),
         "Data Aplikasi", "Akses API SPLP"),
)

STEPS: dict[str, Step] = {s.code: s for s in PROCEDURE_A + PROCEDURE_B}

# Total of procedure A's official limits (steps 2-7), for "/status" summaries.
PROCEDURE_A_OFFICIAL_DAYS = sum(s.limit.working_days for s in PROCEDURE_A if s.actor != Role.REQUESTER)


class Stage(StrEnum):
    """Where a request is. Several stages may belong to one SOP step (step A3 has two hops)."""

    HEAD_REVIEW = "head_review"
    DIVISION_REVIEW = "division_review"
    TEAM_ASSIGN = "team_assign"
    COMPLETENESS = "completeness"
    RETURNED = "returned"  # back with the requester (step A1 again); officials' clock paused
    REGISTRATION = "registration"
    REPORT = "report"
    FORWARD = "forward"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class StageInfo:
    stage: Stage
    step: str  # SOP step code
    holder: Role | None  # who holds the request in this stage
    label: str  # short Indonesian label for timelines


STAGES: dict[Stage, StageInfo] = {
    s.stage: s
    for s in (
        StageInfo(Stage.HEAD_REVIEW, "A2", Role.HEAD, "Disposisi Kepala Diskominfo"),
        StageInfo(Stage.DIVISION_REVIEW, "A3", Role.DIVISION_HEAD, "Disposisi Kepala Bidang E-Government"),
        StageInfo(Stage.TEAM_ASSIGN, "A3", Role.TEAM_LEAD, "Penugasan oleh Ketua Tim Aplikasi"),
        StageInfo(Stage.COMPLETENESS, "A4", Role.EXECUTOR, "Pemeriksaan kelengkapan"),
        StageInfo(Stage.RETURNED, "A1", Role.REQUESTER, "Dikembalikan kepada pemohon"),
        StageInfo(Stage.REGISTRATION, "A5", Role.EXECUTOR, "Pendaftaran akun SPLP"),
        StageInfo(Stage.REPORT, "A6", Role.EXECUTOR, "Penyusunan laporan kegiatan"),
        StageInfo(Stage.FORWARD, "A7", Role.HEAD, "Penerusan laporan kepada pemohon"),
        StageInfo(Stage.DONE, "A7", None, "Selesai"),
        StageInfo(Stage.CANCELLED, "A1", None, "Dibatalkan"),
    )
}

# The disposition chain of steps 2-3: each stage hands over to the next.
# The last hop (TEAM_ASSIGN) names one executor.
DISPOSITION_CHAIN: tuple[Stage, ...] = (
    Stage.HEAD_REVIEW,
    Stage.DIVISION_REVIEW,
    Stage.TEAM_ASSIGN,
    Stage.COMPLETENESS,
)

OPEN_STAGES = frozenset(
    {Stage.HEAD_REVIEW, Stage.DIVISION_REVIEW, Stage.TEAM_ASSIGN, Stage.COMPLETENESS,
     Stage.REGISTRATION, Stage.REPORT, Stage.FORWARD}
)
CLOSED_STAGES = frozenset({Stage.DONE, Stage.CANCELLED})


def stage_step(stage: Stage) -> Step:
    return STEPS[STAGES[stage].step]


def stage_holder(stage: Stage) -> Role | None:
    return STAGES[stage].holder


# Step A4's requirement, item by item (the executor ticks the missing ones).
class RequiredItem(StrEnum):
    CONTACT_NAME = "contact_name"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"
    BUSINESS_PROCESS = "business_process"


REQUIRED_ITEMS: tuple[RequiredItem, ...] = tuple(RequiredItem)

# Default disposition instructions (configurable; the first is the default).
DEFAULT_INSTRUCTIONS: tuple[str, ...] = (
    "Untuk ditindaklanjuti",
    "Segera",
    "Untuk diketahui",
    "Proses sesuai prosedur",
    "Koordinasikan",
)
