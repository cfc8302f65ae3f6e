"""Snapshots of the detail screen, every form and the help, in English and Chinese.

SYNC tests only (``snap_compare`` runs its own event loop). Data is the demo fleet at the frozen
``NOW`` (desk clock) and time-machine travels there without ticking; the cursor does not blink
(tests/tui/conftest.py). Screens run in the small harness app of ``test_screens`` so that a
change to the main screen does not churn these pictures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from textual.pilot import Pilot
from textual.screen import Screen

from windtui.domain.model import Action, Category, Priority
from windtui.i18n import set_language
from windtui.services.desk import Desk
from windtui.tui.screens import (
    AssignForm,
    DetailScreen,
    HoldForm,
    NewTicketForm,
    ReasonForm,
    ReclassifyForm,
    ResumeForm,
)

from .test_screens import Harness  # tests/tui is on sys.path (rootdir-relative test module)

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the demo fixtures' frozen instant
SIZE = (130, 45)
LANGS = ["en", "zh_CN"]


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def demo(demo_db: Callable[[str], str]) -> Iterator[Callable[[str], Desk]]:
    """Open the demo desk in a language (and switch the console to it)."""
    opened: list[Desk] = []

    def open_in(lang: str) -> Desk:
        url = demo_db(lang)  # building the template resets the language: switch after
        set_language(lang)
        desk = Desk.open(url, now=NOW, actor="tester")
        opened.append(desk)
        return desk

    yield open_in
    for desk in opened:
        desk.close()


def held_ticket(desk: Desk) -> int:
    """The first demo ticket on hold: it shows met, paused and n/a clocks and a hold record."""
    return next(t.number for t in desk.open_tickets() if t.hold is not None)


async def _loaded(pilot: Pilot[Any]) -> None:
    for _round in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _submitted_empty(pilot: Pilot[Any]) -> None:
    await _loaded(pilot)
    await pilot.press("ctrl+s")  # show the inline errors
    await pilot.pause()


def _snap(
    snap_compare: Callable[..., bool],
    desk: Desk,
    start: Callable[[], Screen[Any]],
    run_before: Callable[[Pilot[Any]], Any] = _loaded,
) -> bool:
    return snap_compare(Harness(desk, start), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", LANGS)
def test_detail(snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str) -> None:
    desk = demo(lang)
    number = held_ticket(desk)
    assert _snap(snap_compare, desk, lambda: DetailScreen(number))


@pytest.mark.parametrize("lang", LANGS)
def test_help_over_detail(
    snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str
) -> None:
    desk = demo(lang)
    number = held_ticket(desk)

    async def open_help(pilot: Pilot[Any]) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert _snap(snap_compare, desk, lambda: DetailScreen(number), open_help)


@pytest.mark.parametrize("lang", LANGS)
def test_new_ticket_form_with_errors(
    snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str
) -> None:
    desk = demo(lang)
    assert _snap(snap_compare, desk, NewTicketForm, _submitted_empty)


@pytest.mark.parametrize("lang", LANGS)
def test_new_ticket_form_turbine_picker(
    snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str
) -> None:
    desk = demo(lang)
    farm = desk.farms()[0].code

    async def filter_turbines(pilot: Pilot[Any]) -> None:
        await _loaded(pilot)
        await pilot.press("tab", *"A0", "down")
        await _loaded(pilot)

    assert _snap(snap_compare, desk, lambda: NewTicketForm(farm=farm), filter_turbines)


@pytest.mark.parametrize("lang", LANGS)
def test_hold_form(snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str) -> None:
    desk = demo(lang)
    assert _snap(snap_compare, desk, lambda: HoldForm(1001, 1), _submitted_empty)


@pytest.mark.parametrize("lang", LANGS)
def test_resume_form(snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str) -> None:
    desk = demo(lang)
    assert _snap(snap_compare, desk, lambda: ResumeForm(1001, 1))


@pytest.mark.parametrize("lang", LANGS)
def test_cancel_form(snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str) -> None:
    desk = demo(lang)
    assert _snap(snap_compare, desk, lambda: ReasonForm(1001, 1, Action.CANCEL), _submitted_empty)


@pytest.mark.parametrize("lang", LANGS)
def test_dispatch_form(
    snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str
) -> None:
    desk = demo(lang)
    assert _snap(snap_compare, desk, lambda: AssignForm(1001, 1, Action.DISPATCH))


@pytest.mark.parametrize("lang", LANGS)
def test_reclassify_form(
    snap_compare: Callable[..., bool], demo: Any, frozen: None, lang: str
) -> None:
    """Submitted unchanged and without a reason: both inline errors name their field."""
    desk = demo(lang)
    assert _snap(
        snap_compare,
        desk,
        lambda: ReclassifyForm(1001, 1, Priority.P3, Category.FAULT),
        _submitted_empty,
    )
