"""The demo fleet: counts, coverage of every category/priority/clock state, determinism, and
that a broken demo file fails loudly naming the ticket."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from windtui.domain.model import (
    Category,
    ClockState,
    HoldReason,
    Priority,
    Target,
    TicketState,
)
from windtui.domain.sla import compute_clocks
from windtui.errors import WindtuiError
from windtui.services import audit
from windtui.services.demo import demo_dir, load_demo, parse_offset, read_demo, resolve_date
from windtui.services.desk import Desk
from windtui.services.records import TicketSnapshot
from windtui.store.db import database_proxy
from windtui.store.models import (
    ClockOutcome,
    Improvement,
    Review,
    Staff,
    Suggestion,
    Survey,
    TicketOutcome,
)

#: The demo's frozen "now": Tuesday 10 March 2026, 14:00 Beijing time.
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    desk = Desk.open(f"sqlite:///{path}", now=NOW, actor="test")
    summary = load_demo(desk, "en")
    assert summary.tickets == 60
    return desk


def _clock_states(desk: Desk) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    policy = desk.policy()
    for snap in desk.tickets():
        for clock in compute_clocks(
            snap.timeline,
            policy,
            farm_tz=snap.farm_timezone,
            farm_calendar=snap.farm_calendar,
            now=NOW,
        ):
            found[(clock.state.value, clock.hold_reason.value if clock.hold_reason else "")] += 1
    return found


def test_counts(demo_desk: Desk) -> None:
    assert len(demo_desk.farms()) == 8
    assert len(demo_desk.turbines()) == 312
    assert sum(f.turbine_count for f in demo_desk.farms()) == 312
    assert len(demo_desk.tickets(include_closed=True)) == 60
    assert {f.code for f in demo_desk.farms()} == {
        "DBC",
        "YMN",
        "HTX",
        "ZBE",
        "RDG",
        "DHQ",
        "YJS",
        "PTN",
    }
    data = read_demo(NOW)
    assert len(data.staff) == 25
    roles = Counter(r for s in data.staff for r in s.roles)
    assert roles["technician"] >= 18 and roles["admin"] == 1 and 1 <= roles["qa"] <= 2
    assert roles["dispatcher"] >= 2


def test_every_category_priority_and_state_is_present(demo_desk: Desk) -> None:
    tickets = demo_desk.tickets(include_closed=True)
    assert {t.category for t in tickets} == set(Category)
    assert {t.priority for t in tickets} == set(Priority)
    assert {t.state for t in tickets} == set(TicketState)
    assert {t.hold for t in tickets if t.hold} == set(HoldReason)
    categories = Counter(t.category for t in tickets)
    assert categories[Category.FAULT] == 30


def test_live_clocks_breached_at_risk_and_paused_on_weather(demo_desk: Desk) -> None:
    states = _clock_states(demo_desk)
    assert states[(ClockState.BREACHED.value, "")] >= 1
    assert states[(ClockState.AT_RISK.value, "")] >= 1
    assert states[(ClockState.MET.value, "")] >= 1
    assert states[(ClockState.PAUSED.value, HoldReason.WEATHER.value)] >= 1


def test_every_ticket_has_an_event_log_with_evidence_for_holds(demo_desk: Desk) -> None:
    for snap in demo_desk.tickets(include_closed=True):
        detail = demo_desk.detail(snap.number)
        assert detail.events[0].action == "create"
        for hold in detail.holds:
            assert hold.evidence.strip()
    weather = demo_desk.detail(1030)  # DBC-A07, the hub-entry wind hold
    assert "14.2 m/s" in weather.holds[0].evidence
    actors = {e.actor for s in (1030, 1058) for e in demo_desk.detail(s).events}
    assert {"wangjg", "luog"} <= actors  # dispatcher and technician, not the loader's login


def test_deterministic_for_a_frozen_now(tmp_path: Path, demo_desk: Desk) -> None:
    other = Desk.open(f"sqlite:///{tmp_path / 'again.db'}", now=NOW, actor="test")
    load_demo(other, "en")

    def fingerprint(desk: Desk) -> list[object]:
        return [
            (t.number, t.state, t.owner, t.hold, t.timeline)
            for t in desk.tickets(include_closed=True)
        ]

    assert fingerprint(other) == fingerprint(demo_desk)


def test_chinese_demo_loads_chinese_titles(tmp_path: Path) -> None:
    desk = Desk.open(f"sqlite:///{tmp_path / 'zh.db'}", now=NOW, actor="test")
    load_demo(desk, "zh_CN")
    title = desk.ticket(1030).title
    assert "变桨" in title
    assert "机舱" in desk.detail(1030).holds[0].evidence


def test_relative_dates_follow_now() -> None:
    data = read_demo(NOW)
    zbe = next(t for t in data.turbines if t.id == "ZBE-A01")
    assert zbe.warranty_end == (NOW + timedelta(days=90)).date()
    assert all(t.received <= NOW for t in data.tickets)
    assert all(s.at <= NOW for t in data.tickets for s in t.steps)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("-3h20m", -12_000), ("+90d", 90 * 86_400), ("45m", 2_700), ("-1d2h3m4s", -93_784)],
)
def test_parse_offset(text: str, seconds: int) -> None:
    assert parse_offset(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "3x", "-h", "1h-2m", "tomorrow"])
def test_parse_offset_refuses_garbage(text: str) -> None:
    with pytest.raises(WindtuiError, match="relative time"):
        parse_offset(text)


def test_resolve_date_absolute_and_bad() -> None:
    assert str(resolve_date("2015-09-30", NOW)) == "2015-09-30"
    with pytest.raises(WindtuiError, match="2015-13-30"):
        resolve_date("2015-13-30", NOW)


def _copy_demo(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir(), folder)
    return folder


def test_an_illegal_step_fails_loudly_naming_the_ticket(tmp_path: Path) -> None:
    folder = _copy_demo(tmp_path)
    tickets = folder / "tickets.toml"
    text = tickets.read_text("utf-8")
    # The first ticket only has `events = []`: make it arrive without being dispatched.
    text = text.replace("events = []", 'events = [["arrive", "-1h"]]', 1)
    tickets.write_text(text, "utf-8")
    desk = Desk.open(f"sqlite:///{tmp_path / 'bad.db'}", now=NOW, actor="test")
    with pytest.raises(WindtuiError, match=r"demo ticket 1001 .*arrive"):
        load_demo(desk, "en", folder)


def test_unknown_technician_or_turbine_is_named(tmp_path: Path) -> None:
    folder = _copy_demo(tmp_path)
    tickets = folder / "tickets.toml"
    tickets.write_text(
        tickets.read_text("utf-8").replace('tech = "lizq"', 'tech = "nobody"'), "utf-8"
    )
    with pytest.raises(WindtuiError, match="unknown technician nobody"):
        read_demo(NOW, "en", folder)
    fleet = folder / "fleet.toml"
    fleet.write_text(fleet.read_text("utf-8").replace('A07 = "fault"', 'Z99 = "fault"'), "utf-8")
    with pytest.raises(WindtuiError, match="DBC has no turbine Z99"):
        read_demo(NOW, "en", folder)


def test_reference_data_goes_in_all_or_nothing(tmp_path: Path) -> None:
    """A clash half-way through the reference data leaves no farm behind."""
    desk = Desk.open(f"sqlite:///{tmp_path / 'clash.db'}", now=NOW, actor="test")
    desk.add_staff("test", name_zh="测试", name_en="Test", roles=["admin"])
    desk.add_staff("wuh", name_zh="吴昊", name_en="Wu Hao", roles=["technician"])  # demo has wuh
    with pytest.raises(WindtuiError, match="wuh"):
        load_demo(desk, "en")
    assert desk.farms() == []
    assert desk.tickets(include_closed=True) == []


# ---------------------------------------------------------------------------- the year of history
# `windtui demo` adds a year of closed tickets (data/demo/history.toml) written in bulk; the live
# queue must be exactly the one above, and the history must give the KPIs real shapes.

LIVE = range(1001, 1061)


@pytest.fixture(scope="module")
def history_desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    path = tmp_path_factory.mktemp("history") / "history.db"
    desk = Desk.open(f"sqlite:///{path}", now=NOW)  # the OS login: the CLI below opens it too
    summary = load_demo(desk, "en", history=True)
    assert summary.tickets == 60 and summary.history is not None
    assert summary.history.tickets > 0
    return desk


def _history(desk: Desk) -> list[TicketSnapshot]:
    return [t for t in desk.tickets(include_closed=True) if t.number not in LIVE]


def _open_fingerprint(desk: Desk) -> list[object]:
    return [(t.number, t.state, t.owner, t.hold, t.timeline) for t in desk.tickets()]


def test_history_leaves_the_live_queue_alone(history_desk: Desk, demo_desk: Desk) -> None:
    assert _open_fingerprint(history_desk) == _open_fingerprint(demo_desk)
    live = [t for t in history_desk.tickets(include_closed=True) if t.number in LIVE]
    assert [t.timeline for t in live] == [
        t.timeline for t in demo_desk.tickets(include_closed=True)
    ]
    # no turbine is left stopped by the history, no technician is out on a history ticket
    assert {t.status for t in history_desk.turbines()} == {t.status for t in demo_desk.turbines()}
    assert history_desk.technicians() == demo_desk.technicians()


def test_history_is_a_year_of_closed_tickets(history_desk: Desk) -> None:
    past = _history(history_desk)
    assert 2_000 <= len(past) <= 4_000
    assert [t.number for t in past] == list(range(1061, 1061 + len(past)))  # order of receipt
    assert [t.timeline.received_at for t in past] == sorted(t.timeline.received_at for t in past)
    assert {t.state for t in past} == {TicketState.CLOSED, TicketState.CANCELLED}
    assert sum(t.state is TicketState.CANCELLED for t in past) / len(past) < 0.06
    year_ago = NOW - timedelta(days=366)
    for t in past:
        end = t.timeline.closed_at or t.timeline.cancelled_at
        assert end is not None and year_ago <= t.timeline.received_at < end <= NOW
        assert t.hold is None
        assert t.timeline.turbine_stopped_at is None or t.timeline.turbine_restored_at is not None
    months = Counter(
        (t.timeline.closed_at or t.timeline.cancelled_at).strftime("%Y-%m") for t in past
    )
    assert len(months) >= 12 and min(months.values()) >= 30  # every month of the year has work
    assert {t.category for t in past} == set(Category)
    assert {t.priority for t in past} == set(Priority)


def test_every_closed_history_ticket_has_its_outcome_rows(history_desk: Desk) -> None:
    _use(history_desk)
    closed = {
        t.id
        for t in history_desk.tickets(include_closed=True)
        if t.state in (TicketState.CLOSED, TicketState.CANCELLED)
    }
    outcome = {i for (i,) in TicketOutcome.select(TicketOutcome.ticket).tuples()}
    assert outcome == closed
    per_ticket = Counter(i for (i,) in ClockOutcome.select(ClockOutcome.ticket).tuples())
    assert set(per_ticket) == closed and set(per_ticket.values()) == {len(Target)}


def _use(desk: Desk) -> None:
    """Point the models at ``desk``'s database (the module has several desks open)."""
    database_proxy.initialize(desk.db)


