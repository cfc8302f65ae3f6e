"""Help for the focused pane: what it is for, its keys and the global keys.

Keys are read from the live ``active_bindings`` of the screen underneath (with its focus), so
keymap remaps and state-dependent actions show exactly as they work right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from windtui.i18n import _
from windtui.tui.commands import describe, is_console_binding
from windtui.tui.keymap import N_, translate_bindings

PANE_HELP: dict[str, tuple[str, str]] = {
    "queue": (
        N_("Ticket queue"),
        N_(
            "Open tickets, most urgent SLA first. Move with j/k, Enter opens the ticket, "
            "the action keys work on the highlighted ticket, / filters."
        ),
    ),
    "board": (
        N_("Technician board"),
        N_(
            "Who is available, travelling or on site, their base and current ticket. "
            "Pick a technician here to dispatch or reassign."
        ),
    ),
    "sla": (
        N_("SLA countdown"),
        N_(
            "The clocks closest to breach across all open tickets, refreshed every second. "
            "Yellow is at risk, red is breached; paused clocks show their hold reason."
        ),
    ),
    "detail": (
        N_("Ticket detail"),
        N_(
            "Every field of one ticket, its seven SLA clocks, turbine downtime, holds with "
            "evidence and the event log in the farm's local time. The keys below run the "
            "actions the ticket's state allows."
        ),
    ),
    "jobs": (
        N_("My jobs"),
        N_(
            "Your tickets with their on-site and repair clocks, and the selected job's turbine, "
            "farm, contact, access notes and timeline in the farm's local time. The step keys "
            "work on the selected job; a step its state does not allow says why. n adds a work "
            "note; Enter moves into the facts to scroll them."
        ),
    ),
    "kpi": (
        N_("KPIs"),
        N_(
            "Every figure of the period against its target: the mark reads without colour "
            "(✓ met, ! at risk, ✗ missed, · no data). The chart shows the selected figure per "
            "week or month. Enter lists the tickets behind a figure, m only those against its "
            "target; [ and ] step the period, w switches weeks and months, / filters by farm, "
            "customer, team, technician, category and priority (farm:DBC tech:wangjg p:1)."
        ),
    ),
    "kpi_tickets": (
        N_("Tickets behind a figure"),
        N_(
            "The closed tickets a figure counts, with each one's own part of it: the clock's "
            "time against its limit, the survey score, the hold or downtime hours. Enter opens "
            "the ticket; m switches between all of them and those against the target."
        ),
    ),
    "quality": (
        N_("Improvements and suggestions"),
        N_(
            "Analysis items (opened by low survey scores) and improvement actions with their "
            "owner, due date and status, and the customer suggestions register with its "
            "adoption rate. 1 and 2 (or Tab) switch registers, f cycles the status filter, "
            "a adds, s changes the status (an improvement also its owner, due date or a note), "
            "Enter opens the ticket behind an item."
        ),
    ),
    "filter": (
        N_("Filter"),
        N_(
            "Type to narrow the list; words match number, farm, turbine, title and owner. "
            "Enter keeps the filter, Esc clears it."
        ),
    ),
}
"""Pane id -> (English title msgid, English purpose msgid)."""

_GENERIC = (
    N_("Dispatch console"),
    N_(
        "Keyboard-first service desk for wind-turbine tickets. Ctrl+P lists every command, "
        "':' opens the command line."
    ),
)


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One help row: keys (joined with '/'), description, and whether it is global."""

    keys: str
    description: str
    is_global: bool


PANE_NAMESPACES = frozenset({"ticket", "view", "jobs", "kpi"})
"""Screen bindings with these id prefixes act on the focused pane or its selected ticket (action
keys, Enter, sort, the queue filter): help lists them under "Keys here"."""


def is_global_binding(node: object, binding: Binding) -> bool:
    """Whether ``binding`` (defined on ``node``) is app-wide rather than a key of the pane.

    The app's bindings and the screen's own navigation keys (help, command line, pane switching,
    back, quit) are global; the focused widget's keys and the ticket keys are the pane's.
    """
    if isinstance(node, App):
        return True
    if not isinstance(node, Screen):
        return False
    return (binding.id or "").split(".", 1)[0] not in PANE_NAMESPACES


def collect_keys(screen: Screen[object]) -> list[KeyHelp]:
    """Rows for every described binding active on ``screen``.

    Each row appears once: keys of one action are merged, and so are bindings that read the same
    in the same section (``q`` on the screen and ``Ctrl+Q`` on the app both quit).
    """
    app = screen.app
    rows: dict[tuple[bool, str], list[str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or not is_console_binding(binding):
            continue
        key = app.get_key_display(binding)
        keys = rows.setdefault((is_global_binding(active.node, binding), describe(binding)), [])
        if key not in keys:
            keys.append(key)
    return [KeyHelp("/".join(keys), text, is_global) for (is_global, text), keys in rows.items()]


def _keys_table(rows: list[KeyHelp]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for row in rows:
        table.add_row(row.keys, row.description)
    return table


class HelpScreen(ModalScreen[None]):
    """Help for pane ``pane_id``: purpose paragraph, pane keys, global keys."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-box {
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $accent; width: 1fr; }
    HelpScreen #help-purpose { margin: 1 0; }
    HelpScreen .help-section { color: $accent; text-style: bold; width: 1fr; }
    HelpScreen #help-scroll { height: auto; max-height: 30; }
    HelpScreen #help-hint { color: $text-muted; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", N_("Close help"), id="help.close"),
    ]

    def __init__(self, pane_id: str | None = None, *, under: Screen[object] | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self.pane_id = pane_id
        self._under = under

    def _screen_below(self) -> Screen[object] | None:
        if self._under is not None:
            return self._under
        stack = self.app.screen_stack
        if self in stack:
            index = stack.index(self)
            return stack[index - 1] if index > 0 else None
        return stack[-1] if stack else None  # composed before being pushed

    def compose(self) -> ComposeResult:
        title, purpose = PANE_HELP.get(self.pane_id or "", _GENERIC)
        below = self._screen_below()
        rows = collect_keys(below) if below is not None else []
        pane_rows = [r for r in rows if not r.is_global]
        global_rows = [r for r in rows if r.is_global]
        with Vertical(id="help-box"):
            yield Label(_("Help — {title}").format(title=_(title)), id="help-title")
            yield Static(_(purpose), id="help-purpose")
            with VerticalScroll(id="help-scroll"):
                yield Label(_("Keys here"), classes="help-section")
                yield Static(
                    _keys_table(pane_rows) if pane_rows else Text(_("none"), style="dim"),
                    id="help-pane-keys",
                )
                yield Label(_("Global keys"), classes="help-section")
                yield Static(
                    _keys_table(global_rows) if global_rows else Text(_("none"), style="dim"),
                    id="help-global-keys",
                )
            yield Static(_("Esc or ? closes · Ctrl+P lists every command"), id="help-hint")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
