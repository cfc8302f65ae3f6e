"""The SLA board: every open ticket's clocks kept current at 1 Hz without recomputing them.

Per ticket the board keeps a :class:`~windtui.domain.sla.TicketPlan` (replanned only when the
ticket's version, its farm calendar or the policy digest changes). A running clock changes state
only at two known instants, at-risk and due, so those sit in a min-heap; ``refresh(now)`` pops the
instants that have passed and touches nothing else. Counts are maintained incrementally.

Alerts: ``refresh`` reports ``(ticket_id, target, state)`` once when a clock *enters* at-risk or
breached, as observed by this board. A ticket's first evaluation after it is first upserted
raises no alerts: a console that starts up (or reloads a ticket it had never seen) must not toast
hundreds of old breaches; those show in the counts and the countdown pane instead. An alert is not
repeated for the same clock cycle (the same clock start), even if a replan moves the clock back
out of that state and in again; a new cycle (reopen, report returned for rework) alerts afresh.

Not thread-safe: one console owns one board and calls it from its event loop.
"""

from __future__ import annotations

import gc
import heapq
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from windtui.domain.model import Clock, ClockState, Target, Timeline
from windtui.domain.policy import PolicySet
from windtui.domain.sla import PAUSED, RUNNING, ClockPlan, TicketPlan, evaluate, plan_ticket
from windtui.errors import NotFound
from windtui.i18n import _

_AT_RISK, _BREACHED = 1, 2  # alert levels; a clock alerts once per level per cycle
_LEVEL = {ClockState.AT_RISK: _AT_RISK, ClockState.BREACHED: _BREACHED}
_STATE_OF_LEVEL = {_AT_RISK: ClockState.AT_RISK, _BREACHED: ClockState.BREACHED}

# (ticket_id, version, timeline, farm_tz, farm_calendar): one ticket for ``SlaBoard.upsert_many``
BoardItem = tuple[int, int, Timeline, str, str]
_HeapItem = tuple[float, int, int, int, int]  # (instant, ticket_id, clock index, generation, level)
_SortedItem = tuple[float, int, int]  # (due or remaining seconds, ticket_id, clock index)


@dataclass(frozen=True, slots=True)
class BoardCounts:
    """Ticket counts for the status bar (as of the last refresh)."""

    open: int = 0
    at_risk: int = 0  # tickets with at least one at-risk clock
    breached: int = 0  # tickets with at least one breached clock
    on_hold: int = 0  # tickets with an open hold


@dataclass
class RefreshResult:
    """What a refresh changed. ``changed`` lists tickets whose clock states moved (to repaint)."""

    alerts: list[tuple[int, Target, ClockState]] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)


