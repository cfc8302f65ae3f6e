"""The SLA engine: the seven clocks of a ticket at an instant, and the turbine downtime clock.

:func:`compute_clocks` is THE answer to "what is this clock's state at instant t". It works from
first principles every call: which span the clock covers, which holds pause it, the business
seconds on the clock's calendar.

:func:`plan_ticket` + :func:`evaluate` are the cached path used by the refresh board. A plan holds
what stays constant until the ticket, the policy or a calendar changes: per clock the start, the
due and at-risk instants, the cumulative-business-seconds offset, or the frozen clock for clocks
that can no longer change (met, breached-and-stopped, cancelled, not started). Evaluating a
running clock then costs one ``cum(now)``. The property tests check that both paths agree for any
instant at or after the ticket's last event.

Everything is in epoch seconds and per-calendar cumulative business seconds (see
:mod:`windtui.domain.calendar`); datetimes appear only at the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from windtui.domain.calendar import BusinessCalendar
from windtui.domain.model import (
    Clock,
    ClockState,
    Downtime,
    HoldReason,
    HoldSpan,
    Target,
    Timeline,
)
from windtui.domain.policy import ALWAYS_OPEN, PolicySet, ResolvedPolicy

CHAIN: tuple[Target, ...] = tuple(Target)
_SITE_TARGETS = frozenset({Target.ONSITE, Target.REPAIR})
_INSTANT_FIELDS = (
    "acknowledged_at",
    "feedback_at",
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
    "reopened_at",
    "turbine_stopped_at",
    "turbine_restored_at",
)

Pause = tuple[float, float]  # a merged pausing interval in epoch seconds; end may be +inf (open)


@dataclass(frozen=True, slots=True)
class _Span:
    """Where one clock runs, whatever ``now`` is."""

    target: Target
    applicable: bool  # False: on-site/repair of a ticket that needs no site visit
    start: datetime | None
    stop: datetime | None  # the milestone that stops it (valid only when >= start)
    frozen_at: float | None  # cancellation/closing that freezes a clock not stopped by then
    pauses: tuple[Pause, ...]  # merged holds that pause this target, sorted
    open_reason: HoldReason | None  # reason of an open pausing hold, if any


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# -- inputs shared by both paths ---------------------------------------------------------------


def resolved_calendar(
    policy: PolicySet, resolved: ResolvedPolicy, *, farm_tz: str, farm_calendar: str
) -> BusinessCalendar:
    """The clock calendar: the policy's if it names one, else the farm's (``24x7`` if none)."""
    return policy.calendar(resolved.calendar or farm_calendar or ALWAYS_OPEN, farm_tz)


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


def _spans(timeline: Timeline, resolved: ResolvedPolicy) -> tuple[_Span, ...]:
    """Start/stop/freeze/pauses of the seven clocks (see the module docs of the chain rules)."""
    reopened = timeline.reopened_at

    def current(value: datetime | None) -> datetime | None:
        # After a reopen only milestones of the new service cycle count.
        return value if value is None or reopened is None or value > reopened else None

    def valid_stop(start: datetime | None, stop: datetime | None) -> datetime | None:
        return stop if start is not None and stop is not None and stop >= start else None

    received = timeline.received_at
    starts_stops: dict[Target, tuple[datetime | None, datetime | None]] = {}
    for target, milestone in (
        (Target.ACKNOWLEDGE, timeline.acknowledged_at),
        (Target.FEEDBACK, timeline.feedback_at),
    ):
        if reopened is not None and (milestone is None or milestone > reopened):
            starts_stops[target] = (reopened, milestone)  # never met before the reopen
        else:
            starts_stops[target] = (received, milestone)  # keeps its result
    onsite_start = received if reopened is None else max(received, reopened)
    arrived = valid_stop(onsite_start, current(timeline.arrived_at))
    starts_stops[Target.ONSITE] = (onsite_start, arrived)
    resolved_at = current(timeline.resolved_at)
    starts_stops[Target.REPAIR] = (arrived, resolved_at)
    returned = current(timeline.report_returned_at)
    report_start = (
        resolved_at if returned is None or resolved_at is None else max(resolved_at, returned)
    )
    report_at = valid_stop(report_start, current(timeline.report_at))
    starts_stops[Target.REPORT] = (report_start, report_at)
    reviewed = valid_stop(report_at, current(timeline.reviewed_at))
    starts_stops[Target.REVIEW] = (report_at, reviewed)
    starts_stops[Target.FOLLOWUP] = (reviewed, current(timeline.followup_at))

    ends = [current(timeline.cancelled_at), current(timeline.closed_at)]
    frozen = min((e.timestamp() for e in ends if e is not None), default=None)
    site = timeline.category.needs_site_visit
    spans: list[_Span] = []
    for target in CHAIN:
        start, stop = starts_stops[target]
        reasons = resolved.paused_by(target)
        open_reason = next(
            (h.reason for h in timeline.holds if h.end is None and h.reason in reasons), None
        )
        spans.append(
            _Span(
                target=target,
                applicable=site or target not in _SITE_TARGETS,
                start=start,
                stop=valid_stop(start, stop),
                frozen_at=frozen,
                pauses=_merge_pauses(timeline.holds, reasons),
                open_reason=open_reason,
            )
        )
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


# -- the direct path ---------------------------------------------------------------------------


def _direct_clock(
    span: _Span, cal: BusinessCalendar, resolved: ResolvedPolicy, now: float
) -> Clock:
    """One clock at ``now`` from first principles (inputs already limited to ``<= now``)."""
    target = span.target
    seconds = resolved.targets[target]
    if not span.applicable or span.start is None:
        return _not_started(target, seconds, cal.name)
    start = span.start.timestamp()
    stop = _ts(span.stop)
    cancelled = stop is None and span.frozen_at is not None
    end = stop if stop is not None else (span.frozen_at if cancelled else now)
    pauses = span.pauses
    if stop is not None:  # holds after the stop do not concern this clock
        pauses = tuple((s, min(e, stop)) for s, e in pauses if s < stop)
    elapsed = cal.cum(end) - (cal.cum(start) + _paused_between(cal, pauses, start, end))
    percent = 100.0 * elapsed / seconds
    if cancelled:
        return Clock(
            target,
            ClockState.NOT_APPLICABLE,
            seconds,
            started=True,
            start=span.start,
            elapsed_seconds=elapsed,
            percent_used=percent,
            calendar=cal.name,
        )
    due = _utc(_reach(cal, start, pauses, seconds, now))
    common = {
        "started": True,
        "start": span.start,
        "due": due,
        "elapsed_seconds": elapsed,
        "remaining_seconds": seconds - elapsed,
        "percent_used": percent,
        "calendar": cal.name,
    }
    if stop is not None:
        state = ClockState.MET if elapsed <= seconds else ClockState.BREACHED
        return Clock(target, state, seconds, met_at=span.stop, **common)
    paused = bool(pauses) and math.isinf(pauses[-1][1])
    if elapsed >= seconds:
        state = ClockState.BREACHED
    elif paused:
        return Clock(target, ClockState.PAUSED, seconds, hold_reason=span.open_reason, **common)
    elif elapsed >= _risk_seconds(resolved, target):
        state = ClockState.AT_RISK
    else:
        state = ClockState.RUNNING
    return Clock(target, state, seconds, **common)


def _as_of(timeline: Timeline, now: datetime) -> Timeline:
    """The timeline as it was known at ``now``: later milestones and holds are dropped."""
    changes: dict[str, object] = {
        name: None
        for name in _INSTANT_FIELDS
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
    cal = resolved_calendar(policy, resolved, farm_tz=farm_tz, farm_calendar=farm_calendar)
    if timeline.received_at > now:
        return tuple(_not_started(t, resolved.targets[t], cal.name) for t in CHAIN)
    known = _as_of(timeline, now)
    now_ts = now.timestamp()
    return tuple(_direct_clock(span, cal, resolved, now_ts) for span in _spans(known, resolved))


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

FIXED, PAUSED, RUNNING = 0, 1, 2  # ClockPlan.kind


@dataclass(frozen=True, slots=True)
class ClockPlan:
    """What one clock needs to be evaluated at any later instant.

    ``kind`` FIXED: ``fixed`` is the clock forever (met, stopped late, cancelled, not started,
    breached while on hold). PAUSED: elapsed is frozen at ``offset``; only the projected due moves
    with now. RUNNING: elapsed at t is ``cum(t) - offset``; the state changes only at ``risk_at``
    and ``due_at`` (epoch seconds).
    """

    target: Target
    kind: int
    calendar: BusinessCalendar
    target_seconds: float
    risk_seconds: float
    fixed: Clock | None = None
    start: datetime | None = None
    offset: float = 0.0
    risk_at: float = math.inf
    due_at: float = math.inf
    due: datetime | None = None
    hold_reason: HoldReason | None = None

    def state_at(self, now: float) -> ClockState:
        """The state at epoch second ``now`` by comparing instants (no calendar work)."""
        if self.kind == RUNNING:
            if now >= self.due_at:
                return ClockState.BREACHED
            return ClockState.AT_RISK if now >= self.risk_at else ClockState.RUNNING
        if self.kind == PAUSED:
            return ClockState.PAUSED
        assert self.fixed is not None
        return self.fixed.state

    def projected_due(self, now: float) -> float:
        """Epoch due: fixed for a running clock, "if the hold ended now" for a paused one."""
        if self.kind == PAUSED:
            cal = self.calendar
            return cal.at_cum(cal.cum(now) + self.target_seconds - self.offset)
        return self.due_at

    def clock_at(self, now: float) -> Clock:
        """The full :class:`Clock` at epoch second ``now``."""
        if self.kind == FIXED:
            assert self.fixed is not None
            return self.fixed
        seconds = self.target_seconds
        if self.kind == PAUSED:
            elapsed, due, state = self.offset, _utc(self.projected_due(now)), ClockState.PAUSED
        else:
            elapsed, due = self.calendar.cum(now) - self.offset, self.due
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
    next_due: tuple[Target, datetime] | None  # earliest due among running clocks


def _plan_clock(
    span: _Span, cal: BusinessCalendar, resolved: ResolvedPolicy, horizon: float
) -> ClockPlan:
    target = span.target
    seconds = resolved.targets[target]
    risk = _risk_seconds(resolved, target)
    base = {"target": target, "calendar": cal, "target_seconds": seconds, "risk_seconds": risk}
    running = (
        span.applicable and span.start is not None and span.stop is None and span.frozen_at is None
    )
    if not running:
        return ClockPlan(kind=FIXED, fixed=_direct_clock(span, cal, resolved, horizon), **base)
    start = span.start.timestamp()
    pauses = span.pauses
    if pauses and math.isinf(pauses[-1][1]):  # on hold now: elapsed stops where the hold began
        held_from = max(pauses[-1][0], start)
        elapsed = cal.cum(held_from) - (
            cal.cum(start) + _paused_between(cal, pauses[:-1], start, held_from)
        )
        if elapsed >= seconds:  # breached before the hold: frozen for good
            return ClockPlan(kind=FIXED, fixed=_direct_clock(span, cal, resolved, horizon), **base)
        return ClockPlan(
            kind=PAUSED, start=span.start, offset=elapsed, hold_reason=span.open_reason, **base
        )
    offset = cal.cum(start) + _paused_between(cal, pauses, start, math.inf)
    due_at = _reach(cal, start, pauses, seconds, math.inf)
    return ClockPlan(
        kind=RUNNING,
        start=span.start,
        offset=offset,
        risk_at=_reach(cal, start, pauses, risk, math.inf),
        due_at=due_at,
        due=_utc(due_at),
        **base,
    )


def plan_ticket(
    timeline: Timeline, policy: PolicySet, *, farm_tz: str, farm_calendar: str
) -> TicketPlan:
    """Precompute a ticket's clocks for :func:`evaluate` at any instant after its last event."""
    resolved = policy.resolve(
        contract=timeline.contract, priority=timeline.priority, category=timeline.category
    )
    cal = resolved_calendar(policy, resolved, farm_tz=farm_tz, farm_calendar=farm_calendar)
    horizon = last_event(timeline).timestamp()
    clocks = tuple(_plan_clock(s, cal, resolved, horizon) for s in _spans(timeline, resolved))
    running = [c for c in clocks if c.kind == RUNNING]
    first = min(running, key=lambda c: c.due_at, default=None)
    return TicketPlan(
        clocks=clocks,
        on_hold=any(h.end is None for h in timeline.holds),
        is_open=timeline.closed_at is None and timeline.cancelled_at is None,
        next_due=None if first is None or first.due is None else (first.target, first.due),
    )


def evaluate(plan: TicketPlan, now: datetime) -> tuple[Clock, ...]:
    """The seven clocks at ``now`` from a plan (== :func:`compute_clocks` after the last event)."""
    now_ts = now.timestamp()
    return tuple(c.clock_at(now_ts) for c in plan.clocks)


def last_event(timeline: Timeline) -> datetime:
    """The latest instant recorded in the timeline (receipt, milestones, hold starts and ends)."""
    instants = [timeline.received_at]
    instants.extend(v for name in _INSTANT_FIELDS if (v := getattr(timeline, name)) is not None)
    for hold in timeline.holds:
        instants.append(hold.start)
        if hold.end is not None:
            instants.append(hold.end)
    return max(instants)
