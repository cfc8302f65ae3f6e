"""The desk: every use case the CLI and the console need, and the only writer of the database.

Each write runs in one transaction (``BEGIN IMMEDIATE`` on SQLite; ``SELECT … FOR UPDATE`` on the
ticket row on PostgreSQL), checks the caller's ``expected_version``, checks the lifecycle, bumps the
global change counter, updates the ticket (``version + 1``, ``change_seq``) and appends one event
row per changed field — all or nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pwd
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import peewee
import pendulum
from peewee import JOIN, Database, fn

from windtui.domain import lifecycle
from windtui.domain import roles as access
from windtui.domain.model import (
    Action,
    Category,
    HoldReason,
    HoldSpan,
    Priority,
    Role,
    TicketState,
    Timeline,
)
from windtui.domain.policy import PolicySet, load_policy
from windtui.domain.sla import compute_clocks, downtime
from windtui.errors import Conflict, Forbidden, NotFound, Refused, WindtuiError
from windtui.i18n import _, current_language
from windtui.paths import default_policy_path
from windtui.services import outcomes, quality
from windtui.services.identity import Identity
from windtui.services.records import (
    EventRecord,
    FarmRecord,
    HoldRecord,
    SiteRecord,
    StaffRecord,
    TechnicianRecord,
    TicketDetail,
    TicketSnapshot,
    TurbineRecord,
)
from windtui.store import chain
from windtui.store.db import (
    SQLITE_BUSY_SECONDS,
    database_proxy,
    is_sqlite,
    open_database,
    redact,
    resolve_url,
    write_transaction,
)
from windtui.store.models import (
    ChangeCounter,
    Contract,
    Customer,
    Event,
    Farm,
    Hold,
    PolicyDoc,
    Refusal,
    Staff,
    StaffLogin,
    Ticket,
    Turbine,
    split_list,
)
from windtui.store.schema import drop_schema, ensure_schema, schema_version

P = ParamSpec("P")
R = TypeVar("R")

#: Ticket columns that mirror :class:`Timeline` fields of the same name.
TIMELINE_COLUMNS = (
    *(m for m in lifecycle.MILESTONES if m != "received_at"),
    "turbine_stopped_at",
    "turbine_restored_at",
)
#: States in which a technician is out on a ticket (the board shows them as such).
FIELD_STATES = (TicketState.DISPATCHED, TicketState.EN_ROUTE, TicketState.ON_SITE)
CLOSED_STATES = (TicketState.CLOSED.value, TicketState.CANCELLED.value)
FIRST_NUMBER = 1001
NOTE_LIMIT = 4000
#: A certificate expiring within this many days shows a warning on the board.
CERT_WARNING_DAYS = 30
_ROLE_VALUES = frozenset(r.value for r in Role)
#: What a staff login may look like (an OS login or a short handle).
_LOGIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")
#: The staff status of a technician who must not be dispatched or assigned.
ON_LEAVE = "on_leave"


def _active(method: Callable[P, R]) -> Callable[P, R]:
    """Point the model proxy at this desk's database before running ``method``, and record a
    role refusal (:class:`Forbidden`) in the refusal log after the refused work rolled back.

    One database is active per process; this keeps several desks (tests, tools) usable one after
    the other without surprising cross-talk.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        desk = args[0]
        assert isinstance(desk, Desk)
        if database_proxy.obj is not desk.db:
            database_proxy.initialize(desk.db)
        try:
            return method(*args, **kwargs)
        except Forbidden as refusal:
            desk._record_refusal(refusal)
            raise

    return wrapper


def os_login() -> str:
    """The operating-system login of this process (the default actor)."""
    return pwd.getpwuid(os.getuid()).pw_name


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime, what: str) -> datetime:
    """``value`` as an aware UTC datetime (naive input is refused: it has no known zone)."""
    if value.tzinfo is None:
        raise Refused(_("{what} needs a timezone: {value}").format(what=what, value=value))
    return value.astimezone(UTC)


