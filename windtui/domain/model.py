"""The domain's vocabulary: enums and plain, immutable records shared by every layer.

Times here are timezone-aware ``datetime`` objects in UTC (a ``pendulum.DateTime`` is one too).
Display labels are English msgids; call :func:`windtui.i18n._` on ``.label`` to show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Target(StrEnum):
    """The seven SLA targets of the service policy's clock chain, in chain order."""

    ACKNOWLEDGE = "acknowledge"
    FEEDBACK = "feedback"
    ONSITE = "onsite"
    REPAIR = "repair"
    REPORT = "report"
    REVIEW = "review"
    FOLLOWUP = "followup"

    @property
    def label(self) -> str:
        return _TARGET_LABELS[self]


_TARGET_LABELS = {
    Target.ACKNOWLEDGE: "Acknowledge",
    Target.FEEDBACK: "Feedback",
    Target.ONSITE: "On site",
    Target.REPAIR: "Repair",
    Target.REPORT: "Report",
    Target.REVIEW: "Review",
    Target.FOLLOWUP: "Follow-up",
}


class ClockState(StrEnum):
    """State of one SLA clock at an instant."""

    RUNNING = "running"
    PAUSED = "paused"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return _CLOCK_STATE_LABELS[self]


_CLOCK_STATE_LABELS = {
    ClockState.RUNNING: "Running",
    ClockState.PAUSED: "Paused",
    ClockState.AT_RISK: "At risk",
    ClockState.BREACHED: "Breached",
    ClockState.MET: "Met",
    ClockState.NOT_APPLICABLE: "n/a",
}


class Category(StrEnum):
    """Ticket categories: the whole scope of policy §二(1) and §一(3)."""

    FAULT = "fault"
    MAINTENANCE = "maintenance"
    UPGRADE = "upgrade"
    CONSULTING = "consulting"
    DATA_ANALYSIS = "data_analysis"
    INFRASTRUCTURE = "infrastructure"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]

    @property
    def needs_site_visit(self) -> bool:
        """Consulting and data-analysis tickets never wait for a site visit (policy §二(2))."""
        return self not in (Category.CONSULTING, Category.DATA_ANALYSIS)


_CATEGORY_LABELS = {
    Category.FAULT: "Fault repair",
    Category.MAINTENANCE: "Scheduled maintenance",
    Category.UPGRADE: "Upgrade/retrofit",
    Category.CONSULTING: "Technical consulting",
    Category.DATA_ANALYSIS: "Data monitoring/analysis",
    Category.INFRASTRUCTURE: "Farm infrastructure",
}


