"""Regressions from the dispatcher review: type-ahead, confirm on discard, turbine stopped,
queue order after plan changes, live policy, header fit, one key map for queue and detail,
sort arrows, form errors, command line, translations, at-risk marker, technician picker."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

from windtui.domain.model import TicketState
from windtui.services.desk import Desk
from windtui.tui.app import WindApp

from .conftest import NOW

SIZE = (160, 50)


async def settle(app: WindApp, pilot: Pilot[int]) -> None:
    """Let workers finish and their UI callbacks run."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def burst(app: WindApp, pilot: Pilot[int], *keys: str) -> None:
    """Send ``keys`` in one burst, as a terminal delivers fast typing or a paste.

    ``pilot.press`` waits for the app to go idle after every key, which hides exactly the race
    a real burst hits (keys queued before a just-opened prompt has the focus).
    """
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        char = {"slash": "/", "colon": ":", "space": " "}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)
    await pilot.pause()


def colleague(url: str) -> Desk:
    """A second desk on the same database (another dispatcher's console)."""
    return Desk.open(url, now=NOW, actor="colleague")


def versions(desk: Desk) -> dict[int, tuple[int, TicketState]]:
    """Every open ticket's version and state (what a stray key would change)."""
    return {t.number: (t.version, t.state) for t in desk.open_tickets()}


async def test_keys_typed_right_after_slash_and_colon_land_in_the_prompt(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    before = versions(other)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # Put the cursor on a held ticket: a stray "r" would resume it.
        held = next(t for t in other.open_tickets() if t.hold is not None)
        app.main.queue.select_key(held.id)
        await burst(app, pilot, "slash", *"farm:DBC", "enter")
        await settle(app, pilot)
        assert app.main.queue.filter.text == "farm:DBC"
        assert app.screen is app.main
        assert versions(other) == before
        # The same burst after ":" lands in the command line.
        await burst(app, pilot, "colon", *"filter farm:HMI", "enter")
        await settle(app, pilot)
        assert app.main.queue.filter.text == "farm:HMI"
        assert versions(other) == before
    desk.close()
    other.close()


async def test_colon_after_a_refused_command_starts_a_new_one(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from windtui.tui.screens.command_line import CommandLineScreen

    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("colon", *"akc 1", "enter")
        await settle(app, pilot)
        prompt = app.screen
        assert isinstance(prompt, CommandLineScreen) and prompt.input.value == "akc 1"
        await pilot.press("colon")
        assert prompt.input.value == ""
        await pilot.press(*"filter farm:DBC", "enter")  # a colon inside a command stays
        await settle(app, pilot)
        assert app.screen is app.main and app.main.queue.filter.text == "farm:DBC"
    desk.close()


async def test_new_ticket_with_turbine_stopped_starts_downtime(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from windtui.tui.screens.forms import NewTicketForm

    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    numbers = {t.number for t in other.tickets(include_closed=True)}
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewTicketForm)
        await pilot.press("enter", "down", "enter")  # the first farm
        await settle(app, pilot)
        await pilot.press("tab", *"A07", "tab", "tab", "tab", "tab", *"Gearbox trip")
        await pilot.press("tab", "tab", "tab", "tab")  # description, reporter, contact
        stopped = form.query_one("#turbine_stopped")
        assert form.focused is stopped
        assert "[ ]" in str(stopped.render())  # the state reads in plain text (NO_COLOR)
        await pilot.press("space")
        assert "[x]" in str(stopped.render())
        await pilot.press("enter")  # submits, as on every field (it used to untick the box)
        await settle(app, pilot)
        assert app.screen is app.main
    created = [t for t in other.tickets(include_closed=True) if t.number not in numbers]
    assert len(created) == 1 and created[0].title == "Gearbox trip"
    assert created[0].timeline.turbine_stopped_at == NOW
    assert other.detail(created[0].number).downtime is not None
    desk.close()
    other.close()
