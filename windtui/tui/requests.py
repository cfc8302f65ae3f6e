"""Plain requests that the console's forms, command line and palette hand to the app.

Forms and the command line never call services themselves for writes: they dismiss with one of
these, and ``WindApp.perform(request)`` runs it through the ``Desk`` in a thread worker, shows the
outcome (toast or one-line error) and refreshes the panes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from windtui.domain.model import Action, Category, Priority


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


DeskRequest = ActionRequest | AssignRequest | NewTicketRequest | ReclassifyRequest | NoteRequest
