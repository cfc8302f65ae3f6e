"""SLA clocks: chain rules, pauses, reopen, cancel, rework, calendars; direct vs cached path."""

from __future__ import annotations

import typing
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from windtui.domain import lifecycle
from windtui.domain.model import (
    TIMELINE_INSTANTS,
    Action,
    Category,
    Clock,
    ClockState,
    HoldReason,
    HoldSpan,
    Priority,
    Target,
    TicketState,
    Timeline,
)
from windtui.domain.policy import DEFAULT_POLICY_PATH, PolicySet, load_policy, load_policy_file
from windtui.domain.sla import compute_clocks, downtime, evaluate, last_event, plan_ticket

H = 3600.0
POLICY = load_policy_file()
SHIPPED_TEXT = DEFAULT_POLICY_PATH.read_text("utf-8")
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing
SHANGHAI = ZoneInfo("Asia/Shanghai")


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def ticket(**fields: object) -> Timeline:
    base: dict[str, object] = {
        "category": Category.FAULT,
        "priority": Priority.P3,
        "received_at": T0,
    }
    base.update(fields)
    return Timeline(**base)  # type: ignore[arg-type]


def agreed(
    timeline: Timeline,
    now: datetime,
    policy: PolicySet = POLICY,
    *,
    farm_tz: str = "Asia/Shanghai",
    farm_calendar: str = "24x7",
) -> dict[Target, Clock]:
    """The clocks by target, checking that the board's cached path agrees clock by clock."""
    found = compute_clocks(timeline, policy, farm_tz=farm_tz, farm_calendar=farm_calendar, now=now)
    if now >= last_event(timeline):
        plan = plan_ticket(timeline, policy, farm_tz=farm_tz, farm_calendar=farm_calendar)
        assert evaluate(plan, now) == found
    return {c.target: c for c in found}


def replay(*steps: tuple[Action, datetime]) -> Timeline:
    """A fault ticket received at ``T0`` after the desk's ``steps``, through the lifecycle."""
    state, timeline = TicketState.RECEIVED, ticket()
    for action, when in steps:
        state, timeline = lifecycle.apply(timeline, state, action, when, reason="test")
    return timeline


def clocks(
    timeline: Timeline, now: datetime, *, calendar: str = "24x7", policy=POLICY
) -> dict[Target, Clock]:
    found = compute_clocks(
        timeline, policy, farm_tz="Asia/Shanghai", farm_calendar=calendar, now=now
    )
    assert [c.target for c in found] == list(Target)
    return {c.target: c for c in found}


def test_running_then_at_risk_then_breached_counting_up() -> None:
    t = ticket()
    assert clocks(t, hours(0.5))[Target.ACKNOWLEDGE].state is ClockState.RUNNING
    at_risk = clocks(t, hours(0.75))[Target.ACKNOWLEDGE]  # exactly 75 %
    assert at_risk.state is ClockState.AT_RISK and at_risk.percent_used == 75.0
    breached = clocks(t, hours(3))[Target.ACKNOWLEDGE]
    assert breached.state is ClockState.BREACHED
    assert breached.remaining_seconds == -2 * H and breached.elapsed_seconds == 3 * H
    assert breached.due == hours(1)
    later = clocks(t, hours(4))[Target.ACKNOWLEDGE]
    assert later.remaining_seconds == -3 * H  # keeps counting


def test_met_clock_never_changes() -> None:
    t = ticket(acknowledged_at=hours(0.5))
    first = clocks(t, hours(0.6))[Target.ACKNOWLEDGE]
    assert first.state is ClockState.MET and first.met_at == hours(0.5)
    assert first.elapsed_seconds == 1800 and first.remaining_seconds == 1800
    for later in (hours(2), hours(100), hours(10_000)):
        assert clocks(t, later)[Target.ACKNOWLEDGE] == first


def test_late_milestone_is_breached_and_frozen() -> None:
    t = ticket(arrived_at=hours(50))
    onsite = clocks(t, hours(60))[Target.ONSITE]
    assert onsite.state is ClockState.BREACHED and onsite.met_at == hours(50)
    assert onsite.remaining_seconds == -2 * H
    assert clocks(t, hours(90))[Target.ONSITE] == onsite


