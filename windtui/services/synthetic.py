"""A synthetic fleet of open tickets for benchmarks and tests: ``populate(desk, 10_000, now=…)``.

Tickets are spread over the farms, turbines and technicians already in the database (load the
demo fleet first), over every category and priority, and over the whole open lifecycle. Each
ticket's history is *played* through :func:`windtui.domain.lifecycle.apply` — holds, returned
reports, reopens and turbine restores included — so every stored state and timeline is one the
desk could have reached; all instants lie in the three days before ``now``.

Synthetic, on purpose: each ticket gets a single ``create`` event row (with a note saying so)
instead of one per step, and every row is written in ONE transaction with ONE change-counter bump,
which is what makes 10,000 tickets take seconds instead of minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import chunked, fn

from windtui.domain import lifecycle
from windtui.domain import roles as access
from windtui.domain.model import (
    Action,
    Category,
    HoldReason,
    Priority,
    Role,
    TicketState,
    Timeline,
)
from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.services.desk import FIRST_NUMBER, TIMELINE_COLUMNS, Desk
from windtui.store import chain
from windtui.store.models import Farm, Hold, Staff, Ticket, Turbine, split_list

S = TicketState
A = Action

#: Rows per INSERT: Ticket has ~35 columns, so 250 rows stay far below SQLite's 32,766 variables.
BATCH = 250
#: Received instants fall within this window before ``now``.
WINDOW = timedelta(days=3)
#: Share of tickets with a hold history (open or closed); tickets still "received" cannot have one.
HOLD_SHARE = 0.17
#: Share of held tickets whose hold is still open (when their state allows a hold).
OPEN_HOLD_SHARE = 0.55
REOPEN_SHARE = 0.03
REWORK_SHARE = 0.10
#: Share of fault/maintenance/upgrade tickets on a turbine that stopped it; of those, restored.
STOP_SHARE = 0.35
RESTORE_SHARE = 0.4

_CATEGORY_WEIGHTS = {
    Category.FAULT: 55,
    Category.MAINTENANCE: 15,
    Category.UPGRADE: 6,
    Category.CONSULTING: 8,
    Category.DATA_ANALYSIS: 8,
    Category.INFRASTRUCTURE: 8,
}
_PRIORITY_WEIGHTS = {Priority.P1: 5, Priority.P2: 30, Priority.P3: 45, Priority.P4: 20}

#: Forward actions of the service flow, each leading to the state after it.
_SITE_FLOW = (
    (A.ACK, S.ACKNOWLEDGED),
    (A.FEEDBACK, S.FEEDBACK_GIVEN),
    (A.DISPATCH, S.DISPATCHED),
    (A.DEPART, S.EN_ROUTE),
    (A.ARRIVE, S.ON_SITE),
    (A.RESOLVE, S.RESOLVED),
    (A.SUBMIT, S.REPORT_SUBMITTED),
    (A.APPROVE, S.REVIEWED),
    (A.FOLLOWUP, S.FOLLOWED_UP),
)
_DESK_FLOW = tuple(step for step in _SITE_FLOW if step[0] not in lifecycle.SITE_VISIT_ACTIONS)
#: Open states and how often a ticket is found in each (the desk's queue is front-loaded).
_STATE_WEIGHTS = {
    S.RECEIVED: 8,
    S.ACKNOWLEDGED: 12,
    S.FEEDBACK_GIVEN: 14,
    S.DISPATCHED: 10,
    S.EN_ROUTE: 8,
    S.ON_SITE: 16,
    S.RESOLVED: 12,
    S.REPORT_SUBMITTED: 8,
    S.REVIEWED: 6,
    S.FOLLOWED_UP: 6,
}
#: States a hold may start from (``lifecycle``'s HOLD sources).
HOLDABLE = frozenset({S.ACKNOWLEDGED, S.FEEDBACK_GIVEN, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE})
_CHANNELS = ("scada", "scada", "phone", "email", "wechat")
_REASONS = tuple(HoldReason)


def _titles() -> dict[Category, tuple[str, ...]]:
    """Title templates per category, translated now (the rows are stored in the desk language)."""
    return {
        Category.FAULT: (
            _("{turbine} pitch axis-{n} drive over-current"),
            _("{turbine} generator bearing over-temperature"),
            _("{turbine} converter IGBT fault, stopped"),
            _("{turbine} yaw cable-untwist timeout"),
        ),
        Category.MAINTENANCE: (
            _("{turbine} half-year maintenance"),
            _("{turbine} blade inspection"),
        ),
        Category.UPGRADE: (_("{turbine} controller software upgrade"),),
        Category.CONSULTING: (_("Parameter query: cold-start strategy"),),
        Category.DATA_ANALYSIS: (_("{turbine} power-curve deviation analysis"),),
        Category.INFRASTRUCTURE: (
            _("Substation collector line {n} inspection"),
            _("Access road repair near {turbine}"),
        ),
    }


def _evidence() -> dict[HoldReason, str]:
    return {
        HoldReason.WEATHER: _("gusts above the climbing limit"),
        HoldReason.PARTS: _("spare part on order from the central warehouse"),
        HoldReason.CRANE_VESSEL: _("crane/vessel not available before the next window"),
        HoldReason.PERMIT: _("work permit pending with the owner"),
        HoldReason.CUSTOMER_ACCESS: _("site access refused by the owner's shift lead"),
    }


@dataclass(slots=True)
class _Fleet:
    """What tickets can refer to: farm ids, their turbines (id, position), technician ids."""

    farms: list[int]
    turbines: dict[int, list[tuple[int, str]]]
    technicians: list[int]


@dataclass(slots=True)
class _Plan:
    """One synthetic ticket before it is written: its row, its timeline, a turbine it holds down."""

    row: dict[str, Any]
    timeline: Timeline
    stopped_turbine: int | None = None


def populate(desk: Desk, n: int, *, seed: int = 7, now: datetime) -> int:
    """Insert ``n`` synthetic open tickets into ``desk``'s database; returns how many.

    Numbers continue after the highest existing one; the same ``seed`` gives the same tickets.
    Raises :class:`WindtuiError` when the database has no farms or no technicians.
    """
    if n <= 0:
        return 0
    desk._gate(access.INIT)  # a bulk loader for benchmarks and tests: administrators only
    if now.tzinfo is None:
        raise WindtuiError(_("{what} needs a timezone: {value}").format(what="now", value=now))
    with desk.batch():  # one write transaction: all tickets or none, one counter bump
        maker = _Maker(random.Random(seed), _fleet(), now.astimezone(UTC))
        first = max(Ticket.select(fn.MAX(Ticket.number)).scalar() or 0, FIRST_NUMBER - 1) + 1
        plans = [maker.plan(first + i) for i in range(n)]
        seq = desk._bump()  # the desk's own counter bump, so consoles see one change
        _write(desk, plans, seq, maker.now, seed)
    return n


def _fleet() -> _Fleet:
    """The farms, turbines and technicians in the database (refusing an empty fleet)."""
    farms = [f.id for f in Farm.select(Farm.id).order_by(Farm.id)]
    if not farms:
        raise WindtuiError(_("no farms in the database: load a fleet first (windtui demo)"))
    turbines: dict[int, list[tuple[int, str]]] = {f: [] for f in farms}
    query = Turbine.select(Turbine.id, Turbine.farm, Turbine.position).order_by(Turbine.id)
    for tid, farm, position in query.tuples():
        turbines[farm].append((tid, position))
    technicians = [
        sid
        for sid, roles in Staff.select(Staff.id, Staff.roles).order_by(Staff.id).tuples()
        if Role.TECHNICIAN.value in split_list(roles)
    ]
    if not technicians:
        raise WindtuiError(_("no technicians in the database: load a fleet first (windtui demo)"))
    return _Fleet(farms, turbines, technicians)


def _choice(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Maker:
    """Makes synthetic tickets from one random stream (texts translated once, not per ticket)."""

    def __init__(self, rng: random.Random, fleet: _Fleet, now: datetime) -> None:
        self.rng = rng
        self.fleet = fleet
        self.now = now
        self.titles = _titles()
        self.evidence = _evidence()
        self.reopen_reason = _("customer reports the fault again")
        self.return_reason = _("photos missing")
        self.resume_note = _("hold cleared")

    def plan(self, number: int) -> _Plan:
        """One ticket: pick its attributes, then play its history through the lifecycle."""
        rng = self.rng
        category = _choice(rng, _CATEGORY_WEIGHTS)
        priority = _choice(rng, _PRIORITY_WEIGHTS)
        flow = _SITE_FLOW if category.needs_site_visit else _DESK_FLOW
        states = [S.RECEIVED, *(state for _a, state in flow)]
        target = _choice(rng, {s: w for s, w in _STATE_WEIGHTS.items() if s in states})
        farm = rng.choice(self.fleet.farms)
        units = self.fleet.turbines[farm]
        on_turbine = bool(units) and (category is not Category.INFRASTRUCTURE or rng.random() < 0.3)
        turbine_id, position = rng.choice(units) if on_turbine else (None, "")
        stopped = (
            turbine_id is not None
            and category in (Category.FAULT, Category.MAINTENANCE, Category.UPGRADE)
            and rng.random() < STOP_SHARE
        )
        steps = self._steps(flow, states, target)
        if stopped and rng.random() < RESTORE_SHARE:  # restore may come at any point
            steps.insert(rng.randint(0, len(steps)), (A.RESTORE, {}))
        times = _instants(rng, len(steps), self.now)
        timeline = Timeline(
            category=category,
            priority=priority,
            received_at=times[0],
            turbine_stopped_at=times[0] if stopped else None,
        )
        state, owner = S.RECEIVED, None
        for (action, kwargs), at in zip(steps, times[1:], strict=True):
            if action is A.DISPATCH:
                owner = rng.choice(self.fleet.technicians)
            state, timeline = lifecycle.apply(timeline, state, action, at, number=number, **kwargs)
        assert state is target, (number, state, target)  # _steps must reach what it aimed for
        row = {
            "number": number,
            "farm": farm,
            "turbine": turbine_id,
            "category": category.value,
            "priority": priority.value,
            "fault_code": f"F{rng.randint(100, 999)}" if category is Category.FAULT else None,
            "title": rng.choice(self.titles[category]).format(
                turbine=position or "-", n=rng.randint(1, 3)
            ),
            "channel": rng.choice(_CHANNELS),
            "state": state.value,
            "owner": owner,
            "version": len(steps) + 1,  # as if each step had been its own write
            "received_at": timeline.received_at,
            **{name: getattr(timeline, name) for name in TIMELINE_COLUMNS},
        }
        down = lifecycle.is_turbine_down(timeline)
        return _Plan(row, timeline, turbine_id if down else None)

    def _steps(
        self, flow: Sequence[tuple[Action, TicketState]], states: list[TicketState], target: S
    ) -> list[tuple[Action, dict[str, Any]]]:
        """``(action, apply kwargs)`` pairs that take a new ticket to ``target``.

        ``flow[i]`` leads to ``states[i + 1]``. By chance: a reopen (a first cycle up to
        resolved, then reopen back to feedback given), a returned report, and a hold — open at the
        end when ``target`` allows one, else closed somewhere on the way.
        """
        rng = self.rng
        goal, feedback = states.index(target), states.index(S.FEEDBACK_GIVEN)
        head = min(goal, feedback)
        steps: list[tuple[Action, dict[str, Any]]] = [(a, {}) for a, _s in flow[:head]]
        if goal >= feedback and rng.random() < REOPEN_SHARE:
            steps += [(a, {}) for a, _s in flow[feedback : states.index(S.RESOLVED)]]
            steps.append((A.REOPEN, {"reason": self.reopen_reason}))
        for action, _s in flow[head:goal]:
            steps.append((action, {}))
            if action is A.SUBMIT and rng.random() < REWORK_SHARE:
                steps += [(A.RETURN, {"reason": self.return_reason}), (A.SUBMIT, {})]
        if rng.random() >= HOLD_SHARE:
            return steps
        reason = rng.choice(_REASONS)
        hold = (A.HOLD, {"hold_reason": reason, "evidence": self.evidence[reason]})
        if target in HOLDABLE and rng.random() < OPEN_HOLD_SHARE:
            steps.append(hold)  # open: only resume/cancel/restore may follow
            return steps
        # A closed hold right after a step that leaves the ticket in a holdable state.
        after = {a: s for a, s in flow} | {A.REOPEN: S.FEEDBACK_GIVEN}
        spots = [i for i, (a, _k) in enumerate(steps) if after.get(a) in HOLDABLE]
        if spots:
            i = rng.choice(spots) + 1
            steps[i:i] = [hold, (A.RESUME, {"reason": self.resume_note})]
        return steps


def _instants(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """``count + 1`` whole-second instants, strictly increasing, within ``WINDOW`` before now.

    The first is the receipt; the last is at least a minute before ``now``. Gaps are exponential
    (most steps quick, a few slow) plus a minute each, so no two steps share an instant.
    """
    span = int(rng.uniform(30 * 60 + 60 * count, WINDOW.total_seconds()))
    spare = span - 60 * (count + 1)
    weights = [rng.expovariate(1.0) for _ in range(count + 1)]  # the last: the gap up to now
    total = sum(weights)
    received = now.replace(microsecond=0) - timedelta(seconds=span)
    out, offset = [received], 0
    for w in weights[:-1]:
        offset += 60 + int(spare * w / total)
        out.append(received + timedelta(seconds=offset))
    return out


def _write(desk: Desk, plans: list[_Plan], seq: int, now: datetime, seed: int) -> None:
    """Insert the tickets, then their holds and their one ``create`` event each."""
    resume_note = _("hold cleared")
    for rows in chunked((p.row | {"change_seq": seq, "created_at": now} for p in plans), BATCH):
        Ticket.insert_many(rows).execute()
    numbers = [p.row["number"] for p in plans]
    ids = dict(
        Ticket.select(Ticket.number, Ticket.id)
        .where(Ticket.number.between(numbers[0], numbers[-1]))
        .tuples()
    )
    holds = (
        {
            "ticket": ids[p.row["number"]],
            "reason": h.reason.value,
            "evidence": h.evidence,
            "started_at": h.start,
            "ended_at": h.end,
            "resume_note": resume_note if h.end is not None else None,
            "actor": desk.actor,
        }
        for p in plans
        for h in p.timeline.holds
    )
    _insert(Hold, holds)
    note = _("synthetic ticket (seed {seed}): its later steps are not in the event log").format(
        seed=seed
    )
    events = (
        {
            "ticket": ids[p.row["number"]],
            "change_seq": seq,
            "actor": desk.actor,
            "action": "create",
            "field": "state",
            "old_value": None,
            "new_value": S.RECEIVED.value,
            "note": note,
            "occurred_at": p.timeline.received_at,
            "recorded_at": now,
        }
        for p in plans
    )
    chain.append(desk.db, list(events))
    stopped = sorted({p.stopped_turbine for p in plans if p.stopped_turbine is not None})
    for part in chunked(stopped, BATCH):
        Turbine.update(status="stopped").where(Turbine.id.in_(part)).execute()


def _insert(model: Any, rows: Iterable[dict[str, Any]]) -> None:
    for part in chunked(rows, BATCH):
        model.insert_many(part).execute()
