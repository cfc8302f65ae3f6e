"""The quarterly audit report (policy §四(2): an internal audit at least once a quarter).

:func:`build_audit_report` gathers, for one period, what a QA lead hands to management:

* the KPIs against their targets — :func:`windtui.services.kpi.kpis` for the whole desk (no
  filter), so the report shows the very numbers of ``windtui kpi`` and the KPI screen;
* every breached SLA clock of the tickets closed (or cancelled) in the period — the rows behind
  the ``*_compliance:missed`` drill-downs — with the technician, when the clock started, its due
  instant, when its milestone came, how far overdue (business time, paused time excluded), the
  causes the record shows (:func:`breach_causes`) and the ticket's whole hold history (reason,
  evidence, whether the hold paused this clock);
* the survey results: the score distribution, the satisfaction rate and every survey below
  "satisfied" (the ``satisfaction_rate:missed`` tickets) with its comments;
* the suggestions received in the period and the adoption rate;
* the improvement actions and analysis items of the period (opened or closed in it, or still
  open), overdue ones marked;
* the scorecards per team and per technician, with the tickets behind every component.

:func:`audit_document` lays it out as a :class:`~windtui.services.report_formats.Document` and
:func:`write_audit_report` writes it as Markdown, HTML, CSV or XLSX — the one call the CLI
(``windtui report``) and the console make. Producing the report is the ``audit_report``
operation (QA, supervisors, administrators).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from peewee import JOIN, chunked

from windtui import i18n
from windtui.domain import kpi as rules
from windtui.domain import roles as access
from windtui.domain import scorecard as points_maths
from windtui.domain.kpi import Period, Status
from windtui.domain.model import Clock, HoldReason, Target, Timeline
from windtui.domain.sla import compute_clocks
from windtui.durations import compact
from windtui.i18n import _
from windtui.services import kpi, quality
from windtui.services import report_formats as formats
from windtui.services import scorecard as cards
from windtui.services.desk import Desk, _active
from windtui.services.records import ImprovementRecord, SuggestionRecord
from windtui.store.db import is_sqlite
from windtui.store.models import (
    ClockOutcome,
    Hold,
    Improvement,
    Review,
    Staff,
    Survey,
    Ticket,
    TicketOutcome,
)

_TARGETS = {t.value: t for t in Target}
_ORDER = {t: i for i, t in enumerate(Target)}
#: Clocks a reopen restarts (acknowledge and feedback keep their first result).
_RESTARTED_BY_REOPEN = frozenset(
    {Target.ONSITE, Target.REPAIR, Target.REPORT, Target.REVIEW, Target.FOLLOWUP}
)
_CHUNK = 500  # ids per IN (...) list
_JUST_BEFORE = timedelta(microseconds=1)


# -- records -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldLine:
    """One hold of a breached ticket; ``paused`` says whether it paused the breached clock,
    ``during`` whether it overlapped the clock's run."""

    reason: HoldReason
    start: datetime
    end: datetime | None
    evidence: str
    resume_note: str | None
    actor: str
    paused: bool
    during: bool


@dataclass(frozen=True, slots=True)
class Breach:
    """One breached clock of a ticket closed (or cancelled) in the period."""

    number: int
    farm: str
    title: str
    technician: str | None
    technician_name: tuple[str, str] | None
    team: str
    target: Target
    start: datetime | None
    due: datetime | None
    met_at: datetime | None  # None: the ticket was cancelled with the clock overdue
    closed_at: datetime
    cancelled: bool
    elapsed_seconds: float
    target_seconds: float
    paused_seconds: float
    causes: tuple[str, ...]
    holds: tuple[HoldLine, ...]

    @property
    def overdue_seconds(self) -> float:
        """Business time beyond the target (paused time excluded)."""
        return max(0.0, self.elapsed_seconds - self.target_seconds)


