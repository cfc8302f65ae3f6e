"""Pilot tests of the detail screen, the forms, the help and the command palette.

They run against the real ``Desk`` on a temporary SQLite file (the ``desk`` fixture) inside a
small harness app that provides what ``WindApp`` provides to screens: ``desk``, ``clock()``,
``perform(request)`` (run in a thread worker, recorded) and ``open_detail(number)``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Select, Static
from textual.worker import Worker

from windtui.domain.model import (
    Action,
    Category,
    Clock,
    ClockState,
    HoldReason,
    Priority,
    Target,
    TicketState,
)
from windtui.services.desk import Desk
from windtui.tui.actions import ACTION_KEYS
from windtui.tui.commands import DeskCommands, binding_commands, command_line_entries
from windtui.tui.requests import (
    ActionRequest,
    AssignRequest,
    DeskRequest,
    NewTicketRequest,
    ReclassifyRequest,
)
from windtui.tui.screens import (
    AssignForm,
    DetailScreen,
    HelpScreen,
    HoldForm,
    NewTicketForm,
    ReasonForm,
    ReclassifyForm,
    ResumeForm,
)
from windtui.tui.screens.confirm import ConfirmScreen
from windtui.tui.screens.forms import FilterPicker
from windtui.tui.screens.help import collect_keys
from windtui.tui.widgets.clockbar import ClockBar, clock_line, live_reading

from .support import settle

SIZE = (140, 50)


def execute(desk: Desk, request: DeskRequest) -> object:
    """Run a request through the desk the way the console does."""
    if isinstance(request, NewTicketRequest):
        fields = {k: getattr(request, k) for k in request.__slots__}
        return desk.create_ticket(**fields)
    if isinstance(request, AssignRequest):
        return desk.assign(
            request.number, request.technician, expected_version=request.expected_version
        )
    if isinstance(request, ReclassifyRequest):
        return desk.reclassify(
            request.number,
            priority=request.priority,
            category=request.category,
            reason=request.reason,
            expected_version=request.expected_version,
        )
    return desk.act(
        request.number,
        request.action,
        reason=request.reason,
        evidence=request.evidence,
        technician=request.technician,
        at=request.at,
        expected_version=request.expected_version,
    )


class Harness(App[None]):
    """Stands in for ``WindApp``: a desk, a frozen clock, ``perform`` and ``open_detail``."""

    COMMANDS = App.COMMANDS | {DeskCommands}
    AUTO_FOCUS = None

    def __init__(self, desk: Desk, start: Callable[[], Screen[Any]] | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.start = start
        self.performed: list[DeskRequest] = []
        self.results: list[object] = []
        self.opened: list[int] = []

    def clock(self):
        return self.desk.clock()

    def compose(self) -> ComposeResult:
        yield Static("main")

    def on_mount(self) -> None:
        if self.start is not None:
            self.push_screen(self.start(), self.results.append)

    def perform(self, request: DeskRequest) -> Worker[object]:
        self.performed.append(request)
        return self.run_worker(lambda: execute(self.desk, request), thread=True)

    def open_detail(self, number: int) -> None:
        self.opened.append(number)


def make_ticket(desk: Desk, **overrides: Any) -> int:
    """A P2 fault on DBC-A07, received 50 min ago, acknowledged 40 min ago, turbine stopped."""
    fields: dict[str, Any] = {
        "farm": "DBC",
        "category": Category.FAULT,
        "priority": Priority.P2,
        "title": "Pitch motor overheating",
        "turbine": "DBC-A07",
        "fault_code": "F-3021",
        "reporter": "Zhang San",
        "contact": "+86 138 0000 0000",
        "channel": "phone",
        "description": "Blade 2 pitch motor temperature alarm, turbine tripped",
        "turbine_stopped": True,
        "at": desk.clock() - timedelta(minutes=50),
    }
    fields.update(overrides)
    number = desk.create_ticket(**fields).number
    desk.act(number, Action.ACK, at=desk.clock() - timedelta(minutes=40))
    return number


def text_of(screen: Screen[Any], selector: str) -> str:
    """The plain text a Static shows (tables rendered at the test terminal's width)."""
    console = Console(width=SIZE[0], file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(screen.query_one(selector, Static).content)
    return capture.get()


# ------------------------------------------------------------------------------------ detail


async def test_detail_shows_fields_clocks_events_and_allowed_actions(desk: Desk) -> None:
    number = make_ticket(desk)
    app = Harness(desk, lambda: DetailScreen(number))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.detail is not None
        bars = list(screen.query(ClockBar))
        assert len(bars) == 7
        clock_text = "\n".join(str(bar.render()) for bar in bars)
        for label in ("Acknowledge", "Feedback", "On site", "Repair", "Report", "Review"):
            assert label in clock_text
        assert "Follow-up" in clock_text
        assert "Met" in clock_text and "Running" in clock_text
        fields = text_of(screen, "#detail-fields")
        assert "DBC-A07" in fields and "F-3021" in fields and "Zhang San" in fields
        assert "Dabancheng Wind Farm" in fields
        events = text_of(screen, "#detail-events")
        # Times in the farm's timezone (Asia/Shanghai, UTC+8): acknowledged at 01:20 UTC.
        assert "2025-03-03 09:20:00" in events and "Acknowledged" in events
        assert "0:50:00" in text_of(screen, "#detail-downtime")
        actions = text_of(screen, "#detail-actions")
        assert "Give feedback" in actions and " f " in actions
        assert "Close" not in actions  # not allowed from acknowledged
        assert screen.check_action("act", ("feedback",)) is True


async def test_detail_action_key_performs_and_reloads(desk: Desk) -> None:
    number = make_ticket(desk)
    version = desk.ticket(number).version
    app = Harness(desk, lambda: DetailScreen(number))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("c")  # close: not allowed now, nothing happens
        await pilot.press("f")
        await settle(app, pilot)
        assert app.performed == [ActionRequest(number, Action.FEEDBACK, expected_version=version)]
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.detail is not None
        assert screen.detail.ticket.state is TicketState.FEEDBACK_GIVEN
        assert "Feedback given" in text_of(screen, "#detail-title")


async def test_detail_hold_key_opens_the_hold_form_and_holds(desk: Desk) -> None:
    number = make_ticket(desk)
    app = Harness(desk, lambda: DetailScreen(number))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, HoldForm)
        form.query_one("#reason", Select).value = HoldReason.WEATHER.value
        form.query_one("#evidence", Input).focus()
        await pilot.press(*"wind 22 m/s", "enter")
        await settle(app, pilot)
        assert app.performed[0].action is Action.HOLD
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.ticket.hold is HoldReason.WEATHER
        assert "wind 22 m/s" in text_of(detail, "#detail-holds")
        paused = [c for c in detail.detail.clocks if c.state is ClockState.PAUSED]
        assert paused, "the weather hold pauses at least one clock"
        assert "held: Weather" in str(detail.query_one("#clock-onsite", ClockBar).render())


async def test_detail_dispatch_opens_the_technician_picker(desk: Desk) -> None:
    number = make_ticket(desk)
    desk.act(number, Action.FEEDBACK)
    app = Harness(desk, lambda: DetailScreen(number))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, AssignForm)
        await pilot.press(*"lihua", "enter")
        await settle(app, pilot)
        request = app.performed[0]
        assert isinstance(request, ActionRequest)
        assert (request.action, request.technician) == (Action.DISPATCH, "lihua")
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.ticket.owner == "lihua"


