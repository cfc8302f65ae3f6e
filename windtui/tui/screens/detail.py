"""The ticket detail screen: every field, the 7-clock SLA chain, downtime, holds, the event log,
and the actions the lifecycle allows right now (the queue's keys, and the ``m`` menu for all).

The ticket is read with ``app.desk.detail(number)`` in a thread worker. Clocks are re-rendered at
1 Hz from the loaded detail (running clocks count down to their ``due`` instant); the detail is
reloaded after each action and when a running clock crosses its due time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

import pendulum
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker

from windtui.domain.model import (
    Action,
    Category,
    ClockState,
    HoldReason,
    Priority,
    Target,
    TicketState,
)
from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.services import quality
from windtui.services.records import (
    EventRecord,
    FarmRecord,
    HoldRecord,
    TicketDetail,
    TicketQuality,
)
from windtui.tui.actions import (
    RECLASSIFY,
    bound_keys,
    entry_label,
    menu_entries,
    open_action_menu,
    run_ticket_action,
    ticket_bindings,
)
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.plain import plain
from windtui.tui.requests import DeskRequest
from windtui.tui.screens.forms import NewTicketForm, farm_name
from windtui.tui.screens.quality import has_records, quality_table
from windtui.tui.widgets.cells import format_elapsed
from windtui.tui.widgets.clockbar import ClockBar, downtime_line, live_reading

# Values of these event fields are enum codes; show their translated labels.
_FIELD_ENUMS: dict[str, type[TicketState | Priority | Category | HoldReason]] = {
    "state": TicketState,
    "priority": Priority,
    "category": Category,
    "hold": HoldReason,
    "hold_reason": HoldReason,
}


_EVENT_LABELS = {
    "create": N_("Created"),
    "assign": N_("Assigned"),
    "reclassify": N_("Reclassified"),
    "report": N_("Repair report"),
    "survey": N_("Satisfaction survey"),
    "improvement": N_("Improvement"),
    "suggestion": N_("Suggestion"),
}

_FIELD_LABELS = {
    "state": N_("State"),
    "priority": N_("Priority"),
    "category": N_("Category"),
    "hold": N_("Hold"),
    "owner": N_("Owner"),
    "title": N_("Title"),
    "turbine": N_("Turbine"),
    "acknowledged_at": N_("Acknowledged"),
    "feedback_at": N_("Feedback given"),
    "dispatched_at": N_("Dispatched"),
    "departed_at": N_("Departed"),
    "arrived_at": N_("Arrived"),
    "resolved_at": N_("Resolved"),
    "report_at": N_("Report submitted"),
    "report_returned_at": N_("Report returned"),
    "reviewed_at": N_("Reviewed"),
    "followup_at": N_("Followed up"),
    "closed_at": N_("Closed"),
    "cancelled_at": N_("Cancelled"),
    "reopened_at": N_("Reopened"),
    "turbine_stopped_at": N_("Turbine stopped"),
    "turbine_restored_at": N_("Turbine restored"),
    "report_revision": N_("Report revision"),
    "review": N_("QA review"),
    "score": N_("Score"),
    "comments": N_("Comments"),
    "caller": N_("Who called"),
    "channel": N_("Channel"),
    "contacted_at": N_("Contacted"),
    "analysis": N_("Analysis item"),
}
"""Event field name -> English msgid."""


def local_time(instant: datetime | None, tz: str, fmt: str = "YYYY-MM-DD HH:mm") -> str:
    """``instant`` shown in the farm's timezone (em dash when missing)."""
    if instant is None:
        return "—"
    return pendulum.instance(instant).in_timezone(tz).format(fmt)


