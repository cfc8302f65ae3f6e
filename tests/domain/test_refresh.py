"""The SLA board: incremental counts, once-only alerts, replanning, next due and nearest clocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windtui.benchmarks.sla import synthetic_tickets
from windtui.domain.model import (
    Category,
    Clock,
    ClockState,
    HoldReason,
    HoldSpan,
    Priority,
    Target,
    Timeline,
)
from windtui.domain.policy import DEFAULT_POLICY_PATH, load_policy, load_policy_file
from windtui.domain.refresh import BoardCounts, SlaBoard
from windtui.domain.sla import compute_clocks
from windtui.errors import NotFound

H = 3600.0
POLICY = load_policy_file()
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def ticket(**fields: object) -> Timeline:
    base: dict[str, object] = {"category": Category.FAULT, "priority": Priority.P3}
    base.update(fields)
    return Timeline(**base)  # type: ignore[arg-type]


def board_with(*timelines: Timeline) -> SlaBoard:
    board = SlaBoard(POLICY)
    for i, tl in enumerate(timelines, start=1):
        board.upsert(i, 1, tl, farm_tz="Asia/Shanghai", farm_calendar="24x7")
    return board


def test_counts_after_refresh() -> None:
    board = board_with(
        ticket(received_at=hours(0)),  # ack at risk at 0.8 h
        ticket(received_at=hours(-5)),  # ack breached
        ticket(received_at=hours(0), acknowledged_at=hours(0.1)),  # fine
        ticket(received_at=hours(0), holds=(HoldSpan(HoldReason.WEATHER, hours(0.2)),)),
        ticket(received_at=hours(-1), cancelled_at=hours(0)),  # not open
    )
    board.refresh(hours(0.8))
    assert board.counts == BoardCounts(open=4, at_risk=2, breached=1, on_hold=1)
    board.remove(2)
    assert board.counts == BoardCounts(open=3, at_risk=2, breached=0, on_hold=1)


def test_alerts_once_when_entering_at_risk_and_breached() -> None:
    board = board_with(ticket(received_at=hours(0)))
    assert board.refresh(hours(0.1)).alerts == []
    assert board.refresh(hours(0.76)).alerts == [(1, Target.ACKNOWLEDGE, ClockState.AT_RISK)]
    assert board.refresh(hours(0.9)).alerts == []
    assert board.refresh(hours(1.0)).alerts == [(1, Target.ACKNOWLEDGE, ClockState.BREACHED)]
    assert board.refresh(hours(2)).alerts == []
    assert board.counts.breached == 1 and board.counts.at_risk == 0


def test_jump_past_due_reports_only_the_breach() -> None:
    board = board_with(ticket(received_at=hours(0)))
    board.refresh(hours(0.1))
    assert board.refresh(hours(5)).alerts == [(1, Target.ACKNOWLEDGE, ClockState.BREACHED)]


def test_start_up_does_not_toast_old_breaches() -> None:
    board = board_with(*(ticket(received_at=hours(-100)) for _ in range(50)))
    result = board.refresh(hours(0))
    assert result.alerts == []
    assert board.counts.breached == 50


def test_upsert_replans_only_on_a_new_version() -> None:
    board = board_with(ticket(received_at=hours(0)))
    board.refresh(hours(0.1))
    acked = ticket(received_at=hours(0), acknowledged_at=hours(0.2))
    board.upsert(1, 1, acked, farm_tz="Asia/Shanghai", farm_calendar="24x7")  # same version
    assert board.clocks(1, hours(0.3))[0].state is ClockState.RUNNING
    board.upsert(1, 2, acked, farm_tz="Asia/Shanghai", farm_calendar="24x7")
    assert board.clocks(1, hours(0.3))[0].state is ClockState.MET
    assert board.refresh(hours(2)).alerts == []  # a met clock never alerts


def test_priority_raise_that_breaches_alerts_once() -> None:
    tl = ticket(received_at=hours(0), acknowledged_at=hours(0.1), feedback_at=hours(0.2))
    board = board_with(tl)
    board.refresh(hours(30))
    assert board.counts.breached == 0
    board.upsert(1, 2, replace(tl, priority=Priority.P1), farm_tz="Asia/Shanghai", farm_calendar="")
    assert board.refresh(hours(30)).alerts == [(1, Target.ONSITE, ClockState.BREACHED)]
    assert board.counts.breached == 1
    board.upsert(1, 3, tl, farm_tz="Asia/Shanghai", farm_calendar="")  # back to P3
    assert board.refresh(hours(30)).alerts == []
    assert board.counts.breached == 0


def test_set_policy_replans_only_on_a_new_digest() -> None:
    board = board_with(ticket(received_at=hours(0)))
    board.refresh(hours(0.5))
    board.set_policy(load_policy_file())  # same text, same digest
    assert board.clocks(1, hours(0.5))[0].target_seconds == H
    text = DEFAULT_POLICY_PATH.read_text("utf-8").replace(
        'acknowledge = "1h"', 'acknowledge = "2h"'
    )
    board.set_policy(load_policy(text))
    assert board.clocks(1, hours(0.5))[0].target_seconds == 2 * H
    board.refresh(hours(0.6))
    assert board.counts.at_risk == 0
    assert board.refresh(hours(1.6)).alerts == [(1, Target.ACKNOWLEDGE, ClockState.AT_RISK)]


def test_next_due_ignores_paused_and_stopped_clocks() -> None:
    tl = ticket(
        received_at=hours(0),
        acknowledged_at=hours(0.1),
        holds=(HoldSpan(HoldReason.PARTS, hours(1)),),
    )
    board = board_with(tl)
    assert board.next_due(1) == (Target.FEEDBACK, hours(24))
    board.upsert(1, 2, replace(tl, feedback_at=hours(2)), farm_tz="UTC", farm_calendar="24x7")
    assert board.next_due(1) is None  # only the paused on-site clock is left


def test_nearest_orders_by_due_most_overdue_first_with_paused_projected() -> None:
    board = board_with(
        ticket(received_at=hours(-10), acknowledged_at=hours(-9.9), feedback_at=hours(-9.8)),
        ticket(received_at=hours(-3)),  # ack overdue by 2 h
        ticket(
            received_at=hours(0),
            acknowledged_at=hours(0.1),
            feedback_at=hours(0.2),
            holds=(HoldSpan(HoldReason.PERMIT, hours(0.5)),),
        ),  # on-site paused after 0.5 h: projected due now + 47.5 h
    )
    now = hours(1)
    found = board.nearest(10, now)
    keys = [(tid, clock.target) for tid, clock in found]
    assert keys[:3] == [(2, Target.ACKNOWLEDGE), (2, Target.FEEDBACK), (1, Target.ONSITE)]
    dues = [clock.due for _tid, clock in found]
    assert dues == sorted(dues)
    paused = [c for tid, c in found if tid == 3 and c.target is Target.ONSITE]
    assert paused and paused[0].state is ClockState.PAUSED
    assert paused[0].due == now + timedelta(hours=47.5)
    assert len(board.nearest(2, now)) == 2 and board.nearest(0, now) == []


def test_a_hold_never_hides_a_breach_from_the_countdown() -> None:
    """On-site breached at 48 h, then held from 50 h: still counted, sorted and shown as due."""
    held = ticket(
        received_at=hours(-60),
        acknowledged_at=hours(-59.9),
        feedback_at=hours(-59),
        holds=(HoldSpan(HoldReason.WEATHER, hours(-10)),),
    )
    board = board_with(
        held,
        ticket(received_at=hours(-3)),  # acknowledge overdue since -2 h: less overdue
        ticket(received_at=hours(-100), acknowledged_at=hours(-99.9), feedback_at=hours(-99)),
    )  # ticket 3: on-site overdue since -52 h, more overdue than the held one
    board.refresh(hours(0))
    assert board.counts == BoardCounts(open=3, at_risk=0, breached=3, on_hold=1)
    assert board.next_due(1) == (Target.ONSITE, hours(-12))  # the queue sorts it as a breach
    for now in (hours(0), hours(5)):
        found = board.nearest(10, now)
        assert [(tid, c.target) for tid, c in found][:4] == [
            (3, Target.ONSITE),
            (1, Target.ONSITE),
            (2, Target.ACKNOWLEDGE),
            (2, Target.FEEDBACK),
        ]
        onsite = found[1][1]
        assert onsite.state is ClockState.BREACHED and onsite.hold_reason is HoldReason.WEATHER
        assert onsite.due == hours(-12) and onsite.remaining_seconds == -2 * H  # frozen while held
        assert (
            onsite
            == compute_clocks(held, POLICY, farm_tz="Asia/Shanghai", farm_calendar="24x7", now=now)[
                2
            ]
        )
        assert board.refresh(now).alerts == []
    resumed = replace(held, holds=(HoldSpan(HoldReason.WEATHER, hours(-10), hours(5)),))
    board.upsert(1, 2, resumed, farm_tz="Asia/Shanghai", farm_calendar="24x7")
    assert board.refresh(hours(6)).alerts == []  # the breach was known before the hold
    onsite = board.nearest(2, hours(6))[1][1]
    assert onsite.hold_reason is None and onsite.remaining_seconds == -3 * H
    assert [item[1:] for item in board._by_due].count((1, 2)) == 1  # the held item was retracted
    assert board.counts == BoardCounts(open=3, at_risk=0, breached=3, on_hold=0)


def test_board_counts_each_clock_on_its_own_calendar() -> None:
    """Dabancheng (xinjiang-day, 10:00-20:00 Beijing): the desk's clocks alert on wall time, the
    on-site clock's per-tick ``cum(now)`` counts only the farm's hours."""
    shanghai = ZoneInfo("Asia/Shanghai")

    def beijing(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 3, day, hour, minute, tzinfo=shanghai)

    farm = {"farm_tz": "Asia/Urumqi", "farm_calendar": "xinjiang-day"}
    tl = ticket(received_at=beijing(2, 6, 42).astimezone(UTC))  # Monday, before the site opens
    board = SlaBoard(POLICY)
    board.upsert(1, 1, tl, **farm)
    assert board.refresh(beijing(2, 7)).alerts == []
    assert board.refresh(beijing(2, 7, 27)).alerts == [(1, Target.ACKNOWLEDGE, ClockState.AT_RISK)]
    assert board.refresh(beijing(2, 7, 42)).alerts == [(1, Target.ACKNOWLEDGE, ClockState.BREACHED)]
    noon = beijing(2, 12)
    assert board.refresh(noon).alerts == []
    found = board.clocks(1, noon)
    assert found == compute_clocks(tl, POLICY, now=noon, **farm)
    by_target = {c.target: c for c in found}
    assert by_target[Target.ACKNOWLEDGE].elapsed_seconds == 5.3 * H
    onsite = by_target[Target.ONSITE]
    assert onsite.calendar == "xinjiang-day" and onsite.elapsed_seconds == 2 * H
    # feedback (24 h wall clock) jumps past at-risk and due by Tuesday 07:00: only the breach
    assert board.refresh(beijing(3, 7)).alerts == [(1, Target.FEEDBACK, ClockState.BREACHED)]
    # on-site at risk after 36 business hours: Mon, Tue, Wed 10 h each + Thu 10:00-16:00
    assert board.refresh(beijing(5, 15, 59)).alerts == []
    assert board.refresh(beijing(5, 16)).alerts == [(1, Target.ONSITE, ClockState.AT_RISK)]
    assert board.refresh(beijing(6, 18)).alerts == [(1, Target.ONSITE, ClockState.BREACHED)]
    assert board.counts == BoardCounts(open=1, at_risk=0, breached=1, on_hold=0)


def test_unknown_ticket_is_not_found() -> None:
    with pytest.raises(NotFound):
        SlaBoard(POLICY).clocks(99, T0)


NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


OWED = (ClockState.RUNNING, ClockState.AT_RISK, ClockState.BREACHED)  # not stopped, not paused


def brute_force(tickets: list[tuple[int, Timeline, str, str]], now: datetime) -> dict:
    """Counts, states, next due and the countdown from :func:`compute_clocks` alone."""
    states: dict[tuple[int, Target], ClockState] = {}
    counts = dict.fromkeys(("open", "at_risk", "breached", "on_hold"), 0)
    next_due: dict[int, tuple[Target, datetime] | None] = {}
    live: list[tuple[datetime, int, Clock]] = []  # clocks still owed, paused ones included
    for tid, tl, tz, cal in tickets:
        found = compute_clocks(tl, POLICY, farm_tz=tz, farm_calendar=cal, now=now)
        counts["open"] += 1
        counts["at_risk"] += any(c.state is ClockState.AT_RISK for c in found)
        counts["breached"] += any(c.state is ClockState.BREACHED for c in found)
        counts["on_hold"] += any(h.end is None for h in tl.holds)
        states.update({(tid, c.target): c.state for c in found})
        owed = [c for c in found if c.met_at is None and c.due is not None]
        # min() keeps the first of equal dues: the earlier clock in the chain, as the board does
        first = min((c for c in owed if c.state in OWED), key=lambda c: c.due, default=None)
        next_due[tid] = None if first is None else (first.target, first.due)
        live += [(c.due, tid, c) for c in owed]
    live.sort(key=lambda item: item[0])
    return {
        "counts": BoardCounts(**counts),
        "states": states,
        "next_due": next_due,
        "live": live,
    }


def check_reads(board: SlaBoard, expected: dict, now: datetime) -> None:
    """``next_due`` and ``nearest`` agree with the brute force (ties in due in any order)."""
    assert {tid: board.next_due(tid) for tid in expected["next_due"]} == expected["next_due"]
    nearest = board.nearest(15, now)
    assert [c.due for _tid, c in nearest] == [due for due, _tid, _c in expected["live"][:15]]
    live = {(tid, c.target): c for _due, tid, c in expected["live"]}
    assert all(live[(tid, c.target)] == c for tid, c in nearest)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    steps=st.lists(st.integers(1, 30 * 3600), min_size=1, max_size=6),
)
def test_refresh_counts_and_alerts_equal_brute_force(seed: int, steps: list[int]) -> None:
    tickets = synthetic_tickets(40, now=NOW, seed=seed)
    board = SlaBoard(POLICY)
    for tid, tl, tz, cal in tickets:
        board.upsert(tid, 1, tl, farm_tz=tz, farm_calendar=cal)
    now = NOW
    assert board.refresh(now).alerts == []
    before = brute_force(tickets, now)
    assert board.counts == before["counts"]
    check_reads(board, before, now)
    for step in steps:
        now += timedelta(seconds=step)
        alerts = board.refresh(now).alerts
        after = brute_force(tickets, now)
        assert board.counts == after["counts"]
        check_reads(board, after, now)
        expected = {
            (tid, target, state)
            for (tid, target), state in after["states"].items()
            if state in (ClockState.AT_RISK, ClockState.BREACHED)
            and before["states"][(tid, target)] is not state
        }
        assert sorted(alerts) == sorted(expected)
        assert len(alerts) == len(set(alerts))
        before = after


def board_state(board: SlaBoard, now: datetime) -> dict:
    """Everything observable about a board at ``now`` (plus its sorted structures)."""
    ids = sorted(board._entries)
    return {
        "counts": board.counts,
        "clocks": {tid: board.clocks(tid, now) for tid in ids},
        "next_due": {tid: board.next_due(tid) for tid in ids},
        "nearest": board.nearest(25, now),
        "by_due": list(board._by_due),
        "paused": list(board._paused),
    }


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    picks=st.lists(
        st.tuples(st.integers(0, 29), st.integers(1, 3), st.sampled_from(list(Priority))),
        max_size=40,
    ),
    steps=st.lists(st.integers(1, 30 * 3600), min_size=1, max_size=4),
)
def test_upsert_many_equals_repeated_upsert(
    seed: int, picks: list[tuple[int, int, Priority]], steps: list[int]
) -> None:
    tickets = synthetic_tickets(30, now=NOW, seed=seed)
    first = [(tid, 1, tl, tz, cal) for tid, tl, tz, cal in tickets[:20]]
    # A second batch: new tickets, repeats of known ones (same or new version, other priority),
    # and the same ticket several times in one batch.
    second = [
        (tickets[i][0], version, replace(tickets[i][1], priority=priority), *tickets[i][2:])
        for i, version, priority in picks
    ]
    one_by_one, batched = SlaBoard(POLICY), SlaBoard(POLICY)
    now = NOW
    for batch in (first, second):
        for tid, version, tl, tz, cal in batch:
            one_by_one.upsert(tid, version, tl, farm_tz=tz, farm_calendar=cal)
        batched.upsert_many(batch)
        assert board_state(batched, now) == board_state(one_by_one, now)
        assert batched.refresh(now).alerts == one_by_one.refresh(now).alerts
        assert batched.counts == one_by_one.counts
    for step in steps:
        now += timedelta(seconds=step)
        assert batched.refresh(now) == one_by_one.refresh(now)
        assert board_state(batched, now) == board_state(one_by_one, now)