async def test_detail_escape_goes_back_and_unknown_ticket_shows_error(desk: Desk) -> None:
    app = Harness(desk, lambda: DetailScreen(4242))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "4242" in text_of(app.screen, "#detail-status")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        assert app.results == [None]


# ------------------------------------------------------------------------------------- forms


async def test_new_ticket_form_validates_inline(desk: Desk) -> None:
    app = Harness(desk, NewTicketForm)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        assert form.has_unsaved_input is False
        await pilot.press("ctrl+s")
        errors = form.errors
        assert set(errors) == {"farm", "turbine", "title"}
        assert errors["title"] == "Title: required"
        assert errors["farm"].startswith("Farm:")
        assert app.results == []  # still open


async def test_new_ticket_form_submits_a_request(desk: Desk) -> None:
    app = Harness(desk, lambda: NewTicketForm(farm="DBC"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        form.query_one("#turbine Input", Input).focus()
        await pilot.press(*"b0", "down")  # filter to B05 (only match), down stays on it
        await settle(app, pilot)
        assert form.query_one("#turbine", FilterPicker).value == "DBC-B05"
        form.query_one("#title", Input).focus()
        await pilot.press(*"Gearbox oil pressure low")
        form.query_one("#turbine_stopped").focus()
        await pilot.press("space")
        assert form.has_unsaved_input is True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.results == [
            NewTicketRequest(
                farm="DBC",
                category=Category.FAULT,
                priority=Priority.P3,
                title="Gearbox oil pressure low",
                turbine="DBC-B05",
                turbine_stopped=True,
            )
        ]


async def test_new_ticket_turbine_is_optional_for_infrastructure(desk: Desk) -> None:
    app = Harness(desk, lambda: NewTicketForm(farm="DBC"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        form.query_one("#category", Select).value = Category.INFRASTRUCTURE.value
        await settle(app, pilot)
        picker = form.query_one("#turbine", FilterPicker)
        assert picker.value == "-"  # "no turbine" offered first
        form.query_one("#title", Input).focus()
        await pilot.press(*"Substation breaker trips", "enter")
        await pilot.pause()
        (request,) = app.results
        assert isinstance(request, NewTicketRequest)
        assert request.turbine is None and request.category is Category.INFRASTRUCTURE


async def test_new_ticket_stopped_turbine_needs_a_turbine(desk: Desk) -> None:
    app = Harness(desk, lambda: NewTicketForm(farm="DBC"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        form.query_one("#category", Select).value = Category.CONSULTING.value
        form.query_one("#title", Input).value = "Question about yaw"
        form.query_one("#turbine_stopped").focus()
        await pilot.press("space", "ctrl+s")
        assert form.errors == {"turbine_stopped": "Turbine stopped: needs a turbine"}


async def test_new_ticket_escape_cancels(desk: Desk) -> None:
    app = Harness(desk, NewTicketForm)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_hold_form_requires_reason_and_evidence(desk: Desk) -> None:
    app = Harness(desk, lambda: HoldForm(1001, 3))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, HoldForm)
        await pilot.press("ctrl+s")
        assert form.errors == {
            "reason": "Reason: choose a hold reason",
            "evidence": "Evidence: required",
        }
        assert form.focused is form.query_one("#reason")
        await pilot.press("enter", "down", "down", "enter")  # open the list, take the 2nd reason
        assert form.query_one("#reason", Select).value == HoldReason.PARTS.value
        assert form.has_unsaved_input is True
        await pilot.press("tab", *"gearbox bearing on order", "enter")
        await pilot.pause()
        assert app.results == [
            ActionRequest(
                1001,
                Action.HOLD,
                reason="parts",
                evidence="gearbox bearing on order",
                expected_version=3,
            )
        ]


async def test_resume_form_note_is_optional(desk: Desk) -> None:
    app = Harness(desk, lambda: ResumeForm(1001, 4))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.has_unsaved_input is False  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [ActionRequest(1001, Action.RESUME, expected_version=4)]


@pytest.mark.parametrize("action", [Action.CANCEL, Action.REOPEN])
async def test_reason_form(desk: Desk, action: Action) -> None:
    app = Harness(desk, lambda: ReasonForm(1001, 2, action))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ReasonForm)
        await pilot.press("enter")
        assert form.errors == {"reason": "Reason: required"}
        await pilot.press(*"duplicate of 1000")
        assert form.has_unsaved_input is True
        assert form.errors == {}  # the field changed: its error no longer applies
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [
            ActionRequest(1001, action, reason="duplicate of 1000", expected_version=2)
        ]


async def test_assign_form_filters_technicians_and_assigns(desk: Desk) -> None:
    app = Harness(desk, lambda: AssignForm(1001, 5))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, AssignForm)
        picker = form.query_one("#technician", FilterPicker)
        assert picker.value == "lihua"  # available technicians first, then by login
        await pilot.press(*"LGG")  # base of zhaom
        assert picker.value == "zhaom"
        await pilot.press("backspace", "backspace", "backspace", *"nobody")
        assert picker.value is None
        await pilot.press("enter")
        assert form.errors == {"technician": "Technician: choose a technician"}
        await pilot.press("ctrl+u", *"URC")  # both available technicians are based in URC
        assert picker.value == "lihua"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.results == [AssignRequest(1001, "wangjg", expected_version=5)]


async def test_assign_form_escape_asks_before_discarding_unsaved_input(desk: Desk) -> None:
    app = Harness(desk, lambda: AssignForm(1001, 5, Action.DISPATCH))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, AssignForm)
        await pilot.press("w")
        assert form.has_unsaved_input is True
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.results == []
        await pilot.press("escape")  # Esc on the question stays in the form, input kept
        await pilot.pause()
        assert app.screen is form and form.has_unsaved_input and app.results == []
        await pilot.press("escape", "n")
        await pilot.pause()
        assert app.screen is form and app.results == []
        await pilot.press("escape", "y")
        await pilot.pause()
        assert app.results == [None]


async def test_form_escape_enter_discards(desk: Desk) -> None:
    app = Harness(desk, lambda: ReasonForm(1001, 5, Action.CANCEL))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press(*"dup", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [None]


async def test_reclassify_form_needs_a_change_and_a_reason(desk: Desk) -> None:
    app = Harness(desk, lambda: ReclassifyForm(1001, 3, Priority.P3, Category.FAULT))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ReclassifyForm)
        assert form.has_unsaved_input is False
        await pilot.press("ctrl+s")
        assert form.errors == {
            "priority": "Priority: same as now — change it or the category",
            "reason": "Reason: required",
        }
        form.query_one("#category", Select).value = Category.INFRASTRUCTURE.value
        await pilot.pause()
        assert form.has_unsaved_input is True
        await pilot.press("ctrl+s")
        assert form.errors == {"reason": "Reason: required"}
        form.query_one("#reason", Input).focus()
        await pilot.press(*"collector line, not the turbine", "enter")
        await pilot.pause()
        assert app.results == [
            ReclassifyRequest(
                1001,
                "collector line, not the turbine",
                category=Category.INFRASTRUCTURE,
                expected_version=3,
            )
        ]


async def test_detail_p_changes_priority(desk: Desk) -> None:
    number = make_ticket(desk)
    version = desk.ticket(number).version
    assert "p" not in ACTION_KEYS.values()  # p is priority/category on every screen
    app = Harness(desk, lambda: DetailScreen(number))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReclassifyForm)
        assert (form.priority, form.category, form.version) == (
            Priority.P2,
            Category.FAULT,
            version,
        )
        await pilot.press("enter", "up", "enter", "tab", "tab", *"string down", "enter")
        await settle(app, pilot)
        assert app.performed == [
            ReclassifyRequest(number, "string down", priority=Priority.P1, expected_version=version)
        ]
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.detail is not None
        assert screen.detail.ticket.priority is Priority.P1
        events = text_of(screen, "#detail-events")
        assert "Reclassified" in events and "P2 turbine stopped → P1 critical" in events
        desk.act(number, Action.CANCEL, reason="duplicate")
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        await pilot.press("p")  # history: reopen first
        await pilot.pause()
        assert app.screen is screen
        assert "Priority/category is not allowed for ticket" in str(
            list(app._notifications)[-1].message
        )


# -------------------------------------------------------------------------- help and palette


async def test_help_lists_live_bindings_with_remaps(desk: Desk) -> None:
    number = make_ticket(desk)
    app = Harness(desk, lambda: DetailScreen(number))
    app.set_keymap({"ticket.feedback": "F"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(HelpScreen("detail"))
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "seven SLA clocks" in text_of(help_screen, "#help-purpose")
        pane = text_of(help_screen, "#help-pane-keys")
        assert "Give feedback" in pane and "F " in pane
        assert "Priority/category" in pane
        assert "Close" not in pane.replace("Close help", "")  # not allowed now: not listed
        assert "Command palette" in text_of(help_screen, "#help-global-keys")
        assert "Scroll Up" not in pane  # Textual built-ins without ids are left out
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)


async def test_palette_lists_bindings_and_runs_one(desk: Desk) -> None:
    number = make_ticket(desk)
    app = Harness(desk, lambda: DetailScreen(number))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in binding_commands(app.screen)]
        assert "ticket: Give feedback (f)" in titles
        assert "ticket: Hold (h)" in titles
        assert "ticket: Priority/category (p)" in titles
        assert not any("Close (c)" in t for t in titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"give feedback")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert [r.action for r in app.performed] == [Action.FEEDBACK]  # type: ignore[union-attr]


async def test_palette_command_line_entry_opens_the_prompt(desk: Desk) -> None:
    app = Harness(desk)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*":open")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        prompt = app.screen
        assert prompt.query_one(Input).value == "open "
        await pilot.press(*"1001", "enter")
        await pilot.pause()
        assert app.opened == [1001]


