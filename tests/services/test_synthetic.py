"""The synthetic fleet: counts, one counter bump, and tickets the lifecycle could have produced."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from windtui.domain.model import Category, Priority, TicketState
from windtui.errors import WindtuiError
from windtui.services.desk import Desk
from windtui.services.records import TicketSnapshot
from windtui.services.synthetic import HOLDABLE, WINDOW, populate
from windtui.store.models import ChangeCounter, Event, Turbine

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
S = TicketState
N = 1000

#: The current service cycle in time order, and the state each milestone leaves the ticket in.
#: (A reopen lands on feedback given; a returned report goes back to resolved and is resubmitted.)
CYCLE = {
    "received_at": S.RECEIVED,
    "acknowledged_at": S.ACKNOWLEDGED,
    "feedback_at": S.FEEDBACK_GIVEN,
    "reopened_at": S.FEEDBACK_GIVEN,
    "dispatched_at": S.DISPATCHED,
    "departed_at": S.EN_ROUTE,
    "arrived_at": S.ON_SITE,
    "resolved_at": S.RESOLVED,
    "report_returned_at": S.RESOLVED,
    "report_at": S.REPORT_SUBMITTED,
    "reviewed_at": S.REVIEWED,
    "followup_at": S.FOLLOWED_UP,
}
SITE_ONLY = ("dispatched_at", "departed_at", "arrived_at")


@pytest.fixture
def fleet(desk: Desk) -> list[TicketSnapshot]:
    """The tiny fixture fleet plus N synthetic tickets."""
    assert populate(desk, N, now=NOW) == N
    return desk.open_tickets()


def _milestones(snap: TicketSnapshot) -> list[tuple[datetime, str]]:
    """The ticket's set milestones of the current cycle, in cycle order."""
    tl = snap.timeline
    return [(getattr(tl, name), name) for name in CYCLE if getattr(tl, name) is not None]


def test_counts_numbers_and_one_counter_bump(desk: Desk, fleet: list[TicketSnapshot]) -> None:
    assert len(fleet) == N
    assert [s.number for s in fleet] == list(range(1001, 1001 + N))
    counter = ChangeCounter.get_by_id(1).value
    assert {s.change_seq for s in fleet} == {counter}  # one transaction, one bump
    assert desk.changed_since(counter - 1)[1] == fleet
    events = list(Event.select().where(Event.ticket.is_null(False)))
    assert len(events) == N and {e.action for e in events} == {"create"}
    assert set(Counter(s.category for s in fleet)) == set(Category)
    assert set(Counter(s.priority for s in fleet)) == set(Priority)
    states = Counter(s.state for s in fleet)
    assert set(states) == {s for s in S if s.is_open}
    assert {s.farm for s in fleet} == {"DBC", "DHQ"}
    assert "synthetic" in desk.detail(1001).events[0].note


def test_more_tickets_continue_the_numbers(desk: Desk) -> None:
    populate(desk, 5, now=NOW)
    desk.create_ticket(farm="DBC", category="fault", priority="P3", title="real one")
    populate(desk, 5, seed=8, now=NOW)
    assert [s.number for s in desk.open_tickets()] == list(range(1001, 1012))


def test_milestones_are_ordered_in_the_window_and_match_the_state(
    fleet: list[TicketSnapshot],
) -> None:
    for snap in fleet:
        tl = snap.timeline
        assert NOW - WINDOW <= tl.received_at < NOW, snap.number
        assert tl.closed_at is None and tl.cancelled_at is None
        marks = _milestones(snap)
        instants = [at for at, _name in marks]
        assert instants == sorted(instants) and len(set(instants)) == len(instants), snap.number
        assert all(at < NOW for at in instants)
        latest = marks[-1][1]
        assert snap.state is CYCLE[latest], (snap.number, latest, snap.state)
        if tl.report_returned_at and tl.report_at:
            assert tl.report_returned_at < tl.report_at  # resubmitted after the rework
        if not snap.category.needs_site_visit:
            assert all(getattr(tl, name) is None for name in SITE_ONLY), snap.number
        if tl.dispatched_at is not None:
            assert snap.owner is not None, snap.number
        if tl.turbine_restored_at is not None:
            assert tl.turbine_stopped_at is not None
            assert tl.turbine_stopped_at <= tl.turbine_restored_at < NOW


