"""Main-screen flows with Pilot, plus the pure pieces (filter grammar, cell formatting)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import Input

from windtui.domain.model import Action, Category, ClockState, Priority, TicketState
from windtui.i18n import _, catalog_ids, set_language
from windtui.services.desk import Desk
from windtui.tui.app import MainScreen, WindApp, next_step
from windtui.tui.filtering import FilterError, parse_filter
from windtui.tui.keymap import ConsoleConfig, all_bindings, parse_config, unknown_binding_ids
from windtui.tui.screens.confirm import ConfirmScreen
from windtui.tui.widgets.board import TechnicianBoard
from windtui.tui.widgets.cells import fit, format_remaining, percent_bar
from windtui.tui.widgets.countdown import DeadlineList
from windtui.tui.widgets.queue import FILTER_DEBOUNCE_S, TicketQueue
from windtui.tui.widgets.table import Column, layout_columns

from .support import settle


async def ready(app: WindApp, pilot: Pilot[int]) -> TicketQueue:
    """Wait for the initial load; return the queue."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.main.queue


# -- pure pieces -------------------------------------------------------------------------------


def test_remaining_shows_seconds_only_under_an_hour_or_breached() -> None:
    assert format_remaining(3 * 3600 + 12 * 60 + 59) == "3h12m"
    assert format_remaining(59 * 60 + 5) == "0:59:05"
    assert format_remaining(-(12 * 60 + 3)) == "+0:12:03"
    assert format_remaining(150 * 3600) == "6d06h"
    assert format_remaining(None) == ""
    # The list panes drop the seconds of a breach older than an hour (it changes once a minute).
    assert format_remaining(-(19 * 3600 + 30 * 60 + 5), seconds_within=3600) == "+19h30m"
    assert format_remaining(-(12 * 60 + 3), seconds_within=3600) == "+0:12:03"
    assert format_remaining(-(19 * 3600 + 30 * 60 + 5)) == "+19:30:05"


def test_fit_crops_and_pads_by_terminal_cells() -> None:
    assert fit("达坂城风电场", 7) == "达坂城…" and cell_len(fit("达坂城风电场", 7)) == 7
    assert fit("A07", 5, "right") == "  A07"
    assert cell_len(fit("故障维修x", 8)) == 8
    assert percent_bar(50, 4) == "██  "


def test_columns_drop_by_priority_and_flex_takes_the_rest() -> None:
    cols = (Column("a", "A", 5), Column("b", "B", 10, flex=True), Column("c", "C", 5, drop=1))
    assert [(c.key, w) for c, w in layout_columns(cols, 40)] == [("a", 5), ("b", 28), ("c", 5)]
    assert [c.key for c, _w in layout_columns(cols, 16)] == ["a", "b"]


def test_filter_grammar_fields_values_and_negation(demo_desk: Desk) -> None:
    tickets = demo_desk.open_tickets()

    def pick(text: str) -> set[int]:
        f = parse_filter(text)
        return {t.number for t in tickets if f.matches(t)}

    p1 = {t.number for t in tickets if t.priority is Priority.P1}
    assert pick("p:1") == p1 and p1
    assert pick("-p:1") == {t.number for t in tickets} - p1
    onsite = {t.number for t in tickets if t.state is TicketState.ON_SITE}
    assert pick("state:onsite") == onsite and onsite
    assert pick("cat:fault state:onsite") == {
        t.number for t in tickets if t.state is TicketState.ON_SITE and t.category is Category.FAULT
    }
    assert pick("hold:weather") == {
        t.number for t in tickets if t.hold and t.hold.value == "weather"
    }
    assert pick("owner:none") == {t.number for t in tickets if not t.owner}
    assert pick("farm:dbc") == {t.number for t in tickets if t.farm == "DBC"}
    some = tickets[0]
    assert some.number in pick(some.title.split()[0])
    for bad in ("zz:1", "p:9", "state:nowhere", 'x "open'):
        with pytest.raises(FilterError):
            parse_filter(bad)


def test_next_step_follows_the_lifecycle(demo_desk: Desk) -> None:
    by_state = {t.state: t for t in demo_desk.open_tickets() if not t.hold}
    assert next_step(by_state[TicketState.RECEIVED]) is Action.ACK
    assert next_step(by_state[TicketState.EN_ROUTE]) is Action.ARRIVE
    held = next(t for t in demo_desk.open_tickets() if t.hold)
    assert next_step(held) is None


def test_every_binding_has_an_id_and_a_translated_description() -> None:
    bindings = all_bindings()
    assert bindings and all(b.id for _owner, b in bindings)
    catalog = set(catalog_ids("zh_CN"))
    missing = {
        b.description for _o, b in bindings if b.description and b.description not in catalog
    }
    assert not missing