def test_clock_not_started_is_not_applicable() -> None:
    report = clocks(ticket(), hours(1))[Target.REPORT]
    assert report.state is ClockState.NOT_APPLICABLE and not report.started and report.due is None


def test_consulting_has_no_site_clocks() -> None:
    t = ticket(category=Category.CONSULTING, resolved_at=hours(5))
    found = clocks(t, hours(6))
    for target in (Target.ONSITE, Target.REPAIR):
        assert found[target].state is ClockState.NOT_APPLICABLE
        assert not found[target].started and found[target].due is None
    assert found[Target.FEEDBACK].state is ClockState.RUNNING
    assert found[Target.REPORT].started and found[Target.REPORT].start == hours(5)


def test_chain_starts_at_previous_milestones() -> None:
    t = ticket(arrived_at=hours(10), resolved_at=hours(11), report_at=hours(20))
    found = clocks(t, hours(21))
    assert found[Target.REPAIR].state is ClockState.MET
    assert found[Target.REPAIR].elapsed_seconds == H
    assert found[Target.REPORT].elapsed_seconds == 9 * H
    assert found[Target.REVIEW].start == hours(20)
    assert found[Target.REVIEW].elapsed_seconds == H
    assert not found[Target.FOLLOWUP].started


def test_hold_pauses_onsite_but_not_acknowledge_or_feedback() -> None:
    hold = HoldSpan(HoldReason.WEATHER, hours(2), hours(5))
    found = clocks(ticket(holds=(hold,)), hours(10))
    assert found[Target.ONSITE].elapsed_seconds == 7 * H
    assert found[Target.ONSITE].due == hours(51)
    assert found[Target.FEEDBACK].elapsed_seconds == 10 * H
    assert found[Target.ACKNOWLEDGE].state is ClockState.BREACHED


def test_open_hold_pauses_and_projects_due_from_now() -> None:
    hold = HoldSpan(HoldReason.PARTS, hours(4))
    onsite = clocks(ticket(holds=(hold,)), hours(10))[Target.ONSITE]
    assert onsite.state is ClockState.PAUSED and onsite.hold_reason is HoldReason.PARTS
    assert onsite.elapsed_seconds == 4 * H
    assert onsite.due == hours(10 + 44)
    assert clocks(ticket(holds=(hold,)), hours(20))[Target.ONSITE].due == hours(20 + 44)


def test_overlapping_holds_are_not_counted_twice() -> None:
    holds = (
        HoldSpan(HoldReason.WEATHER, hours(2), hours(6)),
        HoldSpan(HoldReason.PERMIT, hours(4), hours(8)),
    )
    assert clocks(ticket(holds=holds), hours(10))[Target.ONSITE].elapsed_seconds == 4 * H


def test_breached_clock_on_hold_stays_breached() -> None:
    """A hold never hides a breach: still breached, and says what it is held for."""
    held = ticket(holds=(HoldSpan(HoldReason.WEATHER, hours(50)),))
    onsite = agreed(held, hours(60))[Target.ONSITE]
    assert onsite.state is ClockState.BREACHED and onsite.due == hours(48)
    assert onsite.hold_reason is HoldReason.WEATHER and onsite.met_at is None
    assert onsite.elapsed_seconds == 50 * H and onsite.remaining_seconds == -2 * H
    assert agreed(held, hours(90))[Target.ONSITE] == onsite  # frozen while held
    resumed = agreed(
        replace(held, holds=(HoldSpan(HoldReason.WEATHER, hours(50), hours(70)),)), hours(90)
    )
    onsite = resumed[Target.ONSITE]  # counting again, no longer held
    assert onsite.state is ClockState.BREACHED and onsite.hold_reason is None
    assert onsite.remaining_seconds == -22 * H and onsite.due == hours(48)


