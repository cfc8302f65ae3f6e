"""Terminal charts drawn with block characters: a bar per week or month, a target line.

Why not a plotting library: ``textual-plotext`` (plotext 5) counts a Chinese character as one
cell, so CJK tick labels drift right and overflow (piccolomo/plotext#158, open), its axes take a
third of an 80×24 chart, and it pins plotext below 6. These bars are a Rich ``Text`` of a few
lines — cell-width aware (``rich.cells``), cheap to send over a thin SSH link (the chart is
repainted only when its data changes), and readable without colour: every bar's value and its
status marker (✓ ! ✗) are printed above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from windtui.tui.widgets.cells import fit

EIGHTHS = " ▁▂▃▄▅▆▇█"
"""Partial blocks, empty to full, in eighths of a cell's height."""
TARGET_MARK = "╌"
NO_VALUE = "·"
MAX_SLOT = 12
"""The widest a bar's slot gets (bar and gap), however few the bars."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One bucket: its label under the bar, its value (None: nothing counted) and how the value
    reads above it, with the status marker and colour of the value against the target."""

    label: str
    value: float | None
    text: str = ""
    marker: str = ""
    colour: str = ""


@dataclass(frozen=True, slots=True)
class Scale:
    """The values at the bottom and the top of the bars, and the target line (None: none),
    each with the text the left gutter shows for it."""

    lo: float
    hi: float
    lo_text: str
    hi_text: str
    target: float | None = None
    target_text: str = ""


def bar_level(value: float, scale: Scale, rows: int) -> int:
    """The bar's height in eighths of a cell (at least one for a value above the bottom)."""
    span = scale.hi - scale.lo
    share = 1.0 if span <= 0 else (value - scale.lo) / span
    share = max(0.0, min(1.0, share))
    eighths = round(share * rows * 8)
    return max(1, eighths) if value > scale.lo else eighths


def block(level: int, row: int) -> str:
    """The character of a bar ``level`` eighths high in bar row ``row`` (0: bottom)."""
    filled = level - row * 8
    if filled >= 8:
        return EIGHTHS[8]
    return EIGHTHS[max(0, filled)]


def _thinned(labels: Sequence[str], slot: int) -> list[str]:
    """Every label that fits its slot; when they are wider, every k-th one (k so they fit)."""
    widest = max((cell_len(label) for label in labels), default=0)
    if widest <= slot:
        return list(labels)
    every = math.ceil((widest + 1) / max(1, slot))
    return [label if i % every == 0 else "" for i, label in enumerate(labels)]


def render_bars(bars: Sequence[Bar], scale: Scale, width: int, height: int) -> Text:
    """``bars`` as ``height`` lines of ``width`` cells: values above, bars, labels under.

    The left gutter carries the scale (top, bottom) and the target; when there are more bars
    than cells, the latest ones are shown.
    """
    text = Text(no_wrap=True, overflow="crop", end="")
    rows = max(1, height - 2)
    gutter_texts = [scale.hi_text, scale.lo_text, scale.target_text]
    gutter = max(cell_len(t) for t in gutter_texts) + 1
    room = max(1, width - gutter)
    shown = list(bars)[-room:] if len(bars) > room else list(bars)
    slot = max(1, min(MAX_SLOT, room // max(1, len(shown))))
    bar_width = max(1, slot - 1) if slot > 2 else 1
    levels = [None if b.value is None else bar_level(b.value, scale, rows) for b in shown]
    target_row = None
    if scale.target is not None:
        target_row = min(rows - 1, bar_level(scale.target, scale, rows) // 8)
        target_row = max(0, target_row)
    dim = Style(dim=True)

    def gutter_for(row: int) -> str:
        if target_row is not None and row == target_row and scale.target_text:
            return scale.target_text
        if row == rows - 1:
            return scale.hi_text
        if row == 0:
            return scale.lo_text
        return ""

    # The value row: each bar's marker and value, when they fit its slot.
    text.append(" " * gutter)
    room_text = slot - 1 if slot > 2 else slot  # a space between neighbours' values
    for bar in shown:
        value = f"{bar.marker}{bar.text}" if bar.marker.strip() else bar.text
        if cell_len(value) > room_text:
            value = bar.text if cell_len(bar.text) <= room_text else bar.marker
        if cell_len(value) > room_text:
            value = ""
        text.append(fit(value, slot, "left"), Style(color=bar.colour or None, bold=True))
    text.append("\n")
    for row in range(rows - 1, -1, -1):
        label = gutter_for(row)
        text.append(fit(label, gutter - 1, "right") + " ", dim)
        for bar, level in zip(shown, levels, strict=True):
            if level is None:
                cell = (NO_VALUE if row == 0 else " ").ljust(bar_width)
                style = dim
            else:
                cell = block(level, row) * bar_width
                style = Style(color=bar.colour or None)
            if row == target_row and (level is None or level <= row * 8):
                cell = TARGET_MARK * bar_width
                style = dim
            text.append(cell, style)
            gap = slot - bar_width
            if gap:
                mark = TARGET_MARK if row == target_row else " "
                text.append(mark * gap, dim)
        text.append("\n")
    text.append(" " * gutter)
    for label in _thinned([b.label for b in shown], slot):
        text.append(fit(label, slot, "left"), dim)
    text.rstrip()
    return text


class BarChart(Widget):
    """A bar chart of a series (:func:`render_bars`), repainted only when :meth:`show` is
    called or the widget is resized."""

    DEFAULT_CSS = """
    BarChart { height: 8; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: tuple[Bar, ...] = ()
        self.scale: Scale | None = None
        self.empty = ""

    def show(self, bars: Sequence[Bar], scale: Scale | None, empty: str = "") -> None:
        """Draw ``bars`` against ``scale``; with no bars (or no scale) the ``empty`` line."""
        self.bars = tuple(bars)
        self.scale = scale
        self.empty = empty
        self.refresh()

    def render(self) -> Text:
        if not self.bars or self.scale is None:
            return Text(self.empty, style="dim", no_wrap=True, overflow="ellipsis")
        size = self.content_region.size
        return render_bars(self.bars, self.scale, size.width, size.height)


__all__ = ["Bar", "BarChart", "Scale", "bar_level", "block", "render_bars"]
