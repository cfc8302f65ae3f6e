"""A year of closed service history for the demo fleet: ``data/demo/history.toml``.

:func:`load_history` draws about ``per_year`` tickets over the ``days`` before the desk's now
(seeded: the same seed and the same now give the same history), plays each one's steps through
:func:`windtui.domain.lifecycle.apply` — the checks ``Desk.act`` runs — and writes everything in
ONE transaction: tickets, holds, repair reports with parts and hours, QA reviews, surveys,
analysis items and improvement actions, suggestions, their event rows through the hash chain
(:func:`windtui.store.chain.append`, so ``windtui audit verify`` holds), and the KPI outcome rows
of every closed ticket from :mod:`windtui.services.outcomes` — the code the desk itself runs when
a ticket closes. Replaying ~3,000 tickets one ``Desk.act`` at a time would take minutes; this
takes a few seconds.

Every history ticket ends closed or cancelled with its turbine back in service, so the live
queue is untouched. Numbers follow the live demo tickets' in order of receipt. The event log of
a history ticket reads like the desk's own (one row per changed field, the step's actor: the
dispatcher on shift, the technician for field steps and the report, QA for reviews), recorded at
the load's now.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import chunked

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
from windtui.store import chain
from windtui.store.models import (
    Farm,
    Hold,
    Improvement,
    RepairReport,
    ReportHours,
    ReportPart,
    Review,
    Staff,
    Suggestion,
    Survey,
    Ticket,
    Turbine,
)

if TYPE_CHECKING:
    from windtui.services.demo import DemoData
    from windtui.services.desk import Desk

A = Action
S = TicketState

#: Rows per INSERT (Ticket has ~35 columns: far below SQLite's variable limit).
BATCH = 250
#: A history ticket's last step is at least this long before now (the live queue is "now").
MARGIN = timedelta(hours=2)
#: Beijing time has no DST: local hours and dates of the desk are UTC + 8.
_DESK_OFFSET = timedelta(hours=8)
_QA_LEAD = "zhengk"
_DAY_DISPATCHERS = ("luog", "songy")
_NIGHT_DISPATCHER = "liangc"
_LOW_SCORE = 2  # quality.LOW_SCORE: 1 and 2 open an analysis item
_ANALYSIS_DUE_DAYS = 14  # quality.ANALYSIS_DUE_DAYS


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """What :func:`load_history` wrote."""

    tickets: int
    closed: int
    cancelled: int
    reopened: int
    returned: int
    held: int
    surveys: int
    low_scores: int
    improvements: int
    suggestions: int
    events: int
    first_number: int | None
    last_number: int | None


# --------------------------------------------------------------------------------------------
# The specification (history.toml)


@dataclass(frozen=True, slots=True)
class _Work:
    category: Category
    code: str
    title: str
    diagnosis: str
    work: str
    cause: str
    parts: tuple[tuple[str, str, float], ...]


@dataclass(slots=True)
class _Spec:
    seed: int
    per_year: int
    days: int
    categories: dict[Category, float]
    priorities: dict[Priority, float]
    shares: dict[str, float]
    minutes: dict[str, Any]
    sigma: dict[str, float]
    seasons: list[dict[str, Any]]
    scores: dict[int, float]
    channels: dict[str, float]
    texts: dict[str, Any]
    work: dict[Category, list[_Work]]
    improvements: list[dict[str, Any]]
    suggestions: dict[str, Any]


def _pick(value: Any, lang: str) -> str:
    """``{en = …, zh = …}`` in the demo's language (the other one as a fallback)."""
    if isinstance(value, str):
        return value
    first, second = ("zh", "en") if lang == "zh_CN" else ("en", "zh")
    return str(value.get(first) or value.get(second) or "")


def _picks(values: Iterable[Any], lang: str) -> list[str]:
    return [_pick(v, lang) for v in values]


