"""The KPI screen, driven from the keyboard: what it shows is what ``kpis(...)`` computes for the
same period and filter; every figure drills down to the tickets ``kpi_tickets`` names; a ticket
opens its detail; the period steps and the trend switches; a technician is refused.

The history is tests/tui/kpi_history.py on the shared test fleet (tests/conftest.py), written
through the services, so the outcome rows are what a desk writes at closing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from windtui.domain import kpi as rules
from windtui.domain.kpi import Every, Status, Unit
from windtui.errors import WindtuiError
from windtui.services import kpi
from windtui.services.desk import Desk
from windtui.services.kpi import Filters
from windtui.tui.app import MainScreen, WindApp
from windtui.tui.commands import binding_commands
from windtui.tui.screens.command_line import NavCommand, parse_command
from windtui.tui.screens.detail import DetailScreen
from windtui.tui.screens.kpi import (
    DrillList,
    FigureList,
    KpiScreen,
    KpiTicketsScreen,
    duration_text,
    parse_kpi_filter,
    refusal,
    step_period,
    target_text,
    value_text,
)
from windtui.tui.screens.my_jobs import MyJobsScreen
from windtui.tui.widgets.charts import Bar, BarChart, Scale, render_bars

from .conftest import NOW
from .kpi_history import HOSTILE_TITLE, history
from .support import settle

Q1 = rules.parse_quarter("2025Q1")
Q4 = rules.parse_quarter("2024Q4")
SIZE = (160, 50)


@pytest.fixture
def numbers(desk: Desk) -> dict[str, int]:
    """The history, written through the fixture desk (a dispatcher, QA and supervisor)."""
    return history(desk)


def kpi_of(app: WindApp) -> KpiScreen:
    screen = app.screen
    assert isinstance(screen, KpiScreen), f"not on the KPI screen: {screen!r}"
    return screen


def line(widget: Any, y: int) -> str:
    """The text of line ``y`` of a line widget."""
    return "".join(segment.text for segment in widget.render_line(y))


def static_text(widget: Static, width: int = 160) -> str:
    console = Console(width=width, file=io.StringIO())
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get()


def toasts(app: WindApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_kpis(app: WindApp, pilot: Any) -> KpiScreen:
    await settle(app, pilot)
    await pilot.press("K")
    await settle(app, pilot)
    return kpi_of(app)


def assert_shows(screen: KpiScreen, expected: kpi.KpiReport) -> None:
    """The list holds every figure of ``expected`` in its order, each line showing the value,
    the target, the status marker and word, and the ticket count."""
    figures = screen.query_one(FigureList)
    assert screen.report is not None
    assert screen.report.figures == expected.figures
    assert screen.report.period == expected.period and screen.report.filters == expected.filters
    assert figures.keys == [f.key for f in expected.figures]
    top = int(figures.scroll_y)
    for y, key in enumerate(figures.visible_keys()):
        f = expected.figure(key)  # type: ignore[arg-type]
        text = line(figures, y)
        assert text.split()[0] in f.label, (key, text)
        assert value_text(f.unit, f.value) in text, (key, text)
        assert f"{f.status.marker} {f.status.label}".strip() in text, (key, text)
        assert f"{f.count:,}" in text, (key, text)
        if f.target is not None:
            assert target_text(f) in text, (key, text)
    assert top == int(figures.scroll_y)


async def move_to(screen: KpiScreen, pilot: Any, key: str) -> None:
    """Move the figure cursor to ``key`` with the keys (Home, then Down)."""
    figures = screen.query_one(FigureList)
    await pilot.press("home", *["down"] * figures.keys.index(key))
    await pilot.pause()
    assert figures.cursor_key == key


# -- the flows ----------------------------------------------------------------------------------


async def test_open_drill_down_detail_back_and_change_period(
    desk: Desk, numbers: dict[str, int], make_app: Callable[..., WindApp]
) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_kpis(app, pilot)
        # the current quarter at NOW, with the weekly trend, exactly as kpis() computes it
        expected = kpi.kpis(desk, Q1, every=Every.WEEK)
        assert screen.period == Q1 and screen.every is Every.WEEK
        assert_shows(screen, expected)
        title = static_text(screen.query_one("#kpi-title", Static))
        assert "2025Q1" in title and "per week" in title

        # the chart follows the cursor: on-site compliance per week against the 95 % line
        await move_to(screen, pilot, "onsite_compliance")
        chart = screen.query_one(BarChart)
        assert expected.trend is not None
        assert [b.value for b in chart.bars] == list(expected.trend.series["onsite_compliance"])
        assert [b.label for b in chart.bars][:2] == ["W01", "W02"]
        assert chart.scale is not None and chart.scale.target == 0.95
        missed = [b for b in chart.bars if b.marker == Status.MISSED.marker]
        assert missed and all(b.value is not None and b.value < 0.90 for b in missed)
        caption = static_text(screen.query_one("#kpi-caption", Static))
        assert "On site in time" in caption and "target ≥95%" in caption

        # Enter: the tickets behind the figure, as kpi_tickets names them
        await pilot.press("enter")
        await settle(app, pilot)
        drill = app.screen
        assert isinstance(drill, KpiTicketsScreen)
        rows = drill.query_one(DrillList)
        assert rows.keys == kpi.kpi_tickets(desk, "onsite_compliance", None, Q1)
        # m: only those against the target (the late ticket and the cancelled one)
        await pilot.press("m")
        await settle(app, pilot)
        against = kpi.kpi_tickets(desk, "onsite_compliance:missed", None, Q1)
        assert rows.keys == against == sorted([numbers["late"], numbers["cancelled"]])
        late = line(rows, rows.keys.index(numbers["late"]))
        assert f"✗ {duration_text(72 * 3600)}" in late and "≤48h00m" in late
        assert "2025-02-14" in late

        # Enter on a ticket: its detail; Esc back to the list, Esc back to the figures
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.number == against[0]
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is drill
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen

        # [ : the previous quarter (one ticket closed on 31 December)
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert screen.period == Q4
        previous = kpi.kpis(desk, Q4, every=Every.WEEK)
        assert_shows(screen, previous)
        assert previous.figure("closed_tickets").value == 1
        # ] back, and w: the trend per month
        await pilot.press("right_square_bracket", "w")
        await settle(app, pilot)
        assert screen.period == Q1 and screen.every is Every.MONTH
        monthly = kpi.kpis(desk, Q1, every=Every.MONTH)
        assert_shows(screen, monthly)
        assert [b.label for b in screen.query_one(BarChart).bars] == ["Jan", "Feb", "Mar"]

        # Esc: back to the desk
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)


async def test_filter_line_filters_like_windtui_kpi(
    desk: Desk, numbers: dict[str, int], make_app: Callable[..., WindApp]
) -> None:
    app = make_app(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_kpis(app, pilot)
        await pilot.press("slash", *"farm:dhq p:3", "enter")
        await settle(app, pilot)
        wanted = Filters(farm="DHQ", priority="P3")
        assert screen.filters == wanted
        assert_shows(screen, kpi.kpis(desk, Q1, wanted, every=Every.WEEK))
        assert "farm:DHQ p:P3" in static_text(screen.query_one("#kpi-filter", Static), 80)
        # the drill-down keeps the filter
        await move_to(screen, pilot, "reopen_rate")
        await pilot.press("m")
        await settle(app, pilot)
        drill = app.screen
        assert isinstance(drill, KpiTicketsScreen) and drill.filters == wanted
        assert drill.query_one(DrillList).keys == [numbers["reopened"]]
        await pilot.press("escape")
        await settle(app, pilot)

        # an unknown technician: one line, the figures stay as they were
        before = screen.report
        await pilot.press("slash", "ctrl+u", *"tech:nobody", "enter")
        await settle(app, pilot)
        assert screen.filters == wanted and screen.report is before
        assert any("nobody" in t and "\n" not in t for t in toasts(app))
        # a term the grammar refuses stays in the line with its reason
        await pilot.press("slash", "ctrl+u", *"gearbox", "enter")
        await pilot.pause()
        box = screen.query_one("#kpi-filter-input", Input)
        assert box.has_focus and "field:value" in str(box.border_subtitle)
        await pilot.press("escape")
        await pilot.pause()
        assert not box.has_class("-open") and screen.filters == wanted


async def test_every_figure_drills_down_to_the_tickets_behind_it(
    desk: Desk, numbers: dict[str, int], make_app: Callable[..., WindApp]
) -> None:
    app = make_app(desk)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_kpis(app, pilot)
        assert screen.report is not None
        figures = screen.query_one(FigureList)
        for figure in screen.report.figures:
            assert figures.select_key(figure.key)  # the keys that move there are tested above
            await pilot.press("enter")
            await settle(app, pilot)
            drill = app.screen
            assert isinstance(drill, KpiTicketsScreen), figure.key
            assert drill.query_one(DrillList).keys == kpi.kpi_tickets(desk, figure.key, None, Q1)
            if figure.missed is not None:
                await pilot.press("m")
                await settle(app, pilot)
                behind = kpi.kpi_tickets(desk, figure.key + ":missed", None, Q1)
                assert drill.query_one(DrillList).keys == behind, figure.key
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen


async def test_titles_are_shown_as_typed_never_as_markup(
    desk: Desk, numbers: dict[str, int], make_app: Callable[..., WindApp]
) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_kpis(app, pilot)
        await move_to(screen, pilot, "closed_tickets")
        await pilot.press("enter")
        await settle(app, pilot)
        rows = app.screen.query_one(DrillList)
        text = line(rows, rows.keys.index(numbers["late"]))
        assert "[bold red]converter[/] trip ␛[2J[@click=app.quit]x[/]" in text
        assert "\x1b" not in text and HOSTILE_TITLE not in text
        assert app.is_running


async def test_command_line_and_palette_open_the_screen(
    desk: Desk, numbers: dict[str, int], make_app: Callable[..., WindApp]
) -> None:
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in binding_commands(app.main)]
        assert "desk: KPIs (K)" in titles
        await pilot.press("colon", *"kpi 2024Q4", "enter")
        await settle(app, pilot)
        screen = kpi_of(app)
        assert screen.period == Q4
        assert_shows(screen, kpi.kpis(desk, Q4, every=Every.WEEK))
        # :kpi on the KPI screen moves it instead of stacking another one
        await pilot.press("colon", *"kpi 2025-02", "enter")
        await settle(app, pilot)
        assert kpi_of(app) is screen and screen.period == rules.parse_month("2025-02")
        assert sum(isinstance(s, KpiScreen) for s in app.screen_stack) == 1


def test_command_line_verb() -> None:
    assert parse_command("kpi") == NavCommand("kpi", text="")
    assert parse_command(":kpi 2025Q1") == NavCommand("kpi", text="2025Q1")
    with pytest.raises(WindtuiError, match="2025Q5"):
        parse_command("kpi 2025Q5")


# -- roles --------------------------------------------------------------------------------------


async def test_a_technician_gets_a_toast_instead_of_the_screen(
    desk: Desk, sqlite_url: str, numbers: dict[str, int], make_app: Callable[..., WindApp]
) -> None:
    technician = Desk.open(sqlite_url, now=NOW, actor="wangjg")  # crew only
    app = make_app(technician)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, MyJobsScreen)
        app.open_kpi()
        await settle(app, pilot)
        assert isinstance(app.screen, MyJobsScreen)
        assert not any(isinstance(s, KpiScreen) for s in app.screen_stack)
        assert toasts(app)[-1].startswith("Reading KPIs needs the ")
        # pushed past the console's own check, the services refuse and the screen closes
        app.push_screen(KpiScreen())
        await settle(app, pilot)
        assert isinstance(app.screen, MyJobsScreen)
        assert len([t for t in toasts(app) if "KPI" in t]) == 2
    technician.close()


def test_refusal_names_the_roles_that_may() -> None:
    from windtui.domain.model import Role

    assert refusal(None) is None
    assert refusal({Role.VIEWER}) is None and refusal({Role.QA, Role.TECHNICIAN}) is None
    text = refusal({Role.TECHNICIAN})
    assert (
        text
        == "Reading KPIs needs the Dispatcher or QA or Supervisor or Administrator or Viewer role"
    )


# -- pure parts ---------------------------------------------------------------------------------


def test_filter_grammar() -> None:
    known = {"farms": ["DBC", "DHQ"], "technicians": ["wangjg"], "teams": ["URC"]}
    assert parse_kpi_filter("", **known) == Filters()
    assert parse_kpi_filter(
        "farm:dbc cust:HNR team:urc tech:WANGJG cat:maint p:1", **known
    ) == Filters("DBC", "HNR", "URC", "wangjg", "maintenance", "P1")
    assert parse_kpi_filter("f:DHQ o:lihua c:fault priority:P4", **known) == Filters(
        farm="DHQ", technician="lihua", category="fault", priority="P4"
    )
    for bad, says in (
        ("gearbox", "field:value"),
        ("farm:XYZ", "Unknown farm XYZ"),
        ("farm:DBC,DHQ", "one value per field"),
        ("farm:DBC f:DHQ", "one value per field"),
        ("colour:red", "Unknown filter field colour"),
        ("p:9", "Unknown priority"),
        ("cat:", "has no value"),
        ('farm:"DBC', "Cannot read the filter"),
    ):
        with pytest.raises(WindtuiError, match=says):
            parse_kpi_filter(bad, **known)


def test_period_steps_keep_their_kind() -> None:
    assert step_period(Q1, -1) == Q4
    assert step_period(Q4, 1) == Q1
    assert step_period(rules.parse_period("2025-01"), -1) == rules.parse_period("2024-12")
    assert step_period(rules.parse_period("2025"), 1) == rules.parse_period("2026")
    week = rules.parse_period("2025-02-03..2025-02-09")
    assert step_period(week, 1) == rules.parse_period("2025-02-10..2025-02-16")
    with pytest.raises(WindtuiError):
        step_period(rules.parse_period("9999Q4"), 1)


def test_numbers_as_text() -> None:
    assert [duration_text(s) for s in (None, 42, 2370, 9000, 259_200, 442_800)] == [
        "—", "42s", "40m", "2h30m", "72h00m", "5d03h",
    ]  # fmt: skip
    assert value_text(Unit.RATE, 0.975) == "97.5%" and value_text(Unit.RATE, None) == "—"
    assert value_text(Unit.HOURS, 857.4166) == "857.4h"
    assert value_text(Unit.COUNT, 62_500) == "62,500"


def test_bars_read_without_colour_and_keep_cell_widths() -> None:
    bars = [
        Bar("W01", 1.0, "100%", "✓", "green"),
        Bar("W02", None),
        Bar("W03", 0.5, "50%", "✗", "red"),
    ]
    scale = Scale(0.0, 1.0, "0%", "100%", target=0.95, target_text="≥95%")
    text = render_bars(bars, scale, 40, 8)
    lines = text.plain.split("\n")
    assert len(lines) == 8
    assert "✓100%" in lines[0] and "✗50%" in lines[0]
    assert lines[1].startswith("100%") or "≥95%" in lines[1]
    assert "╌" in "".join(lines) and "·" in lines[-2]
    assert "█" in lines[-2] and "W01" in lines[-1] and "W03" in lines[-1]
    # every line fits the width, CJK labels included
    from rich.cells import cell_len

    wide = render_bars([Bar("1月", 0.9, "90%"), Bar("2月", 0.8, "80%")], scale, 30, 6)
    assert all(cell_len(row) <= 30 for row in wide.plain.split("\n"))
    assert "1月" in wide.plain and "2月" in wide.plain


async def test_r_writes_the_period_audit_report_to_the_desk_reports_folder(
    desk: Desk,
    numbers: dict[str, int],
    make_app: Callable[..., WindApp],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the desk's own, fixed folder
    app = make_app(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_kpis(app, pilot)
        await pilot.press("R")
        await settle(app, pilot)
        folder = tmp_path / "windtui" / "reports"
        written = sorted(p.name for p in folder.iterdir())
        assert written == ["audit-2025Q1.md", "audit-2025Q1.xlsx"]
        assert "2025Q1" in (folder / "audit-2025Q1.md").read_text("utf-8")
        assert any("Audit report written" in str(n.message) for n in app._notifications)