def _rate(rows: list[bool | None]) -> float:
    answered = [r for r in rows if r is not None]
    return sum(answered) / len(answered)


def test_history_has_realistic_shares(history_desk: Desk) -> None:
    _use(history_desk)
    rows = list(TicketOutcome.select().where(TicketOutcome.cancelled == False))  # noqa: E712
    assert 0.92 <= _rate([r.fixed for r in rows]) <= 0.98  # the fix rate
    assert 0.72 <= _rate([r.first_time_fix for r in rows]) <= 0.86  # first-time fix, kept apart
    past = {t.id for t in _history(history_desk)}
    assert all(not r.first_time_fix for r in rows if r.reopened and r.ticket_id in past)
    assert 0.01 <= _rate([r.reopened for r in rows]) <= 0.06
    scores = Counter(r.survey_score for r in rows)
    assert set(scores) == {1, 2, 3, 4, 5}
    assert 0.85 <= (scores[4] + scores[5]) / len(rows) < 0.98  # short of the 98 % target
    # every clock is mostly met, and none is always met
    by_target: dict[str, Counter[str]] = {}
    for target, state in ClockOutcome.select(ClockOutcome.target, ClockOutcome.state).tuples():
        by_target.setdefault(target, Counter())[state] += 1
    for target, states in by_target.items():
        judged = states["met"] + states["breached"]
        assert 0.6 <= states["met"] / judged < 1.0, (target, states)
    reviews = Counter(r.outcome for r in Review.select())
    assert reviews["approved"] >= len(rows)  # every closed ticket's report was approved
    assert 0.05 <= reviews["returned"] / len(rows) <= 0.15  # some first returned for rework


