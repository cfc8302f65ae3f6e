"""KPI definitions, targets, status thresholds, periods and the pure maths behind every figure.

No database here: :mod:`windtui.services.kpi` runs the SQL aggregates and hands the sums and counts
to these functions, so the screen, ``windtui kpi`` and the audit report judge a figure the same
way. The definitions are written out for people in ``docs/KPI.md``; keep both in step.

* A **period** is a half-open range of instants ``[start, end)`` given by local calendar days in
  the desk's timezone (``2026Q3``, ``2026-09``, ``--from 2026-07-01 --to 2026-09-30``). Outcome
  KPIs count the tickets *closed* (or cancelled) in it; availability clips downtime to it.
* A figure's **status** compares its value with its target: met, at risk (inside the figure's
  margin), missed; "no data" when nothing was counted; "info" for figures without a target.
* **p90** is the nearest-rank percentile: the ``ceil(0.9·n)``-th smallest value, an actual
  observation (the SQL takes it with ``ORDER BY … LIMIT 1 OFFSET rank-1`` on both backends).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from windtui.domain.model import Category, Clock, ClockState, HoldReason, HoldSpan, Target, Timeline
from windtui.domain.policy import PolicySet
from windtui.domain.sla import compute_clocks
from windtui.errors import WindtuiError
from windtui.i18n import _

#: Periods are whole local days in this timezone (the desk sits in China; see ``cli.DESK_TZ``).
PERIOD_TZ = "Asia/Shanghai"

#: Survey scores run 1..5; a score of at least this counts as satisfied (4 "satisfied",
#: 5 "very satisfied"; 3 is neutral and does not count).
SATISFIED_SCORE = 4
SCORES = (1, 2, 3, 4, 5)

#: The percentile of the "p90" figures, exact (no float rounding in the rank).
P90 = Fraction(9, 10)

#: Ticket categories whose turbine downtime does not count against availability: scheduled
#: maintenance and upgrades/retrofits are planned, owner-agreed stops (IEC 61400-26-1
#: "scheduled maintenance" / "requested shutdown"), excluded as most availability contracts do.
AVAILABILITY_EXCLUDED: frozenset[Category] = frozenset({Category.MAINTENANCE, Category.UPGRADE})


class PeriodError(WindtuiError):
    """A period that cannot be read (``2026Q5``) or makes no sense (``--from`` after ``--to``)."""

    exit_code = 2  # bad command-line input, as argparse's own complaints


class Status(StrEnum):
    """A figure against its target."""

    MET = "met"
    AT_RISK = "at_risk"
    MISSED = "missed"
    NO_DATA = "no_data"
    INFO = "info"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def marker(self) -> str:
        """A mark readable without colour: ``✓`` met, ``!`` at risk, ``✗`` missed."""
        return _STATUS_MARKERS[self]

    @property
    def colour(self) -> str:
        """The console colour (a Rich colour name; empty: the default text colour)."""
        return STATUS_COLOURS[self]


_STATUS_LABELS = {
    Status.MET: "met",
    Status.AT_RISK: "at risk",
    Status.MISSED: "missed",
    Status.NO_DATA: "no data",
    Status.INFO: "info",
}
_STATUS_MARKERS = {
    Status.MET: "✓",
    Status.AT_RISK: "!",
    Status.MISSED: "✗",
    Status.NO_DATA: "·",
    Status.INFO: " ",
}
#: Colour per status for the console (the CLI prints markers and words instead).
STATUS_COLOURS = {
    Status.MET: "green",
    Status.AT_RISK: "yellow",
    Status.MISSED: "red",
    Status.NO_DATA: "grey50",
    Status.INFO: "",
}


class Unit(StrEnum):
    """How a figure's value reads: a share in [0, 1], business seconds, hours, a count."""

    RATE = "rate"
    SECONDS = "seconds"
    HOURS = "hours"
    COUNT = "count"


class Direction(StrEnum):
    """Which way is good; INFO figures have no target."""

    HIGHER = "higher"
    LOWER = "lower"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Definition:
    """One KPI: what it is called, how it reads and what it is judged against.

    ``target`` is fixed here, or None with ``clock`` set: then it comes from the policy's target
    for that clock (the mean of the targets of the tickets counted, as stored at closing).
    ``margin`` is the "at risk" band: percentage points for rates (0.05 = five points), a
    share of the target for durations (0.25 = up to 125 % of the target).
    """

    key: str
    label: str  # English msgid: show with ``_()``
    unit: Unit
    direction: Direction
    target: float | None = None
    margin: float = 0.0
    clock: Target | None = None


