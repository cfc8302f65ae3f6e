"""The dispatch console: ``WindApp`` (data, workers, 1 Hz tick) and ``MainScreen`` (three panes).

Data flow:

* Start: a thread worker reads open tickets, technicians and the policy through ``app.desk`` and
  builds the domain ``SlaBoard``; the UI installs the result (:meth:`WindApp._install`).
* 1 Hz tick (:meth:`WindApp.tick`): ``board.refresh(now)`` and a repaint of only the lines whose
  text changed. No database work at all.
* Other consoles: a thread worker polls ``desk.data_version()`` about every second; on a change it
  loads ``desk.changed_since(seq)`` and the technicians, and the UI upserts them into the board.
* Writes: forms, the command line and the palette hand a request to :meth:`WindApp.perform`, which
  runs it through the desk in a thread worker and shows the outcome as a toast.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import datetime
from typing import Any, ClassVar

from rich.align import Align
from rich.text import Text
from textual import events, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette
from textual.containers import Container
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.widgets.option_list import OptionDoesNotExist
from textual.worker import get_current_worker

from windtui.domain import lifecycle
from windtui.domain.model import Action, ClockState, Target
from windtui.domain.policy import PolicySet
from windtui.errors import WindtuiError
from windtui.i18n import _, set_language
from windtui.safetext import visible
from windtui.services.records import TechnicianRecord, TicketSnapshot
from windtui.tui.actions import (
    RECLASSIFY,
    allowed_for,
    open_action_menu,
    run_ticket_action,
    set_identity,
    ticket_bindings,
)
from windtui.tui.commands import DeskCommands
from windtui.tui.keymap import N_, ConsoleConfig, load_config, translate_bindings
from windtui.tui.requests import (
    ActionRequest,
    AssignRequest,
    DeskRequest,
    ImprovementRequest,
    ImprovementUpdateRequest,
    NewTicketRequest,
    NoteRequest,
    ReclassifyRequest,
    ReloadRequest,
    ReportRequest,
    SuggestionRequest,
    SuggestionStatusRequest,
    SurveyRequest,
)
from windtui.tui.widgets.board import BoardPane, TechnicianBoard
from windtui.tui.widgets.countdown import CountdownPane, DeadlineList
from windtui.tui.widgets.header import DeskClock, DeskCounts, DeskHeader
from windtui.tui.widgets.queue import QueuePane, TicketQueue
from windtui.tui.widgets.state import Board, DeskState

PANES = ("queue", "board", "sla")
"""Pane ids in Tab / 1-2-3 order (``sla`` is the countdown pane; HelpScreen uses these ids)."""
PANE_LABELS = {"queue": N_("Queue"), "board": N_("Technicians"), "sla": N_("Deadlines")}
NARROW_WIDTH = 120
NARROW_HEIGHT = 32
"""Below either size the panes are shown one at a time behind a tab strip."""
MAX_ALERT_TOASTS = 3
"""More alerts than this in one tick collapse into one summary toast."""
TTY_CHECK_SECONDS = 3.0
SAFE_SYSTEM_COMMANDS = frozenset({"Theme", "Quit", "Keys", "Maximize", "Minimize"})
"""Textual's palette system commands the console keeps (by title; new ones stay out)."""
TYPEAHEAD_LIMIT_SECONDS = 1.0
"""Keys typed after ``:`` are held at most this long if the prompt never takes them."""

QUALITY_REQUESTS = (
    ReportRequest,
    SurveyRequest,
    ImprovementRequest,
    ImprovementUpdateRequest,
    SuggestionRequest,
    SuggestionStatusRequest,
    ReloadRequest,
)
"""Requests run by ``screens.quality.execute`` (repair report, survey, registers, reload)."""

# The next lifecycle step for ``space``: the first of these the lifecycle allows right now.
FORWARD = (
    Action.ACK,
    Action.FEEDBACK,
    Action.DISPATCH,
    Action.DEPART,
    Action.ARRIVE,
    Action.RESOLVE,
    Action.SUBMIT,
    Action.APPROVE,
    Action.FOLLOWUP,
    Action.CLOSE,
)


def next_step(ticket: TicketSnapshot) -> Action | None:
    """The forward action ``space`` performs on ``ticket`` now, or None (e.g. while on hold)."""
    allowed = allowed_for(ticket)
    return next((a for a in FORWARD if a in allowed), None)


def default_board(policy: PolicySet) -> Board:
    """The domain's refresh board for ``policy``."""
    from windtui.domain.refresh import SlaBoard

    return SlaBoard(policy)


