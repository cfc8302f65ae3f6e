"""KPIs for a period and a filter: SQL aggregates over the outcomes of closed tickets.

Every figure comes from a handful of aggregate queries over index ranges of the closing instant
(``ticket_outcome.closed_at``, ``clock_outcome (target, closed_at, …)``), never from a walk over
tickets in Python: one query for the ticket facts, one for the seven clocks (GROUP BY target), one
``ORDER BY elapsed LIMIT 1 OFFSET rank-1`` per p90, one for the suggestions register, three for
the downtime behind availability. The same SQL runs on SQLite and PostgreSQL, and the maths and
the judging live in :mod:`windtui.domain.kpi`, so both backends give the same numbers.

``kpis`` answers the KPI screen and ``windtui kpi``; ``trend`` gives weekly or monthly series for
the charts; ``kpi_tickets`` lists the tickets behind a figure (drill-down). Definitions:
``docs/KPI.md``. Reading KPIs needs the ``kpi`` operation (dispatchers, QA, supervisors,
administrators, viewers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from peewee import JOIN, SQL, Case, Expression, Value, fn

from windtui.domain import kpi
from windtui.domain import roles as access
from windtui.domain.kpi import (
    BREACHED,
    MET,
    MISSED_SUFFIX,
    SATISFIED_SCORE,
    SCORES,
    Bucket,
    Direction,
    Every,
    Period,
    Status,
    Unit,
)
from windtui.domain.model import Category, Priority, Target, TicketState
from windtui.errors import NotFound, Refused
from windtui.i18n import _
from windtui.services.desk import Desk, _active, _enum
from windtui.store.db import is_sqlite
from windtui.store.models import (
    ClockOutcome,
    Contract,
    Customer,
    Farm,
    Staff,
    Suggestion,
    Ticket,
    TicketOutcome,
    Turbine,
)

T = TicketOutcome
C = ClockOutcome
_OPEN_STATES = tuple(s.value for s in TicketState if s.is_open)
_EXCLUDED = tuple(sorted(c.value for c in kpi.AVAILABILITY_EXCLUDED))
_TARGETS = tuple(t.value for t in Target)


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """Which tickets a figure is over (codes and logins as typed; None: all)."""

    farm: str | None = None
    customer: str | None = None
    team: str | None = None
    technician: str | None = None
    category: str | None = None
    priority: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The filters that are set."""
        return {k: v for k in _FILTER_NAMES if (v := getattr(self, k)) is not None}


_FILTER_NAMES = ("farm", "customer", "team", "technician", "category", "priority")


@dataclass(frozen=True, slots=True)
class KpiFigure:
    """One figure: its value against its target, and how many tickets it is over.

    ``value``: a share in [0, 1] (unit ``rate``), business seconds (``seconds``), hours or a
    count. ``count``: the tickets (or clocks, one per ticket) counted; ``missed``: how many of
    them count against the target (breached, not fixed, reopened, dissatisfied, …). For clock
    figures ``clock_targets`` is the (shortest, longest) target of the clocks counted, in
    seconds, as the policy in force at their closing set them.
    """

    key: str
    label: str  # English msgid: show with ``_()``
    unit: Unit
    direction: Direction
    value: float | None
    target: float | None
    status: Status
    count: int
    missed: int | None = None
    clock_targets: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class FarmAvailability:
    """Time-based availability of one farm over the period (up to now)."""

    farm: str
    name_zh: str
    name_en: str
    turbines: int
    period_hours: float  # the period's hours that have passed (per turbine)
    downtime_hours: float  # counted against availability
    excluded_hours: float  # planned stops (maintenance, upgrades): not counted
    availability: float | None
    target: float | None
    status: Status
    tickets: int  # tickets whose turbine downtime overlaps the period


@dataclass(frozen=True, slots=True)
class SuggestionCounts:
    """The suggestions register for the period (received in it)."""

    received: int
    adopted: int
    rejected: int
    pending: int  # new or under evaluation


@dataclass(frozen=True, slots=True)
class KpiReport:
    """Every figure for one period and filter."""

    period: Period
    filters: Filters
    as_of: datetime
    figures: tuple[KpiFigure, ...]
    scores: dict[int, int]  # survey score -> tickets
    farms: tuple[FarmAvailability, ...]
    suggestions: SuggestionCounts
    stale: int  # outcomes judged under another policy than the one in force
    policy_digest: str
    trend: Trend | None = None  # with ``kpis(..., every=…)``

    def figure(self, key: str) -> KpiFigure:
        """The figure ``key`` (KeyError when unknown)."""
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Trend:
    """Figures per week or month of a period: ``series[key][i]`` is the value in
    ``buckets[i]`` (None: nothing counted), ``counts[key][i]`` what it is over."""

    period: Period
    every: Every
    filters: Filters
    buckets: tuple[Bucket, ...]
    series: dict[str, tuple[float | None, ...]] = field(default_factory=dict)
    counts: dict[str, tuple[int, ...]] = field(default_factory=dict)


