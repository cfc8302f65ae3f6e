"""The ticket lifecycle: which action is allowed in which state, and what it changes.

Pure Python. The service flow follows the policy (§三): received → acknowledged → feedback given →
dispatched → en route → on site → resolved → report submitted → reviewed → followed up → closed.
Consulting and data-analysis tickets skip the site visit (feedback given → resolved). ``hold`` and
``resume`` pause work without changing the state; ``restore`` only records that the stopped turbine
is back in service. Every refusal raises :class:`~windtui.errors.Refused` saying why, translated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from windtui.domain.model import (
    TIMELINE_INSTANTS,
    Action,
    Category,
    HoldReason,
    HoldSpan,
    TicketState,
    Timeline,
)
from windtui.errors import Refused
from windtui.i18n import _

S = TicketState

# The forward flow: action -> (states it is allowed from, state it leads to). RESOLVE is
# special-cased for tickets without a site visit, REOPEN for its target (see next_state).
_FLOW: dict[Action, tuple[tuple[TicketState, ...], TicketState | None]] = {
    Action.ACK: ((S.RECEIVED,), S.ACKNOWLEDGED),
    Action.FEEDBACK: ((S.ACKNOWLEDGED,), S.FEEDBACK_GIVEN),
    Action.DISPATCH: ((S.FEEDBACK_GIVEN,), S.DISPATCHED),
    Action.DEPART: ((S.DISPATCHED,), S.EN_ROUTE),
    Action.ARRIVE: ((S.EN_ROUTE,), S.ON_SITE),
    Action.RESOLVE: ((S.ON_SITE,), S.RESOLVED),
    Action.SUBMIT: ((S.RESOLVED,), S.REPORT_SUBMITTED),
    Action.APPROVE: ((S.REPORT_SUBMITTED,), S.REVIEWED),
    Action.RETURN: ((S.REPORT_SUBMITTED,), S.RESOLVED),
    Action.FOLLOWUP: ((S.REVIEWED,), S.FOLLOWED_UP),
    Action.CLOSE: ((S.FOLLOWED_UP,), S.CLOSED),
    Action.CANCEL: (
        (S.RECEIVED, S.ACKNOWLEDGED, S.FEEDBACK_GIVEN, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE),
        S.CANCELLED,
    ),
    Action.REOPEN: (
        (S.RESOLVED, S.REPORT_SUBMITTED, S.REVIEWED, S.FOLLOWED_UP, S.CLOSED, S.CANCELLED),
        None,
    ),
    Action.HOLD: ((S.ACKNOWLEDGED, S.FEEDBACK_GIVEN, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE), None),
}

#: Actions that only exist for tickets that need a site visit.
SITE_VISIT_ACTIONS = frozenset({Action.DISPATCH, Action.DEPART, Action.ARRIVE})

#: While a hold is open only these may happen (feedback only from acknowledged: the desk can
#: always call the customer back).
_WHILE_ON_HOLD = frozenset({Action.RESUME, Action.CANCEL, Action.FEEDBACK, Action.RESTORE})

#: States in which the owner may be (re)assigned without a state change (``Desk.assign``).
ASSIGNABLE_STATES = (S.ACKNOWLEDGED, S.FEEDBACK_GIVEN, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE)

#: Actions whose free-text ``reason`` is required.
REASON_REQUIRED = frozenset({Action.CANCEL, Action.REOPEN})

#: Timeline milestone set by each forward action.
_MILESTONE: dict[Action, str] = {
    Action.ACK: "acknowledged_at",
    Action.FEEDBACK: "feedback_at",
    Action.DISPATCH: "dispatched_at",
    Action.DEPART: "departed_at",
    Action.ARRIVE: "arrived_at",
    Action.RESOLVE: "resolved_at",
    Action.SUBMIT: "report_at",
    Action.APPROVE: "reviewed_at",
    Action.RETURN: "report_returned_at",
    Action.FOLLOWUP: "followup_at",
    Action.CLOSE: "closed_at",
    Action.CANCEL: "cancelled_at",
    Action.REOPEN: "reopened_at",
    Action.RESTORE: "turbine_restored_at",
}

#: Milestones of the service cycle that a reopen starts again (old values stay in the event log).
_CLEARED_BY_REOPEN = (
    "dispatched_at",
    "departed_at",
    "arrived_at",
    "resolved_at",
    "report_at",
    "report_returned_at",
    "reviewed_at",
    "followup_at",
    "closed_at",
    "cancelled_at",
)

#: The turbine's own instants: facts about the machine, not steps of the service workflow.
_TURBINE_INSTANTS = frozenset({"turbine_stopped_at", "turbine_restored_at"})

#: Workflow milestones in chain order; an action may not be dated before any of them.
MILESTONES = tuple(name for name in TIMELINE_INSTANTS if name not in _TURBINE_INSTANTS)


def _who(number: int | None) -> str:
    """How messages name the ticket."""
    return _("ticket {number}").format(number=number) if number is not None else _("the ticket")


def _states(states: tuple[TicketState, ...]) -> str:
    return ", ".join(_(s.label).lower() for s in states)


def is_on_hold(timeline: Timeline) -> bool:
    """True while the timeline has a hold without an end."""
    return any(h.end is None for h in timeline.holds)


def is_turbine_down(timeline: Timeline) -> bool:
    """True while the turbine is stopped and not yet restored."""
    return timeline.turbine_stopped_at is not None and timeline.turbine_restored_at is None


def refusal(
    state: TicketState,
    action: Action,
    *,
    category: Category,
    on_hold: bool,
    turbine_down: bool,
    number: int | None = None,
) -> str | None:
    """Why ``action`` is not allowed now (translated), or None when it is allowed."""
    who = _who(number)
    act = action.value
    if action is Action.RESTORE:
        if turbine_down:
            return None
        return _("{who}: the turbine is not down, so there is nothing to restore").format(who=who)
    if action in SITE_VISIT_ACTIONS and not category.needs_site_visit:
        return _(
            "{who} is a {category} ticket: it needs no site visit, so '{action}' is not allowed"
        ).format(who=who, category=_(category.label).lower(), action=act)
    if on_hold:
        if action is Action.HOLD:
            return _("{who} is already on hold: resume it first").format(who=who)
        if _held_back(state, action):
            # Name what *is* allowed in this state (feedback only from acknowledged, restore only
            # while the turbine is down), not a fixed list that may offer a refused action.
            allowed = allowed_actions(
                state, category=category, on_hold=True, turbine_down=turbine_down
            )
            return _(
                "{who} is on hold: '{action}' must wait until it is resumed"
                " (allowed now: {actions})"
            ).format(who=who, action=act, actions=", ".join(a.value for a in allowed))
    elif action is Action.RESUME:
        return _("{who} is not on hold: there is nothing to resume").format(who=who)
    if action is Action.RESUME:
        return None
    sources = _sources(action, category)
    if state in sources:
        return None
    return _("{who} is {state}: '{action}' is only allowed from {sources}").format(
        who=who, state=_(state.label).lower(), action=act, sources=_states(sources)
    )


def _held_back(state: TicketState, action: Action) -> bool:
    """True when an open hold blocks ``action`` in ``state`` (whatever else would allow it)."""
    return action not in _WHILE_ON_HOLD or (
        action is Action.FEEDBACK and state is not S.ACKNOWLEDGED
    )


def _sources(action: Action, category: Category) -> tuple[TicketState, ...]:
    """The states ``action`` may start from for a ticket of ``category``."""
    if action is Action.RESOLVE and not category.needs_site_visit:
        return (S.FEEDBACK_GIVEN,)
    return _FLOW[action][0]


def allowed_actions(
    state: TicketState, *, category: Category, on_hold: bool, turbine_down: bool
) -> tuple[Action, ...]:
    """Every action allowed now, in :class:`Action` order."""
    # Actions an open hold blocks are skipped up front: they are refused anyway, and asking
    # ``refusal`` about them would recurse (its on-hold message lists these allowed actions).
    return tuple(
        a
        for a in Action
        if not (on_hold and _held_back(state, a))
        and refusal(state, a, category=category, on_hold=on_hold, turbine_down=turbine_down) is None
    )


def check(
    state: TicketState,
    action: Action,
    *,
    category: Category,
    on_hold: bool,
    turbine_down: bool,
    number: int | None = None,
) -> None:
    """Raise :class:`Refused` saying why ``action`` is not allowed in ``state``."""
    why = refusal(
        state, action, category=category, on_hold=on_hold, turbine_down=turbine_down, number=number
    )
    if why is not None:
        raise Refused(why)


#: States in which a technician is out on the ticket: only a site-visit category can be in them.
_SITE_VISIT_STATES = (S.DISPATCHED, S.EN_ROUTE, S.ON_SITE)

#: States after resolution: a site-visit category only gets here through an arrival on site.
_AFTER_RESOLUTION = (S.RESOLVED, S.REPORT_SUBMITTED, S.REVIEWED, S.FOLLOWED_UP)


def reclassify_refusal(
    state: TicketState,
    new_category: Category | None = None,
    *,
    visited: bool = False,
    number: int | None = None,
) -> str | None:
    """Why a ticket in ``state`` cannot be re-prioritised / moved to ``new_category`` (or None).

    ``new_category`` is None for a priority-only change; ``visited`` says whether a technician
    arrived on site in the current service cycle (``timeline.arrived_at`` is set). The rule keeps
    the (state, category) pair one the flow could have produced, so every later action and the
    SLA engine's clock chain still make sense:

    * a closed or cancelled ticket is history: reopen it first (its clocks are final);
    * a category without a site visit cannot be dispatched, en route or on site;
    * a site-visit category cannot be resolved (or later) without an arrival on site.
    """
    who = _who(number)
    if not state.is_open:
        return _("{who} is {state}: reopen it before changing its priority or category").format(
            who=who, state=_(state.label).lower()
        )
    if new_category is None:
        return None
    if not new_category.needs_site_visit and state in _SITE_VISIT_STATES:
        return _(
            "{who} is {state}: a {category} ticket needs no site visit, so it cannot be"
            " {state}: change the category once the visit is resolved"
        ).format(who=who, state=_(state.label).lower(), category=_(new_category.label).lower())
    if new_category.needs_site_visit and state in _AFTER_RESOLUTION and not visited:
        return _(
            "{who} was resolved without a site visit: it cannot become a {category} ticket,"
            " which needs one"
        ).format(who=who, category=_(new_category.label).lower())
    return None


def check_reclassify(
    state: TicketState,
    new_category: Category | None = None,
    *,
    visited: bool = False,
    number: int | None = None,
) -> None:
    """Raise :class:`Refused` saying why the change is refused (see :func:`reclassify_refusal`)."""
    why = reclassify_refusal(state, new_category, visited=visited, number=number)
    if why is not None:
        raise Refused(why)


def reopen_target(timeline: Timeline) -> TicketState:
    """Where a reopen lands: back to the last of feedback/acknowledgement that happened."""
    if timeline.feedback_at is not None:
        return S.FEEDBACK_GIVEN
    if timeline.acknowledged_at is not None:
        return S.ACKNOWLEDGED
    return S.RECEIVED


def next_state(
    state: TicketState, action: Action, *, category: Category, timeline: Timeline
) -> TicketState:
    """The state after ``action`` (assumes :func:`check` passed)."""
    if action in (Action.HOLD, Action.RESUME, Action.RESTORE):
        return state
    if action is Action.REOPEN:
        return reopen_target(timeline)
    target = _FLOW[action][1]
    assert target is not None
    return target


def latest_milestone(timeline: Timeline) -> tuple[str, datetime]:
    """The latest workflow instant on the timeline (field name, instant); holds count too."""
    best = ("received_at", timeline.received_at)
    for name in MILESTONES:
        value = getattr(timeline, name)
        if value is not None and value > best[1]:
            best = (name, value)
    for hold in timeline.holds:
        for name, value in (("hold_start", hold.start), ("hold_end", hold.end)):
            if value is not None and value > best[1]:
                best = (name, value)
    return best


def check_instant(
    timeline: Timeline, action: Action, at: datetime, number: int | None = None
) -> None:
    """Refuse an ``at`` earlier than the milestone it must follow (naming that milestone).

    ``restore`` only has to follow the turbine stop: the turbine may come back at any point of the
    workflow and is often logged late.
    """
    if action is Action.RESTORE:
        name, previous = "turbine_stopped_at", timeline.turbine_stopped_at
        if previous is None:
            return
    else:
        name, previous = latest_milestone(timeline)
    if at < previous:
        raise Refused(
            _("{who}: {at} is before {milestone} ({previous})").format(
                who=_who(number),
                at=at.isoformat(timespec="minutes"),
                milestone=milestone_label(name),
                previous=previous.isoformat(timespec="minutes"),
            )
        )


_MILESTONE_LABELS = {
    "received_at": "received",
    "acknowledged_at": "acknowledged",
    "feedback_at": "feedback",
    "dispatched_at": "dispatched",
    "departed_at": "departed",
    "arrived_at": "arrived",
    "resolved_at": "resolved",
    "report_at": "report submitted",
    "report_returned_at": "report returned",
    "reviewed_at": "reviewed",
    "followup_at": "followed up",
    "closed_at": "closed",
    "cancelled_at": "cancelled",
    "reopened_at": "reopened",
    "hold_start": "the start of the hold",
    "hold_end": "the end of the hold",
    "turbine_stopped_at": "the turbine stop",
    "turbine_restored_at": "the turbine restore",
}


def milestone_label(name: str) -> str:
    """A timeline field's display name (translated)."""
    return _(_MILESTONE_LABELS.get(name, name))


