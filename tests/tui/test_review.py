"""Regressions from the dispatcher review: type-ahead, confirm on discard, turbine stopped,
queue order after plan changes, live policy, header fit, one key map for queue and detail,
sort arrows, form errors, command line, translations, at-risk marker, technician picker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

from windtui.domain.model import Action, Category, ClockState, Priority, Target, TicketState
from windtui.i18n import _, set_language
from windtui.paths import data_dir
from windtui.services.desk import Desk
from windtui.tui.app import WindApp

from .conftest import NOW
from .support import colleague, settle

SIZE = (160, 50)


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
        await burst(app, pilot, "colon", *"filter farm:HTX", "enter")
        await settle(app, pilot)
        assert app.main.queue.filter.text == "farm:HTX"
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


def _policy_with(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped policy with one line changed, as a file to load."""
    text = (data_dir() / "sla-policy.toml").read_text("utf-8")
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    return path


async def test_a_policy_loaded_at_another_desk_replans_the_console(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp], tmp_path: Path
) -> None:
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    received = next(t for t in other.open_tickets() if t.state is TicketState.RECEIVED)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = app.state.board.next_due(received.id)
        assert before is not None and before[0] is Target.ACKNOWLEDGE
        other.actor = "xien"  # the demo's administrator loads policies
        other.load_policy_file(_policy_with(tmp_path, 'acknowledge = "1h"', 'acknowledge = "5h"'))
        await asyncio.to_thread(app.poll_once, -1)  # the poll worker's step, in a thread
        await settle(app, pilot)
        after = app.state.board.next_due(received.id)
        assert after is not None and after[1] - before[1] == timedelta(hours=4)
        # ...and the queue is in the order a console started now shows.
        fresh = make_app(Desk.open(url, now=NOW, actor="luog"))
        async with fresh.run_test(size=SIZE) as fresh_pilot:
            await settle(fresh, fresh_pilot)
            assert app.main.queue.keys == fresh.main.queue.keys
        fresh.desk.close()
    desk.close()
    other.close()


