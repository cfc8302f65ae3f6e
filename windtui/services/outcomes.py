"""The frozen outcomes of closed tickets that the KPI queries aggregate.

When a ticket closes or is cancelled, :func:`after_step` (called by ``Desk.act`` inside the
action's transaction, right after the ticket row changed) writes one :class:`TicketOutcome` and
seven :class:`ClockOutcome` rows: every clock judged at the closing instant by
:func:`windtui.domain.sla.compute_clocks` (through :func:`windtui.domain.kpi.clock_facts`), the
hold and downtime totals, the repair report's fixed / first-time-fix answers and the survey
score when the quality records exist, and the filter columns (farm, customer, technician, team,
category, priority) copied onto every row so that a KPI is one index-range scan.

A reopen deletes the rows (the next close writes them again); a turbine restored after its
ticket closed rewrites them (the downtime ends then). :func:`rebuild_outcomes` recomputes every
closed ticket's rows, for tickets closed before outcomes existed, after an import, or after a new
policy changed the targets (``windtui kpi --rebuild``). :func:`refresh_outcome` rewrites one
closed ticket's rows, for a quality record corrected after closing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from peewee import JOIN, chunked

from windtui.domain import kpi
from windtui.domain import roles as access
from windtui.domain.model import Action, HoldReason, TicketState
from windtui.domain.policy import PolicySet
from windtui.domain.sla import downtime
from windtui.services.records import TicketSnapshot
from windtui.store.db import write_transaction
from windtui.store.models import (
    ClockOutcome,
    Contract,
    Farm,
    RepairReport,
    Staff,
    Survey,
    Ticket,
    TicketOutcome,
)

if TYPE_CHECKING:
    from windtui.services.desk import Desk

#: Tickets per rebuild step (one snapshot read, one insert per table).
REBUILD_CHUNK = 500
#: Rows per INSERT (ClockOutcome has ~15 columns: far below SQLite's variable limit).
INSERT_BATCH = 500
_CLOSED = (TicketState.CLOSED.value, TicketState.CANCELLED.value)
_WEATHER = frozenset({HoldReason.WEATHER})


def after_step(
    desk: Desk, ticket_id: int, action: Action, state: TicketState, *, now: datetime
) -> None:
    """Record (on close/cancel, or a restore after closing) or drop (on reopen) the ticket's
    outcome rows, inside the caller's transaction."""
    if action is Action.REOPEN:
        _drop([ticket_id])
    elif action in (Action.CLOSE, Action.CANCEL, Action.RESTORE) and not state.is_open:
        _write(desk, [ticket_id], desk.policy())


def refresh_outcome(desk: Desk, ticket_id: int) -> bool:
    """Rewrite a closed ticket's outcome rows inside the caller's transaction (for a repair
    report or survey corrected after the ticket closed). False when the ticket is still open."""
    row = Ticket.select(Ticket.state).where(Ticket.id == ticket_id).first()
    if row is None or row.state not in _CLOSED:
        return False
    _write(desk, [ticket_id], desk.policy())
    return True


def rebuild_outcomes(desk: Desk) -> int:
    """Recompute the outcome rows of every closed or cancelled ticket under the policy in force
    (administrators); returns how many tickets have outcomes now. One transaction."""
    from windtui.services.desk import _active  # the desk imports this module

    @_active
    def run(desk: Desk) -> int:
        desk._gate(access.INIT)
        policy = desk.policy()
        with write_transaction(desk.db):
            ClockOutcome.delete().execute()
            TicketOutcome.delete().execute()
            ids = [
                i
                for (i,) in Ticket.select(Ticket.id)
                .where(Ticket.state.in_(_CLOSED))
                .order_by(Ticket.id)
                .tuples()
            ]
            for part in chunked(ids, REBUILD_CHUNK):
                _write(desk, part, policy, replace=False)
        return len(ids)

    return run(desk)


# -- internals ---------------------------------------------------------------------------------


def _drop(ticket_ids: Sequence[int]) -> None:
    ClockOutcome.delete().where(ClockOutcome.ticket.in_(ticket_ids)).execute()
    TicketOutcome.delete().where(TicketOutcome.ticket.in_(ticket_ids)).execute()