def apply(
    timeline: Timeline,
    state: TicketState,
    action: Action,
    at: datetime,
    *,
    hold_reason: HoldReason | None = None,
    evidence: str = "",
    reason: str | None = None,
    number: int | None = None,
) -> tuple[TicketState, Timeline]:
    """Check ``action`` and return the new state and timeline with the milestone set at ``at``.

    Raises :class:`Refused` for an illegal action, a missing hold reason/evidence or a missing
    cancel/reopen reason, and for an ``at`` earlier than the previous milestone.
    """
    check(
        state,
        action,
        category=timeline.category,
        on_hold=is_on_hold(timeline),
        turbine_down=is_turbine_down(timeline),
        number=number,
    )
    _check_inputs(action, hold_reason, evidence, reason)
    check_instant(timeline, action, at, number)
    after = next_state(state, action, category=timeline.category, timeline=timeline)
    return after, _stamp(timeline, action, at, hold_reason, evidence)


def _check_inputs(
    action: Action, hold_reason: HoldReason | None, evidence: str, reason: str | None
) -> None:
    if action is Action.HOLD:
        if hold_reason is None:
            raise Refused(
                _("a hold needs a reason: one of {choices}").format(
                    choices=", ".join(r.value for r in HoldReason)
                )
            )
        if not evidence.strip():
            raise Refused(_("a hold needs evidence (what was seen, who said so)"))
    if action in REASON_REQUIRED and not (reason or "").strip():
        raise Refused(_("'{action}' needs a reason").format(action=action.value))