def _text(value: object) -> str | None:
    """How a value is written into the event log."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _enum(kind: type[Enum], value: object, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise Refused(
            _("unknown {what} '{value}': choose one of {choices}").format(
                what=what, value=value, choices=", ".join(str(m.value) for m in kind)
            )
        ) from None


class Desk:
    """The service desk on one database, acting as one actor, with an injectable clock."""

    def __init__(
        self, db: Database, url: str, *, clock: Callable[[], datetime], actor: str
    ) -> None:
        self.db = db
        self.url = url
        self.clock = clock
        self.os_login = os_login()
        self._who = actor  # a staff login or an OS login; resolved to a person on first use
        self._via = "login"
        self._identity: Identity | None = None
        self._policy_cache: tuple[str, PolicySet] | None = None

    # ------------------------------------------------------------------ identity and roles

    @property
    def actor(self) -> str:
        """The staff login that writes go under (the event log's actor)."""
        return self.identity.login

    @actor.setter
    def actor(self, who: str) -> None:
        """Act as the staff member ``who`` from now on (trusted in-process callers only: the
        demo loader replays each step as the person who did it)."""
        self._who, self._identity = who, None

    @property
    def identity(self) -> Identity:
        """Who is at this desk (resolved once; every write checks it afresh)."""
        if self._identity is None:
            self._identity = self.refresh_identity()
        return self._identity

    @_active
    def refresh_identity(self) -> Identity:
        """Resolve the actor against the staff list now (a disabled person is refused)."""
        who = self._who
        link = StaffLogin.get_or_none(StaffLogin.os_login == who)
        staff = link.staff if link is not None else Staff.get_or_none(Staff.login == who)
        if staff is None:
            if not Staff.select().exists():
                # Nobody to protect yet: whoever sets the database up may do everything until
                # the first administrator is added (``windtui init`` adds them).
                # Cached like any identity: the write that adds the first person logs under it.
                self._identity = Identity(
                    login=who,
                    name_zh=who,
                    name_en=who,
                    roles=frozenset(Role),
                    os_login=self.os_login,
                    via="bootstrap",
                )
                return self._identity
            raise Refused(
                _(
                    "{login} is not on the staff list: an administrator adds it with"
                    " `windtui staff add {login} --name-zh … --name-en … --roles …`, or maps it"
                    " to a person with `windtui staff set PERSON --os-login {login}`"
                ).format(login=who)
            )
        if not staff.active:
            raise Refused(
                _(
                    "{login} is disabled: an administrator re-enables it with"
                    " `windtui staff set {login} --enable`"
                ).format(login=staff.login)
            )
        self._identity = Identity(
            login=staff.login,
            name_zh=staff.name_zh,
            name_en=staff.name_en,
            roles=frozenset(Role(r) for r in staff.role_list() if r in _ROLE_VALUES),
            os_login=self.os_login,
            via=self._via,
            staff_id=staff.id,
        )
        return self._identity

    @_active
    def assume(self, login: str, *, trusted_account: bool = False) -> Identity:
        """Act as ``login`` (the CLI's ``--as``).

        Allowed for an administrator, or when ``trusted_account`` says the OS account is one the
        administrator's system configuration trusts (its identity is fixed per SSH key or per
        browser session). Refused otherwise, naming the login that tried.
        """
        if not trusted_account:
            me = self.identity
            if Role.ADMIN not in me.roles:
                raise Forbidden(
                    _(
                        "--as is only for administrators and accounts the administrator trusts:"
                        " {login} is neither"
                    ).format(login=me.login),
                    operation="as",
                    target=login,
                    needed=Role.ADMIN.value,
                )
        self._who, self._via, self._identity = login, "as", None
        return self.identity

    def _gate(self, operation: str | Action, target: str = "") -> Identity:
        """The role check every write makes first, against a fresh read of the staff row.

        Passes a technician through for crew operations: whether they are crew on *this*
        ticket is checked on the locked row (:meth:`_check_crew`).
        """
        me = self.refresh_identity()
        op = str(operation.value if isinstance(operation, Action) else operation)
        if access.permits(me.roles, op) or (
            Role.TECHNICIAN in me.roles and op in access.CREW_OPERATIONS
        ):
            return me
        raise self._forbidden(me, op, target)

    def _check_crew(self, operation: str | Action, row: Ticket | None, number: int) -> None:
        """Refuse a crew-only caller a ticket they are not crew on (or that does not exist:
        the same words, so ticket numbers cannot be probed)."""
        me = self.identity
        op = str(operation.value if isinstance(operation, Action) else operation)
        if access.permits(me.roles, op):
            return
        crew = row is not None and me.staff_id is not None and row.owner_id == me.staff_id
        if crew and access.permits(me.roles, op, crew=True):
            return
        if Role.TECHNICIAN in me.roles:
            raise Forbidden(
                _("ticket {number} is not one of your jobs").format(number=number),
                operation=op,
                target=f"ticket {number}",
                needed=",".join(r.value for r in access.needed_roles(op)),
            )
        raise self._forbidden(me, op, f"ticket {number}")

    def _forbidden(self, me: Identity, op: str, target: str = "") -> Forbidden:
        needed = access.needed_roles(op)
        held = ", ".join(_(r.label) for r in Role if r in me.roles) or _("no role")
        return Forbidden(
            _("{operation} needs the {roles} role: {login} is {held}").format(
                operation=_(access.operation_label(op)),
                roles=_(" or ").join(_(r.label) for r in needed),
                login=me.login,
                held=held,
            ),
            operation=op,
            target=target,
            needed=",".join(r.value for r in needed),
        )

    def _record_refusal(self, refusal: Forbidden) -> None:
        """Append a refused attempt to the refusal log, in its own transaction.

        Best effort: a database that cannot take the row must not hide the refusal itself.
        """
        who = self._identity.login if self._identity is not None else self._who
        try:
            with write_transaction(self.db):
                Refusal.create(
                    actor=who,
                    os_login=self.os_login,
                    operation=refusal.operation,
                    target=refusal.target,
                    needed=refusal.needed,
                    message=str(refusal),
                    at=self.clock(),
                )
        except peewee.DatabaseError:
            pass

    # ------------------------------------------------------------------ opening and schema

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        now: datetime | None = None,
        actor: str | None = None,
        create: bool = True,
    ) -> Desk:
        """Open the database at ``url`` (default: ``$WINDTUI_DB`` or the user's SQLite file).

        ``now`` freezes the clock; ``actor`` overrides the OS login. With ``create`` a missing
        schema is created (an older one is always upgraded; a newer one is refused).
        """
        resolved = resolve_url(url)
        db = open_database(resolved, create=create)
        try:
            _connect(db)
        except peewee.DatabaseError as exc:
            raise WindtuiError(
                _("cannot open the database {url}: {why}").format(
                    url=redact(resolved), why=str(exc).strip().splitlines()[0]
                )
            ) from exc
        if now is not None:
            frozen = _utc(now, "now")
            clock: Callable[[], datetime] = lambda: frozen  # noqa: E731
        else:
            clock = _system_clock
        desk = cls(db, resolved, clock=clock, actor=actor or os_login())
        database_proxy.initialize(db)
        if create or schema_version(db) is not None:
            ensure_schema(db, create=True)
        return desk

    @classmethod
    def open_for_login(
        cls,
        url: str | None = None,
        *,
        now: datetime | None = None,
        requested: str | None = None,
        create: bool = True,
    ) -> Desk:
        """The front door of the CLI and the console: the desk of this process's OS login.

        ``requested`` (``--as``) is honoured for an administrator or an OS account the system
        configuration trusts. An unknown or disabled login is refused here, with one line, so
        nothing opens.
        """
        from windtui.services.identity import load_system_config

        desk = cls.open(url, now=now, create=create)
        try:
            if requested:
                trusted = desk.os_login in load_system_config().trusted_accounts
                desk.assume(requested, trusted_account=trusted)
            else:
                desk.refresh_identity()
        except BaseException:
            desk.close()
            raise
        return desk

    def close(self) -> None:
        """Close this thread's connection."""
        if not self.db.is_closed():
            self.db.close()

    @_active
    def init_schema(self) -> int:
        """Create or upgrade the schema; returns its version (administrators only, once there
        is a schema with staff to protect)."""
        if schema_version(self.db) is not None:
            self._gate(access.INIT)
        return ensure_schema(self.db, create=True)

    @_active
    def reset(self) -> None:
        """Drop every table and create an empty schema (the demo reload uses this)."""
        self._gate(access.INIT)
        drop_schema(self.db)
        ensure_schema(self.db, create=True)
        self._policy_cache = None
        self._identity = None  # the staff list is gone: back to setting up

    def load_demo(self, lang: str, *, history: bool = False) -> Any:
        """Load the demo data set in ``lang`` (see ``windtui.services.demo``); ``history`` adds
        its year of closed tickets (``windtui.services.demo_history``)."""
        from windtui.services import demo  # the demo loader sits above the desk

        return demo.load_demo(self, lang, history=history)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run several writes in one transaction (each write becomes a savepoint)."""
        if database_proxy.obj is not self.db:
            database_proxy.initialize(self.db)
        with write_transaction(self.db):
            yield

    # ------------------------------------------------------------------ reference data

    @_active
    def farms(self) -> list[FarmRecord]:
        """Every farm, by code, with its number of turbines."""
        count = fn.COUNT(Turbine.id).alias("turbine_count")
        query = (
            Farm.select(Farm, count)
            .join(Turbine, JOIN.LEFT_OUTER)
            .group_by(Farm)
            .order_by(Farm.code)
        )
        return [
            FarmRecord(
                code=f.code,
                name_zh=f.name_zh,
                name_en=f.name_en,
                province=f.province,
                timezone=f.timezone,
                offshore=f.offshore,
                calendar=f.calendar,
                latitude=f.latitude,
                longitude=f.longitude,
                turbine_count=f.turbine_count,
            )
            for f in query
        ]

    @_active
    def turbines(self, farm: str | None = None, search: str = "") -> list[TurbineRecord]:
        """Turbines (of one farm), filtered by a case-insensitive search on id and model."""
        query = Turbine.select(Turbine, Farm).join(Farm).order_by(Farm.code, Turbine.position)
        if farm is not None:
            query = query.where(Farm.id == self._farm(farm).id)
        needle = search.strip().lower()
        out = []
        for t in query:
            record = TurbineRecord(
                id=f"{t.farm.code}-{t.position}",
                farm=t.farm.code,
                position=t.position,
                model=t.model,
                rated_kw=t.rated_kw,
                commissioned=t.commissioned.isoformat(),
                warranty_end=t.warranty_end.isoformat() if t.warranty_end else None,
                status=t.status,
            )
            if not needle or needle in record.id.lower() or needle in record.model.lower():
                out.append(record)
        return out

    @_active
    def technicians(self) -> list[TechnicianRecord]:
        """Staff with the technician role, with their board status and current ticket."""
        current: dict[int, tuple[str, int]] = {}
        busy = (
            Ticket.select(Ticket.owner, Ticket.state, Ticket.number)
            .where(Ticket.owner.is_null(False), Ticket.state.in_([s.value for s in FIELD_STATES]))
            .order_by(Ticket.change_seq)
        )
        for t in busy:
            current[t.owner_id] = (t.state, t.number)  # the most recently changed one wins
        today = self.clock().date()
        out = []
        for s in Staff.select().order_by(Staff.login):
            roles = s.role_list()
            if Role.TECHNICIAN.value not in roles:
                continue
            state, number = current.get(s.id, (s.status, None))
            out.append(
                TechnicianRecord(
                    login=s.login,
                    name_zh=s.name_zh,
                    name_en=s.name_en,
                    base=s.base,
                    status=state,
                    current_ticket=number,
                    skills=split_list(s.skills),
                    roles=roles,
                    certificate_warning=_certificate_warning(s.certificates, today),
                )
            )
        return out

    # ------------------------------------------------------------------ ticket reads

    @_active
    def ticket(self, number: int) -> TicketSnapshot:
        """One ticket's snapshot (NotFound when unknown; a technician sees only their jobs)."""
        found = self._snapshots(Ticket.number == number, *self._visible())
        if not found:
            if self.identity.crew_only:
                self._check_crew(access.READ, None, number)
            raise NotFound(_("ticket {number} not found").format(number=number))
        return found[0]

    def _allowed(self, snap: TicketSnapshot) -> tuple[Action, ...]:
        """The actions the ticket's state allows that the caller's roles permit on it."""
        me = self.identity
        crew = me.staff_id is not None and snap.owner == me.login
        tl = snap.timeline
        return tuple(
            a
            for a in lifecycle.allowed_actions(
                snap.state,
                category=snap.category,
                on_hold=lifecycle.is_on_hold(tl),
                turbine_down=lifecycle.is_turbine_down(tl),
            )
            if access.permits(me.roles, a, crew=crew)
        )

    def _visible(self) -> tuple[Any, ...]:
        """Conditions limiting ticket reads to what the caller may read.

        Readers of everything get none; a technician gets their own jobs; anyone else (no
        role at all) is refused.
        """
        me = self.identity
        if access.reads_everything(me.roles):
            return ()
        if Role.TECHNICIAN in me.roles:
            return (Ticket.owner == me.staff_id,)
        raise self._forbidden(me, access.READ)

    def open_tickets(self) -> list[TicketSnapshot]:
        """Every ticket that is neither closed nor cancelled."""
        return self.tickets()

    @_active
    def tickets(
        self,
        *,
        include_closed: bool = False,
        farm: str | None = None,
        priority: Priority | str | None = None,
        state: TicketState | str | None = None,
        category: Category | str | None = None,
    ) -> list[TicketSnapshot]:
        """Tickets by number, filtered; closed/cancelled ones only when asked (or by ``state``).

        A technician gets only the tickets they are crew on.
        """
        where = list(self._visible())
        if state is not None:
            where.append(Ticket.state == str(state))
        elif not include_closed:
            where.append(Ticket.state.not_in(CLOSED_STATES))
        if farm is not None:
            where.append(Ticket.farm == self._farm(farm).id)
        if priority is not None:
            where.append(Ticket.priority == str(priority))
        if category is not None:
            where.append(Ticket.category == str(category))
        return self._snapshots(*where)

    @_active
    def changed_since(self, seq: int) -> tuple[int, list[TicketSnapshot]]:
        """Tickets written after change ``seq`` (closed ones too, so a console can drop them).

        Returns the new high-water mark, read *before* the tickets so nothing committed in
        between is skipped (it may come again next time, which is harmless).
        """
        mark = self._counter()
        return mark, self._snapshots(Ticket.change_seq > seq, *self._visible())

    @_active
    def data_version(self) -> int:
        """A number that changes when another connection commits (cheap to poll).

        SQLite: ``PRAGMA data_version``; PostgreSQL: the global change counter.
        """
        if is_sqlite(self.db):
            return int(self.db.execute_sql("PRAGMA data_version").fetchone()[0])
        return self._counter()

    @_active
    def detail(self, number: int) -> TicketDetail:
        """Everything about one ticket: clocks now, downtime, events, holds, allowed actions."""
        snap = self.ticket(number)
        row = (
            Ticket.select(Ticket, Farm, Turbine)
            .join(Farm)
            .switch(Ticket)
            .join(Turbine, JOIN.LEFT_OUTER)
            .where(Ticket.id == snap.id)
            .get()
        )
        now = self.clock()
        tl = snap.timeline
        events = tuple(
            EventRecord(
                seq=e.seq,
                actor=e.actor,
                action=e.action,
                field=e.field,
                old=e.old_value,
                new=e.new_value,
                occurred_at=e.occurred_at,
                recorded_at=e.recorded_at,
                note=e.note,
            )
            for e in Event.select().where(Event.ticket == snap.id).order_by(Event.seq)
        )
        holds = tuple(
            HoldRecord(
                reason=HoldReason(h.reason),
                start=h.started_at,
                end=h.ended_at,
                evidence=h.evidence,
                resume_note=h.resume_note,
                actor=h.actor,
            )
            for h in self._holds_of(snap.id)
        )
        return TicketDetail(
            ticket=snap,
            site=_site(row.farm, row.turbine if row.turbine_id else None),
            description=row.description,
            reporter=row.reporter,
            contact=row.contact,
            channel=row.channel,
            clocks=compute_clocks(
                tl,
                self.policy(),
                farm_tz=snap.farm_timezone,
                farm_calendar=snap.farm_calendar,
                now=now,
            ),
            downtime=downtime(tl, now),
            events=events,
            holds=holds,
            allowed_actions=self._allowed(snap),
        )

    # ------------------------------------------------------------------ policy

    @_active
    def policy_digest(self) -> str:
        """The digest of the policy in force: a cheap probe for "was a new policy loaded?".

        One query on the primary-key index (the newest policy row's stored digest), no TOML
        parsing; without a loaded policy, the shipped file's digest (cached while it is unchanged).
        A console polls this and replans its board when it changes.
        """
        digest = PolicyDoc.select(PolicyDoc.digest).order_by(PolicyDoc.id.desc()).limit(1).scalar()
        return digest if digest is not None else _shipped_policy()[2]

    @_active
    def policy(self) -> PolicySet:
        """The policy in force: the newest loaded one, else the shipped ``sla-policy.toml``.

        Parsed once per digest: a repeated call costs the :meth:`policy_digest` query only.
        """
        cached = self._policy_cache
        if cached is not None and cached[0] == self.policy_digest():
            return cached[1]
        doc = PolicyDoc.select(PolicyDoc.name, PolicyDoc.text).order_by(PolicyDoc.id.desc()).first()
        name, text = (doc.name, doc.text) if doc is not None else _shipped_policy()[:2]
        policy = load_policy(text, source=name)
        # Keyed by the digest of the text actually parsed: a policy loaded between the probe and
        # this read is then cached under its own digest, never under the older one.
        self._policy_cache = (policy.digest, policy)
        return policy

    @_active
    def load_policy_file(self, path: str | Path) -> PolicySet:
        """Validate and store a policy file; it is in force from now on, retroactively.

        Refused, writing nothing, when it lacks a calendar some farm uses: every clock of that
        farm could no longer be computed, so every read would fail.
        """
        self._gate(access.POLICY)
        file = Path(path)
        text = _read(file)
        policy = load_policy(text, source=str(file))
        now = self.clock()
        with write_transaction(self.db):
            # Bump first: on PostgreSQL the counter row lock serialises this check against a
            # concurrent add_farm (which bumps before checking its calendar too).
            seq = self._bump()  # consoles see a change and replan every clock
            self._check_farm_calendars(policy, str(file))
            previous = self.policy_digest()
            PolicyDoc.create(
                name=file.name, text=text, digest=policy.digest, loaded_at=now, actor=self.actor
            )
            changes: dict[str, tuple[object, object]] = {"policy": (previous, policy.digest)}
            self._log(None, seq, "policy", changes, now, now, file.name)
        self._policy_cache = None
        return policy

    def _check_farm_calendars(self, policy: PolicySet, source: str) -> None:
        """Refuse ``policy`` when a farm's calendar is not among the calendars it defines."""
        farms: dict[str, list[str]] = {}
        query = (
            Farm.select(Farm.calendar, Farm.code)
            .where(Farm.calendar.not_in(policy.calendar_names))
            .order_by(Farm.calendar, Farm.code)
        )
        for calendar, code in query.tuples():
            farms.setdefault(calendar, []).append(code)
        if farms:
            missing = "; ".join(
                _('calendar "{calendar}" (farms: {farms})').format(
                    calendar=calendar, farms=", ".join(codes)
                )
                for calendar, codes in farms.items()
            )
            raise Refused(
                _("{source} cannot be loaded: it lacks {missing}").format(
                    source=source, missing=missing
                )
            )

    # ------------------------------------------------------------------ reference-data writes

    @_active
    def add_customer(self, code: str, *, name_zh: str, name_en: str) -> None:
        """Add a customer."""
        self._gate(access.REFERENCE)
        self._insert(Customer, "customer", code, name_zh=name_zh, name_en=name_en)

    @_active
    def add_contract(
        self,
        code: str,
        *,
        customer: str,
        name: str,
        name_en: str = "",
        kind: str = "service",
        starts: date | None = None,
        ends: date | None = None,
        sla_key: str | None = None,
    ) -> None:
        """Add a customer's contract; ``sla_key`` (default: the code) selects policy overrides."""
        self._gate(access.REFERENCE)
        owner = self._lookup(Customer, Customer.code == customer, _("customer {name}"), customer)
        self._insert(
            Contract,
            "contract",
            code,
            customer=owner,
            name=name,
            name_en=name_en,
            kind=kind,
            starts=starts,
            ends=ends,
            sla_key=sla_key,
        )

    @_active
    def add_farm(
        self,
        code: str,
        *,
        name_zh: str,
        name_en: str,
        province: str,
        latitude: float,
        longitude: float,
        timezone: str = "Asia/Shanghai",
        offshore: bool = False,
        calendar: str = "24x7",
        contract: str | None = None,
        province_en: str = "",
        depot: str = "",
        duty_contact: str = "",
        phone: str = "",
        limits: dict[str, float] | None = None,
        access_notes: str = "",
    ) -> None:
        """Add a wind farm (``contract`` by code) on a calendar of the policy in force."""
        self._gate(access.REFERENCE)
        deal = None
        if contract is not None:
            deal = self._lookup(Contract, Contract.code == contract, _("contract {name}"), contract)

        def known_calendar() -> None:
            names = self.policy().calendar_names
            if calendar not in names:
                raise Refused(
                    _('unknown calendar "{name}": the policy in force defines {choices}').format(
                        name=calendar, choices=", ".join(names)
                    )
                )

        self._insert(
            Farm,
            "farm",
            code,
            check=known_calendar,
            name_zh=name_zh,
            name_en=name_en,
            province=province,
            province_en=province_en,
            latitude=latitude,
            longitude=longitude,
            timezone=timezone,
            offshore=offshore,
            calendar=calendar,
            contract=deal,
            depot=depot,
            duty_contact=duty_contact,
            phone=phone,
            limits=json.dumps(limits or {}),
            access_notes=access_notes,
        )

    @_active
    def add_turbines(self, farm: str, turbines: Iterable[dict[str, Any]]) -> int:
        """Add turbines to a farm in one transaction; each dict holds Turbine fields
        (``position``, ``model``, ``rated_kw``, ``commissioned``, optional ``hub_height``,
        ``warranty_end``, ``status``, ``line``). Returns how many were added."""
        self._gate(access.REFERENCE)
        site = self._farm(farm)
        rows = [{**t, "farm": site.id} for t in turbines]
        with write_transaction(self.db):
            for start in range(0, len(rows), 100):  # stay under SQLite's variable limit
                Turbine.insert_many(rows[start : start + 100]).execute()
            self._bump()
        return len(rows)

    @_active
    def add_staff(
        self,
        login: str,
        *,
        name_zh: str,
        name_en: str,
        roles: Iterable[str],
        base: str = "",
        skills: Iterable[str] = (),
        status: str = "available",
        level: str = "",
        shift: str = "",
        phone: str = "",
        certificates: dict[str, date] | None = None,
        os_logins: Iterable[str] = (),
    ) -> StaffRecord:
        """Add a staff member (administrators only); ``certificates`` maps certificate name to
        expiry date; ``os_logins`` are further OS logins that identify them (their own ``login``
        always does). Logged as ``staff`` events."""
        self._gate(access.STAFF, f"staff {login}")
        login = _checked_login(login, _("staff login"))
        held = _checked_roles(roles)
        extra = tuple(dict.fromkeys(_checked_login(x, _("OS login")) for x in os_logins))
        if not name_zh.strip() or not name_en.strip():
            raise Refused(
                _("staff {login} needs a Chinese and an English name").format(login=login)
            )
        now = self.clock()
        with write_transaction(self.db):
            seq = self._bump()
            if Staff.select().where(Staff.login == login).exists():
                raise Refused(_("{what} {code} already exists").format(what=_("staff"), code=login))
            self._check_os_logins(login, extra, None)
            person = Staff.create(
                login=login,
                name_zh=name_zh.strip(),
                name_en=name_en.strip(),
                roles=",".join(held),
                base=base,
                skills=",".join(skills),
                status=status,
                level=level,
                shift=shift,
                phone=phone,
                certificates=json.dumps(
                    {k: v.isoformat() for k, v in (certificates or {}).items()}
                ),
            )
            for name in extra:
                StaffLogin.create(os_login=name, staff=person)
            changes: dict[str, tuple[object, object]] = {
                "login": (None, login),
                "name": (None, f"{person.name_zh} / {person.name_en}"),
                "roles": (None, ",".join(held)),
            }
            if extra:
                changes["os_logins"] = (None, ",".join(extra))
            self._log(None, seq, "staff.add", changes, now, now, login)
        return self._staff_record(login)

    @_active
    def set_staff(
        self,
        login: str,
        *,
        name_zh: str | None = None,
        name_en: str | None = None,
        roles: Iterable[str] | None = None,
        os_logins: Iterable[str] | None = None,
        active: bool | None = None,
        phone: str | None = None,
        base: str | None = None,
        status: str | None = None,
    ) -> StaffRecord:
        """Change a staff member (administrators only): names, roles, OS logins (replacing the
        list), enabled or disabled. The last active administrator cannot lose the role or be
        disabled (nobody could manage staff any more). One ``staff`` event per changed field."""
        self._gate(access.STAFF, f"staff {login}")
        held = _checked_roles(roles) if roles is not None else None
        extra = (
            tuple(dict.fromkeys(_checked_login(x, _("OS login")) for x in os_logins))
            if os_logins is not None
            else None
        )
        now = self.clock()
        with write_transaction(self.db):
            seq = self._bump()
            person = self._lookup(Staff, Staff.login == login, _("staff {name}"), login)
            changes: dict[str, tuple[object, object]] = {}
            fields: dict[str, object] = {}
            for name, value in (
                ("name_zh", name_zh),
                ("name_en", name_en),
                ("phone", phone),
                ("base", base),
                ("status", status),
            ):
                if value is not None and value.strip() != getattr(person, name):
                    if name.startswith("name_") and not value.strip():
                        raise Refused(_("a staff name cannot be empty"))
                    changes[name] = (getattr(person, name), value.strip())
                    fields[name] = value.strip()
            if held is not None and ",".join(held) != person.roles:
                changes["roles"] = (person.roles, ",".join(held))
                fields["roles"] = ",".join(held)
            if active is not None and active != person.active:
                changes["active"] = (person.active, active)
                fields["active"] = active
            losing_admin = Role.ADMIN.value in person.role_list() and (
                (held is not None and Role.ADMIN.value not in held) or active is False
            )
            if losing_admin and self._other_admins(person.id) == 0:
                raise Refused(
                    _(
                        "{login} is the last active administrator: add another administrator first"
                    ).format(login=login)
                )
            if extra is not None:
                before = tuple(
                    x.os_login
                    for x in StaffLogin.select()
                    .where(StaffLogin.staff == person.id)
                    .order_by(StaffLogin.os_login)
                )
                if sorted(extra) != list(before):
                    self._check_os_logins(login, extra, person.id)
                    StaffLogin.delete().where(StaffLogin.staff == person.id).execute()
                    for name in extra:
                        StaffLogin.create(os_login=name, staff=person)
                    changes["os_logins"] = (",".join(before), ",".join(sorted(extra)))
            if not changes:
                raise Refused(_("staff {login}: nothing to change").format(login=login))
            if fields:
                Staff.update(**fields).where(Staff.id == person.id).execute()
            self._log(None, seq, "staff.set", changes, now, now, login)
        self._identity = None  # the caller may have changed themselves
        return self._staff_record(login)

    def disable_staff(self, login: str) -> StaffRecord:
        """Disable a staff member: they can no longer open the desk (their history stays)."""
        return self.set_staff(login, active=False)

    @_active
    def staff(self) -> list[StaffRecord]:
        """Every staff member with roles, OS logins and whether they may open the desk."""
        self.identity  # noqa: B018 - an unknown or disabled login is refused here too
        links: dict[int, list[str]] = {}
        for staff_id, name in StaffLogin.select(StaffLogin.staff, StaffLogin.os_login).tuples():
            links.setdefault(staff_id, []).append(name)
        return [_staff_record(s, links.get(s.id, ())) for s in Staff.select().order_by(Staff.login)]

    def _staff_record(self, login: str) -> StaffRecord:
        person = Staff.get(Staff.login == login)
        names = [
            x.os_login
            for x in StaffLogin.select()
            .where(StaffLogin.staff == person.id)
            .order_by(StaffLogin.os_login)
        ]
        return _staff_record(person, names)

    def _other_admins(self, staff_id: int) -> int:
        return sum(
            1
            for s in Staff.select().where(Staff.active, Staff.id != staff_id)
            if Role.ADMIN.value in s.role_list()
        )

    def _check_os_logins(self, login: str, names: Sequence[str], staff_id: int | None) -> None:
        """Refuse an OS login that already identifies somebody else."""
        for name in names:
            link = StaffLogin.get_or_none(StaffLogin.os_login == name)
            other = link.staff if link is not None else None
            if other is None and name != login:
                other = Staff.get_or_none(Staff.login == name)
            if other is not None and other.id != staff_id:
                raise Refused(
                    _("OS login {name} already identifies {other}").format(
                        name=name, other=other.login
                    )
                )

    # ------------------------------------------------------------------ ticket writes

    @_active
    def create_ticket(
        self,
        *,
        farm: str,
        category: Category | str,
        priority: Priority | str,
        title: str,
        turbine: str | None = None,
        description: str = "",
        fault_code: str | None = None,
        reporter: str | None = None,
        contact: str | None = None,
        channel: str | None = None,
        at: datetime | None = None,
        number: int | None = None,
        turbine_stopped: bool = False,
    ) -> TicketSnapshot:
        """Receive a ticket at ``at`` (default now); numbers run from 1001 unless given."""
        self._gate(access.CREATE)
        now = self.clock()
        at = self._instant(at, now)
        kind = _enum(Category, category, _("category"))
        level = _enum(Priority, priority, _("priority"))
        if not title.strip():
            raise Refused(_("a ticket needs a title"))
        if number is not None and number < 1:
            raise Refused(_("ticket numbers are positive: {number}").format(number=number))
        with write_transaction(self.db):
            site = self._farm(farm)
            unit = self._turbine(site, turbine) if turbine else None
            seq = self._bump()  # first: on PostgreSQL this serialises number allocation
            if number is None:
                number = max(Ticket.select(fn.MAX(Ticket.number)).scalar() or 0, FIRST_NUMBER - 1)
                number += 1
            elif Ticket.select().where(Ticket.number == number).exists():
                raise Refused(_("ticket {number} already exists").format(number=number))
            row = Ticket.create(
                number=number,
                farm=site,
                turbine=unit,
                category=kind.value,
                priority=level.value,
                fault_code=fault_code or None,
                title=title.strip(),
                description=description,
                reporter=reporter,
                contact=contact,
                channel=channel,
                state=TicketState.RECEIVED.value,
                version=1,
                change_seq=seq,
                received_at=at,
                turbine_stopped_at=at if turbine_stopped else None,
                created_at=now,
            )
            # The audit trail shows what was received, not only that something was: one row per
            # initial field (old = none), in the ticket's own transaction.
            received: dict[str, object] = {
                "farm": site.code,
                "turbine": f"{site.code}-{unit.position}" if unit is not None else None,
                "category": kind,
                "priority": level,
                "title": row.title,
                "received_at": at,
                "state": TicketState.RECEIVED,
                "turbine_stopped_at": at if turbine_stopped else None,
            }
            changes = {name: (None, new) for name, new in received.items() if new is not None}
            if turbine_stopped and unit is not None:
                Turbine.update(status="stopped").where(Turbine.id == unit.id).execute()
            self._log(row.id, seq, "create", changes, at, now, row.title)
        return self.ticket(number)

    @_active
    def act(
        self,
        number: int,
        action: Action | str,
        *,
        reason: str | None = None,
        evidence: str | None = None,
        technician: str | None = None,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> TicketSnapshot:
        """Perform a lifecycle action at ``at`` (default now).

        ``hold``: ``reason`` is the hold reason code, ``evidence`` required. ``cancel``/``reopen``:
        ``reason`` required. ``dispatch``: ``technician`` login required. ``resume``: ``reason``
        is an optional note.
        """
        action = _enum(Action, action, _("action"))
        self._gate(action, f"ticket {number}")
        now = self.clock()
        at = self._instant(at, now)
        hold_reason = None
        if action is Action.HOLD and reason:
            hold_reason = _enum(HoldReason, reason, _("hold reason"))
        with write_transaction(self.db):
            row = self._locked(number, expected_version, action)
            # The technician first: "nobody" or someone on leave is the real problem, whatever
            # the ticket's state.
            staff = self._technician(technician) if action is Action.DISPATCH else None
            before = self._snapshots(Ticket.id == row.id)[0].timeline  # read under the lock
            state = TicketState(row.state)
            after_state, after = lifecycle.apply(
                before,
                state,
                action,
                at,
                hold_reason=hold_reason,
                evidence=evidence or "",
                reason=None if action is Action.HOLD else reason,
                number=number,
            )
            changes: dict[str, tuple[object, object]] = {}
            if after_state is not state:
                changes["state"] = (state, after_state)
            changes.update(lifecycle.timeline_changes(before, after))
            fields: dict[str, object] = {name: new for name, (_old, new) in changes.items()}
            fields.pop("state", None)
            if after_state is not state:
                fields["state"] = after_state.value
            if staff is not None:
                changes["owner"] = (row.owner.login if row.owner_id else None, staff.login)
                fields["owner"] = staff.id
            note = self._update_holds(row, action, hold_reason, evidence, reason, at, changes)
            if action is Action.RESTORE and row.turbine_id:
                Turbine.update(status="running").where(Turbine.id == row.turbine_id).execute()
            # The quality records a step needs (report before submit, review rows, survey
            # before follow-up): checked and written in this same transaction.
            quality.before_step(self, row, action, at=at, reason=reason, changes=changes)
            self._commit(row, action.value, changes, fields, at, now, note)
            # A closing (or reopening) ticket freezes (or drops) its KPI outcome rows.
            outcomes.after_step(self, row.id, action, after_state, now=now)
        return self.ticket(number)

    @_active
    def reclassify(
        self,
        number: int,
        *,
        priority: Priority | str | None = None,
        category: Category | str | None = None,
        reason: str,
        expected_version: int | None = None,
    ) -> TicketSnapshot:
        """Change the ticket's priority and/or category, with a reason, effective now.

        Nothing but the classification changes: the SLA engine replans every clock from receipt
        on the next read (the version moves), and pauses come from the hold history, so paused
        time is kept. One event row per changed field (old → new) carries the reason as its note.
        """
        self._gate(access.RECLASSIFY, f"ticket {number}")
        level = _enum(Priority, priority, _("priority")) if priority is not None else None
        kind = _enum(Category, category, _("category")) if category is not None else None
        if level is None and kind is None:
            raise Refused(_("give a new priority or category"))
        note = (reason or "").strip()
        if not note:
            raise Refused(_("a priority or category change needs a reason"))
        now = self.clock()
        with write_transaction(self.db):
            row = self._locked(number, expected_version)
            old_level, old_kind = Priority(row.priority), Category(row.category)
            changes: dict[str, tuple[object, object]] = {}
            fields: dict[str, object] = {}
            if level is not None and level is not old_level:
                changes["priority"], fields["priority"] = (old_level, level), level.value
            if kind is not None and kind is not old_kind:
                changes["category"], fields["category"] = (old_kind, kind), kind.value
            lifecycle.check_reclassify(
                TicketState(row.state),
                kind if "category" in changes else None,
                visited=row.arrived_at is not None,
                number=number,
            )
            if not changes:
                raise Refused(
                    _(
                        "ticket {number} is already {priority} · {category}: nothing to change"
                    ).format(
                        number=number,
                        priority=old_level.value,
                        category=_(old_kind.label).lower(),
                    )
                )
            # Occurred = recorded = now: a reclassification is a decision taken now, never
            # back-dated (the recalculation itself is retroactive, from receipt).
            self._commit(row, "reclassify", changes, fields, now, now, note)
        return self.ticket(number)

    @_active
    def assign(
        self, number: int, technician: str, *, expected_version: int | None = None
    ) -> TicketSnapshot:
        """(Re)assign the ticket's technician without changing its state."""
        self._gate(access.ASSIGN, f"ticket {number}")
        now = self.clock()
        with write_transaction(self.db):
            row = self._locked(number, expected_version)
            staff = self._technician(technician)  # before the state: name the real problem
            state = TicketState(row.state)
            if state not in lifecycle.ASSIGNABLE_STATES:
                raise Refused(
                    _(
                        "ticket {number} is {state}: a technician can only be assigned when"
                        " {states}"
                    ).format(
                        number=number,
                        state=_(state.label).lower(),
                        states=", ".join(_(s.label).lower() for s in lifecycle.ASSIGNABLE_STATES),
                    )
                )
            if row.owner_id == staff.id:
                raise Refused(
                    _("ticket {number} is already assigned to {login}").format(
                        number=number, login=staff.login
                    )
                )
            old = row.owner.login if row.owner_id else None
            self._commit(
                row, "assign", {"owner": (old, staff.login)}, {"owner": staff.id}, now, now
            )
        return self.ticket(number)

    @_active
    def add_note(
        self, number: int, text: str, *, expected_version: int | None = None
    ) -> TicketSnapshot:
        """Add a free-text work note to the ticket's timeline (stored as typed)."""
        self._gate(access.NOTE, f"ticket {number}")
        body = (text or "").strip()
        if not body:
            raise Refused(_("a work note cannot be empty"))
        if len(body) > NOTE_LIMIT:
            raise Refused(
                _("a work note is at most {limit} characters ({count} given)").format(
                    limit=NOTE_LIMIT, count=len(body)
                )
            )
        now = self.clock()
        with write_transaction(self.db):
            row = self._locked(number, expected_version, access.NOTE)
            self._commit(row, "note", {"note": (None, body)}, {}, now, now)
        return self.ticket(number)

    # ------------------------------------------------------------------ internals: writes

    def _instant(self, at: datetime | None, now: datetime) -> datetime:
        """``at`` (default ``now``) as UTC; the future is refused."""
        if at is None:
            return now
        at = _utc(at, "at")
        if at > now:
            raise Refused(
                _("{at} is in the future (now is {now})").format(
                    at=at.isoformat(timespec="minutes"), now=now.isoformat(timespec="minutes")
                )
            )
        return at

    def _locked(
        self, number: int, expected_version: int | None, operation: str | Action | None = None
    ) -> Ticket:
        """The ticket row, locked for this transaction, after the crew check for ``operation``
        (before anything else: a technician learns nothing about other people's tickets) and
        the optimistic version check."""
        query = Ticket.select().where(Ticket.number == number)
        if not is_sqlite(self.db):
            query = query.for_update()  # SQLite's BEGIN IMMEDIATE already locks the database
        row = query.first()
        if operation is not None:
            self._check_crew(operation, row, number)
        if row is None:
            raise NotFound(_("ticket {number} not found").format(number=number))
        if expected_version is not None and expected_version != row.version:
            raise Conflict(self._conflict_message(row))
        return row

    def _conflict_message(self, row: Ticket) -> str:
        last = Event.select().where(Event.ticket == row.id).order_by(Event.seq.desc()).first()
        if last is None:
            return _("ticket {number} was changed by someone else — reload").format(
                number=row.number
            )
        tz = Farm.get_by_id(row.farm_id).timezone
        local = pendulum.instance(last.recorded_at).in_timezone(tz)
        today = pendulum.instance(self.clock()).in_timezone(tz).date()
        when = local.format("HH:mm" if local.date() == today else "YYYY-MM-DD HH:mm")
        return _("ticket {number} was changed by {actor} at {when} — reload").format(
            number=row.number, actor=last.actor, when=when
        )

    def _update_holds(
        self,
        row: Ticket,
        action: Action,
        hold_reason: HoldReason | None,
        evidence: str | None,
        reason: str | None,
        at: datetime,
        changes: dict[str, tuple[object, object]],
    ) -> str | None:
        """Write the hold rows for ``action``; adds the ``hold`` change; returns the event note."""
        if action is Action.HOLD:
            assert hold_reason is not None and evidence
            Hold.create(
                ticket=row,
                reason=hold_reason.value,
                evidence=evidence.strip(),
                started_at=at,
                actor=self.actor,
            )
            changes["hold"] = (None, hold_reason)
            return evidence.strip()
        if action not in (Action.RESUME, Action.CANCEL):
            return reason
        open_hold = Hold.get_or_none(Hold.ticket == row.id, Hold.ended_at.is_null())
        if open_hold is not None:
            Hold.update(ended_at=at, resume_note=reason).where(Hold.id == open_hold.id).execute()
            changes["hold"] = (open_hold.reason, None)
        return reason

    def _commit(
        self,
        row: Ticket,
        action: str,
        changes: dict[str, tuple[object, object]],
        fields: dict[str, object],
        at: datetime,
        now: datetime,
        note: str | None = None,
    ) -> None:
        """Bump the counter, update the ticket (version-guarded) and log the changes."""
        seq = self._bump()
        updated = (
            Ticket.update(**fields, version=row.version + 1, change_seq=seq)
            .where(Ticket.id == row.id, Ticket.version == row.version)
            .execute()
        )
        if updated != 1:  # cannot happen under the row lock; refuse rather than write blind
            raise Conflict(self._conflict_message(row))
        self._log(row.id, seq, action, changes, at, now, note)

    def _log(
        self,
        ticket_id: int | None,
        seq: int,
        action: str,
        changes: dict[str, tuple[object, object]],
        at: datetime,
        now: datetime,
        note: str | None,
    ) -> None:
        """Append one event row per changed field to the hash chain."""
        chain.append(
            self.db,
            [
                {
                    "ticket": ticket_id,
                    "change_seq": seq,
                    "actor": self.actor,
                    "action": action,
                    "field": name,
                    "old_value": _text(old),
                    "new_value": _text(new),
                    "note": note,
                    "occurred_at": at,
                    "recorded_at": now,
                }
                for name, (old, new) in changes.items()
            ],
        )

    def _bump(self) -> int:
        """Advance the global change counter (inside the caller's transaction)."""
        ChangeCounter.update(value=ChangeCounter.value + 1).where(ChangeCounter.id == 1).execute()
        return self._counter()

    def _counter(self) -> int:
        return int(ChangeCounter.select(ChangeCounter.value).where(ChangeCounter.id == 1).scalar())

    def _insert(
        self,
        model: type[Any],
        what: str,
        code: str,
        *,
        key: Any = None,
        check: Callable[[], None] | None = None,
        **values: Any,
    ) -> None:
        """Insert a reference row, refusing a duplicate code or what ``check`` raises.

        The counter is bumped first so that, on PostgreSQL, ``check`` runs after any concurrent
        write transaction has committed (they queue on the counter row); a refusal rolls it back.
        """
        column = key if key is not None else model.code
        with write_transaction(self.db):
            self._bump()
            if check is not None:
                check()
            if model.select().where(column == code).exists():
                raise Refused(_("{what} {code} already exists").format(what=_(what), code=code))
            model.create(**{column.name: code}, **values)

    # ------------------------------------------------------------------ internals: reads

    def _lookup(self, model: type[Any], where: Any, label: str, name: str) -> Any:
        row = model.get_or_none(where)
        if row is None:
            raise NotFound(_("{thing} not found").format(thing=label.format(name=name)))
        return row

    def _farm(self, code: str) -> Farm:
        return self._lookup(Farm, Farm.code == code, _("farm {name}"), code)

    def _turbine(self, farm: Farm, turbine: str) -> Turbine:
        """A turbine by id (``DBC-A07``) or by position within ``farm`` (``A07``)."""
        position = turbine.removeprefix(f"{farm.code}-")
        return self._lookup(
            Turbine,
            (Turbine.farm == farm.id) & (Turbine.position == position),
            _("turbine {name}"),
            f"{farm.code}-{position}",
        )

    def _technician(self, login: str | None) -> Staff:
        """The staff row of a technician who can be sent out: exists, technician, not on leave.

        Off shift is allowed: call-outs outside the shift happen.
        """
        if not login:
            raise Refused(_("dispatch needs a technician"))
        staff = self._lookup(Staff, Staff.login == login, _("technician {name}"), login)
        if Role.TECHNICIAN.value not in staff.role_list():
            raise Refused(_("{login} is not a technician").format(login=login))
        if staff.status == ON_LEAVE:
            name = staff.name_zh if current_language() == "zh_CN" else staff.name_en
            raise Refused(_("{name} ({login}) is on leave").format(name=name, login=login))
        return staff

    def _holds_of(self, ticket_id: int) -> list[Hold]:
        return list(
            Hold.select().where(Hold.ticket == ticket_id).order_by(Hold.started_at, Hold.id)
        )

    def _snapshots(self, *where: Any) -> list[TicketSnapshot]:
        """Snapshots of the tickets matching ``where`` (conditions on Ticket), by number.

        THE read path of every ticket read (``ticket``, ``tickets``, ``open_tickets``,
        ``changed_since``, and the write path's "before" timeline): one query for the tickets
        with their farm, contract, turbine and owner columns, one for their holds. Rows come back
        as plain tuples — no model instances — and instants are parsed by :func:`_aware`, which
        is what keeps 10,000 open tickets within a few hundred milliseconds.
        """
        tickets = (
            Ticket.select(*_SNAPSHOT_COLUMNS)
            .join(Farm)
            .join(Contract, JOIN.LEFT_OUTER)
            .switch(Ticket)
            .join(Turbine, JOIN.LEFT_OUTER)
            .switch(Ticket)
            .join(Staff, JOIN.LEFT_OUTER)
            .order_by(Ticket.number)
        )
        ids = Ticket.select(Ticket.id)
        if where:
            tickets = tickets.where(*where)
            ids = ids.where(*where)
        holds = (
            Hold.select(Hold.ticket, Hold.reason, Hold.started_at, Hold.ended_at, Hold.evidence)
            .where(Hold.ticket.in_(ids))
            .order_by(Hold.ticket, Hold.started_at, Hold.id)
        )
        spans: dict[int, list[HoldSpan]] = {}
        for ticket_id, reason, start, end, evidence in self.db.execute(holds):
            spans.setdefault(ticket_id, []).append(
                HoldSpan(_HOLD_REASONS[reason], _aware(start), _aware(end), evidence)
            )
        zh = current_language() == "zh_CN"
        return [_snapshot(row, spans.get(row[0], ()), zh) for row in self.db.execute(tickets)]


#: The snapshot query's columns; :func:`_snapshot` unpacks them in exactly this order (spelled
#: out, not derived, so the two read side by side). Raw cursor rows, so no peewee converters
#: run: instants arrive as text (SQLite) or naive datetimes (PostgreSQL).
_SNAPSHOT_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.version,
    Ticket.change_seq,
    Ticket.category,
    Ticket.priority,
    Ticket.state,
    Ticket.title,
    Ticket.fault_code,
    Farm.code,
    Farm.timezone,
    Farm.calendar,
    Contract.code,
    Contract.sla_key,
    Turbine.position,
    Staff.login,
    Staff.name_zh,
    Staff.name_en,
    Ticket.received_at,
    Ticket.acknowledged_at,
    Ticket.feedback_at,
    Ticket.dispatched_at,
    Ticket.departed_at,
    Ticket.arrived_at,
    Ticket.resolved_at,
    Ticket.report_at,
    Ticket.report_returned_at,
    Ticket.reviewed_at,
    Ticket.followup_at,
    Ticket.closed_at,
    Ticket.cancelled_at,
    Ticket.reopened_at,
    Ticket.turbine_stopped_at,
    Ticket.turbine_restored_at,
)
# Enum lookups by value: a dict hit is several times cheaper than ``Enum(value)``.
_CATEGORIES = {m.value: m for m in Category}
_PRIORITIES = {m.value: m for m in Priority}
_STATES = {m.value: m for m in TicketState}
_HOLD_REASONS = {m.value: m for m in HoldReason}


