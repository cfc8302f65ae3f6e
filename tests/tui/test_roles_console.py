"""The console follows the roles: what a role may not do is left out of the menus, refused by
its key with the role it needs, and never written (the services would refuse it anyway)."""

from __future__ import annotations

from collections.abc import Callable

from windtui.domain.model import Action, TicketState
from windtui.services.desk import Desk
from windtui.tui.actions import ActionMenu
from windtui.tui.app import WindApp

from .conftest import NOW
from .support import colleague, settle

SIZE = (160, 50)


def _toasts(app: WindApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _select(app: WindApp, pilot: object, number: int) -> None:
    ticket_id = next(t.id for t in app.state.tickets.values() if t.number == number)
    assert app.main.queue.select_key(ticket_id)
    await settle(app, pilot)


async def test_qa_sees_review_steps_only_and_a_refused_key_names_the_role(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    other = colleague(url)
    received = next(t for t in other.open_tickets() if t.state is TicketState.RECEIVED)
    submitted = next(t for t in other.open_tickets() if t.state is TicketState.REPORT_SUBMITTED)
    app = make_app(Desk.open(url, now=NOW, actor="zhengk"))  # the demo's QA lead
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _select(app, pilot, received.number)
        await pilot.press("a")  # acknowledge: a dispatcher's step
        await settle(app, pilot)
        assert any("Acknowledge needs the Dispatcher role" in t for t in _toasts(app))
        assert other.ticket(received.number).state is TicketState.RECEIVED

        await pilot.press("m")
        await settle(app, pilot)
        assert not isinstance(app.screen, ActionMenu)  # nothing a QA lead may do here
        assert any(f"ticket {received.number} allows no action now" in t for t in _toasts(app))

        await _select(app, pilot, submitted.number)
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionMenu)
        names = [name for name, _label, _key in app.screen.entries]
        assert names == [Action.APPROVE.value, Action.RETURN.value]  # no assign, no reclassify
        await pilot.press("escape")
    other.close()


async def test_viewer_changes_nothing(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    admin = Desk.open(url, now=NOW, actor="tester")
    admin.add_staff("guest", name_zh="访客", name_en="Guest", roles=["viewer"])
    admin.close()
    other = colleague(url)
    received = next(t for t in other.open_tickets() if t.state is TicketState.RECEIVED)
    app = make_app(Desk.open(url, now=NOW, actor="guest"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert len(app.state.tickets) == len(other.open_tickets())  # reads everything
        await _select(app, pilot, received.number)
        for key in ("space", "a", "p"):
            await pilot.press(key)
            await settle(app, pilot)
        assert other.ticket(received.number) == received  # nothing written
        toasts = _toasts(app)
        assert any("Acknowledge needs the Dispatcher role" in t for t in toasts)
        assert any("Priority/category needs the Dispatcher or Supervisor role" in t for t in toasts)
    other.close()
