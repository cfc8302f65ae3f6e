"""Plain records that services hand to the CLI and the console (never Peewee models).

The console keeps :class:`TicketSnapshot` objects keyed by ticket id and feeds their timelines to
the domain's ``SlaBoard``, so a 1 Hz tick needs no database work at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from windtui.domain.model import (
    Action,
    Category,
    Clock,
    Downtime,
    HoldReason,
    Priority,
    TicketState,
    Timeline,
)


@dataclass(frozen=True, slots=True)
class FarmRecord:
    """A wind farm as the desk sees it."""

    code: str
    name_zh: str
    name_en: str
    province: str
    timezone: str
    offshore: bool
    calendar: str
    latitude: float
    longitude: float
    turbine_count: int = 0


@dataclass(frozen=True, slots=True)
class TurbineRecord:
    """A turbine, identified by ``<FARM>-<position>`` (e.g. ``DBC-A07``)."""

    id: str
    farm: str
    position: str
    model: str
    rated_kw: int
    commissioned: str
    warranty_end: str | None
    status: str


@dataclass(frozen=True, slots=True)
class TicketSnapshot:
    """One ticket's current state: enough to list it, filter it and run its SLA clocks."""

    id: int
    number: int
    version: int
    farm: str
    farm_timezone: str
    farm_calendar: str
    turbine: str | None
    category: Category
    priority: Priority
    state: TicketState
    title: str
    owner: str | None
    owner_name: str | None
    fault_code: str | None
    hold: HoldReason | None
    timeline: Timeline
    change_seq: int = 0


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row of the append-only event log."""

    seq: int
    actor: str
    action: str
    field: str | None
    old: str | None
    new: str | None
    occurred_at: datetime
    recorded_at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """One hold with its evidence."""

    reason: HoldReason
    start: datetime
    end: datetime | None
    evidence: str
    resume_note: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """Where a job is: the farm and turbine facts a crew needs (position, model, contact,
    access notes)."""

    farm: str
    farm_name_zh: str
    farm_name_en: str
    province: str
    province_en: str
    offshore: bool
    latitude: float
    longitude: float
    depot: str
    duty_contact: str
    phone: str
    access_notes: str
    turbine: str | None
    model: str | None
    rated_kw: int | None
    hub_height: float | None
    line: str | None
    turbine_status: str | None


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A staff member as ``windtui staff`` lists them."""

    login: str
    name_zh: str
    name_en: str
    roles: tuple[str, ...]
    os_logins: tuple[str, ...]
    active: bool
    base: str
    status: str
    phone: str


@dataclass(frozen=True, slots=True)
class TicketDetail:
    """Everything the detail view and ``ticket show`` print."""

    ticket: TicketSnapshot
    site: SiteRecord
    description: str
    reporter: str | None
    contact: str | None
    channel: str | None
    clocks: tuple[Clock, ...]
    downtime: Downtime | None
    events: tuple[EventRecord, ...]
    holds: tuple[HoldRecord, ...]
    allowed_actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class TechnicianRecord:
    """A technician on the board."""

    login: str
    name_zh: str
    name_en: str
    base: str
    status: str  # available, dispatched, en_route, on_site, off_shift, on_leave
    current_ticket: int | None
    skills: tuple[str, ...] = field(default_factory=tuple)
    roles: tuple[str, ...] = field(default_factory=tuple)
    certificate_warning: bool = False


# ---------------------------------------------------------------------------- quality (§三(3), 四)
# Inputs are plain dataclasses a console form fills in; the quality services
# (``windtui.services.quality``) validate them and hand back the records below.


@dataclass(frozen=True, slots=True)
class ReportPartInput:
    """One part used in a repair: part number, description, quantity (> 0)."""

    part_number: str
    description: str = ""
    quantity: float = 1.0


@dataclass(frozen=True, slots=True)
class ReportHoursInput:
    """One crew member's work hours on the repair (one line per person)."""

    staff: str  # staff login
    hours: float


