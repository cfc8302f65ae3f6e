"""``DeskState``: what the main screen's widgets read. The app owns it and is its only writer.

It holds plain records (tickets keyed by id, technicians) and the domain ``SlaBoard``; widgets
never reach the database. ``now`` is the instant of the last 1 Hz tick (from the injected clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from windtui.domain.model import Clock, Target
from windtui.services.records import TechnicianRecord, TicketSnapshot

if TYPE_CHECKING:
    from windtui.domain.refresh import BoardCounts


class Board(Protocol):
    """The part of ``windtui.domain.refresh.SlaBoard`` the widgets use."""

    counts: BoardCounts

    def clocks(self, ticket_id: int, now: datetime) -> tuple[Clock, ...]: ...
    def next_due(self, ticket_id: int) -> tuple[Target, datetime] | None: ...
    def nearest(self, limit: int, now: datetime) -> list[tuple[int, Clock]]: ...


@dataclass
class DeskState:
    """Tickets, technicians and SLA board as the console currently knows them."""

    board: Board
    tickets: dict[int, TicketSnapshot] = field(default_factory=dict)
    technicians: list[TechnicianRecord] = field(default_factory=list)
    farms: frozenset[str] = frozenset()
    """Every farm code in the database (loaded with the tickets), for the filter's farm check."""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    timezone: str = "Asia/Shanghai"
    loaded: bool = False
    plans: int = 0
    """Bumped by the app whenever the board's plans may have changed (load, upsert, remove,
    new policy): views that cache an order by due instant recompute it when this moves."""