#: Compliance (share of clocks met) the desk aims for on every clock: the policy states time
#: limits, not a share; 95 % matches its fix-rate bar (§三(2)).
COMPLIANCE_TARGET = 0.95
COMPLIANCE_MARGIN = 0.05
#: Durations up to a quarter above the target are "at risk", beyond that "missed".
DURATION_MARGIN = 0.25

#: Clocks whose response times (mean, p90) are reported: the policy's §三(1)/§二(2) promises.
RESPONSE_CLOCKS = (Target.ACKNOWLEDGE, Target.FEEDBACK, Target.ONSITE)


def _definitions() -> tuple[Definition, ...]:
    out: list[Definition] = []
    for target in Target:
        out.append(
            Definition(
                f"{target.value}_compliance",
                _COMPLIANCE_LABELS[target],
                Unit.RATE,
                Direction.HIGHER,
                COMPLIANCE_TARGET,
                COMPLIANCE_MARGIN,
                target,
            )
        )
    for target in RESPONSE_CLOCKS:
        mean_label, p90_label = _RESPONSE_LABELS[target]
        out.append(
            Definition(
                f"{target.value}_mean",
                mean_label,
                Unit.SECONDS,
                Direction.LOWER,
                None,
                DURATION_MARGIN,
                target,
            )
        )
        out.append(
            Definition(
                f"{target.value}_p90",
                p90_label,
                Unit.SECONDS,
                Direction.LOWER,
                None,
                DURATION_MARGIN,
                target,
            )
        )
    out += [
        Definition(
            "repair_mean",
            "Mean repair time",
            Unit.SECONDS,
            Direction.LOWER,
            None,
            DURATION_MARGIN,
            Target.REPAIR,
        ),
        Definition("fix_rate", "Fix rate", Unit.RATE, Direction.HIGHER, 0.95, 0.03),
        Definition(
            "first_time_fix_rate", "First-time-fix rate", Unit.RATE, Direction.HIGHER, 0.85, 0.10
        ),
        Definition("reopen_rate", "Reopen rate", Unit.RATE, Direction.LOWER, 0.05, 0.03),
        Definition(
            "satisfaction_rate", "Satisfaction rate", Unit.RATE, Direction.HIGHER, 0.98, 0.08
        ),
        Definition(
            "suggestion_adoption", "Suggestions adopted", Unit.RATE, Direction.HIGHER, 0.80, 0.10
        ),
        Definition(
            "availability", "Time-based availability", Unit.RATE, Direction.HIGHER, 0.97, 0.02
        ),
        Definition("downtime_hours", "Turbine downtime", Unit.HOURS, Direction.INFO),
        Definition("weather_hold_hours", "Weather-hold time", Unit.HOURS, Direction.INFO),
        Definition("hold_hours", "Time on hold (all reasons)", Unit.HOURS, Direction.INFO),
        Definition("closed_tickets", "Tickets closed", Unit.COUNT, Direction.INFO),
        Definition("cancelled_tickets", "Tickets cancelled", Unit.COUNT, Direction.INFO),
    ]
    return tuple(out)


_COMPLIANCE_LABELS = {
    Target.ACKNOWLEDGE: "Acknowledged in time",
    Target.FEEDBACK: "Feedback in time",
    Target.ONSITE: "On site in time",
    Target.REPAIR: "Repaired in time",
    Target.REPORT: "Report in time",
    Target.REVIEW: "Review in time",
    Target.FOLLOWUP: "Follow-up in time",
}
_RESPONSE_LABELS = {
    Target.ACKNOWLEDGE: ("Mean time to acknowledge", "p90 time to acknowledge"),
    Target.FEEDBACK: ("Mean time to feedback", "p90 time to feedback"),
    Target.ONSITE: ("Mean time to site", "p90 time to site"),
}

#: Every KPI by key, in display order.
DEFINITIONS: dict[str, Definition] = {d.key: d for d in _definitions()}

#: What ``kpi_tickets`` may drill into: every figure, and ``FIGURE:missed`` for the tickets that
#: count against its target (breached clocks, not fixed, reopened, dissatisfied, …).
MISSED_SUFFIX = ":missed"


class UnknownFigure(WindtuiError):
    """A figure key the KPI set does not have."""

    exit_code = 3  # like any unknown name (farm, ticket)


def definition(key: str) -> Definition:
    """The definition of ``key`` (one-line :class:`UnknownFigure` when unknown)."""
    found = DEFINITIONS.get(key)
    if found is None:
        raise UnknownFigure(
            _("unknown KPI '{key}': choose one of {choices}").format(
                key=key, choices=", ".join(DEFINITIONS)
            )
        )
    return found


