"""The SLA engine: the seven clocks of a ticket at an instant, and the turbine downtime clock.

:func:`compute_clocks` is THE answer to "what is this clock's state at instant t". It works from
first principles every call: which span the clock covers, which holds pause it, the business
seconds on the clock's calendar.

:func:`plan_ticket` + :func:`evaluate` are the cached path used by the refresh board. A plan holds
what stays constant until the ticket, the policy or a calendar changes: per clock the start, the
due and at-risk instants, the cumulative-business-seconds offset, or the frozen clock for clocks
that cannot change before the next event (met, breached-and-stopped, cancelled, not started,
breached and then held). Evaluating a running clock then costs one ``cum(now)``. The property
tests check that both paths agree for any instant at or after the ticket's last event.

Each clock counts on its own calendar (the policy's per-target choice, else the farm's, in the
calendar's timezone, else the farm's): the desk's acknowledge/feedback clocks may run 24×7 while
on-site counts the farm's working day. A plan keeps each clock's calendar, so ``cum(now)`` is
always asked of the right one.

Everything is in epoch seconds and per-calendar cumulative business seconds (see
:mod:`windtui.domain.calendar`); datetimes appear only at the edges.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NamedTuple

from windtui.domain.calendar import BusinessCalendar
from windtui.domain.model import (
    TIMELINE_INSTANTS,
    Category,
    Clock,
    ClockState,
    Downtime,
    HoldReason,
    HoldSpan,
    Priority,
    Target,
    Timeline,
)
from windtui.domain.policy import ALWAYS_OPEN, PolicySet, ResolvedPolicy

CHAIN: tuple[Target, ...] = tuple(Target)
_CHAIN_INDEX = {target: index for index, target in enumerate(CHAIN)}
_SITE_TARGETS = frozenset({Target.ONSITE, Target.REPAIR})

Pause = tuple[float, float]  # a merged pausing interval in epoch seconds; end may be +inf (open)

# The timeline fields the chain rules read (the others only matter to ``last_event``/downtime).
_CHAIN_FIELDS = (
    "received_at",
    "acknowledged_at",
    "feedback_at",
    "arrived_at",
    "resolved_at",
    "report_at",
    "report_returned_at",
    "reviewed_at",
    "followup_at",
    "closed_at",
    "cancelled_at",
    "reopened_at",
)


class _Chain(NamedTuple):
    """Where the seven clocks start and stop, in epoch seconds, whatever ``now`` is."""

    starts: tuple[float | None, ...]  # per clock in chain order; None: not started
    stops: tuple[float | None, ...]  # the milestone that stops it (only when >= start)
    frozen_at: float | None  # cancellation/closing that freezes a clock not stopped by then
    moments: dict[float, datetime]  # the datetime each epoch second came from (for Clock fields)


class _Span(NamedTuple):
    """Where one clock runs, whatever ``now`` is (a tuple: planning builds ~35,000 of them)."""

    target: Target
    applicable: bool  # False: on-site/repair of a ticket that needs no site visit
    start: float | None
    stop: float | None  # the milestone that stops it (valid only when >= start)
    start_at: datetime | None  # ``start`` as the timeline's datetime
    stop_at: datetime | None  # ``stop`` as the timeline's datetime
    frozen_at: float | None  # cancellation/closing that freezes a clock not stopped by then
    pauses: tuple[Pause, ...]  # merged holds that pause this target, sorted
    open_reason: HoldReason | None  # reason of an open pausing hold, if any


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# -- inputs shared by both paths ---------------------------------------------------------------


def resolved_calendars(
    policy: PolicySet, resolved: ResolvedPolicy, *, farm_tz: str, farm_calendar: str
) -> tuple[BusinessCalendar, ...]:
    """Each clock's calendar in chain order: the policy's choice for its target, else the farm's
    (``24x7`` if the farm names none); in the calendar's own timezone, else the farm's.

    ``PolicySet.calendar`` caches by (name, timezone), so clocks on the same calendar share one
    object and its lazily grown table.
    """
    fallback = farm_calendar or ALWAYS_OPEN
    return tuple(policy.calendar(resolved.calendars[t] or fallback, farm_tz) for t in CHAIN)


def _merge_pauses(holds: tuple[HoldSpan, ...], reasons: frozenset[HoldReason]) -> tuple[Pause, ...]:
    """Holds with a pausing reason as sorted, merged ``(start, end)`` intervals (open = inf)."""
    spans = sorted(
        (h.start.timestamp(), math.inf if h.end is None else h.end.timestamp())
        for h in holds
        if h.reason in reasons
    )
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged if e > s)


def _open_reason(holds: tuple[HoldSpan, ...], reasons: frozenset[HoldReason]) -> HoldReason | None:
    """The reason of the open hold that pauses a clock paused by ``reasons``, if any."""
    return next((h.reason for h in holds if h.end is None and h.reason in reasons), None)


def _pausing(
    holds: tuple[HoldSpan, ...], reasons: frozenset[HoldReason]
) -> tuple[tuple[Pause, ...], HoldReason | None]:
    """The merged pauses and the open pausing reason of a clock paused by ``reasons``."""
    return _merge_pauses(holds, reasons), _open_reason(holds, reasons)


def _chain(timeline: Timeline) -> _Chain:
    """The chain rules: each clock's start and stop milestone (see ``data/sla-policy.toml``).

    Works on epoch seconds, each instant converted once: comparing floats is what makes planning
    10,000 tickets cheap, and ``timestamp()`` is strictly monotone for microsecond datetimes.
    """
    moments: dict[float, datetime] = {}
    at: dict[str, float] = {}
    for name in _CHAIN_FIELDS:
        value = getattr(timeline, name)
        if value is not None:
            ts = value.timestamp()
            at[name] = ts
            moments[ts] = value
    reopened = at.get("reopened_at")
    # After a reopen only milestones of the new service cycle count. The cycle includes the
    # reopen instant itself: the desk accepts an action at exactly the previous milestone's
    # instant (a frozen ``--now``, minute-precision ``--at``), and the reopen cleared every older
    # milestone of the cycle, so one stamped at R was stamped after the reopen.
    current = (at if reopened is None else {k: v for k, v in at.items() if v >= reopened}).get

    received = at["received_at"]
    starts: list[float | None] = []
    stops: list[float | None] = []
    for name in ("acknowledged_at", "feedback_at"):
        milestone = at.get(name)
        if reopened is not None and (milestone is None or milestone >= reopened):
            start = reopened  # not met before the reopen: measured in the new cycle
        else:
            start = received  # met strictly before the reopen: keeps its result
        starts.append(start)
        stops.append(_valid_stop(start, milestone))
    onsite_start = received if reopened is None else max(received, reopened)
    arrived = _valid_stop(onsite_start, current("arrived_at"))
    resolved_at = current("resolved_at")
    returned = current("report_returned_at")
    report_start = (
        resolved_at if returned is None or resolved_at is None else max(resolved_at, returned)
    )
    report_at = _valid_stop(report_start, current("report_at"))
    reviewed = _valid_stop(report_at, current("reviewed_at"))
    starts += (onsite_start, arrived, report_start, report_at, reviewed)
    # arrived, report_at and reviewed are already valid stops of their own clocks.
    stops += (
        arrived,
        _valid_stop(arrived, resolved_at),
        report_at,
        reviewed,
        _valid_stop(reviewed, current("followup_at")),
    )
    ends = [e for e in (current("cancelled_at"), current("closed_at")) if e is not None]
    return _Chain(
        starts=tuple(starts),
        stops=tuple(stops),
        frozen_at=min(ends, default=None),
        moments=moments,
    )


def _valid_stop(start: float | None, stop: float | None) -> float | None:
    """``stop`` when it is a milestone at or after ``start`` (else the clock is not stopped)."""
    return stop if start is not None and stop is not None and stop >= start else None


def _span(
    chain: _Chain,
    index: int,
    target: Target,
    applicable: bool,
    pauses: tuple[Pause, ...],
    open_reason: HoldReason | None,
) -> _Span:
    """Clock ``index`` of the chain as a :class:`_Span`."""
    start, stop = chain.starts[index], chain.stops[index]
    return _Span(
        target=target,
        applicable=applicable,
        start=start,
        stop=stop,
        start_at=None if start is None else chain.moments[start],
        stop_at=None if stop is None else chain.moments[stop],
        frozen_at=chain.frozen_at,
        pauses=pauses,
        open_reason=open_reason,
    )


def _spans(timeline: Timeline, resolved: ResolvedPolicy) -> tuple[_Span, ...]:
    """Start/stop/freeze/pauses of the seven clocks, in chain order."""
    chain = _chain(timeline)
    site = timeline.category.needs_site_visit
    spans: list[_Span] = []
    for index, target in enumerate(CHAIN):
        applicable = site or target not in _SITE_TARGETS
        pausing = _pausing(timeline.holds, resolved.paused_by(target))
        spans.append(_span(chain, index, target, applicable, *pausing))
    return tuple(spans)


def _paused_between(cal: BusinessCalendar, pauses: tuple[Pause, ...], a: float, b: float) -> float:
    """Business seconds in ``[a, b]`` covered by pauses."""
    total = 0.0
    for start, end in pauses:
        lo, hi = max(start, a), min(end, b)
        if hi > lo:
            total += cal.cum(hi) - cal.cum(lo)
    return total


def _reach(
    cal: BusinessCalendar, start: float, pauses: tuple[Pause, ...], budget: float, resume: float
) -> float:
    """The instant the clock's elapsed time reaches ``budget``; an open pause resumes at ``resume``.

    Walks the working segments between pauses; pauses after the instant do not matter.
    """
    cursor = start
    for p_start, p_end in pauses:
        if p_end <= cursor:
            continue
        p_start = max(p_start, cursor)
        available = cal.cum(p_start) - cal.cum(cursor)
        if budget <= available:
            break
        budget -= available
        cursor = resume if math.isinf(p_end) else p_end
    return cal.at_cum(cal.cum(cursor) + budget)


def _risk_seconds(resolved: ResolvedPolicy, target: Target) -> float:
    # One formula for both paths so they agree to the last bit.
    return resolved.targets[target] * resolved.at_risk_percent / 100.0


def _not_started(target: Target, seconds: float, calendar: str) -> Clock:
    return Clock(target, ClockState.NOT_APPLICABLE, seconds, started=False, calendar=calendar)


def _clipped(pauses: tuple[Pause, ...], stop: float | None) -> tuple[Pause, ...]:
    """The pauses that concern a clock stopped at ``stop``: holds after the stop do not."""
    if stop is None or not pauses:
        return pauses
    return tuple((s, min(e, stop)) for s, e in pauses if s < stop)


def _elapsed(cal: BusinessCalendar, start: float, end: float, pauses: tuple[Pause, ...]) -> float:
    """Business seconds on the clock between ``start`` and ``end`` (pauses excluded).

    The one formula both paths use, so they agree to the last bit.
    """
    return cal.cum(end) - (cal.cum(start) + _paused_between(cal, pauses, start, end))


# -- the direct path ---------------------------------------------------------------------------


def _direct_clock(
    span: _Span, cal: BusinessCalendar, resolved: ResolvedPolicy, now: float
) -> Clock:
    """One clock at ``now`` from first principles (inputs already limited to ``<= now``)."""
    target = span.target
    seconds = resolved.targets[target]
    start, stop = span.start, span.stop
    if not span.applicable or start is None:
        return _not_started(target, seconds, cal.name)
    cancelled = stop is None and span.frozen_at is not None
    end = stop if stop is not None else (span.frozen_at if cancelled else now)
    pauses = _clipped(span.pauses, stop)
    elapsed = _elapsed(cal, start, end, pauses)
    percent = 100.0 * elapsed / seconds
    if cancelled:
        return Clock(
            target,
            ClockState.NOT_APPLICABLE,
            seconds,
            started=True,
            start=span.start_at,
            elapsed_seconds=elapsed,
            percent_used=percent,
            calendar=cal.name,
        )
    due = _utc(_reach(cal, start, pauses, seconds, now))
    common = {
        "started": True,
        "start": span.start_at,
        "due": due,
        "elapsed_seconds": elapsed,
        "remaining_seconds": seconds - elapsed,
        "percent_used": percent,
        "calendar": cal.name,
    }
    if stop is not None:
        return Clock(
            target, _stopped_state(elapsed, seconds), seconds, met_at=span.stop_at, **common
        )
    if pauses and math.isinf(pauses[-1][1]):  # held now: elapsed stopped at the hold
        # A hold never hides a breach: a clock breached before the hold stays breached (its
        # remaining time negative and constant while held) and says why it is held.
        state = ClockState.BREACHED if elapsed >= seconds else ClockState.PAUSED
        return Clock(target, state, seconds, hold_reason=span.open_reason, **common)
    if elapsed >= seconds:
        state = ClockState.BREACHED
    elif elapsed >= _risk_seconds(resolved, target):
        state = ClockState.AT_RISK
    else:
        state = ClockState.RUNNING
    return Clock(target, state, seconds, **common)


def _stopped_state(elapsed: float, seconds: float) -> ClockState:
    """A stopped clock is met when its milestone came within the target, else breached."""
    return ClockState.MET if elapsed <= seconds else ClockState.BREACHED


def _as_of(timeline: Timeline, now: datetime) -> Timeline:
    """The timeline as it was known at ``now``: later milestones and holds are dropped."""
    changes: dict[str, object] = {
        name: None
        for name in TIMELINE_INSTANTS
        if (value := getattr(timeline, name)) is not None and value > now
    }
    holds = tuple(
        h if h.end is None or h.end <= now else replace(h, end=None)
        for h in timeline.holds
        if h.start <= now
    )
    if holds != timeline.holds:
        changes["holds"] = holds
    return replace(timeline, **changes) if changes else timeline


def compute_clocks(
    timeline: Timeline,
    policy: PolicySet,
    *,
    farm_tz: str,
    farm_calendar: str,
    now: datetime,
) -> tuple[Clock, ...]:
    """The seven clocks of a ticket at ``now``, in chain order (events after ``now`` ignored)."""
    resolved = policy.resolve(
        contract=timeline.contract, priority=timeline.priority, category=timeline.category
    )
    cals = resolved_calendars(policy, resolved, farm_tz=farm_tz, farm_calendar=farm_calendar)
    if timeline.received_at > now:
        return tuple(
            _not_started(t, resolved.targets[t], cal.name)
            for t, cal in zip(CHAIN, cals, strict=True)
        )
    known = _as_of(timeline, now)
    now_ts = now.timestamp()
    return tuple(
        _direct_clock(span, cal, resolved, now_ts)
        for span, cal in zip(_spans(known, resolved), cals, strict=True)
    )


def downtime(timeline: Timeline, now: datetime) -> Downtime | None:
    """The turbine downtime clock at ``now`` (wall-clock seconds; holds never pause it)."""
    since = timeline.turbine_stopped_at
    if since is None or since > now:
        return None
    until = timeline.turbine_restored_at
    if until is not None and until > now:
        until = None
    end = until or now
    return Downtime(since=since, until=until, seconds=max(0.0, (end - since).total_seconds()))


# -- the cached path ---------------------------------------------------------------------------

FIXED, PAUSED, RUNNING, HELD_BREACH = 0, 1, 2, 3  # ClockPlan.kind


class ClockPlan:
    """What one clock needs to be evaluated at any later instant.

    ``kind`` FIXED: ``state`` and the :class:`Clock` (``fixed``) are final (met, stopped late,
    cancelled, not started). PAUSED: elapsed is frozen at ``offset``; only the projected due moves
    with now. RUNNING: elapsed at t is ``cum(t) - offset``; the state changes only at ``risk_at``
    and ``due_at`` (epoch seconds). HELD_BREACH: breached, then put on hold; its :class:`Clock`
    (``fixed``) cannot change until the hold ends (a new event, hence a replan), but unlike a
    FIXED clock it is still owed, so it stays live: it sorts by ``due_at``, the instant it
    breached, with the running clocks.

    A plain slotted class rather than a dataclass: a board plans 70,000 of these at start-up, and
    a fixed clock's :class:`Clock` is built only when someone looks at it (the rows on screen),
    from the same first-principles function as :func:`compute_clocks`.
    """

    __slots__ = (
        "_fixed",
        "_rules",
        "_timeline",
        "calendar",
        "due_at",
        "hold_reason",
        "kind",
        "offset",
        "risk_at",
        "risk_seconds",
        "start",
        "state",
        "target",
        "target_seconds",
    )

    def __init__(
        self,
        target: Target,
        kind: int,
        calendar: BusinessCalendar,
        target_seconds: float,
        risk_seconds: float,
        state: ClockState,
        start: datetime | None,
        offset: float = 0.0,
        risk_at: float = math.inf,
        due_at: float = math.inf,
        hold_reason: HoldReason | None = None,
        fixed: Clock | None = None,
        source: tuple[_Rules, Timeline] | None = None,
    ) -> None:
        """Positional for speed; a FIXED plan takes its ``fixed`` clock or the ``source`` of it.

        ``source`` keeps only shared or already held objects: a plan is long-lived, and fewer
        objects per ticket mean cheaper garbage-collector passes over a 10,000-ticket board.
        """
        self.target = target
        self.kind = kind
        self.calendar = calendar
        self.target_seconds = target_seconds
        self.risk_seconds = risk_seconds
        self.state = state  # FIXED: the final state; otherwise the state at planning time
        self.start = start  # the clock's start (None when not started or not applicable)
        self.offset = offset
        self.risk_at = risk_at
        self.due_at = due_at
        self.hold_reason = hold_reason
        self._fixed = fixed
        self._rules, self._timeline = source if source is not None else (None, None)

    def __repr__(self) -> str:
        return f"ClockPlan({self.target.value}, kind={self.kind}, state={self.state.value})"

    @property
    def fixed(self) -> Clock | None:
        """The constant :class:`Clock` of a FIXED or HELD_BREACH plan (else None)."""
        rules, timeline = self._rules, self._timeline
        if self._fixed is None and rules is not None and timeline is not None:
            index = _CHAIN_INDEX[self.target]
            rule = rules.clocks[index]
            pausing = _pausing(timeline.holds, rule.reasons)
            span = _span(_chain(timeline), index, rule.target, rule.applicable, *pausing)
            # The clock is fixed for good, so any instant after the last event will do.
            horizon = last_event(timeline).timestamp()
            self._fixed = _direct_clock(span, self.calendar, rules.resolved, horizon)
            self._rules = self._timeline = None
        return self._fixed

    @property
    def due(self) -> datetime | None:
        """The due instant of a running or held-breached clock (else None; see
        :meth:`projected_due`)."""
        return _utc(self.due_at) if self.kind in (RUNNING, HELD_BREACH) else None

    def state_at(self, now: float) -> ClockState:
        """The state at epoch second ``now`` by comparing instants (no calendar work)."""
        if self.kind == RUNNING:
            if now >= self.due_at:
                return ClockState.BREACHED
            return ClockState.AT_RISK if now >= self.risk_at else ClockState.RUNNING
        return self.state

    def projected_due(self, now: float) -> float:
        """Epoch due: fixed for a running or held-breached clock, "if the hold ended now" for a
        paused one."""
        if self.kind == PAUSED:
            cal = self.calendar
            return cal.at_cum(cal.cum(now) + self.target_seconds - self.offset)
        return self.due_at

    def clock_at(self, now: float) -> Clock:
        """The full :class:`Clock` at epoch second ``now``."""
        if self.kind == FIXED or self.kind == HELD_BREACH:
            fixed = self.fixed
            assert fixed is not None
            return fixed
        seconds = self.target_seconds
        if self.kind == PAUSED:
            elapsed, due, state = self.offset, _utc(self.projected_due(now)), ClockState.PAUSED
        else:
            elapsed, due = self.calendar.cum(now) - self.offset, _utc(self.due_at)
            if elapsed >= seconds:
                state = ClockState.BREACHED
            elif elapsed >= self.risk_seconds:
                state = ClockState.AT_RISK
            else:
                state = ClockState.RUNNING
        return Clock(
            self.target,
            state,
            seconds,
            started=True,
            start=self.start,
            due=due,
            elapsed_seconds=elapsed,
            remaining_seconds=seconds - elapsed,
            percent_used=100.0 * elapsed / seconds,
            hold_reason=self.hold_reason if state is ClockState.PAUSED else None,
            calendar=self.calendar.name,
        )


@dataclass(frozen=True, slots=True)
class TicketPlan:
    """The seven clock plans of one ticket plus ticket-level facts the board counts."""

    clocks: tuple[ClockPlan, ...]
    on_hold: bool  # an open hold of any reason
    is_open: bool  # neither closed nor cancelled
    # earliest due among the running and held-breached clocks (a hold must not hide a breach)
    next_due: tuple[Target, datetime] | None
    live: tuple[int, ...] = ()  # indices of the clocks not FIXED (what a board indexes)


@dataclass(frozen=True, slots=True)
class _ClockRule:
    """One clock's policy for one class of tickets (see :class:`_Rules`)."""

    target: Target
    calendar: BusinessCalendar  # the one it counts on (most targets of a class share one)
    seconds: float
    risk: float
    reasons: frozenset[HoldReason]  # the hold reasons that pause it
    applicable: bool  # False: on-site/repair of a category without site visits
    not_started: ClockPlan  # its plan until it starts: the same for every ticket of the class


