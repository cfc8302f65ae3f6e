"""SLA refresh benchmark: 10,000 open tickets, the 1 Hz tick, and a full replan.

Figures:
- ``sla_refresh_ms``: median of one console tick — ``board.refresh(now)`` plus the clocks of the
  50 tickets on screen — over 50 ticks with now advancing 1 s. Its baseline is the naive design
  (``design-notes.md``): every tick, recompute every started clock's deadline of every open ticket
  with pendulum (``add(hours=…)`` and a difference to now), on a 24×7 calendar only — the baseline
  does less work than ours (no business calendars, no pauses), so the ratio is conservative.
- ``sla_refresh_speedup``: baseline / ours (must be at least 10).
- ``sla_replan_all_ms``: replanning all 10,000 tickets after a policy change, plus the refresh
  that evaluates them (what a user waits for after ``policy load``). Budget 250 ms.
- ``sla_upsert_10k_ms``: a cold board taking all 10,000 tickets with ``upsert_many`` plus the
  first refresh that evaluates them: the SLA share of the console's first paint (budget 250 ms of
  the 1 s first paint).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pendulum

from windtui.benchmarks import Figure
from windtui.domain.model import Category, HoldReason, HoldSpan, Priority, Timeline
from windtui.domain.policy import DEFAULT_POLICY_PATH, load_policy
from windtui.domain.refresh import SlaBoard
from windtui.domain.sla import plan_ticket

TICKETS = 10_000
TICKS = 50
VISIBLE = 50
BASELINE_PASSES = 3
REPLANS = 3
COLD_LOADS = 3
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)

# (farm code, farm timezone, farm calendar): a spread of the shipped calendars
FARMS = (
    ("DBC", "Asia/Shanghai", "24x7"),
    ("ZJK", "Asia/Shanghai", "cn-business"),
    ("RDG", "Asia/Shanghai", "24x7"),
    ("YCH", "Asia/Shanghai", "cn-business"),
    ("HMI", "Asia/Urumqi", "xinjiang-day"),
    ("TLF", "Asia/Urumqi", "xinjiang-day"),
    ("NSK", "Europe/Berlin", "de-business"),
    ("BTK", "Europe/Berlin", "24x7"),
)
# The milestones in service order; a ticket has reached a random number of them.
_STEPS = ("acknowledged_at", "feedback_at", "arrived_at", "resolved_at", "report_at", "reviewed_at")
_SITE_STEPS = frozenset({"arrived_at", "resolved_at"})


def synthetic_tickets(
    count: int = TICKETS, *, now: datetime = NOW, seed: int = 20260310
) -> list[tuple[int, Timeline, str, str]]:
    """Deterministic open tickets ``(id, timeline, farm_tz, farm_calendar)``, all events <= now."""
    rng = random.Random(seed)
    categories, priorities, reasons = list(Category), list(Priority), list(HoldReason)
    tickets = []
    for ticket_id in range(1, count + 1):
        _farm, farm_tz, farm_calendar = FARMS[ticket_id % len(FARMS)]
        category = rng.choice(categories)
        received = now - timedelta(seconds=rng.randrange(60, 12 * 86_400))
        fields: dict[str, object] = {}
        cursor = received
        for step in _STEPS[: rng.randrange(len(_STEPS) + 1)]:
            if step in _SITE_STEPS and not category.needs_site_visit:
                continue
            nxt = cursor + timedelta(seconds=rng.randrange(60, 36 * 3600))
            if nxt > now:
                break
            fields[step] = cursor = nxt
        holds: tuple[HoldSpan, ...] = ()
        if rng.random() < 0.15:
            start = received + (now - received) * rng.random()
            end = start + (now - start) * rng.random() if rng.random() < 0.5 else None
            holds = (HoldSpan(rng.choice(reasons), start, end, "benchmark"),)
        timeline = Timeline(
            category=category,
            priority=rng.choice(priorities),
            received_at=received,
            holds=holds,
            **fields,
        )
        tickets.append((ticket_id, timeline, farm_tz, farm_calendar))
    return tickets


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _naive_pass(starts: list[list[tuple[pendulum.DateTime, float]]], now: pendulum.DateTime) -> int:
    """The design the board replaces: every deadline of every ticket, every tick, with pendulum."""
    breached = 0
    for clocks in starts:
        for start, hours in clocks:
            due = start.add(hours=hours)
            if (due - now).in_seconds() < 0:
                breached += 1
    return breached


def bench_sla_refresh() -> list[Figure]:
    """Measure a cold 10k load, the 1 Hz tick against the naive baseline, and a full replan."""
    text = DEFAULT_POLICY_PATH.read_text("utf-8")
    policy = load_policy(text, str(DEFAULT_POLICY_PATH))
    tickets = synthetic_tickets()
    items = [(ticket_id, 1, tl, farm_tz, farm_cal) for ticket_id, tl, farm_tz, farm_cal in tickets]

    loaded: list[SlaBoard] = []  # kept alive: freeing a board is not part of a first paint

    def cold_load() -> None:
        fresh = SlaBoard(policy)
        fresh.upsert_many(items)
        fresh.refresh(NOW)  # the start-up evaluation
        loaded.append(fresh)

    cold_load()  # also warms the calendars' tables, as a console's first ticket does
    samples = []
    for _ in range(COLD_LOADS):
        loaded.clear()  # one board alive at a time, as in a console; freed outside the timing
        samples.append(_timed(cold_load))
    cold_ms = _median_ms(samples)
    board = loaded[0]

    visible = [ticket_id for ticket_id, *_rest in tickets[:VISIBLE]]

    def tick(now: datetime) -> None:
        board.refresh(now)
        for ticket_id in visible:
            board.clocks(ticket_id, now)

    ours = [_timed(lambda i=i: tick(NOW + timedelta(seconds=i + 1))) for i in range(TICKS)]
    ours_ms = _median_ms(ours)

    # Baseline input: each ticket's started clocks as (pendulum start, target hours).
    starts: list[list[tuple[pendulum.DateTime, float]]] = []
    for _ticket_id, timeline, farm_tz, farm_calendar in tickets:
        plan = plan_ticket(timeline, policy, farm_tz=farm_tz, farm_calendar=farm_calendar)
        clocks = []
        for clock in plan.clocks:
            if clock.start is not None:
                clocks.append((pendulum.instance(clock.start), clock.target_seconds / 3600.0))
        starts.append(clocks)
    baseline = [
        _timed(lambda i=i: _naive_pass(starts, pendulum.instance(NOW).add(seconds=i)))
        for i in range(BASELINE_PASSES)
    ]
    baseline_ms = _median_ms(baseline)
    ratio = baseline_ms / ours_ms if ours_ms > 0 else float("inf")

    # Full replan: alternate between two texts so every switch changes the digest.
    variants = [load_policy(text + f"\n# replan {i}\n", "bench") for i in range(REPLANS)]

    def replan(variant_index: int) -> None:
        board.set_policy(variants[variant_index])
        board.refresh(NOW + timedelta(seconds=TICKS + 1))

    replans = [_timed(lambda i=i: replan(i)) for i in range(REPLANS)]
    assert len(board) == TICKETS and board.counts.open == TICKETS
    return [
        Figure(
            "sla_refresh_ms",
            round(ours_ms, 3),
            "ms",
            10.0,
            baseline=round(baseline_ms, 1),
            ratio=round(ratio, 1),
        ),
        Figure("sla_refresh_speedup", round(ratio, 1), "x", 10.0, budget_kind="min"),
        Figure("sla_replan_all_ms", round(_median_ms(replans), 1), "ms", 250.0),
        Figure("sla_upsert_10k_ms", round(cold_ms, 1), "ms", 250.0),
    ]


BENCHMARKS = {"sla_refresh": bench_sla_refresh}
