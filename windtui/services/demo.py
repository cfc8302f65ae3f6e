"""The demo fleet: read ``data/demo/*.toml`` and load it through the store and the ``Desk``.

Reference data (customers, contracts, farms, turbines, staff) is inserted in bulk in one
transaction; tickets are then *replayed*: created with ``Desk.create_ticket(at=…)`` and moved on
with ``Desk.act(at=…)`` one event at a time, so every demo ticket has a genuine event log and has
passed the lifecycle. Every instant in the files is relative to the desk's ``now`` (``"-3h20m"``),
which makes the load deterministic for a frozen clock and the clocks live for a real one.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from windtui.domain.model import Action, Category, HoldReason, Priority, Role
from windtui.errors import WindtuiError
from windtui.i18n import _, normalise

if TYPE_CHECKING:
    from windtui.services.desk import Desk

_OFFSET = re.compile(r"(\d+)([dhms])")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_TURBINE_STATUSES = (
    "running",
    "standby",
    "stopped",
    "fault",
    "offline",
    "maintenance",
    "derated",
)


# --------------------------------------------------------------------------------------------
# Relative times


def parse_offset(text: str) -> timedelta:
    """``"-3h20m"`` → ``-timedelta(hours=3, minutes=20)``; ``"+90d"``, ``"45m"``, ``"0m"``."""
    value = str(text).strip()
    sign = -1 if value.startswith("-") else 1
    body = value.lstrip("+-")
    parts = _OFFSET.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise WindtuiError(_('demo data: cannot read relative time "{value}"').format(value=text))
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    return sign * timedelta(seconds=seconds)


def resolve_date(text: str | None, now: datetime) -> date | None:
    """An absolute ISO date, or one relative to ``now`` in days (``"+90d"``); None stays None."""
    if text is None:
        return None
    value = str(text).strip()
    if value[:1] in "+-":
        return (now + parse_offset(value)).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WindtuiError(_('demo data: cannot read date "{value}"').format(value=text)) from None


# --------------------------------------------------------------------------------------------
# Parsed demo data (plain records, independent of the store)


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class DemoContract:
    code: str
    customer: str
    kind: str
    name_zh: str
    name_en: str
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class DemoTurbine:
    id: str  # "DBC-A07"
    farm: str
    position: str  # "A07"
    model: str
    rated_kw: int
    hub_height_m: int | None
    commissioned: date | None
    warranty_end: date | None
    status: str
    line: str | None


@dataclass(frozen=True, slots=True)
class DemoFarm:
    code: str
    name_zh: str
    name_en: str
    province_zh: str
    province_en: str
    latitude: float
    longitude: float
    timezone: str
    calendar: str
    offshore: bool
    customer: str | None
    contract: str | None
    depot: str | None
    duty_contact: str  # in the demo's language
    phone: str | None
    limits: dict[str, float]
    turbines: tuple[DemoTurbine, ...]
    access_notes: str = ""  # in the demo's language


@dataclass(frozen=True, slots=True)
class DemoStaff:
    login: str
    name_zh: str
    name_en: str
    base: str  # depot name in the demo's language
    base_code: str
    roles: tuple[str, ...]
    level: str
    skills: tuple[str, ...]
    shift: str
    status: str
    phone: str | None
    certificates: dict[str, date]  # gwo_bst, gwo_sea_survival, hv_licence, height_cert


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One replayed action."""

    action: Action
    at: datetime
    reason: str | None = None
    evidence: str | None = None
    technician: str | None = None


@dataclass(frozen=True, slots=True)
class DemoTicket:
    number: int
    farm: str
    turbine: str | None  # full id "DBC-A07"
    category: Category
    priority: Priority
    title: str
    description: str
    fault_code: str | None
    reporter: str | None
    contact: str | None
    channel: str | None
    turbine_stopped: bool
    received: datetime
    steps: tuple[DemoStep, ...]


