"""The lifecycle state machine: every state × action, legal and illegal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from windtui.domain import lifecycle
from windtui.domain.model import (
    Action,
    Category,
    HoldReason,
    HoldSpan,
    Priority,
    TicketState,
    Timeline,
)
from windtui.errors import Refused

S = TicketState
A = Action
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)

# The expected machine, written out independently of the implementation's tables.
SITE_FLOW: dict[tuple[TicketState, Action], TicketState] = {
    (S.RECEIVED, A.ACK): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, A.FEEDBACK): S.FEEDBACK_GIVEN,
    (S.FEEDBACK_GIVEN, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.DEPART): S.EN_ROUTE,
    (S.EN_ROUTE, A.ARRIVE): S.ON_SITE,
    (S.ON_SITE, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.SUBMIT): S.REPORT_SUBMITTED,
    (S.REPORT_SUBMITTED, A.APPROVE): S.REVIEWED,
    (S.REPORT_SUBMITTED, A.RETURN): S.RESOLVED,
    (S.REVIEWED, A.FOLLOWUP): S.FOLLOWED_UP,
    (S.FOLLOWED_UP, A.CLOSE): S.CLOSED,
}
CANCELLABLE = (S.RECEIVED, S.ACKNOWLEDGED, S.FEEDBACK_GIVEN, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE)
REOPENABLE = (S.RESOLVED, S.REPORT_SUBMITTED, S.REVIEWED, S.FOLLOWED_UP, S.CLOSED, S.CANCELLED)
HOLDABLE = (S.ACKNOWLEDGED, S.FEEDBACK_GIVEN, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE)
NO_VISIT_FLOW = {
    k: v
    for k, v in SITE_FLOW.items()
    if k[1] not in (A.DISPATCH, A.DEPART, A.ARRIVE) and k != (S.ON_SITE, A.RESOLVE)
} | {(S.FEEDBACK_GIVEN, A.RESOLVE): S.RESOLVED}

# Milestones reached on the way to each state (the path a ticket normally takes).
PATH = {
    S.RECEIVED: (),
    S.ACKNOWLEDGED: ("acknowledged_at",),
    S.FEEDBACK_GIVEN: ("acknowledged_at", "feedback_at"),
    S.DISPATCHED: ("acknowledged_at", "feedback_at", "dispatched_at"),
    S.EN_ROUTE: ("acknowledged_at", "feedback_at", "dispatched_at", "departed_at"),
    S.ON_SITE: ("acknowledged_at", "feedback_at", "dispatched_at", "departed_at", "arrived_at"),
}
PATH[S.RESOLVED] = (*PATH[S.ON_SITE], "resolved_at")
PATH[S.REPORT_SUBMITTED] = (*PATH[S.RESOLVED], "report_at")
PATH[S.REVIEWED] = (*PATH[S.REPORT_SUBMITTED], "reviewed_at")
PATH[S.FOLLOWED_UP] = (*PATH[S.REVIEWED], "followup_at")
PATH[S.CLOSED] = (*PATH[S.FOLLOWED_UP], "closed_at")
PATH[S.CANCELLED] = ("acknowledged_at", "cancelled_at")


def timeline_for(state: TicketState, category: Category = Category.FAULT, **extra) -> Timeline:
    """A timeline whose milestones are consistent with ``state`` (one hour apart)."""
    fields = PATH[state]
    if not category.needs_site_visit:
        fields = tuple(f for f in fields if f not in ("dispatched_at", "departed_at", "arrived_at"))
    stamps = {name: T0 + timedelta(hours=i + 1) for i, name in enumerate(fields)}
    return Timeline(category=category, priority=Priority.P2, received_at=T0, **stamps, **extra)


def expected(
    state: TicketState, action: Action, *, category: Category, on_hold: bool, turbine_down: bool
) -> TicketState | None:
    """The expected next state, or None when the action must be refused."""
    if action is A.RESTORE:
        return state if turbine_down else None
    if on_hold:
        if action is A.RESUME:
            return state
        if action is A.CANCEL and state in CANCELLABLE:
            return S.CANCELLED
        if action is A.FEEDBACK and state is S.ACKNOWLEDGED:
            return S.FEEDBACK_GIVEN
        return None
    if action is A.RESUME:
        return None
    if action is A.HOLD:
        return state if state in HOLDABLE else None
    if action is A.CANCEL:
        return S.CANCELLED if state in CANCELLABLE else None
    if action is A.REOPEN:
        if state not in REOPENABLE:
            return None
        return S.FEEDBACK_GIVEN if "feedback_at" in PATH[state] else S.ACKNOWLEDGED
    flow = SITE_FLOW if category.needs_site_visit else NO_VISIT_FLOW
    return flow.get((state, action))


MATRIX = [
    (state, action, category, on_hold)
    for state in S
    for action in A
    for category in (Category.FAULT, Category.CONSULTING)
    for on_hold in (False, True)
]


@pytest.mark.parametrize(
    ("state", "action", "category", "on_hold"),
    MATRIX,
    ids=[f"{s.value}-{a.value}-{c.value}-{'hold' if h else 'free'}" for s, a, c, h in MATRIX],
)
def test_matrix(state: TicketState, action: Action, category: Category, on_hold: bool) -> None:
    holds = (HoldSpan(HoldReason.WEATHER, T0 + timedelta(hours=30), None, "gusts 25 m/s"),)
    tl = timeline_for(
        state,
        category,
        holds=holds if on_hold else (),
        turbine_stopped_at=T0 - timedelta(minutes=5),
    )
    at = T0 + timedelta(hours=40)
    want = expected(state, action, category=category, on_hold=on_hold, turbine_down=True)
    allowed = lifecycle.allowed_actions(
        state, category=category, on_hold=on_hold, turbine_down=True
    )
    assert (action in allowed) == (want is not None)
    kwargs = {
        "hold_reason": HoldReason.PARTS,
        "evidence": "PO 4471, ETA Friday",
        "reason": "customer asked",
        "number": 1042,
    }
    if want is None:
        with pytest.raises(Refused) as err:
            lifecycle.apply(tl, state, action, at, **kwargs)
        message = str(err.value)
        assert "ticket 1042" in message
        assert action.value in message or "hold" in message
        return
    after, new_tl = lifecycle.apply(tl, state, action, at, **kwargs)
    assert after is want
    if action is A.HOLD:
        assert new_tl.holds[-1] == HoldSpan(HoldReason.PARTS, at, None, "PO 4471, ETA Friday")
    elif action is A.RESUME:
        assert new_tl.holds[-1].end == at
    elif action is A.RESTORE:
        assert new_tl.turbine_restored_at == at
    elif action is A.REOPEN:
        assert new_tl.reopened_at == at
    elif action is A.RETURN:
        assert new_tl.report_returned_at == at and new_tl.report_at is None
    elif action is A.CANCEL:
        assert new_tl.cancelled_at == at
        assert all(h.end is not None for h in new_tl.holds)


@pytest.mark.parametrize("state", list(S))
def test_restore_needs_a_stopped_turbine(state: TicketState) -> None:
    tl = timeline_for(state)
    assert A.RESTORE not in lifecycle.allowed_actions(
        state, category=Category.FAULT, on_hold=False, turbine_down=False
    )
    with pytest.raises(Refused, match="not down"):
        lifecycle.apply(tl, state, A.RESTORE, T0 + timedelta(days=3))


def test_messages_say_why() -> None:
    with pytest.raises(Refused) as err:
        lifecycle.check(
            S.ON_SITE,
            A.ACK,
            category=Category.FAULT,
            on_hold=False,
            turbine_down=False,
            number=1042,
        )
    assert str(err.value) == "ticket 1042 is on site: 'ack' is only allowed from received"
    with pytest.raises(Refused, match="needs no site visit"):
        lifecycle.check(
            S.FEEDBACK_GIVEN,
            A.DISPATCH,
            category=Category.DATA_ANALYSIS,
            on_hold=False,
            turbine_down=False,
        )


def test_reopen_goes_back_to_last_contact_step_and_clears_the_cycle() -> None:
    at = T0 + timedelta(days=5)
    tl = timeline_for(S.CLOSED, report_returned_at=T0 + timedelta(hours=7))
    state, new = lifecycle.apply(tl, S.CLOSED, A.REOPEN, at, reason="fault came back")
    assert state is S.FEEDBACK_GIVEN
    assert new.reopened_at == at
    assert new.acknowledged_at == tl.acknowledged_at and new.feedback_at == tl.feedback_at
    for name in ("dispatched_at", "arrived_at", "resolved_at", "report_at", "closed_at"):
        assert getattr(new, name) is None
    assert new.report_returned_at is None
    # Cancelled before acknowledgement: back to received.
    plain = Timeline(category=Category.FAULT, priority=tl.priority, received_at=T0, cancelled_at=T0)
    assert lifecycle.apply(plain, S.CANCELLED, A.REOPEN, at, reason="x")[0] is S.RECEIVED
    ack_only = replace(plain, acknowledged_at=T0)
    assert lifecycle.apply(ack_only, S.CANCELLED, A.REOPEN, at, reason="x")[0] is S.ACKNOWLEDGED


@pytest.mark.parametrize("action", [A.CANCEL, A.REOPEN])
def test_cancel_and_reopen_need_a_reason(action: Action) -> None:
    state = S.RECEIVED if action is A.CANCEL else S.CLOSED
    with pytest.raises(Refused, match="needs a reason"):
        lifecycle.apply(timeline_for(state), state, action, T0 + timedelta(days=9), reason="  ")


def test_hold_needs_reason_and_evidence() -> None:
    tl = timeline_for(S.DISPATCHED)
    at = T0 + timedelta(days=1)
    with pytest.raises(Refused, match="needs a reason"):
        lifecycle.apply(tl, S.DISPATCHED, A.HOLD, at, evidence="x")
    with pytest.raises(Refused, match="evidence"):
        lifecycle.apply(tl, S.DISPATCHED, A.HOLD, at, hold_reason=HoldReason.WEATHER)


def test_at_before_previous_milestone_is_refused_naming_it() -> None:
    tl = timeline_for(S.EN_ROUTE)
    with pytest.raises(Refused, match="departed"):
        lifecycle.apply(tl, S.EN_ROUTE, A.ARRIVE, tl.departed_at - timedelta(minutes=1))
    # The same instant is fine; restore only has to follow the stop.
    assert lifecycle.apply(tl, S.EN_ROUTE, A.ARRIVE, tl.departed_at)[0] is S.ON_SITE
    stopped = replace(tl, turbine_stopped_at=T0 + timedelta(minutes=10))
    restored = lifecycle.apply(stopped, S.EN_ROUTE, A.RESTORE, T0 + timedelta(minutes=20))[1]
    assert restored.turbine_restored_at == T0 + timedelta(minutes=20)
    with pytest.raises(Refused, match="turbine stop"):
        lifecycle.apply(stopped, S.EN_ROUTE, A.RESTORE, T0)


def test_hold_history_orders_instants() -> None:
    tl = timeline_for(
        S.DISPATCHED,
        holds=(HoldSpan(HoldReason.PARTS, T0 + timedelta(hours=4), T0 + timedelta(hours=9)),),
    )
    with pytest.raises(Refused, match="end of the hold"):
        lifecycle.apply(tl, S.DISPATCHED, A.DEPART, T0 + timedelta(hours=8))


def test_timeline_changes_lists_fields() -> None:
    tl = timeline_for(S.REPORT_SUBMITTED)
    _, new = lifecycle.apply(tl, S.REPORT_SUBMITTED, A.RETURN, T0 + timedelta(days=1))
    changes = lifecycle.timeline_changes(tl, new)
    assert changes == {
        "report_at": (tl.report_at, None),
        "report_returned_at": (None, T0 + timedelta(days=1)),
    }


# ------------------------------------------------------------------------- reclassification

NO_VISIT = (Category.CONSULTING, Category.DATA_ANALYSIS)
VISIT = tuple(c for c in Category if c.needs_site_visit)
OPEN_STATES = tuple(s for s in S if s.is_open)


@pytest.mark.parametrize("state", [S.CLOSED, S.CANCELLED])
def test_reclassify_refuses_closed_and_cancelled_tickets(state: TicketState) -> None:
    for category in (None, *Category):
        with pytest.raises(Refused, match=f"ticket 7 is {state.value}: reopen it"):
            lifecycle.check_reclassify(state, category, visited=True, number=7)


@pytest.mark.parametrize("state", OPEN_STATES)
def test_reclassify_priority_only_is_allowed_in_every_open_state(state: TicketState) -> None:
    assert lifecycle.reclassify_refusal(state, None) is None


@pytest.mark.parametrize("state", [S.DISPATCHED, S.EN_ROUTE, S.ON_SITE])
def test_no_site_visit_category_is_refused_while_a_technician_is_out(state: TicketState) -> None:
    for category in NO_VISIT:
        why = lifecycle.reclassify_refusal(state, category, visited=state is S.ON_SITE)
        assert why is not None and "needs no site visit" in why
    for category in VISIT:
        assert lifecycle.reclassify_refusal(state, category) is None


@pytest.mark.parametrize("state", [S.RESOLVED, S.REPORT_SUBMITTED, S.REVIEWED, S.FOLLOWED_UP])
def test_site_visit_category_after_resolution_needs_an_arrival(state: TicketState) -> None:
    for category in VISIT:
        with pytest.raises(Refused, match="resolved without a site visit"):
            lifecycle.check_reclassify(state, category, visited=False)
        lifecycle.check_reclassify(state, category, visited=True)
    for category in NO_VISIT:  # the visit stays in the history; the category needs none
        lifecycle.check_reclassify(state, category, visited=True)
        lifecycle.check_reclassify(state, category, visited=False)


@pytest.mark.parametrize("state", [S.RECEIVED, S.ACKNOWLEDGED, S.FEEDBACK_GIVEN])
def test_any_category_before_dispatch(state: TicketState) -> None:
    for category in Category:
        assert lifecycle.reclassify_refusal(state, category) is None


@pytest.mark.parametrize("state", HOLDABLE)
@pytest.mark.parametrize("turbine_down", [False, True])
def test_on_hold_refusal_lists_only_what_is_allowed_in_that_state(
    state: TicketState, turbine_down: bool
) -> None:
    """Feedback is offered only from acknowledged, restore only while the turbine is down."""
    allowed = lifecycle.allowed_actions(
        state, category=Category.FAULT, on_hold=True, turbine_down=turbine_down
    )
    want = (
        *((A.FEEDBACK,) if state is S.ACKNOWLEDGED else ()),
        A.RESUME,
        A.CANCEL,
        *((A.RESTORE,) if turbine_down else ()),
    )
    assert allowed == want
    blocked = A.DEPART if state is S.ACKNOWLEDGED else A.FEEDBACK
    why = lifecycle.refusal(
        state,
        blocked,
        category=Category.FAULT,
        on_hold=True,
        turbine_down=turbine_down,
        number=1003,
    )
    assert why == (
        f"ticket 1003 is on hold: '{blocked.value}' must wait until it is resumed"
        f" (allowed now: {', '.join(a.value for a in want)})"
    )
