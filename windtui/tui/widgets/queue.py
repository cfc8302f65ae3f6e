"""The ticket queue: every open ticket, sortable and filterable, live at 1 Hz.

Columns (left to right): time left on the next clock, number, priority, farm/turbine, category,
title, state with hold marker (‖), the next clock's target, owner. The time-left column comes
first on purpose: it is the only one that changes every second, and Textual resends a changed
span from the widget's left edge, so a tick costs ~10 cells per changed row over SSH.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from windtui.domain.model import Clock, ClockState, Priority, TicketState
from windtui.i18n import _, current_language
from windtui.services.records import TicketSnapshot
from windtui.tui.filtering import FilterError, TicketFilter, parse_filter
from windtui.tui.keymap import N_
from windtui.tui.plain import plain
from windtui.tui.widgets.cells import HOUR, fit, format_remaining, next_clock
from windtui.tui.widgets.state import DeskState
from windtui.tui.widgets.table import Cell, Column, LineTable

CLOCK_STYLE = {
    ClockState.RUNNING: "line-table--running",
    ClockState.AT_RISK: "line-table--at-risk",
    ClockState.BREACHED: "line-table--breached",
    ClockState.PAUSED: "line-table--paused",
    ClockState.MET: "line-table--met",
}
PAUSE_MARK = "‖"
RISK_MARK = "!"
STATE_MARKS = {ClockState.PAUSED: PAUSE_MARK, ClockState.AT_RISK: RISK_MARK}
"""Text markers of a clock's state before its time left (breached has its ``+``): the state
reads without colour (NO_COLOR, monochrome SSH clients). A marker stays while the state lasts,
so a tick still only changes the trailing digits."""


def remaining_text(clock: Clock) -> str:
    """Time left on ``clock`` for the list panes, with its state marker."""
    text = format_remaining(clock.remaining_seconds, seconds_within=HOUR)
    return STATE_MARKS.get(clock.state, "") + text


FILTER_DEBOUNCE_S = 0.15
"""The live filter applies this long after the last key typed (Enter applies at once)."""
STATIC_CACHE_ROWS = 4096
"""Formatted rows kept (LRU): a few screens of paging back and forth never reformat a row."""


def _due_key(state: DeskState) -> Callable[[TicketSnapshot], Any]:
    # Tickets without a running clock go after every due one.
    def key(t: TicketSnapshot) -> Any:
        due = state.board.next_due(t.id)
        return (0, due[1].timestamp()) if due else (1, 0.0)

    return key


def _tie_break(t: TicketSnapshot) -> int:
    """The secondary order of every sort, never reversed: the lowest ticket number first.

    Without it equal keys keep the order tickets arrived in, which differs from console to
    console (start-up load versus later polls).
    """
    return t.number


_PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}
_STATE_RANK = {s: i for i, s in enumerate(TicketState)}

# sort id -> (column title msgid, primary key factory). Cycled by ``s`` in this order. ``S``
# reverses only the primary key; ties stay in ``_tie_break`` order.
SORTS: dict[str, tuple[str, Callable[[DeskState], Callable[[TicketSnapshot], Any]]]] = {
    "due": (N_("Due"), _due_key),
    "number": (N_("No."), lambda s: _tie_break),
    "priority": (N_("P"), lambda s: lambda t: _PRIORITY_RANK[t.priority]),
    "farm": (N_("Farm/turbine"), lambda s: lambda t: t.turbine or t.farm),
    "category": (N_("Category"), lambda s: lambda t: t.category.value),
    "state": (N_("State"), lambda s: lambda t: _STATE_RANK[t.state]),
    "owner": (N_("Owner"), lambda s: lambda t: t.owner_name or t.owner or "\uffff"),
    "title": (N_("Title"), lambda s: lambda t: t.title.lower()),
}
_SORT_COLUMN = {
    "due": "due",
    "number": "no",
    "priority": "p",
    "farm": "where",
    "category": "cat",
    "state": "state",
    "owner": "owner",
    "title": "title",
}


class TicketQueue(LineTable):
    """Open tickets as lines; the cursor follows the ticket id through every refresh."""

    COLUMNS = (
        Column("due", N_("Due"), 10, align="right"),
        Column("no", N_("No."), 6, align="right"),
        Column("p", N_("P"), 2, fit_title=True),
        Column("where", N_("Farm/turbine"), 9),
        Column("cat", N_("Category"), 8, drop=2),
        Column("title", N_("Title"), 14, flex=True),
        Column("state", N_("State"), 12),
        Column("target", N_("Clock"), 8, drop=3),
        Column("owner", N_("Owner"), 8, drop=1),
    )
    EMPTY_TEXT = N_("No open tickets match")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", N_("Sort"), id="view.sort"),
        Binding("S", "reverse_sort", N_("Reverse sort"), show=False, id="view.sort_reverse"),
    ]

    class ViewChanged(Message):
        """Sort, filter or the number of rows changed (the pane retitles itself)."""

    def __init__(self, state: DeskState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.filter: TicketFilter = parse_filter("")
        self.sort_by = "due"
        self.sort_reverse = False
        self._ordered: dict[tuple[str, bool], list[int]] = {}
        """Every ticket id sorted per (sort, reverse), valid while ``state.plans`` is unchanged."""
        self._ordered_plans = -1
        """``state.plans`` when ``_ordered`` was computed."""
        self._static: LRUCache[tuple[Hashable, int, str], tuple[Cell, ...]] = LRUCache(
            STATIC_CACHE_ROWS
        )
        """Formatted cells that do not depend on the clock, by (ticket id, version, language)."""
        self._farms: frozenset[str] = frozenset()
        self._farms_marker: tuple[int, int, int] | None = None
        """(``state.plans``, id and size of ``state.tickets``) when ``_farms`` was computed."""

    # -- view ---------------------------------------------------------------------------------
    def data_changed(self) -> None:
        """The tickets (or their SLA plans) changed: forget the sorted orders, then rebuild."""
        self._ordered.clear()
        self.rebuild()

    def _sorted_ids(self) -> list[int]:
        """Every open ticket id in the current sort order (cached until the board's plans
        change: a replan moves due instants even when no ticket was added or removed)."""
        if self._ordered_plans != self.state.plans:
            self._ordered.clear()
            self._ordered_plans = self.state.plans
        order = (self.sort_by, self.sort_reverse)
        ids = self._ordered.get(order)
        if ids is None:
            # Two stable passes: the tie-break ascending, then the primary key (reversed or
            # not; ``reverse`` keeps equal keys in their order), so ``S`` never flips the ties.
            key = SORTS[self.sort_by][1](self.state)
            tickets = sorted(self.state.tickets.values(), key=_tie_break)
            tickets.sort(key=key, reverse=self.sort_reverse)
            ids = self._ordered[order] = [t.id for t in tickets]
        return ids

    def rebuild(self) -> None:
        """Re-filter and re-sort every ticket (after a data, filter or sort change).

        Filtering keeps the cached sort order, so a new filter costs one pass over the tickets.
        """
        ids = self._sorted_ids()
        if self.filter.active:
            tickets, matches = self.state.tickets, self.filter.matches
            ids = [i for i in ids if matches(tickets[i])]
        self.set_rows(list(ids))
        self.post_message(self.ViewChanged())

    def known_farms(self) -> frozenset[str]:
        """The farm codes the console knows: the fleet loaded with the tickets, plus the farms of
        the open tickets (a farm added since the load). Cached until the tickets change.
        """
        marker = (self.state.plans, id(self.state.tickets), len(self.state.tickets))
        if self._farms_marker != marker:
            self._farms = self.state.farms | {t.farm for t in self.state.tickets.values()}
            self._farms_marker = marker
        return self._farms

    def set_filter(self, text: str) -> None:
        """Apply a filter line; raises FilterError and keeps the old filter when it is bad
        (including a ``farm:`` value that names no loaded farm)."""
        self.filter = parse_filter(text, farms=self.known_farms())
        self.rebuild()

    filter_applied_at: float | None = None
    """``perf_counter`` when the last debounced live filter started (the benchmark reads it)."""

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        names = list(SORTS)
        self.sort_by = names[(names.index(self.sort_by) + 1) % len(names)]
        self.rebuild()

    def action_reverse_sort(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse
        self.rebuild()

    def header_text(self) -> str:
        """Column titles, with ▲/▼ on the sort column.

        The arrow has a cell of its own (the title is cropped to the rest), so a narrow column
        ("Categor…") still says it is the sort column.
        """
        mark = "▼" if self.sort_reverse else "▲"
        sorted_column = _SORT_COLUMN[self.sort_by]
        parts = []
        for column, width in self.columns():
            title = _(column.title)
            if column.key == sorted_column:
                parts.append(fit(title, width - 1, column.align) + mark)
            else:
                parts.append(fit(title, width, column.align))
        return " ".join(parts)

    @property
    def selected(self) -> TicketSnapshot | None:
        """The ticket under the cursor."""
        return self.state.tickets.get(self.cursor_key) if self.cursor_key is not None else None

    # -- rows ---------------------------------------------------------------------------------
    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        """Cells of one ticket at the state's ``now``: the clock's two, then the cached rest."""
        t = self.state.tickets[key]  # type: ignore[index]
        due_next = self.state.board.next_due(t.id)
        clock = next_clock(
            self.state.board.clocks(t.id, self.state.now), due_next[0] if due_next else None
        )
        if clock is None:
            due: Cell = ("", None)
            target: Cell = ("", None)
        else:
            due = (remaining_text(clock), CLOCK_STYLE.get(clock.state))
            target = (_(clock.target.label), None)
        no, p, where, cat, title, state, owner = self._static_cells(t)
        return (due, no, p, where, cat, title, state, target, owner)

    def _static_cells(self, t: TicketSnapshot) -> tuple[Cell, ...]:
        """The cells that change only with the ticket's version (or the language)."""
        cache_key = (t.id, t.version, current_language())
        cells = self._static.get(cache_key)
        if cells is None:
            state_text = _(t.state.label)
            if t.hold is not None:
                state_text = f"{PAUSE_MARK}{_(t.hold.label)}·{state_text}"
            cells = (
                (str(t.number), None),
                (t.priority.value, "line-table--urgent" if t.priority is Priority.P1 else None),
                (t.turbine or t.farm, None),
                (_(t.category.label), "line-table--dim"),
                (t.title, None),
                (state_text, "line-table--paused" if t.hold else None),
                (t.owner_name or t.owner or "—", "line-table--dim" if not t.owner else None),
            )
            self._static[cache_key] = cells
        return cells