# ------------------------------------------------------------------ inside the real console


def direct_action_ticket(desk: Desk) -> tuple[int, Action]:
    """A demo ticket with an action that runs without a form (ack/feedback/depart/…)."""
    for ticket in desk.open_tickets():
        for action in desk.detail(ticket.number).allowed_actions:
            if action in (Action.ACK, Action.FEEDBACK, Action.DEPART, Action.ARRIVE):
                return ticket.number, action
    raise AssertionError("the demo has no ticket waiting for a plain step")


async def test_console_detail_action_runs_through_app_perform(
    demo_desk: Desk, make_app: Callable[..., Any]
) -> None:
    number, action = direct_action_ticket(demo_desk)
    before = demo_desk.ticket(number)
    app = make_app(demo_desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_detail(number)
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pilot.press(ACTION_KEYS[action])
        await settle(app, pilot)
        assert detail.detail is not None
        assert detail.detail.ticket.version == before.version + 1
        assert detail.detail.ticket.state is not before.state
        assert demo_desk.ticket(number).state is detail.detail.ticket.state
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_console_help_palette_and_command_line(
    demo_desk: Desk, make_app: Callable[..., Any]
) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen) and help_screen.pane_id == "queue"
        assert "Open tickets" in text_of(help_screen, "#help-purpose")
        assert "Dispatch" in text_of(help_screen, "#help-pane-keys")
        assert "Priority/category" in text_of(help_screen, "#help-pane-keys")
        assert "Quit" in text_of(help_screen, "#help-global-keys")
        # Each binding once: the app-wide keys are not repeated under "Keys here".
        pane, everywhere = (
            text_of(help_screen, "#help-pane-keys"),
            text_of(help_screen, "#help-global-keys"),
        )
        for word in ("Quit", "Help", "Next pane", "Back"):
            assert word not in pane and everywhere.count(word) == 1, word
        assert "Command" not in pane
        assert "Sort" in pane and "Open" in pane
        descriptions = [row.description for row in collect_keys(app.main)]
        assert len(descriptions) == len(set(descriptions))
        await pilot.press("escape")
        await pilot.pause()
        titles = [c.title for c in binding_commands(app.screen)]
        assert "ticket: New ticket (n)" in titles
        assert "ticket: Dispatch (d)" in titles
        assert "ticket: Priority/category (p)" in titles
        assert "command: Change priority (:priority <number> <P1-P4> <reason…>)" in [
            title for title, _help, _prefill in command_line_entries()
        ]
        number = demo_desk.open_tickets()[0].number
        await pilot.press("colon", *f"open {number}", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.number == number


# --------------------------------------------------------------------------------- clock bar


def test_running_clock_counts_down_then_up_in_breach() -> None:
    start = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    clock = Clock(
        Target.ONSITE,
        ClockState.RUNNING,
        target_seconds=4 * 3600,
        started=True,
        start=start,
        due=start + timedelta(hours=4),
        remaining_seconds=4 * 3600,
        percent_used=0.0,
    )
    later = live_reading(clock, start + timedelta(hours=3, minutes=30))
    assert (later.state, later.remaining, round(later.percent or 0)) == (
        ClockState.RUNNING,
        1800,
        88,
    )
    assert "0:30:00" in clock_line(clock, start + timedelta(hours=3, minutes=30)).plain
    late = clock_line(clock, start + timedelta(hours=4, minutes=12, seconds=3))
    assert "+0:12:03" in late.plain and "Breached" in late.plain


def test_paused_clock_stands_still_and_names_the_hold() -> None:
    start = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    clock = Clock(
        Target.REPAIR,
        ClockState.PAUSED,
        target_seconds=8 * 3600,
        started=True,
        start=start,
        due=start + timedelta(hours=8),
        remaining_seconds=5 * 3600,
        percent_used=37.5,
        hold_reason=HoldReason.PARTS,
    )
    line = clock_line(clock, start + timedelta(days=2)).plain
    assert "5h00m" in line and "Paused" in line and "held: Waiting for parts" in line