class _Entry:
    """One ticket on the board."""

    __slots__ = (
        "alert_cycle",
        "alerted",
        "farm_calendar",
        "farm_tz",
        "fresh",
        "gen",
        "heap_items",
        "n_breached",
        "n_risk",
        "plan",
        "states",
        "timeline",
        "version",
    )

    def __init__(self, version: int, timeline: Timeline, farm_tz: str, farm_calendar: str) -> None:
        self.version = version
        self.timeline = timeline
        self.farm_tz = farm_tz
        self.farm_calendar = farm_calendar
        self.plan: TicketPlan | None = None
        self.gen = 0  # bumped on every replan: heap items of older generations are stale
        self.fresh = True  # never evaluated: its first states raise no alerts
        self.heap_items = 0  # live heap items of the current generation
        self.states: list[ClockState] | None = None  # None until evaluated by a refresh
        self.n_risk = 0
        self.n_breached = 0
        self.alerted = [0] * len(Target)  # highest alert level raised, per clock
        self.alert_cycle: list[datetime | None] = [None] * len(Target)  # clock start it was for


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk (re)plan, then restore its previous state.

    Why: planning 10,000 tickets creates ~100,000 long-lived objects, and the allocations trigger
    collector passes that rescan all of them (and the rest of the console) although none is
    garbage: ~25 % of a cold load. Reference counting still frees everything transient.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SlaBoard:
    """Live SLA state of the open tickets; see the module docstring."""

    def __init__(self, policy: PolicySet) -> None:
        self.policy = policy
        self._entries: dict[int, _Entry] = {}
        self._pending: set[int] = set()  # (re)planned, not yet evaluated at a refresh instant
        self._heap: list[_HeapItem] = []
        # running clocks, and clocks breached before a hold (still owed), by due instant
        self._by_due: list[_SortedItem] = []
        # paused clocks by remaining business seconds: a lower bound of their projected due
        self._paused: list[_SortedItem] = []
        self._stale = 0  # heap items of old generations still in the heap
        self._open = self._at_risk = self._breached = self._on_hold = 0

    # -- inputs ---------------------------------------------------------------------------------

    @property
    def counts(self) -> BoardCounts:
        """Ticket counts: open and on-hold from the last upsert, at-risk and breached as of the
        last refresh (a ticket upserted since is counted there at the next refresh)."""
        return BoardCounts(self._open, self._at_risk, self._breached, self._on_hold)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._entries

    def set_policy(self, policy: PolicySet) -> None:
        """Switch policy; a different digest replans every ticket from its receipt.

        Like a console start-up, a policy switch raises no alerts for clocks that are at risk or
        breached under the new policy at the next refresh: they show in the counts instead.
        """
        old_digest = self.policy.digest
        self.policy = policy
        if policy.digest == old_digest:
            return
        self._heap.clear()
        self._stale = 0
        self._by_due.clear()
        self._paused.clear()
        with _collector_paused():
            for ticket_id, entry in self._entries.items():
                self._uncount(entry)
                entry.heap_items = 0
                entry.fresh = True
                self._plan(ticket_id, entry)
            self._index_all(self._entries.items())

    def upsert(
        self,
        ticket_id: int,
        version: int,
        timeline: Timeline,
        *,
        farm_tz: str,
        farm_calendar: str,
    ) -> None:
        """Add or update a ticket; replans only when its version (or farm calendar) changed."""
        entry = self._replan(ticket_id, version, timeline, farm_tz, farm_calendar, indexed=True)
        if entry is not None:
            self._index(ticket_id, entry, _insort)

    def upsert_many(self, items: Iterable[BoardItem]) -> None:
        """Upsert many tickets: the same board as :meth:`upsert` on each item in order, faster.

        ``items`` are ``(ticket_id, version, timeline, farm_tz, farm_calendar)``. The sorted
        lists are sorted once at the end instead of one insertion per clock (a console start-up
        upserts 10,000 tickets); the heap is built once at the next refresh.
        """
        planned: dict[int, _Entry] = {}  # replanned here, not yet in the sorted lists
        with _collector_paused():
            for ticket_id, version, timeline, farm_tz, farm_calendar in items:
                indexed = ticket_id not in planned
                entry = self._replan(
                    ticket_id, version, timeline, farm_tz, farm_calendar, indexed=indexed
                )
                if entry is not None:
                    planned[ticket_id] = entry
            self._index_all(planned.items())

    def _replan(
        self,
        ticket_id: int,
        version: int,
        timeline: Timeline,
        farm_tz: str,
        farm_calendar: str,
        *,
        indexed: bool,
    ) -> _Entry | None:
        """Record and plan a ticket unless nothing changed (None); the caller indexes it.

        ``indexed``: the ticket's current plan is in the sorted lists (so it is taken out).
        """
        entry = self._entries.get(ticket_id)
        if entry is not None:
            if (entry.version, entry.farm_tz, entry.farm_calendar) == (
                version,
                farm_tz,
                farm_calendar,
            ):
                return None
            if indexed:
                self._retract(ticket_id, entry)
            else:
                self._uncount(entry)
            entry.version, entry.timeline = version, timeline
            entry.farm_tz, entry.farm_calendar = farm_tz, farm_calendar
        else:
            entry = _Entry(version, timeline, farm_tz, farm_calendar)
            self._entries[ticket_id] = entry
        self._plan(ticket_id, entry)
        return entry

    def remove(self, ticket_id: int) -> None:
        """Forget a ticket (closed, cancelled or out of the console's scope)."""
        entry = self._entries.pop(ticket_id, None)
        if entry is not None:
            self._retract(ticket_id, entry)
        self._pending.discard(ticket_id)

    # -- the hot path ---------------------------------------------------------------------------

    def refresh(self, now: datetime) -> RefreshResult:
        """Bring states and counts to ``now``; cost ~ the number of clocks that changed state."""
        now_ts = now.timestamp()
        result = RefreshResult()
        changed: set[int] = set()
        if self._pending:
            # Many fresh plans (start-up, policy switch): append their items and heapify once,
            # O(heap) instead of a push each.
            bulk = 16 * len(self._pending) >= len(self._heap)
            push = self._heap.append if bulk else partial(heapq.heappush, self._heap)
            with _collector_paused() if bulk else nullcontext():
                for ticket_id in self._pending:
                    self._evaluate(ticket_id, self._entries[ticket_id], now_ts, result, push)
            if bulk:
                heapq.heapify(self._heap)
            changed.update(self._pending)
            self._pending.clear()
        heap, entries = self._heap, self._entries
        while heap and heap[0][0] <= now_ts:
            _at, ticket_id, index, gen, level = heapq.heappop(heap)
            entry = entries.get(ticket_id)
            if entry is None or entry.gen != gen or entry.plan is None:
                self._stale -= 1
                continue  # stale: the ticket was replanned or removed
            entry.heap_items -= 1
            if level == _AT_RISK and now_ts >= entry.plan.clocks[index].due_at:
                continue  # jumped straight past the due instant: the breach item reports it
            self._enter(ticket_id, entry, index, _STATE_OF_LEVEL[level], result)
            changed.add(ticket_id)
        if self._stale > 1024 and 2 * self._stale > len(heap):
            self._compact()
        result.changed = sorted(changed)
        return result

    # -- reads ----------------------------------------------------------------------------------

    def clocks(self, ticket_id: int, now: datetime) -> tuple[Clock, ...]:
        """The seven clocks of one ticket at ``now`` (for rows on screen)."""
        return evaluate(self._entry(ticket_id).plan, now)

    def next_due(self, ticket_id: int) -> tuple[Target, datetime] | None:
        """The earliest due among the ticket's running clocks (not paused, not stopped); a clock
        breached before a hold counts as running, so the queue sorts it with the other breaches.
        """
        plan = self._entry(ticket_id).plan
        return None if plan is None else plan.next_due

    def nearest(self, limit: int, now: datetime) -> list[tuple[int, Clock]]:
        """Open clocks by due instant (most overdue first); paused ones by their projected due.

        Running clocks (and those breached before a hold, by the instant they breached) come from
        a list kept sorted by due; paused clocks are scanned in order of remaining business time,
        which bounds their projected due from below (a business second is never shorter than a
        wall second), so the scan stops early.
        """
        if limit <= 0:
            return []
        now_ts = now.timestamp()
        picked: list[tuple[float, int, int]] = list(self._by_due[:limit])
        worst = picked[-1][0] if len(picked) == limit else float("inf")
        for remaining, ticket_id, index in self._paused:
            if now_ts + remaining > worst:
                break
            due = self._entries[ticket_id].plan.clocks[index].projected_due(now_ts)
            if due < worst or len(picked) < limit:
                picked.append((due, ticket_id, index))
                if len(picked) > limit:
                    picked.sort()
                    del picked[limit:]
                    worst = picked[-1][0]
        picked.sort()
        return [
            (ticket_id, self._entries[ticket_id].plan.clocks[index].clock_at(now_ts))
            for _due, ticket_id, index in picked[:limit]
        ]

    # -- internals ------------------------------------------------------------------------------

    def _entry(self, ticket_id: int) -> _Entry:
        entry = self._entries.get(ticket_id)
        if entry is None:
            raise NotFound(_("ticket {id} is not on the SLA board").format(id=ticket_id))
        return entry

    def _plan(self, ticket_id: int, entry: _Entry) -> None:
        """Replan one ticket and count it (the caller puts it into the sorted lists)."""
        plan = plan_ticket(
            entry.timeline, self.policy, farm_tz=entry.farm_tz, farm_calendar=entry.farm_calendar
        )
        entry.plan = plan
        entry.gen += 1
        entry.states = None
        self._pending.add(ticket_id)
        if plan.is_open:
            self._open += 1
            self._on_hold += plan.on_hold

    def _index(
        self,
        ticket_id: int,
        entry: _Entry,
        add: Callable[[list[_SortedItem], _SortedItem], object],
    ) -> None:
        """Put an open ticket's live clocks into the sorted lists with ``add``."""
        plan = entry.plan
        if plan is None or not plan.is_open:
            return
        for i in plan.live:
            clock = plan.clocks[i]
            add(self._list_of(clock), _sorted_item(ticket_id, i, clock))

    def _index_all(self, planned: Iterable[tuple[int, _Entry]]) -> None:
        """Index many fresh plans: append, then one sort (Timsort merges the sorted runs)."""
        for ticket_id, entry in planned:
            self._index(ticket_id, entry, list.append)
        self._by_due.sort()
        self._paused.sort()

    def _retract(self, ticket_id: int, entry: _Entry) -> None:
        """Take a ticket's contributions out of counts and sorted lists (heap items go stale)."""
        self._uncount(entry)
        plan = entry.plan
        if plan is None or not plan.is_open:
            return
        for i in plan.live:
            clock = plan.clocks[i]
            item = _sorted_item(ticket_id, i, clock)
            target_list = self._list_of(clock)
            at = bisect_left(target_list, item)
            if at < len(target_list) and target_list[at] == item:
                del target_list[at]

    def _list_of(self, clock: ClockPlan) -> list[_SortedItem]:
        """The sorted list a live clock belongs to (see :func:`_sorted_item`)."""
        return self._paused if clock.kind == PAUSED else self._by_due

    def _uncount(self, entry: _Entry) -> None:
        plan = entry.plan
        if plan is None or not plan.is_open:
            return
        self._open -= 1
        self._on_hold -= plan.on_hold
        self._at_risk -= entry.n_risk > 0
        self._breached -= entry.n_breached > 0
        entry.n_risk = entry.n_breached = 0
        entry.gen += 1
        self._stale += entry.heap_items
        entry.heap_items = 0

    def _evaluate(
        self,
        ticket_id: int,
        entry: _Entry,
        now: float,
        result: RefreshResult,
        push: Callable[[_HeapItem], None],
    ) -> None:
        """First evaluation after a (re)plan: states, counts, alerts and heap items (``push``)."""
        plan = entry.plan
        assert plan is not None
        entry.states = states = [clock.state_at(now) for clock in plan.clocks]
        if not plan.is_open:
            return
        for index, clock in enumerate(plan.clocks):
            state = states[index]
            level = self._note_cycle(entry, index, clock)
            new_level = _LEVEL.get(state)
            if new_level is not None:
                if entry.fresh:
                    entry.alerted[index] = max(level, new_level)
                elif new_level > level:
                    entry.alerted[index] = new_level
                    result.alerts.append((ticket_id, clock.target, state))
            if clock.kind == RUNNING:
                if state is ClockState.RUNNING:
                    push((clock.risk_at, ticket_id, index, entry.gen, _AT_RISK))
                    entry.heap_items += 1
                if state is not ClockState.BREACHED:
                    push((clock.due_at, ticket_id, index, entry.gen, _BREACHED))
                    entry.heap_items += 1
        entry.fresh = False
        entry.n_risk = entry.states.count(ClockState.AT_RISK)
        entry.n_breached = entry.states.count(ClockState.BREACHED)
        self._at_risk += entry.n_risk > 0
        self._breached += entry.n_breached > 0

    def _enter(
        self, ticket_id: int, entry: _Entry, index: int, state: ClockState, result: RefreshResult
    ) -> None:
        """A running clock crossed its at-risk or due instant."""
        assert entry.states is not None and entry.plan is not None
        old = entry.states[index]
        if old is state:
            return
        had_risk, had_breach = entry.n_risk > 0, entry.n_breached > 0
        entry.n_risk -= old is ClockState.AT_RISK
        entry.n_breached -= old is ClockState.BREACHED
        entry.n_risk += state is ClockState.AT_RISK
        entry.n_breached += state is ClockState.BREACHED
        entry.states[index] = state
        self._at_risk += (entry.n_risk > 0) - had_risk
        self._breached += (entry.n_breached > 0) - had_breach
        level = self._note_cycle(entry, index, entry.plan.clocks[index])
        if _LEVEL[state] > level:
            entry.alerted[index] = _LEVEL[state]
            result.alerts.append((ticket_id, entry.plan.clocks[index].target, state))

    @staticmethod
    def _note_cycle(entry: _Entry, index: int, clock: ClockPlan) -> int:
        """The alert level already raised for this clock's current cycle (reset on a new start)."""
        start = clock.start
        if entry.alert_cycle[index] != start:
            entry.alert_cycle[index] = start
            entry.alerted[index] = 0
        return entry.alerted[index]

    def _compact(self) -> None:
        """Drop stale heap items (left behind by replans) once they dominate the heap."""
        entries = self._entries
        self._heap = [
            item
            for item in self._heap
            if (entry := entries.get(item[1])) is not None and entry.gen == item[3]
        ]
        heapq.heapify(self._heap)
        self._stale = 0


def _sorted_item(ticket_id: int, index: int, clock: ClockPlan) -> _SortedItem:
    """A live clock's key: a paused clock's remaining business seconds (the paused list), else
    its due instant (the by-due list: running, or breached before a hold)."""
    if clock.kind == PAUSED:
        return (clock.target_seconds - clock.offset, ticket_id, index)
    return (clock.due_at, ticket_id, index)


def _insort(target_list: list[_SortedItem], item: _SortedItem) -> None:
    insort(target_list, item)
