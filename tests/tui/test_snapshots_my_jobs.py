"""Snapshots of the technician's console at 80x24, English and Chinese, on the demo fleet.

SYNC tests only (``snap_compare`` runs its own event loop). Time is frozen twice: the desk clock
is ``NOW`` and time-machine travels there without ticking (Textual's monotonic timers still run).
The console runs as ``liuy``, a demo technician with four open jobs at Yumen (one on hold for
parts with its repair clock breached before the hold, one resolved).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from textual.pilot import Pilot

from windtui.i18n import set_language
from windtui.services.desk import Desk
from windtui.tui.app import WindApp

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the demo fixtures' frozen instant
SIZE = (80, 24)
LANGS = ["en", "zh_CN"]


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def technician_app(demo_db: Callable[[str], str]) -> Iterator[Callable[[str], WindApp]]:
    """The console of demo technician ``liuy`` in a language."""
    opened: list[Desk] = []

    def make(lang: str) -> WindApp:
        url = demo_db(lang)  # building the template resets the language: switch after
        set_language(lang)
        desk = Desk.open(url, now=NOW, actor="liuy")
        opened.append(desk)
        return WindApp(desk, live=False)

    yield make
    for desk in opened:
        desk.close()


async def _loaded_and_ticked(pilot: Pilot[int]) -> None:
    app: WindApp = pilot.app  # type: ignore[assignment]
    for _round in range(3):  # the load, the screen switch, then the selected job's detail
        await app.workers.wait_for_complete()
        await pilot.pause()
    for _tick in range(3):  # with a frozen clock the tick must change nothing
        app.tick()
    await pilot.pause()


@pytest.mark.parametrize("lang", LANGS)
def test_my_jobs(
    snap_compare: Callable[..., bool], technician_app: Callable[[str], WindApp], frozen: None,
    lang: str,
) -> None:  # fmt: skip
    """The job list (both clocks, hold marker) and the first job's facts."""
    app = technician_app(lang)
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded_and_ticked)


@pytest.mark.parametrize("lang", LANGS)
def test_my_jobs_timeline(
    snap_compare: Callable[..., bool], technician_app: Callable[[str], WindApp], frozen: None,
    lang: str,
) -> None:  # fmt: skip
    """Enter moves into the facts; End scrolls to the timeline (newest first, with evidence)."""
    app = technician_app(lang)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=_loaded_and_ticked, press=["enter", "end"]
    )


@pytest.mark.parametrize("lang", LANGS)
def test_my_jobs_note_form(
    snap_compare: Callable[..., bool], technician_app: Callable[[str], WindApp], frozen: None,
    lang: str,
) -> None:  # fmt: skip
    """``n``: the work-note form over the list, with two typed lines."""
    app = technician_app(lang)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=_loaded_and_ticked,
        press=["n", *"IGBT module B swapped", "enter", *"fan filter clogged"],
    )
