"""The technician's console ("my jobs"), driven from the keyboard as the technician.

The fleet is the shared test fleet (tests/conftest.py ``seed_fleet``) plus a farm with a duty
contact and access notes. The dispatcher ("tester") creates and dispatches the tickets; the
console runs as technician ``wangjg``; outcomes are checked in the database through the
dispatcher's desk, as a colleague would see them.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from rich.console import Console
from textual.widgets import Static, TextArea

from windtui.domain.model import Action, HoldReason, TicketState
from windtui.services.desk import Desk
from windtui.tui.app import MainScreen, WindApp
from windtui.tui.screens.confirm import ConfirmScreen
from windtui.tui.screens.forms import HoldForm, ResumeForm
from windtui.tui.screens.my_jobs import MyJobsScreen, NoteForm

from .conftest import NOW
from .support import settle

SIZE = (80, 24)
ACCESS = "Gate code 4711; tower keys at the substation; no access after 18:00"
DUTY = "Gobi substation duty (Ma)"
PHONE = "+86 909 555 0101"


@dataclass
class Fleet:
    url: str
    desk: Desk  # the dispatcher's desk ("tester")
    mine: int  # ticket number dispatched to wangjg (turbine stopped)
    second: int  # another ticket of wangjg's
    theirs: int  # a ticket dispatched to lihua


def _dispatched(desk: Desk, technician: str, **fields: object) -> int:
    ticket = desk.create_ticket(**fields)  # type: ignore[arg-type]
    desk.act(ticket.number, Action.ACK)
    desk.act(ticket.number, Action.FEEDBACK)
    desk.act(ticket.number, Action.DISPATCH, technician=technician)
    return ticket.number


@pytest.fixture
def fleet(desk: Desk, sqlite_url: str) -> Fleet:
    desk.add_farm(
        "GBW",
        name_zh="戈壁风电场",
        name_en="Gobi Wind Farm",
        province="甘肃",
        province_en="Gansu",
        latitude=40.1,
        longitude=97.2,
        depot="Jiuquan",
        duty_contact=DUTY,
        phone=PHONE,
        access_notes=ACCESS,
    )
    desk.add_turbines(
        "GBW",
        [
            {
                "position": "T01",
                "model": "Envision EN156-3.3MW",
                "rated_kw": 3300,
                "hub_height": 100,
                "line": "35kV-1",
                "commissioned": date(2019, 6, 1),
            }
        ],
    )
    mine = _dispatched(
        desk,
        "wangjg",
        farm="GBW",
        turbine="GBW-T01",
        category="fault",
        priority="P2",
        title="Converter IGBT fault",
        description="Converter trips on start",
        turbine_stopped=True,
    )
    second = _dispatched(
        desk, "wangjg", farm="DBC", turbine="DBC-A01", category="fault", priority="P3",
        title="Yaw noise",
    )  # fmt: skip
    theirs = _dispatched(
        desk, "lihua", farm="DBC", turbine="DBC-A07", category="fault", priority="P2",
        title="Pitch drive over-current",
    )  # fmt: skip
    return Fleet(sqlite_url, desk, mine, second, theirs)


@pytest.fixture
def technician(fleet: Fleet) -> Iterator[Desk]:
    """The technician's own desk (what ``windtui`` opens for OS login wangjg)."""
    desk = Desk.open(fleet.url, now=NOW, actor="wangjg")
    yield desk
    desk.close()


def jobs_of(app: WindApp) -> MyJobsScreen:
    screen = app.screen
    assert isinstance(screen, MyJobsScreen), f"not on my jobs: {screen!r}"
    return screen


def text_of(screen: MyJobsScreen, selector: str) -> str:
    """The plain text a Static shows, tables laid out at the widget's width."""
    widget = screen.query_one(selector, Static)
    console = Console(width=widget.content_size.width or SIZE[0], file=io.StringIO())
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get()