class QueuePane(Vertical):
    """The queue with its header line and the ``/`` filter input."""

    DEFAULT_CSS = """
    QueuePane > .pane-head { height: 1; color: $text-muted; text-style: bold; }
    QueuePane > Input { display: none; height: 3; }
    QueuePane > Input.-open { display: block; }
    """

    def __init__(self, state: DeskState, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.state = state
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-head", id="queue-head")
        yield TicketQueue(self.state, id="queue")
        yield Input(
            placeholder=_("filter: p:1 farm:DBC state:onsite hold:weather text…"), id="queue-filter"
        )

    @property
    def queue(self) -> TicketQueue:
        """The queue widget."""
        return self.query_one(TicketQueue)

    def on_mount(self) -> None:
        self.retitle()

    def on_resize(self) -> None:
        self.call_after_refresh(self.retitle)

    @on(TicketQueue.ViewChanged)
    def retitle(self) -> None:
        """Header line and border title: counts, sort and filter."""
        queue = self.queue
        self.query_one("#queue-head", Static).update(queue.header_text())
        title = _("Queue {shown}/{total}").format(
            shown=len(queue.keys), total=len(self.state.tickets)
        )
        if queue.filter.active:
            title += "  /" + queue.filter.text
        self.border_title = plain(title)  # the filter is typed text: never markup

    def open_filter(self) -> None:
        """Show the filter input with the current filter, focused."""
        box = self.query_one(Input)
        box.value = self.queue.filter.text
        box.add_class("-open")
        # Focus now, not via ``focus()`` (deferred with call_later): keys typed right after "/"
        # are already queued and must land in the filter, not fire queue actions ("r" in "farm"
        # would resume the highlighted ticket).
        self.app.set_focus(box)

    def close_filter(self) -> None:
        """Hide the filter input and focus the queue again."""
        box = self.query_one(Input)
        box.remove_class("-open")
        self.app.set_focus(self.queue)  # at once: the next key typed is a queue key again

    @on(Input.Changed, "#queue-filter")
    def _live_filter(self, event: Input.Changed) -> None:
        # Filter as you type, FILTER_DEBOUNCE_S after the last key: a filter pass over 10,000
        # tickets must not run (and block the loop) between two keys of one word.
        if self._debounce is not None:
            self._debounce.stop()
        self.queue.filter_applied_at = None
        self._debounce = self.set_timer(FILTER_DEBOUNCE_S, self._apply_typed_filter)

    def _apply_typed_filter(self) -> None:
        """The debounced live filter: a half-typed term that does not parse yet is not applied."""
        self._debounce = None
        box = self.query_one(Input)
        self.queue.filter_applied_at = time.perf_counter()
        if box.value == self.queue.filter.text:
            return
        try:
            self.queue.set_filter(box.value)
        except FilterError:
            return
        box.border_subtitle = ""

    @on(Input.Submitted, "#queue-filter")
    def _submit_filter(self, event: Input.Submitted) -> None:
        if self._debounce is not None:  # Enter applies now; the pending live filter is moot
            self._debounce.stop()
            self._debounce = None
        try:
            if event.value != self.queue.filter.text:  # the live filter may have applied it
                self.queue.set_filter(event.value)
        except FilterError as error:
            event.input.border_subtitle = plain(str(error))  # it quotes the typed term
            return
        self.close_filter()

    def on_key(self, event: Any) -> None:
        if event.key == "escape" and self.query_one(Input).has_class("-open"):
            event.stop()
            self.close_filter()
