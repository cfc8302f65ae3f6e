"""Snapshots of the KPI screen at 80×24 (English and Chinese) and 160×50, and of a drill-down.

SYNC tests only (``snap_compare`` runs its own event loop). Time is frozen twice: the desk clock
is ``NOW`` and time-machine travels there without ticking. The data is the closed history of
tests/tui/kpi_history.py on the shared test fleet, written through the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from textual.pilot import Pilot

from windtui.i18n import set_language
from windtui.services.desk import Desk
from windtui.tui.app import WindApp
from windtui.tui.screens.kpi import FigureList

from .conftest import NOW
from .kpi_history import history


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def console(desk: Desk) -> Callable[[str], WindApp]:
    """The dispatcher's console on the history, in a language."""
    history(desk)

    def make(lang: str) -> WindApp:
        set_language(lang)
        return WindApp(desk, live=False)

    return make


async def _settle(pilot: Pilot[Any]) -> None:
    for _round in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _kpis(pilot: Pilot[Any]) -> None:
    await _settle(pilot)
    await pilot.press("K")
    await _settle(pilot)


async def _onsite(pilot: Pilot[Any]) -> None:
    """The on-site figure selected: a quarter of weeks with two misses against the line."""
    await _kpis(pilot)
    figures = pilot.app.screen.query_one(FigureList)
    figures.select_key("onsite_compliance")
    await pilot.pause()


async def _onsite_missed(pilot: Pilot[Any]) -> None:
    await _onsite(pilot)
    await pilot.press("m")
    await _settle(pilot)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_kpi_screen_80x24(
    snap_compare: Callable[..., bool], console: Callable[[str], WindApp], frozen: None, lang: str
) -> None:
    """Figures with goal, status mark and word, counts; the on-site trend under them."""
    assert snap_compare(console(lang), terminal_size=(80, 24), run_before=_onsite)


def test_kpi_screen_160x50(
    snap_compare: Callable[..., bool], console: Callable[[str], WindApp], frozen: None
) -> None:
    """Wide: every figure at once; chart, survey scores and availability per farm beside."""
    assert snap_compare(console("en"), terminal_size=(160, 50), run_before=_onsite)


def test_kpi_drill_down_80x24(
    snap_compare: Callable[..., bool], console: Callable[[str], WindApp], frozen: None
) -> None:
    """The tickets against the on-site target: elapsed against the limit, closing day."""
    assert snap_compare(console("en"), terminal_size=(80, 24), run_before=_onsite_missed)