def open_prompt(app: App[Any]) -> None:
    """Open the ``:`` command line, holding the keys typed before it can take them.

    The prompt is a new screen: its input exists (and has the focus) only after it is composed,
    a few loop turns later. Keys that arrive meanwhile would go to the bare screen and be lost,
    or, before the push, fire the queue's single-key actions.
    """
    from windtui.tui.screens.command_line import open_command_line

    hold = getattr(app, "hold_typeahead", None)
    if hold is not None:
        hold()
    open_command_line(app)


def upsert_all(board: Any, tickets: list[TicketSnapshot]) -> None:
    """Upsert ``tickets`` into the SLA board, in one call when the board has ``upsert_many``."""
    items = [(t.id, t.version, t.timeline, t.farm_timezone, t.farm_calendar) for t in tickets]
    many = getattr(board, "upsert_many", None)
    if many is not None:
        many(items)
        return
    for tid, version, timeline, farm_tz, farm_calendar in items:
        board.upsert(tid, version, timeline, farm_tz=farm_tz, farm_calendar=farm_calendar)


class MainScreen(Screen[None]):
    """Header, the three panes (or one at a time with a tab strip when narrow) and the footer.

    Single-key bindings live here and on the panes, never on the app, so they never fire while a
    text input (filter, forms, command line) has focus.
    """

    AUTO_FOCUS = "#queue"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", N_("Help"), id="app.help"),
        # Priority: the prompt opens while the key is read, before the keys typed after it are
        # routed, so they reach the prompt instead of firing ticket actions (see open_prompt).
        Binding("slash", "filter", N_("Filter"), id="view.filter", priority=True),
        Binding("colon", "command_line", N_("Command"), id="app.command", priority=True),
        Binding("tab", "cycle_pane(1)", N_("Next pane"), show=False, id="pane.next"),
        Binding("shift+tab", "cycle_pane(-1)", N_("Previous pane"), show=False, id="pane.previous"),
        Binding("1", "pane('queue')", N_("Queue"), show=False, id="pane.queue"),
        Binding("2", "pane('board')", N_("Technicians"), show=False, id="pane.board"),
        Binding("3", "pane('sla')", N_("Deadlines"), show=False, id="pane.sla"),
        Binding("escape", "back", N_("Back"), show=False, id="app.back"),
        Binding("q", "app.request_quit", N_("Quit"), id="app.quit"),
        Binding("enter", "open_ticket", N_("Open"), id="ticket.open"),
        Binding("K", "kpi", N_("KPIs"), show=False, id="desk.kpi"),  # k is the list's "up"
        Binding(
            "I", "registers", N_("Improvements and suggestions"), show=False, id="desk.quality"
        ),
        *ticket_bindings(),  # the same ticket keys as the detail screen
    ]

    def __init__(self, state: DeskState) -> None:
        super().__init__(id="main")
        translate_bindings(self)
        self.state = state

    def compose(self) -> ComposeResult:
        yield DeskHeader(self.state.timezone, id="header")
        yield Static("", id="tabs")
        with Container(id="body"):
            yield QueuePane(self.state, id="pane-queue", classes="pane")
            yield CountdownPane(self.state, id="pane-sla", classes="pane")
            yield BoardPane(self.state, id="pane-board", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        if self.state.loaded:  # the data arrived before the screen was composed
            self.data_changed(tickets=True, technicians=True)
        self.tick()

    # -- panes --------------------------------------------------------------------------------
    @property
    def queue(self) -> TicketQueue:
        """The ticket queue."""
        return self.query_one(TicketQueue)

    def pane_widget(self, pane: str) -> Any:
        """The focus target of a pane."""
        return {"queue": TicketQueue, "board": TechnicianBoard, "sla": DeadlineList}[pane]

    @property
    def active_pane(self) -> str:
        """The pane that holds the focus (``queue`` when nothing is focused)."""
        node = self.focused
        while node is not None:
            if node.id and node.id.startswith("pane-"):
                return node.id.removeprefix("pane-")
            node = node.parent  # type: ignore[assignment]
        return "queue"

    def action_pane(self, pane: str) -> None:
        """Focus (and, when narrow, show) a pane.

        Synchronously (``set_focus``, not the deferred ``focus()``): a deferred focus would land
        after whatever the caller focuses next (the filter line) and take it away again.
        """
        self.set_focus(self.query_one(self.pane_widget(pane)))

    def action_cycle_pane(self, step: int) -> None:
        """Tab / Shift+Tab: the next or previous pane."""
        index = PANES.index(self.active_pane)
        self.action_pane(PANES[(index + step) % len(PANES)])

    def on_descendant_focus(self) -> None:
        self._show_active()

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW_WIDTH or self.size.height < NARROW_HEIGHT
        self.set_class(narrow, "-narrow")
        self._show_active()

    def _show_active(self) -> None:
        active = self.active_pane
        for pane in PANES:
            self.query_one(f"#pane-{pane}").set_class(pane == active, "-active")
        tabs = []
        for n, pane in enumerate(PANES, 1):
            label = f" {n} {_(PANE_LABELS[pane])} "
            tabs.append(f"[reverse b]{label}[/]" if pane == active else label)
        self.query_one("#tabs", Static).update("│".join(tabs))

    # -- data ---------------------------------------------------------------------------------
    def data_changed(self, tickets: bool = True, technicians: bool = False) -> None:
        """Tickets and/or technicians changed: rebuild the views (cursor and filter survive)."""
        if tickets:
            self.queue.data_changed()
            self.query_one(CountdownPane).data_changed()
        if technicians:
            self.query_one(BoardPane).data_changed()

    def tick(self) -> None:
        """The 1 Hz repaint: clock, counts, changed queue lines, deadlines."""
        state = self.state
        self.query_one(DeskClock).show(state.now)
        if not state.loaded:
            return
        c = state.board.counts
        self.query_one(DeskCounts).show(c.open, c.at_risk, c.breached, c.on_hold)
        self.queue.tick()
        self.query_one(CountdownPane).tick()

    # -- selection ----------------------------------------------------------------------------
    def selected_ticket(self) -> TicketSnapshot | None:
        """The ticket the action keys work on: from the focused pane."""
        pane = self.active_pane
        tid: Hashable | None = None
        if pane == "queue":
            tid = self.queue.cursor_key
        elif pane == "sla":
            tid = self.query_one(DeadlineList).selected_ticket
        else:
            tech = self.query_one(TechnicianBoard).selected
            if tech and tech.current_ticket:
                number = tech.current_ticket
                return next((t for t in self.state.tickets.values() if t.number == number), None)
        return self.state.tickets.get(tid) if tid is not None else None  # type: ignore[arg-type]

    def _require_ticket(self) -> TicketSnapshot | None:
        ticket = self.selected_ticket()
        if ticket is None:
            self.app.notify(_("No ticket selected"), severity="warning")
        return ticket

    # -- actions ------------------------------------------------------------------------------
    def action_help(self) -> None:
        """Help for the focused pane."""
        from windtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.active_pane))

    def _typing(self) -> None:
        """Let a priority prompt key through as text while an input (the filter) is focused."""
        if isinstance(self.focused, Input):
            raise SkipAction()

    def action_filter(self) -> None:
        """Open the queue's filter line (focused at once: see ``QueuePane.open_filter``)."""
        self._typing()
        self.action_pane("queue")
        self.query_one(QueuePane).open_filter()

    def action_command_line(self) -> None:
        """The ``:`` command line; keys typed before it is up are held for it."""
        self._typing()
        open_prompt(self.app)

    def action_back(self) -> None:
        """Esc: back to the queue; on the queue, clear the filter."""
        if self.active_pane != "queue":
            self.action_pane("queue")
        elif self.queue.filter.active:
            self.queue.set_filter("")

    def action_open_ticket(self) -> None:
        """Enter: the ticket detail screen."""
        if (ticket := self._require_ticket()) is not None:
            self.app.open_detail(ticket.number)  # type: ignore[attr-defined]

    def action_kpi(self) -> None:
        """``K``: the KPI screen (figures, trends, the tickets behind them)."""
        self.app.open_kpi()  # type: ignore[attr-defined]

    def action_registers(self) -> None:
        """``I``: the improvements and suggestions registers."""
        from windtui.tui.screens.quality import open_registers

        open_registers(self.app)

    def action_new_ticket(self) -> None:
        """``n``: the new-ticket form."""
        from windtui.tui.screens.forms import NewTicketForm

        self.app.push_screen(NewTicketForm(), self.app.perform_if_request)  # type: ignore[attr-defined]

    def action_reclassify(self) -> None:
        """``p``: change the selected ticket's priority or category (through its form)."""
        self.action_act(RECLASSIFY)

    def action_menu(self) -> None:
        """``m``: the menu of every action the selected ticket allows now."""
        if (ticket := self._require_ticket()) is not None:
            app: WindApp = self.app  # type: ignore[assignment]
            open_action_menu(self, ticket, allowed_for(ticket), app.perform_if_request)

    def action_next_step(self) -> None:
        """``space``: perform the selected ticket's next lifecycle step."""
        if (ticket := self._require_ticket()) is None:
            return
        action = next_step(ticket)
        if action is None:
            why = _("ticket {number} has no next step now").format(number=ticket.number)
            if lifecycle.is_on_hold(ticket.timeline):
                why = _("ticket {number} is on hold: resume it first (r)").format(
                    number=ticket.number
                )
            self.app.notify(why, severity="warning")
            return
        self.action_act(action.value)

    def action_act(self, action_name: str) -> None:
        """Run ``action_name`` on the selected ticket, through its form when it needs input;
        an action the ticket does not allow now is refused with a toast."""
        if (ticket := self._require_ticket()) is None:
            return
        app: WindApp = self.app  # type: ignore[assignment]
        run_ticket_action(self, ticket, allowed_for(ticket), action_name, app.perform_if_request)


