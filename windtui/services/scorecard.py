"""Team and technician scorecards for a period (policy §四(3), rewards and penalties).

The scoring events come from the rows the KPIs aggregate, over the same tickets — those closed
(or cancelled) in the period — so a scorecard reconciles with ``windtui kpi`` for the same
technician or team:

* ``met_clock`` / ``breached_clock``: every ``clock_outcome`` met or breached (the rows of the
  ``*_compliance`` figures; a cancelled ticket's clock that was already overdue counts breached);
* ``first_time_fix``, ``reopened``, ``high_survey`` / ``low_survey``: the ``ticket_outcome`` of a
  ticket closed (not cancelled) in the period: the report's first-time-fix answer, a reopen, the
  survey score against the policy's thresholds;
* ``returned_report``: each QA review that returned the report of a ticket closed or cancelled in
  the period for rework;
* ``adopted_suggestion``: each adopted suggestion received in the period that came with a ticket
  (the suggestions register counts by the day received, as the KPI does).

Who scores: the technician who owned the ticket when it closed (the outcome's ``technician``)
and their team (the outcome's ``team``: that technician's base then); for a suggestion, the
ticket's owner and that person's base now — the same columns the KPI filters read. Events on a
ticket without a technician (or, for teams, a technician without a base) are credited to
nobody and listed as *unattributed*.

Reading scorecards is the ``scorecard`` operation (QA, supervisors, administrators). A
technician without those roles sees their own card only, with their place among all
technicians; team scorecards and other people's cards are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peewee import JOIN

from windtui.domain import kpi as rules
from windtui.domain import roles as access
from windtui.domain import scorecard as points_maths
from windtui.domain.kpi import Period
from windtui.domain.model import Role, Target
from windtui.domain.scorecard import Card, Item, Points
from windtui.errors import NotFound, Refused
from windtui.i18n import _
from windtui.services.desk import Desk, _active
from windtui.store.models import (
    ClockOutcome,
    Review,
    Staff,
    Suggestion,
    Ticket,
    TicketOutcome,
)

TECHNICIAN, TEAM = "technician", "team"
BY = (TECHNICIAN, TEAM)
_TARGETS = {t.value: t for t in Target}


@dataclass(frozen=True, slots=True)
class Scorecards:
    """Ranked cards of one period, per technician or per team.

    ``names``: subject -> (Chinese name, English name) for technicians (teams: their code).
    ``ranked``: how many subjects the ranking holds (a technician reading their own card gets
    that one card, with its place among ``ranked``). ``unattributed``: tickets with scoring
    events credited to nobody.
    """

    period: Period
    by: str
    team: str | None
    cards: tuple[Card, ...]
    names: dict[str, tuple[str, str]]
    points: Points
    unattributed: tuple[int, ...]
    ranked: int
    policy_digest: str
    as_of: datetime
    own_only: bool = False
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)  # team -> logins

    def card(self, subject: str) -> Card:
        """The card of ``subject`` (NotFound when it has none here)."""
        for c in self.cards:
            if c.subject == subject:
                return c
        what = _("technician") if self.by == TECHNICIAN else _("team")
        raise NotFound(
            _("{what} {name} has no scorecard for {period}").format(
                what=what, name=subject, period=self.period.label
            )
        )


def _check_by(by: str) -> str:
    if by not in BY:
        raise Refused(
            _("unknown scorecard '{value}': choose one of {choices}").format(
                value=by, choices=", ".join(BY)
            )
        )
    return by


def _access(desk: Desk, by: str, subject: str | None) -> str | None:
    """None when the caller may read every card; a technician's own login when they may read
    only theirs (refused for team cards and for anyone else's)."""
    me = desk.refresh_identity()
    if access.permits(me.roles, access.SCORECARD):
        return None
    if Role.TECHNICIAN not in me.roles:
        desk._gate(access.SCORECARD, "scorecards")  # raises, naming the roles that may
    if by != TECHNICIAN:
        raise desk._forbidden(me, access.SCORECARD, "team scorecards")
    if subject is not None and subject != me.login:
        raise desk._forbidden(me, access.SCORECARD, f"scorecard {subject}")
    return me.login


def _in_period(model: Any, period: Period) -> list[Any]:
    return [model.closed_at >= period.start, model.closed_at < period.end]


def items(
    desk: Desk, period: Period, *, by: str, points: Points, team: str | None = None
) -> list[Item]:
    """Every scoring event of ``period`` credited to a technician's login (``by`` technician) or
    a team code (``by`` team); ``team`` keeps the events of that team only (as ``windtui kpi
    --team``). No role check: the callers make it."""
    c, t = ClockOutcome, TicketOutcome
    found: list[Item] = []

    def subject(login: str | None, base: str | None) -> str | None:
        if by == TECHNICIAN:
            return login or None
        return base or None

    # The clocks: the rows of the compliance KPIs (met or breached, stopped or frozen).
    clocks = (
        c.select(Staff.login, c.team, c.target, c.state, Ticket.number)
        .join(Ticket, on=(c.ticket == Ticket.id))
        .switch(c)
        .join(Staff, JOIN.LEFT_OUTER, on=(c.technician == Staff.id))
        .where(
            c.target.in_(list(_TARGETS)),
            c.state.in_([rules.MET, rules.BREACHED]),
            c.stopped.in_([True, False]),
            *_in_period(c, period),
        )
    )
    if team is not None:
        clocks = clocks.where(c.team == team)
    for login, base, target, state, number in clocks.tuples():
        kind = points_maths.MET_CLOCK if state == rules.MET else points_maths.BREACHED_CLOCK
        found.append(Item(subject(login, base), kind, number, _TARGETS[target]))

    # The tickets closed in the period (not cancelled): first-time fix, reopen, survey.
    tickets = (
        t.select(Staff.login, t.team, t.first_time_fix, t.reopened, t.survey_score, Ticket.number)
        .join(Ticket, on=(t.ticket == Ticket.id))
        .switch(t)
        .join(Staff, JOIN.LEFT_OUTER, on=(t.technician == Staff.id))
        .where(t.cancelled == False, *_in_period(t, period))  # noqa: E712 - SQL
    )
    if team is not None:
        tickets = tickets.where(t.team == team)
    for login, base, first_time, reopened, score, number in tickets.tuples():
        who = subject(login, base)
        if first_time:
            found.append(Item(who, points_maths.FIRST_TIME_FIX, number))
        if reopened:
            found.append(Item(who, points_maths.REOPENED, number))
        kind = points.survey_kind(score)
        if kind is not None:
            found.append(Item(who, kind, number))

    # Reports returned for rework on the tickets closed or cancelled in the period.
    returns = (
        Review.select(Staff.login, t.team, Ticket.number)
        .join(t, on=(Review.ticket == t.ticket))
        .join(Ticket, on=(t.ticket == Ticket.id))
        .switch(t)
        .join(Staff, JOIN.LEFT_OUTER, on=(t.technician == Staff.id))
        .where(Review.outcome == "returned", *_in_period(t, period))
    )
    if team is not None:
        returns = returns.where(t.team == team)
    for login, base, number in returns.tuples():
        found.append(Item(subject(login, base), points_maths.RETURNED_REPORT, number))

    # Adopted suggestions received in the period that came with a ticket: its owner now.
    s = Suggestion
    adopted = (
        s.select(Staff.login, Staff.base, Ticket.number)
        .join(Ticket, on=(s.ticket == Ticket.id))
        .join(Staff, JOIN.LEFT_OUTER, on=(Ticket.owner == Staff.id))
        .where(
            s.status == "adopted",
            s.received_on >= period.first_day,
            s.received_on <= period.last_day,
        )
    )
    if team is not None:
        adopted = adopted.where(Staff.base == team)
    for login, base, number in adopted.tuples():
        found.append(Item(subject(login, base), points_maths.ADOPTED_SUGGESTION, number))
    return found


def _technicians(team: str | None) -> dict[str, tuple[str, str, str]]:
    """Enabled staff holding the technician role: login -> (zh, en, base)."""
    query = Staff.select(Staff.login, Staff.name_zh, Staff.name_en, Staff.base, Staff.roles).where(
        Staff.active == True  # noqa: E712 - SQL
    )
    out = {}
    for login, zh, en, base, roles in query.tuples():
        if Role.TECHNICIAN.value not in {r.strip() for r in (roles or "").split(",")}:
            continue
        if team is not None and base != team:
            continue
        out[login] = (zh, en, base or "")
    return out


def _names(logins: Iterable[str]) -> dict[str, tuple[str, str]]:
    wanted = sorted(set(logins))
    if not wanted:
        return {}
    query = Staff.select(Staff.login, Staff.name_zh, Staff.name_en).where(Staff.login.in_(wanted))
    return {login: (zh, en) for login, zh, en in query.tuples()}


def _check_team(team: str | None) -> None:
    if team is None:
        return
    known = (
        Staff.select().where(Staff.base == team).exists()
        or TicketOutcome.select().where(TicketOutcome.team == team).exists()
    )
    if not known:
        raise NotFound(_("team {name} not found").format(name=team))


@_active
def scorecards(
    desk: Desk,
    period: Period,
    *,
    by: str = TECHNICIAN,
    team: str | None = None,
    subject: str | None = None,
) -> Scorecards:
    """The ranked scorecards of ``period`` per technician or per team (``team``: only that
    team's events and technicians). Every technician holding the role (and every team that has
    one) gets a card, with zero points when nothing scored.

    ``subject`` asks for one card (a technician's login or a team code): the set then holds that
    card only, with its place in the whole ranking (NotFound when it has none). A technician
    without the ``scorecard`` role gets their own card only.
    """
    by = _check_by(by)
    own = _access(desk, by, subject)
    if own is not None:
        subject, team = own, None
    _check_team(team)
    policy = desk.policy()
    points = policy.scorecard
    with desk.db.atomic():  # one snapshot for every query of the set
        found = items(desk, period, by=by, points=points, team=team)
        staff = _technicians(team)
        members: dict[str, tuple[str, ...]] = {}
        if by == TECHNICIAN:
            subjects: Iterable[str] = staff
        else:
            for login, (_zh, _en, base) in sorted(staff.items()):
                if base:
                    members[base] = (*members.get(base, ()), login)
            subjects = members
        cards = points_maths.score(found, points, subjects)
        if by == TECHNICIAN:
            names = _names(c.subject for c in cards)
        else:
            names = {c.subject: (c.subject, c.subject) for c in cards}
    ranked = len(cards)
    result = Scorecards(
        period=period,
        by=by,
        team=team,
        cards=tuple(cards),
        names=names,
        points=points,
        unattributed=points_maths.unattributed(found),
        ranked=ranked,
        policy_digest=policy.digest,
        as_of=desk.clock(),
        own_only=own is not None,
        members=members,
    )
    if subject is None:
        return result
    one = result.card(subject)
    return Scorecards(
        period=period,
        by=by,
        team=team,
        cards=(one,),
        names={k: v for k, v in names.items() if k == subject},
        points=points,
        unattributed=(),
        ranked=ranked,
        policy_digest=policy.digest,
        as_of=result.as_of,
        own_only=own is not None,
        members={k: v for k, v in members.items() if k == subject},
    )


def card_dict(c: Card, names: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """One card as plain JSON-ready data (labels in the active language)."""
    zh, en = (names or {}).get(c.subject, ("", ""))
    return {
        "rank": c.rank,
        "subject": c.subject,
        "name_zh": zh,
        "name_en": en,
        "total": c.total,
        "bonus": c.bonus,
        "penalty": c.penalty,
        "tickets": list(c.tickets),
        "components": [
            {
                "kind": comp.kind,
                "label": _(points_maths.KIND_LABELS[comp.kind]),
                "clock": comp.clock.value if comp.clock is not None else None,
                "count": comp.count,
                "each": comp.each,
                "points": comp.points,
                "tickets": list(comp.tickets),
            }
            for comp in c.components
        ],
    }


def scorecards_dict(found: Scorecards) -> dict[str, Any]:
    """The set as plain JSON-ready data (``windtui scorecard --json`` and the report)."""
    period = found.period
    return {
        "period": {
            "label": period.label,
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "timezone": period.tz,
        },
        "by": found.by,
        "team": found.team,
        "as_of": found.as_of.isoformat(),
        "policy_digest": found.policy_digest,
        "points": found.points.as_dict(),
        "ranked": found.ranked,
        "own_only": found.own_only,
        "unattributed_tickets": list(found.unattributed),
        "members": {k: list(v) for k, v in found.members.items()},
        "cards": [card_dict(c, found.names) for c in found.cards],
    }
