"""Plain records that services hand to the CLI and the console (never Peewee models).

The console keeps :class:`TicketSnapshot` objects keyed by ticket id and feeds their timelines to
the domain's ``SlaBoard``, so a 1 Hz tick needs no database work at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