def test_low_scores_open_analysis_items_and_qa_owns_improvements(history_desk: Desk) -> None:
    _use(history_desk)
    low = {s.id for s in Survey.select().where(Survey.score <= 2)}
    analysis = list(Improvement.select().where(Improvement.kind == "analysis"))
    assert low and {a.survey_id for a in analysis} == low
    assert "done" in {a.status for a in analysis}  # the old ones analysed, the recent ones not
    assert {a.status for a in analysis} & {"open", "in_progress"}
    actions = list(Improvement.select().where(Improvement.kind == "action"))
    assert {a.category for a in actions} >= {"training", "spare_parts", "response"}
    assert {a.status for a in actions} >= {"open", "in_progress", "done"}
    qa = {s.id for s in Staff.select() if "qa" in s.role_list()}
    assert {a.owner_id for a in actions} <= qa
    assert any(a.parent_id is not None for a in actions)  # an action answers an analysis item
    today = (NOW + timedelta(hours=8)).date()
    assert any(a.status == "open" and a.due < today for a in actions)  # one is overdue


def test_suggestions_register_and_adoption(history_desk: Desk) -> None:
    _use(history_desk)
    rows = list(Suggestion.select())
    assert len(rows) >= 50
    counts = Counter(r.status for r in rows)
    decided = counts["adopted"] + counts["rejected"]
    assert 0.7 <= counts["adopted"] / decided <= 0.9
    assert counts["new"] + counts["evaluating"] >= 1  # the last weeks' are not decided yet
    assert all(r.decided_on is not None for r in rows if r.status in ("adopted", "rejected"))


