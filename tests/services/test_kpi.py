"""KPIs against a hand-computed fixture on both backends: outcomes written at closing, every
figure exact, filters, drill-down, trends, reopen and restore after closing, rebuild under a new
policy, roles. The expected numbers are worked out in the comments of :func:`history`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from windtui.domain import kpi as rules
from windtui.domain.kpi import Status
from windtui.domain.model import Action
from windtui.errors import Forbidden, NotFound, Refused
from windtui.paths import default_policy_path
from windtui.services import kpi, outcomes, quality
from windtui.services.desk import Desk
from windtui.services.records import ReportHoursInput, ReportInput, SuggestionInput
from windtui.store.models import ClockOutcome, TicketOutcome

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the fixtures' frozen now: Mon 10:00 Beijing
Q1 = rules.parse_quarter("2025Q1")
HOUR = 3600.0


def bj(day: str, hhmm: str) -> datetime:
    """A Beijing wall-clock instant as UTC."""
    hh, mm = (int(x) for x in hhmm.split(":"))
    local = datetime.fromisoformat(day).replace(hour=hh, minute=mm)
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


def _report(desk: Desk, number: int, *, fixed: bool, ftf: bool, site: bool = True) -> None:
    quality.write_report(
        desk,
        number,
        ReportInput(
            diagnosis="diagnosis",
            work_done="work done",
            root_cause="root cause" if site else "",
            hours=(ReportHoursInput("wangjg", 2.0),) if site else (),
            fixed=fixed,
            first_time_fix=ftf,
        ),
    )


def _approve(desk: Desk, number: int, at: datetime) -> None:
    """QA approval by someone who did not write the report (separated duties)."""
    who = desk.actor
    if "qalead" not in {person.login for person in desk.staff()}:
        desk.add_staff("qalead", name_zh="质检", name_en="QA Lead", roles=["qa"])
    desk.actor = "qalead"
    try:
        desk.act(number, Action.APPROVE, at=at)
    finally:
        desk.actor = who


def _survey(desk: Desk, number: int, score: int, at: datetime) -> None:
    quality.record_survey(desk, number, score, contacted_at=at)


def history(desk: Desk) -> dict[str, int]:
    """Eight tickets with known times; returns their numbers by name.

    Period 2025Q1 (Beijing), tickets closed in it: T1, T2, T3, T5; cancelled: T4. T6, T7 are
    open; T8 closed in 2024Q4. DBC counts 24x7; DHQ's site clocks count cn-business
    (Mon-Fri 08:30-12:00, 13:30-17:30 Beijing); acknowledge/feedback are always 24x7.

    ============  ======  ========  =========  ========  =======  =======  ========
    clock (s)     T1      T2        T3         T4        T5       met      breached
    ============  ======  ========  =========  ========  =======  =======  ========
    acknowledge   1800    7200 ✗    1200       1800      600      4        1
    feedback      7200    93600 ✗   2400       3600      1800     4        1
    onsite        14400   259200 ✗  n/a        172800 ✗  5400     2        2 (T4 unstopped)
    repair        7200    18000 ✗   n/a        n/a       3600     2        1
    report        57600   25200     1800       n/a       10800    4        0
    review        86400   43200     1800       n/a       3600     4        0
    followup      7200    7200      3600       n/a       3600     4        0
    ============  ======  ========  =========  ========  =======  =======  ========
    """
    n: dict[str, int] = {}
    act = desk.act

    # T1: DBC fault P2 on A07, turbine stopped; a 1 h weather hold before arrival (pauses
    # on-site and repair); restored 10 min after the fix: downtime 7 h 10 m = 25,800 s.
    t1 = n["T1"] = desk.create_ticket(
        farm="DBC",
        turbine="A07",
        category="fault",
        priority="P2",
        title="pitch fault",
        at=bj("2025-02-03", "10:00"),
        turbine_stopped=True,
    ).number
    act(t1, Action.ACK, at=bj("2025-02-03", "10:30"))
    act(t1, Action.FEEDBACK, at=bj("2025-02-03", "12:00"))
    act(t1, Action.DISPATCH, technician="wangjg", at=bj("2025-02-03", "12:10"))
    act(t1, Action.DEPART, at=bj("2025-02-03", "12:20"))
    act(t1, Action.HOLD, reason="weather", evidence="gusts 18 m/s", at=bj("2025-02-03", "12:30"))
    act(t1, Action.RESUME, at=bj("2025-02-03", "13:30"))
    act(t1, Action.ARRIVE, at=bj("2025-02-03", "15:00"))  # 5 h - 1 h hold = 14,400
    act(t1, Action.RESOLVE, at=bj("2025-02-03", "17:00"))  # 7,200
    act(t1, Action.RESTORE, at=bj("2025-02-03", "17:10"))
    _report(desk, t1, fixed=True, ftf=True)
    act(t1, Action.SUBMIT, at=bj("2025-02-04", "09:00"))  # 16 h
    _approve(desk, t1, bj("2025-02-05", "09:00"))  # 24 h
    _survey(desk, t1, 5, bj("2025-02-05", "10:00"))
    act(t1, Action.FOLLOWUP, at=bj("2025-02-05", "11:00"))  # 2 h
    act(t1, Action.CLOSE, at=bj("2025-02-05", "12:00"))

    # T2: DBC fault P2, lihua, late on every desk and site clock.
    t2 = n["T2"] = desk.create_ticket(
        farm="DBC", category="fault", priority="P2", title="converter", at=bj("2025-02-10", "08:00")
    ).number
    act(t2, Action.ACK, at=bj("2025-02-10", "10:00"))  # 2 h > 1 h
    act(t2, Action.FEEDBACK, at=bj("2025-02-11", "10:00"))  # 26 h > 24 h
    act(t2, Action.DISPATCH, technician="lihua", at=bj("2025-02-12", "08:00"))
    act(t2, Action.DEPART, at=bj("2025-02-12", "09:00"))
    act(t2, Action.ARRIVE, at=bj("2025-02-13", "08:00"))  # 72 h > 48 h
    act(t2, Action.RESOLVE, at=bj("2025-02-13", "13:00"))  # 5 h > 2.5 h
    _report(desk, t2, fixed=True, ftf=False)
    act(t2, Action.SUBMIT, at=bj("2025-02-13", "20:00"))  # 7 h
    _approve(desk, t2, bj("2025-02-14", "08:00"))  # 12 h
    _survey(desk, t2, 3, bj("2025-02-14", "09:00"))
    act(t2, Action.FOLLOWUP, at=bj("2025-02-14", "10:00"))  # 2 h
    act(t2, Action.CLOSE, at=bj("2025-02-14", "11:00"))

    # T3: DBC consulting P4: no site visit, not fixed.
    t3 = n["T3"] = desk.create_ticket(
        farm="DBC",
        category="consulting",
        priority="P4",
        title="query",
        at=bj("2025-01-06", "09:00"),
    ).number
    act(t3, Action.ACK, at=bj("2025-01-06", "09:20"))
    act(t3, Action.FEEDBACK, at=bj("2025-01-06", "09:40"))
    act(t3, Action.RESOLVE, at=bj("2025-01-06", "11:00"))
    _report(desk, t3, fixed=False, ftf=False, site=False)
    act(t3, Action.SUBMIT, at=bj("2025-01-06", "11:30"))
    _approve(desk, t3, bj("2025-01-06", "12:00"))
    _survey(desk, t3, 4, bj("2025-01-06", "12:30"))
    act(t3, Action.FOLLOWUP, at=bj("2025-01-06", "13:00"))
    act(t3, Action.CLOSE, at=bj("2025-01-06", "13:30"))

    # T4: DBC fault P1 on B05, turbine stopped; cancelled 48 h later with the on-site clock
    # (24 h for P1) overdue: breached, never stopped. Restored a day after the cancellation:
    # the outcome is rewritten with 72 h of downtime.
    t4 = n["T4"] = desk.create_ticket(
        farm="DBC",
        turbine="B05",
        category="fault",
        priority="P1",
        title="string down",
        at=bj("2025-01-20", "08:00"),
        turbine_stopped=True,
    ).number
    act(t4, Action.ACK, at=bj("2025-01-20", "08:30"))
    act(t4, Action.FEEDBACK, at=bj("2025-01-20", "09:00"))
    act(t4, Action.CANCEL, reason="duplicate of a grid ticket", at=bj("2025-01-22", "08:00"))
    act(t4, Action.RESTORE, at=bj("2025-01-23", "08:00"))

    # T5: DHQ fault P3 on 01 (cn-business), zhaom (team LGG), reopened once.
    t5 = n["T5"] = desk.create_ticket(
        farm="DHQ",
        turbine="01",
        category="fault",
        priority="P3",
        title="yaw",
        at=bj("2025-02-21", "16:30"),  # a Friday
    ).number
    act(t5, Action.ACK, at=bj("2025-02-21", "16:40"))  # 600 (24x7)
    act(t5, Action.FEEDBACK, at=bj("2025-02-21", "17:00"))  # 1,800
    act(t5, Action.DISPATCH, technician="zhaom", at=bj("2025-02-21", "17:10"))
    act(t5, Action.DEPART, at=bj("2025-02-24", "08:00"))
    act(t5, Action.ARRIVE, at=bj("2025-02-24", "09:30"))
    act(t5, Action.RESOLVE, at=bj("2025-02-24", "10:00"))
    act(t5, Action.REOPEN, reason="fault back", at=bj("2025-02-24", "11:00"))
    act(t5, Action.DISPATCH, technician="zhaom", at=bj("2025-02-24", "11:05"))
    act(t5, Action.DEPART, at=bj("2025-02-24", "11:10"))
    # on site from the reopen: 11:00-12:00 + 13:30-14:00 = 5,400 business seconds
    act(t5, Action.ARRIVE, at=bj("2025-02-24", "14:00"))
    act(t5, Action.RESOLVE, at=bj("2025-02-24", "15:00"))  # 3,600
    _report(desk, t5, fixed=True, ftf=False)
    # report: Mon 15:00-17:30 + Tue 08:30-09:00 = 10,800 business seconds
    act(t5, Action.SUBMIT, at=bj("2025-02-25", "09:00"))
    _approve(desk, t5, bj("2025-02-25", "10:00"))  # 3,600
    _survey(desk, t5, 2, bj("2025-02-25", "10:30"))
    act(t5, Action.FOLLOWUP, at=bj("2025-02-25", "11:00"))  # 3,600
    act(t5, Action.CLOSE, at=bj("2025-02-25", "11:30"))

    # T6: DBC maintenance P4 on A01, turbine stopped, still open: 5 days of planned downtime
    # (excluded from availability) up to now.
    n["T6"] = desk.create_ticket(
        farm="DBC",
        turbine="A01",
        category="maintenance",
        priority="P4",
        title="half-year service",
        at=bj("2025-02-26", "10:00"),
        turbine_stopped=True,
    ).number
    # T7: DBC fault P2 on A07, turbine stopped, open: 24 h of counted downtime up to now.
    n["T7"] = desk.create_ticket(
        farm="DBC",
        turbine="A07",
        category="fault",
        priority="P2",
        title="gearbox",
        at=bj("2025-03-02", "10:00"),
        turbine_stopped=True,
    ).number
    # T8: closed on the last evening of 2024Q4: outside the period.
    t8 = n["T8"] = desk.create_ticket(
        farm="DBC", category="consulting", priority="P4", title="old", at=bj("2024-12-31", "18:00")
    ).number
    act(t8, Action.ACK, at=bj("2024-12-31", "18:10"))
    act(t8, Action.FEEDBACK, at=bj("2024-12-31", "18:20"))
    act(t8, Action.RESOLVE, at=bj("2024-12-31", "19:00"))
    _report(desk, t8, fixed=True, ftf=True, site=False)
    act(t8, Action.SUBMIT, at=bj("2024-12-31", "19:10"))
    _approve(desk, t8, bj("2024-12-31", "19:20"))
    _survey(desk, t8, 1, bj("2024-12-31", "19:30"))
    act(t8, Action.FOLLOWUP, at=bj("2024-12-31", "19:40"))
    act(t8, Action.CLOSE, at=bj("2024-12-31", "23:59"))

    # Suggestions received in Q1: adopted (from T1), rejected (from T2), adopted, still new;
    # and one from 2024 (outside).
    for ticket, day, status in (
        (t1, date(2025, 1, 10), "adopted"),
        (t2, date(2025, 2, 15), "rejected"),
        (None, date(2025, 2, 20), "adopted"),
        (None, date(2025, 3, 1), None),
        (None, date(2024, 11, 1), "adopted"),
    ):
        item = quality.add_suggestion(
            desk,
            SuggestionInput(
                source="survey",
                text="more spare parts at the depot",
                received_on=day,
                farm="DBC",
                ticket=ticket,
            ),
        )
        if status is not None:
            quality.set_suggestion_status(desk, item.id, status, on=day)
    return n


@pytest.fixture
def fixture(any_desk: Desk) -> tuple[Desk, dict[str, int]]:
    return any_desk, history(any_desk)


def values(report: kpi.KpiReport) -> dict[str, tuple[float | None, int, int | None]]:
    return {f.key: (f.value, f.count, f.missed) for f in report.figures}


# Availability: the period up to now is 2024-12-31 16:00 UTC .. 2025-03-03 02:00 UTC.
SPAN = (61 * 24 + 10) * HOUR
DBC_COUNTED = 25_800 + 259_200 + 86_400  # T1, T4, T7
DBC_PLANNED = 432_000  # T6


def test_every_figure_matches_the_hand_computed_fixture(fixture) -> None:
    desk, _n = fixture
    report = kpi.kpis(desk, Q1)
    got = values(report)
    expected = {
        "acknowledge_compliance": (4 / 5, 5, 1),
        "feedback_compliance": (4 / 5, 5, 1),
        "onsite_compliance": (2 / 4, 4, 2),
        "repair_compliance": (2 / 3, 3, 1),
        "report_compliance": (1.0, 4, 0),
        "review_compliance": (1.0, 4, 0),
        "followup_compliance": (1.0, 4, 0),
        "acknowledge_mean": (12_600 / 5, 5, 1),
        "acknowledge_p90": (7_200.0, 5, 1),
        "feedback_mean": (108_600 / 5, 5, 1),
        "feedback_p90": (93_600.0, 5, 1),
        "onsite_mean": (279_000 / 3, 3, 1),  # T4 never arrived: not a response time
        "onsite_p90": (259_200.0, 3, 1),
        "repair_mean": (28_800 / 3, 3, 1),
        "fix_rate": (3 / 4, 4, 1),
        "first_time_fix_rate": (1 / 4, 4, 3),
        "reopen_rate": (1 / 4, 4, 1),
        "satisfaction_rate": (2 / 4, 4, 2),
        "suggestion_adoption": (2 / 3, 3, 1),
        "availability": (1 - DBC_COUNTED / (5 * SPAN), 4, None),
        "downtime_hours": (round((DBC_COUNTED + DBC_PLANNED) / HOUR, 6), 4, None),
        "weather_hold_hours": (1.0, 1, None),
        "hold_hours": (1.0, 1, None),
        "closed_tickets": (4, 4, None),
        "cancelled_tickets": (1, 1, None),
    }
    assert set(got) == set(expected) == set(rules.DEFINITIONS)
    for key, (value, count, missed) in expected.items():
        assert got[key][1:] == (count, missed), key
        assert got[key][0] == pytest.approx(value, rel=1e-12, abs=1e-9), key
    assert report.scores == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}
    assert report.suggestions == kpi.SuggestionCounts(received=4, adopted=2, rejected=1, pending=1)
    assert report.stale == 0


def test_targets_and_statuses(fixture) -> None:
    desk, _n = fixture
    report = kpi.kpis(desk, Q1)
    by = {f.key: f for f in report.figures}
    assert by["acknowledge_compliance"].target == 0.95
    assert by["acknowledge_compliance"].status is Status.MISSED  # 80 % < 90 %
    assert by["acknowledge_compliance"].clock_targets == (HOUR, HOUR)
    # on-site limits of the clocks counted: P1 24 h (T4) .. P2/P3 48 h
    assert by["onsite_compliance"].clock_targets == (24 * HOUR, 48 * HOUR)
    assert by["acknowledge_mean"].target == HOUR and by["acknowledge_mean"].status is Status.MET
    assert by["acknowledge_p90"].status is Status.MISSED  # 2 h > 1.25 h
    assert by["repair_mean"].target == 9_000.0
    assert by["repair_mean"].status is Status.AT_RISK  # 9,600 s within 125 % of 2.5 h
    assert by["fix_rate"].status is Status.MISSED
    assert by["satisfaction_rate"].target == 0.98
    assert by["suggestion_adoption"].status is Status.MISSED  # 66.7 % < 70 %
    assert by["availability"].status is Status.MET
    assert by["closed_tickets"].status is Status.INFO and by["closed_tickets"].target is None
    farms = {a.farm: a for a in report.farms}
    assert farms["DBC"].turbines == 3 and farms["DHQ"].turbines == 2
    assert farms["DBC"].downtime_hours == round(DBC_COUNTED / HOUR, 6)
    assert farms["DBC"].excluded_hours == round(DBC_PLANNED / HOUR, 6)
    assert farms["DBC"].availability == pytest.approx(1 - DBC_COUNTED / (3 * SPAN))
    assert farms["DBC"].tickets == 4
    assert farms["DHQ"].availability == 1.0 and farms["DHQ"].tickets == 0
    assert farms["DBC"].period_hours == SPAN / HOUR


def test_outcome_rows_frozen_at_closing(fixture) -> None:
    desk, n = fixture
    ids = {name: desk.ticket(number).id for name, number in n.items()}
    t1 = TicketOutcome.get(TicketOutcome.ticket == ids["T1"])
    assert (t1.repair_seconds, t1.weather_hold_seconds, t1.hold_seconds) == (7200, 3600, 3600)
    assert t1.downtime_seconds == 25_800 and t1.down_end - t1.down_start == 25_800
    assert (t1.fixed, t1.first_time_fix, t1.survey_score, t1.team) == (True, True, 5, "URC")
    assert t1.customer is not None and t1.customer.code == "HNR"
    onsite = ClockOutcome.get(ClockOutcome.ticket == ids["T1"], ClockOutcome.target == "onsite")
    assert (onsite.state, onsite.elapsed_seconds, onsite.paused_seconds) == ("met", 14_400, 3_600)
    assert onsite.stopped and onsite.target_seconds == 48 * HOUR
    # T4: restored after the cancellation, so the row was rewritten with the whole stop.
    t4 = TicketOutcome.get(TicketOutcome.ticket == ids["T4"])
    assert t4.cancelled and t4.downtime_seconds == 72 * HOUR
    c4 = ClockOutcome.get(ClockOutcome.ticket == ids["T4"], ClockOutcome.target == "onsite")
    assert (c4.state, c4.stopped, c4.elapsed_seconds) == ("breached", False, 48 * HOUR)
    r4 = ClockOutcome.get(ClockOutcome.ticket == ids["T4"], ClockOutcome.target == "repair")
    assert (r4.state, r4.elapsed_seconds) == ("not_applicable", None)
    t5 = TicketOutcome.get(TicketOutcome.ticket == ids["T5"])
    assert t5.reopened and t5.team == "LGG" and t5.customer is None
    c5 = ClockOutcome.get(ClockOutcome.ticket == ids["T5"], ClockOutcome.target == "report")
    assert c5.elapsed_seconds == 10_800  # business time on cn-business
    assert not TicketOutcome.select().where(TicketOutcome.ticket == ids["T6"]).exists()
    assert ClockOutcome.select().count() == 7 * TicketOutcome.select().count() == 7 * 6


@pytest.mark.parametrize(
    ("filters", "closed", "cancelled", "ack"),
    [
        (kpi.Filters(farm="DHQ"), 1, 0, (1.0, 1)),
        (kpi.Filters(customer="HNR"), 3, 1, (3 / 4, 4)),
        (kpi.Filters(technician="lihua"), 1, 0, (0.0, 1)),
        (kpi.Filters(team="LGG"), 1, 0, (1.0, 1)),
        (kpi.Filters(team="URC"), 2, 0, (1 / 2, 2)),
        (kpi.Filters(category="consulting"), 1, 0, (1.0, 1)),
        (kpi.Filters(priority="P1"), 0, 1, (1.0, 1)),
        (kpi.Filters(farm="DBC", priority="P2"), 2, 0, (1 / 2, 2)),
    ],
)
def test_filters(fixture, filters, closed, cancelled, ack) -> None:
    desk, _n = fixture
    got = values(kpi.kpis(desk, Q1, filters))
    assert got["closed_tickets"][0] == closed
    assert got["cancelled_tickets"][0] == cancelled
    assert got["acknowledge_compliance"][:2] == ack


def test_availability_honours_farm_filters_only(fixture) -> None:
    desk, _n = fixture
    dhq = kpi.kpis(desk, Q1, kpi.Filters(farm="DHQ"))
    assert [a.farm for a in dhq.farms] == ["DHQ"]
    assert dhq.figure("availability").value == 1.0
    hnr = kpi.kpis(desk, Q1, kpi.Filters(customer="HNR"))
    assert [a.farm for a in hnr.farms] == ["DBC"]
    assert hnr.figure("availability").value == pytest.approx(1 - DBC_COUNTED / (3 * SPAN))
    # a ticket filter leaves availability alone: it is about the farms' turbines
    p2 = kpi.kpis(desk, Q1, kpi.Filters(priority="P2"))
    assert p2.figure("availability").value == kpi.kpis(desk, Q1).figure("availability").value


def test_drill_down_lists_the_tickets_behind_a_figure(fixture) -> None:
    desk, n = fixture

    def tickets(figure: str, **filters: str) -> list[int]:
        return kpi.kpi_tickets(desk, figure, kpi.Filters(**filters), Q1)

    assert tickets("onsite_compliance") == sorted([n["T1"], n["T2"], n["T4"], n["T5"]])
    assert tickets("onsite_compliance:missed") == sorted([n["T2"], n["T4"]])
    assert tickets("onsite_mean") == sorted([n["T1"], n["T2"], n["T5"]])
    assert tickets("onsite_p90:missed") == [n["T2"]]
    assert tickets("acknowledge_compliance:missed") == [n["T2"]]
    assert tickets("fix_rate:missed") == [n["T3"]]
    assert tickets("first_time_fix_rate:missed") == sorted([n["T2"], n["T3"], n["T5"]])
    assert tickets("reopen_rate:missed") == [n["T5"]]
    assert tickets("satisfaction_rate:missed") == sorted([n["T2"], n["T5"]])
    assert tickets("weather_hold_hours") == [n["T1"]]
    assert tickets("closed_tickets") == sorted([n["T1"], n["T2"], n["T3"], n["T5"]])
    assert tickets("cancelled_tickets") == [n["T4"]]
    assert tickets("suggestion_adoption") == sorted([n["T1"], n["T2"]])
    assert tickets("suggestion_adoption:missed") == [n["T2"]]
    assert tickets("downtime_hours") == sorted([n["T1"], n["T4"], n["T6"], n["T7"]])
    assert tickets("availability:missed") == sorted([n["T1"], n["T4"], n["T7"]])
    assert tickets("availability", farm="DHQ") == []
    assert tickets("onsite_compliance:missed", technician="lihua") == [n["T2"]]
    # every figure's count is the number of tickets behind it (one clock per ticket)
    report = kpi.kpis(desk, Q1)
    for figure in report.figures:
        if figure.key == "suggestion_adoption":  # suggestions need not come from a ticket
            continue
        behind = tickets(figure.key)
        assert len(behind) == figure.count, figure.key
        if figure.missed is not None:
            assert len(tickets(figure.key + ":missed")) == figure.missed, figure.key


def test_trend_per_month(fixture) -> None:
    desk, _n = fixture
    trend = kpi.trend(desk, Q1, every="month")
    assert [b.label for b in trend.buckets] == ["2025-01", "2025-02", "2025-03"]
    assert trend.series["closed_tickets"] == (1, 3, 0)
    assert trend.series["cancelled_tickets"] == (1, 0, 0)
    assert trend.series["acknowledge_compliance"] == (1.0, 2 / 3, None)
    assert trend.counts["acknowledge_compliance"] == (2, 3, 0)
    assert trend.series["onsite_compliance"] == (0.0, 2 / 3, None)  # T4 in January
    assert trend.series["onsite_mean"] == (None, 279_000 / 3, None)
    assert trend.series["satisfaction_rate"] == (1.0, 1 / 3, None)
    assert trend.series["weather_hold_hours"] == (0.0, 1.0, None)
    weekly = kpi.trend(desk, Q1, every="week")
    assert weekly.buckets[0].label == "2025-W01" and weekly.buckets[-1].label == "2025-W14"
    assert sum(weekly.series["closed_tickets"]) == 4
    # the buckets add up to the period's figures
    report = kpi.kpis(desk, Q1)
    assert sum(trend.counts["onsite_compliance"]) == report.figure("onsite_compliance").count


def test_one_pass_for_the_screen_gives_the_same_figures_and_trend(fixture) -> None:
    desk, _n = fixture
    for every in ("week", "month"):
        screen = kpi.kpis(desk, Q1, every=every)
        assert values(screen) == values(kpi.kpis(desk, Q1))
        assert screen.trend == kpi.trend(desk, Q1, every=every)
    assert kpi.kpis(desk, Q1).trend is None


def test_reopen_drops_the_outcome_and_the_next_close_writes_it_again(any_desk: Desk) -> None:
    desk = any_desk
    start = NOW - timedelta(days=3)
    number = desk.create_ticket(
        farm="DBC", category="consulting", priority="P4", title="q", at=start
    ).number
    at = iter(start + timedelta(minutes=10 * i) for i in range(1, 30))
    for action in (Action.ACK, Action.FEEDBACK, Action.RESOLVE):
        desk.act(number, action, at=next(at))
    _report(desk, number, fixed=True, ftf=True, site=False)
    desk.act(number, Action.SUBMIT, at=next(at))
    _approve(desk, number, next(at))
    _survey(desk, number, 5, next(at))
    desk.act(number, Action.FOLLOWUP, at=next(at))
    desk.act(number, Action.CLOSE, at=next(at))
    ticket_id = desk.ticket(number).id
    assert TicketOutcome.select().where(TicketOutcome.ticket == ticket_id).count() == 1
    desk.act(number, Action.REOPEN, reason="customer called back", at=next(at))
    assert not TicketOutcome.select().where(TicketOutcome.ticket == ticket_id).exists()
    assert not ClockOutcome.select().where(ClockOutcome.ticket == ticket_id).exists()
    desk.act(number, Action.RESOLVE, at=next(at))
    _report(desk, number, fixed=True, ftf=False, site=False)
    desk.act(number, Action.SUBMIT, at=next(at))
    _approve(desk, number, next(at))
    _survey(desk, number, 4, next(at))
    desk.act(number, Action.FOLLOWUP, at=next(at))
    desk.act(number, Action.CLOSE, at=next(at))
    row = TicketOutcome.get(TicketOutcome.ticket == ticket_id)
    assert row.reopened and row.first_time_fix is False and row.survey_score == 4
    assert ClockOutcome.select().where(ClockOutcome.ticket == ticket_id).count() == 7


def test_rebuild_judges_again_under_a_new_policy(fixture, tmp_path: Path) -> None:
    desk, _n = fixture
    before = kpi.kpis(desk, Q1)
    assert outcomes.rebuild_outcomes(desk) == 6  # T1-T5 and T8
    assert values(kpi.kpis(desk, Q1)) == values(before)
    # A policy giving acknowledgement two hours: T2's 2 h acknowledgement is met once rebuilt.
    text = default_policy_path().read_text("utf-8")
    assert 'acknowledge = "1h"' in text
    policy = tmp_path / "policy.toml"
    policy.write_text(text.replace('acknowledge = "1h"', 'acknowledge = "2h"'), "utf-8")
    desk.load_policy_file(policy)
    stale = kpi.kpis(desk, Q1)
    assert stale.stale == 5 and stale.figure("acknowledge_compliance").value == 4 / 5
    outcomes.rebuild_outcomes(desk)
    fresh = kpi.kpis(desk, Q1)
    assert fresh.stale == 0
    assert fresh.figure("acknowledge_compliance").value == 1.0
    assert fresh.figure("acknowledge_mean").target == 2 * HOUR


def test_a_quality_correction_after_closing_is_picked_up_by_refresh(fixture) -> None:
    desk, n = fixture
    ticket_id = desk.ticket(n["T2"]).id
    TicketOutcome.update(survey_score=None).where(TicketOutcome.ticket == ticket_id).execute()
    assert kpi.kpis(desk, Q1).figure("satisfaction_rate").count == 3
    with desk.batch():
        assert outcomes.refresh_outcome(desk, ticket_id)
        assert not outcomes.refresh_outcome(desk, desk.ticket(n["T6"]).id)  # open
    assert kpi.kpis(desk, Q1).figure("satisfaction_rate").count == 4


def test_periods_and_empty_ones(fixture) -> None:
    desk, _n = fixture
    q4 = kpi.kpis(desk, rules.parse_quarter("2024Q4"))
    assert q4.figure("closed_tickets").value == 1
    assert q4.figure("satisfaction_rate").value == 0.0  # T8 scored 1
    future = kpi.kpis(desk, rules.parse_quarter("2025Q3"))
    assert future.figure("closed_tickets").value == 0
    assert future.figure("acknowledge_compliance").status is Status.NO_DATA
    assert future.figure("acknowledge_p90").value is None
    assert future.figure("availability").value is None  # no time has passed in it yet
    assert all(f.count == 0 for f in future.figures)
    feb = kpi.kpis(desk, rules.days(date(2025, 2, 1), date(2025, 2, 28)))
    assert feb.figure("closed_tickets").value == 3


def test_unknown_names_are_refused(fixture) -> None:
    desk, _n = fixture
    with pytest.raises(NotFound, match="farm NOPE"):
        kpi.kpis(desk, Q1, kpi.Filters(farm="NOPE"))
    with pytest.raises(NotFound, match="customer"):
        kpi.kpis(desk, Q1, kpi.Filters(customer="NOPE"))
    with pytest.raises(NotFound, match="technician"):
        kpi.kpis(desk, Q1, kpi.Filters(technician="nobody"))
    with pytest.raises(NotFound, match="team"):
        kpi.kpis(desk, Q1, kpi.Filters(team="XYZ"))
    with pytest.raises(Refused, match="category"):
        kpi.kpis(desk, Q1, kpi.Filters(category="magic"))
    with pytest.raises(Refused, match="priority"):
        kpi.kpis(desk, Q1, kpi.Filters(priority="P9"))
    with pytest.raises(rules.UnknownFigure):
        kpi.kpi_tickets(desk, "happiness", period=Q1)


def test_roles(fixture, backend_url: str) -> None:
    desk, _n = fixture
    desk.add_staff("vera", name_zh="维拉", name_en="Vera", roles=["viewer"])
    viewer = Desk.open(backend_url, now=NOW, actor="vera")
    try:
        assert kpi.kpis(viewer, Q1).figure("closed_tickets").value == 4
        with pytest.raises(Forbidden):
            outcomes.rebuild_outcomes(viewer)
    finally:
        viewer.close()
    technician = Desk.open(backend_url, now=NOW, actor="wangjg")
    try:
        with pytest.raises(Forbidden, match="KPI"):
            kpi.kpis(technician, Q1)
        with pytest.raises(Forbidden):
            kpi.kpi_tickets(technician, "closed_tickets", period=Q1)
    finally:
        technician.close()


def test_report_dict_is_plain_json(fixture) -> None:
    import json

    desk, _n = fixture
    report = kpi.kpis(desk, Q1, kpi.Filters(farm="DBC"))
    data = kpi.report_dict(kpi.kpis(desk, Q1, kpi.Filters(farm="DBC"), every="month"))
    again = json.loads(json.dumps(data))
    assert again["period"] == {
        "label": "2025Q1",
        "from": "2025-01-01",
        "to": "2025-03-31",
        "timezone": "Asia/Shanghai",
        "start": "2024-12-31T16:00:00+00:00",
        "end": "2025-03-31T16:00:00+00:00",
    }
    assert again["filters"] == {"farm": "DBC"}
    assert [f["key"] for f in again["figures"]] == list(rules.DEFINITIONS)
    assert again["trend"]["series"]["closed_tickets"] == [1, 2, 0]
    assert dataclasses.is_dataclass(report)


def test_kpi_benchmark_runs_end_to_end_on_a_small_history(monkeypatch, tmp_path) -> None:
    """Figures only (never timed in tests): a small history on SQLite; PostgreSQL skipped."""
    from windtui.benchmarks import kpi as bench
    from windtui.benchmarks import registry

    monkeypatch.setattr(bench, "TICKETS", 3_000)
    monkeypatch.setattr(bench, "OPEN_TICKETS", 100)
    monkeypatch.setattr(bench, "SUGGESTIONS", 50)
    monkeypatch.setattr(bench, "RUNS", 1)
    monkeypatch.setattr(bench, "PG_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    figures = bench.bench_kpi()
    names = [f.name for f in figures]
    assert names[:5] == [
        "kpi_history_1m_sqlite_s",
        "kpi_quarter_sqlite_ms",
        "kpi_screen_sqlite_ms",
        "kpi_farm_sqlite_ms",
        "kpi_drill_sqlite_ms",
    ]
    assert all(f.skipped is None and f.value > 0 for f in figures[:5])
    assert all(f.skipped and f.ok for f in figures[5:]) and len(figures) == 10
    again = bench.bench_kpi()  # the cached history is reused: its generation is not re-timed
    assert again[0].value == figures[0].value and "cached" in (again[0].skipped or "")
    assert again[1].skipped is None
    assert registry()["kpi"] is bench.bench_kpi