def test_weekend_hold_on_business_calendar_pauses_nothing() -> None:
    friday_16 = datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI).astimezone(UTC)
    monday_10 = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
    hold = HoldSpan(
        HoldReason.WEATHER,
        datetime(2026, 3, 7, 9, 0, tzinfo=SHANGHAI),
        datetime(2026, 3, 8, 18, 0, tzinfo=SHANGHAI),
    )
    plain = ticket(received_at=friday_16)
    held = replace(plain, holds=(hold,))
    a = clocks(plain, monday_10, calendar="cn-business")[Target.ONSITE]
    b = clocks(held, monday_10, calendar="cn-business")[Target.ONSITE]
    assert a.elapsed_seconds == b.elapsed_seconds == 3 * H  # 16:00–17:30 + 08:30–10:00
    assert a.due == b.due
    assert a.calendar == "cn-business"


def test_business_hours_hold_is_measured_in_business_time() -> None:
    received = datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)  # Monday
    hold = HoldSpan(  # 11:00–15:00 covers 1 h before lunch and 1.5 h after
        HoldReason.PARTS,
        datetime(2026, 3, 9, 11, 0, tzinfo=SHANGHAI),
        datetime(2026, 3, 9, 15, 0, tzinfo=SHANGHAI),
    )
    now = datetime(2026, 3, 9, 17, 30, tzinfo=SHANGHAI)
    onsite = clocks(ticket(received_at=received, holds=(hold,)), now, calendar="cn-business")
    assert onsite[Target.ONSITE].elapsed_seconds == 7 * H - 2.5 * H


def test_priority_change_is_retroactive_and_keeps_paused_time() -> None:
    """GLPI #6902: raising P3 to P1 after a hold must not lose the paused time."""
    hold = HoldSpan(HoldReason.CRANE_VESSEL, hours(1), hours(4))
    p3 = ticket(holds=(hold,))
    p1 = replace(p3, priority=Priority.P1)
    before = clocks(p3, hours(6))[Target.ONSITE]
    after = clocks(p1, hours(6))[Target.ONSITE]
    assert before.elapsed_seconds == after.elapsed_seconds == 3 * H
    assert before.due == hours(48 + 3)
    assert after.due == hours(24 + 3)  # from receipt, paused 3 h still excluded
    assert after.target_seconds == 24 * H


def test_policy_choice_of_calendar_and_timezone() -> None:
    policy = load_policy(
        """
[defaults.targets]
acknowledge = "1h"
feedback = "24h"
onsite = "48h"
repair = "2.5h"
report = "24h"
review = "3d"
followup = "7d"

[calendars.local-office]
days = ["mon", "tue", "wed", "thu", "fri"]
hours = ["09:00-10:00"]

[[override]]
category = "fault"
calendar = "local-office"
"""
    )
    monday_9 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    t = ticket(received_at=monday_9.astimezone(UTC))
    fault = compute_clocks(
        t, policy, farm_tz="Europe/Berlin", farm_calendar="", now=monday_9 + timedelta(hours=5)
    )
    assert fault[0].calendar == "local-office" and fault[0].elapsed_seconds == H
    assert fault[0].due == monday_9 + timedelta(hours=1)
    consulting = compute_clocks(
        replace(t, category=Category.CONSULTING),
        policy,
        farm_tz="Europe/Berlin",
        farm_calendar="",
        now=monday_9 + timedelta(hours=5),
    )
    assert consulting[0].calendar == "24x7" and consulting[0].elapsed_seconds == 5 * H


# -- per-target calendars ------------------------------------------------------------------------

# The Dabancheng farm: Xinjiang day shift (10:00-20:00 Beijing time), farm timezone Urumqi.
DABANCHENG = {"farm_tz": "Asia/Urumqi", "farm_calendar": "xinjiang-day"}
MONDAY_0642 = datetime(2026, 3, 2, 6, 42, tzinfo=SHANGHAI)  # a fault before the site opens