def _aware(value: str | datetime | None) -> datetime | None:
    """A stored naive-UTC instant (text on SQLite, ``datetime`` on PostgreSQL) as aware UTC.

    The same result as :class:`~windtui.store.models.UtcDateTimeField`, without peewee's
    per-column machinery (and never pendulum: this runs 16 times per ticket). Appending the
    offset to the text is ~5x faster than ``fromisoformat(...).replace(tzinfo=UTC)`` and yields
    the very same ``UTC`` tzinfo object.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=UTC)


def _snapshot(row: tuple[Any, ...], holds: Sequence[HoldSpan], zh: bool) -> TicketSnapshot:
    """One row of the snapshot query (see ``_SNAPSHOT_COLUMNS``) and its holds as a snapshot.

    Explicit keywords below, not ``**dict``: building a 15-key dict per ticket would cost about
    a third of the whole read at 10,000 tickets.
    """
    (
        ticket_id,
        number,
        version,
        change_seq,
        category,
        priority,
        state,
        title,
        fault_code,
        farm,
        farm_tz,
        farm_calendar,
        contract_code,
        sla_key,
        position,
        login,
        name_zh,
        name_en,
        received_at,
        acknowledged_at,
        feedback_at,
        dispatched_at,
        departed_at,
        arrived_at,
        resolved_at,
        report_at,
        report_returned_at,
        reviewed_at,
        followup_at,
        closed_at,
        cancelled_at,
        reopened_at,
        turbine_stopped_at,
        turbine_restored_at,
    ) = row
    kind = _CATEGORIES[category]
    level = _PRIORITIES[priority]
    timeline = Timeline(
        category=kind,
        priority=level,
        received_at=_aware(received_at),
        contract=(sla_key or contract_code) if contract_code is not None else None,
        acknowledged_at=_aware(acknowledged_at),
        feedback_at=_aware(feedback_at),
        dispatched_at=_aware(dispatched_at),
        departed_at=_aware(departed_at),
        arrived_at=_aware(arrived_at),
        resolved_at=_aware(resolved_at),
        report_at=_aware(report_at),
        report_returned_at=_aware(report_returned_at),
        reviewed_at=_aware(reviewed_at),
        followup_at=_aware(followup_at),
        closed_at=_aware(closed_at),
        cancelled_at=_aware(cancelled_at),
        reopened_at=_aware(reopened_at),
        holds=tuple(holds),
        turbine_stopped_at=_aware(turbine_stopped_at),
        turbine_restored_at=_aware(turbine_restored_at),
    )
    open_hold = next((h for h in holds if h.end is None), None)
    return TicketSnapshot(
        id=ticket_id,
        number=number,
        version=version,
        farm=farm,
        farm_timezone=farm_tz,
        farm_calendar=farm_calendar,
        turbine=f"{farm}-{position}" if position is not None else None,
        category=kind,
        priority=level,
        state=_STATES[state],
        title=title,
        owner=login,
        owner_name=(name_zh if zh else name_en) if login is not None else None,
        fault_code=fault_code,
        hold=open_hold.reason if open_hold is not None else None,
        timeline=timeline,
        change_seq=change_seq,
    )


def _shipped_policy() -> tuple[str, str, str]:
    """The shipped policy file as (source name, text, digest); read again only when it changes."""
    path = default_policy_path()
    try:
        stamp = path.stat()
    except OSError:
        return _read_policy(path, 0, 0)  # _read raises the one-line error
    return _read_policy(path, stamp.st_mtime_ns, stamp.st_size)


@functools.lru_cache(maxsize=4)
def _read_policy(path: Path, mtime_ns: int, size: int) -> tuple[str, str, str]:
    """``path``'s text and digest; ``mtime_ns`` and ``size`` only key the cache."""
    text = _read(path)
    return str(path), text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WindtuiError(
            _("cannot read policy file {path}: {why}").format(path=path, why=exc)
        ) from exc


