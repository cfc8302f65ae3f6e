"""Scorecard points maths and ranking (pure), and the policy's ``[scorecard]`` section: strict
reading with one-line errors, per-clock points, defaults equal to the shipped file."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windtui.domain import scorecard as sc
from windtui.domain.model import Target
from windtui.domain.policy import load_policy, load_policy_file
from windtui.domain.scorecard import Card, Item, Points
from windtui.errors import WindtuiError

MINIMAL = """
[defaults.targets]
acknowledge = "1h"
feedback = "24h"
onsite = "48h"
repair = "2.5h"
report = "24h"
review = "3d"
followup = "7d"
"""


def test_shipped_points_are_the_defaults() -> None:
    shipped = load_policy_file().scorecard
    assert shipped == Points()
    assert load_policy(MINIMAL).scorecard == Points()  # no section: the same points
    assert shipped.each(sc.MET_CLOCK, Target.ONSITE) == 1
    assert shipped.each(sc.BREACHED_CLOCK, Target.ACKNOWLEDGE) == -2
    assert (shipped.first_time_fix, shipped.reopened, shipped.returned_report) == (2, -3, -1)
    assert (shipped.high_survey, shipped.low_survey, shipped.adopted_suggestion) == (1, -3, 2)
    assert (shipped.low_score_threshold, shipped.high_score_threshold) == (2, 4)


def test_survey_thresholds() -> None:
    points = Points()
    assert [points.survey_kind(s) for s in (None, 1, 2, 3, 4, 5)] == [
        None,
        sc.LOW_SURVEY,
        sc.LOW_SURVEY,
        None,
        sc.HIGH_SURVEY,
        sc.HIGH_SURVEY,
    ]


def test_card_by_hand() -> None:
    points = Points()
    items = [
        *(Item("wangjg", sc.MET_CLOCK, 1001, t) for t in Target),
        Item("wangjg", sc.FIRST_TIME_FIX, 1001),
        Item("wangjg", sc.HIGH_SURVEY, 1001),
        Item("wangjg", sc.BREACHED_CLOCK, 1003, Target.ONSITE),
        Item("wangjg", sc.RETURNED_REPORT, 1003),
        Item("wangjg", sc.RETURNED_REPORT, 1003),  # returned twice: counts 2, one ticket
        Item("lihua", sc.REOPENED, 1002),  # another subject: ignored
    ]
    card = sc.card("wangjg", items, points)
    # 7 met (+7), first-time fix (+2), survey (+1), on-site breached (-2), 2 returns (-2)
    assert card.total == 6
    assert card.bonus == 10 and card.penalty == -4
    assert card.tickets == (1001, 1003)
    returned = [c for c in card.components if c.kind == sc.RETURNED_REPORT]
    assert returned[0].count == 2 and returned[0].points == -2 and returned[0].tickets == (1003,)
    kinds = [(c.kind, c.clock) for c in card.components]
    assert kinds[:7] == [(sc.MET_CLOCK, t) for t in Target]  # kinds in order, clocks in chain
    assert kinds[7] == (sc.BREACHED_CLOCK, Target.ONSITE)
    assert card.kind_points(sc.MET_CLOCK) == 7 and card.kind_count(sc.MET_CLOCK) == 7
    assert card.kind_tickets(sc.RETURNED_REPORT) == (1003,)


def test_unattributed_items_score_nobody() -> None:
    items = [Item(None, sc.FIRST_TIME_FIX, 1005), Item("a", sc.REOPENED, 1001)]
    cards = sc.score(items, Points(), subjects=["b"])
    assert [c.subject for c in cards] == ["b", "a"]  # b: 0 points beats a: -3
    assert sc.unattributed(items) == (1005,)


def test_bad_items_are_refused() -> None:
    with pytest.raises(ValueError):
        sc.card("a", [Item("a", sc.MET_CLOCK, 1)], Points())  # a clock kind needs its clock
    with pytest.raises(ValueError):
        sc.card("a", [Item("a", sc.REOPENED, 1, Target.ONSITE)], Points())
    with pytest.raises(KeyError):
        sc.card("a", [Item("a", "bribe", 1)], Points())


def _card(subject: str, total: float, penalty: float, tickets: int) -> Card:
    components = []
    if penalty:
        components.append(sc.Component(sc.REOPENED, None, 1, penalty, penalty, (1,)))
    if total - penalty:
        components.append(
            sc.Component(sc.FIRST_TIME_FIX, None, 1, total - penalty, total - penalty, (1,))
        )
    return Card(subject, tuple(components), total, tuple(range(tickets)))


def test_ranking_tie_breaks() -> None:
    cards = [
        _card("zz", 5, 0, 1),
        _card("b", 3, -6, 4),  # same points as the two below, bigger penalty
        _card("c", 3, -2, 2),  # smaller penalty: before b
        _card("a", 3, -2, 2),  # same points, penalty and tickets as c: by code
        _card("d", 3, -2, 3),  # more tickets: before a and c
    ]
    ranked = sc.rank(cards)
    assert [(c.rank, c.subject) for c in ranked] == [
        (1, "zz"),
        (2, "d"),
        (3, "a"),
        (4, "c"),
        (5, "b"),
    ]


def test_points_per_clock_from_the_policy() -> None:
    policy = load_policy(
        MINIMAL
        + """
