"""The ``:`` command line: the pure parser, completion, and the prompt's keyboard flow."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from windtui.domain.model import Action, Category, Priority
from windtui.errors import WindtuiError
from windtui.tui.requests import ActionRequest, AssignRequest, ReclassifyRequest
from windtui.tui.screens.command_line import (
    COMMAND_HELP,
    CommandLineScreen,
    NavCommand,
    complete,
    parse_command,
)

PLAIN = ["ack", "feedback", "depart", "arrive", "resolve", "submit", "approve", "return"]
PLAIN += ["followup", "close", "restore"]


@pytest.mark.parametrize("verb", PLAIN)
def test_plain_actions_take_only_a_number(verb: str) -> None:
    assert parse_command(f":{verb} 1042") == ActionRequest(1042, Action(verb))
    assert parse_command(f"{verb} #1042") == ActionRequest(1042, Action(verb))


def test_assign_and_dispatch_name_a_technician() -> None:
    assert parse_command(":assign 1042 wangjg") == AssignRequest(1042, "wangjg")
    assert parse_command(":dispatch 1042 wangjg") == ActionRequest(
        1042, Action.DISPATCH, technician="wangjg"
    )


def test_hold_takes_reason_and_the_rest_as_evidence() -> None:
    assert parse_command(":hold 1042 weather wind 22 m/s at hub") == ActionRequest(
        1042, Action.HOLD, reason="weather", evidence="wind 22 m/s at hub"
    )


def test_resume_note_is_optional() -> None:
    assert parse_command(":resume 1042") == ActionRequest(1042, Action.RESUME)
    assert parse_command(":resume 1042 wind dropped") == ActionRequest(
        1042, Action.RESUME, reason="wind dropped"
    )


@pytest.mark.parametrize("verb", ["cancel", "reopen"])
def test_cancel_and_reopen_need_a_reason(verb: str) -> None:
    assert parse_command(f":{verb} 1042 customer withdrew the call") == ActionRequest(
        1042, Action(verb), reason="customer withdrew the call"
    )
    with pytest.raises(WindtuiError, match="reason expected"):
        parse_command(f":{verb} 1042")


def test_priority_and_category_take_a_value_and_the_rest_as_reason() -> None:
    assert parse_command(":priority 1042 P1 whole string down") == ReclassifyRequest(
        1042, "whole string down", priority=Priority.P1
    )
    assert parse_command("priority #1042 p2 turbine stopped") == ReclassifyRequest(
        1042, "turbine stopped", priority=Priority.P2
    )
    assert parse_command(":category 1042 FAULT not a maintenance job") == ReclassifyRequest(
        1042, "not a maintenance job", category=Category.FAULT
    )


def test_navigation_commands() -> None:
    assert parse_command(":open 1042") == NavCommand("open", number=1042)
    assert parse_command(":filter p:1 farm:DBC") == NavCommand("filter", text="p:1 farm:DBC")
    assert parse_command(":filter") == NavCommand("filter", text="")
    assert parse_command(":q") == NavCommand("quit")
    assert parse_command(":quit") == NavCommand("quit")
    assert parse_command(":help") == NavCommand("help")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (":akc 1042", "unknown action 'akc'"),
        (":ack abc", "ticket number expected, got 'abc'"),
        (":ack", "ticket number expected"),
        (":ack 1042 now", "unexpected 'now'"),
        (":assign 1042", "technician login expected"),
        (":dispatch 1042 wangjg lihua", "unexpected 'lihua'"),
        (":hold 1042", "hold reason expected"),
        (":hold 1042 rain wet", "unknown hold reason 'rain'"),
        (":hold 1042 weather", "evidence expected"),
        (":priority 1042", "priority expected (P1, P2, P3, P4)"),
        (":priority 1042 P0 why", "unknown priority 'P0' (P1, P2, P3, P4)"),
        (":priority 1042 P1", "reason expected"),
        (":category 1042 wind why", "unknown category 'wind'"),
        (":category x1 fault why", "ticket number expected, got 'x1'"),
        (":open x1", "ticket number expected, got 'x1'"),
        (":q now", "unexpected 'now'"),
        (":", "empty command"),
    ],
)
def test_errors_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(WindtuiError) as caught:
        parse_command(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_documented_verb_parses() -> None:
    samples = {"hold": "1 parts waiting for gearbox", "cancel": "1 dup", "reopen": "1 again"}
    samples |= {"priority": "1 P1 string down", "category": "1 fault not planned"}
    samples |= {"assign": "1 wangjg", "dispatch": "1 wangjg", "filter": "x", "help": "", "quit": ""}
    samples |= {"kpi": "2025Q1"}
    for verb in COMMAND_HELP:
        parse_command(f"{verb} {samples.get(verb, '1')}".strip())


def test_tab_completes_verbs_and_hold_reasons() -> None:
    assert complete("ac") == ("ack ", ["ack"])
    assert complete("re") == ("re", ["resolve", "return", "restore", "resume", "reopen"])
    assert complete("res") == ("res", ["resolve", "restore", "resume"])
    assert complete("hold 1042 cr") == ("hold 1042 crane_vessel ", ["crane_vessel"])
    assert complete("pri") == ("priority ", ["priority"])
    assert complete("cat") == ("category ", ["category"])
    assert complete("priority 1042 p") == ("priority 1042 P", ["P1", "P2", "P3", "P4"])
    assert complete("category 1042 da") == ("category 1042 data_analysis ", ["data_analysis"])
    assert complete("zz") == ("zz", [])
    assert complete("ack 10") == ("ack 10", [])


class PromptApp(App[None]):
    """Pushes the prompt on start and records what it dismisses with."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("console")

    def open_prompt(self, initial: str = "") -> None:
        self.push_screen(CommandLineScreen(initial), self.results.append)


async def test_prompt_shows_errors_inline_then_submits() -> None:
    app = PromptApp()
    async with app.run_test() as pilot:
        app.open_prompt()
        await pilot.pause()
        await pilot.press(*"akc 1042", "enter")
        screen = app.screen
        assert isinstance(screen, CommandLineScreen)
        assert "unknown action 'akc'" in str(screen.query_one("#cmd-message", Static).render())
        assert app.results == []
        screen.query_one(Input).value = ""
        await pilot.press(*"ack 1042", "enter")
        await pilot.pause()
        assert app.results == [ActionRequest(1042, Action.ACK)]
        assert not isinstance(app.screen, CommandLineScreen)


async def test_prompt_tab_completion_history_and_escape() -> None:
    app = PromptApp()
    async with app.run_test() as pilot:
        app.open_prompt()
        await pilot.pause()
        await pilot.press(*"disp", "tab", *"1042 wangjg", "enter")
        await pilot.pause()
        assert app.results == [ActionRequest(1042, Action.DISPATCH, technician="wangjg")]
        app.open_prompt()
        await pilot.pause()
        await pilot.press("up")
        assert app.screen.query_one(Input).value == "dispatch 1042 wangjg"
        await pilot.press("down")
        assert app.screen.query_one(Input).value == ""
        await pilot.press("escape")
        await pilot.pause()
        assert app.results[-1] is None


async def test_prompt_lists_candidates_when_ambiguous() -> None:
    app = PromptApp()
    async with app.run_test() as pilot:
        app.open_prompt("res")
        await pilot.pause()
        await pilot.press("tab")
        message = str(app.screen.query_one("#cmd-message", Static).render())
        assert "resolve" in message and "resume" in message
