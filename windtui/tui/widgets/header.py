"""The desk header: the desk clock (its own narrow widget, at the left) and the board counts.

The clock is the only thing in the header that changes every second, so it is a separate widget
at x=0: a tick repaints only the digits that changed. The counts repaint only when a count changes.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from windtui.i18n import _
from windtui.tui.keymap import N_

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


TITLE = N_("windtui dispatch desk")
COUNT_LABELS = (
    (N_("Open {n}"), N_("At risk {n}"), N_("Breached {n}"), N_("On hold {n}")),
    (N_("Open:{n}"), N_("Risk:{n}"), N_("Late:{n}"), N_("Held:{n}")),
)
"""The counts' labels, full and short (the short ones when the full ones do not fit)."""
COUNT_STYLES = ("", "bold yellow", "bold red", "")


def counts_text(counts: tuple[int, int, int, int], short: bool = False) -> Text:
    """``Open 50  At risk 3  Breached 12  On hold 5`` (or the short labels, one space apart)."""
    text = Text()
    gap = " " if short else "  "
    for i, (label, n) in enumerate(zip(COUNT_LABELS[short], counts, strict=True)):
        if i:
            text.append(gap)
        text.append(_(label).format(n=n), style=COUNT_STYLES[i] if n else "")
    return text


class DeskCounts(Static):
    """Open / at risk / breached / on hold; short labels when the full ones do not fit."""

    DEFAULT_CSS = "DeskCounts { width: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._counts: tuple[int, int, int, int] | None = None
        self._short = False

    def show(self, open_: int, at_risk: int, breached: int, on_hold: int) -> None:
        """Display the counts; repaints only when one changed."""
        counts = (open_, at_risk, breached, on_hold)
        if counts == self._counts:
            return
        self._counts = counts
        self._paint()
        header = self.parent
        if isinstance(header, DeskHeader):
            header.fit_title()  # more digits may crowd the title out (or fewer let it back)

    def full_width(self) -> int:
        """Cells the counts take with the full labels."""
        return cell_len(counts_text(self._counts or (0, 0, 0, 0)).plain)

    def on_resize(self) -> None:
        self._paint()

    def _paint(self) -> None:
        if self._counts is None:
            return
        short = self.size.width < self.full_width()
        self._short = short
        self.update(counts_text(self._counts, short))


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
        yield Static(_(TITLE), id="desk-title")

    def on_resize(self) -> None:
        self.fit_title()

    def fit_title(self) -> None:
        """The desk title goes first when the line is short: the counts matter more."""
        title = self.query_one("#desk-title", Static)
        needed = (
            self.query_one(DeskClock).size.width
            + self.query_one(DeskCounts).full_width()
            + cell_len(_(TITLE))
            + 2  # the title's padding
        )
        show = self.size.width >= needed
        if title.display != show:
            title.display = show