@dataclass(frozen=True, slots=True)
class LowSurvey:
    """A survey below "satisfied" on a ticket closed in the period."""

    number: int
    score: int
    comments: str
    caller: str
    channel: str
    contacted_at: datetime
    technician: str | None
    analysis: int | None  # the analysis item the score opened


@dataclass(frozen=True, slots=True)
class AuditReport:
    period: Period
    as_of: datetime
    author: str
    author_name: tuple[str, str]
    kpis: kpi.KpiReport
    breaches: tuple[Breach, ...]
    low_surveys: tuple[LowSurvey, ...]
    suggestions: tuple[SuggestionRecord, ...]
    improvements: tuple[ImprovementRecord, ...]
    technicians: cards.Scorecards
    teams: cards.Scorecards


# -- causes --------------------------------------------------------------------------------------


def _duration(seconds: float | None) -> str:
    """A compact duration: ``2d04h``, ``3h05m``, ``12m``; negative for overdue."""
    return compact(seconds)


def _overlap(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> float:
    stop = end or hi
    return max(0.0, (min(stop, hi) - max(start, lo)).total_seconds())


def breach_causes(
    clock: Clock,
    timeline: Timeline,
    holds: Sequence[HoldLine],
    *,
    stopped: bool,
    returned: int,
    until: datetime,
) -> tuple[str, ...]:
    """What the record says about why ``clock`` was breached, in words (active language).

    ``until``: when the clock stopped (its milestone, or the cancellation); ``returned``: how
    many times QA returned the report. Each cause is a fact from the ticket, not a judgement:
    a cancellation while overdue, a reopen that restarted the clock, holds that did not pause
    this clock (with their reason and length), reports returned for rework, and for the on-site
    clock the longest leg (waiting for dispatch, preparing, travelling). With none of these the
    step itself took longer than its target.
    """
    target = clock.target
    causes: list[str] = []
    if not stopped:
        causes.append(_("cancelled while the clock was overdue"))
    if (
        target in _RESTARTED_BY_REOPEN
        and timeline.reopened_at is not None
        and clock.start is not None
        and clock.start >= timeline.reopened_at
    ):
        causes.append(_("reopened: the clock restarted at the reopen"))
    if clock.start is not None:
        for hold in holds:
            if hold.paused:
                continue
            seconds = _overlap(hold.start, hold.end, clock.start, until)
            if seconds > 0:
                causes.append(
                    _("{reason} hold of {duration} did not pause this clock").format(
                        reason=_(hold.reason.label), duration=_duration(seconds)
                    )
                )
    if target is Target.REPORT and returned:
        causes.append(_("report returned for rework {count} time(s)").format(count=returned))
    if target is Target.ONSITE and clock.start is not None:
        # The legs of the way to site up to the arrival (or the cancellation), wall clock.
        marks = [(clock.start, _("waiting for dispatch"))]
        for at, name in (
            (timeline.dispatched_at, _("preparing to leave")),
            (timeline.departed_at, _("travelling")),
        ):
            if at is None or at < marks[-1][0]:
                break
            marks.append((at, name))
        bounds = [at for at, _name in marks[1:]] + [until]
        legs = [
            (name, (end - at).total_seconds())
            for (at, name), end in zip(marks, bounds, strict=True)
        ]
        name, seconds = max(legs, key=lambda leg: leg[1])
        if seconds > 0:
            causes.append(
                _("longest step: {step}, {duration} (wall clock)").format(
                    step=name, duration=_duration(seconds)
                )
            )
    if not causes:
        causes.append(_("no hold, rework or reopen recorded: the step itself took too long"))
    return tuple(causes)


# -- building ------------------------------------------------------------------------------------


def _in_period(model: Any, period: Period) -> list[Any]:
    return [model.closed_at >= period.start, model.closed_at < period.end]


def _breaches(desk: Desk, period: Period) -> tuple[Breach, ...]:
    c = ClockOutcome
    rows = list(
        c.select(
            c.ticket,
            c.target,
            c.elapsed_seconds,
            c.target_seconds,
            c.paused_seconds,
            c.stopped,
            c.closed_at,
            c.team,
            Staff.login,
            Staff.name_zh,
            Staff.name_en,
        )
        .join(Staff, JOIN.LEFT_OUTER, on=(c.technician == Staff.id))
        .where(
            c.target.in_(list(_TARGETS)),
            c.state == rules.BREACHED,
            c.stopped.in_([True, False]),
            *_in_period(c, period),
        )
        .tuples()
    )
    ids = sorted({r[0] for r in rows})
    snapshots = {}
    holds: dict[int, list[Hold]] = {}
    returned: dict[int, int] = {}
    for part in chunked(ids, _CHUNK):
        snapshots.update({s.id: s for s in desk._snapshots(Ticket.id.in_(part))})
        for hold in Hold.select().where(Hold.ticket.in_(part)).order_by(Hold.started_at, Hold.id):
            holds.setdefault(hold.ticket_id, []).append(hold)
        for (ticket_id,) in (
            Review.select(Review.ticket)
            .where(Review.ticket.in_(part), Review.outcome == "returned")
            .tuples()
        ):
            returned[ticket_id] = returned.get(ticket_id, 0) + 1
    policy = desk.policy()
    clocks: dict[int, dict[Target, Clock]] = {}
    out: list[Breach] = []
    for (
        ticket_id,
        target_value,
        elapsed,
        target_s,
        paused,
        stopped,
        closed_at,
        team,
        login,
        zh,
        en,
    ) in rows:
        snap = snapshots[ticket_id]
        target = _TARGETS[target_value]
        tl = snap.timeline
        at = tl.cancelled_at or tl.closed_at or closed_at
        if ticket_id not in clocks:
            # A cancelled ticket's clocks as they ran just before the cancellation (at the
            # cancellation itself they stop applying and lose their due instant).
            seen = at - _JUST_BEFORE if tl.cancelled_at is not None else at
            clocks[ticket_id] = {
                k.target: k
                for k in compute_clocks(
                    tl,
                    policy,
                    farm_tz=snap.farm_timezone,
                    farm_calendar=snap.farm_calendar,
                    now=seen,
                )
            }
        clock = clocks[ticket_id][target]
        until = clock.met_at if stopped and clock.met_at is not None else at
        pausing = policy.resolve(
            contract=tl.contract, priority=snap.priority, category=snap.category
        ).paused_by(target)
        lines = tuple(
            HoldLine(
                reason=HoldReason(h.reason),
                start=h.started_at,
                end=h.ended_at,
                evidence=h.evidence,
                resume_note=h.resume_note,
                actor=h.actor,
                paused=HoldReason(h.reason) in pausing,
                during=clock.start is not None
                and _overlap(h.started_at, h.ended_at, clock.start, until) > 0,
            )
            for h in holds.get(ticket_id, ())
        )
        out.append(
            Breach(
                number=snap.number,
                farm=snap.farm,
                title=snap.title,
                technician=login,
                technician_name=(zh, en) if login else None,
                team=team or "",
                target=target,
                start=clock.start,
                due=clock.due,
                met_at=clock.met_at if stopped else None,
                closed_at=closed_at,
                cancelled=tl.cancelled_at is not None,
                elapsed_seconds=float(elapsed or 0.0),
                target_seconds=float(target_s),
                paused_seconds=float(paused or 0.0),
                causes=breach_causes(
                    clock,
                    tl,
                    lines,
                    stopped=bool(stopped),
                    returned=returned.get(ticket_id, 0),
                    until=until,
                ),
                holds=lines,
            )
        )
    out.sort(key=lambda b: (b.number, _ORDER[b.target]))
    return tuple(out)


def _low_surveys(period: Period) -> tuple[LowSurvey, ...]:
    t = TicketOutcome
    query = (
        Survey.select(
            Ticket.number,
            Survey.id,
            Survey.score,
            Survey.comments,
            Survey.caller,
            Survey.channel,
            Survey.contacted_at,
            Staff.login,
        )
        .join(t, on=(Survey.ticket == t.ticket))
        .join(Ticket, on=(t.ticket == Ticket.id))
        .switch(t)
        .join(Staff, JOIN.LEFT_OUTER, on=(t.technician == Staff.id))
        .where(
            t.cancelled == False,  # noqa: E712 - SQL
            t.survey_score < rules.SATISFIED_SCORE,
            *_in_period(t, period),
        )
        .order_by(Ticket.number)
    )
    rows = list(query.tuples())
    analysis: dict[int, int] = {}
    for part in chunked([r[1] for r in rows], _CHUNK):
        for survey_id, item_id in (
            Improvement.select(Improvement.survey, Improvement.id)
            .where(Improvement.survey.in_(part), Improvement.kind == "analysis")
            .order_by(Improvement.id)
            .tuples()
        ):
            analysis.setdefault(survey_id, item_id)
    return tuple(
        LowSurvey(
            number=number,
            score=score,
            comments=comments,
            caller=caller,
            channel=channel,
            contacted_at=Survey.contacted_at.python_value(contacted),
            technician=login,
            analysis=analysis.get(survey_id),
        )
        for number, survey_id, score, comments, caller, channel, contacted, login in rows
    )


def _improvements(
    items: Iterable[ImprovementRecord], period: Period
) -> tuple[ImprovementRecord, ...]:
    """Items opened or closed in the period, and those still open that were opened before its
    end (carried over)."""

    def inside(at: datetime | None) -> bool:
        return at is not None and period.start <= at < period.end

    return tuple(
        i
        for i in items
        if inside(i.created_at)
        or inside(i.closed_at)
        or (i.status in ("open", "in_progress") and i.created_at < period.end)
    )


@_active
def build_audit_report(desk: Desk, period: Period) -> AuditReport:
    """Everything the quarterly audit report shows for ``period`` (read in one snapshot)."""
    me = desk._gate(access.AUDIT_REPORT, f"report {period.label}")
    outer = desk.db.in_transaction()
    with desk.db.atomic():
        if not is_sqlite(desk.db) and not outer:
            desk.db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        figures = kpi.kpis(desk, period, kpi.Filters())
        breaches = _breaches(desk, period)
        low = _low_surveys(period)
        suggestions = quality.suggestions(desk, start=period.first_day, end=period.last_day)
        improvements = _improvements(quality.improvements(desk), period)
        technicians = cards.scorecards(desk, period, by=cards.TECHNICIAN)
        teams = cards.scorecards(desk, period, by=cards.TEAM)
    return AuditReport(
        period=period,
        as_of=figures.as_of,
        author=me.login,
        author_name=(me.name_zh, me.name_en),
        kpis=figures,
        breaches=breaches,
        low_surveys=low,
        suggestions=tuple(suggestions),
        improvements=improvements,
        technicians=technicians,
        teams=teams,
    )


# -- layout --------------------------------------------------------------------------------------


def _name(pair: tuple[str, str] | None) -> str:
    if pair is None:
        return ""
    zh, en = pair
    return zh if i18n.current_language() == "zh_CN" else (en or zh)


def _local(value: datetime | None, tz: str) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _pct(value: float | None) -> formats.Num:
    return formats.Num(value, "–" if value is None else f"{100 * value:.1f} %", "0.0%")


def _points(value: float) -> formats.Num:
    shown = f"{value:+g}" if value else "0"
    return formats.Num(int(value) if float(value).is_integer() else value, shown)


def _kpi_value(unit: str, value: float | None) -> formats.Num:
    if value is None:
        return formats.Num(None, "–")
    if unit == "rate":
        return _pct(value)
    if unit == "seconds":
        return formats.Num(value, f"{value:.0f}s" if abs(value) < 60 else _duration(value))
    if unit == "hours":
        return formats.Num(value, _("{hours:.1f} h").format(hours=value))
    return formats.Num(value, f"{value:.0f}")


def _kpi_target(figure: kpi.KpiFigure) -> formats.Num:
    if figure.target is None:
        return formats.Num(None, "–")
    shown = _kpi_value(figure.unit.value, figure.target)
    sign = "≥ " if figure.direction.value == "higher" else "≤ "
    return formats.Num(figure.target, sign + shown.text, shown.excel)


def _status(status: Status) -> formats.Mark | None:
    if status is Status.INFO:
        return None
    return formats.Mark(f"{status.marker} {_(status.label)}", status.value)


def _kpi_section(report: AuditReport) -> formats.Section:
    k = report.kpis
    period = k.period
    figures = formats.Table(
        "figures",
        _("KPIs against targets"),
        (
            _("Figure"),
            _("Key"),
            _("Value"),
            _("Target"),
            _("Status"),
            _("Tickets"),
            _("Against target"),
        ),
        tuple(
            (
                _(f.label),
                f.key,
                _kpi_value(f.unit.value, f.value),
                _kpi_target(f),
                _status(f.status),
                f.count,
                f.missed,
            )
            for f in k.figures
        ),
    )
    farms = formats.Table(
        "availability",
        _("Availability per farm"),
        (
            _("Farm"),
            _("Name"),
            _("Turbines"),
            _("Downtime"),
            _("Planned"),
            _("Availability"),
            _("Status"),
            _("Tickets"),
        ),
        tuple(
            (
                a.farm,
                _name((a.name_zh, a.name_en)),
                a.turbines,
                _kpi_value("hours", a.downtime_hours),
                _kpi_value("hours", a.excluded_hours),
                _pct(a.availability),
                _status(a.status),
                a.tickets,
            )
            for a in k.farms
        ),
    )
    lines = [
        _(
            "The numbers of `windtui kpi --json --from {first} --to {last}` (docs/KPI.md):"
            " tickets closed or cancelled in the period."
        ).format(first=period.first_day.isoformat(), last=period.last_day.isoformat())
    ]
    if k.stale:
        lines.append(
            _(
                "{count} of these tickets were judged under an earlier SLA policy;"
                " `windtui kpi --rebuild` judges them again under the policy in force"
            ).format(count=k.stale)
        )
    return formats.Section("kpis", _("KPIs"), tuple(lines), (figures, farms))


def _hold_text(hold: HoldLine, tz: str) -> str:
    end = _local(hold.end, tz) or _("still on hold")
    paused = _("paused this clock") if hold.paused else _("did not pause this clock")
    return f"{_(hold.reason.label)} {_local(hold.start, tz)} → {end} ({paused}): {hold.evidence}"


def _breach_section(report: AuditReport) -> formats.Section:
    tz = report.period.tz
    rows = tuple(
        (
            b.number,
            b.farm,
            b.title,
            b.technician or "",
            _name(b.technician_name),
            _(b.target.label),
            _local(b.start, tz),
            _local(b.due, tz),
            _local(b.met_at, tz) if b.met_at else _("cancelled"),
            formats.Num(round(b.overdue_seconds), _duration(b.overdue_seconds)),
            formats.Num(round(b.target_seconds), _duration(b.target_seconds)),
            formats.Num(round(b.paused_seconds), _duration(b.paused_seconds)),
            "; ".join(b.causes),
            "\n".join(_hold_text(h, tz) for h in b.holds),
        )
        for b in report.breaches
    )
    table = formats.Table(
        "breaches",
        _("Breached clocks"),
        (
            _("Ticket"),
            _("Farm"),
            _("Title"),
            _("Technician"),
            _("Name"),
            _("Clock"),
            _("Started"),
            _("Due"),
            _("Met at"),
            _("Overdue by"),
            _("Target"),
            _("Paused"),
            _("Causes"),
            _("Holds"),
        ),
        rows,
        _("no clock was breached in the period"),
    )
    by_ticket: dict[int, list[Breach]] = {}
    for b in report.breaches:
        by_ticket.setdefault(b.number, []).append(b)
    hold_rows = []
    for number, found in by_ticket.items():
        first = found[0]
        for i, h in enumerate(first.holds):
            length = ((h.end or first.closed_at) - h.start).total_seconds()
            paused = ", ".join(_(b.target.label) for b in found if b.holds[i].paused)
            hold_rows.append(
                (
                    number,
                    _(h.reason.label),
                    _local(h.start, tz),
                    _local(h.end, tz) or _("still on hold"),
                    formats.Num(round(length), _duration(length)),
                    paused,
                    h.evidence,
                    h.resume_note or "",
                    h.actor,
                )
            )
    holds = formats.Table(
        "holds",
        _("Hold history of the breached tickets"),
        (
            _("Ticket"),
            _("Reason"),
            _("From"),
            _("To"),
            _("Length"),
            _("Paused breached clock"),
            _("Evidence"),
            _("Resume note"),
            _("By"),
        ),
        tuple(hold_rows),
        _("none of these tickets was on hold"),
    )
    tickets = len({b.number for b in report.breaches})
    line = _(
        "{count} breached clocks on {tickets} tickets closed or cancelled in the period"
        " (times in {tz}; overdue and paused are business time on the clock's calendar)."
    ).format(count=len(report.breaches), tickets=tickets, tz=tz)
    return formats.Section("breaches", _("Breaches"), (line,), (table, holds))


def _survey_section(report: AuditReport) -> formats.Section:
    k = report.kpis
    surveyed = sum(k.scores.values())
    satisfaction = k.figure("satisfaction_rate")
    tz = report.period.tz
    distribution = formats.Table(
        "scores",
        _("Score distribution"),
        (_("Score"), _("Surveys"), _("Share")),
        tuple((score, n, _pct(rules.rate(n, surveyed))) for score, n in sorted(k.scores.items())),
    )
    low = formats.Table(
        "low_scores",
        _("Surveys below satisfied, with comments"),
        (
            _("Ticket"),
            _("Score"),
            _("Comments"),
            _("Technician"),
            _("Called by"),
            _("Channel"),
            _("Contacted"),
            _("Analysis item"),
        ),
        tuple(
            (
                s.number,
                s.score,
                s.comments,
                s.technician or "",
                s.caller,
                quality.label(s.channel),
                _local(s.contacted_at, tz),
                s.analysis,
            )
            for s in report.low_surveys
        ),
        _("every survey scored 4 or 5"),
    )
    line = _(
        "Satisfaction rate {rate} (target {target}, scores 4 and 5 count as satisfied) over"
        " {count} surveys."
    ).format(
        rate=_kpi_value("rate", satisfaction.value).text,
        target=_kpi_target(satisfaction).text,
        count=surveyed,
    )
    return formats.Section("surveys", _("Customer satisfaction"), (line,), (distribution, low))


def _suggestion_section(report: AuditReport) -> formats.Section:
    counts = report.kpis.suggestions
    adoption = report.kpis.figure("suggestion_adoption")
    line = _(
        "Received {received}: adopted {adopted}, rejected {rejected}, pending {pending};"
        " adoption rate {rate} (adopted ÷ decided, target {target})."
    ).format(
        received=counts.received,
        adopted=counts.adopted,
        rejected=counts.rejected,
        pending=counts.pending,
        rate=_kpi_value("rate", adoption.value).text,
        target=_kpi_target(adoption).text,
    )
    table = formats.Table(
        "suggestions",
        _("Suggestions received in the period"),
        (
            _("Id"),
            _("Received"),
            _("Source"),
            _("Status"),
            _("Decided"),
            _("Customer"),
            _("Farm"),
            _("Ticket"),
            _("Suggestion"),
        ),
        tuple(
            (
                s.id,
                s.received_on.isoformat(),
                quality.label(s.source),
                quality.label(s.status),
                s.decided_on.isoformat() if s.decided_on else None,
                s.customer,
                s.farm,
                s.ticket,
                s.text,
            )
            for s in sorted(report.suggestions, key=lambda s: (s.received_on, s.id))
        ),
        _("no suggestion was received in the period"),
    )
    return formats.Section("suggestions", _("Suggestions"), (line,), (table,))


def _improvement_section(report: AuditReport) -> formats.Section:
    tz = report.period.tz
    items = report.improvements
    overdue = sum(1 for i in items if i.overdue)
    line = _(
        "{count} items opened, closed or still open in the period; {overdue} overdue"
        " (open past their due date on {today})."
    ).format(
        count=len(items),
        overdue=overdue,
        today=report.as_of.astimezone(ZoneInfo(tz)).date().isoformat(),
    )
    table = formats.Table(
        "improvements",
        _("Improvement actions and analysis items"),
        (
            _("Id"),
            _("Kind"),
            _("Category"),
            _("Title"),
            _("Owner"),
            _("Due"),
            _("Status"),
            _("Overdue"),
            _("Ticket"),
            _("Opened"),
            _("Closed"),
        ),
        tuple(
            (
                i.id,
                quality.label(i.kind),
                quality.label(i.category),
                i.title,
                i.owner or "",
                i.due.isoformat() if i.due else None,
                quality.label(i.status),
                formats.Mark(_("overdue"), "overdue") if i.overdue else "",
                i.ticket,
                _local(i.created_at, tz),
                _local(i.closed_at, tz),
            )
            for i in items
        ),
        _("no improvement item in the period"),
    )
    return formats.Section("improvements", _("Improvement actions"), (line,), (table,))


def _ranking(found: cards.Scorecards, key: str, title: str) -> formats.Table:
    kinds = points_maths.KINDS
    headers = (
        _("Rank"),
        _("Technician") if found.by == cards.TECHNICIAN else _("Team"),
        _("Name") if found.by == cards.TECHNICIAN else _("Members"),
        _("Points"),
        _("Tickets"),
        *(_(points_maths.KIND_LABELS[k]) for k in kinds),
    )
    rows = []
    for c in found.cards:
        who = (
            _name(found.names.get(c.subject))
            if found.by == cards.TECHNICIAN
            else ", ".join(found.members.get(c.subject, ()))
        )
        rows.append(
            (
                c.rank,
                c.subject,
                who,
                _points(c.total),
                len(c.tickets),
                *(_points(c.kind_points(k)) for k in kinds),
            )
        )
    return formats.Table(key, title, headers, tuple(rows), _("nobody to rank"))


def _scorecard_section(report: AuditReport) -> formats.Section:
    p = report.technicians.points
    clock_points = ", ".join(
        f"{_(t.label)} {p.met_clock[t]:+g}/{p.breached_clock[t]:+g}" for t in Target
    )
    policy = formats.Table(
        "points",
        _("Points (policy [scorecard])"),
        (_("Event"), _("Points")),
        (
            (_("SLA clock met / breached"), clock_points),
            (_(points_maths.KIND_LABELS[points_maths.FIRST_TIME_FIX]), _points(p.first_time_fix)),
            (_(points_maths.KIND_LABELS[points_maths.REOPENED]), _points(p.reopened)),
            (
                _("Survey score {score} or more").format(score=p.high_score_threshold),
                _points(p.high_survey),
            ),
            (
                _("Survey score {score} or less").format(score=p.low_score_threshold),
                _points(p.low_survey),
            ),
            (
                _(points_maths.KIND_LABELS[points_maths.ADOPTED_SUGGESTION]),
                _points(p.adopted_suggestion),
            ),
            (
                _(points_maths.KIND_LABELS[points_maths.RETURNED_REPORT]),
                _points(p.returned_report),
            ),
        ),
    )
    drill = []
    for found, what in ((report.teams, _("team")), (report.technicians, _("technician"))):
        for c in found.cards:
            for comp in c.components:
                drill.append(
                    (
                        what,
                        c.subject,
                        _(points_maths.KIND_LABELS[comp.kind]),
                        _(comp.clock.label) if comp.clock is not None else "",
                        comp.count,
                        _points(comp.each),
                        _points(comp.points),
                        " ".join(str(n) for n in comp.tickets),
                    )
                )
    details = formats.Table(
        "components",
        _("The tickets behind each score"),
        (
            _("Scorecard"),
            _("Who"),
            _("Event"),
            _("Clock"),
            _("Count"),
            _("Points each"),
            _("Points"),
            _("Ticket numbers"),
        ),
        tuple(drill),
        _("nothing scored in the period"),
    )
    lines = [
        _(
            "Ranked by points; ties go to the smaller penalty, then to more tickets, then by"
            " code. Credited to the technician who owned the ticket when it closed and to their"
            " team (base)."
        )
    ]
    unattributed = report.technicians.unattributed
    if unattributed:
        lines.append(
            _("Tickets with no technician (not scored): {tickets}").format(
                tickets=" ".join(str(n) for n in unattributed)
            )
        )
    return formats.Section(
        "scorecards",
        _("Scorecards"),
        tuple(lines),
        (
            policy,
            _ranking(report.teams, "teams", _("Teams")),
            _ranking(report.technicians, "technicians", _("Technicians")),
            details,
        ),
    )


def audit_document(report: AuditReport) -> formats.Document:
    """The report laid out as sections of tables (labels in the active language)."""
    period = report.period
    tz = period.tz
    k = report.kpis
    closed = k.figure("closed_tickets").value
    lines = (
        _("Period {label}: {first} … {last} ({tz}).").format(
            label=period.label,
            first=period.first_day.isoformat(),
            last=period.last_day.isoformat(),
            tz=tz,
        ),
        _("Produced {at} by {login} ({name}); SLA policy {digest}.").format(
            at=_local(report.as_of, tz),
            login=report.author,
            name=_name(report.author_name),
            digest=k.policy_digest[:12],
        ),
        _(
            "Tickets closed {closed}, cancelled {cancelled}; breached clocks {breaches};"
            " surveys below satisfied {low}; overdue improvement items {overdue}."
        ).format(
            closed=int(closed or 0),
            cancelled=int(k.figure("cancelled_tickets").value or 0),
            breaches=len(report.breaches),
            low=len(report.low_surveys),
            overdue=sum(1 for i in report.improvements if i.overdue),
        ),
    )
    return formats.Document(
        title=_("Quarterly service quality audit {label}").format(label=period.label),
        lines=lines,
        sections=(
            _kpi_section(report),
            _breach_section(report),
            _survey_section(report),
            _suggestion_section(report),
            _improvement_section(report),
            _scorecard_section(report),
        ),
        lang=i18n.current_language(),
        meta={"period": period.label},
    )


def write_audit_report(desk: Desk, period: Period, fmt: str, path: str | Path) -> Path:
    """Build the audit report of ``period`` and write it as ``fmt`` (md, html, csv, xlsx) to
    ``path``; returns the path written. The format and the target are checked before anything is
    read, and the file appears complete or not at all."""
    formats.check_format(fmt)
    formats.check_target(path)
    document = audit_document(build_audit_report(desk, period))
    return formats.write(document, fmt, path)


def write_desk_reports(
    desk: Desk, period: Period, formats_: tuple[str, ...] = ("md", "xlsx")
) -> list[Path]:
    """The console's report: ``period``'s audit report in each of ``formats_``, written to the
    desk's own reports folder (``<data dir>/reports/audit-<period>.<fmt>``, created owner-only).

    The path is fixed, never chosen at the console: a remote desk must not write files where it
    likes on the server.
    """
    from windtui.store.db import PRIVATE_DIR_MODE
    from windtui.store.paths import user_data_dir

    folder = user_data_dir() / "reports"
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    stem = "audit-" + re.sub(r"[^0-9A-Za-z_-]+", "_", period.label)
    document = audit_document(build_audit_report(desk, period))
    return [formats.write(document, fmt, folder / f"{stem}.{fmt}") for fmt in formats_]
