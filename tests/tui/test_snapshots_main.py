"""Snapshots of the main screen: 80x24 and 160x50, English and Chinese, on the demo fleet.

SYNC tests only (``snap_compare`` runs its own event loop). Time is frozen twice: the desk clock
is ``NOW`` and time-machine travels there without ticking (Textual's monotonic timers still run).
The 1 Hz tick runs before the picture is taken: with a frozen clock it must change nothing.
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
SIZES = {"80x24": (80, 24), "160x50": (160, 50)}


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


async def _loaded_and_ticked(pilot: Pilot[int]) -> None:
    app: WindApp = pilot.app  # type: ignore[assignment]
    await app.workers.wait_for_complete()
    await pilot.pause()
    for _tick in range(3):
        app.tick()
    await pilot.pause()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("size", list(SIZES))
def test_main_screen(
    snap_compare: Callable[..., bool], demo_db: Callable[[str], str], frozen: None,
    lang: str, size: str,
) -> None:  # fmt: skip
    url = demo_db(lang)
    set_language(lang)
    desk = Desk.open(url, now=NOW, actor="tester")
    try:
        app = WindApp(desk, live=False)
        assert snap_compare(app, terminal_size=SIZES[size], run_before=_loaded_and_ticked)
    finally:
        desk.close()


def test_main_screen_filtered_and_sorted(
    snap_compare: Callable[..., bool], demo_db: Callable[[str], str], frozen: None
) -> None:
    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    try:
        app = WindApp(desk, live=False)
        assert snap_compare(
            app,
            terminal_size=(160, 50),
            run_before=_loaded_and_ticked,
            press=["slash", *"state:onsite", "enter", "s", "j"],
        )
    finally:
        desk.close()
