"""Hostile text and Textual's built-ins: nothing typed by a user reaches the terminal raw or runs
as markup, and the console saves no files, opens no links and starts no programs.

"Rendered" here is what the compositor hands the driver: the segments of every line of the
screen (toasts included). Their text must hold no control, bidi or separator character, and no
segment may carry a click action or a link.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import textual.app
from rich.cells import cell_len
from rich.segment import Segment
from textual.app import SuspendNotSupported
from textual.command import CommandList, CommandPalette

from windtui.domain.model import Action, Category, Priority
from windtui.safetext import DANGEROUS
from windtui.services.desk import Desk
from windtui.tui.app import WindApp
from windtui.tui.screens.detail import DetailScreen
from windtui.tui.screens.forms import HoldForm

from .support import settle

HOSTILE = "\x1b]52;c;ZXZpbA==\x07[@click=app.quit]boom[/] \u202eevil"
SHOWN = "␛]52;c;ZXZpbA==␇[@click=app.quit]boom[/] \ufffdevil"
STYLED = "[$error]red[/] [B]bold[/B] [link=https://x.example]link[/]\x9b2J\u2066"
SIZE = (200, 50)
RAW = {chr(c) for c in DANGEROUS}


def rendered(app: WindApp) -> tuple[list[str], list[Segment]]:
    """The screen as the driver would get it: its lines' text, and every segment."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines, segments = [], []
    for line in update.strips:  # type: ignore[union-attr]
        parts = [segment for strip in line for segment in strip]
        segments.extend(parts)
        lines.append("".join(s.text for s in parts))
    return lines, segments


def assert_safe(app: WindApp) -> list[str]:
    """No raw control/bidi character, no click action, no link anywhere on screen."""
    lines, segments = rendered(app)
    raw = {f"U+{ord(c):04X}" for line in lines for c in line if c in RAW}
    assert not raw, raw
    for segment in segments:
        style = segment.style
        if style is not None and not segment.control:
            assert "@click" not in style.meta, segment
            assert not style.link, segment
    return lines


async def click_on(app: WindApp, pilot: Any, text: str) -> None:
    """Click the first place on screen that shows ``text``."""
    lines, _segments = rendered(app)
    y = next(i for i, line in enumerate(lines) if text in line)
    x = cell_len(lines[y][: lines[y].index(text)])
    await pilot.click(offset=(x + 1, y))
    await pilot.pause()


@pytest.fixture
def hostile(desk: Desk) -> int:
    """A ticket whose typed fields are hostile, held with hostile evidence, owned by a
    technician with a hostile name."""
    desk.add_staff("evil", name_zh=HOSTILE, name_en=HOSTILE, roles=["technician"])
    snap = desk.create_ticket(
        farm="DBC",
        category=Category.FAULT,
        priority=Priority.P1,
        title=HOSTILE,
        turbine="DBC-A07",
        description=f"{STYLED}\nsecond line {HOSTILE}",
        reporter=STYLED,
        contact=HOSTILE,
    )
    desk.act(snap.number, Action.ACK)
    desk.assign(snap.number, "evil")
    desk.act(snap.number, Action.HOLD, reason="weather", evidence=HOSTILE)
    desk.act(snap.number, Action.RESUME, reason=STYLED)
    return snap.number


async def test_queue_detail_and_toasts_show_hostile_text_inert(
    desk: Desk, hostile: int, make_app: Callable[..., WindApp]
) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lines = assert_safe(app)
        assert any(SHOWN[:30] in line for line in lines)  # the queue row, made visible
        await click_on(app, pilot, "boom")
        assert app.is_running and app.return_code is None

        app.open_detail(hostile)
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        lines = assert_safe(app)
        text = "\n".join(lines)
        assert "[@click=app.quit]boom[/]" in text  # shown literally, not run
        assert "[$error]red[/] [B]bold[/B] [link=https://x.example]link[/]" in text
        assert "evidence: ␛]52" in text
        await click_on(app, pilot, "boom")
        assert app.is_running and app.screen is not app.main

        app.notify(f"Ticket {hostile}: {HOSTILE}", title=STYLED)
        app.screen.notify(STYLED, severity="error")  # Widget.notify asks for markup
        await pilot.pause()
        lines = assert_safe(app)
        assert sum("[$error]red[/]" in line for line in lines) >= 2
        await click_on(app, pilot, "boom")
        assert app.is_running and app.return_code is None


async def test_a_typed_error_is_not_markup(desk: Desk, make_app: Callable[..., WindApp]) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("colon")
        await settle(app, pilot)
        await pilot.press(*"[@click=app.quit]boom[/]", "enter")
        await pilot.pause()
        lines = assert_safe(app)
        assert any("unknown action '[@click=app.quit]boom[/]'" in line for line in lines)
        await click_on(app, pilot, "boom")
        assert app.is_running and app.return_code is None


async def test_palette_offers_no_screenshot(desk: Desk, make_app: Callable[..., WindApp]) -> None:
    titles = set()
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for query in ("screenshot", "theme"):
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert CommandPalette.is_open(app)
            await pilot.press(*query)
            await pilot.pause(0.5)
            found = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
            if query == "theme":
                assert any("Theme" in f for f in found)  # the system commands are still there
            else:
                assert not any("Screenshot" in f for f in found)
            await pilot.press("escape")
            await pilot.pause()
    assert "Screenshot" not in titles and "Theme" in titles


async def test_no_screenshot_file_link_or_suspend(
    desk: Desk,
    make_app: Callable[..., WindApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    downloads = tmp_path / "downloads"
    elsewhere = tmp_path / "elsewhere"
    downloads.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(downloads)
    monkeypatch.setattr(textual.app, "user_downloads_path", lambda: downloads)
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+s")  # no screenshot key: nothing happens on the queue
        await app.run_action("screenshot")  # a binding or a click action would run this
        await app.run_action(f"screenshot('x.svg', {str(elsewhere)!r})")
        assert app.deliver_screenshot() is None
        assert app.save_screenshot("y.svg", str(downloads)) == ""
        app.open_url("https://example.com")
        await app.run_action("suspend_process")
        with pytest.raises(SuspendNotSupported), app.suspend():
            pass  # pragma: no cover
        await settle(app, pilot)
        assert app.is_running
        # The form's Ctrl+S submits the form (its own binding), never a screenshot.
        app.push_screen(HoldForm(1, None))
        await settle(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        warnings = [n for n in app._notifications if n.severity == "warning"]
        assert len(warnings) >= 5
    assert list(downloads.iterdir()) == [] and list(elsewhere.iterdir()) == []
