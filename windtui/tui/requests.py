"""Plain requests that the console's forms, command line and palette hand to the app.

Forms and the command line never call services themselves for writes: they dismiss with one of
these, and ``WindApp.perform(request)`` runs it through the ``Desk`` in a thread worker, shows the
outcome (toast or one-line error) and refreshes the panes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from windtui.domain.model import Action, Category, Priority
from windtui.services.records import ImprovementInput, ReportInput, SuggestionInput


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """Perform a lifecycle action on a ticket (``Desk.act``)."""

    number: int
    action: Action
    reason: str | None = None
    evidence: str | None = None
    technician: str | None = None
    at: datetime | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class AssignRequest:
    """(Re)assign a ticket to a technician without changing its state (``Desk.assign``)."""

    number: int
    technician: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class NewTicketRequest:
    """Create a ticket (``Desk.create_ticket``)."""

    farm: str
    category: Category
    priority: Priority
    title: str
    turbine: str | None = None
    description: str = ""
    fault_code: str | None = None
    reporter: str | None = None
    contact: str | None = None
    channel: str | None = None
    turbine_stopped: bool = False


@dataclass(frozen=True, slots=True)
class ReclassifyRequest:
    """Change a ticket's priority and/or category, with a reason (``Desk.reclassify``).

    None leaves that field as it is; the desk refuses a request that changes nothing.
    """

    number: int
    reason: str
    priority: Priority | None = None
    category: Category | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class NoteRequest:
    """Add a free-text work note to a ticket's timeline (``Desk.add_note``)."""

    number: int
    text: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """Save a ticket's repair report (``quality.write_report``), then with ``submit`` hand it to
    QA (``Desk.act(submit)``)."""

    number: int
    report: ReportInput
    submit: bool = False
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SurveyRequest:
    """Record (or correct) a ticket's satisfaction survey (``quality.record_survey``), then with
    ``followup`` record the follow-up step (``Desk.act(followup)``)."""

    number: int
    score: int
    comments: str = ""
    channel: str = "phone"
    caller: str | None = None  # None: the person at the console
    contacted_at: datetime | None = None  # None: now
    followup: bool = False
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ImprovementRequest:
    """Open an analysis item or improvement action (``quality.add_improvement``)."""

    item: ImprovementInput


@dataclass(frozen=True, slots=True)
class ImprovementUpdateRequest:
    """Move an improvement item on, hand it over, move its due date or add a note
    (``quality.update_improvement``); None leaves that part as it is."""

    item_id: int
    status: str | None = None
    owner: str | None = None
    due: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SuggestionRequest:
    """Register a customer suggestion (``quality.add_suggestion``)."""

    item: SuggestionInput


@dataclass(frozen=True, slots=True)
class SuggestionStatusRequest:
    """Move a suggestion on: evaluating, adopted or rejected (``quality.set_suggestion_status``)."""

    item_id: int
    status: str


@dataclass(frozen=True, slots=True)
class ReloadRequest:
    """Nothing to write: a form already saved (it stays open until the desk accepts), so the
    screen behind it only reads ticket ``number`` again."""

    number: int


QualityRequest = (
    ReportRequest
    | SurveyRequest
    | ImprovementRequest
    | ImprovementUpdateRequest
    | SuggestionRequest
    | SuggestionStatusRequest
    | ReloadRequest
)
"""The requests of the quality records (run by ``windtui.tui.screens.quality.execute``)."""

DeskRequest = (
    ActionRequest
    | AssignRequest
    | NewTicketRequest
    | ReclassifyRequest
    | NoteRequest
    | QualityRequest
)
