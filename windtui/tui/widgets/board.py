"""The technician board: who is available, dispatched, en route, on site, off shift or on leave."""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from windtui.i18n import _, current_language
from windtui.services.records import TechnicianRecord
from windtui.tui.keymap import N_
from windtui.tui.widgets.state import DeskState
from windtui.tui.widgets.table import Cell, Column, LineTable

STATUS_LABELS = {
    "available": N_("Available"),
    "dispatched": N_("Dispatched"),
    "en_route": N_("En route"),
    "on_site": N_("On site"),
    "off_shift": N_("Off shift"),
    "on_leave": N_("On leave"),
}
STATUS_STYLE = {
    "available": "line-table--met",
    "dispatched": "line-table--running",
    "en_route": "line-table--at-risk",
    "on_site": "line-table--running",
    "off_shift": "line-table--dim",
    "on_leave": "line-table--dim",
}
_STATUS_ORDER = {s: i for i, s in enumerate(STATUS_LABELS)}
CERT_MARK = "⚠"


def technician_name(tech: TechnicianRecord) -> str:
    """The technician's name in the active language."""
    return tech.name_zh if current_language() == "zh_CN" else tech.name_en


class TechnicianBoard(LineTable):
    """One line per technician, available first."""

    COLUMNS = (
        Column("status", N_("Status"), 10),
        Column("name", N_("Name"), 10),
        Column("ticket", N_("Ticket"), 6, align="right"),
        Column("base", N_("Base"), 8, drop=2),
        Column("skills", N_("Skills"), 10, flex=True, drop=1),
        Column("cert", N_("Cert"), 4, drop=3),
    )
    EMPTY_TEXT = N_("No technicians")

    def __init__(self, state: DeskState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self._by_login: dict[str, TechnicianRecord] = {}

    def reload(self) -> None:
        """Re-read the state's technicians (after a data change)."""
        techs = sorted(
            self.state.technicians, key=lambda t: (_STATUS_ORDER.get(t.status, 99), t.login)
        )
        self._by_login = {t.login: t for t in techs}
        self.set_rows([t.login for t in techs])

    @property
    def selected(self) -> TechnicianRecord | None:
        """The technician under the cursor."""
        return self._by_login.get(self.cursor_key)  # type: ignore[arg-type]

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        """Cells of one technician."""
        tech = self._by_login[key]  # type: ignore[index]
        ticket = self.state.tickets.get(tech.current_ticket) if tech.current_ticket else None
        number = ticket.number if ticket else tech.current_ticket
        return (
            (_(STATUS_LABELS.get(tech.status, tech.status)), STATUS_STYLE.get(tech.status)),
            (technician_name(tech), None),
            (str(number) if number else "", None),
            (tech.base, "line-table--dim"),
            (",".join(tech.skills), "line-table--dim"),
            (CERT_MARK if tech.certificate_warning else "", "line-table--at-risk"),
        )


class BoardPane(Vertical):
    """The technician board with its header line."""

    DEFAULT_CSS = """
    BoardPane > .pane-head { height: 1; color: $text-muted; text-style: bold; }
    """

    def __init__(self, state: DeskState, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.state = state

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-head", id="board-head")
        yield TechnicianBoard(self.state, id="board")

    def on_resize(self) -> None:
        self.call_after_refresh(self.retitle)

    def retitle(self) -> None:
        """Header line and the available/total count in the border title."""
        board = self.query_one(TechnicianBoard)
        self.query_one("#board-head", Static).update(board.header_text())
        free = sum(1 for t in self.state.technicians if t.status == "available")
        self.border_title = _("Technicians {available}/{total} available").format(
            available=free, total=len(self.state.technicians)
        )

    def data_changed(self) -> None:
        """Technicians were reloaded."""
        self.query_one(TechnicianBoard).reload()
        self.retitle()