class Priority(StrEnum):
    """P1 safety or farm/string down … P4 planned work or consulting."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def label(self) -> str:
        return _PRIORITY_LABELS[self]


_PRIORITY_LABELS = {
    Priority.P1: "P1 critical",
    Priority.P2: "P2 turbine stopped",
    Priority.P3: "P3 derated/alarm",
    Priority.P4: "P4 planned",
}


class TicketState(StrEnum):
    """Lifecycle states, in the order of the policy's service flow (§三)."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    FEEDBACK_GIVEN = "feedback_given"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    REPORT_SUBMITTED = "report_submitted"
    REVIEWED = "reviewed"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Open tickets are everything not closed or cancelled."""
        return self not in (TicketState.CLOSED, TicketState.CANCELLED)


_STATE_LABELS = {
    TicketState.RECEIVED: "Received",
    TicketState.ACKNOWLEDGED: "Acknowledged",
    TicketState.FEEDBACK_GIVEN: "Feedback given",
    TicketState.DISPATCHED: "Dispatched",
    TicketState.EN_ROUTE: "En route",
    TicketState.ON_SITE: "On site",
    TicketState.RESOLVED: "Resolved",
    TicketState.REPORT_SUBMITTED: "Report submitted",
    TicketState.REVIEWED: "Reviewed",
    TicketState.FOLLOWED_UP: "Followed up",
    TicketState.CLOSED: "Closed",
    TicketState.CANCELLED: "Cancelled",
}


class HoldReason(StrEnum):
    """Why work is held; each may pause different clocks (see the policy file)."""

    WEATHER = "weather"
    PARTS = "parts"
    CRANE_VESSEL = "crane_vessel"
    PERMIT = "permit"
    CUSTOMER_ACCESS = "customer_access"

    @property
    def label(self) -> str:
        return _HOLD_LABELS[self]


_HOLD_LABELS = {
    HoldReason.WEATHER: "Weather",
    HoldReason.PARTS: "Waiting for parts",
    HoldReason.CRANE_VESSEL: "Waiting for crane/vessel",
    HoldReason.PERMIT: "Waiting for permit",
    HoldReason.CUSTOMER_ACCESS: "Customer/access",
}


class Action(StrEnum):
    """Everything a desk can do to a ticket. CLI: ``windtui ticket act NUMBER <action>``."""

    ACK = "ack"
    FEEDBACK = "feedback"
    DISPATCH = "dispatch"
    DEPART = "depart"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    SUBMIT = "submit"  # repair report submitted
    APPROVE = "approve"  # report reviewed and accepted
    RETURN = "return"  # report returned for rework
    FOLLOWUP = "followup"  # satisfaction follow-up done
    CLOSE = "close"
    HOLD = "hold"
    RESUME = "resume"
    CANCEL = "cancel"
    REOPEN = "reopen"
    RESTORE = "restore"  # the stopped turbine is back in service (ends the downtime clock)

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.ACK: "Acknowledge",
    Action.FEEDBACK: "Give feedback",
    Action.DISPATCH: "Dispatch",
    Action.DEPART: "Depart",
    Action.ARRIVE: "Arrive on site",
    Action.RESOLVE: "Resolve",
    Action.SUBMIT: "Submit report",
    Action.APPROVE: "Approve report",
    Action.RETURN: "Return for rework",
    Action.FOLLOWUP: "Follow-up done",
    Action.CLOSE: "Close",
    Action.HOLD: "Hold",
    Action.RESUME: "Resume",
    Action.CANCEL: "Cancel",
    Action.REOPEN: "Reopen",
    Action.RESTORE: "Turbine restored",
}


class Role(StrEnum):
    """Staff roles; a person may hold several. What each may do: ``windtui.domain.roles``."""

    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    QA = "qa"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.DISPATCHER: "Dispatcher",
    Role.TECHNICIAN: "Technician",
    Role.QA: "QA",
    Role.SUPERVISOR: "Supervisor",
    Role.ADMIN: "Administrator",
    Role.VIEWER: "Viewer",
}


@dataclass(frozen=True, slots=True)
class HoldSpan:
    """One hold from the ticket's hold history. ``end`` is None while the hold is open."""

    reason: HoldReason
    start: datetime
    end: datetime | None = None
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything the SLA engine needs to know about one ticket (all instants UTC-aware).

    Milestones belong to the current service cycle. A reopen sets ``reopened_at`` and clears the
    milestones after acknowledgement/feedback (their old values stay in the event log). A report
    returned for rework clears ``report_at`` and sets ``report_returned_at``.
    """

    category: Category
    priority: Priority
    received_at: datetime
    contract: str | None = None
    acknowledged_at: datetime | None = None
    feedback_at: datetime | None = None
    dispatched_at: datetime | None = None
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    resolved_at: datetime | None = None
    report_at: datetime | None = None
    report_returned_at: datetime | None = None
    reviewed_at: datetime | None = None
    followup_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    reopened_at: datetime | None = None
    holds: tuple[HoldSpan, ...] = ()
    turbine_stopped_at: datetime | None = None
    turbine_restored_at: datetime | None = None


#: Every ``datetime`` field of :class:`Timeline`, in declaration order (receipt, the workflow
#: milestones, reopen, then the turbine's stop and restore). One list for every module that walks
#: a timeline's instants (SLA "as of now", last event, lifecycle change records), so a new
#: milestone cannot be forgotten in one of them; ``tests/domain/test_sla.py`` checks it against
#: the dataclass.
TIMELINE_INSTANTS: tuple[str, ...] = (
    "received_at",
    "acknowledged_at",
    "feedback_at",
    "dispatched_at",
    "departed_at",
    "arrived_at",
    "resolved_at",
    "report_at",
    "report_returned_at",
    "reviewed_at",
    "followup_at",
    "closed_at",
    "cancelled_at",
    "reopened_at",
    "turbine_stopped_at",
    "turbine_restored_at",
)


@dataclass(frozen=True, slots=True)
class Clock:
    """One SLA clock at an instant.

    ``state`` is one of the six :class:`ClockState` values. A clock whose start event has not
    happened yet (e.g. the report clock before resolution) has ``started=False``, state
    ``not_applicable`` and no due instant. ``remaining_seconds`` is business time (calendar hours
    minus pauses) and goes negative once breached. ``due`` for a paused clock is where it would
    fall if the hold ended now.
    """

    target: Target
    state: ClockState
    target_seconds: float
    started: bool = False
    start: datetime | None = None
    due: datetime | None = None
    elapsed_seconds: float = 0.0
    remaining_seconds: float | None = None
    percent_used: float | None = None
    met_at: datetime | None = None
    hold_reason: HoldReason | None = None
    calendar: str = "24x7"


@dataclass(frozen=True, slots=True)
class Downtime:
    """The turbine downtime clock: from the stop until the turbine is back; never pauses."""

    since: datetime
    until: datetime | None
    seconds: float
