"""The pure KPI maths: judging against targets, nearest-rank percentiles, availability, periods
and trend buckets, the clock facts a closing ticket leaves behind, hold totals."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from windtui.domain import kpi
from windtui.domain.kpi import Direction, Period, PeriodError, Status, Unit
from windtui.domain.model import Category, HoldReason, HoldSpan, Priority, Target, Timeline
from windtui.domain.policy import load_policy
from windtui.paths import default_policy_path

POLICY = load_policy(default_policy_path().read_text("utf-8"))
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Beijing


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- judging -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("fix_rate", 0.95, Status.MET),
        ("fix_rate", 0.93, Status.AT_RISK),
        ("fix_rate", 0.92, Status.AT_RISK),  # the band's edge is inside it
        ("fix_rate", 0.9199, Status.MISSED),
        ("satisfaction_rate", 0.98, Status.MET),
        ("satisfaction_rate", 0.90, Status.AT_RISK),  # the policy's starting point
        ("satisfaction_rate", 0.89, Status.MISSED),
        ("reopen_rate", 0.05, Status.MET),
        ("reopen_rate", 0.08, Status.AT_RISK),
        ("reopen_rate", 0.081, Status.MISSED),
        ("availability", 0.95, Status.AT_RISK),
        ("availability", 0.949, Status.MISSED),
        ("onsite_compliance", None, Status.NO_DATA),
        ("closed_tickets", 12, Status.INFO),
    ],
)
def test_judge_fixed_targets(key: str, value: float | None, status: Status) -> None:
    assert kpi.judge(value, kpi.DEFINITIONS[key]) is status


def test_judge_durations_against_the_policy_target() -> None:
    spec = kpi.DEFINITIONS["repair_mean"]
    assert spec.target is None and spec.clock is Target.REPAIR
    assert kpi.judge(9_000, spec, 9_000) is Status.MET
    assert kpi.judge(11_250, spec, 9_000) is Status.AT_RISK  # 125 %
    assert kpi.judge(11_251, spec, 9_000) is Status.MISSED
    assert kpi.judge(5_000, spec) is Status.NO_DATA  # no target known


def test_definitions_are_complete() -> None:
    keys = list(kpi.DEFINITIONS)
    assert len(keys) == len(set(keys))
    for target in Target:
        assert kpi.DEFINITIONS[f"{target.value}_compliance"].clock is target
    for target in kpi.RESPONSE_CLOCKS:
        assert kpi.DEFINITIONS[f"{target.value}_p90"].unit is Unit.SECONDS
    for spec in kpi.DEFINITIONS.values():
        if spec.direction is Direction.INFO:
            assert spec.target is None
        elif spec.target is None:
            assert spec.clock is not None  # the policy gives the target
        assert spec.margin >= 0
    with pytest.raises(kpi.UnknownFigure, match="happiness"):
        kpi.definition("happiness")


def test_status_markers_read_without_colour() -> None:
    assert {s.marker for s in (Status.MET, Status.AT_RISK, Status.MISSED)} == {"✓", "!", "✗"}
    assert all(s.colour is not None for s in Status)


# -- percentiles, rates, availability ----------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "rank"), [(0, 0), (1, 1), (5, 5), (9, 9), (10, 9), (11, 10), (70, 63), (100, 90)]
)
def test_nearest_rank_is_exact(n: int, rank: int) -> None:
    assert kpi.nearest_rank(n) == rank


def test_percentile_examples() -> None:
    assert kpi.percentile([]) is None
    assert kpi.percentile([7.0]) == 7.0
    assert kpi.percentile([1.0, 2.0, 3.0, 4.0, 100.0]) == 100.0
    assert kpi.percentile([float(i) for i in range(1, 11)]) == 9.0
    assert kpi.percentile([float(i) for i in range(1, 11)], Fraction(1, 2)) == 5.0


@given(st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=200))
def test_p90_is_an_observation_at_least_the_median(values: list[float]) -> None:
    ordered = sorted(values)
    p90 = kpi.percentile(ordered)
    median = kpi.percentile(ordered, Fraction(1, 2))
    assert p90 in values and p90 >= median
    assert sum(v <= p90 for v in values) >= 0.9 * len(values)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_rates_stay_in_the_unit_interval(a: int, b: int) -> None:
    part, whole = min(a, b), max(a, b)
    value = kpi.rate(part, whole)
    if whole == 0:
        assert value is None
    else:
        assert value is not None and 0.0 <= value <= 1.0


@given(
    st.floats(0, 1e9, allow_nan=False),
    st.integers(0, 10_000),
    st.floats(0, 1e8, allow_nan=False),
)
def test_availability_stays_in_the_unit_interval(down: float, turbines: int, span: float) -> None:
    value = kpi.availability(down, turbines, span)
    if turbines == 0 or span == 0:
        assert value is None
    else:
        assert value is not None and 0.0 <= value <= 1.0


def test_availability_formula() -> None:
    # 10 turbines, 30 days, one turbine down 3 days: 1 - 3/300
    assert kpi.availability(3 * 86_400, 10, 30 * 86_400) == pytest.approx(0.99)
    assert kpi.overlap(0, 10, 5, 20) == 5 and kpi.overlap(0, 10, 10, 20) == 0


# -- periods -----------------------------------------------------------------------------------


def test_quarter_and_month_in_beijing_time() -> None:
    q3 = kpi.parse_quarter("2026Q3")
    assert q3.start == datetime(2026, 6, 30, 16, 0, tzinfo=UTC)
    assert q3.end == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert (q3.first_day, q3.last_day, q3.label) == (date(2026, 7, 1), date(2026, 9, 30), "2026Q3")
    assert kpi.parse_quarter("2026q4").last_day == date(2026, 12, 31)
    sept = kpi.parse_month("2026-09")
    assert (sept.first_day, sept.last_day) == (date(2026, 9, 1), date(2026, 9, 30))
    berlin = kpi.parse_month("2026-03", "Europe/Berlin")  # DST starts in it
    assert berlin.start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert berlin.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["2026Q5", "2026Q0", "2026Q", "Q3", "2026-13", "2026-00", "26Q1", "", "2026-7-1"]
)
def test_bad_periods_are_one_line_usage_errors(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        kpi.parse_period(text)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_choose_period() -> None:
    now = datetime(2026, 8, 15, 3, 0, tzinfo=UTC)
    assert kpi.choose_period(now=now).label == "2026Q3"
    assert kpi.choose_period(quarter_text="2026Q1", now=now).label == "2026Q1"
    assert kpi.choose_period(month_text="2026-02", now=now).last_day == date(2026, 2, 28)
    span = kpi.choose_period(date_from="2026-07-01", date_to="2026-07-31", now=now)
    assert (span.first_day, span.last_day) == (date(2026, 7, 1), date(2026, 7, 31))
    assert kpi.choose_period(date_from="2026-08-01", now=now).last_day == date(2026, 8, 15)
    with pytest.raises(PeriodError, match="after"):
        kpi.choose_period(date_from="2026-09-30", date_to="2026-07-01", now=now)
    with pytest.raises(PeriodError, match="--to needs --from"):
        kpi.choose_period(date_to="2026-07-01", now=now)
    with pytest.raises(PeriodError, match="one period"):
        kpi.choose_period(quarter_text="2026Q1", month_text="2026-02", now=now)
    with pytest.raises(PeriodError, match="2026-02-30"):
        kpi.choose_period(date_from="2026-02-30", now=now)


_days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(st.integers(1990, 2090), st.integers(1, 4))
def test_quarter_labels_round_trip(year: int, number: int) -> None:
    period = kpi.quarter(year, number)
    assert kpi.parse_period(period.label) == period
    assert period.label == f"{year}Q{number}"


@given(st.integers(1990, 2090), st.integers(1, 12), st.sampled_from(["Asia/Shanghai", "UTC"]))
def test_month_labels_round_trip(year: int, number: int, tz: str) -> None:
    period = kpi.month(year, number, tz)
    assert kpi.parse_period(period.label, tz) == period


@given(_days, _days)
def test_day_ranges_round_trip(a: date, b: date) -> None:
    first, last = min(a, b), max(a, b)
    period = kpi.days(first, last)
    assert kpi.parse_period(period.label) == period
    assert (period.first_day, period.last_day) == (first, last)
    assert period.start < period.end


@given(_days, st.integers(0, 400), st.sampled_from(["week", "month"]))
def test_buckets_tile_the_period(first: date, length: int, every: str) -> None:
    period = kpi.days(first, first + timedelta(days=length))
    steps = kpi.buckets(period, every)
    assert steps[0].start == period.start and steps[-1].end == period.end
    assert all(a.end == b.start for a, b in itertools.pairwise(steps))
    assert all(s.start < s.end for s in steps)
    assert len({s.label for s in steps}) == len(steps)


def test_period_clipped_to_now() -> None:
    q = kpi.parse_quarter("2026Q3")
    inside = datetime(2026, 8, 1, tzinfo=UTC)
    assert q.clipped(inside) == (q.start, inside)
    assert q.clipped(datetime(2026, 1, 1, tzinfo=UTC)) == (q.start, q.start)
    assert q.clipped(datetime(2027, 1, 1, tzinfo=UTC)) == (q.start, q.end)
    assert isinstance(q, Period)


# -- what a closing ticket leaves behind -------------------------------------------------------


def _closed(**changes: object) -> Timeline:
    base = {
        "category": Category.FAULT,
        "priority": Priority.P2,
        "received_at": at(0),
        "acknowledged_at": at(30),
        "feedback_at": at(120),
        "dispatched_at": at(130),
        "departed_at": at(140),
        "arrived_at": at(300),
        "resolved_at": at(420),
        "report_at": at(480),
        "reviewed_at": at(540),
        "followup_at": at(600),
        "closed_at": at(610),
        "holds": (HoldSpan(HoldReason.WEATHER, at(150), at(210), "wind"),),
    }
    base.update(changes)
    return Timeline(**base)  # type: ignore[arg-type]


def _facts(timeline: Timeline, when: datetime) -> dict[Target, kpi.ClockFacts]:
    facts = kpi.clock_facts(
        timeline, POLICY, farm_tz="Asia/Shanghai", farm_calendar="24x7", at=when
    )
    return {f.target: f for f in facts}


def test_clock_facts_of_a_closed_ticket() -> None:
    facts = _facts(_closed(), at(610))
    ack, onsite, repair = facts[Target.ACKNOWLEDGE], facts[Target.ONSITE], facts[Target.REPAIR]
    assert (ack.state, ack.elapsed_seconds, ack.paused_seconds) == ("met", 1800, 0)
    # the weather hold pauses the on-site clock: 5 h on the clock minus 1 h held
    assert (onsite.state, onsite.elapsed_seconds, onsite.paused_seconds) == ("met", 14_400, 3_600)
    assert onsite.stopped and onsite.target_seconds == 48 * 3600
    assert (repair.state, repair.elapsed_seconds) == ("met", 7_200)
    assert all(f.stopped for f in facts.values())


def test_clock_facts_of_a_cancelled_ticket() -> None:
    timeline = _closed(
        priority=Priority.P1,
        arrived_at=None,
        resolved_at=None,
        report_at=None,
        reviewed_at=None,
        followup_at=None,
        closed_at=None,
        cancelled_at=at(26 * 60),
        holds=(),
    )
    facts = _facts(timeline, at(26 * 60))
    onsite = facts[Target.ONSITE]  # P1: 24 h, ran 26 h when cancelled: overdue, never stopped
    assert (onsite.state, onsite.stopped, onsite.elapsed_seconds) == ("breached", False, 26 * 3600)
    assert facts[Target.REPAIR].state == "not_applicable"
    assert facts[Target.REPAIR].elapsed_seconds is None
    assert facts[Target.ACKNOWLEDGE].state == "met"
    short = _facts(  # cancelled at 23 h: not overdue yet, so just n/a
        Timeline(
            category=Category.FAULT,
            priority=Priority.P1,
            received_at=at(0),
            acknowledged_at=at(10),
            feedback_at=at(20),
            cancelled_at=at(23 * 60),
        ),
        at(23 * 60),
    )
    assert (short[Target.ONSITE].state, short[Target.ONSITE].stopped) == ("not_applicable", False)


def test_consulting_has_no_site_clocks() -> None:
    facts = _facts(
        _closed(
            category=Category.CONSULTING,
            dispatched_at=None,
            departed_at=None,
            arrived_at=None,
            holds=(),
        ),
        at(610),
    )
    assert facts[Target.ONSITE].state == facts[Target.REPAIR].state == "not_applicable"
    assert facts[Target.REPORT].state == "met"


def test_hold_seconds_merge_overlaps_and_run_open_holds_to_the_instant() -> None:
    holds = (
        HoldSpan(HoldReason.WEATHER, at(0), at(60)),
        HoldSpan(HoldReason.PARTS, at(30), at(90)),
        HoldSpan(HoldReason.WEATHER, at(120), None),
    )
    assert kpi.hold_seconds(holds, at(150)) == (90 + 30) * 60
    assert kpi.hold_seconds(holds, at(150), frozenset({HoldReason.WEATHER})) == (60 + 30) * 60
    assert kpi.hold_seconds((), at(10)) == 0
    assert math.isclose(kpi.hold_seconds(holds[:1], at(30)), 30 * 60)
