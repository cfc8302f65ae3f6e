"""Repair reports, QA reviews, satisfaction surveys, improvement actions and suggestions.

``before_step`` is called by ``Desk.act`` inside the action's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from windtui.domain.model import Action

if TYPE_CHECKING:
    from windtui.services.desk import Desk


def before_step(
    desk: Desk,
    row: Any,
    action: Action,
    *,
    at: datetime,
    reason: str | None,
    changes: dict[str, tuple[object, object]],
) -> None:
    """Check and write what ``action`` needs from the quality records (nothing yet)."""
