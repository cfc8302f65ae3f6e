"""A dispatcher's shift, end to end, from the keyboard only (no widget pokes, no mouse).

Each flow drives the real console on a copy of the demo database and checks the outcome in the
database through a second desk: what a colleague at another console would see.
"""

from __future__ import annotations

from collections.abc import Callable

from windtui.domain.model import HoldReason, Priority, TicketState
from windtui.services.desk import Desk
from windtui.tui.app import WindApp
from windtui.tui.screens.forms import (
    AssignForm,
    HoldForm,
    NewTicketForm,
    ReasonForm,
    ReclassifyForm,
    ResumeForm,
)

from .conftest import NOW
from .support import colleague, settle

SIZE = (160, 50)


async def test_create_acknowledge_feedback_assign_depart_arrive_resolve(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    before = {t.number for t in other.open_tickets()}
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)

        # n: new ticket. Farm: open the select, take the first farm; Tab to the turbine picker.
        await pilot.press("n")
        await settle(app, pilot)
        assert isinstance(app.screen, NewTicketForm)
        await pilot.press("enter", "down", "enter")  # open the farm list, pick the first farm
        await settle(app, pilot)
        await pilot.press("tab", *"a07")
        await settle(app, pilot)
        # Tab over category, priority and fault code (defaults) to the title.
        await pilot.press("tab", "tab", "tab", "tab", *"Pitch drive over-current", "ctrl+s")
        await settle(app, pilot)
        assert app.screen is app.main

        created = [t for t in other.open_tickets() if t.number not in before]
        assert len(created) == 1
        ticket = created[0]
        assert ticket.title == "Pitch drive over-current"
        assert ticket.turbine is not None and ticket.turbine.endswith("A07")
        assert ticket.state is TicketState.RECEIVED
        # The new ticket is selected in the queue, so the next keys act on it.
        assert app.main.queue.cursor_key == ticket.id

        await pilot.press("a")
        await settle(app, pilot)
        assert other.ticket(ticket.number).state is TicketState.ACKNOWLEDGED
        await pilot.press("f")
        await settle(app, pilot)
        assert other.ticket(ticket.number).state is TicketState.FEEDBACK_GIVEN

        # d: the technician picker; type to filter, Enter dispatches the highlighted technician.
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, AssignForm)
        await pilot.press(*"wangjg", "enter")
        await settle(app, pilot)
        dispatched = other.ticket(ticket.number)
        assert dispatched.state is TicketState.DISPATCHED
        assert dispatched.owner == "wangjg"

        # space: the next lifecycle step, three times.
        expected = (TicketState.EN_ROUTE, TicketState.ON_SITE, TicketState.RESOLVED)
        for state in expected:
            await pilot.press("space")
            await settle(app, pilot)
            assert other.ticket(ticket.number).state is state

        actions = [e.action for e in other.detail(ticket.number).events]
        for action in ("ack", "feedback", "dispatch", "depart", "arrive", "resolve"):
            assert action in actions
    desk.close()
    other.close()


async def test_hold_and_resume_from_the_keyboard(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    # A dispatched ticket with no open hold: filter the queue down to it.
    target = next(
        t for t in other.open_tickets() if t.state is TicketState.DISPATCHED and t.hold is None
    )
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *f"no:{target.number}", "enter")
        await settle(app, pilot)
        assert app.main.queue.cursor_key == target.id

        await pilot.press("h")
        await settle(app, pilot)
        assert isinstance(app.screen, HoldForm)
        await pilot.press("enter", "down", "enter")  # open the reason list, take weather
        await pilot.press("tab", *"10-min wind 14.2 m/s at nacelle", "ctrl+s")
        await settle(app, pilot)
        held = other.ticket(target.number)
        assert held.hold is HoldReason.WEATHER
        assert other.detail(target.number).holds[-1].evidence == "10-min wind 14.2 m/s at nacelle"

        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ResumeForm)
        await pilot.press(*"wind down to 8 m/s", "enter")
        await settle(app, pilot)
        resumed = other.detail(target.number)
        assert resumed.ticket.hold is None
        assert resumed.holds[-1].end is not None
        assert resumed.holds[-1].resume_note == "wind down to 8 m/s"
    desk.close()
    other.close()


async def test_cancel_then_reopen_from_the_command_line(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    target = next(t for t in other.open_tickets() if t.state is TicketState.RECEIVED)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *f"no:{target.number}", "enter")
        await settle(app, pilot)

        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, ReasonForm)
        await pilot.press("enter")  # a reason is required: the form stays open
        await settle(app, pilot)
        assert isinstance(app.screen, ReasonForm)
        assert other.ticket(target.number).state is TicketState.RECEIVED
        await pilot.press(*"duplicate report", "enter")
        await settle(app, pilot)
        assert other.ticket(target.number).state is TicketState.CANCELLED

        # The cancelled ticket left the open queue; reopen it by number from the command line.
        await pilot.press("escape", "colon", *f"reopen {target.number} fault came back", "enter")
        await settle(app, pilot)
        reopened = other.detail(target.number)
        assert reopened.ticket.state is TicketState.RECEIVED
        notes = [e.note for e in reopened.events if e.action == "reopen"]
        assert "fault came back" in notes
    desk.close()
    other.close()


async def test_raise_priority_from_the_queue(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    """queue → p → P1 with a reason: the database and the queue row both say P1."""
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    target = next(t for t in other.open_tickets() if t.priority is Priority.P3)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *f"no:{target.number}", "enter")
        await settle(app, pilot)
        assert app.main.queue.cursor_key == target.id

        await pilot.press("p")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReclassifyForm)
        await pilot.press("ctrl+s")  # nothing changed and no reason: the form stays open
        await settle(app, pilot)
        assert app.screen is form and set(form.errors) == {"priority", "reason"}
        # The priority select has the focus: open it, up twice from P3 to P1, take it.
        await pilot.press("enter", "up", "up", "enter")
        await pilot.press("tab", "tab", *"customer reports the whole string down", "enter")
        await settle(app, pilot)
        assert app.screen is app.main

        changed = other.ticket(target.number)
        assert changed.priority is Priority.P1 and changed.version == target.version + 1
        events = [e for e in other.detail(target.number).events if e.action == "reclassify"]
        assert [(e.field, e.old, e.new, e.note) for e in events] == [
            ("priority", "P3", "P1", "customer reports the whole string down")
        ]
        queue = app.main.queue
        assert queue.cursor_key == target.id
        row = queue.render_line(queue.cursor_index - int(queue.scroll_y)).text
        assert f"{target.number} P1 " in " ".join(row.split()) + " "
    desk.close()
    other.close()