@dataclass(frozen=True, slots=True)
class _Rules:
    """What a policy says about every ticket with the same contract, priority, category and farm.

    Resolving the policy, each clock's calendar and which holds pause which clock is the same work
    for thousands of tickets, so :func:`_rules` does it once per class.
    """

    resolved: ResolvedPolicy
    clocks: tuple[_ClockRule, ...]  # chain order
    reason_sets: tuple[frozenset[HoldReason], ...]  # the distinct ``reasons`` of the clocks
    idle: tuple[ClockPlan, ...]  # every clock's not-started plan, chain order
    applicable: tuple[int, ...]  # indices of the clocks that apply to the category


_RuleKey = tuple[str | None, Priority, Category, str, str]
# Per policy, dropped with it; calendars never change under a policy (a new text is a new policy).
_RULES: weakref.WeakKeyDictionary[PolicySet, dict[_RuleKey, _Rules]] = weakref.WeakKeyDictionary()


def _rules(policy: PolicySet, timeline: Timeline, farm_tz: str, farm_calendar: str) -> _Rules:
    """The cached :class:`_Rules` of the ticket's class under ``policy``."""
    per_policy = _RULES.get(policy)
    if per_policy is None:
        per_policy = _RULES.setdefault(policy, {})
    key = (timeline.contract, timeline.priority, timeline.category, farm_tz, farm_calendar)
    found = per_policy.get(key)
    if found is not None:
        return found
    resolved = policy.resolve(
        contract=timeline.contract, priority=timeline.priority, category=timeline.category
    )
    cals = resolved_calendars(policy, resolved, farm_tz=farm_tz, farm_calendar=farm_calendar)
    site = timeline.category.needs_site_visit
    clocks = []
    for target, cal in zip(CHAIN, cals, strict=True):
        seconds = resolved.targets[target]
        risk = _risk_seconds(resolved, target)
        not_started = ClockPlan(
            target,
            FIXED,
            cal,
            seconds,
            risk,
            ClockState.NOT_APPLICABLE,
            None,
            fixed=_not_started(target, seconds, cal.name),
        )
        clocks.append(
            _ClockRule(
                target=target,
                calendar=cal,
                seconds=seconds,
                risk=risk,
                reasons=resolved.paused_by(target),
                applicable=site or target not in _SITE_TARGETS,
                not_started=not_started,
            )
        )
    found = _Rules(
        resolved=resolved,
        clocks=tuple(clocks),
        reason_sets=tuple(dict.fromkeys(c.reasons for c in clocks)),
        idle=tuple(c.not_started for c in clocks),
        applicable=tuple(i for i, c in enumerate(clocks) if c.applicable),
    )
    per_policy[key] = found
    return found