# -- the maths ---------------------------------------------------------------------------------

_EPSILON = 1e-12  # float noise in "value >= target - margin"


def rate(numerator: int | float, denominator: int | float) -> float | None:
    """``numerator / denominator`` (None when nothing was counted)."""
    if not denominator:
        return None
    return numerator / denominator


def mean(total: float | None, count: int) -> float | None:
    """``total / count`` (None when nothing was counted)."""
    if not count or total is None:
        return None
    return total / count


def judge(value: float | None, spec: Definition, target: float | None = None) -> Status:
    """The status of ``value`` against ``target`` (default: the definition's own)."""
    if spec.direction is Direction.INFO:
        return Status.INFO
    goal = spec.target if target is None else target
    if value is None or goal is None:
        return Status.NO_DATA
    relative = spec.unit in (Unit.SECONDS, Unit.HOURS)
    if spec.direction is Direction.HIGHER:
        if value >= goal - _EPSILON:
            return Status.MET
        floor = goal * (1 - spec.margin) if relative else goal - spec.margin
        return Status.AT_RISK if value >= floor - _EPSILON else Status.MISSED
    if value <= goal + _EPSILON:
        return Status.MET
    ceiling = goal * (1 + spec.margin) if relative else goal + spec.margin
    return Status.AT_RISK if value <= ceiling + _EPSILON else Status.MISSED


def nearest_rank(count: int, q: Fraction = P90) -> int:
    """The 1-based rank of the ``q`` percentile among ``count`` sorted values: ``ceil(q·n)``,
    at least 1 (0 when there are no values). Exact: ``q`` is a fraction."""
    if count <= 0:
        return 0
    return max(1, math.ceil(q * count))


def percentile(sorted_values: list[float], q: Fraction = P90) -> float | None:
    """The nearest-rank percentile of ascending ``sorted_values`` (None when empty)."""
    rank = nearest_rank(len(sorted_values), q)
    return sorted_values[rank - 1] if rank else None


def overlap(start: float, end: float, lo: float, hi: float) -> float:
    """Seconds of ``[start, end)`` inside ``[lo, hi)`` (0 when disjoint)."""
    return max(0.0, min(end, hi) - max(start, lo))


def availability(down_seconds: float, turbines: int, period_seconds: float) -> float | None:
    """Time-based availability, simplified from IEC 61400-26-1:
    ``A_t = 1 − counted downtime / (turbines × period)`` (None without turbines or time).

    Clamped to [0, 1]: overlapping stops of one turbine (two tickets) could otherwise count
    the same hour twice.
    """
    if turbines <= 0 or period_seconds <= 0:
        return None
    return min(1.0, max(0.0, 1.0 - down_seconds / (turbines * period_seconds)))


# -- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """The instants ``[start, end)`` (UTC) of whole local days in ``tz``, with the label it was
    given by (``2026Q3``, ``2026-09``, ``2026-07-01..2026-09-30``)."""

    start: datetime
    end: datetime
    label: str
    tz: str = PERIOD_TZ

    @property
    def first_day(self) -> date:
        return self.start.astimezone(ZoneInfo(self.tz)).date()

    @property
    def last_day(self) -> date:
        """The last local day in the period (inclusive)."""
        return (self.end.astimezone(ZoneInfo(self.tz)) - timedelta(days=1)).date()

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def clipped(self, now: datetime) -> tuple[datetime, datetime]:
        """``[start, min(end, now))``: the part of the period that has happened (may be empty)."""
        end = min(self.end, max(self.start, now))
        return self.start, end


_QUARTER = re.compile(r"^(\d{4})\s*[Qq]\s*(\d+)$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(_("unknown timezone '{tz}'").format(tz=tz)) from None


def _midnight(day: date, tz: str) -> datetime:
    """Local midnight of ``day`` in ``tz``, as UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=_zone(tz)).astimezone(UTC)


def _next_day(day: date) -> date:
    try:
        return day + timedelta(days=1)
    except OverflowError:
        raise PeriodError(_("the period must end before the year 9999")) from None


def days(first: date, last: date, tz: str = PERIOD_TZ, label: str | None = None) -> Period:
    """The local days ``first`` … ``last`` (inclusive) as a period."""
    if first > last:
        raise PeriodError(
            _("--from {first} is after --to {last}").format(
                first=first.isoformat(), last=last.isoformat()
            )
        )
    return Period(
        _midnight(first, tz),
        _midnight(_next_day(last), tz),
        label or f"{first.isoformat()}..{last.isoformat()}",
        tz,
    )