[scorecard]
met_clock = { default = 0.5, onsite = 2 }
breached_clock = -4
low_score_threshold = 1
high_score_threshold = 5
reopened = -10
"""
    )
    points = policy.scorecard
    assert points.met_clock[Target.ONSITE] == 2 and points.met_clock[Target.REVIEW] == 0.5
    assert set(points.breached_clock.values()) == {-4}
    assert points.reopened == -10 and points.first_time_fix == 2  # the rest keep the defaults
    assert points.survey_kind(2) is None and points.survey_kind(1) == sc.LOW_SURVEY
    assert points.survey_kind(4) is None and points.survey_kind(5) == sc.HIGH_SURVEY
    # a table without default keeps the default for the clocks it does not name
    only = load_policy(MINIMAL + "[scorecard]\nbreached_clock = { repair = -5 }\n").scorecard
    assert only.breached_clock[Target.REPAIR] == -5 and only.breached_clock[Target.ONSITE] == -2
    assert load_policy(MINIMAL + "[scorecard]\n").digest != load_policy(MINIMAL).digest


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("bonus = 3", "p.toml: [scorecard] bonus: unknown key"),
        (
            'met_clock = "one"',
            'p.toml: [scorecard] met_clock: expected a number of points, got "one"',
        ),
        (
            "reopened = true",
            'p.toml: [scorecard] reopened: expected a number of points, got "True"',
        ),
        ("reopened = nan", 'p.toml: [scorecard] reopened: expected a number of points, got "nan"'),
        ("high_survey = inf", "p.toml: [scorecard] high_survey: expected a number of points"),
        ("met_clock = { onsite = [1] }", "p.toml: [scorecard.met_clock] onsite: expected a number"),
        (
            "met_clock = { onsight = 1 }",
            'p.toml: [scorecard.met_clock] onsight: unknown target "onsight"',
        ),
        ("low_score_threshold = 2.5", "p.toml: [scorecard] low_score_threshold: expected a whole"),
        ("high_score_threshold = 6", "p.toml: [scorecard] high_score_threshold: expected a whole"),
        ("low_score_threshold = 4", "p.toml: [scorecard] low_score_threshold: must be below"),
    ],
)
def test_bad_scorecard_section_is_one_line(section: str, message: str) -> None:
    with pytest.raises(WindtuiError) as caught:
        load_policy(MINIMAL + "[scorecard]\n" + section + "\n", "p.toml")
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text


def test_scorecard_must_be_a_table() -> None:
    with pytest.raises(WindtuiError, match=r"^p.toml: scorecard: expected a table$"):
        load_policy("scorecard = 3\n" + MINIMAL, "p.toml")


# -- properties ----------------------------------------------------------------------------------

_KIND = st.sampled_from(sc.KINDS)
_SUBJECT = st.sampled_from(["a", "b", "c", "d", None])


@st.composite
def _items(draw: st.DrawFn) -> list[Item]:
    out = []
    for _i in range(draw(st.integers(0, 60))):
        kind = draw(_KIND)
        clock = draw(st.sampled_from(list(Target))) if kind in sc.CLOCK_KINDS else None
        out.append(Item(draw(_SUBJECT), kind, draw(st.integers(1000, 1020)), clock))
    return out


_POINT = st.integers(-10, 10).map(float) | st.sampled_from([0.5, -0.25, 1.5, -2.5])


@st.composite
def _points(draw: st.DrawFn) -> Points:
    from types import MappingProxyType

    return Points(
        met_clock=MappingProxyType({t: draw(_POINT) for t in Target}),
        breached_clock=MappingProxyType({t: draw(_POINT) for t in Target}),
        first_time_fix=draw(_POINT),
        reopened=draw(_POINT),
        high_survey=draw(_POINT),
        low_survey=draw(_POINT),
        adopted_suggestion=draw(_POINT),
        returned_report=draw(_POINT),
    )


@settings(max_examples=200, deadline=None)
@given(items=_items(), points=_points(), seed=st.integers(0, 2**32 - 1))
def test_points_add_up_and_the_ranking_is_a_total_order(
    items: list[Item], points: Points, seed: int
) -> None:
    cards = sc.score(items, points, subjects=["a", "e"])
    subjects = [c.subject for c in cards]
    assert len(subjects) == len(set(subjects))  # one card each
    assert {"a", "e"} <= set(subjects) and None not in subjects
    for card in cards:
        mine = [i for i in items if i.subject == card.subject]
        # the total is the sum of the components, each component count × points each
        assert card.total == math.fsum(c.points for c in card.components)
        assert math.isclose(card.total, card.bonus + card.penalty, abs_tol=1e-9)
        for comp in card.components:
            assert comp.points == comp.count * comp.each
            assert comp.each == points.each(comp.kind, comp.clock)
            behind = [i for i in mine if (i.kind, i.clock) == (comp.kind, comp.clock)]
            assert comp.count == len(behind) > 0
            assert comp.tickets == tuple(sorted({i.ticket for i in behind}))
        assert sum(c.count for c in card.components) == len(mine)
        assert card.tickets == tuple(sorted({i.ticket for i in mine}))
    # places 1..n, strictly increasing in the sort key: a total order, whatever the input order
    assert [c.rank for c in cards] == list(range(1, len(cards) + 1))
    keys = [sc.rank_key(c) for c in cards]
    assert all(x < y for x, y in itertools.pairwise(keys))
    assert all(x.total >= y.total for x, y in itertools.pairwise(cards))
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    again = sc.score(shuffled, points, subjects=["e", "a"])
    assert [(c.subject, c.rank, c.total) for c in again] == [
        (c.subject, c.rank, c.total) for c in cards
    ]