def _plan_clock(
    chain: _Chain,
    index: int,
    rules: _Rules,
    pausing: tuple[tuple[Pause, ...], HoldReason | None],
    timeline: Timeline,
) -> ClockPlan:
    """The plan of clock ``index``, started and applicable."""
    rule = rules.clocks[index]
    target, cal, seconds, risk = rule.target, rule.calendar, rule.seconds, rule.risk
    start, stop = chain.starts[index], chain.stops[index]
    assert start is not None
    start_at = chain.moments[start]
    pauses, open_reason = pausing
    if stop is not None or chain.frozen_at is not None:
        # Stopped or cancelled: final. Only the state is needed now (the board counts it).
        if stop is not None:
            state = _stopped_state(_elapsed(cal, start, stop, _clipped(pauses, stop)), seconds)
        else:
            state = ClockState.NOT_APPLICABLE
        source = (rules, timeline)
        return ClockPlan(target, FIXED, cal, seconds, risk, state, start_at, source=source)
    if pauses and math.isinf(pauses[-1][1]):  # on hold now: elapsed stops where the hold began
        held_from = max(pauses[-1][0], start)
        elapsed = _elapsed(cal, start, held_from, pauses[:-1])
        if elapsed >= seconds:  # breached before the hold: constant while held, still owed
            # The budget ran out before the open hold began, so ``_reach`` never resumes it.
            due_at = _reach(cal, start, pauses, seconds, math.inf)
            return ClockPlan(
                target,
                HELD_BREACH,
                cal,
                seconds,
                risk,
                ClockState.BREACHED,
                start_at,
                elapsed,
                due_at=due_at,
                hold_reason=open_reason,
                source=(rules, timeline),
            )
        return ClockPlan(
            target,
            PAUSED,
            cal,
            seconds,
            risk,
            ClockState.PAUSED,
            start_at,
            elapsed,
            hold_reason=open_reason,
        )
    if pauses:
        offset = cal.cum(start) + _paused_between(cal, pauses, start, math.inf)
        risk_at = _reach(cal, start, pauses, risk, math.inf)
        due_at = _reach(cal, start, pauses, seconds, math.inf)
    else:  # the common case, and what the three calls above reduce to without pauses
        offset = cal.cum(start)
        risk_at, due_at = cal.at_cum(offset + risk), cal.at_cum(offset + seconds)
    return ClockPlan(
        target, RUNNING, cal, seconds, risk, ClockState.RUNNING, start_at, offset, risk_at, due_at
    )