def quarter(year: int, number: int, tz: str = PERIOD_TZ) -> Period:
    """Quarter ``number`` (1-4) of ``year``."""
    if not 1 <= number <= 4:
        raise PeriodError(
            _("no such quarter '{text}': use YYYYQ1 … YYYYQ4, e.g. 2026Q3").format(
                text=f"{year}Q{number}"
            )
        )
    first = date(year, 3 * number - 2, 1)
    last = _month_end(year, 3 * number)
    return days(first, last, tz, f"{year:04d}Q{number}")


def month(year: int, number: int, tz: str = PERIOD_TZ) -> Period:
    """Month ``number`` (1-12) of ``year``."""
    if not 1 <= number <= 12:
        raise PeriodError(
            _("no such month '{text}': use YYYY-MM, e.g. 2026-09").format(
                text=f"{year}-{number:02d}"
            )
        )
    return days(date(year, number, 1), _month_end(year, number), tz, f"{year:04d}-{number:02d}")


def year(number: int, tz: str = PERIOD_TZ) -> Period:
    """The calendar year ``number``."""
    return days(date(number, 1, 1), date(number, 12, 31), tz, f"{number:04d}")


def _month_end(y: int, m: int) -> date:
    if m == 12:
        return date(y, 12, 31)
    return date(y, m + 1, 1) - timedelta(days=1)


def parse_day(text: str, what: str = "--from") -> date:
    """A calendar day ``YYYY-MM-DD``."""
    value = (text or "").strip()
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
        if day.year < 1:
            raise ValueError(value)
        return day
    except ValueError:
        raise PeriodError(
            _("cannot read the date '{text}' for {what}: use YYYY-MM-DD, e.g. 2026-07-01").format(
                text=text, what=what
            )
        ) from None


def parse_quarter(text: str, tz: str = PERIOD_TZ) -> Period:
    """``2026Q3`` (also ``2026q3``)."""
    match = _QUARTER.match((text or "").strip())
    if not match:
        raise PeriodError(
            _("no such quarter '{text}': use YYYYQ1 … YYYYQ4, e.g. 2026Q3").format(text=text)
        )
    y, q = int(match.group(1)), int(match.group(2))
    if not 1 <= q <= 4 or y < 1:
        raise PeriodError(
            _("no such quarter '{text}': use YYYYQ1 … YYYYQ4, e.g. 2026Q3").format(text=text)
        )
    return quarter(y, q, tz)


def parse_month(text: str, tz: str = PERIOD_TZ) -> Period:
    """``2026-09``."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise PeriodError(_("no such month '{text}': use YYYY-MM, e.g. 2026-09").format(text=text))
    return month(int(match.group(1)), int(match.group(2)), tz)


def parse_period(text: str, tz: str = PERIOD_TZ) -> Period:
    """Any period label: ``2026Q3``, ``2026-09``, ``2026``, ``2026-07-01..2026-09-30``.

    ``parse_period(p.label, p.tz) == p`` for every period made here.
    """
    value = (text or "").strip()
    if ".." in value:
        first, _sep, last = value.partition("..")
        return days(parse_day(first, "--from"), parse_day(last, "--to"), tz)
    if _QUARTER.match(value):
        return parse_quarter(value, tz)
    if _MONTH.match(value):
        return parse_month(value, tz)
    if _YEAR.match(value) and int(value) >= 1:
        return year(int(value), tz)
    raise PeriodError(
        _(
            "cannot read the period '{text}': use 2026Q3, 2026-09, 2026 or 2026-07-01..2026-09-30"
        ).format(text=text)
    )


def current_quarter(now: datetime, tz: str = PERIOD_TZ) -> Period:
    """The quarter that contains ``now`` (local)."""
    today = now.astimezone(_zone(tz)).date()
    return quarter(today.year, (today.month - 1) // 3 + 1, tz)


def choose_period(
    *,
    quarter_text: str | None = None,
    month_text: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    now: datetime,
    tz: str = PERIOD_TZ,
) -> Period:
    """The period a command line asks for: one of a quarter, a month, or ``--from``/``--to``
    (``--from`` alone runs to today); nothing given: the current quarter."""
    given = sum(x is not None for x in (quarter_text, month_text)) + (
        date_from is not None or date_to is not None
    )
    if given > 1:
        raise PeriodError(_("give one period: --quarter, --month, or --from/--to"))
    if quarter_text is not None:
        return parse_quarter(quarter_text, tz)
    if month_text is not None:
        return parse_month(month_text, tz)
    if date_to is not None and date_from is None:
        raise PeriodError(_("--to needs --from"))
    if date_from is not None:
        first = parse_day(date_from, "--from")
        last = (
            parse_day(date_to, "--to") if date_to is not None else now.astimezone(_zone(tz)).date()
        )
        return days(first, last, tz)
    return current_quarter(now, tz)


# -- trend buckets -----------------------------------------------------------------------------


class Every(StrEnum):
    """Trend bucket size."""

    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One step of a trend: ``[start, end)`` (clipped to the period) and its label."""

    start: datetime
    end: datetime
    label: str  # "2026-W27" or "2026-07"


