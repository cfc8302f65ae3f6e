"""Who may do what: the policy's separation of duties as one table.

The services ask :func:`permits` before anything else in every write (and every read of a single
ticket); the console asks the same question to hide or grey what a role cannot do. Pure data, no
database: a role check is a set lookup.

* dispatcher — all ticket work but the QA review (approve / return for rework);
* technician — only tickets they are crew on: depart, arrive, hold/resume with evidence,
  resolve, restore the turbine, work notes, their repair report;
* qa — review (approve / return), satisfaction follow-up, notes, KPIs and reports;
* supervisor — reads everything, reassigns, reclassifies, cancels, notes;
* admin — staff, roles, logins, policy load, schema init;
* viewer — reads everything, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from windtui.domain.model import Action, Role

#: Operations that are not lifecycle actions.
CREATE = "create"
ASSIGN = "assign"
RECLASSIFY = "reclassify"
NOTE = "note"
STAFF = "staff"
POLICY = "policy"
INIT = "init"
READ = "read"
REFERENCE = "reference"  # customers, contracts, farms, turbines
AUDIT = "audit"  # verify the event chain, read refusals
REPORT = "report"  # write the repair report behind "submit"
SURVEY = "survey"  # record the satisfaction follow-up
IMPROVEMENT = "improvement"  # analysis items and improvement actions
SUGGESTION = "suggestion"  # the customer suggestions register
KPI = "kpi"  # read KPIs and their drill-down
SCORECARD = "scorecard"  # read the team and technician scorecards
AUDIT_REPORT = "audit_report"  # the quarterly audit report

D, T, Q, S, A, V = (
    Role.DISPATCHER,
    Role.TECHNICIAN,
    Role.QA,
    Role.SUPERVISOR,
    Role.ADMIN,
    Role.VIEWER,
)

#: operation -> the roles that may perform it (on any ticket).
_ANY_TICKET: dict[str, frozenset[Role]] = {
    CREATE: frozenset({D}),
    Action.ACK.value: frozenset({D}),
    Action.FEEDBACK.value: frozenset({D}),
    Action.DISPATCH.value: frozenset({D}),
    Action.DEPART.value: frozenset({D}),
    Action.ARRIVE.value: frozenset({D}),
    Action.RESOLVE.value: frozenset({D}),
    Action.SUBMIT.value: frozenset({D}),
    Action.APPROVE.value: frozenset({Q}),
    Action.RETURN.value: frozenset({Q}),
    Action.FOLLOWUP.value: frozenset({D, Q}),
    Action.CLOSE.value: frozenset({D}),
    Action.HOLD.value: frozenset({D}),
    Action.RESUME.value: frozenset({D}),
    Action.CANCEL.value: frozenset({D, S}),
    Action.REOPEN.value: frozenset({D}),
    Action.RESTORE.value: frozenset({D}),
    ASSIGN: frozenset({D, S}),
    RECLASSIFY: frozenset({D, S}),
    NOTE: frozenset({D, Q, S}),
    STAFF: frozenset({A}),
    POLICY: frozenset({A}),
    INIT: frozenset({A}),
    REFERENCE: frozenset({A}),
    AUDIT: frozenset({Q, S, A}),
    REPORT: frozenset({D}),
    SURVEY: frozenset({D, Q}),
    IMPROVEMENT: frozenset({Q, S}),
    SUGGESTION: frozenset({D, Q, S}),
    KPI: frozenset({D, Q, S, A, V}),
    SCORECARD: frozenset({Q, S, A}),
    AUDIT_REPORT: frozenset({Q, S, A}),
    READ: frozenset({D, Q, S, A, V}),
}

#: What a technician may do on a ticket they are crew on (and only there).
CREW_OPERATIONS: frozenset[str] = frozenset(
    {
        Action.DEPART.value,
        Action.ARRIVE.value,
        Action.HOLD.value,
        Action.RESUME.value,
        Action.RESOLVE.value,
        Action.RESTORE.value,
        Action.SUBMIT.value,
        NOTE,
        REPORT,
        READ,
    }
)

#: How each non-lifecycle operation is named in a refusal (lifecycle actions use their label).
OPERATION_LABELS: dict[str, str] = {
    CREATE: "Creating a ticket",
    ASSIGN: "Assigning a technician",
    RECLASSIFY: "Changing priority or category",
    NOTE: "Adding a work note",
    STAFF: "Managing staff",
    POLICY: "Loading a policy",
    INIT: "Setting up the database",
    READ: "Reading tickets",
    REFERENCE: "Changing customers, contracts, farms or turbines",
    AUDIT: "Checking the audit log",
    REPORT: "Writing the repair report",
    SURVEY: "Recording the satisfaction follow-up",
    IMPROVEMENT: "Managing improvement actions",
    SUGGESTION: "Registering customer suggestions",
    KPI: "Reading KPIs",
    SCORECARD: "Reading scorecards",
    AUDIT_REPORT: "Producing the quarterly audit report",
}

#: Operations that change nothing (a viewer may do exactly these).
READ_ONLY_OPERATIONS: frozenset[str] = frozenset({READ, KPI})

#: Every operation the table knows (lifecycle actions by their value).
OPERATIONS: frozenset[str] = frozenset(_ANY_TICKET)


def _known(operation: str) -> str:
    if operation not in _ANY_TICKET:
        raise KeyError(f"unknown operation {operation!r}")
    return operation


def permits(roles: Iterable[Role], operation: str | Action, *, crew: bool = False) -> bool:
    """True when someone holding ``roles`` may perform ``operation``.

    ``crew`` says the person is crew on the ticket concerned: it widens a technician's rights to
    :data:`CREW_OPERATIONS` on that ticket only.
    """
    op = _known(str(operation.value if isinstance(operation, Action) else operation))
    held = frozenset(roles)
    if held & _ANY_TICKET[op]:
        return True
    return crew and Role.TECHNICIAN in held and op in CREW_OPERATIONS


def needed_roles(operation: str | Action) -> tuple[Role, ...]:
    """The roles that may perform ``operation`` (technician when crew may), in enum order."""
    op = _known(str(operation.value if isinstance(operation, Action) else operation))
    allowed = set(_ANY_TICKET[op])
    if op in CREW_OPERATIONS:
        allowed.add(Role.TECHNICIAN)
    return tuple(r for r in Role if r in allowed)


def operation_label(operation: str | Action) -> str:
    """The English msgid naming ``operation`` in messages (translate it with ``_``)."""
    op = str(operation.value if isinstance(operation, Action) else operation)
    if op in OPERATION_LABELS:
        return OPERATION_LABELS[op]
    return Action(op).label


def reads_everything(roles: Iterable[Role]) -> bool:
    """True when ``roles`` may read every ticket; otherwise only the tickets one is crew on."""
    return bool(frozenset(roles) & _ANY_TICKET[READ])


def crew_only(roles: Iterable[Role]) -> bool:
    """True for a technician who holds no role that reads every ticket (the "my jobs" desk)."""
    held = frozenset(roles)
    return Role.TECHNICIAN in held and not reads_everything(held)