def test_weather_holds_follow_the_seasons(history_desk: Desk) -> None:
    north, south = {"DBC", "YMN", "HTX", "ZBE"}, {"RDG", "DHQ", "YJS", "PTN"}
    months: dict[str, Counter[int]] = {"north": Counter(), "south": Counter()}
    for t in _history(history_desk):
        for hold in t.timeline.holds:
            assert hold.evidence.strip()
            if hold.reason is HoldReason.WEATHER:
                side = "north" if t.farm in north else "south" if t.farm in south else ""
                months[side][(hold.start + timedelta(hours=8)).month] += 1
    winter = sum(months["north"][m] for m in (11, 12, 1, 2, 3))
    typhoon = sum(months["south"][m] for m in (7, 8, 9))
    assert winter >= 20 and winter == sum(months["north"].values())
    assert typhoon >= 20 and typhoon == sum(months["south"].values())
    reasons = {h.reason for t in _history(history_desk) for h in t.timeline.holds}
    assert reasons == set(HoldReason)


def test_history_keeps_the_audit_chain_intact(history_desk: Desk) -> None:
    report = audit.verify(history_desk)
    assert report.ok, report.message
    first = _history(history_desk)[0].number
    events = history_desk.detail(first).events
    assert events[0].action == "create" and events[-1].action in ("close", "cancel")


def test_kpis_of_the_last_quarters_are_not_empty(
    history_desk: Desk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from windtui import cli
    from windtui.i18n import set_language

    monkeypatch.delenv("WINDTUI_ACTOR", raising=False)
    url = history_desk.db.database
    for quarter in ("2025Q4", "2026Q1"):
        code = cli.main(
            ["--db", f"sqlite:///{url}", "--now", NOW.isoformat(), "--lang", "en", "kpi",
             "--json", "--quarter", quarter]
        )  # fmt: skip
        set_language("en")
        data = json.loads(capsys.readouterr().out)
        assert code == 0
        figures = {f["key"]: f for f in data["figures"]}
        assert figures["closed_tickets"]["value"] >= 200, quarter
        for key in ("fix_rate", "satisfaction_rate", "onsite_compliance", "repair_compliance"):
            assert figures[key]["value"] is not None and figures[key]["count"] > 0, key


def test_history_is_deterministic_and_speaks_the_demo_language(
    tmp_path: Path, history_desk: Desk
) -> None:
    other = Desk.open(f"sqlite:///{tmp_path / 'zh.db'}", now=NOW, actor="test")
    load_demo(other, "zh_CN", history=True)

    def shape(desk: Desk) -> list[object]:
        return [(t.number, t.state, t.owner, t.timeline.received_at, t.timeline.closed_at,
                 len(t.timeline.holds)) for t in _history(desk)]  # fmt: skip

    assert shape(other) == shape(history_desk)
    assert any("变桨" in t.title for t in _history(other))


@pytest.mark.postgres
def test_history_loads_on_postgresql(pg_url: str, history_desk: Desk) -> None:
    """The same history on PostgreSQL: the same tickets, every closed one with its outcomes,
    and an intact audit chain."""
    desk = Desk.open(pg_url, now=NOW, actor="test")
    try:
        load_demo(desk, "en", history=True)
        assert [(t.number, t.state, t.timeline) for t in _history(desk)] == [
            (t.number, t.state, t.timeline) for t in _history(history_desk)
        ]
        _use(desk)
        closed = sum(1 for t in desk.tickets(include_closed=True) if not t.state.is_open)
        assert TicketOutcome.select().count() == closed
        assert ClockOutcome.select().count() == closed * len(Target)
        report = audit.verify(desk)
        assert report.ok, report.message
    finally:
        desk.close()
