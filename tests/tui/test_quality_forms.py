"""The quality records from the keyboard: the repair report form (dispatcher on the detail, the
technician's "my jobs"), QA's return with a reason, the satisfaction survey with the follow-up,
and the improvements and suggestions registers — each flow checked in the database through a
colleague's desk. The pure helpers (list parsing, error mapping) are tested on their own.

The data is the demo fleet at the frozen ``NOW`` (tests/tui/conftest.py); demo staff: ``luog``
dispatcher, ``liuy`` technician, ``zhengk`` QA lead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Select, Static, TextArea

from windtui.domain.model import Action, Role, TicketState
from windtui.errors import WindtuiError
from windtui.i18n import set_language
from windtui.services import quality
from windtui.services.desk import Desk
from windtui.services.records import ReportHoursInput, ReportPartInput
from windtui.tui.actions import set_identity
from windtui.tui.app import WindApp
from windtui.tui.requests import DeskRequest
from windtui.tui.screens.confirm import ConfirmScreen
from windtui.tui.screens.detail import DetailScreen
from windtui.tui.screens.forms import ReasonForm
from windtui.tui.screens.my_jobs import MyJobsScreen
from windtui.tui.screens.quality import (
    ImprovementForm,
    ImprovementUpdateForm,
    RegistersScreen,
    ReportForm,
    SuggestionForm,
    SuggestionStatusForm,
    SurveyForm,
    execute,
    parse_hours,
    parse_parts,
    parse_when,
    report_error_field,
)

from .conftest import NOW
from .support import colleague, settle

SIZE = (80, 24)


def _toasts(app: WindApp, severity: str | None = None) -> list[str]:
    return [
        str(n.message) for n in app._notifications if severity is None or n.severity == severity
    ]


def _first(desk: Desk, state: TicketState) -> int:
    return next(t.number for t in desk.open_tickets() if t.state is state)


def _events(desk: Desk, number: int) -> int:
    return len(desk.detail(number).events)


async def _detail(app: WindApp, pilot: object, number: int) -> DetailScreen:
    app.open_detail(number)
    await settle(app, pilot)
    assert isinstance(app.screen, DetailScreen) and app.screen.detail is not None
    return app.screen


async def _choose(pilot: object, downs: int) -> None:
    """Open the focused Select and take the option ``downs`` rows below the blank one."""
    await pilot.press("enter", *["down"] * downs, "enter")  # type: ignore[attr-defined]


# -- pure helpers ------------------------------------------------------------------------------


def test_parts_lines_parse_with_errors_naming_the_line() -> None:
    parts, problems = parse_parts("GW-ENC-5M, Encoder cable, 5 m, 2\nFLT-1\n\nX, y\nP, d, many")
    assert parts == (
        ReportPartInput("GW-ENC-5M", "Encoder cable, 5 m", 2.0),
        ReportPartInput("FLT-1", "", 1.0),
        ReportPartInput("X", "y", 1.0),
    )
    assert problems == ["line 5: the quantity 'many' is not a number"]
    parts, _problems = parse_parts("编码器，编码器电缆，1")  # full-width commas
    assert parts == (ReportPartInput("编码器", "编码器电缆", 1.0),)


def test_hours_lines_parse_with_errors_naming_the_line() -> None:
    hours, problems = parse_hours("lizq 3.5\nalim, 2\n\nwangjg\nzhangw lots")
    assert hours == (ReportHoursInput("lizq", 3.5), ReportHoursInput("alim", 2.0))
    assert problems == [
        "line 4: write a login and the hours, e.g. lizq 3.5",
        "line 5: the hours 'lots' are not a number",
    ]


def test_desk_refusals_map_to_the_form_field_and_line() -> None:
    assert report_error_field("parts[2].quantity must be more than 0: 0") == (
        "parts",
        "line 2 (quantity) must be more than 0: 0",
    )
    assert report_error_field("hours[1].staff: nobody is not on the staff list")[0] == "hours"
    assert report_error_field("diagnosis is at most 8000 characters (9000 given)")[0] == (
        "diagnosis"
    )
    assert report_error_field("ticket 1 was changed by luog at 10:00 — reload")[0] is None


def test_survey_time_is_read_in_the_farm_timezone() -> None:
    now = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    assert parse_when("", "Asia/Shanghai", now) is None
    assert parse_when("09:30", "Asia/Shanghai", now) == datetime(2025, 3, 3, 1, 30, tzinfo=UTC)
    assert parse_when("2025-03-01 08:00", "Asia/Shanghai", now) == datetime(
        2025, 3, 1, 0, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="HH:MM"):
        parse_when("yesterday", "Asia/Shanghai", now)


# -- the repair report ---------------------------------------------------------------------------


async def test_dispatcher_writes_a_draft_report_with_w(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    number = _first(other, TicketState.RESOLVED)
    before = other.ticket(number)
    app = make_app(Desk.open(url, now=NOW, actor="luog"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _detail(app, pilot, number)
        await pilot.press("w")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReportForm) and form.loaded and not form.submitting
        # a fresh report starts from the ticket: its fault code and the owner's hours on site
        assert form.text("fault_code_confirmed") == before.fault_code
        assert form.area("hours").startswith(f"{before.owner} ")
        await pilot.press(*"Over-speed relay stuck closed", "tab")
        await pilot.press(*"Replaced the relay", "enter", *"Over-speed test passed", "tab")
        await pilot.press(*"Relay contacts welded", "tab", "tab")
        await pilot.press(*"GW-OSR-24, Over-speed relay 24 V, 1", "tab", "tab")
        await _choose(pilot, 1)  # fixed: yes
        await pilot.press("tab")
        await _choose(pilot, 2)  # first-time fix: no
        await pilot.press("tab", *"photos/B09-relay.jpg")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)  # saved and closed; the detail read it again
        assert f"Ticket {number}: repair report saved" in _toasts(app)
    report = quality.report(other, number)
    assert report is not None and report.revision == 0  # a draft: not submitted
    assert report.diagnosis == "Over-speed relay stuck closed"
    assert report.work_done == "Replaced the relay\nOver-speed test passed"
    assert report.parts[0].part_number == "GW-OSR-24" and report.parts[0].quantity == 1
    assert (report.fixed, report.first_time_fix) == (True, False)
    assert report.attachments == ("photos/B09-relay.jpg",) and report.author == "luog"
    assert other.ticket(number).state is TicketState.RESOLVED
    other.close()


async def test_submit_opens_the_report_and_names_what_is_missing_before_sending(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    number = _first(other, TicketState.RESOLVED)
    version = other.ticket(number).version
    app = make_app(Desk.open(url, now=NOW, actor="luog"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _detail(app, pilot, number)
        await pilot.press("space")  # the next step is submit: the report comes first
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReportForm) and form.submitting
        await pilot.press(*"Relay stuck", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is form  # nothing sent
        assert set(form.errors) == {"work_done", "root_cause", "fixed", "first_time_fix"}
        assert form.errors["fixed"] == "Fixed: required to submit"
        refusal = str(form.query_one("#form-refusal").render())
        assert f"ticket {number}'s repair report lacks work done, root cause" in refusal
        assert other.ticket(number).version == version
        # complete it: the report is saved and handed to QA in one go
        form.query_one("#work_done", TextArea).focus()
        await pilot.press(*"Replaced the relay", "tab", *"Contacts welded")
        form.query_one("#fixed", Select).focus()
        await _choose(pilot, 1)
        await pilot.press("tab")
        await _choose(pilot, 1)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.detail is not None
        assert app.screen.detail.ticket.state is TicketState.REPORT_SUBMITTED
    assert other.ticket(number).state is TicketState.REPORT_SUBMITTED
    report = quality.report(other, number)
    assert report is not None and report.revision == 1 and report.missing == ()
    other.close()


async def test_a_bad_line_or_a_refused_save_keeps_the_text_and_names_the_line(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    number = _first(other, TicketState.RESOLVED)
    events = _events(other, number)
    app = make_app(Desk.open(url, now=NOW, actor="luog"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _detail(app, pilot, number)
        await pilot.press("w")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReportForm)
        await pilot.press(*"Relay stuck")
        form.query_one("#parts", TextArea).focus()
        await pilot.press(*"GW-1, relay, 1", "enter", *"GW-2, cable, two")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert form.errors == {"parts": "Parts used: line 2: the quantity 'two' is not a number"}
        assert app.focused is form.query_one("#parts")
        # the parts are right now, but the desk refuses the hours of someone not on the staff
        form.query_one("#parts", TextArea).load_text("GW-1, relay, 1")
        form.query_one("#hours", TextArea).load_text("nobody 2")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form  # still open, with everything typed
        assert form.errors["hours"].startswith("Work hours: line 1 (staff): nobody")
        assert form.area("diagnosis") == "Relay stuck"
        # Esc with typed text asks first; "n" stays
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is form
    assert quality.report(other, number) is None and _events(other, number) == events
    other.close()


async def test_the_technician_writes_and_submits_from_my_jobs(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    number = next(
        t.number
        for t in other.open_tickets()
        if t.state is TicketState.RESOLVED and t.owner == "liuy"
    )
    app = make_app(Desk.open(url, now=NOW, actor="liuy"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MyJobsScreen)
        tid = next(t.id for t in app.state.tickets.values() if t.number == number)
        await pilot.press("home", *["down"] * screen.jobs.keys.index(tid))
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReportForm) and form.submitting
        await pilot.press(*"Over-speed relay welded", "tab", *"Relay replaced, tested", "tab")
        await pilot.press(*"Relay at end of life", "tab", "tab", "tab", "tab")
        await _choose(pilot, 1)
        await pilot.press("tab")
        await _choose(pilot, 1)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, MyJobsScreen)
    assert other.ticket(number).state is TicketState.REPORT_SUBMITTED
    report = quality.report(other, number)
    assert report is not None and report.author == "liuy" and report.hours[0].staff == "liuy"
    assert report.first_time_fix is True
    other.close()


# -- review and survey ---------------------------------------------------------------------------


async def test_qa_returns_a_report_with_a_reason_and_the_form_shows_it(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    number = _first(other, TicketState.REPORT_SUBMITTED)
    app = make_app(Desk.open(url, now=NOW, actor="zhengk"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = await _detail(app, pilot, number)
        await pilot.press("m")
        await settle(app, pilot)
        await pilot.press("down", "down", "enter")  # approve, return
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReasonForm) and form.action is Action.RETURN
        await pilot.press("enter")  # no reason: refused inline
        assert form.errors == {"reason": "What to fix: required"}
        await pilot.press(*"No photo of the new relay", "enter")
        await settle(app, pilot)
        assert app.screen is screen
    assert other.ticket(number).state is TicketState.RESOLVED
    found = quality.ticket_quality(other, number)
    assert found.reviews[-1].outcome == "returned"
    assert found.reviews[-1].reason == "No photo of the new relay"
    assert found.reviews[-1].reviewer == "zhengk"
    # the author reopens the report: QA's reason is on top
    app = make_app(Desk.open(url, now=NOW, actor="luog"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _detail(app, pilot, number)
        await pilot.press("w")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReportForm)
        assert "Returned by zhengk: No photo of the new relay" in str(
            form.query_one("#form-note").render()
        )
    other.close()


async def test_followup_records_the_survey_and_a_low_score_opens_an_analysis_item(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    number = _first(other, TicketState.REVIEWED)
    app = make_app(Desk.open(url, now=NOW, actor="luog"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _detail(app, pilot, number)
        await pilot.press("space")  # follow-up: the survey first
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, SurveyForm) and form.text("caller") == "luog"
        await pilot.press("ctrl+s")
        assert form.errors == {"score": "Score: choose a score from 1 to 5"}
        await _choose(pilot, 4)  # 5, 4, 3, 2
        await pilot.press("tab", *"Crew arrived a day late", "tab", "tab", "tab")
        await pilot.press(*"25:00", "ctrl+s")
        assert form.errors["when"].startswith("When: write the time as HH:MM")
        form.query_one("#when").value = ""  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        assert any("analysis item" in t for t in _toasts(app))
    assert other.ticket(number).state is TicketState.FOLLOWED_UP
    survey = quality.ticket_quality(other, number).survey
    assert survey is not None and survey.score == 2 and survey.caller == "luog"
    assert survey.comments == "Crew arrived a day late" and survey.contacted_at == NOW
    assert survey.analysis is not None
    assert quality.improvement(other, survey.analysis).kind == "analysis"
    other.close()


# -- the registers -------------------------------------------------------------------------------


async def test_qa_adds_and_moves_improvements_and_suggestions(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    app = make_app(Desk.open(url, now=NOW, actor="zhengk"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RegistersScreen) and screen.register == "improvements"
        before = len(screen.improvements)
        await pilot.press("a")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ImprovementForm)
        await pilot.press(*"Pitch encoder training for the Jiuquan crew")
        await pilot.press("tab", "tab", "tab")  # category (training), owner (zhengk), due
        form.query_one("#due").value = "2025-02-01"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form and "due" in form.errors  # the desk: the due date is past
        form.query_one("#due").value = "2025-04-30"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen and len(screen.improvements) == before + 1
        item = next(i for i in quality.improvements(other) if i.title.startswith("Pitch"))
        assert (item.owner, item.category, item.due, item.status) == (
            "zhengk",
            "training",
            date(2025, 4, 30),
            "open",
        )
        # move it on with a note
        assert screen.query_one("#improvements").select_key(item.id)  # type: ignore[attr-defined]
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, ImprovementUpdateForm)
        await _choose(pilot, 1)  # in progress
        await pilot.press("tab", "tab", "tab", *"trainer booked", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        moved = quality.improvement(other, item.id)
        assert moved.status == "in_progress" and moved.notes.endswith("zhengk: trainer booked")

        # suggestions: add one, then adopt it
        await pilot.press("2")
        await settle(app, pilot)
        assert screen.register == "suggestions"
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, SuggestionForm)
        await pilot.press("tab", *"SMS the crew's ETA", "tab", "tab", *"dbc", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        added = quality.suggestions(other)[0]
        assert (added.text, added.farm, added.customer, added.status) == (
            "SMS the crew's ETA",
            "DBC",
            "HNR",
            "new",
        )
        await pilot.press("home", "s")
        await settle(app, pilot)
        assert isinstance(app.screen, SuggestionStatusForm)
        await pilot.press("enter", "down", "enter", "ctrl+s")  # evaluating -> adopted
        await settle(app, pilot)
        assert quality.suggestions(other)[0].status == "adopted"
        await pilot.press("f")  # filter: new
        await settle(app, pilot)
        assert screen.filters["suggestions"] == "new"
        assert all(s.status == "new" for s in screen.query_one("#suggestions").items.values())  # type: ignore[attr-defined]
    other.close()


async def test_a_dispatcher_reads_improvements_but_may_not_add_one(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    items = quality.improvements(other)
    app = make_app(Desk.open(url, now=NOW, actor="luog"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await settle(app, pilot)
        assert isinstance(app.screen, RegistersScreen)
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, RegistersScreen)
        assert any(
            "Managing improvement actions needs the QA or Supervisor role" in t
            for t in _toasts(app, "warning")
        )
        await pilot.press("2", "a")  # suggestions: dispatchers may register them
        await settle(app, pilot)
        assert isinstance(app.screen, SuggestionForm)
    assert quality.improvements(other) == items  # nothing written
    other.close()


# -- snapshots -----------------------------------------------------------------------------------
# SYNC tests (``snap_compare`` runs its own event loop); the desk clock is ``NOW`` and
# time-machine travels there without ticking; no cursor blinks (conftest, and the form's
# TextAreas). The form runs in a small harness so the screens behind it cannot churn the picture.


class FormHarness(App[None]):
    """What ``WindApp`` gives a form: the desk, its clock and ``perform`` (with ``on_error``)."""

    AUTO_FOCUS = None

    def __init__(self, desk: Desk, start: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.desk = desk
        self.start = start

    def clock(self) -> datetime:
        return self.desk.clock()

    def compose(self) -> ComposeResult:
        yield Static("desk")

    def on_mount(self) -> None:
        self.push_screen(self.start())

    def perform(self, request: DeskRequest, on_error: Callable[..., None] | None = None) -> Any:
        def run() -> object | None:
            try:
                return execute(self.desk, request)[2]
            except WindtuiError as error:
                if on_error is not None:
                    self.call_from_thread(on_error, error)
                return None

        return self.run_worker(run, thread=True)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _report_form(demo_db: Callable[[str], str], lang: str) -> FormHarness:
    url = demo_db(lang)  # building the template resets the language: switch after
    set_language(lang)
    desk = Desk.open(url, now=NOW, actor="luog")
    set_identity([Role.DISPATCHER], "luog")
    ticket = next(t for t in desk.open_tickets() if t.state is TicketState.RESOLVED)
    return FormHarness(desk, lambda: ReportForm(ticket, submit=True, may_submit=True))


async def _loaded(pilot: Pilot[Any]) -> None:
    for _round in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _refused(pilot: Pilot[Any]) -> None:
    await _loaded(pilot)
    await pilot.press(*"Safety chain tripped on over-speed", "tab", "tab", "tab", "tab")
    await pilot.press(*"GW-OSR-24, Over-speed relay, one", "ctrl+s")
    await _loaded(pilot)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_report_form_80x24(
    snap_compare: Callable[..., bool], demo_db: Callable[[str], str], frozen: None, lang: str
) -> None:
    """The report form as the submit step opens it: the ticket's fault code and the owner's
    hours prefilled, every field and "submit to QA" at 80×24."""
    app = _report_form(demo_db, lang)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=_loaded)
    finally:
        app.desk.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_report_form_errors_80x24(
    snap_compare: Callable[..., bool], demo_db: Callable[[str], str], frozen: None, lang: str
) -> None:
    """A bad parts line named by its line number, under the field, at 80×24."""
    app = _report_form(demo_db, lang)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=_refused)
    finally:
        app.desk.close()
