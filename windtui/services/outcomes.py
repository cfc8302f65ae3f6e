"""The frozen outcomes of closed tickets that the KPI queries aggregate.

``after_step`` is called by ``Desk.act`` inside the action's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from windtui.domain.model import Action, TicketState

if TYPE_CHECKING:
    from windtui.services.desk import Desk


def after_step(
    desk: Desk, ticket_id: int, action: Action, state: TicketState, *, now: datetime
) -> None:
    """Record (on close/cancel) or drop (on reopen) the ticket's outcome rows (nothing yet)."""