async def test_every_console_shows_the_same_order_after_a_hold(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    """A console that saw a breached ticket go on hold orders it as a fresh console does."""
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        breached = [
            t
            for t in other.open_tickets()
            if t.hold is None
            and t.state in (TicketState.DISPATCHED, TicketState.ON_SITE)
            and any(c.state is ClockState.BREACHED for c in app.state.board.clocks(t.id, NOW))
        ]
        assert breached
        for t in breached[:3]:
            other.act(t.number, Action.HOLD, reason="weather", evidence="gusts 21 m/s")
        await asyncio.to_thread(app.poll_once, -1)  # the poll worker's step, in a thread
        await settle(app, pilot)
        fresh = make_app(Desk.open(url, now=NOW, actor="luog"))
        async with fresh.run_test(size=SIZE) as fresh_pilot:
            await settle(fresh, fresh_pilot)
            assert app.main.queue.keys == fresh.main.queue.keys
            # the held breaches keep their place among the breaches, in both
            first = app.main.queue.keys.index(breached[0].id)
            assert app.state.board.next_due(breached[0].id) is not None
            assert first < len(app.main.queue.keys) - 1
        fresh.desk.close()
    desk.close()
    other.close()


async def test_equal_due_instants_sort_by_number_whatever_the_arrival_order(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    """Ties must not follow the order tickets reached this console (load versus polls)."""
    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    at = NOW - timedelta(minutes=10)
    twins = [
        desk.create_ticket(
            farm="DBC",
            category=Category.FAULT,
            priority=Priority.P2,
            title=f"twin {n}",
            at=at,
            turbine="DBC-A07",
        ).id
        for n in (1, 2)
    ]
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.main.queue
        assert app.state.board.next_due(twins[0]) == app.state.board.next_due(twins[1])
        order = [k for k in queue.keys if k in twins]
        assert order == sorted(twins, key=lambda i: app.state.tickets[i].number)
        # The same tickets, arrived in the other order (a poll re-adding the first twin).
        app.state.tickets[twins[0]] = app.state.tickets.pop(twins[0])
        queue.data_changed()
        assert [k for k in queue.keys if k in twins] == order
    desk.close()


def _toasts(app: WindApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_action_menu_on_queue_and_detail_runs_keyless_steps(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from windtui.tui.actions import ActionMenu
    from windtui.tui.screens.detail import DetailScreen
    from windtui.tui.screens.forms import ResumeForm

    url = demo_db("en")
    desk = Desk.open(url, now=NOW, actor="tester")
    other = colleague(url)
    onsite = next(
        t for t in other.open_tickets() if t.state is TicketState.ON_SITE and t.hold is None
    )
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.queue.select_key(onsite.id)
        await pilot.press("m")
        await settle(app, pilot)
        menu = app.screen
        assert isinstance(menu, ActionMenu)
        labels = [label for _name, label, _key in menu.entries]
        assert "Resolve" in labels and "Hold" in labels and "Priority/category" in labels
        keys = {name: key for name, _label, key in menu.entries}
        assert keys["hold"] == "h" and keys["resolve"] is None
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main and other.ticket(onsite.number).version == onsite.version

        # On the detail screen the old one-letter steps are gone: g and s do nothing there.
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pilot.press("s", "g", "v")
        await settle(app, pilot)
        assert other.ticket(onsite.number).version == onsite.version
        # ...Resolve is in the menu.
        await pilot.press("m")
        await settle(app, pilot)
        menu = app.screen
        assert isinstance(menu, ActionMenu)
        index = [name for name, _label, _key in menu.entries].index("resolve")
        await pilot.press("enter")  # nothing is highlighted yet: Enter alone runs nothing
        await settle(app, pilot)
        assert app.screen is menu and other.ticket(onsite.number).version == onsite.version
        await pilot.press(*["down"] * (index + 1), "enter")
        await settle(app, pilot)
        assert app.screen is detail
        assert other.ticket(onsite.number).state is TicketState.RESOLVED
        # x on a resolved ticket: refused, and said so.
        await pilot.press("x")
        await settle(app, pilot)
        assert f"Cancel is not allowed for ticket {onsite.number} (Resolved)" in _toasts(app)
        assert app.screen is detail
    held = next(t for t in other.open_tickets() if t.hold is not None)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # r does the same on both screens: the resume form with its optional note.
        app.main.queue.select_key(held.id)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ResumeForm)
        await pilot.press("escape")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ResumeForm)
    desk.close()
    other.close()


async def test_header_counts_fit_at_80x24(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from rich.cells import cell_len

    from windtui.tui.widgets.header import DeskCounts

    for lang in ("en", "zh_CN"):
        set_language(lang)
        desk = Desk.open(demo_db(lang), now=NOW, actor="tester")
        app = make_app(desk)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            counts = app.main.query_one(DeskCounts)
            text = str(counts.render())
            assert _("On hold {n}").split(" ")[0] in text or _("Held:{n}")[:2] in text
            assert cell_len(text.rstrip()) <= counts.size.width, (lang, text)
        desk.close()
    set_language("en")


async def test_sort_arrow_shows_on_narrow_columns_and_zh_priority_title_fits(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    app = make_app(desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        queue = app.main.queue
        for sort in ("farm", "category", "owner", "state"):
            queue.sort_by = sort
            queue.rebuild()
            assert "▲" in queue.header_text(), sort
        queue.action_reverse_sort()
        assert "▼" in queue.header_text()
        set_language("zh_CN")
        queue.sort_by = "priority"
        queue.rebuild()
        head = queue.header_text()
        assert "级别▼" in head, head
    set_language("en")
    desk.close()


async def test_a_field_error_clears_when_the_field_changes(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from windtui.tui.screens.forms import HoldForm

    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(HoldForm(1001, 1))
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, HoldForm)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert set(form.errors) == {"reason", "evidence"}
        await pilot.press("tab", *"gusts")
        await pilot.pause()
        assert set(form.errors) == {"reason"}  # evidence is filled now: its error is gone
    desk.close()


async def test_at_risk_time_left_has_a_text_marker(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from windtui.tui.widgets.countdown import DeadlineList

    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        queue = app.main.queue
        seen = False
        for key in queue.keys:
            due = queue.row_cells(key)[0]
            if due[1] == "line-table--at-risk":
                assert due[0].startswith("!"), due
                seen = True
        assert seen, "the demo has an at-risk ticket"
        deadlines = app.main.query_one(DeadlineList)
        risky = [deadlines.row_cells(k)[0] for k in deadlines.keys]
        assert any(text.startswith("!") for text, style in risky if style == "line-table--at-risk")
    desk.close()


async def test_technician_picker_pads_status_and_puts_leave_last(
    demo_db: Callable[[str], str], make_app: Callable[..., WindApp]
) -> None:
    from windtui.tui.screens.forms import AssignForm, FilterPicker

    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(AssignForm(1001, 1))
        await settle(app, pilot)
        picker = app.screen.query_one(FilterPicker)
        rows = [(c.value, c.prompt.plain) for c in picker._choices]  # type: ignore[union-attr]
        statuses = {t.login: t.status for t in desk.technicians()}
        order = [statuses[login] for login, _text in rows]
        assert order[0] == "available" and "on_leave" in order
        assert order.index("on_leave") > max(i for i, s in enumerate(order) if s != "on_leave")
        for login, text in rows:
            if statuses[login] == "dispatched":
                assert "Dispatched  " in text, text  # never "DispatchedYangjiang"
    desk.close()
