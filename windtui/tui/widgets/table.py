"""``LineTable``: a Line-API list with columns, a cursor kept by row key and minimal repaints.

The queue, the technician board and the countdown pane are all ``LineTable`` subclasses. Rows are
identified by a hashable key (a ticket id, a technician login); the cursor follows the key, not the
index, so it survives re-sorting, filtering and data refreshes. :meth:`LineTable.tick` recomputes
the visible rows and refreshes only lines whose text changed — and when only the first (fast)
column changed, only that column's cells, because Textual resends a changed span from the left
edge of the widget (``textual-console.md`` §3).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from windtui.i18n import _, current_language
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.widgets.cells import fit

SECONDS = 2
"""Width of the seconds at the end of an ``h:mm:ss`` cell."""

Cell = tuple[str, str | None]
"""A cell: its text and the component class that styles it (None: the row's style)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``title`` is an English msgid; ``drop`` > 0 columns go first on narrow panes."""

    key: str
    title: str
    width: int
    align: str = "left"
    flex: bool = False
    drop: int = 0
    fit_title: bool = False
    """Widen to the translated title (plus the sort arrow): for columns whose values are
    narrower than their title in some language (``P`` is ``级别`` in Chinese)."""


def _has_seconds(text: str) -> bool:
    """Whether a fitted cell ends in ``:ss`` (a clock that ticks every second)."""
    return len(text) > SECONDS and text[-SECONDS - 1] == ":" and text[-SECONDS:].isdigit()


def layout_columns(columns: Sequence[Column], width: int) -> list[tuple[Column, int]]:
    """Fit columns into ``width`` cells: drop droppable ones until they fit; flex takes the rest.

    One space separates columns. The flex column keeps at least its own ``width``.
    """
    chosen = list(columns)

    def total(cols: list[Column]) -> int:
        return sum(c.width for c in cols) + max(0, len(cols) - 1)

    while total(chosen) > width and any(c.drop for c in chosen):
        worst = max(chosen, key=lambda c: c.drop)
        chosen.remove(worst)
    spare = max(0, width - total(chosen))
    return [(c, c.width + (spare if c.flex else 0)) for c in chosen]


class LineTable(ScrollView, can_focus=True):
    """A focusable list of rows rendered with the Line API. Subclasses provide ``row_cells``."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-table--cursor",
        "line-table--running",
        "line-table--at-risk",
        "line-table--breached",
        "line-table--paused",
        "line-table--met",
        "line-table--dim",
        "line-table--urgent",
        "line-table--empty",
    }

    DEFAULT_CSS = """
    LineTable {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;  /* the width never changes, so header and rows line up */
        height: 1fr;
        & > .line-table--cursor { background: $surface-lighten-2; text-style: bold; }
        &:focus > .line-table--cursor { background: $accent 50%; text-style: bold; }
        & > .line-table--running { color: $text; }
        & > .line-table--at-risk { color: $warning; text-style: bold; }
        & > .line-table--breached { color: $error; text-style: bold reverse; }
        & > .line-table--paused { color: $text-muted; text-style: italic; }
        & > .line-table--met { color: $success; }
        & > .line-table--dim { color: $text-muted; }
        & > .line-table--urgent { color: $error; text-style: bold; }
        & > .line-table--empty { color: $text-muted; text-style: italic; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", N_("Down"), show=False, id="list.down"),
        Binding("k,up", "cursor_up", N_("Up"), show=False, id="list.up"),
        Binding("g,home", "cursor_top", N_("Top"), show=False, id="list.top"),
        Binding("G,end", "cursor_bottom", N_("Bottom"), show=False, id="list.bottom"),
        Binding("pageup,ctrl+b", "page_up", N_("Page up"), show=False, id="list.page_up"),
        Binding("pagedown,ctrl+f", "page_down", N_("Page down"), show=False, id="list.page_down"),
    ]

    EMPTY_TEXT = "Nothing to show"
    """Shown on the first line when there are no rows (English msgid)."""

    class Moved(Message):
        """The cursor moved to another row (``key`` is None when the list is empty)."""

        def __init__(self, table: LineTable, key: Hashable | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:  # fmt: skip
        super().__init__(name=name, id=id, classes=classes)
        translate_bindings(self)
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self.cursor_key: Hashable | None = None
        """The key of the selected row: what every action on "the selected row" uses."""
        self._painted: dict[int, tuple[Hashable, tuple[Cell, ...], bool]] = {}
        self._cells: dict[Hashable, tuple[Cell, ...]] = {}
        self._layout: list[tuple[Column, int]] = []
        self._layout_width: tuple[int, str] | None = None
        self._column_index = {c.key: i for i, c in enumerate(self.COLUMNS)}
        self._rest_cache: dict[tuple[object, ...], list[Segment]] = {}
        self._row_styles: dict[tuple[object, ...], Style] = {}

    # -- data ---------------------------------------------------------------------------------
    @property
    def keys(self) -> list[Hashable]:
        """Row keys in display order."""
        return self._keys

    @property
    def cursor_index(self) -> int:
        """Index of the selected row (0 when the list is empty)."""
        return self._index.get(self.cursor_key, 0)

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        """The cells of one row, in ``COLUMNS`` order (subclasses override)."""
        raise NotImplementedError

    def row_style(self, key: Hashable) -> str | None:
        """A component class for the whole row, or None (subclasses may override)."""
        return None

    def set_rows(self, keys: list[Hashable]) -> None:
        """Replace the rows, keeping the selected key (and its place on screen) when it survives.

        When the selected row is gone, the cursor stays at the same index (clamped), so the next
        row is selected — what a dispatcher expects after acting on a row that leaves the view.
        """
        old_index = self.cursor_index
        old_offset = old_index - int(self.scroll_y)
        self._keys = keys
        self._index = {k: i for i, k in enumerate(keys)}
        self._cells.clear()
        if self.cursor_key not in self._index:
            self.cursor_key = keys[min(old_index, len(keys) - 1)] if keys else None
        self.virtual_size = Size(0, len(keys))
        new_index = self.cursor_index
        height = self._view_height()
        top = max(0, min(new_index - old_offset, len(keys) - height))
        if not (top <= new_index < top + height):
            top = max(0, new_index - height + 1)
        self.set_scroll(None, top)
        self._painted.clear()
        self.refresh()

    def replace_rows(self, keys: list[Hashable]) -> None:
        """Replace the rows without a full repaint: the next :meth:`tick` repaints changed lines.

        For lists re-ranked every second (deadlines): the cursor follows its key when it survives.
        """
        self._keys = keys
        self._index = {k: i for i, k in enumerate(keys)}
        if self.cursor_key not in self._index:
            self.cursor_key = keys[0] if keys else None
        if self.virtual_size.height != len(keys):
            self.virtual_size = Size(0, len(keys))
        if not keys:
            self._painted.clear()
            self.refresh()

    def invalidate(self, keys: Sequence[Hashable] | None = None) -> None:
        """Forget computed cells (all, or of ``keys``) so the next tick/paint recomputes them."""
        if keys is None:
            self._cells.clear()
        else:
            for key in keys:
                self._cells.pop(key, None)

    def cells_of(self, key: Hashable) -> tuple[Cell, ...]:
        """Cells of a row, computed at most once per tick."""
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = self.row_cells(key)
        return cells

    # -- geometry -----------------------------------------------------------------------------
    def _view_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def visible_keys(self) -> list[Hashable]:
        """Keys of the rows on screen."""
        top = int(self.scroll_y)
        return self._keys[top : top + self._view_height()]

    def columns(self) -> list[tuple[Column, int]]:
        """The columns that fit the current width, with their widths."""
        width = self.scrollable_content_region.width
        key = (width, current_language())
        if key != self._layout_width:
            columns = [
                replace(c, width=max(c.width, cell_len(_(c.title)) + 1)) if c.fit_title else c
                for c in self.COLUMNS
            ]
            self._layout = layout_columns(columns, width)
            self._layout_width = key
        return self._layout

    def header_text(self) -> str:
        """The column titles laid out like the rows (for the pane's header line)."""
        return " ".join(fit(_(c.title), w, c.align) for c, w in self.columns())

    def on_resize(self) -> None:
        self._painted.clear()
        self.refresh()

    # -- rendering ----------------------------------------------------------------------------
    def _style(self, component: str | None) -> Style:
        if component is None:
            return Style()
        return self.get_component_rich_style(component, partial=True)

    def render_line(self, y: int) -> Strip:
        """Render the row at screen line ``y`` (Line API)."""
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        base = self.rich_style if index >= len(self._keys) else Style()
        if index >= len(self._keys):
            self._painted.pop(y, None)
            if index == 0:
                text = fit(_(self.EMPTY_TEXT), width)
                return Strip([Segment(text, base + self._style("line-table--empty"))], width)
            return Strip.blank(width, base)
        key = self._keys[index]
        cells = self.cells_of(key)
        selected = key == self.cursor_key
        self._painted[y] = (key, cells, selected)
        style_key = (self.row_style(key), selected, self.has_focus)
        row = self._row_styles.get(style_key)
        if row is None:  # rich_style walks the DOM: worth caching per (row style, cursor, focus)
            row = self.rich_style + self._style(style_key[0])
            if selected:
                row += self._style("line-table--cursor")
            self._row_styles[style_key] = row
        columns = self.columns()
        # Everything right of the first (fast) column is cached: a tick re-renders only its cells.
        rest_key = (key, cells[1:], selected, width, self.has_focus)
        rest = self._rest_cache.get(rest_key)
        if rest is None:
            if len(self._rest_cache) > 4096:
                self._rest_cache.clear()
            rest = self._rest_cache[rest_key] = [
                segment
                for column, w in columns[1:]
                for segment in (Segment(" ", row), self._cell(cells, column, w, row, selected))
            ]
        first = self._first_cell(cells, *columns[0], row, selected) if columns else []
        segments = first + rest
        return Strip(segments).adjust_cell_length(width, row)

    def _cell(
        self, cells: tuple[Cell, ...], column: Column, width: int, row: Style, selected: bool
    ) -> Segment:
        text, component = cells[self._column_index[column.key]]
        return Segment(fit(text, width, column.align), self._cell_style(row, component, selected))

    def _cell_style(self, row: Style, component: str | None, selected: bool) -> Style:
        style = row + self._style(component) if component else row
        if selected:  # the cursor background wins over state colours' backgrounds
            style += self._style("line-table--cursor")
        return style

    def _first_cell(
        self, cells: tuple[Cell, ...], column: Column, width: int, row: Style, selected: bool
    ) -> list[Segment]:
        """The fast column's cell; its seconds (``…:ss``) are a segment of their own.

        A tick that changes only the seconds refreshes just those two cells, and Textual sends a
        dirty span from the start of the segment holding it (``_compositor.ChopsUpdate``).
        """
        text, component = cells[self._column_index[column.key]]
        fitted = fit(text, width, column.align)
        style = self._cell_style(row, component, selected)
        if _has_seconds(fitted):
            return [Segment(fitted[:-SECONDS], style), Segment(fitted[-SECONDS:], style)]
        return [Segment(fitted, style)]

    def _changed_span(self, old: Cell, new: Cell, width: int, align: str) -> Region | None:
        """The cells of the fast column to resend for a change from ``old`` to ``new`` (x only).

        Only the seconds when nothing else changed and both texts end in seconds; else the cell.
        """
        if old == new:
            return None
        before, after = fit(old[0], width, align), fit(new[0], width, align)
        if (
            old[1] == new[1]
            and _has_seconds(before)
            and _has_seconds(after)
            and before[:-SECONDS] == after[:-SECONDS]
        ):
            return Region(width - SECONDS, 0, SECONDS, 1)
        return Region(0, 0, width, 1)

    def tick(self) -> int:
        """Recompute the visible rows; refresh only what changed. Returns lines refreshed.

        Only rows on screen are recomputed. A line whose other columns are unchanged gets only
        the changed part of its first (fast) column refreshed — usually just the seconds.
        """
        self._cells.clear()
        columns = self.columns()
        top = int(self.scroll_y)
        visible = self._keys[top : top + self._view_height()]
        changed = 0
        for y, key in enumerate(visible):
            cells = self.cells_of(key)
            painted = self._painted.get(y)
            if painted is None or painted[0] != key or painted[2] != (key == self.cursor_key):
                self.refresh_line(top + y)
            elif painted[1] == cells:
                continue
            elif columns and painted[1][1:] == cells[1:]:
                column, width = columns[0]
                span = self._changed_span(painted[1][0], cells[0], width, column.align)
                if span is None:
                    continue
                self.refresh(span.translate((0, y)))
            else:
                self.refresh_line(top + y)
            changed += 1
        for y in [y for y in self._painted if y >= len(visible)]:
            # Lines whose row went away (the list got shorter) are blanked.
            del self._painted[y]
            self.refresh_line(top + y)
            changed += 1
        if not self._keys:
            self.refresh_line(0)  # the "nothing to show" line
        return changed

    # -- cursor -------------------------------------------------------------------------------
    def move_cursor(self, index: int) -> None:
        """Select the row at ``index`` (clamped) and scroll it into view."""
        if not self._keys:
            return
        index = max(0, min(index, len(self._keys) - 1))
        old = self.cursor_index
        self.cursor_key = self._keys[index]
        top = int(self.scroll_y)
        height = self._view_height()
        if index < top:
            self.set_scroll(None, index)
            self.refresh()
        elif index >= top + height:
            self.set_scroll(None, index - height + 1)
            self.refresh()
        else:
            self.refresh_line(old)
            self.refresh_line(index)
        if old != index:
            self.post_message(self.Moved(self, self.cursor_key))

    def select_key(self, key: Hashable) -> bool:
        """Select the row with ``key``; False when it is not in the list."""
        if key not in self._index:
            return False
        self.move_cursor(self._index[key])
        return True

    def action_cursor_down(self) -> None:
        """Next row."""
        self.move_cursor(self.cursor_index + 1)

    def action_cursor_up(self) -> None:
        """Previous row."""
        self.move_cursor(self.cursor_index - 1)

    def action_cursor_top(self) -> None:
        """First row."""
        self.move_cursor(0)

    def action_cursor_bottom(self) -> None:
        """Last row."""
        self.move_cursor(len(self._keys) - 1)

    def action_page_down(self) -> None:
        """One screen down."""
        self.move_cursor(self.cursor_index + self._view_height())

    def action_page_up(self) -> None:
        """One screen up."""
        self.move_cursor(self.cursor_index - self._view_height())

    def on_focus(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        self._rest_cache.clear()  # theme or CSS changed: cached segments carry old styles
        self._row_styles.clear()
        super().notify_style_update()

    def on_blur(self) -> None:
        self.refresh()
