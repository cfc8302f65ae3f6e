"""``windtui bench store_load``: the desk's ticket reads and writes with 10,000 open tickets.

On a temporary SQLite file holding the demo fleet plus ``populate(10_000)`` synthetic tickets
(``windtui.services.synthetic``; a small built-in fleet stands in when the demo loader is absent):

* ``open_tickets_10k_ms`` — median of 5 ``Desk.open_tickets()``: what the console loads at start
  (budget 250 ms, so the first full screen fits in 1 s).
* ``changed_since_100_ms`` — a second desk on the same file changes 100 tickets; median of 5
  ``changed_since(mark)`` on the first desk: what the console runs when another desk writes
  (budget 50 ms).
* ``write_p95_ms`` — p95 of 200 lifecycle ``act`` calls with version checks, each one write
  transaction plus the snapshot it returns (budget 50 ms).
* ``populate_10k_ms`` — the bulk insert itself (budget 10 s; a setup cost, reported so a slow
  machine is visible).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from windtui.benchmarks import Figure
from windtui.domain import lifecycle
from windtui.domain.model import Action, TicketState
from windtui.services.desk import Desk
from windtui.services.records import TicketSnapshot
from windtui.services.synthetic import populate

TICKETS = 10_000
READS = 5
CHANGED = 100
WRITES = 200
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)

#: One forward action per state that needs no extra input (technician, reason, evidence, a
#: repair report or a survey) and that the bench's dispatcher may take (not the QA review).
_FORWARD = {
    TicketState.RECEIVED: Action.ACK,
    TicketState.ACKNOWLEDGED: Action.FEEDBACK,
    TicketState.DISPATCHED: Action.DEPART,
    TicketState.EN_ROUTE: Action.ARRIVE,
    TicketState.ON_SITE: Action.RESOLVE,
    TicketState.FOLLOWED_UP: Action.CLOSE,
}


def _timed(action: Callable[[], object]) -> float:
    """Wall-clock milliseconds of one call."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000.0


def _load_fleet(desk: Desk) -> None:
    """The demo fleet, or (without the demo loader) a small fleet of the same kind."""
    try:
        from windtui.services.demo import load_demo
    except ImportError:
        load_demo = None
    if load_demo is not None:
        load_demo(desk, "en")
        return
    with desk.batch():
        for i in range(8):
            code = f"F{i}"
            desk.add_farm(code, name_zh=code, name_en=code, province="-", latitude=0, longitude=0)
            turbine = {"model": "GW121", "rated_kw": 2500, "commissioned": date(2015, 9, 30)}
            desk.add_turbines(code, [{"position": f"A{p:02}", **turbine} for p in range(1, 41)])
        for i in range(12):
            login = f"tech{i}"
            desk.add_staff(login, name_zh=login, name_en=login, roles=["technician"])


def _forward(snap: TicketSnapshot) -> Action | None:
    """A no-input forward action the lifecycle allows for this ticket now, if any."""
    action = _FORWARD.get(snap.state)
    if action is None:
        return None
    allowed = lifecycle.allowed_actions(
        snap.state,
        category=snap.category,
        on_hold=snap.hold is not None,
        turbine_down=lifecycle.is_turbine_down(snap.timeline),
    )
    return action if action in allowed else None


def _change_from_another_desk(url: str, count: int) -> None:
    """A second desk (another console) reassigns ``count`` tickets."""
    other = Desk.open(url, now=NOW, actor="luog")
    try:
        logins = [t.login for t in other.technicians()]
        assignable = [s for s in other.open_tickets() if s.state in lifecycle.ASSIGNABLE_STATES]
        for snap in assignable[:count]:
            login = next(x for x in logins if x != snap.owner)
            other.assign(snap.number, login, expected_version=snap.version)
    finally:
        other.close()


def bench_store_load() -> list[Figure]:
    """Measure the console's start-up load, its change poll and single writes at 10k tickets."""
    with tempfile.TemporaryDirectory(prefix="windtui-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'store.db'}"
        desk = Desk.open(url, now=NOW, actor="bench")
        try:
            _load_fleet(desk)
            populate_ms = _timed(lambda: populate(desk, TICKETS, now=NOW))

            loads = [_timed(desk.open_tickets) for _ in range(READS)]
            snapshots = desk.open_tickets()
            assert len(snapshots) >= TICKETS

            mark, _changed = desk.changed_since(0)
            _change_from_another_desk(url, CHANGED)
            polls = [_timed(lambda: desk.changed_since(mark)) for _ in range(READS)]
            _mark, changed = desk.changed_since(mark)
            assert len(changed) == CHANGED, len(changed)

            fresh = {s.number: s for s in desk.open_tickets()}
            plan = [(s, a) for s in fresh.values() if (a := _forward(s)) is not None][:WRITES]
            assert len(plan) == WRITES
            writes = [
                _timed(lambda s=s, a=a: desk.act(s.number, a, expected_version=s.version))
                for s, a in plan
            ]
        finally:
            desk.close()
    p95 = statistics.quantiles(writes, n=20, method="inclusive")[18]
    return [
        Figure("open_tickets_10k_ms", round(statistics.median(loads), 1), "ms", 250.0),
        Figure("changed_since_100_ms", round(statistics.median(polls), 2), "ms", 50.0),
        Figure("write_p95_ms", round(p95, 2), "ms", 50.0),
        Figure("populate_10k_ms", round(populate_ms, 0), "ms", 10_000.0),
    ]


BENCHMARKS = {"store_load": bench_store_load}