def _key_names() -> dict[str, str]:
    """Key names shown in footers and help, by Textual's display name (in the current language)."""
    return {"space": _("Space"), "enter": _("Enter"), "escape": _("Esc"), "tab": _("Tab")}


class DeskPalette(CommandPalette):
    """Textual's command palette with its visible texts in the desk's language."""

    def __init__(self) -> None:
        super().__init__(placeholder=_("Search for commands…"), id="--command-palette")

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual adds an English "No matches found" row; replace it with ours once it appears.
        super()._start_no_matches_countdown(search_value)
        self.set_timer(self._NO_MATCHES_COUNTDOWN + 0.05, self._translate_no_matches)

    def _translate_no_matches(self) -> None:
        command_list = self.query_one(CommandList)
        with contextlib.suppress(OptionDoesNotExist):  # the search found something after all
            command_list.replace_option_prompt(
                self._NO_MATCHES, Align.center(Text(_("No matches found"), style="not bold"))
            )


class WindApp(App[int]):
    """The dispatch console. ``desk`` is a ``windtui.services.desk.Desk`` (used in workers only)."""

    CSS_PATH = "windtui.tcss"
    TITLE = "windtui"
    COMMANDS: ClassVar = App.COMMANDS | {DeskCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "request_quit", N_("Quit"), show=False, priority=True, id="app.quit_now"),
        # Our own palette binding (Textual adds an untranslated "palette" one only when none
        # exists), so the footer and help speak the desk's language and users can remap it.
        Binding(
            "ctrl+p", "command_palette", N_("Commands"), show=False, priority=True, id="app.palette"
        ),
    ]

    def __init__(
        self,
        desk: Any,
        *,
        clock: Callable[[], datetime] | None = None,
        config: ConsoleConfig | None = None,
        live: bool = True,
        poll_interval: float = 1.0,
        board_factory: Callable[[PolicySet], Board] | None = None,
        watch_terminal: bool = False,
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.desk = desk
        """The services facade; touched only from thread workers."""
        self.clock: Callable[[], datetime] = clock or desk.clock
        self.config = config or ConsoleConfig()
        self.live = live
        self.poll_interval = poll_interval
        self.board_factory = board_factory or default_board
        self.watch_terminal = watch_terminal
        self.state = DeskState(board=_EmptyBoard(), now=self.clock(), timezone=self.config.timezone)
        self.seq = 0
        """High-water mark of ``desk.changed_since``."""
        self.policy_digest = ""
        """Digest of the SLA policy the board plans with (the poll compares the desk's)."""
        self.alerts_seen: list[tuple[int, Target, ClockState]] = []
        """Every alert raised so far (tests and the benchmark read it)."""
        self._wake = threading.Event()
        self._typeahead: list[events.Key] | None = None
        """Keys held while a prompt opens (None: keys are routed as usual)."""
        self.main = MainScreen(self.state)
        self.crew_only = False
        """True once the desk says a technician is logged in: ``main`` is their "my jobs"."""
        self.identity: Any = None
        """Who is at the console (the desk's ``Identity``), once the first load has read it."""
        if self.config.keys:
            self.set_keymap(self.config.keys)

    def get_key_display(self, binding: Binding) -> str:
        """Key names as a dispatcher reads them, translated (``space`` → "Space" / "空格")."""
        shown = super().get_key_display(binding)
        return shown if binding.key_display else _key_names().get(shown, shown)

    def action_command_palette(self) -> None:
        """Open the command palette with translated texts."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(DeskPalette())

    # -- toasts and Textual built-ins a remote user must not reach ----------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast, always plain text: messages quote user input (titles, logins, errors), so
        controls are made visible and nothing is read as markup (``markup`` is ignored)."""
        super().notify(
            visible(message, multiline=True),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette system commands, only those that neither save nor open anything
        (no "Screenshot": the console is reached over SSH and writes no files)."""
        for command in super().get_system_commands(screen):
            if command.title in SAFE_SYSTEM_COMMANDS:
                yield command

    def _refuse_outside_effect(self) -> None:
        self.notify(
            _("Not available in the console: it saves no files, opens no links, runs nothing"),
            severity="warning",
        )

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Refused: a screenshot is a file written at a path the user chooses."""
        self._refuse_outside_effect()

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Refused (see :meth:`action_screenshot`)."""
        self._refuse_outside_effect()
        return None

    def save_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str:
        """Refused (see :meth:`action_screenshot`); returns no path."""
        self._refuse_outside_effect()
        return ""

    def deliver_text(self, *args: Any, **kwargs: Any) -> str | None:
        """Refused: nothing is saved to disk or handed to a browser."""
        self._refuse_outside_effect()
        return None

    def deliver_binary(self, *args: Any, **kwargs: Any) -> str | None:
        """Refused (see :meth:`deliver_text`)."""
        self._refuse_outside_effect()
        return None

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Refused: the console opens no links (over textual-serve, in the user's browser)."""
        self._refuse_outside_effect()

    def action_suspend_process(self) -> None:
        """Refused: the console never hands the terminal to a shell."""
        self._refuse_outside_effect()

    @contextlib.contextmanager
    def suspend(self) -> Iterator[None]:
        """Refused: nothing runs in the console's terminal (no editor, no shell)."""
        raise SuspendNotSupported(_("the console never suspends to run another program"))
        yield  # pragma: no cover - a generator, for contextmanager

    # -- lifecycle ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(self.main)
        self.load()
        if self.live:
            self.set_interval(1.0, self.tick, name="tick")
            self.poll()
        if self.watch_terminal:
            self.set_interval(TTY_CHECK_SECONDS, self._check_terminal, name="tty-watchdog")
            # sshd sends SIGHUP when the link drops; the loop runs the handler between tasks.
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.lost_terminal)

    def on_unmount(self) -> None:
        gc.unfreeze()  # several consoles in one process (tests) must not pile up frozen cycles

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        """Read everything the panes show (thread) and hand it to the UI."""
        desk = self.desk
        try:
            identity = self.identity = desk.identity
            set_identity(identity.roles, identity.login)  # keys and menus follow the roles
            if getattr(identity, "crew_only", False):  # before the tickets: no flash of the desk
                self.call_from_thread(self.open_my_jobs, identity)
            digest = desk.policy_digest()
            policy = desk.policy()
            tickets = desk.open_tickets()
            mark = max((t.change_seq for t in tickets), default=0)
            # Anything written while we read comes back here (closed ones get dropped).
            mark, late = desk.changed_since(mark)
            techs = desk.technicians()
            farms = frozenset(f.code for f in desk.farms())
            board = self.board_factory(policy)
            fresh = {t.id: t for t in [*tickets, *late]}.values()
            upsert_all(board, [t for t in fresh if t.state.is_open])
            # The first refresh evaluates every clock (~10k tickets): here, off the UI thread.
            # It raises no alerts (clocks seen for the first time), so nothing is lost.
            board.refresh(self.clock())  # type: ignore[attr-defined]
        except WindtuiError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=30)
            return
        self.call_from_thread(self._install, board, [*tickets, *late], techs, mark, digest, farms)
        # Import the detail screen here, off the UI thread: the first Enter would pay ~25 ms.
        import windtui.tui.screens.detail  # noqa: F401

    def open_my_jobs(self, identity: Any) -> None:
        """A technician's console: their "my jobs" screen takes the main screen's place."""
        from windtui.tui.screens.my_jobs import MyJobsScreen

        self.crew_only = True
        # Pushed over the (empty, never fed) dispatch screen rather than replacing it: that one
        # may still be composing, and its deferred callbacks must find their widgets.
        self.main = MyJobsScreen(self.state, identity)  # type: ignore[assignment]
        self.push_screen(self.main)

    def _install(
        self,
        board: Board,
        tickets: list[TicketSnapshot],
        techs: list[TechnicianRecord],
        mark: int,
        digest: str,
        farms: frozenset[str] = frozenset(),
    ) -> None:
        state = self.state
        state.farms = farms
        state.board = board
        state.plans += 1
        self.policy_digest = digest
        state.tickets = {t.id: t for t in tickets if t.state.is_open}
        state.technicians = techs
        state.loaded = True
        self.seq = mark
        # Move the 10k snapshots and the SLA plans out of the cyclic collector's reach: a full
        # collection over them takes ~60 ms, a visible stall on whatever key it lands on. They
        # are freed by reference counting as usual; on_unmount hands them back to the collector.
        gc.freeze()
        self._refresh_board()
        if self.main.is_mounted:
            self.main.data_changed(tickets=True, technicians=True)
            self.main.tick()

    # -- the 1 Hz tick ------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance the SLA board to now and repaint what changed (no database work)."""
        self._refresh_board()
        if self.screen is self.main or self.main in self.screen_stack[-2:]:
            self.main.tick()

    def _refresh_board(self) -> None:
        self.state.now = self.clock()
        if not self.state.loaded:
            return
        # The board raises no alerts for clocks it sees for the first time (console start-up).
        result = self.state.board.refresh(self.state.now)  # type: ignore[attr-defined]
        self.raise_alerts(result.alerts)

    def raise_alerts(self, alerts: list[tuple[int, Target, ClockState]]) -> None:
        """One toast (and a bell when configured) per clock entering at risk or breached."""
        if not alerts:
            return
        self.alerts_seen.extend(alerts)
        if self.config.bell:
            self.bell()
        if len(alerts) > MAX_ALERT_TOASTS:
            breached = sum(1 for a in alerts if a[2] is ClockState.BREACHED)
            self.notify(
                _("{count} clocks changed: {breached} breached, {risk} at risk").format(
                    count=len(alerts), breached=breached, risk=len(alerts) - breached
                ),
                severity="error" if breached else "warning",
            )
            return
        for tid, target, state in alerts:
            ticket = self.state.tickets.get(tid)
            number = ticket.number if ticket else tid
            if state is ClockState.BREACHED:
                text = _("Ticket {number}: {target} breached").format(
                    number=number, target=_(target.label)
                )
            else:
                text = _("Ticket {number}: {target} at risk").format(
                    number=number, target=_(target.label)
                )
            self.notify(text, severity="error" if state is ClockState.BREACHED else "warning")

    # -- other consoles -----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll(self) -> None:
        """Every ~poll_interval: has anyone written? Then load what changed (thread)."""
        worker = get_current_worker()
        last = self.desk.data_version()
        while not worker.is_cancelled:
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            if worker.is_cancelled:
                break
            self.poll_once(last_version=last)
            last = self.desk.data_version()

    def poll_once(self, last_version: int | None = None) -> bool:
        """One poll (thread): load changes when ``data_version`` moved. True when it loaded.

        A new SLA policy (``windtui policy load`` at any desk) changes no ticket, only the
        policy digest: it is probed here too, and the board replans with the new policy.
        """
        desk = self.desk
        try:
            if last_version is not None and desk.data_version() == last_version:
                return False
            mark, changed = desk.changed_since(self.seq)
            # A job reassigned away is not "changed" for its old technician: it is just gone.
            mine = frozenset(t.id for t in desk.open_tickets()) if self.crew_only else None
            techs = desk.technicians() if changed else None
            digest = desk.policy_digest()
            policy = desk.policy() if digest != self.policy_digest else None
        except WindtuiError as error:
            self.call_from_thread(self.notify, str(error), severity="error")
            return False
        if policy is not None:
            self.call_from_thread(self.apply_policy, policy, digest)
        if changed or mine is not None:
            self.call_from_thread(self.apply_changes, changed, techs, mark, mine)
        return bool(changed) or policy is not None

    def apply_policy(self, policy: PolicySet, digest: str) -> None:
        """Replan every clock with a new SLA policy and repaint (UI thread)."""
        state = self.state
        if not state.loaded or digest == self.policy_digest:
            return
        self.policy_digest = digest
        state.board.set_policy(policy)  # type: ignore[attr-defined]
        state.plans += 1
        self._refresh_board()
        if self.main.is_mounted:
            self.main.data_changed(tickets=True)
            self.main.tick()
        self.notify(_("New SLA policy in force: every clock recalculated"))

    def apply_changes(
        self,
        changed: list[TicketSnapshot],
        techs: list[TechnicianRecord] | None = None,
        mark: int | None = None,
        keep: frozenset[int] | None = None,
    ) -> None:
        """Upsert changed tickets into the board and the panes (UI thread); with ``keep``
        (a technician's console), tickets not in it are no longer theirs and are dropped."""
        state = self.state
        if not state.loaded:
            return
        board: Any = state.board
        gone = [tid for tid in state.tickets if tid not in keep] if keep is not None else []
        if keep is not None and not changed and not gone:
            return  # someone else's ticket changed: nothing to repaint here
        for tid in gone:
            del state.tickets[tid]
            board.remove(tid)
        upserts = []
        for t in {t.id: t for t in changed}.values():  # the latest snapshot of each ticket
            if t.state.is_open:
                state.tickets[t.id] = t
                upserts.append(t)
            elif state.tickets.pop(t.id, None) is not None:
                board.remove(t.id)
        upsert_all(board, upserts)
        state.plans += 1
        if mark is not None:
            self.seq = max(self.seq, mark)
        if techs is not None:
            state.technicians = techs
        self._refresh_board()
        if self.main.is_mounted:
            self.main.data_changed(tickets=True, technicians=techs is not None)
            self.main.tick()

    def wake_poll(self) -> None:
        """Poll now instead of at the next interval (after our own write)."""
        self._wake.set()

    # -- writes -------------------------------------------------------------------------------
    def perform_if_request(self, request: DeskRequest | None) -> None:
        """Form callback: perform the request unless the form was cancelled."""
        if request is not None:
            self.perform(request)

    @work(thread=True, group="perform", exit_on_error=False)
    def perform(
        self,
        request: DeskRequest,
        on_error: Callable[[WindtuiError], None] | None = None,
    ) -> object | None:
        """Run a request through the desk (thread); toast the outcome; refresh the panes.

        Returns the ticket snapshot (or, for the registers, the saved record); None when the desk
        refused, which is toasted — or handed to ``on_error`` (a form that stays open and shows
        it under the field it names).
        """
        desk = self.desk
        saved: object | None = None
        try:
            if isinstance(request, QUALITY_REQUESTS):
                from windtui.tui.screens.quality import execute

                snap, done, saved = execute(desk, request)
            elif isinstance(request, ActionRequest):
                snap = desk.act(
                    request.number,
                    request.action,
                    reason=request.reason,
                    evidence=request.evidence,
                    technician=request.technician,
                    at=request.at,
                    expected_version=request.expected_version,
                )
                done = _("Ticket {number}: {action}").format(
                    number=snap.number, action=_(request.action.label)
                )
            elif isinstance(request, AssignRequest):
                snap = desk.assign(
                    request.number, request.technician, expected_version=request.expected_version
                )
                done = _("Ticket {number} assigned to {who}").format(
                    number=snap.number, who=request.technician
                )
            elif isinstance(request, NewTicketRequest):
                snap = desk.create_ticket(
                    farm=request.farm,
                    category=request.category,
                    priority=request.priority,
                    title=request.title,
                    turbine=request.turbine,
                    description=request.description,
                    fault_code=request.fault_code,
                    reporter=request.reporter,
                    contact=request.contact,
                    channel=request.channel,
                    turbine_stopped=request.turbine_stopped,
                )
                done = _("Ticket {number} created").format(number=snap.number)
            elif isinstance(request, ReclassifyRequest):
                snap = desk.reclassify(
                    request.number,
                    priority=request.priority,
                    category=request.category,
                    reason=request.reason,
                    expected_version=request.expected_version,
                )
                done = _("Ticket {number}: now {priority} · {category}").format(
                    number=snap.number,
                    priority=_(snap.priority.label),
                    category=_(snap.category.label),
                )
            elif isinstance(request, NoteRequest):
                snap = desk.add_note(
                    request.number, request.text, expected_version=request.expected_version
                )
                done = _("Ticket {number}: work note added").format(number=snap.number)
            else:  # pragma: no cover - the request union is closed
                raise TypeError(request)
            techs = desk.technicians() if snap is not None else None
        except WindtuiError as error:
            if on_error is not None:
                self.call_from_thread(on_error, error)
            else:
                self.call_from_thread(self.notify, str(error), severity="error", timeout=8)
            return None
        self.call_from_thread(self._performed, snap, techs, done)
        return saved if saved is not None else snap

    def _performed(
        self, snap: TicketSnapshot | None, techs: list[TechnicianRecord] | None, done: str
    ) -> None:
        if snap is not None:
            self.apply_changes([snap], techs)
            if snap.state.is_open:
                self.main.queue.select_key(snap.id)
        if done:
            self.notify(done)
        self.wake_poll()

    # -- navigation used by the command line and the palette ----------------------------------
    def open_detail(self, number: int | None) -> None:
        """The detail screen of ticket ``number``."""
        from windtui.tui.screens.detail import DetailScreen

        if number is not None:
            self.push_screen(DetailScreen(number))

    def open_kpi(self, period: str | None = None) -> None:
        """The KPI screen, for ``period`` (a label such as ``2025Q1``; default: the current
        quarter); a role that may not read KPIs gets a one-line toast instead."""
        from windtui.tui.screens.kpi import open_kpi

        open_kpi(self, period)

    def action_help(self) -> None:
        """Help for the focused pane or the screen on top (from the command line)."""
        if self.screen is self.main:
            self.main.action_help()
        elif hasattr(self.screen, "action_help"):
            self.screen.action_help()

    def action_filter(self, text: str = "") -> None:
        """Apply a queue filter (from the command line)."""
        try:
            self.main.queue.set_filter(text)
        except WindtuiError as error:
            self.notify(str(error), severity="error")
            return
        self.main.action_pane("queue")
        self.main.query_one(QueuePane).retitle()

    def action_request_quit(self) -> None:
        """Quit; asks first when the top screen is a form with unsaved input."""
        if getattr(self.screen, "has_unsaved_input", False):
            from windtui.tui.screens.confirm import confirm_quit

            self.push_screen(confirm_quit(), lambda yes: self.exit(0) if yes else None)
        else:
            self.exit(0)

    # -- type-ahead -------------------------------------------------------------------------
    def hold_typeahead(self) -> None:
        """Hold incoming keys until :meth:`release_typeahead` (a prompt is opening)."""
        self._typeahead = []
        self.set_timer(TYPEAHEAD_LIMIT_SECONDS, self.release_typeahead)

    def release_typeahead(self) -> None:
        """Route the held keys, in order, to whatever has the focus now (the prompt's input)."""
        keys, self._typeahead = self._typeahead, None
        if not keys:
            return
        target = self.focused or self.screen
        for key in keys:
            target._forward_event(key)

    async def on_event(self, event: events.Event) -> None:
        """Hold fresh keys while a prompt opens; everything else as usual."""
        if self._typeahead is not None and isinstance(event, events.Key) and not event.is_forwarded:
            self._typeahead.append(event)
            return
        await super().on_event(event)

    # -- lost terminal ------------------------------------------------------------------------
    def _check_terminal(self) -> None:
        try:
            alive = sys.stdin.isatty() and os.isatty(sys.__stdout__.fileno())  # type: ignore[union-attr]
        except (ValueError, OSError):
            alive = False
        if not alive:
            self.lost_terminal()

    def lost_terminal(self) -> None:
        """SIGHUP or no terminal any more: stop the workers and end the process."""
        for worker in self.workers:
            worker.cancel()
        self._wake.set()
        # The terminal is gone, so restoring it may block: a hard stop follows shortly.
        threading.Timer(3.0, os._exit, args=(129,)).start()
        self.exit(129)