@dataclass(frozen=True, slots=True)
class DemoData:
    """Everything in ``data/demo`` with relative times resolved against one ``now``."""

    now: datetime
    lang: str
    customers: tuple[DemoCustomer, ...]
    contracts: tuple[DemoContract, ...]
    depots: dict[str, tuple[str, str]]  # code -> (zh, en)
    farms: tuple[DemoFarm, ...]
    staff: tuple[DemoStaff, ...]
    tickets: tuple[DemoTicket, ...]

    @property
    def turbines(self) -> tuple[DemoTurbine, ...]:
        return tuple(t for f in self.farms for t in f.turbines)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What ``load_demo`` inserted."""

    customers: int
    contracts: int
    farms: int
    turbines: int
    staff: int
    tickets: int
    events: int
    by_category: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    history: Any = None  # demo_history.HistorySummary when the year of history was loaded


# --------------------------------------------------------------------------------------------
# Reading


def demo_dir() -> Path:
    """The shipped demo folder (``<data dir>/demo``)."""
    from windtui.paths import data_dir

    return data_dir() / "demo"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise WindtuiError(
            _("demo data: cannot read {path}: {why}").format(path=path, why=exc.strerror)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise WindtuiError(
            _("demo data: {path} is not valid TOML: {why}").format(path=path.name, why=exc)
        ) from None


def _pick(entry: dict[str, Any], key: str, lang: str) -> str:
    """``key_zh`` for Chinese, ``key_en`` otherwise (falling back to the other one)."""
    first, second = ("zh", "en") if lang == "zh_CN" else ("en", "zh")
    return str(entry.get(f"{key}_{first}") or entry.get(f"{key}_{second}") or "")


def _enum(kind: type, value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise WindtuiError(
            _("demo data: {where}: unknown value {value!r}").format(where=where, value=value)
        ) from None


def read_demo(now: datetime, lang: str = "en", folder: Path | None = None) -> DemoData:
    """Parse and check the demo files; every relative time is resolved against ``now`` (UTC)."""
    lang = normalise(lang)
    folder = folder or demo_dir()
    fleet = _read_toml(folder / "fleet.toml")
    people = _read_toml(folder / "staff.toml")
    work = _read_toml(folder / "tickets.toml")

    customers = tuple(
        DemoCustomer(c["code"], c["name_zh"], c["name_en"]) for c in fleet.get("customers", [])
    )
    contracts = tuple(
        DemoContract(
            c["code"],
            c["customer"],
            c.get("kind", "service"),
            c["name_zh"],
            c["name_en"],
            resolve_date(c.get("start"), now),
            resolve_date(c.get("end"), now),
        )
        for c in fleet.get("contracts", [])
    )
    depots = {d["code"]: (d["name_zh"], d["name_en"]) for d in fleet.get("depots", [])}
    farms = tuple(_farm(f, now, lang) for f in fleet.get("farms", []))
    staff = tuple(_staff(s, now, lang, depots) for s in people.get("staff", []))
    farm_codes = {f.code for f in farms}
    turbine_ids = {t.id for f in farms for t in f.turbines}
    logins = {s.login for s in staff}
    first = int(work.get("first_number", 1001))
    tickets = tuple(
        _ticket(t, first + i, now, lang, farms, farm_codes, turbine_ids, logins)
        for i, t in enumerate(work.get("tickets", []))
    )
    return DemoData(now, lang, customers, contracts, depots, farms, staff, tickets)


def _farm(entry: dict[str, Any], now: datetime, lang: str) -> DemoFarm:
    code = entry["code"]
    statuses = dict(entry.get("status", {}))
    turbines: list[DemoTurbine] = []
    for group in entry.get("turbines", []):
        for n in range(1, int(group["count"]) + 1):
            position = f"{group['row']}{n:02d}"
            status = statuses.pop(position, "running")
            if status not in _TURBINE_STATUSES:
                raise WindtuiError(
                    _("demo data: farm {farm}: unknown turbine status {status!r}").format(
                        farm=code, status=status
                    )
                )
            turbines.append(
                DemoTurbine(
                    id=f"{code}-{position}",
                    farm=code,
                    position=position,
                    model=group["model"],
                    rated_kw=int(group["rated_kw"]),
                    hub_height_m=group.get("hub_height_m"),
                    commissioned=resolve_date(group.get("commissioned"), now),
                    warranty_end=resolve_date(group.get("warranty_end"), now),
                    status=status,
                    line=group.get("line"),
                )
            )
    if statuses:  # a status for a position that the groups do not generate is a typo
        raise WindtuiError(
            _("demo data: farm {farm} has no turbine {position}").format(
                farm=code, position=", ".join(sorted(statuses))
            )
        )
    return DemoFarm(
        code=code,
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        province_zh=entry.get("province_zh", ""),
        province_en=entry.get("province_en", ""),
        latitude=float(entry["latitude"]),
        longitude=float(entry["longitude"]),
        timezone=entry.get("timezone", "Asia/Shanghai"),
        calendar=entry.get("calendar", "24x7"),
        offshore=bool(entry.get("offshore", False)),
        customer=entry.get("customer"),
        contract=entry.get("contract"),
        depot=entry.get("depot"),
        duty_contact=_pick(entry, "duty", lang),
        phone=entry.get("phone"),
        limits={k: float(v) for k, v in entry.get("limits", {}).items()},
        turbines=tuple(turbines),
        access_notes=_pick(entry, "access", lang),
    )


_CERTIFICATES = ("gwo_bst", "gwo_sea_survival", "hv_licence", "height_cert")


def _staff(
    entry: dict[str, Any], now: datetime, lang: str, depots: dict[str, tuple[str, str]]
) -> DemoStaff:
    base_code = entry["base"]
    if base_code not in depots:
        raise WindtuiError(
            _("demo data: staff {login}: unknown depot {depot}").format(
                login=entry["login"], depot=base_code
            )
        )
    zh, en = depots[base_code]
    certificates: dict[str, date] = {}
    for name in _CERTIFICATES:
        value = resolve_date(entry.get(f"{name}_expiry"), now)
        if value is not None:
            certificates[name] = value
    return DemoStaff(
        login=entry["login"],
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        base=zh if lang == "zh_CN" else en,
        base_code=base_code,
        roles=tuple(entry.get("roles", ["technician"])),
        level=entry.get("level", "intermediate"),
        skills=tuple(entry.get("skills", [])),
        shift=entry.get("shift", "day"),
        status=entry.get("status", "available"),
        phone=entry.get("phone"),
        certificates=certificates,
    )


def _ticket(
    entry: dict[str, Any],
    number: int,
    now: datetime,
    lang: str,
    farms: tuple[DemoFarm, ...],
    farm_codes: set[str],
    turbine_ids: set[str],
    logins: set[str],
) -> DemoTicket:
    where = _("demo ticket {number}").format(number=number)
    farm = entry["farm"]
    if farm not in farm_codes:
        raise WindtuiError(_("{where}: unknown farm {farm}").format(where=where, farm=farm))
    turbine = f"{farm}-{entry['turbine']}" if entry.get("turbine") else None
    if turbine is not None and turbine not in turbine_ids:
        raise WindtuiError(
            _("{where}: unknown turbine {turbine}").format(where=where, turbine=turbine)
        )
    duty = next(f for f in farms if f.code == farm)
    channel = entry.get("channel")
    steps: list[DemoStep] = []
    for raw in entry.get("events", []):
        if not isinstance(raw, list) or len(raw) not in (2, 3):
            raise WindtuiError(
                _("{where}: an event must be [action, when] or [action, when, {{options}}]").format(
                    where=where
                )
            )
        action = _enum(Action, raw[0], where)
        options: dict[str, Any] = raw[2] if len(raw) == 3 else {}
        tech = options.get("tech")
        if tech is not None and tech not in logins:
            raise WindtuiError(
                _("{where}: unknown technician {login}").format(where=where, login=tech)
            )
        reason: str | None
        evidence: str | None = None
        if action is Action.HOLD:
            reason = _enum(HoldReason, options.get("reason"), where).value
            evidence = _pick(options, "evidence", lang)
        else:
            reason = _pick(options, "reason", lang) or None
        steps.append(DemoStep(action, now + parse_offset(raw[1]), reason, evidence, tech))
    return DemoTicket(
        number=number,
        farm=farm,
        turbine=turbine,
        category=_enum(Category, entry["category"], where),
        priority=_enum(Priority, entry["priority"], where),
        title=_pick(entry, "title", lang),
        description=_pick(entry, "description", lang),
        fault_code=entry.get("fault_code"),
        reporter="SCADA" if channel == "scada" else duty.duty_contact,
        contact=duty.phone,
        channel=channel,
        turbine_stopped=bool(entry.get("turbine_stopped", False)),
        received=now + parse_offset(entry["received"]),
        steps=tuple(steps),
    )


# --------------------------------------------------------------------------------------------
# Loading


def load_demo(
    desk: Desk, lang: str = "en", folder: Path | None = None, *, history: bool = False
) -> DemoSummary:
    """Insert the demo fleet into ``desk``'s database and replay the demo tickets.

    Reference rows go in one transaction; each ticket step is its own ``Desk`` write. A step the
    lifecycle refuses raises :class:`WindtuiError` naming the demo ticket and the step. With
    ``history``, a year of closed tickets (``history.toml``, :mod:`windtui.services.demo_history`)
    is written first, in one transaction, numbered after the live tickets; the live queue is
    the same with or without it.
    """
    data = read_demo(desk.clock(), lang, folder)
    _insert_reference(desk, data)
    past = None
    if history:
        from windtui.services import demo_history

        past = demo_history.load_history(
            desk,
            data,
            folder or demo_dir(),
            first_number=demo_history.numbers_after(data),
        )
    events = _replay(desk, data)
    live = {t.number for t in data.tickets}
    states = Counter(s.state.value for s in desk.tickets(include_closed=True) if s.number in live)
    return DemoSummary(
        customers=len(data.customers),
        contracts=len(data.contracts),
        farms=len(data.farms),
        turbines=len(data.turbines),
        staff=len(data.staff),
        tickets=len(data.tickets),
        events=events,
        by_category=dict(Counter(t.category.value for t in data.tickets)),
        by_state=dict(states),
        history=past,
    )


def _insert_reference(desk: Desk, data: DemoData) -> None:
    """Insert customers, contracts, farms, turbines and staff in one transaction.

    Depot names are stored in the demo's language on both sides (``Farm.depot``, ``Staff.base``)
    so the console can match a farm's depot with a technician's base by plain equality.
    """

    def depot(code: str | None) -> str:
        if not code:
            return ""
        zh, en = data.depots[code]
        return zh if data.lang == "zh_CN" else en

    with desk.batch():  # all or nothing: a half-loaded fleet is worse than none
        for c in data.customers:
            desk.add_customer(c.code, name_zh=c.name_zh, name_en=c.name_en)
        for k in data.contracts:
            desk.add_contract(
                k.code,
                customer=k.customer,
                name=k.name_zh,
                name_en=k.name_en,
                kind=k.kind,
                starts=k.start,
                ends=k.end,
            )
        for f in data.farms:
            desk.add_farm(
                f.code,
                name_zh=f.name_zh,
                name_en=f.name_en,
                province=f.province_zh,
                province_en=f.province_en,
                latitude=f.latitude,
                longitude=f.longitude,
                timezone=f.timezone,
                offshore=f.offshore,
                calendar=f.calendar,
                contract=f.contract,
                depot=depot(f.depot),
                duty_contact=f.duty_contact,
                access_notes=f.access_notes,
                phone=f.phone or "",
                limits=f.limits,
            )
            desk.add_turbines(
                f.code,
                [
                    {
                        "position": t.position,
                        "model": t.model,
                        "rated_kw": t.rated_kw,
                        "hub_height": t.hub_height_m,
                        "commissioned": t.commissioned,
                        "warranty_end": t.warranty_end,
                        "status": t.status,
                        "line": t.line or "",
                    }
                    for t in f.turbines
                ],
            )
        loader = desk.refresh_identity()
        # Administrators first, the loader's own login mapped to the first of them: loading
        # the rest of the staff, and opening the console afterwards, then works as that person.
        people = sorted(data.staff, key=lambda p: Role.ADMIN.value not in p.roles)
        for index, p in enumerate(people):
            mapped = index == 0 and loader.via == "bootstrap" and loader.login != p.login
            desk.add_staff(
                p.login,
                name_zh=p.name_zh,
                name_en=p.name_en,
                roles=p.roles,
                base=p.base,
                skills=p.skills,
                status=p.status,
                level=p.level,
                shift=p.shift,
                phone=p.phone or "",
                certificates=p.certificates,
                os_logins=(loader.login,) if mapped else (),
            )


#: Actions the technician in the field records; QA reviews reports; the desk does the rest.
_FIELD_ACTIONS = frozenset(
    {Action.DEPART, Action.ARRIVE, Action.RESOLVE, Action.SUBMIT, Action.RESTORE}
)
_QA_ACTIONS = frozenset({Action.APPROVE, Action.RETURN})
_DAY_DISPATCHER, _NIGHT_DISPATCHER, _QA = "luog", "liangc", "zhengk"


def _dispatcher(at: datetime) -> str:
    """The dispatcher on shift at ``at`` (day shift 08:00–20:00 Beijing time)."""
    hour = (at + timedelta(hours=8)).hour  # Asia/Shanghai has no DST: a fixed +8 is exact
    return _DAY_DISPATCHER if 8 <= hour < 20 else _NIGHT_DISPATCHER


def _actor(step: DemoStep, owner: str | None) -> str:
    if step.action in _FIELD_ACTIONS and owner:
        return owner
    if step.action in _QA_ACTIONS:
        return _QA
    return _dispatcher(step.at)


def _replay(desk: Desk, data: DemoData) -> int:
    """Create and act every demo ticket; returns the number of replayed actions.

    Each step is logged under a plausible actor (dispatcher on shift, the technician for field
    steps, QA for reviews) so the demo's timelines read like a real desk's.
    """
    count = 0
    actor = desk.actor
    try:
        for ticket in data.tickets:
            count += _replay_one(desk, ticket)
    finally:
        desk.actor = actor
    return count


def _replay_one(desk: Desk, ticket: DemoTicket) -> int:
    count = 0
    owner: str | None = None
    try:
        desk.actor = _dispatcher(ticket.received)
        desk.create_ticket(
            farm=ticket.farm,
            category=ticket.category,
            priority=ticket.priority,
            title=ticket.title,
            turbine=ticket.turbine,
            description=ticket.description,
            fault_code=ticket.fault_code,
            reporter=ticket.reporter,
            contact=ticket.contact,
            channel=ticket.channel,
            at=ticket.received,
            number=ticket.number,
            turbine_stopped=ticket.turbine_stopped,
        )
        submitted = 0
        for step in ticket.steps:
            owner = step.technician or owner
            desk.actor = _actor(step, owner)
            if step.action is Action.SUBMIT:  # submission needs a complete repair report
                _write_report(desk, ticket, step, owner, submitted)
                submitted += 1
            elif step.action is Action.FOLLOWUP:  # the follow-up needs the survey answer
                _record_survey(desk, ticket, step)
            desk.act(
                ticket.number,
                step.action,
                reason=step.reason,
                evidence=step.evidence,
                technician=step.technician,
                at=step.at,
            )
            count += 1
    except WindtuiError as exc:
        raise WindtuiError(
            _("demo ticket {number} ({title}): {why}").format(
                number=ticket.number, title=ticket.title, why=exc
            )
        ) from exc
    return count


#: Demo survey scores, picked by ticket number: mostly satisfied, now and then a low score
#: (which opens an analysis item, as on a real desk).
_SCORES = (5, 5, 4, 5, 4, 5, 2, 5, 3)


def _write_report(
    desk: Desk, ticket: DemoTicket, step: DemoStep, owner: str | None, submitted: int
) -> None:
    """A plausible repair report, written by the step's actor before the demo submits it."""
    from windtui.services import quality
    from windtui.services.records import ReportHoursInput, ReportInput

    site_visit = ticket.category.needs_site_visit
    arrived = next((s.at for s in ticket.steps if s.action is Action.ARRIVE), None)
    resolved = next((s.at for s in ticket.steps if s.action is Action.RESOLVE), None)
    hours: tuple[ReportHoursInput, ...] = ()
    if site_visit and owner is not None and arrived is not None and resolved is not None:
        spent = (resolved - arrived).total_seconds() / 3600
        hours = (ReportHoursInput(owner, min(max(round(spent * 2) / 2, 0.5), 12.0)),)
    work = (
        _("Repaired and tested to the OEM procedure; the turbine is back in service.")
        if site_visit
        else _("Answered the customer with the analysis and recommendations.")
    )
    if submitted:
        work += " " + _("Revised after the QA review: the missing values are added.")
    quality.write_report(
        desk,
        ticket.number,
        ReportInput(
            diagnosis=ticket.description or ticket.title,
            work_done=work,
            root_cause=ticket.title if site_visit else "",
            fault_code_confirmed=ticket.fault_code,
            hours=hours,
            fixed=True,
            first_time_fix=True,
        ),
        at=step.at,
    )


def _record_survey(desk: Desk, ticket: DemoTicket, step: DemoStep) -> None:
    """The satisfaction call the demo's follow-up step stands for."""
    from windtui.services import quality

    score = _SCORES[ticket.number % len(_SCORES)]
    comments = _("Slow to get a crew on site.") if score <= quality.LOW_SCORE else ""
    quality.record_survey(desk, ticket.number, score, comments, contacted_at=step.at)