def _value(field: str | None, value: str | None, tz: str) -> str:
    """An event's old/new value for display: enum labels, instants in the farm's time."""
    if value is None or value == "":
        return "—"
    enum = _FIELD_ENUMS.get(field or "")
    if enum is not None:
        try:
            return _(enum(value).label)
        except ValueError:
            return value
    if (field or "").endswith("_at"):
        try:
            return local_time(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    return value


def _event_what(action: str) -> str:
    try:
        return _(Action(action).label)
    except ValueError:
        return _(_EVENT_LABELS.get(action, action))


def fields_table(detail: TicketDetail, farm: FarmRecord | None) -> Table:
    """Every ticket field as a two-pair-per-row grid (Rich measures CJK by cell width).

    Values are :func:`plain` text: a ``str`` cell would be read as Rich markup.
    """
    t = detail.ticket
    table = Table.grid(padding=(0, 2))
    for _column in range(2):
        table.add_column(style="dim", no_wrap=True)
        table.add_column(max_width=60)
    farm_text = f"{t.farm} {farm_name(farm)}" if farm else t.farm
    owner = f"{t.owner_name} ({t.owner})" if t.owner and t.owner_name else (t.owner or "—")
    hold = _(t.hold.label) if t.hold else "—"
    pairs = [
        (_("Farm"), farm_text, _("Turbine"), t.turbine or "—"),
        (_("Category"), _(t.category.label), _("Priority"), _(t.priority.label)),
        (_("State"), _(t.state.label), _("Hold"), hold),
        (_("Owner"), owner, _("Fault code"), t.fault_code or "—"),
        (_("Reporter"), detail.reporter or "—", _("Contact"), detail.contact or "—"),
        (_("Channel"), detail.channel or "—", _("Timezone"), t.farm_timezone),
    ]
    for label, value, label2, value2 in pairs:
        table.add_row(label, plain(value), label2, plain(value2))
    table.add_row(_("Title"), plain(t.title, "bold"), "", "")
    table.add_row(_("Description"), plain(detail.description or "—", multiline=True), "", "")
    return table


def holds_table(holds: tuple[HoldRecord, ...], tz: str, now: datetime) -> RenderableType:
    """Every hold with its span, who set it, the evidence and the resume note."""
    if not holds:
        return Text(_("no holds"), style="dim")
    table = Table.grid(padding=(0, 2))
    for _column in range(5):
        table.add_column(no_wrap=True)
    table.columns[4].no_wrap = False
    table.columns[4].ratio = 1
    for hold in holds:
        end = hold.end or now
        span = (
            f"{local_time(hold.start, tz)} → {local_time(hold.end, tz) if hold.end else _('now')}"
        )
        note = plain(_("evidence: {text}").format(text=hold.evidence), multiline=True)
        if hold.resume_note:
            resumed = _("resumed: {text}").format(text=hold.resume_note)
            note.append_text(plain("  " + resumed, "dim", multiline=True))
        table.add_row(
            Text(_(hold.reason.label), style="cyan" if hold.end is None else ""),
            span,
            format_elapsed((end - hold.start).total_seconds()),
            plain(hold.actor),
            note,
        )
    return table


def events_table(events: tuple[EventRecord, ...], tz: str) -> RenderableType:
    """The event log: when (farm time), who, what, field old → new, note."""
    if not events:
        return Text(_("no events"), style="dim")
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
    table.add_column(_("When"), no_wrap=True)
    table.add_column(_("Who"), no_wrap=True)
    table.add_column(_("What"), no_wrap=True)
    table.add_column(_("Change"))
    table.add_column(_("Note"), ratio=1)
    for event in events:
        change = ""
        if event.field:
            old, new = _value(event.field, event.old, tz), _value(event.field, event.new, tz)
            if event.field in _FIELD_LABELS:
                label = _(_FIELD_LABELS[event.field])
            else:  # the repair report's fields (by the services' names), else as logged
                label = quality.label(event.field)
                label = _(event.field) if label == event.field else label
            change = f"{label}: {old} → {new}"
        table.add_row(  # actor, values and note are typed text: plain, never markup
            local_time(event.occurred_at, tz, "YYYY-MM-DD HH:mm:ss"),
            plain(event.actor),
            plain(_event_what(event.action)),
            plain(change),
            plain(event.note, multiline=True),
        )
    return table


class DetailScreen(Screen[None]):
    """Everything about one ticket, with its allowed actions on single keys."""

    DEFAULT_CSS = """
    DetailScreen { layout: vertical; }
    DetailScreen #detail-title {
        height: 1;
        width: 1fr;
        background: $primary 30%;
        text-style: bold;
        padding: 0 1;
    }
    DetailScreen #detail-body { height: 1fr; padding: 0 1; }
    DetailScreen .section {
        margin-top: 1;
        color: $accent;
        text-style: bold;
        width: 1fr;
    }
    DetailScreen #detail-status { color: $text-muted; }
    DetailScreen #detail-status.-error { color: $error; }
    DetailScreen #detail-actions {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back"), id="detail.back"),
        Binding("ctrl+r", "reload", N_("Reload"), id="detail.reload"),
        Binding("question_mark", "help", N_("Help"), id="detail.help"),
        Binding("colon", "command_line", N_("Command"), id="detail.command", priority=True),
        # The queue's ticket keys, same ids and meaning; the rarer steps are in the m menu.
        *ticket_bindings(),
    ]
    AUTO_FOCUS = "#detail-body"

    def __init__(self, number: int) -> None:
        super().__init__()
        translate_bindings(self)
        self.number = number
        self.detail: TicketDetail | None = None
        """The loaded ticket (None until the first load finishes)."""
        self.records: TicketQuality | None = None
        """The ticket's quality records as last loaded (None: not loaded or not readable)."""
        self.farm: FarmRecord | None = None
        self._reloading_for_breach = False

    def compose(self) -> ComposeResult:
        yield Static(_("Ticket #{number}").format(number=self.number), id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(
                _("Loading ticket #{number}…").format(number=self.number), id="detail-status"
            )
            yield Static("", id="detail-fields")
            yield Label(_("SLA clocks"), classes="section")
            for target in Target:
                yield ClockBar(id=f"clock-{target.value}")
            yield Static("", id="detail-downtime")
            yield Label(_("Holds"), classes="section")
            yield Static("", id="detail-holds")
            yield Label(_("Quality"), classes="section", id="detail-quality-head")
            yield Static("", id="detail-quality")
            yield Label(_("Timeline"), classes="section")
            yield Static("", id="detail-events")
        yield Static("", id="detail-actions")
        yield Footer()

    def on_mount(self) -> None:
        self._show_quality(None)
        self.load()
        self.set_interval(1.0, self._tick, name="detail-clocks")

    # -- loading ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        """Read the ticket (and its farm) from the desk in a thread."""
        desk = self.app.desk  # type: ignore[attr-defined]
        try:
            detail = desk.detail(self.number)
        except Exception as error:
            message = str(error) if isinstance(error, WindtuiError) else repr(error)
            self.app.call_from_thread(self._show_error, message)
            return
        farm = self.farm
        if farm is None or farm.code != detail.ticket.farm:
            try:
                farm = next((f for f in desk.farms() if f.code == detail.ticket.farm), None)
            except Exception:  # the farm name is decoration; the code is shown anyway
                farm = None
        try:
            records = quality.ticket_quality(desk, self.number)
        except WindtuiError:  # the section is left out; the rest of the ticket still shows
            records = None
        self.app.call_from_thread(self._show, detail, farm, records)

    def _show_error(self, message: str) -> None:
        status = self.query_one("#detail-status", Static)
        status.add_class("-error")
        status.update(plain(message))  # it may quote typed text
        status.display = True

    def _show(
        self, detail: TicketDetail, farm: FarmRecord | None, records: TicketQuality | None = None
    ) -> None:
        self.detail = detail
        self.farm = farm
        self.records = records
        self._reloading_for_breach = False
        t = detail.ticket
        tz = t.farm_timezone
        title = Text(f"#{t.number}  ", style="bold")
        title.append(_(t.priority.label), style="bold red" if t.priority is Priority.P1 else "bold")
        title.append(f" · {_(t.category.label)} · {_(t.state.label)}")
        if t.hold:
            title.append("  " + _("ON HOLD: {reason}").format(reason=_(t.hold.label)), style="cyan")
        title.append_text(plain(f"  {t.title}"))
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-status", Static).display = False
        self.query_one("#detail-fields", Static).update(fields_table(detail, farm))
        self.query_one("#detail-holds", Static).update(holds_table(detail.holds, tz, self.now()))
        self.query_one("#detail-events", Static).update(events_table(detail.events, tz))
        self._show_quality(records if has_records(records, t.state) else None, tz)
        self._render_clocks()
        self.refresh_bindings()  # allowed actions changed: Footer and check_action follow
        self._render_actions()

    def _show_quality(self, records: TicketQuality | None, tz: str = "UTC") -> None:
        """The report, reviews, survey and improvement items (the section only when there are
        any, or once the ticket is resolved and a report is due)."""
        shown = records is not None
        self.query_one("#detail-quality-head").display = shown
        section = self.query_one("#detail-quality", Static)
        section.display = shown
        if records is not None:
            section.update(quality_table(records, tz))

    def now(self) -> datetime:
        """The console's notion of now (the app clock, so tests and ``--now`` freeze it)."""
        clock: Callable[[], datetime] | None = getattr(self.app, "clock", None)
        return clock() if clock is not None else pendulum.now("UTC")

    # -- clocks -----------------------------------------------------------------------------

    def _render_clocks(self) -> None:
        detail = self.detail
        if detail is None:
            return
        now = self.now()
        tz = detail.ticket.farm_timezone
        for clock in detail.clocks:
            due = ""
            if clock.met_at is not None:
                due = _("met {when}").format(when=local_time(clock.met_at, tz, "MM-DD HH:mm"))
            elif clock.due is not None:
                due = _("due {when}").format(when=local_time(clock.due, tz, "MM-DD HH:mm"))
            self.query_one(f"#clock-{clock.target.value}", ClockBar).show(clock, now, due)
        self.query_one("#detail-downtime", Static).update(downtime_line(detail.downtime, now))

    def _tick(self) -> None:
        """1 Hz: re-render the clocks from the loaded detail; reload once a clock breaches."""
        detail = self.detail
        if detail is None:
            return
        self._render_clocks()
        if self._changed_elsewhere(detail):
            self.load()
            return
        now = self.now()
        crossed = any(
            live_reading(c, now).state is ClockState.BREACHED and c.state is not ClockState.BREACHED
            for c in detail.clocks
        )
        if crossed and not self._reloading_for_breach:
            self._reloading_for_breach = True  # one reload per crossing, not one per second
            self.load()

    def _changed_elsewhere(self, detail: TicketDetail) -> bool:
        """Has the app's poll seen a newer version of this ticket? (no database work)"""
        state = getattr(self.app, "state", None)
        tickets = getattr(state, "tickets", None) or {}
        seen = tickets.get(detail.ticket.id)
        return seen is not None and seen.version > detail.ticket.version

    # -- actions ----------------------------------------------------------------------------

    def _render_actions(self) -> None:
        """The allowed actions with their keys; the keyless ones under ``m``."""
        detail = self.detail
        line = Text()
        if detail is None:
            return
        keys = bound_keys(self)
        menu_key = self._menu_key()
        for name in menu_entries(detail.ticket, detail.allowed_actions):
            if line:
                line.append("  ")
            line.append(f" {keys.get(name, menu_key)} ", style="reverse bold")
            line.append(" " + entry_label(name))
        if not line:
            line.append(_("no actions allowed in this state"), style="dim")
        self.query_one("#detail-actions", Static).update(line)

    def _menu_key(self) -> str:
        """The key that opens the action menu (remappable)."""
        for active in self.active_bindings.values():
            if active.binding.action == "menu":
                return self.app.get_key_display(active.binding)
        return "m"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Ticket keys need a loaded ticket; whether the ticket allows the action is checked
        when the key is pressed, so a refused key says why instead of doing nothing."""
        if action in ("act", "next_step", "menu", RECLASSIFY):
            return self.detail is not None
        return True

    def action_act(self, name: str) -> None:
        """Run ``name`` on the ticket: via its form when it needs input, else directly;
        refused with a toast when the ticket does not allow it now."""
        detail = self.detail
        if detail is not None:
            run_ticket_action(self, detail.ticket, detail.allowed_actions, name, self._perform)

    def action_reclassify(self) -> None:
        """Change the ticket's priority and/or category through :class:`ReclassifyForm`."""
        self.action_act(RECLASSIFY)

    def action_menu(self) -> None:
        """``m``: every action the ticket allows now, in a small menu."""
        detail = self.detail
        if detail is not None:
            open_action_menu(self, detail.ticket, detail.allowed_actions, self._perform)

    def action_new_ticket(self) -> None:
        """``n``: the new-ticket form, as on the queue (for this ticket's farm)."""
        farm = self.detail.ticket.farm if self.detail is not None else None
        self.app.push_screen(NewTicketForm(farm=farm), self._perform)

    def _perform(self, request: DeskRequest | None) -> None:
        """Hand the request to the app, then reload once it has run."""
        if request is None:
            return
        outcome = self.app.perform(request)  # type: ignore[attr-defined]
        if isinstance(outcome, Worker) or inspect.isawaitable(outcome):
            self._reload_after(outcome)
        else:
            self.load()

    @work(exclusive=True, group="after-action", exit_on_error=False)
    async def _reload_after(self, outcome: object) -> None:
        try:
            if isinstance(outcome, Worker):
                await outcome.wait()
            else:
                await outcome  # type: ignore[misc]
        except Exception:  # the app already showed the error; still show the current state
            pass
        self.load()

    def _next_action(self) -> Action | None:
        """The next lifecycle step (the main screen's rule), if the lifecycle allows it now."""
        from windtui.tui.app import next_step  # lazy: the app imports this screen

        if self.detail is None:
            return None
        action = next_step(self.detail.ticket)
        return action if action in self.detail.allowed_actions else None

    def action_next_step(self) -> None:
        """Space: perform the ticket's next step (through its form when it needs one)."""
        action = self._next_action()
        if action is not None:
            self.action_act(action.value)
        elif self.detail is not None:
            self.notify(
                _("ticket {number} has no next step now").format(number=self.number),
                severity="warning",
            )

    def action_help(self) -> None:
        """Help for this screen."""
        from windtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("detail"))

    def action_command_line(self) -> None:
        """The ``:`` command line (keys typed right after ``:`` are held for it)."""
        from windtui.tui.app import open_prompt  # lazy: the app imports this screen

        open_prompt(self.app)

    def action_reload(self) -> None:
        """Read the ticket again."""
        self.load()

    def action_back(self) -> None:
        """Return to the previous screen."""
        self.dismiss(None)