@dataclass(frozen=True, slots=True)
class ReportInput:
    """The whole repair report as written (a save replaces the previous draft or revision)."""

    diagnosis: str = ""
    work_done: str = ""
    root_cause: str = ""
    fault_code_confirmed: str | None = None
    parts: tuple[ReportPartInput, ...] = ()
    hours: tuple[ReportHoursInput, ...] = ()
    fixed: bool | None = None  # the fault is gone (the fix rate)
    first_time_fix: bool | None = None  # fixed on the first visit (kept apart; needs fixed)
    attachments: tuple[str, ...] = ()  # file references as typed: never opened


@dataclass(frozen=True, slots=True)
class ReportPartRecord:
    part_number: str
    description: str
    quantity: float


@dataclass(frozen=True, slots=True)
class ReportHoursRecord:
    staff: str
    name_zh: str
    name_en: str
    hours: float


@dataclass(frozen=True, slots=True)
class RepairReportRecord:
    """A ticket's repair report; ``revision`` counts submissions (0: a draft never submitted),
    ``missing`` names the required fields still empty (what submission would refuse)."""

    ticket: int  # ticket number
    diagnosis: str
    work_done: str
    root_cause: str
    fault_code_confirmed: str | None
    parts: tuple[ReportPartRecord, ...]
    hours: tuple[ReportHoursRecord, ...]
    fixed: bool | None
    first_time_fix: bool | None
    attachments: tuple[str, ...]
    author: str
    revision: int
    submitted_at: datetime | None
    updated_at: datetime
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """A QA review: ``approved`` or ``returned`` (with the reason), of one report revision."""

    ticket: int
    revision: int
    outcome: str
    reason: str
    reviewer: str
    reviewed_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """The satisfaction follow-up of a ticket; ``analysis`` is the improvement item a low
    score opened (None otherwise)."""

    ticket: int
    score: int
    comments: str
    caller: str
    contacted_at: datetime
    channel: str
    recorded_at: datetime
    analysis: int | None = None


@dataclass(frozen=True, slots=True)
class ImprovementInput:
    """A new analysis item or improvement action."""

    title: str
    owner: str  # staff login
    due: date
    kind: str = "action"  # action | analysis
    category: str = "other"  # training, spare_parts, response, process, other
    parent: int | None = None  # the analysis item an action answers
    ticket: int | None = None  # ticket number
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ImprovementRecord:
    id: int
    kind: str
    title: str
    category: str
    owner: str | None
    owner_name_zh: str | None
    owner_name_en: str | None
    due: date | None
    status: str
    notes: str
    ticket: int | None  # ticket number
    parent: int | None
    survey_score: int | None  # the low score that opened an analysis item
    created_at: datetime
    closed_at: datetime | None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class SuggestionInput:
    """A customer suggestion as received."""

    source: str  # survey, site_visit, phone, email, meeting
    text: str
    received_on: date | None = None  # default: today
    customer: str | None = None  # customer code
    farm: str | None = None  # farm code
    ticket: int | None = None  # ticket number


@dataclass(frozen=True, slots=True)
class SuggestionRecord:
    id: int
    source: str
    received_on: date
    text: str
    status: str
    customer: str | None
    farm: str | None
    ticket: int | None
    decided_on: date | None
    decided_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AdoptionRate:
    """Suggestions received in ``start``..``end``: adopted / decided, decided = adopted +
    rejected (``rate`` None when none is decided yet); ``pending`` = new + evaluating."""

    start: date | None
    end: date | None
    received: int
    adopted: int
    rejected: int
    pending: int
    rate: float | None


@dataclass(frozen=True, slots=True)
class TicketQuality:
    """The quality records of one ticket: ``ticket show`` and the detail view print them."""

    report: RepairReportRecord | None
    reviews: tuple[ReviewRecord, ...]
    survey: SurveyRecord | None
    improvements: tuple[ImprovementRecord, ...]