def _certificate_warning(certificates: str, today: date) -> bool:
    """True when a certificate has expired or expires within ``CERT_WARNING_DAYS``."""
    try:
        expiries = json.loads(certificates or "{}")
    except ValueError:
        return False
    limit = today + timedelta(days=CERT_WARNING_DAYS)
    return any(date.fromisoformat(v) <= limit for v in expiries.values() if v)


def _connect(db: Database) -> None:
    """Connect, waiting out a brand-new SQLite file being switched to WAL by another process.

    ``PRAGMA journal_mode=wal`` on connect needs a moment of exclusive access that SQLite's
    busy handler does not wait for; several consoles starting at once on a new file would
    otherwise fail with "database is locked". Waits at most the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            db.connect(reuse_if_open=True)
            return
        except peewee.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            if not db.is_closed():
                db.close()
            time.sleep(0.05)


def _checked_login(value: str, what: str) -> str:
    """A login as typed, refused when empty or holding anything but letters, digits, ``_.@-``."""
    login = (value or "").strip()
    if not _LOGIN.fullmatch(login):
        raise Refused(
            _("{what} '{value}' is not valid: use letters, digits, _ . @ - (at most 64)").format(
                what=what, value=value
            )
        )
    return login


def _checked_roles(values: Iterable[str]) -> tuple[str, ...]:
    """Role values in enum order, refusing an unknown one and an empty list."""
    given = [str(v).strip() for v in values if str(v).strip()]
    for role in given:
        _enum(Role, role, _("role"))
    if not given:
        raise Refused(
            _("give at least one role: {choices}").format(choices=", ".join(r.value for r in Role))
        )
    return tuple(r.value for r in Role if r.value in given)


def _staff_record(person: Staff, os_logins: Iterable[str]) -> StaffRecord:
    return StaffRecord(
        login=person.login,
        name_zh=person.name_zh,
        name_en=person.name_en,
        roles=person.role_list(),
        os_logins=tuple(sorted(os_logins)),
        active=bool(person.active),
        base=person.base,
        status=person.status,
        phone=person.phone,
    )


def _site(farm: Farm, turbine: Turbine | None) -> SiteRecord:
    """What a crew needs to know about where the job is."""
    return SiteRecord(
        farm=farm.code,
        farm_name_zh=farm.name_zh,
        farm_name_en=farm.name_en,
        province=farm.province,
        province_en=farm.province_en,
        offshore=bool(farm.offshore),
        latitude=farm.latitude,
        longitude=farm.longitude,
        depot=farm.depot,
        duty_contact=farm.duty_contact,
        phone=farm.phone,
        access_notes=farm.access_notes,
        turbine=f"{farm.code}-{turbine.position}" if turbine is not None else None,
        model=turbine.model if turbine is not None else None,
        rated_kw=turbine.rated_kw if turbine is not None else None,
        hub_height=turbine.hub_height if turbine is not None else None,
        line=turbine.line if turbine is not None else None,
        turbine_status=turbine.status if turbine is not None else None,
    )