class _EmptyBoard:
    """Stand-in until the real board is loaded (nothing to show)."""

    class _Counts:
        open = at_risk = breached = on_hold = 0

    counts = _Counts()

    def clocks(self, ticket_id: int, now: datetime) -> tuple[()]:
        return ()

    def next_due(self, ticket_id: int) -> None:
        return None

    def nearest(self, limit: int, now: datetime) -> list[Any]:
        return []


def run_console(
    *,
    db_url: str | None,
    now: datetime | None,
    lang: str | None,
    mouse: bool | None,
    actor: str | None = None,
) -> int:
    """Run the console on a real terminal (the CLI's ``windtui`` with no subcommand)."""
    from windtui.services.desk import Desk

    if lang:
        set_language(lang)
    # Under textual-serve stdin/stdout are pipes to the web driver, not a terminal to watch.
    served = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        # ``ssh -T``, sftp or a piped command: painting escape codes into a pipe helps nobody.
        raise WindtuiError(
            _(
                "the console needs a terminal (ssh -t); for scripts use commands such as"
                " `windtui tickets --json`"
            )
        )
    config = load_config()
    desk = Desk.open_for_login(db_url, now=now, requested=actor)
    if mouse is None:
        # Mouse motion reporting costs a lot of bytes on a thin SSH link: off for remote users.
        mouse = not os.environ.get("SSH_CONNECTION")
    if os.environ.get("SSH_CONNECTION"):
        os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    app = WindApp(desk, config=config, watch_terminal=not served)
    try:
        code = app.run(mouse=mouse)
    finally:
        desk.close()
    return int(code or app.return_code or 0)


__all__ = ["MainScreen", "WindApp", "next_step", "run_console"]