def _write(
    desk: Desk, ticket_ids: Sequence[int], policy: PolicySet, *, replace: bool = True
) -> None:
    """(Re)write the outcome rows of the closed tickets ``ticket_ids``."""
    ids = list(ticket_ids)
    snapshots = [
        s
        for s in desk._snapshots(Ticket.id.in_(ids))
        if s.state in (TicketState.CLOSED, TicketState.CANCELLED)
    ]
    facts = _facts(ids)
    reports = {
        t: (fixed, ftf)
        for t, fixed, ftf in RepairReport.select(
            RepairReport.ticket, RepairReport.fixed, RepairReport.first_time_fix
        )
        .where(RepairReport.ticket.in_(ids))
        .tuples()
    }
    scores = dict(Survey.select(Survey.ticket, Survey.score).where(Survey.ticket.in_(ids)).tuples())
    tickets: list[dict[str, Any]] = []
    clocks: list[dict[str, Any]] = []
    for snap in snapshots:
        ticket_row, clock_rows = _rows(
            snap, facts[snap.id], reports.get(snap.id), scores.get(snap.id), policy
        )
        tickets.append(ticket_row)
        clocks.extend(clock_rows)
    if replace:
        _drop(ids)
    _insert(TicketOutcome, tickets)
    _insert(ClockOutcome, clocks)


def _facts(ids: Sequence[int]) -> dict[int, tuple[int, int | None, int | None, str, int | None]]:
    """Per ticket: farm id, customer id, owner id, owner's base (team), turbine id."""
    query = (
        Ticket.select(Ticket.id, Ticket.farm, Contract.customer, Ticket.owner, Staff.base)
        .join(Farm)
        .join(Contract, JOIN.LEFT_OUTER)
        .switch(Ticket)
        .join(Staff, JOIN.LEFT_OUTER)
        .where(Ticket.id.in_(ids))
    )
    turbines = dict(Ticket.select(Ticket.id, Ticket.turbine).where(Ticket.id.in_(ids)).tuples())
    return {
        tid: (farm, customer, owner, base or "", turbines.get(tid))
        for tid, farm, customer, owner, base in query.tuples()
    }


def _rows(
    snap: TicketSnapshot,
    facts: tuple[int, int | None, int | None, str, int | None],
    report: tuple[bool | None, bool | None] | None,
    score: int | None,
    policy: PolicySet,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The TicketOutcome row and the seven ClockOutcome rows of one closed ticket."""
    farm, customer, owner, team, turbine = facts
    tl = snap.timeline
    cancelled = snap.state is TicketState.CANCELLED
    at = tl.cancelled_at if cancelled else tl.closed_at
    assert at is not None, snap.number
    judged = kpi.clock_facts(
        tl, policy, farm_tz=snap.farm_timezone, farm_calendar=snap.farm_calendar, at=at
    )
    repair = next(c for c in judged if c.target.value == "repair")
    down = None
    if turbine is not None and tl.turbine_stopped_at is not None:
        # The downtime clock up to the restore (which may come after the closing), else to the
        # closing: provisional until a later ``restore`` rewrites the row.
        down = downtime(tl, max(at, tl.turbine_restored_at or at))
    common = {
        "closed_at": at,
        "farm": farm,
        "technician": owner,
        "category": snap.category.value,
        "priority": snap.priority.value,
    }
    fixed, first_time = report if report is not None else (None, None)
    ticket_row = {
        "ticket": snap.id,
        "received_at": tl.received_at,
        **common,
        "customer": customer,
        "team": team,
        "cancelled": cancelled,
        "reopened": tl.reopened_at is not None,
        "fixed": fixed,
        "first_time_fix": first_time,
        "repair_seconds": repair.elapsed_seconds if repair.stopped else None,
        "weather_hold_seconds": kpi.hold_seconds(tl.holds, at, _WEATHER),
        "hold_seconds": kpi.hold_seconds(tl.holds, at),
        "downtime_seconds": down.seconds if down is not None else None,
        "survey_score": score,
        "turbine": turbine,
        "down_start": down.since.timestamp() if down is not None else None,
        "down_end": down.until.timestamp() if down is not None and down.until else None,
        "policy_digest": policy.digest,
    }
    clock_rows = [
        {
            "ticket": snap.id,
            "target": c.target.value,
            "state": c.state,
            "elapsed_seconds": c.elapsed_seconds,
            "target_seconds": c.target_seconds,
            "paused_seconds": c.paused_seconds,
            "stopped": c.stopped,
            **common,
            "customer": customer,
            "team": team,
        }
        for c in judged
    ]
    return ticket_row, clock_rows


def _insert(model: Any, rows: Iterable[dict[str, Any]]) -> None:
    for part in chunked(rows, INSERT_BATCH):
        model.insert_many(part).execute()