#: The figures a trend carries (p90s, availability and suggestions are per period only).
TREND_KEYS: tuple[str, ...] = (
    "closed_tickets",
    "cancelled_tickets",
    *(f"{t.value}_compliance" for t in Target),
    *(f"{t.value}_mean" for t in kpi.RESPONSE_CLOCKS),
    "repair_mean",
    "fix_rate",
    "first_time_fix_rate",
    "reopen_rate",
    "satisfaction_rate",
    "weather_hold_hours",
    "hold_hours",
)


# -- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """Filters resolved to ids and values (unknown names refused)."""

    farm: int | None = None
    customer: int | None = None
    team: str | None = None
    technician: int | None = None
    category: str | None = None
    priority: str | None = None

    def on(self, model: Any) -> list[Expression]:
        """Conditions on an outcome table (both carry every filter column)."""
        out = []
        for name in _FILTER_NAMES:
            value = getattr(self, name)
            if value is not None:
                out.append(getattr(model, name) == value)
        return out

    @property
    def ticket_scoped(self) -> bool:
        """A filter on the tickets themselves (not on farms): availability ignores it."""
        return any(
            v is not None for v in (self.team, self.technician, self.category, self.priority)
        )


def _scope(desk: Desk, filters: Filters | None) -> _Scope:
    f = filters or Filters()
    farm = desk._farm(f.farm).id if f.farm else None
    customer = None
    if f.customer:
        customer = desk._lookup(
            Customer, Customer.code == f.customer, _("customer {name}"), f.customer
        ).id
    technician = None
    if f.technician:
        technician = desk._lookup(
            Staff, Staff.login == f.technician, _("technician {name}"), f.technician
        ).id
    if f.team and not (
        Staff.select().where(Staff.base == f.team).exists()
        or T.select().where(T.team == f.team).exists()
    ):
        raise NotFound(_("team {name} not found").format(name=f.team))
    category = _enum(Category, f.category, _("category")).value if f.category else None
    priority = _enum(Priority, f.priority, _("priority")).value if f.priority else None
    return _Scope(farm, customer, f.team or None, technician, category, priority)


# -- SQL helpers -------------------------------------------------------------------------------


#: ``COUNT(*)``: counting a column (even the primary key) would make PostgreSQL read the table
#: instead of answering from a covering index.
_COUNT_ROWS = fn.COUNT(SQL("*"))


def _n_if(condition: Expression) -> Any:
    """COUNT of the rows where ``condition`` holds (SUM of a CASE: portable)."""
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _least(a: Any, b: Any) -> Any:
    return Case(None, [(a < b, a)], b)


def _greatest(a: Any, b: Any) -> Any:
    return Case(None, [(a > b, a)], b)


def _epoch(desk: Desk, column: Any) -> Any:
    """A timestamp column as epoch seconds in SQL (naive UTC on both backends)."""
    if is_sqlite(desk.db):
        return (fn.julianday(column) - 2440587.5) * 86400.0
    return fn.date_part("epoch", column)


def _closed_in(model: Any, start: datetime, end: datetime) -> list[Expression]:
    """Rows closed in ``[start, end)``: a range of the closing-instant index."""
    return [model.closed_at >= start, model.closed_at < end]


def _in_period(model: Any, period: Period) -> list[Expression]:
    return _closed_in(model, period.start, period.end)


#: Clock rows a KPI reads, spelled as index constraints: ``(target, state, stopped)`` lead the
#: covering index, so naming every value lets the scan seek one ``closed_at`` range per group.
def _judged(*targets: str) -> list[Expression]:
    return [
        C.target.in_(list(targets or _TARGETS)),
        C.state.in_([MET, BREACHED]),
        C.stopped.in_([True, False]),
    ]


def _seconds(value: float | None) -> float | None:
    """Durations to the millisecond: sums of floats may differ in the last bits by backend."""
    return None if value is None else round(value, 3)


def _hours(seconds: float | None) -> float:
    return round((seconds or 0.0) / 3600.0, 6)