def buckets(period: Period, every: Every | str) -> tuple[Bucket, ...]:
    """The weeks (ISO, Monday first) or months that cover ``period``, clipped to it."""
    step = Every(every)
    zone = _zone(period.tz)
    day = period.first_day
    last = period.last_day
    out: list[Bucket] = []
    if step is Every.WEEK:
        day -= timedelta(days=day.weekday())
    else:
        day = day.replace(day=1)
    while day <= last:
        if step is Every.WEEK:
            following = day + timedelta(days=7)
            iso = day.isocalendar()
            label = f"{iso.year:04d}-W{iso.week:02d}"
        else:
            following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            label = f"{day.year:04d}-{day.month:02d}"
        start = max(period.start, datetime(day.year, day.month, day.day, tzinfo=zone))
        end = min(
            period.end,
            datetime(following.year, following.month, following.day, tzinfo=zone),
        )
        out.append(Bucket(start.astimezone(UTC), end.astimezone(UTC), label))
        day = following
    return tuple(out)


# -- what a closing ticket leaves behind -------------------------------------------------------

MET, BREACHED, NOT_APPLICABLE = "met", "breached", "not_applicable"


@dataclass(frozen=True, slots=True)
class ClockFacts:
    """One clock of a ticket frozen at its closing (or cancellation) instant.

    ``state``: ``met`` or ``breached`` when its stop milestone came (within the target or not);
    a clock that was still running when the ticket was cancelled is ``breached`` if it was
    already overdue then, else ``not_applicable`` (``stopped`` False either way). A clock that
    never started (or does not apply to the category) is ``not_applicable`` with no elapsed time.
    ``elapsed_seconds`` is business time on the clock's calendar with paused time excluded;
    ``paused_seconds`` the business time its holds paused.
    """

    target: Target
    state: str
    elapsed_seconds: float | None
    target_seconds: float
    paused_seconds: float
    stopped: bool


def clock_facts(
    timeline: Timeline, policy: PolicySet, *, farm_tz: str, farm_calendar: str, at: datetime
) -> tuple[ClockFacts, ...]:
    """The seven clocks of a closing ticket at ``at`` (from :func:`compute_clocks`)."""
    clocks = compute_clocks(timeline, policy, farm_tz=farm_tz, farm_calendar=farm_calendar, now=at)
    return tuple(_facts(c, policy, farm_tz, at) for c in clocks)


def _facts(clock: Clock, policy: PolicySet, farm_tz: str, at: datetime) -> ClockFacts:
    seconds = clock.target_seconds
    if not clock.started or clock.start is None:
        return ClockFacts(clock.target, NOT_APPLICABLE, None, seconds, 0.0, False)
    elapsed = clock.elapsed_seconds
    stopped = clock.met_at is not None
    end = clock.met_at if stopped else at
    assert end is not None
    cal = policy.calendar(clock.calendar, farm_tz)
    span = cal.cum(end.timestamp()) - cal.cum(clock.start.timestamp())
    paused = max(0.0, span - elapsed)
    if clock.state is ClockState.MET:
        state = MET
    elif clock.state is ClockState.BREACHED and stopped:
        state = BREACHED
    else:  # frozen by a cancellation (or still running at ``at``): judged at ``at``
        state = BREACHED if elapsed >= seconds else NOT_APPLICABLE
    return ClockFacts(clock.target, state, elapsed, seconds, paused, stopped)


def hold_seconds(
    holds: tuple[HoldSpan, ...], at: datetime, reasons: frozenset[HoldReason] | None = None
) -> float:
    """Wall-clock seconds on hold up to ``at`` (overlaps merged; an open hold runs to ``at``),
    of the holds with one of ``reasons`` (all when None)."""
    limit = at.timestamp()
    spans = sorted(
        (h.start.timestamp(), min(limit, h.end.timestamp() if h.end is not None else limit))
        for h in holds
        if reasons is None or h.reason in reasons
    )
    total, cursor = 0.0, -math.inf
    for start, end in spans:
        start = max(start, cursor)
        if end > start:
            total += end - start
            cursor = end
    return total