_NO_PAUSES: tuple[tuple[Pause, ...], HoldReason | None] = ((), None)


def plan_ticket(
    timeline: Timeline, policy: PolicySet, *, farm_tz: str, farm_calendar: str
) -> TicketPlan:
    """Precompute a ticket's clocks for :func:`evaluate` at any instant after its last event.

    The same chain rules and formulas as :func:`compute_clocks`, arranged so that a ticket costs
    a few microseconds: the policy is resolved once per class of tickets, instants are converted
    once, clocks not started share one plan, and fixed clocks build their :class:`Clock` lazily.
    """
    rules = _rules(policy, timeline, farm_tz, farm_calendar)
    chain = _chain(timeline)
    holds = timeline.holds
    # Pauses depend only on which reasons pause a clock, and most clocks share the same reasons.
    pausing = {r: _pausing(holds, r) for r in rules.reason_sets} if holds else {}
    starts, rule_of = chain.starts, rules.clocks
    clocks = list(rules.idle)  # then replace the clocks that have started
    live: list[int] = []
    # The running or held-breached clock due first (ties: the earlier in the chain).
    first: ClockPlan | None = None
    for index in rules.applicable:
        if starts[index] is None:
            continue
        reasons = rule_of[index].reasons
        plan = _plan_clock(chain, index, rules, pausing.get(reasons, _NO_PAUSES), timeline)
        clocks[index] = plan
        if plan.kind != FIXED:
            live.append(index)
            if plan.kind != PAUSED and (first is None or plan.due_at < first.due_at):
                first = plan
    return TicketPlan(
        tuple(clocks),
        any(h.end is None for h in holds),
        timeline.closed_at is None and timeline.cancelled_at is None,
        None if first is None else (first.target, _utc(first.due_at)),
        tuple(live),
    )


def evaluate(plan: TicketPlan, now: datetime) -> tuple[Clock, ...]:
    """The seven clocks at ``now`` from a plan (== :func:`compute_clocks` after the last event)."""
    now_ts = now.timestamp()
    return tuple(c.clock_at(now_ts) for c in plan.clocks)


def last_event(timeline: Timeline) -> datetime:
    """The latest instant recorded in the timeline (receipt, milestones, hold starts and ends)."""
    instants = [v for name in TIMELINE_INSTANTS if (v := getattr(timeline, name)) is not None]
    for hold in timeline.holds:
        instants.append(hold.start)
        if hold.end is not None:
            instants.append(hold.end)
    return max(instants)