def _figure(
    key: str,
    value: float | None,
    count: int,
    *,
    target: float | None = None,
    missed: int | None = None,
    clock_targets: tuple[float, float] | None = None,
) -> KpiFigure:
    spec = kpi.DEFINITIONS[key]
    goal = spec.target if target is None else target
    if spec.direction is Direction.INFO:
        goal = None
    return KpiFigure(
        key=key,
        label=spec.label,
        unit=spec.unit,
        direction=spec.direction,
        value=value,
        target=goal,
        status=kpi.judge(value, spec, goal),
        count=int(count or 0),
        missed=missed,
        clock_targets=clock_targets,
    )


# -- the queries -------------------------------------------------------------------------------


def _ticket_totals(
    scope: _Scope, start: datetime, end: datetime, digest: str | None
) -> dict[str, Any]:
    """One pass over the ticket outcomes closed in ``[start, end)`` (``stale``: how many were
    judged under another policy than ``digest``; 0 when None)."""
    done = T.cancelled == False  # noqa: E712 - SQL, not Python
    columns = {
        "total": _COUNT_ROWS,
        "cancelled": _n_if(T.cancelled == True),  # noqa: E712
        "reopened": _n_if(done & (T.reopened == True)),  # noqa: E712
        "fixed_known": _n_if(done & T.fixed.is_null(False)),
        "fixed": _n_if(done & (T.fixed == True)),  # noqa: E712
        "ftf_known": _n_if(done & T.first_time_fix.is_null(False)),
        "ftf": _n_if(done & (T.first_time_fix == True)),  # noqa: E712
        **{f"score{s}": _n_if(done & (T.survey_score == s)) for s in SCORES},
        "weather": fn.SUM(T.weather_hold_seconds),
        "weather_n": _n_if(T.weather_hold_seconds > 0),
        "hold": fn.SUM(T.hold_seconds),
        "hold_n": _n_if(T.hold_seconds > 0),
    }
    if digest is not None:
        columns["stale"] = _n_if(T.policy_digest != digest)
    query = T.select(*(c.alias(k) for k, c in columns.items())).where(
        *_closed_in(T, start, end), *scope.on(T)
    )
    row = query.dicts().get()
    return {"stale": 0} | {k: (v or 0) for k, v in row.items()}