def test_holds_are_consistent_with_the_state(fleet: list[TicketSnapshot]) -> None:
    held = [s for s in fleet if s.timeline.holds]
    open_holds = [s for s in fleet if s.hold is not None]
    assert 0.10 <= len(held) / N <= 0.21
    assert open_holds and len(open_holds) < len(held)  # some open, some closed only
    for snap in held:
        tl = snap.timeline
        marks = _milestones(snap)
        spans = sorted(tl.holds, key=lambda h: h.start)
        assert sum(h.end is None for h in spans) <= 1
        for before, after in pairwise(spans):
            assert before.end is not None and before.end <= after.start  # no overlap
        for hold in spans:
            assert hold.evidence.strip()
            # The state when the hold started (the latest milestone before it) allowed a hold …
            previous = [name for at, name in marks if at <= hold.start]
            assert previous and CYCLE[previous[-1]] in HOLDABLE, (snap.number, previous)
            later = [at for at, _name in marks if at > hold.start]
            if hold.end is None:
                # … and an open hold is the last thing that happened; the ticket still holdable.
                assert snap.hold is hold.reason and snap.state in HOLDABLE
                assert not later and hold.start < NOW
            else:
                # … and the workflow moved on only after the hold ended.
                assert hold.start < hold.end < NOW
                assert all(at >= hold.end for at in later), snap.number


def test_some_turbines_are_stopped(desk: Desk, fleet: list[TicketSnapshot]) -> None:
    down = {
        s.turbine
        for s in fleet
        if s.timeline.turbine_stopped_at and not s.timeline.turbine_restored_at
    }
    restored = [s for s in fleet if s.timeline.turbine_restored_at]
    assert down and restored
    stopped = {
        f"{t.farm.code}-{t.position}" for t in Turbine.select().where(Turbine.status == "stopped")
    }
    assert down <= stopped


def _tiny(desk: Desk, *, technician: bool = True) -> None:
    """The desk's own administrator, one farm with two turbines and (optionally) one
    technician."""
    desk.add_staff(desk.actor, name_zh="管理员", name_en="Admin", roles=["admin", "dispatcher"])
    desk.add_farm("F", name_zh="f", name_en="f", province="p", latitude=0, longitude=0)
    turbine = {"model": "m", "rated_kw": 2000, "commissioned": NOW.date()}
    desk.add_turbines("F", [{"position": p, **turbine} for p in ("01", "02")])
    if technician:
        desk.add_staff("tech", name_zh="t", name_en="t", roles=["technician"])


def test_same_seed_same_tickets(tmp_path: Path) -> None:
    made = []
    for name in ("a", "b"):
        desk = Desk.open(f"sqlite:///{tmp_path / name}.db", now=NOW, actor="t")
        _tiny(desk)
        populate(desk, 50, seed=3, now=NOW)
        made.append([(s.state, s.title, s.turbine, s.timeline) for s in desk.open_tickets()])
        desk.close()
    assert made[0] == made[1]


def test_refuses_an_empty_database_and_a_fleet_without_technicians(sqlite_url: str) -> None:
    desk = Desk.open(sqlite_url, now=NOW, actor="t")
    with pytest.raises(WindtuiError, match="no farms"):
        populate(desk, 10, now=NOW)
    _tiny(desk, technician=False)
    with pytest.raises(WindtuiError, match="no technicians"):
        populate(desk, 10, now=NOW)
    assert desk.open_tickets() == []
    with pytest.raises(WindtuiError, match="timezone"):
        populate(desk, 1, now=NOW.replace(tzinfo=None))
    assert populate(desk, 0, now=NOW - timedelta(days=1)) == 0
