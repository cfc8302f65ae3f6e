"""Percent bars and remaining-time text for SLA clocks, plus a one-line clock widget.

The pure helpers (:func:`live_reading`, :func:`clock_line`, :func:`downtime_line`) build on the
console's cell helpers (``widgets/cells.py``) so every view formats time alike; the
:class:`ClockBar` widget renders one clock of a ticket's chain and can be re-rendered at 1 Hz
without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from windtui.domain.model import Clock, ClockState, Downtime
from windtui.i18n import _
from windtui.tui.widgets.cells import fit, format_elapsed, format_remaining, percent_bar

STATE_STYLES: dict[ClockState, str] = {
    ClockState.RUNNING: "green",
    ClockState.AT_RISK: "bold yellow",
    ClockState.BREACHED: "bold red",
    ClockState.PAUSED: "cyan",
    ClockState.MET: "dim green",
    ClockState.NOT_APPLICABLE: "dim",
}
"""Rich style of each clock state (kept in one place so every view colours clocks alike)."""

LIVE_STATES = frozenset({ClockState.RUNNING, ClockState.AT_RISK, ClockState.BREACHED})
"""States whose remaining time moves with the wall clock (paused/met/n-a clocks stand still)."""


def styled_bar(percent: float | None, width: int, style: str) -> Text:
    """The shared percent bar, filled part in ``style`` on a dim track."""
    bar = percent_bar(percent, width)
    filled = bar.rstrip(" ")
    text = Text(filled, style=style)
    text.append("░" * (width - cell_len(filled)), style="dim")
    return text


@dataclass(frozen=True, slots=True)
class Reading:
    """What one clock shows at an instant: its effective state, remaining time and percent."""

    state: ClockState
    remaining: float | None
    percent: float | None


def live_reading(clock: Clock, now: datetime) -> Reading:
    """Re-derive a loaded clock's remaining time at ``now`` without asking the SLA engine.

    Running clocks count down to ``due`` (wall time — cheap and exact for 24×7 calendars; for
    business calendars the next reload corrects the percentage). A running clock whose due time
    has passed is shown breached until the next reload confirms it.
    """
    if clock.state not in LIVE_STATES or clock.due is None:
        return Reading(clock.state, clock.remaining_seconds, clock.percent_used)
    remaining = (clock.due - now).total_seconds()
    percent = clock.percent_used
    if clock.target_seconds > 0 and clock.calendar == "24x7":
        percent = (clock.target_seconds - remaining) / clock.target_seconds * 100
    state = ClockState.BREACHED if remaining < 0 else clock.state
    return Reading(state, remaining, percent)


LABEL_CELLS = 12
BAR_CELLS = 20


def clock_line(clock: Clock, now: datetime, *, due_text: str = "") -> Text:
    """One line for a clock: label, bar, percent, remaining, state (and hold reason if paused)."""
    reading = live_reading(clock, now)
    style = STATE_STYLES[reading.state]
    line = Text(fit(_(clock.target.label), LABEL_CELLS), style="bold")
    line.append(" ")
    line.append_text(styled_bar(reading.percent, BAR_CELLS, style))
    percent = "" if reading.percent is None else f"{reading.percent:.0f}%"
    line.append(f" {percent:>5} ")
    # Met and not-started clocks have nothing left to count.
    shown = reading.state in LIVE_STATES or reading.state is ClockState.PAUSED
    remaining = format_remaining(reading.remaining) if shown else ""
    line.append(f"{remaining or '—':>9}", style=style)
    line.append("  ")
    line.append(fit(_(reading.state.label), 10), style=style)
    if reading.state is ClockState.PAUSED and clock.hold_reason is not None:
        line.append(" ")
        line.append(_("held: {reason}").format(reason=_(clock.hold_reason.label)), style="cyan")
    elif due_text:
        line.append(" ")
        line.append(due_text, style="dim")
    return line


def downtime_line(downtime: Downtime | None, now: datetime) -> Text:
    """The turbine downtime line: running total since the stop, or the final figure once back."""
    line = Text(fit(_("Downtime"), LABEL_CELLS), style="bold")
    line.append(" ")
    if downtime is None:
        line.append(_("turbine not stopped"), style="dim")
        return line
    if downtime.until is None:
        seconds = max(downtime.seconds, (now - downtime.since).total_seconds())
        line.append(format_elapsed(seconds), style="bold red")
        line.append("  ")
        line.append(_("turbine down"), style="red")
    else:
        line.append(format_elapsed(downtime.seconds), style="green")
        line.append("  ")
        line.append(_("turbine back in service"), style="green")
    return line


class ClockBar(Static):
    """One clock of a ticket's chain, re-rendered by :meth:`show` (no database access)."""

    DEFAULT_CSS = """
    ClockBar {
        height: 1;
        width: 1fr;
    }
    ClockBar.-breached { background: $error 15%; }
    ClockBar.-at_risk { background: $warning 10%; }
    """

    def show(self, clock: Clock, now: datetime, due_text: str = "") -> None:
        """Render ``clock`` as seen at ``now``; the state class allows CSS highlighting."""
        reading = live_reading(clock, now)
        for state in ClockState:
            self.set_class(state is reading.state, f"-{state.value}")
        self.update(clock_line(clock, now, due_text=due_text))