def warnings(app: WindApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


async def select(app: WindApp, pilot: object, number: int) -> None:
    """Move the list's cursor to ticket ``number`` with the keys (Home, then Down)."""
    screen = jobs_of(app)
    tid = next(t.id for t in app.state.tickets.values() if t.number == number)
    await pilot.press("home", *["down"] * screen.jobs.keys.index(tid))  # type: ignore[attr-defined]
    await settle(app, pilot)
    assert screen.jobs.selected is not None and screen.jobs.selected.number == number


# -- who sees what ------------------------------------------------------------------------------


async def test_a_technician_opens_on_their_own_jobs_only(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = jobs_of(app)
        assert app.crew_only and app.main is screen
        listed = {app.state.tickets[k].number for k in screen.jobs.keys}  # type: ignore[index]
        assert listed == {fleet.mine, fleet.second}
        assert fleet.theirs not in {t.number for t in app.state.tickets.values()}
        who = text_of(screen, "#jobs-who")
        assert "wangjg" in who and "Wang Jianguo" in who
        assert "My jobs 2" in text_of(screen, "#jobs-count")

        # Someone else's ticket cannot be opened here either: the desk refuses, the pane says so.
        screen.load_detail(fleet.theirs)
        await settle(app, pilot)
        assert f"ticket {fleet.theirs} is not one of your jobs" in text_of(screen, "#job-status")
        assert screen.detail is None


async def test_a_dispatcher_still_gets_the_dispatch_desk(
    fleet: Fleet, make_app: Callable[..., WindApp]
) -> None:
    app = make_app(fleet.desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen) and not app.crew_only
        assert len(app.state.tickets) == 3


async def test_the_facts_pane_shows_site_contact_access_and_clocks(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, fleet.mine)
        screen = jobs_of(app)
        facts = " ".join(text_of(screen, "#job-facts").split())
        assert ACCESS in facts
        assert DUTY in facts and PHONE in facts
        assert "GBW-T01 · Envision EN156-3.3MW · 3300 kW · hub 100 m · line 35kV-1" in facts
        assert "Gobi Wind Farm" in facts and "Jiuquan" in facts
        assert "Converter trips on start" in facts
        assert "Converter IGBT fault" in text_of(screen, "#job-title")
        # On site runs (48 h from the receipt at 10:00 Beijing time); repair has not started.
        assert text_of(screen, "#job-clock-onsite").split() == [
            "On", "site", "Running", "·", "due", "03-05", "10:00", "CST",
        ]  # fmt: skip
        assert "not started" in text_of(screen, "#job-clock-repair")
        # The list shows both clocks: on site counting down, repair not started.
        row = screen.jobs.cells_of(screen.jobs.cursor_key)  # type: ignore[arg-type]
        assert row[0][0] == "48h00m" and row[1][0] == "—"


# -- the field steps ----------------------------------------------------------------------------


async def test_depart_arrive_hold_resume_resolve_restore_by_keys(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    other = fleet.desk
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, fleet.mine)
        screen = jobs_of(app)
        assert "Depart" in text_of(screen, "#jobs-keys")

        await pilot.press("g")
        await settle(app, pilot)
        assert other.ticket(fleet.mine).state is TicketState.EN_ROUTE

        await pilot.press("a")
        await settle(app, pilot)
        assert other.ticket(fleet.mine).state is TicketState.ON_SITE
        keys = text_of(screen, "#jobs-keys")
        assert "Resolve" in keys and "Depart" not in keys and "Turbine up" in keys

        await pilot.press("h")
        await settle(app, pilot)
        assert isinstance(app.screen, HoldForm)
        await pilot.press("enter", "down", "enter")  # open the reason list, take weather
        await pilot.press("tab", *"wind 18 m/s at hub", "ctrl+s")
        await settle(app, pilot)
        held = other.ticket(fleet.mine)
        assert held.hold is HoldReason.WEATHER and held.state is TicketState.ON_SITE
        assert other.detail(fleet.mine).holds[-1].evidence == "wind 18 m/s at hub"
        # The list marks the hold; the facts say what it waits for.
        assert screen.jobs.cells_of(screen.jobs.cursor_key)[5][0] == "‖On site"  # type: ignore[arg-type]
        assert "on hold: Weather" in text_of(screen, "#job-title")

        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ResumeForm)
        await pilot.press(*"calm now", "enter")
        await settle(app, pilot)
        assert other.ticket(fleet.mine).hold is None

        await pilot.press("v")
        await settle(app, pilot)
        assert other.ticket(fleet.mine).state is TicketState.RESOLVED

        await pilot.press("t")
        await settle(app, pilot)
        assert other.ticket(fleet.mine).timeline.turbine_restored_at == NOW

        # The timeline (newest first) tells the story, with the technician's login.
        timeline = text_of(screen, "#job-timeline")
        lines = [line for line in timeline.splitlines() if "wangjg" in line]
        assert [line.split("wangjg", 1)[1].split()[0] for line in lines[:6]] == [
            "Turbine", "Resolve", "Resume", "Hold", "Arrive", "Depart",
        ]  # fmt: skip
        assert "wind 18 m/s at hub" in timeline and "calm now" in timeline


async def test_a_step_the_state_does_not_allow_is_refused_with_the_reason(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    other = fleet.desk
    before = other.ticket(fleet.mine)
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, fleet.mine)
        for key in ("v", "a", "r", "s"):  # resolve, arrive, resume, report: not from dispatched
            await pilot.press(key)
            await settle(app, pilot)
        assert jobs_of(app) is app.screen  # no form opened
        refused = warnings(app)
        assert len(refused) == 4
        assert refused[0] == (
            f"ticket {fleet.mine} is dispatched: 'resolve' is only allowed from on site"
        )
        assert "not on hold" in refused[2]
        after = other.ticket(fleet.mine)
        assert (after.state, after.version) == (TicketState.DISPATCHED, before.version)
        # The refused steps are not offered on the action line either.
        keys = text_of(jobs_of(app), "#jobs-keys")
        assert "Resolve" not in keys and "Arrive" not in keys and "Depart" in keys


# -- work notes ---------------------------------------------------------------------------------


async def test_a_work_note_goes_on_the_timeline_and_into_the_event_log(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, fleet.mine)
        screen = jobs_of(app)

        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NoteForm)
        await pilot.press("ctrl+s")  # empty: refused inline, the form stays
        await settle(app, pilot)
        assert app.screen is form and "Note: required" in form.errors["note"]

        await pilot.press(*"IGBT module B swapped", "enter", *"fan filter clogged")
        await pilot.press("escape")  # typed text: Esc asks first, and "n" keeps the note
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen is form
        assert form.query_one(TextArea).text == "IGBT module B swapped\nfan filter clogged"

        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        notes = [e for e in fleet.desk.detail(fleet.mine).events if e.action == "note"]
        assert [(e.actor, e.new) for e in notes] == [
            ("wangjg", "IGBT module B swapped\nfan filter clogged")
        ]
        timeline = text_of(screen, "#job-timeline").splitlines()
        assert "wangjg" in timeline[0] and "Note: IGBT module B swapped" in timeline[0]
        assert "fan filter clogged" in timeline[1]
        assert any("work note added" in n.message for n in app._notifications)


