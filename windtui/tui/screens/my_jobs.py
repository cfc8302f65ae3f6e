"""The technician's own console: "my jobs" — their tickets, the two clocks that matter on site,
one key per field step, work notes, and the turbine and farm facts of the selected job.

The app opens this screen instead of :class:`~windtui.tui.app.MainScreen` when the desk's
identity is crew-only (a technician with no role that reads every ticket); the desk then lists
only that technician's tickets, so the app's :class:`DeskState` holds exactly their jobs.

Slow links: the 1 Hz tick repaints only the clock cells whose text changed (the two clock
columns come first, see :meth:`JobList.tick`), the header clock's changed digits, and a facts
clock line only when its state changes. The facts pane is re-rendered when the selected job's
version changes (a write here or, through the app's poll, at another desk), never per second.

Writes go through the app's ``perform`` (thread worker, toast, reload). A key the job's state or
the technician's role does not allow is refused with a one-line toast saying why.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from itertools import groupby
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Label, Static, TextArea
from textual.worker import get_current_worker

from windtui.domain import lifecycle
from windtui.domain.model import Action, Clock, ClockState, Priority, Target
from windtui.domain.roles import NOTE, permits
from windtui.errors import WindtuiError
from windtui.i18n import _, current_language
from windtui.services.records import EventRecord, SiteRecord, TicketDetail, TicketSnapshot
from windtui.tui.actions import allowed_for, run_ticket_action
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.plain import plain
from windtui.tui.requests import DeskRequest, NoteRequest
from windtui.tui.screens.detail import _FIELD_ENUMS, _event_what, local_time
from windtui.tui.screens.forms import TURBINE_STATUS, FormScreen
from windtui.tui.widgets.cells import fit
from windtui.tui.widgets.header import DeskClock
from windtui.tui.widgets.queue import CLOCK_STYLE, PAUSE_MARK, remaining_text
from windtui.tui.widgets.state import DeskState
from windtui.tui.widgets.table import Cell, Column, LineTable

NOTE_LIMIT = 4000
"""The longest work note the desk takes (``services.desk.NOTE_LIMIT``; the desk is the
authority, this only lets the form say so before the text is sent)."""

MAX_LIST_ROWS = 6
"""Job rows shown before the list scrolls: the facts pane keeps the rest of an 80×24 screen."""

CREW_STEPS: tuple[tuple[Action, str, str], ...] = (
    (Action.DEPART, "g", N_("Depart")),
    (Action.ARRIVE, "a", N_("Arrive")),
    (Action.HOLD, "h", N_("Hold")),
    (Action.RESUME, "r", N_("Resume")),
    (Action.RESOLVE, "v", N_("Resolve")),
    (Action.RESTORE, "t", N_("Turbine up")),
    (Action.SUBMIT, "s", N_("Report")),
)
"""The field steps with a key of their own here (ids ``jobs.<action>``), in lifecycle order;
the labels are short so the allowed ones fit the action line at 80 columns."""

CLOCKS = (Target.ONSITE, Target.REPAIR)
"""The clocks a technician works against."""

FACT_STYLES = {ClockState.AT_RISK: "bold yellow", ClockState.BREACHED: "bold red"}


def _name(identity: Any) -> str:
    """The person's name in the console's language."""
    return identity.name_zh if current_language() == "zh_CN" else identity.name_en


def _clock_of(clocks: tuple[Clock, ...], target: Target) -> Clock | None:
    return next((c for c in clocks if c.target is target), None)


def clock_cell(clock: Clock | None) -> Cell:
    """A list cell for one clock: time left (with the queue's markers), ✓ once met, — before."""
    if clock is None or not clock.started or clock.state is ClockState.NOT_APPLICABLE:
        return ("—", "line-table--dim")
    if clock.met_at is not None:
        late = clock.state is ClockState.BREACHED
        return ("✓", "line-table--breached" if late else "line-table--met")
    if clock.remaining_seconds is None:
        return ("—", "line-table--dim")
    return (remaining_text(clock), CLOCK_STYLE.get(clock.state))


def state_text(ticket: TicketSnapshot) -> str:
    """The ticket's state, with the pause marker while it is on hold."""
    label = _(ticket.state.label)
    return f"{PAUSE_MARK}{label}" if ticket.hold is not None else label


class JobList(LineTable, inherit_bindings=False):
    """The technician's tickets: the on-site and repair clocks first (the columns that tick).

    No ``g``/``G`` here (``g`` departs); Home/End go to the first and last job.
    """

    COLUMNS = (
        Column("onsite", N_("On site"), 9, align="right"),
        Column("repair", N_("Repair"), 9, align="right"),
        Column("no", N_("No."), 5, align="right", fit_title=True),
        Column("p", N_("P"), 2, fit_title=True),
        Column("where", N_("Turbine"), 9),
        Column("state", N_("State"), 12),
        Column("title", N_("Title"), 8, flex=True),
    )
    EMPTY_TEXT = N_("No jobs assigned to you")
    FAST = 2
    """Leading columns that change with the wall clock."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", N_("Down"), show=False, id="list.down"),
        Binding("k,up", "cursor_up", N_("Up"), show=False, id="list.up"),
        Binding("home", "cursor_top", N_("Top"), show=False, id="jobs.top"),
        Binding("end", "cursor_bottom", N_("Bottom"), show=False, id="jobs.bottom"),
        Binding("pageup,ctrl+b", "page_up", N_("Page up"), show=False, id="list.page_up"),
        Binding("pagedown,ctrl+f", "page_down", N_("Page down"), show=False, id="list.page_down"),
    ]

    def __init__(self, state: DeskState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state

    @property
    def selected(self) -> TicketSnapshot | None:
        """The job under the cursor."""
        key = self.cursor_key
        return self.state.tickets.get(key) if key is not None else None  # type: ignore[arg-type]

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        """Cells of one job at the state's ``now``."""
        t = self.state.tickets[key]  # type: ignore[index]
        clocks = self.state.board.clocks(t.id, self.state.now)
        return (
            clock_cell(_clock_of(clocks, Target.ONSITE)),
            clock_cell(_clock_of(clocks, Target.REPAIR)),
            (str(t.number), None),
            (t.priority.value, "line-table--urgent" if t.priority is Priority.P1 else None),
            (t.turbine or t.farm, None),
            (state_text(t), "line-table--paused" if t.hold else None),
            (t.title, None),
        )

    def tick(self) -> int:
        """Recompute the visible rows; when only the clocks changed, refresh only their cells.

        ``LineTable.tick`` does this for one leading column; here two clocks lead the row.
        """
        self._cells.clear()
        columns = self.columns()
        fast = sum(width + 1 for _column, width in columns[: self.FAST])
        top = int(self.scroll_y)
        visible = self._keys[top : top + self._view_height()]
        changed = 0
        for y, key in enumerate(visible):
            cells = self.cells_of(key)
            painted = self._painted.get(y)
            if painted is None or painted[0] != key or painted[2] != (key == self.cursor_key):
                self.refresh_line(top + y)
            elif painted[1] == cells:
                continue
            elif painted[1][self.FAST :] == cells[self.FAST :]:
                self.refresh(Region(0, y, fast, 1))
            else:
                self.refresh_line(top + y)
            changed += 1
        for y in [y for y in self._painted if y >= len(visible)]:
            del self._painted[y]
            self.refresh_line(top + y)
            changed += 1
        if not self._keys:
            self.refresh_line(0)
        return changed


# -- facts ---------------------------------------------------------------------------------------


def site_facts(detail: TicketDetail) -> Table:
    """Turbine, farm, contact, access, depot and description: label / value rows.

    Every value that came from a person (names, notes, contacts) is :func:`plain` text.
    """
    site = detail.site
    zh = current_language() == "zh_CN"
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")  # fold: a CJK run has no spaces to wrap at
    table.add_row(_("Turbine"), _turbine_text(site))
    farm = Text()
    farm.append_text(plain(f"{site.farm} {site.farm_name_zh if zh else site.farm_name_en}"))
    province = site.province if zh else (site.province_en or site.province)
    farm.append_text(plain(f" · {province}" if province else ""))
    farm.append(" · " + (_("offshore") if site.offshore else _("onshore")))
    if site.offshore:
        farm.stylize("bold")
    farm.append(f" · {site.latitude:.2f}°N {site.longitude:.2f}°E", style="dim")
    table.add_row(_("Farm"), farm)
    contact = plain(site.duty_contact or "—")
    if site.phone:
        contact.append_text(plain(f"  {site.phone}", "bold"))
    table.add_row(_("Duty contact"), contact)
    table.add_row(_("Access"), plain(site.access_notes or "—", multiline=True))
    table.add_row(_("Depot"), plain(site.depot or "—"))
    if detail.reporter or detail.contact:  # who reported it, when not the farm's duty desk
        reporter = " ".join(x for x in (detail.reporter, detail.contact) if x)
        if reporter not in (site.duty_contact, site.phone, f"{site.duty_contact} {site.phone}"):
            table.add_row(_("Reported by"), plain(reporter))
    if detail.description:
        table.add_row(_("Description"), plain(detail.description, multiline=True))
    return table


def _turbine_text(site: SiteRecord) -> Text:
    """``DBC-A07 · Goldwind GW121-2.5MW · 2500 kW · hub 90 m · line 35kV-3 · Stopped``."""
    if site.turbine is None:
        return Text(_("whole farm (no turbine)"), style="dim")
    text = plain(site.turbine, "bold")
    if site.model:
        text.append_text(plain(f" · {site.model}"))
    if site.rated_kw:
        text.append(f" · {site.rated_kw} kW")
    if site.hub_height:
        text.append(" · " + _("hub {height} m").format(height=f"{site.hub_height:g}"))
    if site.line:
        text.append_text(plain(" · " + _("line {line}").format(line=site.line)))
    if site.turbine_status:
        status = _(TURBINE_STATUS.get(site.turbine_status, site.turbine_status))
        style = "bold red" if site.turbine_status in ("stopped", "fault") else ""
        text.append(" · ")
        text.append_text(plain(status, style))
    return text


def farm_time(instant: datetime, tz: str) -> str:
    """``03-04 18:00 CST``: an instant in the farm's timezone, with the zone's abbreviation."""
    local = instant.astimezone(ZoneInfo(tz))
    return f"{local:%m-%d %H:%M} {local:%Z}"


def clock_fact(clock: Clock | None, target: Target, tz: str, width: int = 0) -> Text:
    """One facts line for a clock: its state and its due (or met) time in the farm's time.

    No seconds: this line changes only when the clock changes state (the list counts down).
    ``width``: cells for the label, so both clock lines line up in any language.
    """
    line = Text(fit(_(target.label), width) if width else _(target.label), style="bold")
    line.append(" ")
    if clock is None or not clock.started or clock.state is ClockState.NOT_APPLICABLE:
        line.append(_("not started"), style="dim")
    elif clock.met_at is not None:
        when = farm_time(clock.met_at, tz)
        if clock.state is ClockState.BREACHED:
            line.append(_("met late {when}").format(when=when), style="bold red")
        else:
            line.append(_("met {when}").format(when=when), style="green")
    elif clock.state is ClockState.PAUSED:
        line.append(_(clock.state.label), style="cyan")
        if clock.hold_reason is not None:
            line.append(" · " + _(clock.hold_reason.label), style="cyan")
        if clock.due is not None:
            when = farm_time(clock.due, tz)
            line.append(" · " + _("due {when} if resumed now").format(when=when))
    else:
        line.append(_(clock.state.label), style=FACT_STYLES.get(clock.state, ""))
        if clock.due is not None:
            line.append(" · " + _("due {when}").format(when=farm_time(clock.due, tz)))
        if clock.hold_reason is not None:  # breached before the hold: still overdue, and why
            line.append(" · " + _(clock.hold_reason.label), style="cyan")
    return line


def _enum_label(field: str, value: str) -> str:
    """An event value that is an enum code, as its translated label (else as stored)."""
    enum = _FIELD_ENUMS.get(field)
    if enum is None:
        return value
    try:
        return _(enum(value).label)
    except ValueError:
        return value


def _step_text(group: list[EventRecord]) -> Text:
    """What one step (the events of one action at one instant) did, for the timeline."""
    first = group[0]
    if first.action == "note":
        text = Text(_("Note") + ": ", style="bold")
        text.append_text(plain(first.new, multiline=True))
        return text
    what = _event_what(first.action)
    text = plain(what, "bold")
    for event in group:
        if event.field in ("state", "hold", "owner") and event.new:
            value = _enum_label(event.field, event.new)
            if value != what:  # "Arrive on site → On site" says it once in Chinese
                text.append_text(plain(f" → {value}"))
    notes = dict.fromkeys(e.note for e in group if e.note and first.action != "create")
    for note in notes:
        text.append_text(plain(f" — {note}", "italic", multiline=True))
    return text


def timeline_table(events: tuple[EventRecord, ...], tz: str) -> Table | Text:
    """Work notes and steps, newest first: when (farm time), who, what."""
    if not events:
        return Text(_("no events"), style="dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style="dim")
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    steps = groupby(events, key=lambda e: (e.occurred_at, e.actor, e.action))
    for (when, actor, _action), group in reversed([(k, list(g)) for k, g in steps]):
        table.add_row(local_time(when, tz, "MM-DD HH:mm"), plain(actor), _step_text(group))
    return table


# -- the note form -------------------------------------------------------------------------------


class NoteForm(FormScreen):
    """A free-text work note for the timeline (several lines; Ctrl+S saves, Esc asks first)."""

    DEFAULT_CSS = """
    NoteForm #note { width: 1fr; height: 6; }
    """
    AUTO_FOCUS = "#note"

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def form_title(self) -> str:
        return _("Work note on ticket #{number}").format(number=self.number)

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label(self.form_title(), id="form-title")
            yield from self.compose_fields()
            yield Static(_("Ctrl+S saves · Enter new line · Esc cancel"), id="form-hint")

    def compose_fields(self) -> ComposeResult:
        # No blinking cursor: over a thin link a blink is two repaints a second for nothing.
        area = TextArea(
            id="note",
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder=_("what was found, done, needed"),
        )
        area.cursor_blink = False
        yield from self.row("note", _("Note"), area)

    @on(TextArea.Changed)
    def _typed(self) -> None:
        self.clear_error("note")

    @property
    def note_text(self) -> str:
        """The typed note without surrounding blank space."""
        return self.query_one("#note", TextArea).text.strip()

    def build_request(self) -> NoteRequest | None:
        text = self.note_text
        if not text:
            self.error("note", _("required"))
            return None
        if len(text) > NOTE_LIMIT:
            self.error(
                "note",
                _("at most {limit} characters ({count} typed)").format(
                    limit=NOTE_LIMIT, count=len(text)
                ),
            )
            return None
        return NoteRequest(self.number, text)

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.note_text)


# -- the screen ----------------------------------------------------------------------------------


class MyJobsScreen(Screen[None]):
    """A technician's jobs (top), the selected job's facts (below), the allowed keys (bottom)."""

    DEFAULT_CSS = """
    MyJobsScreen { layout: vertical; }
    MyJobsScreen #jobs-header { height: 1; background: $panel; }
    MyJobsScreen #jobs-count { width: auto; padding: 0 1; text-style: bold; }
    MyJobsScreen #jobs-who { width: 1fr; content-align: right middle; padding: 0 1; }
    MyJobsScreen #jobs-head { height: 1; color: $text-muted; text-style: bold; }
    MyJobsScreen #jobs { height: 1; }
    MyJobsScreen #job-pane { height: 1fr; padding: 0 1; border-top: solid $panel-lighten-2; }
    MyJobsScreen #job-pane:focus { background: $boost; }
    MyJobsScreen #job-title { width: 1fr; }
    MyJobsScreen .job-clock { height: 1; width: 1fr; }
    MyJobsScreen #job-timeline-head { margin-top: 1; color: $accent; text-style: bold; }
    MyJobsScreen #job-status { color: $text-muted; }
    MyJobsScreen #job-status.-error { color: $error; }
    MyJobsScreen #jobs-keys { height: 1; background: $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"act('{action.value}')", label, show=False, id=f"jobs.{action.value}")
            for action, key, label in CREW_STEPS
        ),
        Binding("n", "note", N_("Note"), show=False, id="jobs.note"),
        Binding("enter", "facts", N_("Facts"), show=False, id="jobs.facts"),
        Binding("escape", "back", N_("Back"), show=False, id="app.back"),
        Binding("question_mark", "help", N_("Help"), show=False, id="app.help"),
        Binding("q", "app.request_quit", N_("Quit"), show=False, id="app.quit"),
    ]
    AUTO_FOCUS = "#jobs"
    COMMAND_LINE = False
    """No ``:`` prompt here: its verbs are the dispatch desk's (the palette leaves them out)."""

    def __init__(self, state: DeskState, identity: Any) -> None:
        super().__init__(id="my-jobs")
        translate_bindings(self)
        self.state = state
        self.identity = identity
        """The technician at this console (``services.identity.Identity``)."""
        self.detail: TicketDetail | None = None
        """The selected job's detail, once loaded (None while loading or when nothing is
        selected)."""
        self._details: dict[int, TicketDetail] = {}
        """Loaded details by ticket id; one is current while its version is the ticket's."""
        self._shown: tuple[int, int] | None = None
        """(ticket id, version) the facts pane shows."""
        self._painted: dict[str, Text | str] = {}
        """Last text of the small lines (count, clocks, keys): repaint only on change."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="jobs-header"):
            yield DeskClock(self.state.timezone, id="desk-clock")
            yield Static("", id="jobs-count")
            who = plain(f"{self.identity.login} · {_name(self.identity)}")
            yield Static(who, id="jobs-who")
        yield Static("", id="jobs-head")
        yield JobList(self.state, id="jobs")
        with VerticalScroll(id="job-pane"):
            yield Static(_("Loading your jobs…"), id="job-status")
            yield Static("", id="job-title")
            for target in CLOCKS:
                yield Static("", id=f"job-clock-{target.value}", classes="job-clock")
            yield Static("", id="job-facts")
            yield Label(_("Timeline (newest first)"), id="job-timeline-head")
            yield Static("", id="job-timeline")
        yield Static("", id="jobs-keys")

    def on_mount(self) -> None:
        self._facts_visible(False)
        if self.state.loaded:
            self.data_changed(tickets=True)
        self.tick()
        self.call_after_refresh(self._retitle)

    def on_resize(self) -> None:
        self.call_after_refresh(self._retitle)

    def _retitle(self) -> None:
        self.query_one("#jobs-head", Static).update(self.jobs.header_text())

    # -- the interface the app drives (the same as MainScreen's) ----------------------------
    @property
    def jobs(self) -> JobList:
        """The job list."""
        return self.query_one(JobList)

    @property
    def queue(self) -> JobList:
        """The job list under the name the app uses after a write (``queue.select_key``)."""
        return self.jobs

    def data_changed(self, tickets: bool = True, technicians: bool = False) -> None:
        """The jobs (or their clocks' plans) changed: re-sort the list, refresh the facts."""
        if not tickets:
            return
        board = self.state.board

        def due(t: TicketSnapshot) -> tuple[int, float, int]:
            next_due = board.next_due(t.id)
            return (0, next_due[1].timestamp(), t.number) if next_due else (1, 0.0, t.number)

        keys: list[Hashable] = [t.id for t in sorted(self.state.tickets.values(), key=due)]
        jobs = self.jobs
        if keys != jobs.keys:
            jobs.set_rows(keys)
            jobs.styles.height = max(1, min(len(keys), MAX_LIST_ROWS))
        else:
            jobs.invalidate()
            jobs.tick()  # a changed job repaints its own line only
        self._paint("#jobs-count", _("My jobs {count}").format(count=len(keys)))
        self._retitle()
        self._selection_changed()

    def tick(self) -> None:
        """1 Hz: the header clock's digits, the clocks' cells, a facts clock line on change."""
        self.query_one(DeskClock).show(self.state.now)
        if not self.state.loaded:
            return
        self.jobs.tick()
        self._render_clocks()

    def action_help(self) -> None:
        """Help for this screen (its keys, as remapped)."""
        from windtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("jobs"))

    # -- selection and facts ---------------------------------------------------------------
    @on(JobList.Moved)
    def _moved(self, event: JobList.Moved) -> None:
        event.stop()
        self._selection_changed()

    def _selection_changed(self) -> None:
        """Show the selected job's facts: from the cache when current, else load them."""
        ticket = self.jobs.selected
        self._render_keys(ticket)
        if ticket is None:
            self.detail = None
            self._shown = None
            self._status(_("No jobs assigned to you") if self.state.loaded else "")
            return
        shown = self._shown
        if shown is not None and shown[0] == ticket.id and shown[1] >= ticket.version:
            return
        cached = self._details.get(ticket.id)
        if cached is not None and cached.ticket.version >= ticket.version:
            self._show(cached)
            return
        if cached is None:
            self._status(_("Loading ticket #{number}…").format(number=ticket.number))
        self.load_detail(ticket.number)

    @work(thread=True, exclusive=True, group="job-detail", exit_on_error=False)
    def load_detail(self, number: int) -> None:
        """Read one job's detail (thread); a load overtaken by another selection is dropped."""
        try:
            detail = self.app.desk.detail(number)  # type: ignore[attr-defined]
        except WindtuiError as error:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._status, str(error), True)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, detail)

    def _loaded(self, detail: TicketDetail) -> None:
        self._details[detail.ticket.id] = detail
        ticket = self.jobs.selected
        if ticket is not None and ticket.id == detail.ticket.id:
            if detail.ticket.version < ticket.version:  # read before the latest write landed
                self.load_detail(ticket.number)
                return
            self._show(detail)

    def _status(self, message: str, error: bool = False) -> None:
        """One line in place of the facts (loading, nothing selected, an error)."""
        status = self.query_one("#job-status", Static)
        status.set_class(error, "-error")
        status.update(plain(message))  # an error may quote typed text
        status.display = bool(message)
        self._facts_visible(False)
        self.detail = None
        self._shown = None

    def _facts_visible(self, shown: bool) -> None:
        for widget in self.query("#job-title, .job-clock, #job-facts, #job-timeline-head"):
            widget.display = shown
        self.query_one("#job-timeline").display = shown

    def _show(self, detail: TicketDetail) -> None:
        """Render the facts pane for ``detail`` (once per job version)."""
        self.detail = detail
        t = detail.ticket
        tz = t.farm_timezone
        self._shown = (t.id, t.version)
        self.query_one("#job-status", Static).display = False
        title = Text(f"#{t.number} ", style="bold")
        title.append(t.priority.value, style="bold red" if t.priority is Priority.P1 else "bold")
        title.append(f" · {_(t.category.label)} · {_(t.state.label)}")
        if t.hold is not None:
            held = _("on hold: {reason}").format(reason=_(t.hold.label))
            title.append(f"  {PAUSE_MARK}{held}", style="cyan")
        title.append("\n")
        title.append_text(plain(t.title, "bold"))
        self.query_one("#job-title", Static).update(title)
        self.query_one("#job-facts", Static).update(site_facts(detail))
        self.query_one("#job-timeline", Static).update(timeline_table(detail.events, tz))
        self._facts_visible(True)
        for target in CLOCKS:
            self._painted.pop(f"#job-clock-{target.value}", None)
        self._render_clocks()
        self._render_keys(t)

    def _render_clocks(self) -> None:
        """The facts pane's two clock lines, from the live board; repainted only on change."""
        ticket = self.jobs.selected
        if ticket is None or self._shown is None or self._shown[0] != ticket.id:
            return
        clocks = self.state.board.clocks(ticket.id, self.state.now)
        width = max(cell_len(_(target.label)) for target in CLOCKS)
        for target in CLOCKS:
            clock = _clock_of(clocks, target)
            line = clock_fact(clock, target, ticket.farm_timezone, width)
            self._paint(f"#job-clock-{target.value}", line, layout=False)

    def _paint(self, selector: str, content: Text | str, *, layout: bool = True) -> None:
        """Update a small line only when its text (or style) changed."""
        if self._painted.get(selector) == content:
            return
        self._painted[selector] = content
        self.query_one(selector, Static).update(content, layout=layout)

    def _render_keys(self, ticket: TicketSnapshot | None) -> None:
        """The action line: the keys the selected job allows now, then note, help and quit.

        Keys its state does not allow are left out (pressed anyway, they say why).
        """
        keys = self._bound_keys()
        line = Text()

        def add(key: str | None, label: str) -> None:
            if key is None:
                return
            if line:
                line.append(" ")
            line.append(f" {key} ", style="reverse bold")
            line.append(" " + label)

        if ticket is not None:
            allowed = allowed_for(ticket)
            for action, _key, label in CREW_STEPS:
                if action in allowed and permits(self.identity.roles, action, crew=True):
                    add(keys.get(f"act('{action.value}')"), _(label))
            add(keys.get("note"), _("Note"))
        add(keys.get("help"), _("Help"))
        add(keys.get("app.request_quit"), _("Quit"))
        self._paint("#jobs-keys", line, layout=False)

    def _bound_keys(self) -> dict[str, str]:
        """Action -> the key shown for it (live bindings: a remap shows as remapped)."""
        keys: dict[str, str] = {}
        for active in self.active_bindings.values():
            keys.setdefault(active.binding.action, self.app.get_key_display(active.binding))
        return keys

    # -- actions ----------------------------------------------------------------------------
    def _require_job(self) -> TicketSnapshot | None:
        ticket = self.jobs.selected
        if ticket is None:
            self.app.notify(_("No job selected"), severity="warning")
        return ticket

    def action_act(self, name: str) -> None:
        """A field step on the selected job: through its form when it needs input (hold:
        reason and evidence; resume: an optional note), refused with the reason otherwise."""
        ticket = self._require_job()
        if ticket is None:
            return
        action = Action(name)
        if not permits(self.identity.roles, action, crew=True):
            self.app.notify(
                _("{action} is not a step your role allows (ticket {number})").format(
                    action=_(action.label), number=ticket.number
                ),
                severity="warning",
            )
            return
        why = lifecycle.refusal(
            ticket.state,
            action,
            category=ticket.category,
            on_hold=lifecycle.is_on_hold(ticket.timeline),
            turbine_down=lifecycle.is_turbine_down(ticket.timeline),
            number=ticket.number,
        )
        if why is not None:
            self.app.notify(why, severity="warning")
            return
        run_ticket_action(self, ticket, allowed_for(ticket), name, self._perform)

    def action_note(self) -> None:
        """``n``: a work note on the selected job's timeline."""
        ticket = self._require_job()
        if ticket is None:
            return
        if not permits(self.identity.roles, NOTE, crew=True):
            self.app.notify(_("Your role cannot add work notes"), severity="warning")
            return
        self.app.push_screen(NoteForm(ticket.number), self._perform)

    def _perform(self, request: DeskRequest | None) -> None:
        """Hand a form's request to the app (which reloads; the facts follow the new version)."""
        if request is not None:
            self.app.perform(request)  # type: ignore[attr-defined]

    def action_facts(self) -> None:
        """Enter: move into the facts pane to scroll it (Enter or Esc returns to the list)."""
        pane = self.query_one("#job-pane")
        self.set_focus(self.jobs if self.focused is pane else pane)

    def action_back(self) -> None:
        """Esc: back to the job list."""
        self.set_focus(self.jobs)


__all__ = ["JobList", "MyJobsScreen", "NoteForm", "clock_cell", "site_facts", "timeline_table"]