def beijing(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def at_dabancheng(timeline: Timeline, now: datetime, policy: PolicySet = POLICY) -> dict:
    return agreed(timeline, now, policy, **DABANCHENG)


def test_desk_clocks_run_round_the_clock_while_site_clocks_follow_the_farm_day() -> None:
    """Policy §二(2)/§三(1): a 06:42 fault is acknowledged by 07:42, not by 11:00."""
    t = ticket(received_at=MONDAY_0642.astimezone(UTC))
    early = at_dabancheng(t, beijing(2, 7, 30))
    ack, onsite = early[Target.ACKNOWLEDGE], early[Target.ONSITE]
    assert ack.calendar == "24x7" and ack.due == beijing(2, 7, 42)
    assert ack.state is ClockState.AT_RISK and ack.elapsed_seconds == 48 * 60
    assert onsite.calendar == "xinjiang-day" and onsite.elapsed_seconds == 0  # site not open yet
    noon = at_dabancheng(t, beijing(2, 12))
    assert noon[Target.ACKNOWLEDGE].state is ClockState.BREACHED
    assert noon[Target.FEEDBACK].calendar == "24x7"
    assert noon[Target.FEEDBACK].due == beijing(3, 6, 42)  # 24 wall-clock hours
    onsite = noon[Target.ONSITE]
    assert onsite.elapsed_seconds == 2 * H  # 10:00-12:00 only
    assert onsite.due == beijing(6, 18)  # 48 h = four 10-hour days + 8 h on Friday
    # repair and the paperwork clocks count on the farm's calendar too (once they start)
    assert {noon[t].calendar for t in (Target.REPAIR, Target.REPORT, Target.FOLLOWUP)} == {
        "xinjiang-day"
    }
    # Before per-target calendars every clock counted the farm day: acknowledge due at 11:00.
    single = load_policy(SHIPPED_TEXT.replace('acknowledge = "24x7"\nfeedback = "24x7"\n', ""))
    assert at_dabancheng(t, beijing(2, 7, 30), single)[Target.ACKNOWLEDGE].due == beijing(2, 11)


def test_an_override_changes_one_targets_calendar_only() -> None:
    text = SHIPPED_TEXT + '\n[[override]]\npriority = "P2"\ncalendar = { onsite = "24x7" }\n'
    policy = load_policy(text)
    received = MONDAY_0642.astimezone(UTC)
    now = beijing(2, 12)
    p2 = at_dabancheng(ticket(received_at=received, priority=Priority.P2), now, policy)
    p3 = at_dabancheng(ticket(received_at=received, priority=Priority.P3), now, policy)
    assert p2[Target.ONSITE].calendar == "24x7" and p3[Target.ONSITE].calendar == "xinjiang-day"
    assert p2[Target.ONSITE].due == beijing(4, 6, 42)  # 48 wall-clock hours
    assert p2[Target.ONSITE].elapsed_seconds == 5.3 * H
    others = [t for t in Target if t is not Target.ONSITE]
    assert [p2[t] for t in others] == [p3[t] for t in others]


def test_reopen_keeps_met_results_and_restarts_the_rest() -> None:
    t = ticket(
        acknowledged_at=hours(0.5),
        arrived_at=hours(10),
        resolved_at=hours(12),
        reopened_at=hours(100),
    )
    found = clocks(t, hours(101))
    assert found[Target.ACKNOWLEDGE].state is ClockState.MET
    assert found[Target.ACKNOWLEDGE].met_at == hours(0.5)
    feedback = found[Target.FEEDBACK]  # never given: runs from the reopen
    assert feedback.start == hours(100) and feedback.elapsed_seconds == H
    onsite = found[Target.ONSITE]
    assert onsite.start == hours(100) and onsite.state is ClockState.RUNNING
    assert onsite.elapsed_seconds == H
    assert not found[Target.REPAIR].started  # the old arrival belongs to the old cycle
    assert not found[Target.REPORT].started


def test_reopen_then_new_arrival() -> None:
    t = ticket(acknowledged_at=hours(0.5), reopened_at=hours(100), arrived_at=hours(105))
    found = clocks(t, hours(106))
    assert found[Target.ONSITE].state is ClockState.MET
    assert found[Target.ONSITE].elapsed_seconds == 5 * H
    assert found[Target.REPAIR].start == hours(105)


def test_milestones_at_the_reopen_instant_belong_to_the_new_cycle() -> None:
    """A frozen ``--now`` stamps the reopen and the whole new visit at one instant (11:00)."""
    reopen = hours(2)
    t = replay(
        (Action.CANCEL, hours(10 / 60)),
        (Action.REOPEN, reopen),
        *((a, reopen) for a in (Action.ACK, Action.FEEDBACK, Action.DISPATCH, Action.DEPART)),
        (Action.ARRIVE, reopen),
    )
    assert t.reopened_at == t.acknowledged_at == t.arrived_at == reopen
    found = agreed(t, hours(3))
    for target in (Target.ACKNOWLEDGE, Target.FEEDBACK, Target.ONSITE):
        clock = found[target]  # restarted at the reopen, met there: not measured from receipt
        assert clock.state is ClockState.MET and clock.start == clock.met_at == reopen
        assert clock.elapsed_seconds == 0
    repair = found[Target.REPAIR]
    assert repair.state is ClockState.RUNNING and repair.start == reopen
    assert repair.elapsed_seconds == H


def test_met_strictly_before_the_reopen_keeps_its_result() -> None:
    t = ticket(acknowledged_at=hours(0.5), feedback_at=hours(100), reopened_at=hours(100))
    found = agreed(t, hours(101))
    ack, feedback = found[Target.ACKNOWLEDGE], found[Target.FEEDBACK]
    assert ack.start == T0 and ack.met_at == hours(0.5)
    assert feedback.start == feedback.met_at == hours(100)  # at the reopen: the new cycle's
    assert feedback.state is ClockState.MET and feedback.elapsed_seconds == 0


def test_cancel_at_the_reopen_instant_freezes_every_clock() -> None:
    t = replay(
        (Action.CANCEL, hours(10 / 60)), (Action.REOPEN, hours(2)), (Action.CANCEL, hours(2))
    )
    found = agreed(t, hours(30))
    for target in (Target.ACKNOWLEDGE, Target.FEEDBACK, Target.ONSITE):
        clock = found[target]  # restarted at the reopen and frozen at once: nothing is owed
        assert clock.state is ClockState.NOT_APPLICABLE and clock.started
        assert clock.start == hours(2) and clock.elapsed_seconds == 0 and clock.due is None
    assert not found[Target.REPAIR].started


def test_resolve_at_the_reopen_instant_starts_the_report_clock() -> None:
    visit = (Action.DISPATCH, Action.DEPART, Action.ARRIVE, Action.RESOLVE)
    t = replay(
        (Action.ACK, hours(0.1)),
        (Action.FEEDBACK, hours(0.2)),
        *((a, hours(1)) for a in visit),
        (Action.REOPEN, hours(2)),
        *((a, hours(2)) for a in visit),
    )
    found = agreed(t, hours(3))
    assert found[Target.ACKNOWLEDGE].start == T0  # met before the reopen: kept
    assert found[Target.ACKNOWLEDGE].met_at == hours(0.1)
    repair = found[Target.REPAIR]
    assert repair.state is ClockState.MET and repair.start == repair.met_at == hours(2)
    report = found[Target.REPORT]
    assert report.state is ClockState.RUNNING and report.start == hours(2)
    assert report.elapsed_seconds == H


def test_cancel_freezes_running_clocks_as_not_applicable() -> None:
    t = ticket(acknowledged_at=hours(0.5), cancelled_at=hours(3))
    found = clocks(t, hours(30))
    assert found[Target.ACKNOWLEDGE].state is ClockState.MET
    feedback = found[Target.FEEDBACK]
    assert feedback.state is ClockState.NOT_APPLICABLE and feedback.started
    assert feedback.elapsed_seconds == 3 * H and feedback.due is None
    assert clocks(t, hours(300))[Target.FEEDBACK] == feedback
    assert not found[Target.REPAIR].started


def test_report_returned_for_rework_restarts_report_clock() -> None:
    t = ticket(
        arrived_at=hours(1),
        resolved_at=hours(2),
        report_returned_at=hours(30),
    )
    found = clocks(t, hours(31))
    report = found[Target.REPORT]
    assert report.start == hours(30) and report.elapsed_seconds == H
    assert report.state is ClockState.RUNNING
    assert not found[Target.REVIEW].started
    resubmitted = replace(t, report_at=hours(40))
    again = clocks(resubmitted, hours(41))
    assert again[Target.REPORT].state is ClockState.MET
    assert again[Target.REVIEW].start == hours(40)


def test_events_after_now_are_ignored() -> None:
    t = ticket(
        acknowledged_at=hours(2),
        holds=(HoldSpan(HoldReason.WEATHER, hours(1), hours(3)),),
    )
    found = clocks(t, hours(1.5))
    assert found[Target.ACKNOWLEDGE].state is ClockState.BREACHED  # the ack is in the future
    assert found[Target.ONSITE].state is ClockState.PAUSED  # the hold has not ended yet
    assert clocks(t, hours(-1))[Target.ACKNOWLEDGE].started is False


def test_downtime_never_pauses() -> None:
    t = ticket(
        turbine_stopped_at=hours(1),
        holds=(HoldSpan(HoldReason.WEATHER, hours(2), hours(5)),),
    )
    running = downtime(t, hours(10))
    assert running is not None and running.until is None and running.seconds == 9 * H
    done = downtime(replace(t, turbine_restored_at=hours(6)), hours(10))
    assert done is not None and done.until == hours(6) and done.seconds == 5 * H
    assert downtime(ticket(), hours(10)) is None
    assert downtime(t, hours(0.5)) is None


# -- properties ---------------------------------------------------------------------------------

STEPS = ("acknowledged_at", "feedback_at", "arrived_at", "resolved_at", "report_at")
FARM_CALENDARS = ("24x7", "cn-business", "xinjiang-day", "de-business")
# The shipped policy (desk clocks 24x7, the rest on the farm's) plus overrides that mix calendars
# and timezones further within one ticket.
MIXED = load_policy(
    SHIPPED_TEXT
    + """
[[override]]
priority = ["P1", "P2"]
calendar = { onsite = "de-business", report = "24x7" }

[[override]]
category = ["consulting", "fault"]
calendar = { default = "cn-business", acknowledge = "farm" }
""",
    "mixed.toml",
)
policies = st.sampled_from([POLICY, MIXED])
BASE = int(datetime(2026, 1, 20, tzinfo=UTC).timestamp())


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(BASE + seconds, UTC)


# 0: the desk accepts an action at exactly the previous milestone's instant (a frozen --now).
gaps = st.integers(min_value=0, max_value=4 * 86_400)
# What a reopen clears (the store's rule) and what the new cycle may stamp again.
CLEARED_BY_REOPEN = (*STEPS[2:], "report_returned_at", "reviewed_at")
NEW_CYCLE = ("acknowledged_at", "feedback_at", "arrived_at", "resolved_at", "cancelled_at")


@st.composite
def timelines(draw: st.DrawFn) -> Timeline:
    cursor = draw(st.integers(min_value=0, max_value=200 * 86_400))
    fields: dict[str, object] = {"received_at": at(cursor)}
    for step in STEPS[: draw(st.integers(min_value=0, max_value=len(STEPS)))]:
        cursor += draw(gaps)
        fields[step] = at(cursor)
    if "resolved_at" in fields and "report_at" not in fields and draw(st.booleans()):
        cursor += draw(gaps)
        fields["report_returned_at"] = at(cursor)
    if "report_at" in fields and draw(st.booleans()):
        cursor += draw(gaps)
        fields["reviewed_at"] = at(cursor)
    ending = draw(st.sampled_from(["none", "none", "reopen", "cancel"]))
    if ending != "none":
        cursor += draw(gaps)
        fields["reopened_at" if ending == "reopen" else "cancelled_at"] = at(cursor)
    if ending == "reopen":
        if draw(st.booleans()):  # as the store does; else old-cycle milestones stay behind
            for name in CLEARED_BY_REOPEN:
                fields.pop(name, None)
        for step in NEW_CYCLE[: draw(st.integers(min_value=0, max_value=len(NEW_CYCLE)))]:
            if step in fields and step in STEPS[:2]:
                continue  # acknowledged/feedback before the reopen: never stamped again
            cursor += draw(gaps)
            fields[step] = at(cursor)
    holds = []
    received = int(fields["received_at"].timestamp()) - BASE  # type: ignore[union-attr]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        start = received + draw(st.integers(min_value=0, max_value=10 * 86_400))
        end = None if draw(st.booleans()) else start + draw(gaps)
        holds.append(
            HoldSpan(
                draw(st.sampled_from(list(HoldReason))), at(start), None if end is None else at(end)
            )
        )
    open_holds = [h for h in holds if h.end is None]
    holds = [h for h in holds if h.end is not None] + open_holds[:1]  # at most one open hold
    return Timeline(
        category=draw(st.sampled_from(list(Category))),
        priority=draw(st.sampled_from(list(Priority))),
        holds=tuple(holds),
        **fields,  # type: ignore[arg-type]
    )


def direct(
    tl: Timeline, calendar: str, now: datetime, policy: PolicySet = POLICY
) -> tuple[Clock, ...]:
    return compute_clocks(tl, policy, farm_tz="Asia/Shanghai", farm_calendar=calendar, now=now)


@settings(max_examples=300, deadline=None)
@given(
    tl=timelines(),
    calendar=st.sampled_from(FARM_CALENDARS),
    wait=st.integers(0, 40 * 86_400),
    policy=policies,
)
def test_cached_path_equals_direct_path(
    tl: Timeline, calendar: str, wait: int, policy: PolicySet
) -> None:
    now = last_event(tl) + timedelta(seconds=wait)
    plan = plan_ticket(tl, policy, farm_tz="Asia/Shanghai", farm_calendar=calendar)
    assert evaluate(plan, now) == direct(tl, calendar, now, policy)


@settings(max_examples=200, deadline=None)
@given(
    tl=timelines(),
    calendar=st.sampled_from(FARM_CALENDARS),
    wait=st.integers(0, 10 * 86_400),
    more=st.integers(1, 60 * 86_400),
)
def test_met_clock_never_changes_as_now_advances(
    tl: Timeline, calendar: str, wait: int, more: int
) -> None:
    now = last_event(tl) + timedelta(seconds=wait)
    first = direct(tl, calendar, now)
    later = direct(tl, calendar, now + timedelta(seconds=more))
    for a, b in zip(first, later, strict=True):
        if a.state in (ClockState.MET, ClockState.NOT_APPLICABLE) and a.started:
            assert a == b
        if a.state is ClockState.BREACHED and a.met_at is not None:
            assert a == b


@settings(max_examples=200, deadline=None)
@given(tl=timelines(), calendar=st.sampled_from(FARM_CALENDARS), wait=st.integers(0, 10 * 86_400))
def test_a_pause_never_moves_a_due_date_earlier(tl: Timeline, calendar: str, wait: int) -> None:
    assume(tl.holds)
    now = last_event(tl) + timedelta(seconds=wait)
    held = direct(tl, calendar, now)
    unheld = direct(replace(tl, holds=()), calendar, now)
    for a, b in zip(held, unheld, strict=True):
        if a.due is not None and b.due is not None:
            assert a.due >= b.due
        if a.started and b.started:
            assert a.elapsed_seconds <= b.elapsed_seconds


@settings(max_examples=200, deadline=None)
@given(
    tl=timelines(),
    calendar=st.sampled_from(FARM_CALENDARS),
    wait=st.integers(0, 10 * 86_400),
    policy=policies,
)
def test_due_is_at_least_target_business_time_after_start(
    tl: Timeline, calendar: str, wait: int, policy: PolicySet
) -> None:
    now = last_event(tl) + timedelta(seconds=wait)
    for clock in direct(tl, calendar, now, policy):
        if clock.due is None:
            continue
        assert clock.start is not None
        cal = policy.calendar(clock.calendar, "Asia/Shanghai")  # the clock's own calendar
        assert cal.business_seconds(clock.start, clock.due) >= clock.target_seconds - 1e-6
        if not tl.holds:  # without pauses exactly the target
            assert abs(cal.business_seconds(clock.start, clock.due) - clock.target_seconds) < 1e-6


def test_timeline_instants_are_the_datetime_fields_of_timeline() -> None:
    """``TIMELINE_INSTANTS`` (shared by the SLA engine and the lifecycle) misses no instant."""
    hints = typing.get_type_hints(Timeline)
    instants = tuple(
        f.name for f in fields(Timeline) if hints[f.name] in (datetime, datetime | None)
    )
    assert instants == TIMELINE_INSTANTS
    assert "received_at" in instants and "turbine_restored_at" in instants
