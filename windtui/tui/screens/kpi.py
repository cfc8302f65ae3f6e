"""The KPI screen (QA leads and supervisors): every figure against its target, its trend, and
the tickets behind each number.

* Figures: ``kpis(desk, period, filters, every=…)`` in a thread worker — one pass gives the
  figures and the weekly or monthly trend (SQL aggregates; the screen adds no loop over
  tickets). Each row shows the value, the target, the status as a marker and a word (readable
  under NO_COLOR) coloured with the status colour, and how many tickets it is over / against.
* Chart: the trend of the selected figure as block bars (:mod:`windtui.tui.widgets.charts`);
  drawn from the loaded report when the cursor moves, no database work.
* Drill-down: Enter lists the tickets behind the figure, ``m`` only those against its target
  (:func:`windtui.services.kpi_drill.drill`, thread worker); Enter on a ticket opens its detail.
* Period: the current quarter first; ``[``/``]`` step back and forth (by quarter, month, year
  or the same number of days, like the period shown), ``:kpi 2025Q1`` jumps; ``w`` switches the
  trend between weeks and months. ``/`` filters: ``farm:DBC customer:HNR team:URC tech:wangjg
  cat:fault p:1`` (one value per field, every field AND-ed, as ``windtui kpi`` takes them).

Errors (an unknown farm, a period out of range) are one-line toasts; the last good figures stay.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from windtui.domain import kpi as rules
from windtui.domain import roles as access
from windtui.domain.kpi import MISSED_SUFFIX, Direction, Every, Period, Status, Unit
from windtui.domain.model import Category, Priority
from windtui.errors import Forbidden, WindtuiError
from windtui.i18n import _, current_language
from windtui.services import kpi as kpi_service
from windtui.services.kpi import TREND_KEYS, Filters, KpiFigure, KpiReport, Trend
from windtui.services.kpi_drill import KpiDrill, KpiTicketRow, Measure, drill
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.plain import plain
from windtui.tui.screens.detail import local_time
from windtui.tui.widgets.cells import percent_bar
from windtui.tui.widgets.charts import Bar, BarChart, Scale
from windtui.tui.widgets.table import Cell, Column, LineTable

WIDE_WIDTH = 120
"""At least this wide: figures on the left, the chart and the details on the right."""
STATUS_CLASS = "status:"
"""Cell component prefix: the rest is a :class:`Status` value, drawn in the status colour."""

# -- refusing ------------------------------------------------------------------------------------


def refusal(roles: Iterable[Any] | None) -> str | None:
    """The one-line refusal for someone holding ``roles`` (None: not known yet, let the
    services decide), or None when they may read KPIs."""
    if roles is None or access.permits(roles, access.KPI):
        return None
    needed = _(" or ").join(_(r.label) for r in access.needed_roles(access.KPI))
    return _("{action} needs the {roles} role").format(
        action=_(access.operation_label(access.KPI)), roles=needed
    )


def open_kpi(app: App[Any], period: str | None = None) -> None:
    """Open the KPI screen (or, when it is open, show ``period`` there); a role that may not
    read KPIs gets a toast instead."""
    identity = getattr(app, "identity", None)
    refused = refusal(identity.roles if identity is not None else None)
    if refused is not None:
        app.notify(refused, severity="warning")
        return
    try:
        chosen = rules.parse_period(period) if period else None
    except WindtuiError as error:
        app.notify(str(error), severity="error")
        return
    for screen in reversed(app.screen_stack):
        if isinstance(screen, KpiScreen):
            while app.screen is not screen:
                app.pop_screen()
            if chosen is not None:
                screen.request(period=chosen)
            return
    app.push_screen(KpiScreen(chosen))


# -- periods and filters -------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def step_period(period: Period, step: int) -> Period:
    """The period ``step`` periods of the same kind away: quarters by quarter, months by month,
    years by year, any other range by its own number of days (PeriodError past year 9999)."""
    label = period.label
    if match := _QUARTER.match(label):
        index = int(match.group(1)) * 4 + int(match.group(2)) - 1 + step
        return rules.quarter(index // 4, index % 4 + 1, period.tz)
    if match := _MONTH.match(label):
        index = int(match.group(1)) * 12 + int(match.group(2)) - 1 + step
        return rules.month(index // 12, index % 12 + 1, period.tz)
    if match := _YEAR.match(label):
        return rules.year(int(match.group(1)) + step, period.tz)
    length = (period.last_day - period.first_day).days + 1
    try:
        shift = timedelta(days=length * step)
        return rules.days(period.first_day + shift, period.last_day + shift, period.tz)
    except OverflowError:
        raise rules.PeriodError(_("the period must end before the year 9999")) from None


class KpiFilterError(WindtuiError):
    """A KPI filter line that cannot be read (names the bad term)."""


_FILTER_FIELDS = ("farm", "customer", "team", "technician", "category", "priority")
_FILTER_ALIASES = {
    "f": "farm",
    "cust": "customer",
    "tech": "technician",
    "owner": "technician",
    "o": "technician",
    "cat": "category",
    "c": "category",
    "p": "priority",
}
_FILTER_WORDS = {"farm": "farm", "customer": "cust", "team": "team", "technician": "tech",
                 "category": "cat", "priority": "p"}  # fmt: skip
"""How :func:`filter_text` writes each field back (the short forms the queue's filter uses)."""


def _norm(text: str) -> str:
    return text.lower().replace("_", "").replace("-", "").replace(" ", "")


def _known(value: str, known: Iterable[str]) -> str | None:
    """``value`` spelled as in ``known`` (case-insensitively), or None."""
    wanted = value.lower()
    return next((k for k in known if k.lower() == wanted), None)


def parse_kpi_filter(
    text: str,
    *,
    farms: Iterable[str] = (),
    technicians: Iterable[str] = (),
    teams: Iterable[str] = (),
) -> Filters:
    """A filter line such as ``farm:DBC tech:wangjg cat:fault p:1`` as :class:`Filters`.

    One ``field:value`` per field (fields: farm [f], customer [cust], team, technician [tech,
    owner, o], category [cat, c], priority [p]); category and priority by prefix, as in the
    queue. Codes the console knows (farms, technician logins, teams) are matched regardless of
    case and an unknown farm is refused here; the others are checked by the desk.
    """
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise KpiFilterError(_("Cannot read the filter: {error}").format(error=error)) from None
    chosen: dict[str, str] = {}
    fields = ", ".join(_FILTER_FIELDS)
    for word in words:
        name, sep, value = word.partition(":")
        if not sep or not name:
            raise KpiFilterError(
                _("KPI filters take field:value terms ({fields}), not '{word}'").format(
                    fields=fields, word=word
                )
            )
        key = _FILTER_ALIASES.get(name.lower(), name.lower())
        if key not in _FILTER_FIELDS:
            raise KpiFilterError(
                _("Unknown filter field {field} (fields: {fields})").format(
                    field=name, fields=fields
                )
            )
        if not value:
            raise KpiFilterError(_("Filter term {term} has no value").format(term=word))
        if "," in value or key in chosen:
            raise KpiFilterError(
                _("KPI filters take one value per field: {term}").format(term=word)
            )
        chosen[key] = _filter_value(key, value, word, list(farms), technicians, teams)
    return Filters(**chosen)


def _filter_value(
    key: str,
    value: str,
    term: str,
    farms: list[str],
    technicians: Iterable[str],
    teams: Iterable[str],
) -> str:
    if key == "farm":
        found = _known(value, farms)
        if farms and found is None:
            raise KpiFilterError(_("Unknown farm {farm}").format(farm=value))
        return found or value
    if key == "technician":
        return _known(value, technicians) or value
    if key == "team":
        return _known(value, teams) or value
    if key == "category":
        wanted = _norm(value)
        found_all = [c.value for c in Category if _norm(c.value).startswith(wanted)]
        if len(found_all) != 1:
            choices = ", ".join(c.value for c in Category)
            raise KpiFilterError(
                _("Unknown value in filter term {term} (one of: {choices})").format(
                    term=term, choices=choices
                )
            )
        return found_all[0]
    if key == "priority":
        code = value.upper() if value.upper().startswith("P") else f"P{value}"
        if code not in Priority.__members__:
            raise KpiFilterError(_("Unknown priority in filter term {term}").format(term=term))
        return code
    return value  # customer: the desk checks the code


def filter_text(filters: Filters) -> str:
    """``filters`` as a filter line (what ``/`` starts from)."""
    return " ".join(f"{_FILTER_WORDS[k]}:{v}" for k, v in filters.as_dict().items())


# -- numbers as text -----------------------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    """``45s``, ``39m``, ``2h30m``, ``4d07h`` (em dash for none)."""
    if seconds is None:
        return "—"
    value = max(0.0, seconds)
    if value < 60:
        return f"{round(value)}s"
    minutes = round(value / 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, mins = divmod(minutes, 60)
    if hours < 100:
        return f"{hours}h{mins:02d}m"
    days, hrs = divmod(hours, 24)
    return f"{days}d{hrs:02d}h"


def value_text(unit: Unit, value: float | None) -> str:
    """A figure's value for the list: ``97.5%``, ``2h30m``, ``857.4h``, ``62,500``."""
    if value is None:
        return "—"
    if unit is Unit.RATE:
        return f"{value * 100:.1f}%"
    if unit is Unit.SECONDS:
        return duration_text(value)
    if unit is Unit.HOURS:
        return f"{value:,.1f}h"
    return f"{round(value):,}"


def short_value(unit: Unit, value: float | None) -> str:
    """A value above a bar (few cells): ``97%``, ``2h30m``, ``12h``, ``340``."""
    if value is None:
        return ""
    if unit is Unit.RATE:
        return f"{value * 100:.0f}%"
    if unit is Unit.SECONDS:
        return duration_text(value)
    if unit is Unit.HOURS:
        return f"{value:.0f}h"
    return f"{round(value)}"


def target_text(figure: KpiFigure) -> str:
    """``≥95%``, ``≤1h00m``; an em dash for figures without a target."""
    if figure.target is None or figure.direction is Direction.INFO:
        return "—"
    sign = "≥" if figure.direction is Direction.HIGHER else "≤"
    if figure.unit is Unit.RATE:
        return f"{sign}{figure.target * 100:g}%"
    return sign + value_text(figure.unit, figure.target)


def status_cell(status: Status) -> Cell:
    """The status as marker and word, drawn in the status colour."""
    return (f"{status.marker} {_(status.label)}".strip(), STATUS_CLASS + status.value)


def count_text(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


# -- the figure list -----------------------------------------------------------------------------


class _StatusColours(LineTable):
    """A line table whose ``status:<value>`` cells are drawn in the status colour."""

    def _style(self, component: str | None) -> Style:
        if component and component.startswith(STATUS_CLASS):
            colour = Status(component.removeprefix(STATUS_CLASS)).colour
            return Style(color=colour or None, bold=True)
        return super()._style(component)


class FigureList(_StatusColours):
    """Every figure of the report: value, target, status, tickets over and against."""

    COLUMNS = (
        Column("name", N_("Figure"), 18, flex=True),
        Column("value", N_("Value"), 8, align="right"),
        Column("target", N_("Goal"), 8, align="right", fit_title=True),
        Column("status", N_("Status"), 9, fit_title=True),
        Column("count", N_("Tickets"), 7, align="right", fit_title=True),
        Column("missed", N_("Missed"), 7, align="right", fit_title=True, drop=1),
    )
    EMPTY_TEXT = N_("Loading the figures…")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report: KpiReport | None = None
        self._figures: dict[str, KpiFigure] = {}

    def show(self, report: KpiReport) -> None:
        """List ``report``'s figures (the cursor stays on the same figure)."""
        self.report = report
        self._figures = {f.key: f for f in report.figures}
        self.set_rows(list(self._figures))
        self.refresh()

    @property
    def selected(self) -> KpiFigure | None:
        """The figure under the cursor."""
        return self._figures.get(self.cursor_key)  # type: ignore[arg-type]

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        f = self._figures[key]  # type: ignore[index]
        colour = STATUS_CLASS + f.status.value
        return (
            (_(f.label), None),
            (value_text(f.unit, f.value), colour),
            (target_text(f), "line-table--dim"),
            status_cell(f.status),
            (count_text(f.count), None),
            (count_text(f.missed), colour if f.missed else "line-table--dim"),
        )


# -- the chart -----------------------------------------------------------------------------------

_MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"),
           N_("Jul"), N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"))  # fmt: skip


def bucket_label(label: str) -> str:
    """``2026-W27`` → ``W27``; ``2026-07`` → ``Jul`` (translated)."""
    _year, _sep, rest = label.partition("-")
    if rest.startswith("W"):
        return rest
    if rest.isdigit() and 1 <= int(rest) <= 12:
        return _(_MONTHS[int(rest) - 1])
    return label


def trend_key(key: str) -> str | None:
    """The trend series shown for figure ``key``: its own, the mean's for a p90, else None."""
    if key in TREND_KEYS:
        return key
    if key.endswith("_p90") and key.replace("_p90", "_mean") in TREND_KEYS:
        return key.replace("_p90", "_mean")
    return None


def _gutter(unit: Unit, value: float) -> str:
    if unit is Unit.RATE:
        return f"{value * 100:.0f}%"
    if unit is Unit.SECONDS:
        return duration_text(value)
    if unit is Unit.HOURS:
        return f"{value:.0f}h"
    return f"{round(value)}"


def chart_scale(figure: KpiFigure, values: list[float]) -> Scale:
    """Where the bars start and end: rates that should be high from a round ten below the
    lowest value (or target) to 100 %; everything else from zero to a little above the top."""
    target = figure.target if figure.direction is not Direction.INFO else None
    seen = [*values, *([target] if target is not None else [])]
    lo = 0.0
    if figure.unit is Unit.RATE and figure.direction is Direction.HIGHER:
        hi = 1.0
        lo = max(0.0, math.floor((min(seen, default=1.0) - 0.05) * 10) / 10)
    else:
        top = max(seen, default=0.0)
        hi = top * 1.1 if top > 0 else 1.0
        if figure.unit is Unit.RATE:
            hi = min(1.0, math.ceil(hi * 100) / 100)
    return Scale(
        lo=lo,
        hi=hi,
        lo_text=_gutter(figure.unit, lo),
        hi_text=_gutter(figure.unit, hi),
        target=target,
        target_text=target_text(figure) if target is not None else "",
    )


def trend_bars(figure: KpiFigure, trend: Trend) -> tuple[list[Bar], Scale] | None:
    """The bars of ``figure``'s trend (judged against the figure's target), or None."""
    key = trend_key(figure.key)
    if key is None or key not in trend.series:
        return None
    spec = rules.DEFINITIONS[key]
    series = trend.series[key]
    goal = figure.target if spec.direction is not Direction.INFO else None
    bars = []
    for bucket, value in zip(trend.buckets, series, strict=True):
        status = rules.judge(value, spec, goal) if goal is not None else Status.INFO
        if value is None:
            status = Status.NO_DATA
        bars.append(
            Bar(
                label=bucket_label(bucket.label),
                value=value,
                text=short_value(spec.unit, value),
                marker=status.marker if status not in (Status.INFO, Status.NO_DATA) else "",
                colour=status.colour,
            )
        )
    values = [v for v in series if v is not None]
    return bars, chart_scale(replace(figure, unit=spec.unit), values)


def chart_caption(figure: KpiFigure, report: KpiReport) -> Text:
    """The line above the chart: the figure, per week/month, its target and clock limits,
    and for satisfaction the score distribution."""
    every = report.trend.every if report.trend is not None else Every.WEEK
    per = _("per week") if every is Every.WEEK else _("per month")
    text = Text(_(figure.label), style="bold")
    key = trend_key(figure.key)
    if key is None:
        text.append(" — " + _("per period only, no trend"), style="dim")
    elif key != figure.key:
        text.append(" — " + _("per period only; bars: the mean {per}").format(per=per), "dim")
    else:
        text.append(" — " + per, style="dim")
    if figure.target is not None and figure.direction is not Direction.INFO:
        text.append("  " + _("target {target}").format(target=target_text(figure)))
    if figure.clock_targets is not None:
        short, long = figure.clock_targets
        limits = duration_text(short)
        if long != short:
            limits += "–" + duration_text(long)
        text.append("  " + _("clock limit {limits}").format(limits=limits), style="dim")
    if figure.key == "satisfaction_rate":
        scores = "  ".join(f"{s}:{n}" for s, n in sorted(report.scores.items()))
        text.append("  " + _("scores {scores}").format(scores=scores))
    if figure.key == "suggestion_adoption":
        s = report.suggestions
        counts = _("received {received}, adopted {adopted}, rejected {rejected}, pending {pending}")
        text.append(
            "  "
            + counts.format(
                received=s.received, adopted=s.adopted, rejected=s.rejected, pending=s.pending
            )
        )
    return text


def farm_name(name_zh: str, name_en: str) -> str:
    return name_zh if current_language() == "zh_CN" else name_en


def farms_table(report: KpiReport, width: int = 40) -> Table:
    """Availability per farm: code, name, a bar, the share with its marker, downtime hours.
    Names are typed reference data: plain text."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=14)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(no_wrap=True, justify="right")
    for farm in report.farms:
        share = farm.availability
        style = Style(color=farm.status.colour or None)
        bar = percent_bar(None if share is None else share * 100, max(4, width))
        table.add_row(
            plain(farm.farm),
            plain(farm_name(farm.name_zh, farm.name_en), "dim"),
            Text(bar, style=style),
            Text(farm.status.marker, style=style),
            Text(value_text(Unit.RATE, share), style=style),
            Text(_("down {hours}").format(hours=value_text(Unit.HOURS, farm.downtime_hours))),
        )
    return table


def scores_table(report: KpiReport, width: int = 30) -> Table:
    """The survey score distribution as bars (4 and 5 count as satisfied)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    total = sum(report.scores.values())
    for score in sorted(report.scores, reverse=True):
        n = report.scores[score]
        share = 100.0 * n / total if total else 0.0
        colour = "green" if score >= rules.SATISFIED_SCORE else ("yellow" if score == 3 else "red")
        table.add_row(
            Text(f"{score}"), Text(percent_bar(share, width), style=colour), Text(f"{n:,}")
        )
    return table


# -- the screen ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ask:
    """What one load asks for (a newer ask makes an older answer stale)."""

    period: Period
    filters: Filters
    every: Every
    serial: int


class KpiScreen(Screen[None]):
    """The figures of a period and filter, the selected figure's trend, and the drill-down."""

    DEFAULT_CSS = """
    KpiScreen { layout: vertical; }
    KpiScreen #kpi-title {
        height: 1; width: 1fr; background: $primary 30%; text-style: bold; padding: 0 1;
    }
    KpiScreen #kpi-filter { height: 1; width: 1fr; color: $text-muted; padding: 0 1; }
    KpiScreen #kpi-filter.-error { color: $error; }
    KpiScreen #kpi-body { height: 1fr; layout: vertical; }
    KpiScreen #kpi-figures-pane { height: 1fr; }
    KpiScreen #kpi-head { height: 1; color: $text-muted; text-style: bold; padding: 0 0 0 1; }
    KpiScreen FigureList { height: 1fr; padding: 0 0 0 1; }
    KpiScreen #kpi-chart-pane { height: 9; padding: 0 1; }
    KpiScreen #kpi-caption { height: 1; width: 1fr; }
    KpiScreen BarChart { height: 8; }
    KpiScreen #kpi-alt { height: 8; display: none; }
    KpiScreen #kpi-extra { display: none; height: auto; }
    KpiScreen #kpi-filter-input { display: none; height: 3; }
    KpiScreen #kpi-filter-input.-open { display: block; }
    KpiScreen.-wide #kpi-body { layout: horizontal; }
    KpiScreen.-wide #kpi-figures-pane { width: 1fr; height: 1fr; }
    KpiScreen.-wide #kpi-chart-pane { width: 1fr; height: 1fr; border-left: vkey $panel; }
    KpiScreen.-wide BarChart { height: 14; }
    KpiScreen.-wide #kpi-alt { height: 14; }
    KpiScreen.-wide #kpi-extra { display: block; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "tickets(False)", N_("Drill down"), id="kpi.tickets"),
        Binding("m", "tickets(True)", N_("Missed"), id="kpi.missed"),
        Binding("left_square_bracket,left", "step(-1)", N_("Earlier"), id="kpi.previous"),
        Binding("right_square_bracket,right", "step(1)", N_("Later"), id="kpi.next"),
        Binding("w", "every", N_("Week/month"), id="kpi.every"),
        Binding("R", "audit_report", N_("Audit report"), show=False, id="kpi.report"),
        Binding("slash", "filter", N_("Filter"), id="kpi.filter", priority=True),
        Binding("ctrl+r", "reload", N_("Reload"), show=False, id="kpi.reload"),
        Binding("question_mark", "help", N_("Help"), show=False, id="kpi.help"),
        Binding(
            "colon", "command_line", N_("Command"), show=False, id="kpi.command", priority=True
        ),
        Binding("escape", "back", N_("Back"), show=False, id="kpi.back"),
    ]
    AUTO_FOCUS = "FigureList"

    def __init__(self, period: Period | None = None, filters: Filters | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self._period = period
        self.filters = filters or Filters()
        self.every = Every.WEEK
        self.report: KpiReport | None = None
        """The figures on screen (None until the first load)."""
        self._serial = 0
        self.loads = 0
        """Loads finished (tests wait on it)."""

    @property
    def period(self) -> Period:
        """The period shown (or being loaded first): the current quarter by default."""
        if self._period is None:
            self._period = rules.current_quarter(self._now())
        return self._period

    def _now(self) -> Any:
        clock = getattr(self.app, "clock", None)
        if clock is not None:
            return clock()
        return self.app.desk.clock()  # type: ignore[attr-defined]  # pragma: no cover

    def compose(self) -> ComposeResult:
        yield Static("", id="kpi-title")
        yield Static("", id="kpi-filter")
        with Vertical(id="kpi-body"):
            with Vertical(id="kpi-figures-pane"):
                yield Static("", id="kpi-head")
                yield FigureList(id="kpi-figures")
            with Vertical(id="kpi-chart-pane"):
                yield Static("", id="kpi-caption")
                yield BarChart(id="kpi-chart")
                yield Static("", id="kpi-alt")
                yield Static("", id="kpi-extra")
        yield Input(placeholder=_("farm:DBC cust:HNR team:URC tech:wangjg cat:fault p:1"),
                    id="kpi-filter-input")  # fmt: skip
        yield Footer()

    def on_mount(self) -> None:
        self._retitle()
        self.request()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE_WIDTH, "-wide")
        self.call_after_refresh(self._head)

    @property
    def figures(self) -> FigureList:
        return self.query_one(FigureList)

    # -- loading ----------------------------------------------------------------------------

    def request(
        self,
        *,
        period: Period | None = None,
        filters: Filters | None = None,
        every: Every | None = None,
    ) -> None:
        """Load the figures for a new period, filter or trend step (the old ones stay shown
        until the new ones arrive; a failure keeps them)."""
        self._serial += 1
        ask = _Ask(period or self.period, filters or self.filters, every or self.every,
                   self._serial)  # fmt: skip
        self._retitle(ask, loading=True)
        self.load(ask)

    @work(thread=True, exclusive=True, group="kpi", exit_on_error=False)
    def load(self, ask: _Ask) -> None:
        """Read the figures and their trend in one pass (thread)."""
        desk = self.app.desk  # type: ignore[attr-defined]
        try:
            report = kpi_service.kpis(desk, ask.period, ask.filters, every=ask.every)
        except Forbidden as error:
            self.app.call_from_thread(self._refused, str(error))
            return
        except WindtuiError as error:
            self.app.call_from_thread(self._failed, ask, str(error))
            return
        self.app.call_from_thread(self._show, ask, report)

    def _refused(self, message: str) -> None:
        self.app.notify(message, severity="warning")
        if self.app.screen is self:
            self.dismiss(None)

    def _failed(self, ask: _Ask, message: str) -> None:
        if ask.serial == self._serial:
            self._retitle()
        self.loads += 1
        self.app.notify(message, severity="error", timeout=8)

    def _show(self, ask: _Ask, report: KpiReport) -> None:
        if ask.serial != self._serial:
            return  # a newer ask is on its way
        self._period, self.filters, self.every = ask.period, ask.filters, ask.every
        self.report = report
        self.figures.show(report)
        self._retitle()
        self._head()
        self._chart()
        self.loads += 1

    # -- painting ---------------------------------------------------------------------------

    def _retitle(self, ask: _Ask | None = None, *, loading: bool = False) -> None:
        period = ask.period if ask else self.period
        filters = ask.filters if ask else self.filters
        every = ask.every if ask else self.every
        title = Text(_("KPIs"), style="bold")
        title.append(f"  {period.label}")
        if period.label != f"{period.first_day}..{period.last_day}":
            title.append(f" ({period.first_day} – {period.last_day})", style="dim")
        title.append("  · " + (_("per week") if every is Every.WEEK else _("per month")))
        report = self.report
        if loading:
            title.append("  · " + _("loading…"), style="dim")
        elif report is not None:
            as_of = local_time(report.as_of, period.tz)
            title.append("  · " + _("as of {when}").format(when=as_of), style="dim")
            if report.stale:
                title.append(
                    "  ⚠ " + _("{count} judged under an earlier policy").format(count=report.stale),
                    style="yellow",
                )
        self.query_one("#kpi-title", Static).update(title)
        line = filter_text(filters)
        shown = (
            _("Filter: {filter}").format(filter=line)
            if line
            else _("Filter: every ticket (/ to filter)")
        )
        self.query_one("#kpi-filter", Static).update(plain(shown))  # typed text: never markup

    def _head(self) -> None:
        self.query_one("#kpi-head", Static).update(plain(self.figures.header_text()))

    @on(LineTable.Moved, "FigureList")
    def _moved(self) -> None:
        self._chart()

    def _chart(self) -> None:
        """Draw the selected figure's trend (or, without one, its per-farm or per-period
        detail) from the loaded report: no database work."""
        report = self.report
        figure = self.figures.selected
        if report is None or figure is None:
            return
        self.query_one("#kpi-caption", Static).update(chart_caption(figure, report))
        chart = self.query_one(BarChart)
        alt = self.query_one("#kpi-alt", Static)
        drawn = trend_bars(figure, report.trend) if report.trend is not None else None
        if drawn is not None:
            bars, scale = drawn
            chart.show(bars, scale, _("nothing closed in this period"))
            chart.display, alt.display = True, False
        elif figure.key in ("availability", "downtime_hours"):
            alt.update(farms_table(report, 20))
            chart.display, alt.display = False, True
        else:
            chart.show([], None, _("per period only, no trend"))
            chart.display, alt.display = True, False
        extra = Table.grid()
        extra.add_column()
        extra.add_row(Text(_("Survey scores"), style="bold"))
        extra.add_row(scores_table(report))
        if alt.display is False:
            extra.add_row(Text(""))
            extra.add_row(Text(_("Availability per farm"), style="bold"))
            extra.add_row(farms_table(report, 20))
        self.query_one("#kpi-extra", Static).update(extra)

    # -- keys -------------------------------------------------------------------------------

    def _typing(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()

    def action_tickets(self, missed: bool) -> None:
        """Enter: the tickets behind the selected figure; ``m``: those against its target."""
        figure = self.figures.selected
        if figure is None or self.report is None:
            return
        if missed and figure.missed is None:
            self.app.notify(
                _("{figure} has no target to count against").format(figure=_(figure.label)),
                severity="warning",
            )
            return
        self.app.push_screen(
            KpiTicketsScreen(figure, self.report.period, self.report.filters, missed=missed)
        )

    def action_step(self, step: int) -> None:
        """``[`` / ``]``: the previous or next period."""
        try:
            period = step_period(self.period, step)
        except WindtuiError as error:
            self.app.notify(str(error), severity="error")
            return
        self.request(period=period)

    def action_every(self) -> None:
        """``w``: trend per week or per month."""
        self.request(every=Every.MONTH if self.every is Every.WEEK else Every.WEEK)

    def action_reload(self) -> None:
        """Read the figures again."""
        self.request()

    def action_audit_report(self) -> None:
        """``R``: write this period's audit report (Markdown and XLSX) to the reports folder."""
        self.app.notify(
            _("Writing the audit report for {period}…").format(period=self.period.label)
        )
        self._write_report(self.period)

    @work(thread=True, group="kpi-report", exit_on_error=False)
    def _write_report(self, period: Period) -> None:
        from windtui.services.audit_report import write_desk_reports

        try:
            paths = write_desk_reports(self.app.desk, period)  # type: ignore[attr-defined]
        except WindtuiError as error:
            self.app.call_from_thread(self.app.notify, str(error), severity="error")
            return
        self.app.call_from_thread(
            self.app.notify,
            _("Audit report written: {paths}").format(paths=", ".join(str(p) for p in paths)),
            timeout=15,
        )

    def action_filter(self) -> None:
        """``/``: the filter line (Enter applies, Esc closes)."""
        self._typing()
        box = self.query_one("#kpi-filter-input", Input)
        box.value = filter_text(self.filters)
        box.add_class("-open")
        self.set_focus(box)  # at once: the keys typed right after "/" are the filter's

    def _close_filter(self) -> None:
        box = self.query_one("#kpi-filter-input", Input)
        box.remove_class("-open")
        box.border_subtitle = ""
        self.set_focus(self.figures)

    @on(Input.Submitted, "#kpi-filter-input")
    def _submit_filter(self, event: Input.Submitted) -> None:
        event.stop()
        state = getattr(self.app, "state", None)
        technicians = list(getattr(state, "technicians", []) or [])
        try:
            filters = parse_kpi_filter(
                event.value,
                farms=getattr(state, "farms", ()) or (),
                technicians=[t.login for t in technicians],
                teams={t.base for t in technicians if t.base},
            )
        except WindtuiError as error:
            event.input.border_subtitle = plain(str(error))  # it quotes the typed term
            return
        self._close_filter()
        self.request(filters=filters)

    def action_help(self) -> None:
        """Help for this screen."""
        from windtui.tui.screens.help import HelpScreen

        self._typing()
        self.app.push_screen(HelpScreen("kpi"))

    def action_command_line(self) -> None:
        """The ``:`` command line."""
        from windtui.tui.app import open_prompt  # lazy: the app imports this module

        self._typing()
        open_prompt(self.app)

    def action_back(self) -> None:
        """Esc: close the filter line, else back to where the screen was opened from."""
        box = self.query_one("#kpi-filter-input", Input)
        if box.has_class("-open"):
            self._close_filter()
            return
        self.dismiss(None)


# -- the drill-down ------------------------------------------------------------------------------


_SUGGESTION_LABELS = {"adopted": N_("adopted"), "rejected": N_("rejected")}


def row_value(row: KpiTicketRow) -> Cell:
    """A ticket's own part of the figure, marked against the target where it counts."""
    mark = Status.MISSED if row.against else Status.MET
    colour = STATUS_CLASS + mark.value
    if row.measure is Measure.CLOCK:
        if row.value is None:
            return ("—", "line-table--dim")
        return (f"{mark.marker} {duration_text(row.value)}", colour)
    if row.measure is Measure.FLAG:
        if row.value is None:
            return (_("no answer"), "line-table--dim")
        return (f"{mark.marker} {_('yes') if row.value else _('no')}", colour)
    if row.measure is Measure.SCORE:
        if row.value is None:
            return ("—", "line-table--dim")
        return (f"{mark.marker} {round(row.value)}", colour)
    if row.measure is Measure.HOURS:
        return (value_text(Unit.HOURS, row.value), None)
    if row.measure is Measure.DOWNTIME:
        text = value_text(Unit.HOURS, row.value)
        if row.planned:
            return (f"{text} {_('planned')}", "line-table--dim")
        return (text, None)
    if row.measure is Measure.SUGGESTION:
        label = _SUGGESTION_LABELS.get(row.note)
        return (_(label) if label else "—", colour if label else None)
    return ("", None)


class DrillList(_StatusColours):
    """The tickets behind a figure: number, where, title, its part of the figure, closing."""

    COLUMNS = (
        Column("no", N_("No."), 6, align="right", fit_title=True),
        Column("where", N_("Farm/turbine"), 10, fit_title=True),
        Column("title", N_("Title"), 14, flex=True),
        Column("value", N_("Value"), 10, align="right", fit_title=True),
        Column("limit", N_("Limit"), 7, align="right", fit_title=True, drop=2),
        Column("closed", N_("Closed on"), 10, fit_title=True, drop=1),
    )
    EMPTY_TEXT = N_("Loading the tickets…")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[int, KpiTicketRow] = {}
        self.tz = rules.PERIOD_TZ

    def show(self, drill: KpiDrill) -> None:
        self.rows = {r.number: r for r in drill.rows}
        self.tz = drill.period.tz
        self.set_rows(list(self.rows))
        self.refresh()

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        row = self.rows[key]  # type: ignore[index]
        limit = "≤" + duration_text(row.limit) if row.limit is not None else ""
        closed = local_time(row.closed_at, self.tz, "YYYY-MM-DD") if row.closed_at else _("open")
        return (
            (str(row.number), None),
            (row.turbine or row.farm, None),
            (row.title, None),
            row_value(row),
            (limit, "line-table--dim"),
            (closed, "line-table--dim"),
        )


class KpiTicketsScreen(Screen[None]):
    """The tickets behind one figure (or only those against its target)."""

    DEFAULT_CSS = """
    KpiTicketsScreen { layout: vertical; }
    KpiTicketsScreen #drill-title {
        height: 1; width: 1fr; background: $primary 30%; text-style: bold; padding: 0 1;
    }
    KpiTicketsScreen #drill-summary { height: 1; width: 1fr; color: $text-muted; padding: 0 1; }
    KpiTicketsScreen #drill-head { height: 1; color: $text-muted; text-style: bold; padding: 0 1; }
    KpiTicketsScreen DrillList { height: 1fr; padding: 0 0 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_ticket", N_("Open"), id="kpi.ticket_open"),
        Binding("m", "toggle", N_("All / against target"), id="kpi.tickets_toggle"),
        Binding("ctrl+r", "reload", N_("Reload"), show=False, id="kpi.tickets_reload"),
        Binding("question_mark", "help", N_("Help"), id="kpi.tickets_help"),
        Binding(
            "colon",
            "command_line",
            N_("Command"),
            show=False,
            id="kpi.tickets_command",
            priority=True,
        ),
        Binding("escape", "back", N_("Back"), id="kpi.tickets_back"),
    ]
    AUTO_FOCUS = "DrillList"

    def __init__(
        self, figure: KpiFigure, period: Period, filters: Filters, *, missed: bool = False
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.figure = figure
        self.period = period
        self.filters = filters
        self.missed = missed
        self.drill: KpiDrill | None = None
        self._serial = 0
        self.loads = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="drill-title")
        yield Static(_("Loading the tickets…"), id="drill-summary")
        yield Static("", id="drill-head")
        yield DrillList(id="drill-list")
        yield Footer()

    def on_mount(self) -> None:
        self._retitle()
        self.load_rows()

    def on_resize(self) -> None:
        self.call_after_refresh(self._head)

    @property
    def list(self) -> DrillList:
        return self.query_one(DrillList)

    def load_rows(self) -> None:
        self._serial += 1
        self.load(self._serial, self.missed)

    @work(thread=True, exclusive=True, group="kpi-drill", exit_on_error=False)
    def load(self, serial: int, missed: bool) -> None:
        """Read the tickets behind the figure (thread)."""
        key = self.figure.key + (MISSED_SUFFIX if missed else "")
        try:
            found = drill(self.app.desk, key, self.filters, self.period)  # type: ignore[attr-defined]
        except WindtuiError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._show, serial, found)

    def _failed(self, message: str) -> None:
        self.loads += 1
        self.query_one("#drill-summary", Static).update(plain(message))
        self.app.notify(message, severity="error", timeout=8)

    def _show(self, serial: int, drill: KpiDrill) -> None:
        if serial != self._serial:
            return
        self.drill = drill
        self.list.show(drill)
        self._retitle()
        self._head()
        self.loads += 1

    def _retitle(self) -> None:
        figure = self.figure
        what = _("against the target") if self.missed else _("behind the figure")
        title = Text(_(figure.label), style="bold")
        title.append(f"  {value_text(figure.unit, figure.value)}")
        title.append(f"  · {_('tickets')} {what}  · {self.period.label}", style="")
        line = filter_text(self.filters)
        if line:
            title.append_text(plain(f"  · {line}", "dim"))
        self.query_one("#drill-title", Static).update(title)
        drill = self.drill
        if drill is None:
            return
        total = self.figure.missed if self.missed else self.figure.count
        shown = len(drill.rows)
        if drill.more and total:
            summary = _("the first {shown} of {total} tickets").format(
                shown=f"{shown:,}", total=f"{total:,}"
            )
        elif drill.more:
            summary = _("the first {shown} tickets").format(shown=f"{shown:,}")
        else:
            summary = _("{shown} tickets").format(shown=f"{shown:,}")
        summary += "  · " + _("Enter opens a ticket, m switches all / against the target")
        self.query_one("#drill-summary", Static).update(Text(summary))

    def _head(self) -> None:
        self.query_one("#drill-head", Static).update(plain(self.list.header_text()))

    def action_open_ticket(self) -> None:
        """Enter: the ticket's detail screen."""
        number = self.list.cursor_key
        if number is not None:
            self.app.open_detail(number)  # type: ignore[attr-defined]

    def action_toggle(self) -> None:
        """``m``: every ticket behind the figure, or only those against its target."""
        if not self.missed and self.figure.missed is None:
            self.app.notify(
                _("{figure} has no target to count against").format(figure=_(self.figure.label)),
                severity="warning",
            )
            return
        self.missed = not self.missed
        self.drill = None
        self._retitle()
        self.load_rows()

    def action_reload(self) -> None:
        self.load_rows()

    def action_help(self) -> None:
        from windtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("kpi_tickets"))

    def action_command_line(self) -> None:
        from windtui.tui.app import open_prompt

        open_prompt(self.app)

    def action_back(self) -> None:
        self.dismiss(None)


__all__ = [
    "DrillList",
    "FigureList",
    "KpiScreen",
    "KpiTicketsScreen",
    "open_kpi",
    "parse_kpi_filter",
    "refusal",
    "step_period",
]