def _clock_totals(scope: _Scope, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """One pass over the clocks closed in ``[start, end)``, per clock: met, breached, stopped
    (a response time), late (stopped and breached), the sums of elapsed and target seconds of the
    stopped ones, the shortest and longest target. Plain aggregates grouped by the index's
    leading columns: no CASE per row, no sort."""
    query = (
        C.select(
            C.target,
            C.state,
            C.stopped,
            _COUNT_ROWS,
            fn.SUM(C.elapsed_seconds),
            fn.SUM(C.target_seconds),
            fn.MIN(C.target_seconds),
            fn.MAX(C.target_seconds),
        )
        .where(*_judged(), *_closed_in(C, start, end), *scope.on(C))
        .group_by(C.target, C.state, C.stopped)
    )
    out: dict[str, dict[str, Any]] = {}
    for target, state, stopped, count, elapsed, targets, shortest, longest in query.tuples():
        row = out.setdefault(
            target,
            {"met": 0, "breached": 0, "stopped": 0, "late": 0, "elapsed": 0.0, "targets": 0.0,
             "shortest": None, "longest": None},
        )  # fmt: skip
        row[state] += count
        if stopped:
            row["stopped"] += count
            row["late"] += count if state == BREACHED else 0
            row["elapsed"] += elapsed or 0.0
            row["targets"] += targets or 0.0
        row["shortest"] = shortest if row["shortest"] is None else min(row["shortest"], shortest)
        row["longest"] = longest if row["longest"] is None else max(row["longest"], longest)
    return out


def _p90(scope: _Scope, period: Period, target: Target, stopped_count: int) -> float | None:
    """The nearest-rank p90 of a clock's elapsed time: one sorted index range, one row."""
    rank = kpi.nearest_rank(stopped_count, kpi.P90)
    if not rank:
        return None
    query = (
        C.select(C.elapsed_seconds)
        .where(
            C.target == target.value,
            C.state.in_([MET, BREACHED]),
            C.stopped == True,  # noqa: E712
            *_in_period(C, period),
            *scope.on(C),
        )
        .order_by(C.elapsed_seconds)
        .limit(1)
        .offset(rank - 1)
    )
    return query.scalar()


def _suggestion_query(scope: _Scope, period: Period) -> Any:
    """Suggestions received in the period, filtered by farm/customer (directly or through the
    farm's contract) and, for ticket filters, through the ticket they came from."""
    s = Suggestion
    query = s.select().where(s.received_on >= period.first_day, s.received_on <= period.last_day)
    if scope.farm is not None:
        query = query.where(s.farm == scope.farm)
    if scope.customer is not None:
        farms = Farm.select(Farm.id).join(Contract).where(Contract.customer == scope.customer)
        query = query.where((s.customer == scope.customer) | s.farm.in_(farms))
    if scope.ticket_scoped:
        query = query.join(Ticket, on=(s.ticket == Ticket.id)).join(
            Staff, JOIN.LEFT_OUTER, on=(Ticket.owner == Staff.id)
        )
        if scope.technician is not None:
            query = query.where(Ticket.owner == scope.technician)
        if scope.team is not None:
            query = query.where(Staff.base == scope.team)
        if scope.category is not None:
            query = query.where(Ticket.category == scope.category)
        if scope.priority is not None:
            query = query.where(Ticket.priority == scope.priority)
    return query


def _suggestions(scope: _Scope, period: Period) -> SuggestionCounts:
    s = Suggestion
    base = _suggestion_query(scope, period)
    row = (
        base.select(
            fn.COUNT(s.id).alias("received"),
            _n_if(s.status == "adopted").alias("adopted"),
            _n_if(s.status == "rejected").alias("rejected"),
        )
        .dicts()
        .get()
    )
    received = int(row["received"] or 0)
    adopted, rejected = int(row["adopted"] or 0), int(row["rejected"] or 0)
    return SuggestionCounts(received, adopted, rejected, received - adopted - rejected)


def _farms_in_scope(scope: _Scope) -> list[tuple[int, str, str, str]]:
    query = Farm.select(Farm.id, Farm.code, Farm.name_zh, Farm.name_en).order_by(Farm.code)
    if scope.farm is not None:
        query = query.where(Farm.id == scope.farm)
    if scope.customer is not None:
        query = query.join(Contract).where(Contract.customer == scope.customer)
    return list(query.tuples())


def _downtime(
    desk: Desk, farm_ids: Sequence[int], start: float, end: float, now: float
) -> dict[int, list[float]]:
    """Per farm: [counted seconds, excluded seconds, tickets] of turbine downtime inside
    ``[start, end)`` (epoch), from closed tickets (restored or not) and open ones.

    Grouped by farm over every farm and picked afterwards: a ``farm IN (…)`` condition would
    lead the planner to the farm column instead of the downtime index (a farm's whole history).
    """
    out: dict[int, list[float]] = {f: [0.0, 0.0, 0] for f in farm_ids}
    if not farm_ids or end <= start:
        return out

    def add(query: Any) -> None:
        for farm, excluded, seconds, tickets in query.tuples():
            slot = out.get(farm)  # farms out of scope are summed too, and dropped here
            if slot is not None:
                slot[1 if excluded else 0] += seconds or 0.0
                slot[2] += tickets

    def grouped(model: Any, lo: Any, hi: Any, category: Any, where: list[Any]) -> Any:
        inside = _least(hi, end) - _greatest(lo, start)
        planned = Case(None, [(category.in_(_EXCLUDED), 1)], 0)
        return (
            model.select(model.farm, planned.alias("planned"), fn.SUM(inside), _COUNT_ROWS)
            .where(*where)
            .group_by(model.farm, SQL("planned"))
        )

    # Closed tickets whose turbine came back: the index on (down_end, down_start, farm, category)
    # answers this without reading the table.
    add(grouped(T, T.down_start, T.down_end, T.category, [T.down_end > start, T.down_start < end]))
    # Closed tickets whose turbine is still down: up to now.
    still = [T.down_end.is_null(), T.down_start < end]
    add(grouped(T, T.down_start, Value(float(now)), T.category, still))
    # Open tickets (the state index narrows them to the open ones).
    stopped = _epoch(desk, Ticket.turbine_stopped_at)
    restored = fn.COALESCE(_epoch(desk, Ticket.turbine_restored_at), float(now))
    add(
        grouped(
            Ticket,
            stopped,
            restored,
            Ticket.category,
            [
                Ticket.state.in_(_OPEN_STATES),
                Ticket.turbine.is_null(False),
                Ticket.turbine_stopped_at.is_null(False),
                stopped < end,
                restored > start,
            ],
        )
    )
    return out


def _availability(
    desk: Desk, scope: _Scope, period: Period, now: datetime
) -> tuple[tuple[FarmAvailability, ...], KpiFigure, KpiFigure]:
    farms = _farms_in_scope(scope)
    ids = [f[0] for f in farms]
    lo, hi = period.clipped(now)
    start, end = lo.timestamp(), hi.timestamp()
    turbines = (
        dict(
            Turbine.select(Turbine.farm, fn.COUNT(Turbine.id))
            .where(Turbine.farm.in_(ids))
            .group_by(Turbine.farm)
            .tuples()
        )
        if ids
        else {}
    )
    down = _downtime(desk, ids, start, end, now.timestamp())
    spec = kpi.DEFINITIONS["availability"]
    span = max(0.0, end - start)
    rows = []
    total_down = total_excluded = 0.0
    total_turbines = total_tickets = 0
    for farm_id, code, name_zh, name_en in farms:
        counted, excluded, tickets = down[farm_id]
        units = int(turbines.get(farm_id, 0))
        value = kpi.availability(counted, units, span)
        rows.append(
            FarmAvailability(
                farm=code,
                name_zh=name_zh,
                name_en=name_en,
                turbines=units,
                period_hours=_hours(span),
                downtime_hours=_hours(counted),
                excluded_hours=_hours(excluded),
                availability=value,
                target=spec.target,
                status=kpi.judge(value, spec),
                tickets=int(tickets),
            )
        )
        total_down += counted
        total_excluded += excluded
        total_turbines += units
        total_tickets += int(tickets)
    fleet = kpi.availability(total_down, total_turbines, span)
    availability = _figure("availability", fleet, total_tickets)
    downtime = _figure("downtime_hours", _hours(total_down + total_excluded), total_tickets)
    return tuple(rows), availability, downtime


P = ParamSpec("P")
R = TypeVar("R")


def _reading(method: Callable[P, R]) -> Callable[P, R]:
    """Run a KPI read in one read-only transaction: every query of a report sees the same
    snapshot (PostgreSQL: REPEATABLE READ; SQLite: one read transaction on the WAL).

    On PostgreSQL, JIT compilation and parallel workers are switched off for it: compiling these
    short aggregates costs more (~0.1 s a query) than it saves, and starting workers for each of
    a report's ~40 queries costs more than the index-only scans they would share."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        desk = args[0]
        assert isinstance(desk, Desk)
        outer = desk.db.in_transaction()
        with desk.db.atomic():
            if not is_sqlite(desk.db):
                if not outer:
                    desk.db.execute_sql(
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                    )
                desk.db.execute_sql("SET LOCAL jit = off")
                desk.db.execute_sql("SET LOCAL max_parallel_workers_per_gather = 0")
            return method(*args, **kwargs)

    return wrapper


# -- the public API ----------------------------------------------------------------------------


def _sum_tickets(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Bucket ticket totals added up: the totals of the whole period (every one is a count or
    a sum)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = out.get(key, 0) + value
    return out


def _sum_clocks(parts: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Bucket clock totals added up (shortest/longest: min/max)."""
    out: dict[str, dict[str, Any]] = {}
    for part in parts:
        for target, row in part.items():
            into = out.get(target)
            if into is None:
                out[target] = dict(row)
                continue
            for key in ("met", "breached", "stopped", "late", "elapsed", "targets"):
                into[key] += row[key]
            for key, pick in (("shortest", min), ("longest", max)):
                values = [v for v in (into[key], row[key]) if v is not None]
                into[key] = pick(values) if values else None
    return out


def _trend_of(
    period: Period,
    step: Every,
    filters: Filters | None,
    steps: tuple[Bucket, ...],
    parts: Sequence[tuple[dict[str, Any], dict[str, dict[str, Any]]]],
) -> Trend:
    """The trend series from per-bucket totals."""
    n = len(steps)
    series: dict[str, list[float | None]] = {k: [None] * n for k in TREND_KEYS}
    counts: dict[str, list[int]] = {k: [0] * n for k in TREND_KEYS}

    def put(key: str, i: int, value: float | None, count: int) -> None:
        series[key][i] = value
        counts[key][i] = int(count or 0)

    for i, (r, clocks) in enumerate(parts):
        if r["total"]:
            closed = r["total"] - r["cancelled"]
            surveyed = sum(r[f"score{s}"] for s in SCORES)
            satisfied = sum(r[f"score{s}"] for s in SCORES if s >= SATISFIED_SCORE)
            put("closed_tickets", i, closed, closed)
            put("cancelled_tickets", i, r["cancelled"], r["cancelled"])
            put("fix_rate", i, kpi.rate(r["fixed"], r["fixed_known"]), r["fixed_known"])
            put("first_time_fix_rate", i, kpi.rate(r["ftf"], r["ftf_known"]), r["ftf_known"])
            put("reopen_rate", i, kpi.rate(r["reopened"], closed), closed)
            put("satisfaction_rate", i, kpi.rate(satisfied, surveyed), surveyed)
            put("weather_hold_hours", i, _hours(r["weather"]), r["weather_n"])
            put("hold_hours", i, _hours(r["hold"]), r["hold_n"])
        for target, row in clocks.items():
            met, breached = row["met"], row["breached"]
            put(f"{target}_compliance", i, kpi.rate(met, met + breached), met + breached)
            mean_key = f"{target}_mean"
            if mean_key in series:
                count = row["stopped"]
                put(mean_key, i, _seconds(kpi.mean(row["elapsed"], count)), count)
    for key in ("closed_tickets", "cancelled_tickets"):  # an empty week closed nothing: 0
        series[key] = [0 if v is None else v for v in series[key]]
    return Trend(
        period=period,
        every=step,
        filters=filters or Filters(),
        buckets=steps,
        series={k: tuple(v) for k, v in series.items()},
        counts={k: tuple(v) for k, v in counts.items()},
    )


def _bucket_totals(
    scope: _Scope, steps: tuple[Bucket, ...], digest: str | None
) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    """The ticket and clock totals of every bucket: the same two aggregate queries as a whole
    period, once per bucket, each on its own index range (cheaper than one query computing a
    bucket per row)."""
    return [
        (_ticket_totals(scope, b.start, b.end, digest), _clock_totals(scope, b.start, b.end))
        for b in steps
    ]


@_active
@_reading
def kpis(
    desk: Desk,
    period: Period,
    filters: Filters | None = None,
    every: Every | str | None = None,
) -> KpiReport:
    """Every KPI for the tickets closed in ``period`` that match ``filters``; with ``every``
    (week or month) the report carries the :class:`Trend` too, computed in the same pass (the
    period's totals are the sum of its buckets'), which is what the KPI screen asks for.

    Unknown farm, customer, technician or team: :class:`NotFound`; unknown category or
    priority: :class:`Refused`.
    """
    desk._gate(access.KPI)
    scope = _scope(desk, filters)
    now = desk.clock()
    digest = desk.policy().digest
    series = None
    if every is not None:
        step = Every(every)
        steps = kpi.buckets(period, step)
        parts = _bucket_totals(scope, steps, digest)
        tickets = _sum_tickets([t for t, _c in parts])
        clocks = _sum_clocks([c for _t, c in parts])
        series = _trend_of(period, step, filters, steps, parts)
    else:
        tickets = _ticket_totals(scope, period.start, period.end, digest)
        clocks = _clock_totals(scope, period.start, period.end)
    figures: list[KpiFigure] = []
    for target in Target:
        row = clocks.get(target.value, {})
        met, breached = int(row.get("met") or 0), int(row.get("breached") or 0)
        span = (row["shortest"], row["longest"]) if row.get("shortest") is not None else None
        figures.append(
            _figure(
                f"{target.value}_compliance",
                kpi.rate(met, met + breached),
                met + breached,
                missed=breached,
                clock_targets=span,
            )
        )
    for target in (*kpi.RESPONSE_CLOCKS, Target.REPAIR):
        row = clocks.get(target.value, {})
        n = int(row.get("stopped") or 0)
        goal = _seconds(kpi.mean(row.get("targets"), n))
        late = int(row.get("late") or 0)
        span = (row["shortest"], row["longest"]) if row.get("shortest") is not None else None
        figures.append(
            _figure(
                f"{target.value}_mean",
                _seconds(kpi.mean(row.get("elapsed"), n)),
                n,
                target=goal,
                missed=late,
                clock_targets=span,
            )
        )
        if target in kpi.RESPONSE_CLOCKS:
            figures.append(
                _figure(
                    f"{target.value}_p90",
                    _seconds(_p90(scope, period, target, n)),
                    n,
                    target=goal,
                    missed=late,
                    clock_targets=span,
                )
            )
    closed = tickets["total"] - tickets["cancelled"]
    scores = {s: int(tickets[f"score{s}"]) for s in SCORES}
    surveyed = sum(scores.values())
    satisfied = sum(n for s, n in scores.items() if s >= SATISFIED_SCORE)
    suggestions = _suggestions(scope, period)
    decided = suggestions.adopted + suggestions.rejected
    farms, availability, downtime = _availability(desk, scope, period, now)
    figures += [
        _figure(
            "fix_rate",
            kpi.rate(tickets["fixed"], tickets["fixed_known"]),
            tickets["fixed_known"],
            missed=tickets["fixed_known"] - tickets["fixed"],
        ),
        _figure(
            "first_time_fix_rate",
            kpi.rate(tickets["ftf"], tickets["ftf_known"]),
            tickets["ftf_known"],
            missed=tickets["ftf_known"] - tickets["ftf"],
        ),
        _figure(
            "reopen_rate",
            kpi.rate(tickets["reopened"], closed),
            closed,
            missed=tickets["reopened"],
        ),
        _figure(
            "satisfaction_rate",
            kpi.rate(satisfied, surveyed),
            surveyed,
            missed=surveyed - satisfied,
        ),
        _figure(
            "suggestion_adoption",
            kpi.rate(suggestions.adopted, decided),
            decided,
            missed=suggestions.rejected,
        ),
        availability,
        downtime,
        _figure("weather_hold_hours", _hours(tickets["weather"]), tickets["weather_n"]),
        _figure("hold_hours", _hours(tickets["hold"]), tickets["hold_n"]),
        _figure("closed_tickets", closed, closed),
        _figure("cancelled_tickets", tickets["cancelled"], tickets["cancelled"]),
    ]
    order = {k: i for i, k in enumerate(kpi.DEFINITIONS)}
    figures.sort(key=lambda f: order[f.key])
    return KpiReport(
        period=period,
        filters=filters or Filters(),
        as_of=now,
        figures=tuple(figures),
        scores=scores,
        farms=farms,
        suggestions=suggestions,
        stale=int(tickets["stale"]),
        policy_digest=digest,
        trend=series,
    )


@_active
@_reading
def trend(
    desk: Desk, period: Period, filters: Filters | None = None, every: Every | str = Every.WEEK
) -> Trend:
    """The :data:`TREND_KEYS` figures per week or month of ``period`` (for the figures too,
    ask ``kpis(..., every=…)``: one pass for both)."""
    desk._gate(access.KPI)
    step = Every(every)
    scope = _scope(desk, filters)
    steps = kpi.buckets(period, step)
    return _trend_of(period, step, filters, steps, _bucket_totals(scope, steps, None))


@_active
@_reading
def kpi_tickets(
    desk: Desk,
    figure: str,
    filters: Filters | None = None,
    period: Period | None = None,
    *,
    limit: int | None = None,
) -> list[int]:
    """The ticket numbers behind a figure, ascending: every ticket it counts, or with
    ``FIGURE:missed`` the ones that count against its target (e.g. ``onsite_compliance:missed``:
    the tickets whose on-site clock was breached). ``period`` defaults to the current quarter."""
    desk._gate(access.KPI)
    key, missed = figure, False
    if figure.endswith(MISSED_SUFFIX):
        key, missed = figure[: -len(MISSED_SUFFIX)], True
    spec = kpi.definition(key)
    scope = _scope(desk, filters)
    now = desk.clock()
    span = period or kpi.current_quarter(now)
    if key in ("availability", "downtime_hours"):
        closed, open_ = _downtime_tickets(
            desk, scope, span, now, counted_only=missed and key == "availability"
        )
        query = Ticket.select(Ticket.number).where(Ticket.id.in_(closed) | Ticket.id.in_(open_))
    elif key == "suggestion_adoption":
        s = Suggestion
        chosen = _suggestion_query(scope, span).where(s.ticket.is_null(False))
        chosen = (
            chosen.where(s.status == "rejected")
            if missed
            else chosen.where(s.status.in_(["adopted", "rejected"]))
        )
        query = Ticket.select(Ticket.number).where(Ticket.id.in_(chosen.select(s.ticket)))
    elif spec.clock is not None:
        where = [*_judged(spec.clock.value), *_in_period(C, span), *scope.on(C)]
        if missed:
            where.append(C.state == BREACHED)
        if not key.endswith("_compliance"):  # response times: clocks whose milestone came
            where.append(C.stopped == True)  # noqa: E712
        query = Ticket.select(Ticket.number).join(C, on=(C.ticket == Ticket.id)).where(*where)
    else:
        where = [*_in_period(T, span), *scope.on(T), *_ticket_condition(key, missed)]
        query = Ticket.select(Ticket.number).join(T, on=(T.ticket == Ticket.id)).where(*where)
    query = query.order_by(Ticket.number)
    if limit is not None:
        query = query.limit(limit)
    return [n for (n,) in query.tuples()]


def _ticket_condition(key: str, missed: bool) -> list[Expression]:
    done = T.cancelled == False  # noqa: E712
    conditions: dict[str, tuple[Expression, Expression]] = {
        "fix_rate": (done & T.fixed.is_null(False), T.fixed == False),  # noqa: E712
        "first_time_fix_rate": (
            done & T.first_time_fix.is_null(False),
            T.first_time_fix == False,  # noqa: E712
        ),
        "reopen_rate": (done, T.reopened == True),  # noqa: E712
        "satisfaction_rate": (
            done & T.survey_score.is_null(False),
            T.survey_score < SATISFIED_SCORE,
        ),
        "weather_hold_hours": (T.weather_hold_seconds > 0, T.weather_hold_seconds > 0),
        "hold_hours": (T.hold_seconds > 0, T.hold_seconds > 0),
        "closed_tickets": (done, done),
        "cancelled_tickets": (T.cancelled == True, T.cancelled == True),  # noqa: E712
    }
    if key not in conditions:  # pragma: no cover - every definition is handled above
        raise Refused(_("KPI {key} has no tickets behind it").format(key=key))
    every, against = conditions[key]
    return [every, against] if missed else [every]


def _downtime_tickets(
    desk: Desk, scope: _Scope, period: Period, now: datetime, *, counted_only: bool
) -> tuple[Any, Any]:
    """Two subqueries of ticket ids whose turbine downtime overlaps the period (farm/customer
    filters only): closed tickets (from their outcomes) and open ones."""
    farms = [f[0] for f in _farms_in_scope(scope)]
    lo, hi = period.clipped(now)
    start, end = lo.timestamp(), hi.timestamp()
    if end <= start:
        farms = []
    closed = T.select(T.ticket).where(
        T.farm.in_(farms),
        T.down_start < end,
        T.down_end.is_null() | (T.down_end > start),
    )
    stopped = _epoch(desk, Ticket.turbine_stopped_at)
    restored = fn.COALESCE(_epoch(desk, Ticket.turbine_restored_at), float(now.timestamp()))
    open_ = Ticket.select(Ticket.id).where(
        Ticket.state.in_(_OPEN_STATES),
        Ticket.farm.in_(farms),
        Ticket.turbine.is_null(False),
        Ticket.turbine_stopped_at.is_null(False),
        stopped < end,
        restored > start,
    )
    if counted_only:
        closed = closed.where(T.category.not_in(_EXCLUDED))
        open_ = open_.where(Ticket.category.not_in(_EXCLUDED))
    return closed, open_


# -- one JSON shape for scripts (``windtui kpi --json``) and the report ------------------------


def report_dict(report: KpiReport, trend_: Trend | None = None) -> dict[str, Any]:
    """The report (and its trend, or ``trend_``) as plain JSON-ready data; labels in the active
    language.

    Rates are shares in [0, 1], durations business seconds, ``*_hours`` hours.
    """
    period = report.period
    data: dict[str, Any] = {
        "period": {
            "label": period.label,
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "timezone": period.tz,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "filters": report.filters.as_dict(),
        "as_of": report.as_of.isoformat(),
        "policy_digest": report.policy_digest,
        "stale_outcomes": report.stale,
        "figures": [
            {
                "key": f.key,
                "label": _(f.label),
                "unit": f.unit.value,
                "direction": f.direction.value,
                "value": f.value,
                "target": f.target,
                "status": f.status.value,
                "count": f.count,
                "missed": f.missed,
                "clock_targets": list(f.clock_targets) if f.clock_targets else None,
            }
            for f in report.figures
        ],
        "scores": {str(s): n for s, n in report.scores.items()},
        "suggestions": {
            "received": report.suggestions.received,
            "adopted": report.suggestions.adopted,
            "rejected": report.suggestions.rejected,
            "pending": report.suggestions.pending,
        },
        "farms": [
            {
                "farm": a.farm,
                "name_zh": a.name_zh,
                "name_en": a.name_en,
                "turbines": a.turbines,
                "period_hours": a.period_hours,
                "downtime_hours": a.downtime_hours,
                "excluded_hours": a.excluded_hours,
                "availability": a.availability,
                "target": a.target,
                "status": a.status.value,
                "tickets": a.tickets,
            }
            for a in report.farms
        ],
    }
    trend_ = trend_ or report.trend
    if trend_ is not None:
        data["trend"] = {
            "every": trend_.every.value,
            "buckets": [
                {"label": b.label, "start": b.start.isoformat(), "end": b.end.isoformat()}
                for b in trend_.buckets
            ],
            "series": {k: list(v) for k, v in trend_.series.items()},
            "counts": {k: list(v) for k, v in trend_.counts.items()},
        }
    return data