def _stamp(
    timeline: Timeline,
    action: Action,
    at: datetime,
    hold_reason: HoldReason | None,
    evidence: str,
) -> Timeline:
    """The timeline after ``action`` at ``at`` (no checks)."""
    if action is Action.HOLD:
        assert hold_reason is not None
        return replace(
            timeline,
            holds=(*timeline.holds, HoldSpan(hold_reason, at, None, evidence.strip())),
        )
    if action is Action.RESUME:
        return replace(timeline, holds=_close_holds(timeline.holds, at))
    changes: dict[str, object] = {_MILESTONE[action]: at}
    if action is Action.RETURN:
        changes["report_at"] = None
    elif action is Action.CANCEL:
        # A cancelled ticket keeps no open hold: the hold ends with the ticket.
        changes["holds"] = _close_holds(timeline.holds, at)
    elif action is Action.REOPEN:
        changes.update(dict.fromkeys(_CLEARED_BY_REOPEN))
    return replace(timeline, **changes)


def _close_holds(holds: tuple[HoldSpan, ...], at: datetime) -> tuple[HoldSpan, ...]:
    return tuple(replace(h, end=at) if h.end is None else h for h in holds)


def timeline_changes(before: Timeline, after: Timeline) -> dict[str, tuple[object, object]]:
    """Changed timeline fields (``holds`` excluded) as ``{field: (old, new)}``, for event rows."""
    out: dict[str, tuple[object, object]] = {}
    for name in TIMELINE_INSTANTS:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            out[name] = (old, new)
    return out