def test_config_keys_and_console_settings() -> None:
    config = parse_config('[keys]\n"ticket.next" = "period"\n[console]\nbell = true\n')
    assert config.keys == {"ticket.next": "period"} and config.bell
    assert unknown_binding_ids({"ticket.next": "x", "tikcet.ack": "y"}) == ["tikcet.ack"]
    with pytest.raises(Exception, match="timezone"):
        parse_config('[console]\ntimezone = "Mars/Olympus"\n')


# -- the screen --------------------------------------------------------------------------------


async def test_queue_loads_sorted_by_due_and_navigates(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        assert isinstance(app.screen, MainScreen) and app.focused is queue
        assert len(queue.keys) == len(demo_desk.open_tickets())
        first = queue.cursor_key
        assert first == queue.keys[0]
        await pilot.press("j", "j")
        assert queue.cursor_index == 2
        await pilot.press("k")
        assert queue.cursor_index == 1
        await pilot.press("G")
        assert queue.cursor_index == len(queue.keys) - 1
        await pilot.press("g")
        assert queue.cursor_key == first
        await pilot.press("pagedown")
        assert queue.cursor_index > 10


async def test_sort_cycles_and_reverses(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("s")
        assert queue.sort_by == "number"
        numbers = [app.state.tickets[k].number for k in queue.keys]
        assert numbers == sorted(numbers)
        await pilot.press("S")
        numbers = [app.state.tickets[k].number for k in queue.keys]
        assert numbers == sorted(numbers, reverse=True)
        assert "No.▼" in queue.header_text()


async def test_filter_narrows_and_cursor_survives_refresh(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("slash", *"p:2", "enter")
        assert app.focused is queue
        assert queue.keys and all(app.state.tickets[k].priority is Priority.P2 for k in queue.keys)
        await pilot.press("j", "j")
        chosen = queue.cursor_key
        # Another console touches an unrelated ticket: the view rebuilds, cursor and filter stay.
        other = next(t for t in app.state.tickets.values() if t.id != chosen)
        app.apply_changes([other])
        app.tick()
        await pilot.pause()
        assert queue.cursor_key == chosen and queue.filter.text == "p:2"
        # Esc on the queue clears the filter; the cursor still follows the ticket.
        await pilot.press("escape")
        assert not queue.filter.active and queue.cursor_key == chosen


async def test_live_filter_applies_after_typing_pauses(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        everything = list(queue.keys)
        await pilot.press("slash", *"p:2")
        assert queue.keys == everything  # not between two keys of one word
        await pilot.pause(FILTER_DEBOUNCE_S * 3)
        assert queue.filter.text == "p:2"
        assert queue.keys and all(app.state.tickets[k].priority is Priority.P2 for k in queue.keys)
        assert isinstance(app.focused, Input)  # the line stays open until Enter or Esc


async def test_bad_filter_keeps_the_input_open_and_keys_type_text(demo_desk: Desk, make_app):
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("slash", *"zz:1 q a", "enter")
        box = app.screen.query_one("#queue-filter", Input)
        assert app.focused is box and box.value == "zz:1 q a"  # q and a were typed, not bound
        assert "zz" in str(box.border_subtitle)
        assert app.is_running and queue.filter.text != box.value  # the bad line is not applied


def test_farm_filter_checks_the_known_farms() -> None:
    assert parse_filter("farm:db", farms={"DBC", "HTX"}).active  # a prefix of a known farm
    assert parse_filter("farm:xxx").active  # no farms given: nothing to check against
    with pytest.raises(FilterError, match="Unknown farm XXX"):
        parse_filter("p:1 farm:dbc,XXX", farms={"DBC", "HTX"})


async def test_unknown_farm_is_an_inline_error_and_the_filter_stays_open(
    demo_desk: Desk, make_app
) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        farm = next(iter(app.state.tickets.values())).farm
        await pilot.press("slash", *"farm:XXX", "enter")
        box = app.screen.query_one("#queue-filter", Input)
        assert app.focused is box and str(box.border_subtitle) == "Unknown farm XXX"
        assert not queue.filter.active
        await pilot.press(*["backspace"] * 3, *farm[:2].lower(), "enter")
        assert app.focused is queue and queue.filter.text == f"farm:{farm[:2].lower()}"
        assert queue.keys and all(
            app.state.tickets[k].farm.startswith(farm[:2]) for k in queue.keys
        )


async def test_reverse_sort_keeps_ties_lowest_number_first(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        queue.sort_by = "priority"
        await pilot.press("S")
        rows = [app.state.tickets[k] for k in queue.keys]
        ranks = [list(Priority).index(t.priority) for t in rows]
        assert ranks == sorted(ranks, reverse=True) and len(set(ranks)) < len(ranks)
        for rank in set(ranks):
            tied = [t.number for t in rows if list(Priority).index(t.priority) == rank]
            assert tied == sorted(tied), rank


async def test_panes_switch_by_number_and_tab(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        screen = app.main
        assert screen.has_class("-narrow")
        await pilot.press("2")
        assert isinstance(app.focused, TechnicianBoard)
        assert (
            screen.query_one("#pane-board").display and not screen.query_one("#pane-queue").display
        )
        await pilot.press("3")
        assert isinstance(app.focused, DeadlineList)
        await pilot.press("tab")
        assert isinstance(app.focused, TicketQueue)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, DeadlineList)
        await pilot.press("escape")
        assert isinstance(app.focused, TicketQueue)
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert not screen.has_class("-narrow") and screen.query_one("#pane-board").display


async def test_action_key_acknowledges_the_selected_ticket(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("slash", *"state:received", "enter")
        ticket = queue.selected
        assert ticket is not None
        await pilot.press("a")
        await settle(app, pilot)
        assert demo_desk.ticket(ticket.number).state is TicketState.ACKNOWLEDGED
        assert app.state.tickets[ticket.id].state is TicketState.ACKNOWLEDGED
        # space runs the next step (feedback) on the same ticket, which is still selected
        await pilot.press("escape")
        assert queue.select_key(ticket.id)
        await pilot.press("space")
        await settle(app, pilot)
        assert demo_desk.ticket(ticket.number).state is TicketState.FEEDBACK_GIVEN


async def test_refused_action_shows_an_error_and_changes_nothing(demo_desk: Desk, make_app):
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("slash", *"state:onsite", "enter")
        ticket = queue.selected
        await pilot.press("a")  # ack an on-site ticket: the lifecycle refuses
        await settle(app, pilot)
        assert demo_desk.ticket(ticket.number).version == ticket.version
        assert [n.message for n in app._notifications if n.severity == "warning"] == [
            f"Acknowledge is not allowed for ticket {ticket.number} (On site)"
        ]


async def test_hold_key_opens_the_hold_form_and_quit_asks_when_it_has_input(
    demo_desk: Desk, make_app
) -> None:
    from windtui.tui.screens.forms import HoldForm

    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("slash", *"state:onsite -hold:any", "enter")
        assert queue.selected is not None
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HoldForm)
        app.screen.query_one("#evidence", Input).value = "wind 25 m/s"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, HoldForm)


async def test_alert_raised_once_when_a_clock_turns_at_risk(desk: Desk, make_clock, make_app):
    snap = desk.create_ticket(farm="DBC", category=Category.FAULT, priority=Priority.P1,
                              title="Pitch fault", turbine="A07")  # fmt: skip
    clock = make_clock()
    app = make_app(desk, clock=clock)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(app, pilot)
        ack = next(
            c for c in app.state.board.clocks(snap.id, clock()) if c.target.value == "acknowledge"
        )
        clock.advance(seconds=ack.target_seconds * 0.8)  # past the 75 % at-risk threshold
        app.tick()
        app.tick()
        await pilot.pause()
        mine = [a for a in app.alerts_seen if a[0] == snap.id]
        assert mine == [(snap.id, ack.target, ClockState.AT_RISK)]
        clock.advance(seconds=ack.target_seconds)  # now breached: one more alert
        app.tick()
        app.tick()
        assert [a[2] for a in app.alerts_seen if a[0] == snap.id] == [
            ClockState.AT_RISK,
            ClockState.BREACHED,
        ]


async def test_change_from_another_console_appears_after_the_poll(
    demo_desk: Desk, demo_db, make_app
) -> None:
    app = make_app(demo_desk, live=True, poll_interval=0.05)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready_live(app, pilot)
        received = next(t for t in app.state.tickets.values() if t.state is TicketState.RECEIVED)
        # Another console is another process: in this one the poll thread shares the
        # models' database proxy, which a second desk here would race for.
        script = (
            "import sys; from datetime import datetime; from windtui.services.desk import Desk;"
            "d = Desk.open(sys.argv[1], now=datetime.fromisoformat(sys.argv[2]), actor='luog');"
            "d.act(int(sys.argv[3]), 'ack'); d.close()"
        )
        argv = [demo_desk.url, demo_desk.clock().isoformat(), str(received.number)]
        done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True)
        assert done.returncode == 0, done.stderr
        for _attempt in range(200):  # bounded wait for the poll thread, not a timing assertion
            if app.state.tickets[received.id].state is TicketState.ACKNOWLEDGED:
                break
            await pilot.pause(0.02)
        assert app.state.tickets[received.id].state is TicketState.ACKNOWLEDGED
        assert received.id in queue.keys


async def ready_live(app: WindApp, pilot: Pilot[int]) -> TicketQueue:
    """Wait for the load with the poll worker running (it never completes)."""
    for _attempt in range(500):
        if app.state.loaded:
            break
        await pilot.pause(0.01)
    await pilot.pause()
    return app.main.queue


async def test_tick_with_a_frozen_clock_repaints_nothing(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        app.tick()
        await pilot.pause()
        before = app.export_screenshot()
        assert queue.tick() == 0
        app.tick()
        await pilot.pause()
        assert app.export_screenshot() == before


async def test_remapped_key_from_config(demo_desk: Desk, make_app) -> None:
    app = make_app(demo_desk, config=ConsoleConfig(keys={"view.sort": "period"}))
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        await pilot.press("s")
        assert queue.sort_by == "due"
        await pilot.press("period")
        assert queue.sort_by == "number"


async def test_chinese_screen_aligns_cjk_columns(demo_db, make_clock, make_app) -> None:
    url = demo_db("zh_CN")
    set_language("zh_CN")
    desk = Desk.open(url, now=make_clock()(), actor="tester")
    app = make_app(desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        lines = [queue.render_line(y) for y in range(5)]
        assert {line.cell_length for line in lines} == {queue.scrollable_content_region.width}
        title = str(app.main.query_one("#pane-queue").border_title)
        assert title.startswith("工单队列") and _("Filter") == "筛选"
        header = queue.header_text()
        assert "风场/风机" in header and cell_len(header) == queue.scrollable_content_region.width
    desk.close()


def test_queue_clock_is_the_running_one_it_is_sorted_by_never_a_stopped_breach() -> None:
    from datetime import UTC, datetime

    from windtui.domain.model import Clock, Target
    from windtui.tui.widgets.cells import next_clock

    stopped = datetime(2026, 3, 1, tzinfo=UTC)
    repair_late = Clock(
        Target.REPAIR, ClockState.BREACHED, 9000, started=True, remaining_seconds=-55_800,
        met_at=stopped,
    )  # fmt: skip
    report = Clock(
        Target.REPORT, ClockState.BREACHED, 86_400, started=True, remaining_seconds=-14_400
    )
    review = Clock(Target.REVIEW, ClockState.RUNNING, 259_200, started=True, remaining_seconds=600)
    held = Clock(Target.ONSITE, ClockState.PAUSED, 172_800, started=True, remaining_seconds=3_600)
    assert next_clock((repair_late, report)) is report
    assert next_clock((repair_late, report, review), Target.REVIEW) is review
    assert next_clock((repair_late, held)) is held  # only a paused clock left: show the hold
    assert next_clock((repair_late,)) is None


def test_readme_lists_every_binding_id() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    missing = sorted({b.id for _o, b in all_bindings() if f"`{b.id}`" not in readme})
    assert not missing, f"binding ids missing from README: {missing}"


async def test_deadlines_keep_a_breach_that_went_on_hold_and_say_why(
    demo_desk: Desk, make_app
) -> None:
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(app, pilot)
        deadlines = app.main.query_one(DeadlineList)
        held_breaches = [
            key
            for key, clock in deadlines._clocks.items()
            if clock.state is ClockState.BREACHED and clock.hold_reason is not None
        ]
        assert held_breaches, "the demo has repairs that breached before a parts hold"
        key = held_breaches[0]
        clock = deadlines._clocks[key]
        note = deadlines.row_cells(key)[-1][0]
        assert note == f"Breached · {clock.hold_reason.label}"


async def test_filter_knows_every_farm_not_only_those_with_open_tickets(
    demo_desk: Desk, make_app
) -> None:
    demo_desk.add_farm(
        "NEW", name_zh="新风电场", name_en="New WF", province="河北", latitude=41.0, longitude=114.0
    )  # a farm with no ticket at all yet
    fleet = {f.code for f in demo_desk.farms()}
    app = make_app(demo_desk)
    async with app.run_test(size=(160, 50)) as pilot:
        queue = await ready(app, pilot)
        assert app.state.farms == fleet
        queue.set_filter("farm:NEW")  # a real farm: never "unknown", whatever is open there
        assert queue.keys == []
        with pytest.raises(FilterError):
            queue.set_filter("farm:ZZZ")