def read_history(folder: Path, lang: str) -> _Spec:
    """Parse ``history.toml`` in ``folder`` with its texts in ``lang``."""
    path = folder / "history.toml"
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as exc:
        raise WindtuiError(
            _("demo data: cannot read {path}: {why}").format(path=path, why=exc.strerror)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise WindtuiError(
            _("demo data: {path} is not valid TOML: {why}").format(path=path.name, why=exc)
        ) from None
    try:
        work: dict[Category, list[_Work]] = {c: [] for c in Category}
        for entry in raw["work"]:
            kind = Category(entry["category"])
            parts = tuple(
                (str(p[0]), str(p[2] if lang == "zh_CN" else p[1]), float(p[3]))
                for p in entry.get("parts", [])
            )
            work[kind].append(
                _Work(
                    kind,
                    entry.get("code", ""),
                    _pick(entry["title"], lang),
                    _pick(entry["diagnosis"], lang),
                    _pick(entry["work"], lang),
                    _pick(entry["cause"], lang),
                    parts,
                )
            )
        text_keys = (
            "cancel",
            "reopen",
            "returned",
            "low_comments",
            "good_comments",
            "neutral_comments",
        )
        texts: dict[str, Any] = {key: _picks(raw["texts"][key], lang) for key in text_keys}
        texts["evidence"] = {k: _picks(v, lang) for k, v in raw["evidence"].items()}
        for key in ("resume", "revised", "analysis_title", "analysis_done"):
            texts[key] = _pick(raw["texts"][key], lang)
        suggestions = dict(raw["suggestions"])
        suggestions["texts"] = _picks(suggestions["texts"], lang)
        suggestions["rejected_texts"] = _picks(suggestions["rejected_texts"], lang)
        improvements = [dict(i, title=_pick(i["title"], lang)) for i in raw["improvements"]]
        return _Spec(
            seed=int(raw["seed"]),
            per_year=int(raw["per_year"]),
            days=int(raw["days"]),
            categories={Category(k): float(v) for k, v in raw["categories"].items()},
            priorities={Priority(k): float(v) for k, v in raw["priorities"].items()},
            shares={k: float(v) for k, v in raw["shares"].items()},
            minutes=dict(raw["minutes"]),
            sigma={k: float(v) for k, v in raw["sigma"].items()},
            seasons=[dict(v, name=k) for k, v in raw["seasons"].items()],
            scores={int(k): float(v) for k, v in raw["scores"].items()},
            channels={str(k): float(v) for k, v in raw["channels"].items()},
            texts=texts,
            work=work,
            improvements=improvements,
            suggestions=suggestions,
        )
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise WindtuiError(
            _("demo data: {path}: missing or bad entry {what}").format(path=path.name, what=exc)
        ) from None


# --------------------------------------------------------------------------------------------
# The fleet as rows


@dataclass(frozen=True, slots=True)
class _Farm:
    id: int
    code: str
    offshore: bool
    limits: dict[str, float]
    duty: str
    phone: str | None
    turbines: tuple[tuple[int, str], ...]  # (turbine id, position)
    crew: tuple[str, ...]  # technician logins of the covering depot


@dataclass(slots=True)
class _Context:
    farms: list[_Farm]
    weights: list[float]
    staff: dict[str, int]
    qa: tuple[str, ...]
    callers: tuple[str, ...]
    customers: dict[int, int | None]  # farm id -> customer id


def _context(data: DemoData) -> _Context:
    from windtui.store.models import Contract

    staff = dict(Staff.select(Staff.login, Staff.id).tuples())
    farm_ids = dict(Farm.select(Farm.code, Farm.id).tuples())
    turbines: dict[int, list[tuple[int, str]]] = {}
    query = Turbine.select(Turbine.id, Turbine.farm, Turbine.position).order_by(Turbine.id)
    for tid, farm, position in query.tuples():
        turbines.setdefault(farm, []).append((tid, position))
    technicians = [s for s in data.staff if Role.TECHNICIAN.value in s.roles]
    farms = []
    for f in data.farms:
        crew = tuple(s.login for s in technicians if s.base_code == f.depot) or tuple(
            s.login for s in technicians
        )
        fid = farm_ids[f.code]
        farms.append(
            _Farm(
                fid,
                f.code,
                f.offshore,
                f.limits,
                f.duty_contact,
                f.phone,
                tuple(turbines.get(fid, ())),
                crew,
            )
        )
    qa = tuple(s.login for s in data.staff if Role.QA.value in s.roles) or (_QA_LEAD,)
    dispatchers = tuple(
        s.login
        for s in data.staff
        if Role.DISPATCHER.value in s.roles and Role.ADMIN.value not in s.roles
    )
    customers = {
        fid: cust for fid, cust in Farm.select(Farm.id, Contract.customer).join(Contract).tuples()
    }
    return _Context(
        farms=farms,
        weights=[max(len(f.turbines), 5) for f in farms],
        staff=staff,
        qa=qa,
        callers=(*dispatchers, *qa[:1]),
        customers=customers,
    )


# --------------------------------------------------------------------------------------------
# One ticket's plan


@dataclass(slots=True)
class _Step:
    action: Action
    at: datetime
    actor: str
    hold_reason: HoldReason | None = None
    evidence: str = ""
    reason: str | None = None
    technician: str | None = None


@dataclass(slots=True)
class _Report:
    """A report save (before a submit): the fields as written, by whom, when."""

    at: datetime
    author: str
    values: dict[str, Any]
    parts: tuple[tuple[str, str, float], ...]
    hours: tuple[tuple[str, float], ...]


@dataclass(slots=True)
class _Plan:
    farm: _Farm
    turbine: tuple[int, str] | None
    category: Category
    priority: Priority
    work: _Work
    n: int
    received: datetime
    stopped: bool
    channel: str
    steps: list[_Step] = field(default_factory=list)
    reports: list[_Report] = field(default_factory=list)
    survey: tuple[datetime, int, str, str, str] | None = None  # at, score, comments, caller, ch
    owner: str | None = None
    repair_hours: float = 0.0  # arrival to resolution, holds left out (the hours lines)
    # filled by _play
    number: int = 0
    state: TicketState = S.RECEIVED
    timeline: Timeline | None = None
    events: list[tuple[str, str, dict[str, tuple[object, object]], datetime, str | None]] = field(
        default_factory=list
    )  # (actor, action, changes, at, note)


def _local(at: datetime) -> datetime:
    return at + _DESK_OFFSET


def _dispatcher(at: datetime) -> str:
    local = _local(at)
    if 8 <= local.hour < 20:
        return _DAY_DISPATCHERS[local.isocalendar()[1] % len(_DAY_DISPATCHERS)]
    return _NIGHT_DISPATCHER


class _Maker:
    """Draws ticket plans from one random stream."""

    def __init__(self, spec: _Spec, ctx: _Context, now: datetime) -> None:
        self.spec = spec
        self.ctx = ctx
        self.now = now
        self.rng = random.Random(spec.seed)
        self.categories = (list(spec.categories), list(spec.categories.values()))
        self.priorities = (list(spec.priorities), list(spec.priorities.values()))

    # -- draws -----------------------------------------------------------------------------
    def chance(self, key: str) -> bool:
        return self.rng.random() < self.spec.shares.get(key, 0.0)

    def gap(self, key: str, priority: Priority | None = None, sigma: str = "default") -> timedelta:
        """A log-normal step time around the spec's median for ``key`` (at least a minute)."""
        median = self.spec.minutes[key]
        if isinstance(median, dict):
            median = median[priority.value if priority else "P3"]
        spread = self.spec.sigma.get(sigma, self.spec.sigma["default"])
        minutes = self.rng.lognormvariate(math.log(float(median)), spread)
        return timedelta(minutes=max(1.0, min(minutes, 60 * 24 * 20)))

    def weighted(self, weights: dict[Any, float]) -> Any:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # -- a ticket --------------------------------------------------------------------------
    def plan(self) -> _Plan:
        rng, spec = self.rng, self.spec
        category = rng.choices(*self.categories)[0]
        priority = rng.choices(*self.priorities)[0]
        if category in (Category.MAINTENANCE, Category.UPGRADE):
            priority = Priority.P4 if rng.random() < 0.7 else Priority.P3  # planned work
        farm = rng.choices(self.ctx.farms, weights=self.ctx.weights)[0]
        on_turbine = category is not Category.INFRASTRUCTURE or rng.random() < 0.3
        if category is Category.CONSULTING:
            on_turbine = rng.random() < 0.2
        turbine = rng.choice(farm.turbines) if on_turbine and farm.turbines else None
        work = rng.choice(spec.work[category])
        if turbine is None and "{pos}" in work.title:
            others = [w for w in spec.work[category] if "{pos}" not in w.title]
            if others:
                work = rng.choice(others)
            else:
                turbine = rng.choice(farm.turbines)
        stopped = (
            turbine is not None
            and category in (Category.FAULT, Category.MAINTENANCE, Category.UPGRADE)
            and self.chance("stopped")
        )
        channel = rng.choice(("scada", "scada", "phone", "wechat", "email"))
        if category is not Category.FAULT:
            channel = rng.choice(("phone", "email", "wechat"))
        # SCADA alarms come at any hour; people call, write and plan work in the daytime.
        first_day = _local(self.now - timedelta(days=spec.days)).date()
        day = first_day + timedelta(days=rng.randrange(spec.days + 1))
        minute = rng.uniform(0, 1440) if channel == "scada" else rng.uniform(8 * 60, 18 * 60)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - _DESK_OFFSET
        received = (midnight + timedelta(minutes=minute)).replace(microsecond=0)
        plan = _Plan(
            farm=farm,
            turbine=turbine,
            category=category,
            priority=priority,
            work=work,
            n=rng.randint(1, 3),
            received=received,
            stopped=stopped,
            channel=channel,
        )
        self._steps(plan)
        return plan

    def _season(self, plan: _Plan, at: datetime) -> dict[str, Any] | None:
        month = _local(at).month
        for season in self.spec.seasons:
            if plan.farm.code in season["farms"] and month in season["months"]:
                return season
        return None

    def _evidence(self, plan: _Plan, kind: str) -> str:
        text = self.rng.choice(self.spec.texts["evidence"][kind])
        limit = plan.farm.limits.get("climb", 18.0)
        return text.format(
            wind=f"{limit + self.rng.uniform(0.5, 7.0):.1f}",
            limit=f"{limit:g}",
            temp=f"{-self.rng.randint(12, 32)}",
            wave=f"{self.rng.uniform(2.0, 5.5):.1f}",
            days=self.rng.randint(2, 6),
        )

    def _add(self, plan: _Plan, action: Action, at: datetime, actor: str, **kw: Any) -> datetime:
        plan.steps.append(_Step(action, at, actor, **kw))
        return at

    def _hold(self, plan: _Plan, t: datetime, actor: str, *, on_site: bool) -> datetime:
        """Maybe a hold starting at ``t`` (season first, then the other reasons)."""
        rng = self.rng
        season = self._season(plan, t)
        if season is not None and rng.random() < season["share"] / (1.5 if on_site else 1.0):
            low, high = season["hours"]
            evidence = self._evidence(plan, season["name"])
            reason = HoldReason(season.get("reason", "weather"))
            span = timedelta(hours=rng.uniform(low, high))
        elif rng.random() < self.spec.shares.get("other_hold", 0.0):
            options = [HoldReason.PARTS, HoldReason.PERMIT, HoldReason.CUSTOMER_ACCESS]
            if plan.farm.offshore or plan.category in (Category.MAINTENANCE, Category.UPGRADE):
                options.append(HoldReason.CRANE_VESSEL)
            if on_site:
                options = [HoldReason.PARTS, HoldReason.PARTS, HoldReason.CRANE_VESSEL]
            reason = rng.choice(options)
            evidence = self._evidence(plan, reason.value)
            span = timedelta(hours=rng.uniform(3, 60))
        else:
            return t
        start = t + timedelta(minutes=rng.randint(2, 30))
        self._add(plan, A.HOLD, start, actor, hold_reason=reason, evidence=evidence)
        end = start + span
        self._add(plan, A.RESUME, end, actor, reason=self.spec.texts["resume"])
        return end

    def _site_cycle(self, plan: _Plan, t: datetime, owner: str) -> datetime:
        """Dispatch → depart → arrive → resolve (holds as the season and chance have it)."""
        rng, p = self.rng, plan.priority
        t += self.gap("dispatch", p)
        if self.chance("slow_dispatch"):
            t += timedelta(hours=rng.uniform(24, 96))
        t = self._add(plan, A.DISPATCH, t, _dispatcher(t), technician=owner)
        t = self._hold(plan, t, _dispatcher(t), on_site=False)
        t = self._add(plan, A.DEPART, t + self.gap("depart"), owner)
        travel = "travel_offshore" if plan.farm.offshore else "travel"
        t = self._add(plan, A.ARRIVE, t + self.gap(travel, sigma="repair"), owner)
        t = self._hold(plan, t, owner, on_site=True)
        long = plan.category in (Category.MAINTENANCE, Category.UPGRADE)
        repair = self.gap("repair_long" if long else "repair", sigma="repair")
        plan.repair_hours = repair.total_seconds() / 3600
        return self._add(plan, A.RESOLVE, t + repair, owner)

    def _steps(self, plan: _Plan) -> None:
        rng, spec, p = self.rng, self.spec, plan.priority
        site = plan.category.needs_site_visit
        owner = rng.choice(plan.farm.crew) if site else None
        plan.owner = owner
        t = plan.received
        t = self._add(plan, A.ACK, t + self.gap("ack", p), _dispatcher(t))
        if self.chance("cancelled"):
            t += self.gap("feedback")
            if plan.stopped:
                t = self._add(plan, A.RESTORE, t, _dispatcher(t))
            reason = rng.choice(spec.texts["cancel"])
            self._add(plan, A.CANCEL, t + timedelta(minutes=5), _dispatcher(t), reason=reason)
            return
        t += self.gap("feedback")
        if self.chance("late_feedback"):
            t += timedelta(hours=rng.uniform(24, 40))
        t = self._add(plan, A.FEEDBACK, t, _dispatcher(t))
        first_time = True
        if site:
            assert owner is not None
            t = self._site_cycle(plan, t, owner)
            if self.chance("reopened_on_test"):
                first_time = False
                reason = spec.texts["reopen"][-1]
                t = self._add(plan, A.REOPEN, t + self.gap("close"), _dispatcher(t), reason=reason)
                t = self._site_cycle(plan, t, owner)
        else:
            t = self._add(plan, A.RESOLVE, t + self.gap("answer"), _dispatcher(t))
        if plan.stopped:
            t = self._add(plan, A.RESTORE, t + timedelta(minutes=rng.randint(5, 40)), owner or "")
        t = self._close_out(plan, t, owner, first_time=first_time)
        if site and self.chance("reopened_after_close"):
            assert owner is not None
            t += timedelta(days=rng.uniform(2, 20))
            t = self._add(plan, A.REOPEN, t, _dispatcher(t), reason=spec.texts["reopen"][0])
            t = self._site_cycle(plan, t, owner)
            self._close_out(plan, t, owner, first_time=False)

    def _close_out(
        self, plan: _Plan, t: datetime, owner: str | None, *, first_time: bool
    ) -> datetime:
        """Report, submit, (return, resubmit), approve, survey + follow-up, close."""
        rng, spec = self.rng, self.spec
        author = owner or _dispatcher(t)
        t += self.gap("report")
        report = self._report(plan, t, author, first_time=first_time)
        plan.reports.append(report)
        t = self._add(plan, A.SUBMIT, t + timedelta(minutes=1), author)
        crew = {author, *(login for login, _h in report.hours)}
        if self.chance("returned"):
            t += self.gap("review")
            reviewer = self._reviewer(crew)
            reason = rng.choice(spec.texts["returned"])
            t = self._add(plan, A.RETURN, t, reviewer, reason=reason)
            t += self.gap("rework")
            again = self._report(plan, t, author, first_time=first_time, like=report)
            plan.reports.append(again)
            t = self._add(plan, A.SUBMIT, t + timedelta(minutes=1), author)
        t += self.gap("review")
        t = self._add(plan, A.APPROVE, t, self._reviewer(crew))
        t += self.gap("followup")
        score = self.weighted(spec.scores)
        if not first_time and score > 3 and rng.random() < 0.5:
            score -= 1  # a reopened job rarely delights
        if score <= _LOW_SCORE:
            comments = rng.choice(spec.texts["low_comments"])
        elif score == 3:
            comments = rng.choice(spec.texts["neutral_comments"])
        else:
            comments = rng.choice(spec.texts["good_comments"])
        caller = rng.choice(self.ctx.callers)
        channel = self.weighted(spec.channels)
        plan.survey = (t, score, comments, caller, channel)
        t = self._add(plan, A.FOLLOWUP, t + timedelta(minutes=rng.randint(2, 15)), caller)
        return self._add(plan, A.CLOSE, t + self.gap("close"), _dispatcher(t))

    def _reviewer(self, crew: set[str]) -> str:
        free = [q for q in self.ctx.qa if q not in crew] or [_QA_LEAD]
        return free[0] if self.rng.random() < 0.75 else self.rng.choice(free)

    def _report(
        self,
        plan: _Plan,
        at: datetime,
        author: str,
        *,
        first_time: bool,
        like: _Report | None = None,
    ) -> _Report:
        rng, spec = self.rng, self.spec
        pos = plan.turbine[1] if plan.turbine else ""
        work = plan.work

        def fill(text: str) -> str:
            return text.format(pos=pos, n=plan.n).strip()

        if like is not None:
            values = dict(like.values)
            values["work_done"] = f"{values['work_done']} {spec.texts['revised']}"
            return _Report(at, author, values, like.parts, like.hours)
        site = plan.category.needs_site_visit
        fixed = rng.random() < spec.shares["fixed"]
        first = fixed and first_time and rng.random() < spec.shares["first_time_fix"]
        parts: tuple[tuple[str, str, float], ...] = ()
        if work.parts and (plan.category is not Category.FAULT or self.chance("parts")):
            count = rng.randint(1, len(work.parts))
            parts = tuple(work.parts[:count])
        hours: tuple[tuple[str, float], ...] = ()
        if site and plan.owner is not None:
            spent = plan.repair_hours
            days = max(1, math.ceil(spent / 24))
            value = min(max(round(spent * 2) / 2, 0.5), 10.0 * days)
            hours = ((plan.owner, value),)
            others = [c for c in plan.farm.crew if c != plan.owner]
            if others and self.chance("second_technician"):
                hours += ((rng.choice(others), value),)
        values = {
            "diagnosis": fill(work.diagnosis),
            "work_done": fill(work.work),
            "root_cause": fill(work.cause) if site else "",
            "fault_code_confirmed": work.code or None,
            "fixed": fixed,
            "first_time_fix": first,
        }
        return _Report(at, author, values, parts, hours)


# --------------------------------------------------------------------------------------------
# Playing the steps (the lifecycle's checks) into a final timeline and event changes


#: The steps a history ticket's event log keeps one by one: the exceptions an audit asks about.
#: The rest of the workflow is on the ticket itself (its milestones, the clocks met or breached),
#: in its quality records (report, reviews, survey) and in the KPI outcome rows.
LOGGED_STEPS = frozenset({A.HOLD, A.RESUME, A.RETURN, A.REOPEN, A.CLOSE, A.CANCEL})


def _play(plan: _Plan, note: str) -> None:
    """Play the plan's steps through the lifecycle (the desk's checks): the final state and
    timeline, and the compact event log (``note`` on the create event says it is compact)."""
    work = plan.work
    pos = plan.turbine[1] if plan.turbine else ""
    title = work.title.format(pos=pos, n=plan.n).strip()
    timeline = Timeline(
        category=plan.category,
        priority=plan.priority,
        received_at=plan.received,
        turbine_stopped_at=plan.received if plan.stopped else None,
    )
    plan.events.append(
        (_dispatcher(plan.received), "create", {"state": (None, S.RECEIVED)}, plan.received,
         f"{title} — {note}")
    )  # fmt: skip
    state = S.RECEIVED
    for step in plan.steps:
        before, state_before = timeline, state
        state, timeline = lifecycle.apply(
            timeline,
            state,
            step.action,
            step.at,
            hold_reason=step.hold_reason,
            evidence=step.evidence,
            reason=None if step.action is A.HOLD else step.reason,
            number=plan.number,
        )
        if step.action not in LOGGED_STEPS:
            continue
        changes: dict[str, tuple[object, object]] = {}
        if state is not state_before:
            changes["state"] = (state_before, state)
        text = step.reason
        if step.action is A.HOLD:
            changes["hold"] = (None, step.hold_reason)
            text = step.evidence
        elif step.action is A.RESUME:
            changes["hold"] = (before.holds[-1].reason, None)
        elif step.action is A.RETURN:
            changes["review"] = (None, "returned")
        plan.events.append((step.actor, step.action.value, changes, step.at, text))
    plan.state, plan.timeline = state, timeline


# --------------------------------------------------------------------------------------------
# Writing


def _value(value: object) -> str | None:
    """How the desk writes a value into the event log (``services.desk._text``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _insert(model: Any, rows: Iterable[dict[str, Any]]) -> None:
    for part in chunked(rows, BATCH):
        model.insert_many(part).execute()


def _day(at: datetime) -> date:
    local = _local(at)
    return date(local.year, local.month, local.day)


def load_history(desk: Desk, data: DemoData, folder: Path, *, first_number: int) -> HistorySummary:
    """Write the demo's year of closed history (see the module docstring); numbers start at
    ``first_number``. Administrators only (the demo loader's identity), one transaction."""
    from windtui.services import outcomes

    desk._gate(access.INIT)
    spec = read_history(folder, data.lang)
    now = desk.clock().astimezone(UTC)
    with desk.batch():
        ctx = _context(data)
        maker = _Maker(spec, ctx, now)
        plans = [maker.plan() for _ in range(spec.per_year)]
        note = _(
            "demo history: written in bulk; the steps between receipt and closing are on the"
            " ticket (milestones, clocks, quality records), holds, returns and reopens here"
        )
        latest = now - MARGIN
        plans = sorted(
            (p for p in plans if p.steps[-1].at <= latest), key=lambda p: (p.received, p.farm.id)
        )
        for i, plan in enumerate(plans):
            plan.number = first_number + i
            _play(plan, note)
            if plan.state not in (S.CLOSED, S.CANCELLED):  # a bug in the plans, not in the data
                raise WindtuiError(f"demo history ticket {plan.number} ended {plan.state.value}")
        seq = desk._bump()
        writer = _Writer(desk, spec, ctx, now, seq)
        summary = writer.write(plans)
        outcomes.rebuild_outcomes(desk)
    return summary


class _Writer:
    """Bulk inserts of the planned tickets and their records (inside the caller's transaction)."""

    def __init__(self, desk: Desk, spec: _Spec, ctx: _Context, now: datetime, seq: int) -> None:
        self.desk = desk
        self.spec = spec
        self.ctx = ctx
        self.now = now
        self.seq = seq
        self.rng = random.Random(spec.seed + 1)
        self.events: list[dict[str, Any]] = []

    def event(
        self,
        ticket: int | None,
        actor: str,
        action: str,
        changes: dict[str, tuple[object, object]],
        at: datetime,
        note: str | None,
    ) -> None:
        for name, (old, new) in changes.items():
            self.events.append(
                {
                    "ticket": ticket,
                    "change_seq": self.seq,
                    "actor": actor,
                    "action": action,
                    "field": name,
                    "old_value": _value(old),
                    "new_value": _value(new),
                    "note": note,
                    "occurred_at": at,
                    "recorded_at": self.now,
                }
            )

    def write(self, plans: list[_Plan]) -> HistorySummary:
        staff = self.ctx.staff
        rows = []
        for plan in plans:
            tl = plan.timeline
            assert tl is not None
            pos = plan.turbine[1] if plan.turbine else ""
            rows.append(
                {
                    "number": plan.number,
                    "farm": plan.farm.id,
                    "turbine": plan.turbine[0] if plan.turbine else None,
                    "category": plan.category.value,
                    "priority": plan.priority.value,
                    "fault_code": plan.work.code or None,
                    "title": plan.work.title.format(pos=pos, n=plan.n).strip(),
                    "description": "",
                    "reporter": "SCADA" if plan.channel == "scada" else plan.farm.duty,
                    "contact": plan.farm.phone,
                    "channel": plan.channel,
                    "state": plan.state.value,
                    "owner": staff.get(plan.owner) if plan.owner else None,
                    "version": len(plan.steps) + 1 + len(plan.reports) + (plan.survey is not None),
                    "change_seq": self.seq,
                    "received_at": tl.received_at,
                    "created_at": self.now,
                    **{name: getattr(tl, name) for name in _TIMELINE_COLUMNS},
                }
            )
        _insert(Ticket, rows)
        numbers = [p.number for p in plans]
        ids: dict[int, int] = (
            dict(
                Ticket.select(Ticket.number, Ticket.id)
                .where(Ticket.number.between(numbers[0], numbers[-1]))
                .tuples()
            )
            if plans
            else {}
        )
        holds = []
        for plan in plans:
            tid = ids[plan.number]
            assert plan.timeline is not None
            actors = {s.at: s.actor for s in plan.steps if s.action is A.HOLD}
            resume = self.spec.texts["resume"]
            for h in plan.timeline.holds:
                holds.append(
                    {
                        "ticket": tid,
                        "reason": h.reason.value,
                        "evidence": h.evidence,
                        "started_at": h.start,
                        "ended_at": h.end,
                        "resume_note": resume if h.end is not None else None,
                        "actor": actors.get(h.start, _QA_LEAD),
                    }
                )
        _insert(Hold, holds)
        reviews, surveys = self._quality(plans, ids)
        for plan in plans:
            tid = ids[plan.number]
            for actor, action, changes, at, note in plan.events:
                self.event(tid, actor, action, changes, at, note)
        analysis = self._analysis(plans, ids, surveys)
        improvements = self._improvements(analysis)
        suggestions = self._suggestions(plans, ids)
        chain.append(self.desk.db, self.events)
        return HistorySummary(
            tickets=len(plans),
            closed=sum(p.state is S.CLOSED for p in plans),
            cancelled=sum(p.state is S.CANCELLED for p in plans),
            reopened=sum(any(s.action is A.REOPEN for s in p.steps) for p in plans),
            returned=reviews,
            held=sum(bool(p.timeline and p.timeline.holds) for p in plans),
            surveys=len(surveys),
            low_scores=len(analysis),
            improvements=len(analysis) + improvements,
            suggestions=suggestions,
            events=len(self.events),
            first_number=plans[0].number if plans else None,
            last_number=plans[-1].number if plans else None,
        )

    # -- reports, reviews, surveys ----------------------------------------------------------
    def _quality(
        self, plans: list[_Plan], ids: dict[int, int]
    ) -> tuple[int, dict[int, tuple[int, _Plan]]]:
        """Repair reports (the last save), parts, hours, reviews and surveys; returns the
        number of returned reviews and ticket id -> (survey score, plan) of the surveys."""
        staff = self.ctx.staff
        reports = []
        last: dict[int, _Report] = {}
        for plan in plans:
            if not plan.reports:
                continue
            tid = ids[plan.number]
            report = plan.reports[-1]
            last[tid] = report
            submits = [s.at for s in plan.steps if s.action is A.SUBMIT]
            v = report.values
            reports.append(
                {
                    "ticket": tid,
                    "diagnosis": v["diagnosis"],
                    "work_done": v["work_done"],
                    "root_cause": v["root_cause"],
                    "fault_code_confirmed": v["fault_code_confirmed"],
                    "fixed": v["fixed"],
                    "first_time_fix": v["first_time_fix"],
                    "attachments": "[]",
                    "author": report.author,
                    "revision": len(submits),
                    "submitted_at": submits[-1],
                    "updated_at": self.now,
                }
            )
        _insert(RepairReport, reports)
        report_ids = dict(
            RepairReport.select(RepairReport.ticket, RepairReport.id)
            .where(RepairReport.ticket.in_(list(last)))
            .tuples()
        ) if last else {}  # fmt: skip
        parts, hours = [], []
        for tid, report in last.items():
            rid = report_ids[tid]
            for i, (number, description, quantity) in enumerate(report.parts):
                parts.append(
                    {
                        "report": rid,
                        "position": i,
                        "part_number": number,
                        "description": description,
                        "quantity": quantity,
                    }
                )
            for login, value in report.hours:
                hours.append({"report": rid, "staff": staff[login], "hours": value})
        _insert(ReportPart, parts)
        _insert(ReportHours, hours)
        reviews, returned = [], 0
        surveys = []
        for plan in plans:
            tid = ids[plan.number]
            revision = 0
            for step in plan.steps:
                if step.action is A.SUBMIT:
                    revision += 1
                elif step.action in (A.APPROVE, A.RETURN):
                    returned += step.action is A.RETURN
                    reviews.append(
                        {
                            "ticket": tid,
                            "revision": revision,
                            "outcome": "approved" if step.action is A.APPROVE else "returned",
                            "reason": step.reason or "",
                            "reviewer": step.actor,
                            "reviewed_at": step.at,
                        }
                    )
            if plan.survey is not None:
                at, score, comments, caller, channel = plan.survey
                surveys.append(
                    {
                        "ticket": tid,
                        "score": score,
                        "comments": comments,
                        "caller": caller,
                        "contacted_at": at,
                        "channel": channel,
                        "recorded_at": at,
                    }
                )
        _insert(Review, reviews)
        _insert(Survey, surveys)
        by_ticket = {p.number: p for p in plans}
        numbers = {tid: number for number, tid in ids.items()}
        found: dict[int, tuple[int, _Plan]] = {}
        if surveys:
            query = Survey.select(Survey.ticket, Survey.id, Survey.score).where(
                Survey.ticket.in_([s["ticket"] for s in surveys])
            )
            for tid, sid, score in query.tuples():
                found[sid] = (score, by_ticket[numbers[tid]])
        return returned, found

    # -- improvements -----------------------------------------------------------------------
    def _analysis(
        self, plans: list[_Plan], ids: dict[int, int], surveys: dict[int, tuple[int, _Plan]]
    ) -> list[tuple[int, datetime, int | None]]:
        """An analysis item per low score (as ``record_survey`` opens them); returns (item id,
        created day, ticket id) in creation order."""
        rng, texts = self.rng, self.spec.texts
        today = _day(self.now)
        rows = []
        for sid, (score, plan) in sorted(surveys.items()):
            if score > _LOW_SCORE:
                continue
            assert plan.survey is not None
            at, _score, _comments, caller, _channel = plan.survey
            due = _day(at) + timedelta(days=_ANALYSIS_DUE_DAYS)
            age = (today - _day(at)).days
            status, closed, notes = "open", None, ""
            if age > 30 or (age > 7 and rng.random() < 0.5):
                status = "done"
                closed_day = min(_day(at) + timedelta(days=rng.randint(3, 16)), today)
                closed = datetime(closed_day.year, closed_day.month, closed_day.day, 2, tzinfo=UTC)
                closed = max(closed, at + timedelta(hours=1))
                notes = f"{closed_day.isoformat()} {caller}: {texts['analysis_done']}"
            elif age > 3:
                status = "in_progress"
            rows.append(
                {
                    "kind": "analysis",
                    "title": texts["analysis_title"].format(score=score, number=plan.number),
                    "category": "other",
                    "ticket": ids[plan.number],
                    "survey": sid,
                    "owner": self.ctx.staff.get(caller),
                    "due": due,
                    "status": status,
                    "notes": notes,
                    "created_at": at,
                    "closed_at": closed,
                    "_actor": caller,
                }
            )
        return self._create_items(rows)

    def _create_items(self, rows: list[dict[str, Any]]) -> list[tuple[int, datetime, int | None]]:
        """Insert improvement rows one by one (each needs its id for the log and for parents)."""
        out = []
        logins = {v: k for k, v in self.ctx.staff.items()}
        for row in rows:
            actor = row.pop("_actor")
            item = Improvement.create(**row)
            values = {
                "kind": row["kind"],
                "title": row["title"],
                "category": row["category"],
                "owner": logins.get(row["owner"]),
                "due": row["due"].isoformat(),
                "status": "open",
                "parent": row.get("parent"),
            }
            note = _("improvement {id}").format(id=item.id)
            self.event(
                row["ticket"],
                actor,
                "improvement",
                {k: (None, v) for k, v in values.items() if v is not None},
                row["created_at"],
                note,
            )
            if row["status"] != "open":
                when = row["closed_at"] or row["created_at"] + timedelta(days=2)
                self.event(
                    row["ticket"],
                    actor,
                    "improvement",
                    {"status": ("open", row["status"])},
                    min(when, self.now),
                    note,
                )
            out.append((item.id, row["created_at"], row["ticket"]))
        return out

    def _improvements(self, analysis: list[tuple[int, datetime, int | None]]) -> int:
        """The improvement actions of history.toml (owned by QA), linked to the latest analysis
        item before them when they answer one."""
        from windtui.services.demo import parse_offset

        rows = []
        for entry in self.spec.improvements:
            created = self.now + parse_offset(entry["created"])
            due = _day(self.now + parse_offset(entry["due"]))
            status = entry.get("status", "open")
            parent = ticket = None
            if entry.get("answers"):
                earlier = [a for a in analysis if a[1] < created]
                if earlier:
                    parent, _created, ticket = earlier[-1]
            closed = None
            if status in ("done", "cancelled"):
                end = min(self.now + parse_offset(entry["due"]), self.now - timedelta(days=1))
                closed = max(created + timedelta(days=1), end - timedelta(days=3))
            owner = entry.get("owner", _QA_LEAD)
            rows.append(
                {
                    "kind": "action",
                    "title": entry["title"],
                    "category": entry.get("category", "other"),
                    "ticket": ticket,
                    "parent": parent,
                    "owner": self.ctx.staff.get(owner),
                    "due": due,
                    "status": status,
                    "notes": "",
                    "created_at": created,
                    "closed_at": closed,
                    "_actor": owner,
                }
            )
        return len(self._create_items(rows))

    # -- suggestions ------------------------------------------------------------------------
    def _suggestions(self, plans: list[_Plan], ids: dict[int, int]) -> int:
        rng, spec = self.rng, self.spec.suggestions
        today = _day(self.now)
        days = self.spec.days
        sources = {str(k): float(v) for k, v in spec["sources"].items()}
        surveyed = [p for p in plans if p.survey is not None]
        rows = []
        for _i in range(int(spec["count"])):
            received = today - timedelta(days=rng.randint(1, days - 1))
            source = rng.choices(list(sources), weights=list(sources.values()))[0]
            plan = None
            if source == "survey" and surveyed:
                near = [p for p in surveyed if p.survey and _day(p.survey[0]) <= received]
                plan = near[-1] if near else None
            farm = plan.farm if plan is not None else rng.choice(self.ctx.farms)
            age = (today - received).days
            status, decided, by = "new", None, None
            adopted = rng.random() < float(spec["adopted"])
            if age > int(spec["pending_days"]):
                status = "adopted" if adopted else "rejected"
                decided = min(received + timedelta(days=rng.randint(3, 30)), today)
                by = rng.choice(self.ctx.qa)
            elif age > 7:
                status = "evaluating"
            pool = spec["texts"] if status != "rejected" else spec["rejected_texts"] + spec["texts"]
            text = rng.choice(pool)
            rows.append(
                {
                    "customer": self.ctx.customers.get(farm.id),
                    "farm": farm.id,
                    "ticket": ids[plan.number] if plan is not None else None,
                    "source": source,
                    "received_on": received,
                    "text": text,
                    "status": status,
                    "decided_on": decided,
                    "decided_by": by,
                    "created_at": datetime(
                        received.year, received.month, received.day, 2, tzinfo=UTC
                    ),
                }
            )
        rows.sort(key=lambda r: r["received_on"])
        for row in rows:
            item = Suggestion.create(**row)
            actor = row["decided_by"] or _dispatcher(row["created_at"])
            note = _("suggestion {id}").format(id=item.id)
            values = {
                "source": row["source"],
                "received_on": row["received_on"].isoformat(),
                "text": row["text"],
                "farm": next(f.code for f in self.ctx.farms if f.id == row["farm"]),
                "status": "new",
            }
            self.event(
                row["ticket"],
                _dispatcher(row["created_at"]),
                "suggestion",
                {k: (None, v) for k, v in values.items()},
                row["created_at"],
                note,
            )
            if row["status"] != "new":
                when = row["decided_on"] or row["received_on"] + timedelta(days=3)
                at = min(
                    datetime(when.year, when.month, when.day, 3, tzinfo=UTC),
                    self.now - MARGIN,
                )
                changes: dict[str, tuple[object, object]] = {"status": ("new", row["status"])}
                if row["decided_on"] is not None:
                    changes["decided_on"] = (None, row["decided_on"].isoformat())
                self.event(row["ticket"], actor, "suggestion", changes, at, note)
        return len(rows)


#: Ticket columns that mirror Timeline fields (``services.desk.TIMELINE_COLUMNS``).
_TIMELINE_COLUMNS = (
    *(m for m in lifecycle.MILESTONES if m != "received_at"),
    "turbine_stopped_at",
    "turbine_restored_at",
)


def numbers_after(data: DemoData) -> int:
    """The first history number: right after the live demo tickets'."""
    return max((t.number for t in data.tickets), default=1000) + 1


__all__ = ["HistorySummary", "load_history", "numbers_after", "read_history"]
