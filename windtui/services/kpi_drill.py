"""The rows behind a KPI figure, for the console's drill-down list.

:func:`windtui.services.kpi.kpi_tickets` says *which* tickets a figure counts (ticket numbers,
the one definition of membership, shared with ``windtui kpi --tickets``). A list on screen also
wants each ticket's farm, turbine, title and its own share of the figure — the clock's elapsed
time against its limit, the survey score, the hold hours … — so :func:`drill` takes the first
``limit`` numbers from ``kpi_tickets`` and reads those facts with three or four indexed queries
over just those tickets (never the period's whole history).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from peewee import JOIN

from windtui.domain import kpi as rules
from windtui.domain.kpi import BREACHED, MISSED_SUFFIX, SATISFIED_SCORE, Period
from windtui.domain.model import Category
from windtui.services import kpi
from windtui.services.desk import Desk, _active
from windtui.store.models import ClockOutcome, Farm, Suggestion, Ticket, TicketOutcome, Turbine

DRILL_LIMIT = 500
"""Rows a drill-down lists at most (the figure's own count says how many there are)."""


class Measure(StrEnum):
    """What a row's ``value`` is."""

    CLOCK = "clock"  # business seconds on the figure's clock (``limit``: its target)
    FLAG = "flag"  # 1.0 yes / 0.0 no (fixed, fixed first time, reopened); None: no answer
    SCORE = "score"  # the survey score 1..5
    HOURS = "hours"  # hold or weather-hold hours
    DOWNTIME = "downtime"  # turbine downtime hours inside the period (``planned``: excluded)
    CLOSED = "closed"  # nothing to measure: closed (or cancelled) at ``closed_at``
    SUGGESTION = "suggestion"  # ``note``: the suggestion's status


@dataclass(frozen=True, slots=True)
class KpiTicketRow:
    """One ticket behind a figure and its own part of it."""

    number: int
    farm: str
    turbine: str | None  # ``DBC-A07``
    title: str
    closed_at: datetime | None  # closing (or cancellation) instant; None while open
    measure: Measure
    value: float | None
    limit: float | None = None  # the clock's target, seconds (CLOCK only)
    against: bool = False  # counts against the figure's target (breached, not fixed, …)
    planned: bool = False  # DOWNTIME of a maintenance/upgrade stop (not counted)
    note: str = ""  # SUGGESTION: adopted | rejected


@dataclass(frozen=True, slots=True)
class KpiDrill:
    """The first rows behind ``figure`` (``FIGURE`` or ``FIGURE:missed``); ``more``: there
    are rows beyond them."""

    figure: str
    period: Period
    rows: tuple[KpiTicketRow, ...]
    more: bool


class _Outcome(NamedTuple):
    """The ticket outcome columns a drill-down row reads."""

    ticket: int
    closed_at: datetime
    fixed: bool | None
    first_time_fix: bool | None
    reopened: bool
    survey_score: int | None
    weather_hold_seconds: float
    hold_seconds: float
    down_start: float | None
    down_end: float | None


_T = TicketOutcome
_OUTCOME_COLUMNS = (
    _T.ticket,
    _T.closed_at,
    _T.fixed,
    _T.first_time_fix,
    _T.reopened,
    _T.survey_score,
    _T.weather_hold_seconds,
    _T.hold_seconds,
    _T.down_start,
    _T.down_end,
)

_FLAGS: dict[str, tuple[str, bool]] = {
    "fix_rate": ("fixed", False),
    "first_time_fix_rate": ("first_time_fix", False),
    "reopen_rate": ("reopened", True),
}
"""Yes/no figures: the outcome field and the answer that counts against the target."""


@dataclass(frozen=True, slots=True)
class _Stop:
    """A ticket's turbine stop as the ticket row has it, and the period up to now."""

    category: str
    stopped: datetime | None
    restored: datetime | None
    lo: datetime
    hi: datetime


@_active
def drill(
    desk: Desk,
    figure: str,
    filters: kpi.Filters | None = None,
    period: Period | None = None,
    *,
    limit: int = DRILL_LIMIT,
) -> KpiDrill:
    """The tickets behind ``figure`` (ascending numbers, at most ``limit``) with their part of
    it. Roles, unknown names and keys are refused as :func:`kpi.kpi_tickets` refuses them."""
    now = desk.clock()
    span = period or rules.current_quarter(now)
    numbers = kpi.kpi_tickets(desk, figure, filters, span, limit=limit + 1)
    more = len(numbers) > limit
    numbers = numbers[:limit]
    key = figure.removesuffix(MISSED_SUFFIX)
    spec = rules.definition(key)
    if not numbers:
        return KpiDrill(figure, span, (), False)
    tickets = list(
        Ticket.select(
            Ticket.id,
            Ticket.number,
            Ticket.title,
            Ticket.category,
            Ticket.closed_at,
            Ticket.cancelled_at,
            Ticket.turbine_stopped_at,
            Ticket.turbine_restored_at,
            Farm.code,
            Turbine.position,
        )
        .join(Farm)
        .switch(Ticket)
        .join(Turbine, JOIN.LEFT_OUTER)
        .where(Ticket.number.in_(numbers))
        .order_by(Ticket.number)
        .tuples()
    )
    ids = [t[0] for t in tickets]
    outcomes = {
        row[0]: _Outcome(*row)
        for row in _T.select(*_OUTCOME_COLUMNS).where(_T.ticket.in_(ids)).tuples()
    }
    clocks: dict[int, tuple[str, float | None, float]] = {}
    if spec.clock is not None:
        C = ClockOutcome
        query = C.select(C.ticket, C.state, C.elapsed_seconds, C.target_seconds).where(
            C.ticket.in_(ids), C.target == spec.clock.value
        )
        clocks = {ticket: (state, elapsed, target) for ticket, state, elapsed, target in
                  query.tuples()}  # fmt: skip
    decided: dict[int, str] = {}
    if key == "suggestion_adoption":
        query = (
            Suggestion.select(Suggestion.ticket, Suggestion.status)
            .where(Suggestion.ticket.in_(ids), Suggestion.status.in_(["adopted", "rejected"]))
            .order_by(Suggestion.id)
        )
        for ticket, status in query.tuples():  # a rejection among several decides the row
            decided[ticket] = "rejected" if "rejected" in (status, decided.get(ticket)) else status
    lo, hi = span.clipped(now)
    rows = []
    for (
        tid,
        number,
        title,
        category,
        closed,
        cancelled,
        stopped,
        restored,
        farm,
        position,
    ) in tickets:
        outcome = outcomes.get(tid)
        row = KpiTicketRow(
            number=number,
            farm=farm,
            turbine=f"{farm}-{position}" if position is not None else None,
            title=title,
            closed_at=outcome.closed_at if outcome else (closed or cancelled),
            measure=Measure.CLOSED,
            value=None,
        )
        stop = _Stop(category, stopped, restored, lo, hi)
        rows.append(_measured(row, key, outcome, clocks.get(tid), decided.get(tid), stop))
    return KpiDrill(figure, span, tuple(rows), more)


def _measured(
    row: KpiTicketRow,
    key: str,
    outcome: _Outcome | None,
    clock: tuple[str, float | None, float] | None,
    decided: str | None,
    stop: _Stop,
) -> KpiTicketRow:
    """``row`` with the ticket's own part of figure ``key``."""
    if rules.DEFINITIONS[key].clock is not None:
        if clock is None:
            return row
        state, elapsed, target = clock
        return replace(
            row, measure=Measure.CLOCK, value=elapsed, limit=target, against=state == BREACHED
        )
    if key in _FLAGS:
        name, bad = _FLAGS[key]
        flag = getattr(outcome, name) if outcome else None
        if flag is None:
            return replace(row, measure=Measure.FLAG)
        return replace(
            row, measure=Measure.FLAG, value=float(bool(flag)), against=bool(flag) == bad
        )
    if key == "satisfaction_rate":
        score = outcome.survey_score if outcome else None
        if score is None:
            return replace(row, measure=Measure.SCORE)
        return replace(
            row, measure=Measure.SCORE, value=float(score), against=score < SATISFIED_SCORE
        )
    if key in ("weather_hold_hours", "hold_hours"):
        seconds = getattr(outcome, key.replace("_hours", "_seconds")) if outcome else 0.0
        return replace(row, measure=Measure.HOURS, value=(seconds or 0.0) / 3600.0)
    if key in ("availability", "downtime_hours"):
        return _downtime(row, outcome, stop)
    if key == "suggestion_adoption":
        return replace(
            row, measure=Measure.SUGGESTION, note=decided or "", against=decided == "rejected"
        )
    return row  # tickets closed / cancelled: the closing instant says it all


def _downtime(row: KpiTicketRow, outcome: _Outcome | None, stop: _Stop) -> KpiTicketRow:
    """The turbine downtime of the ticket inside the period up to now (hours), as the
    availability figure clips it; planned stops (maintenance, upgrade) are marked."""
    lo, hi = stop.lo.timestamp(), stop.hi.timestamp()
    if outcome is not None and outcome.down_start is not None:
        start = outcome.down_start
        end = outcome.down_end if outcome.down_end is not None else hi
    elif stop.stopped is not None:
        start = stop.stopped.timestamp()
        end = (stop.restored or stop.hi).timestamp()
    else:
        return replace(row, measure=Measure.DOWNTIME)
    hours = rules.overlap(start, end, lo, hi) / 3600.0
    planned = Category(stop.category) in rules.AVAILABILITY_EXCLUDED
    return replace(row, measure=Measure.DOWNTIME, value=hours, planned=planned, against=not planned)


__all__ = ["DRILL_LIMIT", "KpiDrill", "KpiTicketRow", "Measure", "drill"]