async def test_typed_text_on_the_timeline_is_shown_not_obeyed(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await select(app, pilot, fleet.mine)
        # Another console adds a hostile note; the poll brings it here.
        hostile = "\x1b]52;c;aGk=\x07[bold red]x[/] [@click=app.quit]y[/]"
        await asyncio.to_thread(Desk.add_note, technician, fleet.mine, hostile)
        await asyncio.to_thread(app.poll_once, -1)
        await settle(app, pilot)
        timeline = text_of(jobs_of(app), "#job-timeline")
        assert "␛]52;c;aGk=␇[bold red]x[/] [@click=app.quit]y[/]" in timeline
        assert app.is_running


# -- other consoles -----------------------------------------------------------------------------


async def test_jobs_dispatched_or_taken_away_elsewhere_follow_the_poll(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp]
) -> None:
    other = fleet.desk
    app = make_app(technician)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = jobs_of(app)
        new = await asyncio.to_thread(
            _dispatched, other, "wangjg", farm="DBC", turbine="DBC-B05", category="fault",
            priority="P1", title="Blade crack",
        )  # fmt: skip
        await asyncio.to_thread(app.poll_once, -1)
        await settle(app, pilot)
        numbers = {app.state.tickets[k].number for k in screen.jobs.keys}  # type: ignore[index]
        assert numbers == {fleet.mine, fleet.second, new}

        # Reassigned to lihua: not "changed" for wangjg, but gone from his list all the same.
        await asyncio.to_thread(other.assign, fleet.second, "lihua")
        await asyncio.to_thread(app.poll_once, -1)
        await settle(app, pilot)
        numbers = {app.state.tickets[k].number for k in screen.jobs.keys}  # type: ignore[index]
        assert numbers == {fleet.mine, new}
        assert "My jobs 2" in text_of(screen, "#jobs-count")

        # Someone else's ticket changing costs nothing here: no change, no repaint.
        plans = app.state.plans
        await asyncio.to_thread(other.act, fleet.theirs, Action.DEPART)
        assert await asyncio.to_thread(app.poll_once, -1) is False
        await settle(app, pilot)
        assert app.state.plans == plans


async def test_the_tick_repaints_only_clock_cells(
    fleet: Fleet, technician: Desk, make_app: Callable[..., WindApp], make_clock
) -> None:
    clock = make_clock()
    app = make_app(technician, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = jobs_of(app)
        app.tick()
        await pilot.pause()
        refreshed: list[object] = []
        original = screen.jobs.refresh

        def spy(*regions: object, **kwargs: object) -> object:
            refreshed.append(regions)
            return original(*regions, **kwargs)

        screen.jobs.refresh = spy  # type: ignore[method-assign]
        facts = screen.query_one("#job-facts", Static)
        before = facts.render()
        clock.advance(minutes=1)
        app.tick()
        await pilot.pause()
        # One minute later each running on-site clock changed: a clock-columns region per row,
        # never a whole line or the whole list.
        assert refreshed and all(regions and regions[0].width == 20 for regions in refreshed)
        assert facts.render() is before  # the facts pane was not re-rendered
