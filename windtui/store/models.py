"""Peewee models. Only ``windtui.services`` and ``windtui.store`` import them.

Every instant column is a :class:`UtcDateTimeField`: naive UTC in the database, aware UTC in
Python. Enum-valued columns hold the enum's ``value`` (e.g. ``"on_site"``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DoubleField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from windtui.store.db import database_proxy

_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class UtcDateTimeField(DateTimeField):
    """An aware UTC ``datetime`` stored as naive UTC text/timestamp.

    The fixed-width text (always with microseconds) sorts correctly in SQLite; PostgreSQL casts
    it to ``TIMESTAMP``. Naive input is refused, so local times cannot slip in.
    """

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime for {self.name}: {value!r}")
        return value.astimezone(UTC).strftime(_FORMAT)

    def python_value(self, value: object) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaMeta(BaseModel):
    """Key/value facts about the schema (``schema_version``)."""

    key = CharField(primary_key=True)
    value = TextField()


class ChangeCounter(BaseModel):
    """One row: bumped by every write transaction, stamped on the tickets it touched."""

    id = IntegerField(primary_key=True)
    value = BigIntegerField(default=0)


class Customer(BaseModel):
    code = CharField(unique=True)
    name_zh = CharField()
    name_en = CharField()


class Contract(BaseModel):
    customer = ForeignKeyField(Customer, backref="contracts")
    code = CharField(unique=True)
    name = CharField()
    name_en = CharField(default="")
    kind = CharField(default="service")  # warranty or service
    starts = DateField(null=True)
    ends = DateField(null=True)
    sla_key = CharField(null=True)  # the policy file's contract override key (None: the code)


class Farm(BaseModel):
    code = CharField(unique=True)
    name_zh = CharField()
    name_en = CharField()
    province = CharField()
    province_en = CharField(default="")
    latitude = FloatField()
    longitude = FloatField()
    timezone = CharField(default="Asia/Shanghai")
    offshore = BooleanField(default=False)
    calendar = CharField(default="24x7")
    contract = ForeignKeyField(Contract, null=True, backref="farms")
    depot = CharField(default="")  # the service depot that covers the farm
    duty_contact = CharField(default="")
    phone = CharField(default="")
    limits = TextField(default="{}")  # JSON: weather work limits, quoted as hold evidence
    access_notes = TextField(default="")  # how a crew gets in: gate, road, keys, vessel berth


class Turbine(BaseModel):
    farm = ForeignKeyField(Farm, backref="turbines")
    position = CharField()
    model = CharField()
    rated_kw = IntegerField()
    hub_height = FloatField(null=True)
    commissioned = DateField()
    warranty_end = DateField(null=True)
    status = CharField(default="running")
    line = CharField(default="")  # collector line

    class Meta:
        indexes = ((("farm", "position"), True),)


class Staff(BaseModel):
    login = CharField(unique=True)
    name_zh = CharField()
    name_en = CharField()
    roles = CharField(default="")  # comma list of Role values
    base = CharField(default="")
    skills = CharField(default="")  # comma list
    status = CharField(default="available")  # available, off_shift, on_leave
    level = CharField(default="")
    shift = CharField(default="")
    phone = CharField(default="")
    certificates = TextField(default="{}")  # JSON: {"gwo_bst": "2026-05-01", ...}
    active = BooleanField(default=True)  # a disabled person can no longer open the desk

    def role_list(self) -> tuple[str, ...]:
        """The roles as a tuple."""
        return split_list(self.roles)


class StaffLogin(BaseModel):
    """An operating-system login that identifies a staff member (several may map to one)."""

    os_login = CharField(unique=True)
    staff = ForeignKeyField(Staff, backref="logins", on_delete="CASCADE")

    class Meta:
        table_name = "staff_os_login"  # "staff_login" is the name of Staff.login's index


def split_list(text: str | None) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


class Ticket(BaseModel):
    number = IntegerField(unique=True)
    farm = ForeignKeyField(Farm, backref="tickets")
    turbine = ForeignKeyField(Turbine, null=True, backref="tickets")
    category = CharField()
    priority = CharField()
    fault_code = CharField(null=True)
    title = CharField()
    description = TextField(default="")
    reporter = CharField(null=True)
    contact = CharField(null=True)
    channel = CharField(null=True)
    state = CharField(index=True)
    owner = ForeignKeyField(Staff, null=True, backref="tickets")
    version = IntegerField(default=1)
    change_seq = BigIntegerField(index=True, default=0)
    received_at = UtcDateTimeField()
    acknowledged_at = UtcDateTimeField(null=True)
    feedback_at = UtcDateTimeField(null=True)
    dispatched_at = UtcDateTimeField(null=True)
    departed_at = UtcDateTimeField(null=True)
    arrived_at = UtcDateTimeField(null=True)
    resolved_at = UtcDateTimeField(null=True)
    report_at = UtcDateTimeField(null=True)
    report_returned_at = UtcDateTimeField(null=True)
    reviewed_at = UtcDateTimeField(null=True)
    followup_at = UtcDateTimeField(null=True)
    closed_at = UtcDateTimeField(null=True)
    cancelled_at = UtcDateTimeField(null=True)
    reopened_at = UtcDateTimeField(null=True)
    turbine_stopped_at = UtcDateTimeField(null=True)
    turbine_restored_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField()  # when the row was written (received_at may be earlier)


class Hold(BaseModel):
    ticket = ForeignKeyField(Ticket, backref="holds")
    reason = CharField()
    evidence = TextField()
    started_at = UtcDateTimeField()
    ended_at = UtcDateTimeField(null=True)
    resume_note = TextField(null=True)
    actor = CharField()


class Event(BaseModel):
    """Append-only audit log: one row per changed field (triggers refuse UPDATE/DELETE).

    Hash-chained: ``chain_seq`` numbers the events without gaps, ``hash`` covers the event's
    content and ``prev_hash`` (the previous event's hash), so an edited, deleted or inserted row
    breaks the chain (``windtui.services.audit``).
    """

    seq = AutoField()
    ticket = ForeignKeyField(Ticket, null=True, backref="events")
    change_seq = BigIntegerField(default=0)  # the change counter of the writing transaction
    actor = CharField()
    action = CharField()
    field = CharField(null=True)
    old_value = TextField(null=True)
    new_value = TextField(null=True)
    note = TextField(null=True)
    occurred_at = UtcDateTimeField()  # when it happened (``at``)
    recorded_at = UtcDateTimeField()  # when it was written
    chain_seq = BigIntegerField(unique=True, null=True)  # 1, 2, 3, … in append order
    prev_hash = CharField(max_length=64, null=True)
    hash = CharField(max_length=64, unique=True, null=True)

    class Meta:
        indexes = ((("ticket", "occurred_at"), False),)


class Refusal(BaseModel):
    """A refused attempt (who tried what, which role it needs): append-only, outside the chain.

    Kept apart from :class:`Event` so the chain only ever holds what happened; a refusal is
    written in its own short transaction after the refused one rolled back.
    """

    actor = CharField()  # the staff login (or the unknown login that tried)
    os_login = CharField()
    operation = CharField()
    target = CharField(default="")  # "ticket 1042", "staff lizq", "policy"
    needed = CharField(default="")  # comma list of roles that may do it
    message = TextField(default="")
    at = UtcDateTimeField()


# ---------------------------------------------------------------------------- quality (§三(3), 四)


class RepairReport(BaseModel):
    """The technician's repair report behind ``submit``: one row per ticket, revised on rework
    (``revision`` counts submissions; the event log keeps what each one said)."""

    ticket = ForeignKeyField(Ticket, unique=True, backref="report", on_delete="CASCADE")
    diagnosis = TextField(default="")
    work_done = TextField(default="")
    root_cause = TextField(default="")
    fault_code_confirmed = CharField(null=True)
    fixed = BooleanField(null=True)  # the fault is gone (the fix rate)
    first_time_fix = BooleanField(null=True)  # fixed on the first visit (kept apart)
    attachments = TextField(default="[]")  # JSON list of file references (paths/URLs as typed)
    author = CharField(default="")  # staff login
    revision = IntegerField(default=0)  # 0: draft never submitted
    submitted_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField()


class ReportPart(BaseModel):
    """A part used in a repair."""

    report = ForeignKeyField(RepairReport, backref="parts", on_delete="CASCADE")
    position = IntegerField(default=0)
    part_number = CharField()
    description = CharField(default="")
    quantity = FloatField(default=1)


class ReportHours(BaseModel):
    """Work hours of one crew member on the repair."""

    report = ForeignKeyField(RepairReport, backref="hours", on_delete="CASCADE")
    staff = ForeignKeyField(Staff, backref="report_hours")
    hours = FloatField()


class Review(BaseModel):
    """A QA review of a submitted report: approved, or returned for rework with a reason."""

    ticket = ForeignKeyField(Ticket, backref="reviews", on_delete="CASCADE")
    revision = IntegerField()  # the report revision reviewed
    outcome = CharField()  # approved | returned
    reason = TextField(default="")
    reviewer = CharField()
    reviewed_at = UtcDateTimeField()


class Survey(BaseModel):
    """The customer satisfaction follow-up of a ticket (one per ticket)."""

    ticket = ForeignKeyField(Ticket, unique=True, backref="survey", on_delete="CASCADE")
    score = IntegerField()  # 1..5
    comments = TextField(default="")
    caller = CharField()  # staff login who called / visited
    contacted_at = UtcDateTimeField()
    channel = CharField()  # phone | site_visit | message
    recorded_at = UtcDateTimeField()


class Improvement(BaseModel):
    """An analysis item (opened by a low survey score) or an improvement action (e.g. training,
    spare-parts management, faster response), with an owner, a due date and a status."""

    kind = CharField()  # analysis | action
    title = TextField()
    category = CharField(default="other")  # training, spare_parts, response, process, other
    ticket = ForeignKeyField(Ticket, null=True, backref="improvements")
    survey = ForeignKeyField(Survey, null=True, backref="improvements")
    parent = ForeignKeyField("self", null=True, backref="actions")  # action of an analysis
    owner = ForeignKeyField(Staff, null=True, backref="improvements")
    due = DateField(null=True)
    status = CharField(default="open")  # open | in_progress | done | cancelled
    notes = TextField(default="")
    created_at = UtcDateTimeField()
    closed_at = UtcDateTimeField(null=True)


class Suggestion(BaseModel):
    """A customer suggestion and whether it was adopted (policy: 50+ a year, 80 % adopted)."""

    customer = ForeignKeyField(Customer, null=True, backref="suggestions")
    farm = ForeignKeyField(Farm, null=True, backref="suggestions")
    ticket = ForeignKeyField(Ticket, null=True, backref="suggestions")
    source = CharField()  # survey, site_visit, phone, email, meeting
    received_on = DateField()
    text = TextField()
    status = CharField(default="new")  # new | evaluating | adopted | rejected
    decided_on = DateField(null=True)
    decided_by = CharField(null=True)
    created_at = UtcDateTimeField()


class TicketOutcome(BaseModel):
    """A closed ticket's facts, frozen when it closes (rewritten if it is reopened and closed
    again): the KPI queries aggregate these rows with SQL, never walk timelines.

    Durations and instants are ``DoubleField`` (PostgreSQL ``DOUBLE PRECISION``): peewee's
    ``FloatField`` is ``REAL`` there, a 4-byte float that rounds an epoch second to ~2 minutes.
    The filter columns carry no index of their own (``index=False``): the KPI queries read a
    period's range of ``closed_at`` and filter inside it; a per-farm index would tempt the planner
    into reading a farm's whole history instead.
    """

    ticket = ForeignKeyField(Ticket, unique=True, backref="outcome", on_delete="CASCADE")
    received_at = UtcDateTimeField(index=True)
    closed_at = UtcDateTimeField(index=True)
    farm = ForeignKeyField(Farm, index=False)
    customer = ForeignKeyField(Customer, null=True, index=False)
    technician = ForeignKeyField(Staff, null=True, index=False)  # the owner when it closed
    team = CharField(default="")  # the technician's base (depot)
    category = CharField()
    priority = CharField()
    cancelled = BooleanField(default=False)
    reopened = BooleanField(default=False)
    fixed = BooleanField(null=True)
    first_time_fix = BooleanField(null=True)
    repair_seconds = DoubleField(null=True)  # arrive -> resolve, business time of the repair clock
    weather_hold_seconds = DoubleField(default=0)
    hold_seconds = DoubleField(default=0)
    downtime_seconds = DoubleField(null=True)
    survey_score = IntegerField(null=True)
    # The turbine downtime interval as epoch seconds (portable interval arithmetic in SQL, for
    # availability clipped to a period); down_end None: not restored yet (a later ``restore``
    # rewrites the row). Only for tickets on a turbine.
    turbine = ForeignKeyField(Turbine, null=True, index=False)
    down_start = DoubleField(null=True)
    down_end = DoubleField(null=True)
    policy_digest = CharField(default="")  # the policy the clocks were judged under

    class Meta:
        indexes = (
            (("closed_at", "farm"), False),
            (("closed_at", "technician"), False),
            # availability: downtimes overlapping a period, index-only
            (("down_end", "down_start", "farm", "category"), False),
        )


class ClockOutcome(BaseModel):
    """One SLA clock of a closed ticket: met or breached, elapsed business time (paused time
    excluded), its target. Denormalised period/filter columns keep the KPI aggregate one scan
    of an index range: the second index holds every column a KPI reads, so the aggregates never
    touch the table, filtered or not (``(target, state, stopped)`` first: a GROUP BY on them
    streams in index order, one range of ``closed_at`` per group)."""

    ticket = ForeignKeyField(
        Ticket, backref="clock_outcomes", on_delete="CASCADE", index=False
    )  # the unique (ticket, target) index serves lookups by ticket
    target = CharField()  # Target value
    state = CharField()  # met | breached | not_applicable
    elapsed_seconds = DoubleField(null=True)
    target_seconds = DoubleField()
    paused_seconds = DoubleField(default=0)
    # The clock's stop milestone happened (False: a cancelled ticket's clock frozen while it
    # ran; it counts for compliance when already overdue, never for response times).
    stopped = BooleanField(default=True)
    closed_at = UtcDateTimeField()
    farm = ForeignKeyField(Farm, index=False)
    customer = ForeignKeyField(Customer, null=True, index=False)
    technician = ForeignKeyField(Staff, null=True, index=False)
    team = CharField(default="")
    category = CharField()
    priority = CharField()

    class Meta:
        indexes = (
            (("ticket", "target"), True),
            # the KPI scan of one period (see the docstring)
            (
                (
                    "target",
                    "state",
                    "stopped",
                    "closed_at",
                    "elapsed_seconds",
                    "target_seconds",
                    "farm",
                    "customer",
                    "technician",
                    "team",
                    "category",
                    "priority",
                ),
                False,
            ),
        )


class PolicyDoc(BaseModel):
    """A loaded SLA policy file; the newest row is in force."""

    name = CharField()
    text = TextField()
    digest = CharField()
    loaded_at = UtcDateTimeField()
    actor = CharField(default="")


MODELS: tuple[type[BaseModel], ...] = (
    SchemaMeta,
    ChangeCounter,
    Customer,
    Contract,
    Farm,
    Turbine,
    Staff,
    StaffLogin,
    Ticket,
    Hold,
    Event,
    Refusal,
    PolicyDoc,
    RepairReport,
    ReportPart,
    ReportHours,
    Review,
    Survey,
    Improvement,
    Suggestion,
    TicketOutcome,
    ClockOutcome,
)

#: The tables schema 3 added (the upgrade creates them).
QUALITY_MODELS: tuple[type[BaseModel], ...] = (
    RepairReport,
    ReportPart,
    ReportHours,
    Review,
    Survey,
    Improvement,
    Suggestion,
    TicketOutcome,
    ClockOutcome,
)
