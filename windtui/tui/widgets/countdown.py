"""The countdown pane: the nearest deadlines across all open tickets, and stopped turbines.

One line per clock, ordered by time left: the remaining time (``h:mm:ss`` under an hour,
``+0:12:03`` counting up once breached) comes first — it is what changes every second — then the
ticket, the target, a percent bar and the state or hold reason. Below, turbines that are stopped,
with their downtime counting up (downtime never pauses).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from windtui.domain.lifecycle import is_turbine_down
from windtui.domain.model import Clock, ClockState
from windtui.domain.sla import downtime
from windtui.i18n import _
from windtui.tui.keymap import N_
from windtui.tui.widgets.cells import format_elapsed, percent_bar
from windtui.tui.widgets.queue import CLOCK_STYLE, remaining_text
from windtui.tui.widgets.state import DeskState
from windtui.tui.widgets.table import Cell, Column, LineTable

NEAREST_LIMIT = 200
"""How many deadlines the pane keeps (it scrolls); the board finds them without a full sort."""


class DeadlineList(LineTable):
    """Nearest deadlines; rows are ``(ticket_id, target)`` and are re-ranked every tick."""

    COLUMNS = (
        Column("left", N_("Left"), 10, align="right"),
        Column("no", N_("No."), 6, align="right"),
        Column("target", N_("Clock"), 8),
        Column("bar", N_("Used"), 10, drop=1),
        Column("state", N_("State"), 10, flex=True),
    )
    EMPTY_TEXT = N_("No running clocks")

    def __init__(self, state: DeskState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self._clocks: dict[Hashable, Clock] = {}

    def reload(self) -> None:
        """Re-rank from the board at the state's ``now``; repaints only lines that changed."""
        nearest = self.state.board.nearest(NEAREST_LIMIT, self.state.now)
        self._clocks = {(tid, clock.target): clock for tid, clock in nearest}
        keys = list(self._clocks)
        if keys != self.keys:
            self.replace_rows(keys)
        self.tick()

    @property
    def selected_ticket(self) -> int | None:
        """Ticket id of the selected line."""
        return self.cursor_key[0] if isinstance(self.cursor_key, tuple) else None

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        """Cells of one clock."""
        tid, _target = key  # type: ignore[misc]
        clock = self._clocks[key]
        ticket = self.state.tickets.get(tid)
        style = CLOCK_STYLE.get(clock.state)
        left = remaining_text(clock)
        reason = clock.hold_reason
        if clock.state is ClockState.PAUSED:
            note = _(reason.label) if reason else _(clock.state.label)
        elif reason is not None:  # breached before the hold: still overdue, and why it waits
            note = f"{_(clock.state.label)} · {_(reason.label)}"
        else:
            note = _(clock.state.label)
        width = next((w for c, w in self.columns() if c.key == "bar"), 0)
        return (
            (left, style),
            (str(ticket.number) if ticket else "?", None),
            (_(clock.target.label), None),
            (percent_bar(clock.percent_used, width), style),
            (note, style),
        )


class DowntimeList(LineTable, can_focus=False):
    """Stopped turbines, longest downtime first."""

    COLUMNS = (
        Column("down", N_("Down for"), 10, align="right"),
        Column("no", N_("No."), 6, align="right"),
        Column("turbine", N_("Turbine"), 10, flex=True),
    )
    EMPTY_TEXT = N_("No turbine is down")
    BINDINGS: ClassVar = []

    def __init__(self, state: DeskState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state

    def reload(self) -> None:
        """Recompute which turbines are down (after data changes) and repaint what changed."""
        down = [t for t in self.state.tickets.values() if is_turbine_down(t.timeline)]
        down.sort(key=lambda t: t.timeline.turbine_stopped_at)  # type: ignore[arg-type,return-value]
        keys = [t.id for t in down]
        if keys != self.keys:
            self.replace_rows(keys)
        self.tick()

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        """Cells of one stopped turbine."""
        t = self.state.tickets[key]  # type: ignore[index]
        gone = downtime(t.timeline, self.state.now)
        return (
            (format_elapsed(gone.seconds) if gone else "", "line-table--urgent"),
            (str(t.number), None),
            (t.turbine or t.farm, None),
        )


class CountdownPane(Vertical):
    """Deadlines on top, stopped turbines below."""

    DEFAULT_CSS = """
    CountdownPane > .pane-head { height: 1; color: $text-muted; text-style: bold; }
    CountdownPane > DowntimeList { height: auto; max-height: 6; }
    """

    def __init__(self, state: DeskState, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.state = state

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-head", id="deadline-head")
        yield DeadlineList(self.state, id="deadlines")
        yield Static("", classes="pane-head", id="downtime-head")
        yield DowntimeList(self.state, id="downtime")

    def on_mount(self) -> None:
        self.border_title = _("Deadlines")
        self.call_after_refresh(self.retitle)

    def on_resize(self) -> None:
        self.call_after_refresh(self.retitle)

    def retitle(self) -> None:
        """Header lines of both lists."""
        deadlines = self.query_one(DeadlineList)
        self.query_one("#deadline-head", Static).update(deadlines.header_text())
        down = self.query_one(DowntimeList)
        self.query_one("#downtime-head", Static).update(
            _("Turbines down: {count}").format(count=len(down.keys))
        )

    def tick(self) -> None:
        """Per-second update: re-rank deadlines, advance downtimes."""
        self.query_one(DeadlineList).reload()
        self.query_one(DowntimeList).tick()

    def data_changed(self) -> None:
        """Tickets changed: recompute the stopped-turbine list as well."""
        self.query_one(DowntimeList).reload()
        self.query_one(DeadlineList).reload()
        self.retitle()
