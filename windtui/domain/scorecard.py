"""Scorecards (policy §四(3), rewards and penalties): the points maths and the ranking.

Pure Python. :mod:`windtui.services.scorecard` reads what happened on the tickets closed in a
period — from the same ``ticket_outcome`` / ``clock_outcome`` rows the KPIs aggregate — as one
:class:`Item` per scoring event (a met clock, a low survey, a reopen, …) credited to a subject (a
technician's login, or a team: the technician's base). :func:`score` turns the items into one
:class:`Card` per subject with the points the policy's ``[scorecard]`` section sets
(:class:`Points`), and :func:`rank` orders the cards.

A card's total is the sum of its components' points, each component is ``count × points each``,
and each component keeps the ticket numbers behind it (the drill-down).

Ranking is a total order (no two subjects share a place): more points first; then the smaller
penalty (the sum of the negative components, nearer zero first); then more tickets scored; then
the subject's code (login or team) in code-point order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from windtui.domain.model import Target

#: The scoring events, in display order. ``met_clock`` and ``breached_clock`` are per SLA clock.
MET_CLOCK = "met_clock"
BREACHED_CLOCK = "breached_clock"
FIRST_TIME_FIX = "first_time_fix"
REOPENED = "reopened"
HIGH_SURVEY = "high_survey"
LOW_SURVEY = "low_survey"
ADOPTED_SUGGESTION = "adopted_suggestion"
RETURNED_REPORT = "returned_report"

KINDS: tuple[str, ...] = (
    MET_CLOCK,
    BREACHED_CLOCK,
    FIRST_TIME_FIX,
    REOPENED,
    HIGH_SURVEY,
    LOW_SURVEY,
    ADOPTED_SUGGESTION,
    RETURNED_REPORT,
)
CLOCK_KINDS = frozenset({MET_CLOCK, BREACHED_CLOCK})

#: English msgids naming each kind (show them with ``_()``).
KIND_LABELS: dict[str, str] = {
    MET_CLOCK: "SLA clock met",
    BREACHED_CLOCK: "SLA clock breached",
    FIRST_TIME_FIX: "Fixed at the first visit",
    REOPENED: "Reopened",
    HIGH_SURVEY: "Satisfied customer",
    LOW_SURVEY: "Dissatisfied customer",
    ADOPTED_SUGGESTION: "Suggestion adopted",
    RETURNED_REPORT: "Report returned for rework",
}

#: Short column headings for terminal tables (English msgids).
KIND_HEADINGS: dict[str, str] = {
    MET_CLOCK: "Met",
    BREACHED_CLOCK: "Breached",
    FIRST_TIME_FIX: "First fix",
    REOPENED: "Reopen",
    HIGH_SURVEY: "Survey+",
    LOW_SURVEY: "Survey-",
    ADOPTED_SUGGESTION: "Adopted",
    RETURNED_REPORT: "Returned",
}

#: Survey scores run 1..5.
MIN_SCORE, MAX_SCORE = 1, 5

#: What a section-less policy gives (the shipped ``data/sla-policy.toml`` says the same).
DEFAULT_MET_CLOCK = 1.0
DEFAULT_BREACHED_CLOCK = -2.0


def _per_clock(value: float) -> Mapping[Target, float]:
    return MappingProxyType(dict.fromkeys(Target, float(value)))


@dataclass(frozen=True)
class Points:
    """The points per scoring event (policy ``[scorecard]``). ``met_clock`` and
    ``breached_clock`` hold a value per SLA clock. A survey scores ``high_survey`` at or above
    ``high_score_threshold`` and ``low_survey`` at or below ``low_score_threshold``."""

    met_clock: Mapping[Target, float] = field(default_factory=lambda: _per_clock(DEFAULT_MET_CLOCK))
    breached_clock: Mapping[Target, float] = field(
        default_factory=lambda: _per_clock(DEFAULT_BREACHED_CLOCK)
    )
    first_time_fix: float = 2.0
    reopened: float = -3.0
    high_survey: float = 1.0
    high_score_threshold: int = 4
    low_survey: float = -3.0
    low_score_threshold: int = 2
    adopted_suggestion: float = 2.0
    returned_report: float = -1.0

    def each(self, kind: str, clock: Target | None = None) -> float:
        """The points one event of ``kind`` is worth (``clock`` for the clock kinds)."""
        if kind in CLOCK_KINDS:
            if clock is None:
                raise ValueError(f"{kind} needs a clock")
            table = self.met_clock if kind == MET_CLOCK else self.breached_clock
            return float(table[clock])
        if kind not in KINDS:
            raise KeyError(kind)
        return float(getattr(self, kind))

    def survey_kind(self, score: int | None) -> str | None:
        """``high_survey``, ``low_survey`` or None (neutral, or no survey)."""
        if score is None:
            return None
        if score >= self.high_score_threshold:
            return HIGH_SURVEY
        if score <= self.low_score_threshold:
            return LOW_SURVEY
        return None

    def as_dict(self) -> dict[str, object]:
        """The points as plain data (clock tables keyed by clock value)."""
        out: dict[str, object] = {}
        for name in (
            MET_CLOCK,
            BREACHED_CLOCK,
            FIRST_TIME_FIX,
            REOPENED,
            HIGH_SURVEY,
            "high_score_threshold",
            LOW_SURVEY,
            "low_score_threshold",
            ADOPTED_SUGGESTION,
            RETURNED_REPORT,
        ):
            value = getattr(self, name)
            out[name] = {t.value: v for t, v in value.items()} if name in CLOCK_KINDS else value
        return out


@dataclass(frozen=True, slots=True)
class Item:
    """One scoring event on ticket ``ticket`` credited to ``subject`` (None: nobody — a ticket
    closed without a technician, or a technician without a team)."""

    subject: str | None
    kind: str
    ticket: int
    clock: Target | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """``count`` events of one kind (and clock): ``points = count × each``; ``tickets``: the
    distinct ticket numbers behind them, ascending (a report returned twice counts 2 on one
    ticket)."""

    kind: str
    clock: Target | None
    count: int
    each: float
    points: float
    tickets: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Card:
    """One subject's score: its components in :data:`KINDS` order (clocks in chain order),
    the total, and its place (1 = best; 0 before :func:`rank`)."""

    subject: str
    components: tuple[Component, ...]
    total: float
    tickets: tuple[int, ...]  # every ticket that scored, ascending
    rank: int = 0

    @property
    def penalty(self) -> float:
        """The sum of the negative components (0 or less)."""
        return math.fsum(c.points for c in self.components if c.points < 0)

    @property
    def bonus(self) -> float:
        """The sum of the positive components (0 or more)."""
        return math.fsum(c.points for c in self.components if c.points > 0)

    def kind_points(self, kind: str) -> float:
        """Points of every component of ``kind`` (all clocks together)."""
        return math.fsum(c.points for c in self.components if c.kind == kind)

    def kind_count(self, kind: str) -> int:
        """Events of ``kind`` (all clocks together)."""
        return sum(c.count for c in self.components if c.kind == kind)

    def kind_tickets(self, kind: str) -> tuple[int, ...]:
        """The distinct tickets behind ``kind``, ascending."""
        return tuple(sorted({t for c in self.components if c.kind == kind for t in c.tickets}))


_CLOCK_ORDER = {t: i for i, t in enumerate(Target)}
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _component_key(key: tuple[str, Target | None]) -> tuple[int, int]:
    kind, clock = key
    return _KIND_ORDER[kind], -1 if clock is None else _CLOCK_ORDER[clock]


def total_of(components: Iterable[Component]) -> float:
    """A card's total: the exactly rounded sum of its components' points."""
    return math.fsum(c.points for c in components)


def card(subject: str, items: Iterable[Item], points: Points) -> Card:
    """The card of ``subject`` from its items (items of other subjects are ignored)."""
    counts: dict[tuple[str, Target | None], int] = {}
    tickets: dict[tuple[str, Target | None], set[int]] = {}
    for item in items:
        if item.subject != subject:
            continue
        if item.kind not in _KIND_ORDER:
            raise KeyError(item.kind)
        if (item.kind in CLOCK_KINDS) != (item.clock is not None):
            raise ValueError(f"{item.kind}: clock {item.clock!r}")
        key = (item.kind, item.clock)
        counts[key] = counts.get(key, 0) + 1
        tickets.setdefault(key, set()).add(item.ticket)
    components = tuple(
        Component(
            kind=kind,
            clock=clock,
            count=counts[(kind, clock)],
            each=points.each(kind, clock),
            points=counts[(kind, clock)] * points.each(kind, clock),
            tickets=tuple(sorted(tickets[(kind, clock)])),
        )
        for kind, clock in sorted(counts, key=_component_key)
    )
    every = sorted({t for found in tickets.values() for t in found})
    return Card(subject, components, total_of(components), tuple(every))


def score(items: Iterable[Item], points: Points, subjects: Iterable[str] = ()) -> list[Card]:
    """One card per subject (those named in ``subjects`` even without items; items without a
    subject are left out), ranked with :func:`rank`."""
    grouped: dict[str, list[Item]] = {s: [] for s in subjects}
    for item in items:
        if item.subject is not None:
            grouped.setdefault(item.subject, []).append(item)
    return rank(card(subject, found, points) for subject, found in grouped.items())


def rank_key(c: Card) -> tuple[float, float, int, str]:
    """The sort key of :func:`rank`: points (more first), penalty (nearer zero first), tickets
    scored (more first), then the subject's code."""
    return (-c.total, -c.penalty, -len(c.tickets), c.subject)


def rank(cards: Iterable[Card]) -> list[Card]:
    """``cards`` best first, each with its place (1, 2, 3, … — a total order: see the module
    docstring for the tie-breaks)."""
    ordered = sorted(cards, key=rank_key)
    return [replace(c, rank=i) for i, c in enumerate(ordered, start=1)]


def unattributed(items: Iterable[Item]) -> tuple[int, ...]:
    """The tickets with scoring events credited to nobody, ascending."""
    return tuple(sorted({i.ticket for i in items if i.subject is None}))
