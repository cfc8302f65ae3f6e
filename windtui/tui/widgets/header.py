"""The desk header: the desk clock (its own narrow widget, at the left) and the board counts.

The clock is the only thing in the header that changes every second, so it is a separate widget
at x=0: a tick repaints only the digits that changed. The counts repaint only when a count changes.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from windtui.i18n import _

_RUNS = re.compile(r"\d+|\D+")
"""Digit runs and the text between them: the segments of the clock line."""


class DeskClock(Widget):
    """``2026-11-27 13:45:07 CST`` in the desk's timezone.

    A plain fixed-size widget, not a ``Static``: ``Static.update`` asks for a layout of the whole
    screen, which every second would repaint (and resend) everything. It renders with the Line
    API, one segment per run of digits or non-digits, and a tick refreshes only the cells whose
    characters changed: Textual resends a dirty span from the start of the segment that holds it,
    so a new second costs two characters on the wire, not the whole line.
    """

    DEFAULT_CSS = "DeskClock { width: 24; height: 1; text-style: bold; }"

    def __init__(self, timezone: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = ZoneInfo(timezone)
        self._text = ""

    def render_line(self, y: int) -> Strip:
        """The clock line, split into digit and non-digit runs (Line API)."""
        width = self.size.width
        style = self.rich_style
        if y or not self._text:
            return Strip.blank(width, style)
        segments = [Segment(run, style) for run in _RUNS.findall(self._text)]
        return Strip(segments).adjust_cell_length(width, style)

    def show(self, now: datetime) -> None:
        """Display ``now`` (UTC-aware) in the desk timezone; repaints only the changed cells."""
        text = now.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")
        old, self._text = self._text, text
        if text == old:
            return
        if len(text) != len(old):  # first paint or a zone abbreviation of another length
            self.refresh()
            return
        first = next(i for i, (a, b) in enumerate(zip(old, text, strict=True)) if a != b)
        last = next(i for i in range(len(text) - 1, -1, -1) if old[i] != text[i])
        self.refresh(Region(first, 0, last - first + 1, 1))


class DeskCounts(Static):
    """Open / at risk / breached / on hold."""

    DEFAULT_CSS = "DeskCounts { width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._counts: tuple[int, int, int, int] | None = None

    def show(self, open_: int, at_risk: int, breached: int, on_hold: int) -> None:
        """Display the counts; repaints only when one changed."""
        counts = (open_, at_risk, breached, on_hold)
        if counts == self._counts:
            return
        self._counts = counts
        text = Text()
        text.append(_("Open {n}").format(n=open_) + "  ")
        text.append(
            _("At risk {n}").format(n=at_risk) + "  ", style="bold yellow" if at_risk else ""
        )
        text.append(
            _("Breached {n}").format(n=breached) + "  ", style="bold red" if breached else ""
        )
        text.append(_("On hold {n}").format(n=on_hold))
        self.update(text)


class DeskHeader(Horizontal):
    """Clock, counts and the desk name on one line."""

    DEFAULT_CSS = """
    DeskHeader { height: 1; background: $panel; }
    DeskHeader > #desk-title { width: auto; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, timezone: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timezone = timezone

    def compose(self) -> ComposeResult:
        yield DeskClock(self.timezone, id="desk-clock")
        yield DeskCounts(id="desk-counts")
        yield Static(_("windtui dispatch desk"), id="desk-title")
