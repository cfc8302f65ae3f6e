"""Repair reports, QA reviews, satisfaction surveys, improvement actions and suggestions
(policy §三(2)(3) and §四).

Service functions taking a :class:`~windtui.services.desk.Desk`, like ``windtui.services.audit``.
Every write checks the caller's role first (``desk._gate``), validates its input before it opens a
transaction, runs in one transaction with its audit events, and checks the ticket's version where
the ticket changes (a report or a survey moves the ticket's version, so two people editing the
same report see a conflict instead of overwriting each other). Bad input raises one line naming
the wrong thing (:class:`~windtui.errors.Refused`, or :class:`~windtui.errors.NotFound` for an
unknown ticket, person, farm, customer or item) and writes nothing.

Inputs are plain dataclasses (``ReportInput``, ``ImprovementInput``, ``SuggestionInput``) and
outputs plain records, both in :mod:`windtui.services.records`, so a console form calls these
functions the way the CLI does.

:func:`before_step` is called by ``Desk.act`` inside the action's transaction:

* ``submit`` needs a report holding every required field (:func:`missing_fields`); it counts a
  new revision and stamps ``submitted_at``;
* ``approve`` and ``return`` write a :class:`~windtui.store.models.Review` of the submitted
  revision; ``return`` needs a reason (what must be fixed);
* ``followup`` needs the satisfaction survey of this service (contacted after the resolution).

Consulting and data-analysis tickets have no site visit: their report needs a diagnosis (the
question or finding), the work done (the answer or analysis) and the fixed / first-time-fix
answers (was the customer's problem solved, at the first answer), but no root cause and no work
hours lines (both may still be given). Parts are never required: most repairs use none.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pendulum
from peewee import JOIN, fn

from windtui.domain import roles as access
from windtui.domain.model import Action, Category, TicketState
from windtui.errors import Forbidden, NotFound, Refused
from windtui.i18n import _
from windtui.services.records import (
    AdoptionRate,
    ImprovementInput,
    ImprovementRecord,
    RepairReportRecord,
    ReportHoursInput,
    ReportHoursRecord,
    ReportInput,
    ReportPartInput,
    ReportPartRecord,
    ReviewRecord,
    SuggestionInput,
    SuggestionRecord,
    SurveyRecord,
    TicketQuality,
)
from windtui.store.db import write_transaction
from windtui.store.models import (
    Contract,
    Customer,
    Farm,
    Improvement,
    RepairReport,
    ReportHours,
    ReportPart,
    Review,
    Staff,
    Suggestion,
    Survey,
    Ticket,
)

if TYPE_CHECKING:
    from windtui.services.desk import Desk

P = ParamSpec("P")
R = TypeVar("R")

#: The desk's own timezone: "today" for due dates, overdue items and suggestion dates.
DESK_TZ = "Asia/Shanghai"
#: Longest diagnosis, work done, root cause, comments, notes or suggestion text.
TEXT_LIMIT = 8000
#: Longest part number, fault code, title, description of a part.
SHORT_LIMIT = 200
#: Longest attachment reference (a path or URL as typed).
REFERENCE_LIMIT = 1000
#: Most lines of parts, of hours, of attachments in one report.
LINE_LIMIT = 200
#: Work hours are at most this many per person per day of the job (receipt to resolution).
HOURS_PER_DAY = 24.0
#: Survey scores run from 1 (very dissatisfied) to 5 (very satisfied).
SCORE_RANGE = (1, 5)
#: A score at or below this opens an analysis item: 1 and 2 are the two dissatisfied answers of
#: the five-point scale (3 is neutral); the policy (§三(3)) asks for the dissatisfied part to be
#: analysed.
LOW_SCORE = 2
#: An analysis item opened by a low score is due this many days after the survey.
ANALYSIS_DUE_DAYS = 14

SURVEY_CHANNELS = ("phone", "site_visit", "message")
IMPROVEMENT_KINDS = ("action", "analysis")
IMPROVEMENT_CATEGORIES = ("training", "spare_parts", "response", "process", "other")
IMPROVEMENT_STATUSES = ("open", "in_progress", "done", "cancelled")
SUGGESTION_SOURCES = ("survey", "site_visit", "phone", "email", "meeting")
SUGGESTION_STATUSES = ("new", "evaluating", "adopted", "rejected")
REVIEW_OUTCOMES = ("approved", "returned")

#: Where each status may go next (closed ones go nowhere).
_IMPROVEMENT_NEXT = {
    "open": ("in_progress", "done", "cancelled"),
    "in_progress": ("done", "cancelled"),
    "done": (),
    "cancelled": (),
}
_SUGGESTION_NEXT = {
    "new": ("evaluating", "adopted", "rejected"),
    "evaluating": ("adopted", "rejected"),
    "adopted": (),
    "rejected": (),
}
_OPEN_IMPROVEMENT = ("open", "in_progress")
_DECIDED = ("adopted", "rejected")

#: The report's fields, in the order forms and files show them.
REPORT_FIELDS = (
    "diagnosis",
    "work_done",
    "root_cause",
    "fault_code_confirmed",
    "parts",
    "hours",
    "fixed",
    "first_time_fix",
    "attachments",
)
_PART_KEYS = ("part_number", "description", "quantity")
_HOURS_KEYS = ("staff", "hours")
_LOGIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")


def label(code: str) -> str:
    """The translated display name of a report field, channel, kind, category, status, source
    or review outcome (the code itself when unknown)."""
    labels = {
        "diagnosis": _("diagnosis"),
        "work_done": _("work done"),
        "root_cause": _("root cause"),
        "fault_code_confirmed": _("fault code confirmed"),
        "parts": _("parts used"),
        "hours": _("work hours"),
        "fixed": _("fixed (yes/no)"),
        "first_time_fix": _("first-time fix (yes/no)"),
        "attachments": _("attachments"),
        "phone": _("phone"),
        "site_visit": _("site visit"),
        "message": _("message"),
        "action": _("improvement action"),
        "analysis": _("analysis item"),
        "training": _("training"),
        "spare_parts": _("spare parts"),
        "response": _("response"),
        "process": _("process"),
        "other": _("other"),
        "open": _("open"),
        "in_progress": _("in progress"),
        "done": _("done"),
        "cancelled": _("cancelled"),
        "survey": _("survey"),
        "email": _("email"),
        "meeting": _("meeting"),
        "new": _("new"),
        "evaluating": _("evaluating"),
        "adopted": _("adopted"),
        "rejected": _("rejected"),
        "approved": _("approved"),
        "returned": _("returned for rework"),
    }
    return labels.get(code, code)


def _service(method: Callable[P, R]) -> Callable[P, R]:
    """``Desk``'s ``_active`` wrapper (imported late: the desk module imports this one)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from windtui.services.desk import _active

        return _active(method)(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------- validation (pure)


def _quote(value: object) -> str:
    """``value`` as it may be echoed in a one-line message (controls and line breaks escaped)."""
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_controls(text: str, *, multiline: bool) -> bool:
    allowed = "\n\t" if multiline else ""
    return any((ord(c) < 0x20 and c not in allowed) or ord(c) == 0x7F for c in text)


def _text(value: object, what: str, limit: int, *, multiline: bool = True) -> str:
    """``value`` stripped; refused when it is not text, too long or (one-line) holds controls."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(_("{what} must be text").format(what=what))
    text = value.strip()
    if len(text) > limit:
        raise Refused(
            _("{what} is at most {limit} characters ({count} given)").format(
                what=what, limit=limit, count=len(text)
            )
        )
    if _has_controls(text, multiline=multiline):
        raise Refused(_("{what} holds control characters").format(what=what))
    return text


def _flag(value: object, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise Refused(_("{what} must be true or false").format(what=what))


def _positive(value: object, what: str) -> float:
    try:
        number = float(value) if _is_number(value) else math.nan  # type: ignore[arg-type]
    except OverflowError:  # an integer too large for a float
        number = math.nan
    if not math.isfinite(number):
        raise Refused(_("{what} must be a number").format(what=what))
    if number <= 0:
        raise Refused(_("{what} must be more than 0: {value:g}").format(what=what, value=number))
    return number


def _lines(value: object, what: str) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise Refused(_("{what} must be a list").format(what=what))
    if len(value) > LINE_LIMIT:
        raise Refused(
            _("{what} has {count} lines: at most {limit}").format(
                what=what, count=len(value), limit=LINE_LIMIT
            )
        )
    return tuple(value)


def check_report(data: ReportInput) -> ReportInput:
    """``data`` cleaned (text stripped, an empty fault code None), or :class:`Refused` naming
    the first wrong field (``parts[2].quantity``: lines count from 1).

    Pure: the people in the hours lines and the hours-per-day rule are checked by
    :func:`write_report` against the database.
    """
    if not isinstance(data, ReportInput):
        raise Refused(_("a repair report must be a ReportInput"))
    fault = _text(data.fault_code_confirmed, "fault_code_confirmed", SHORT_LIMIT, multiline=False)
    fixed = _flag(data.fixed, "fixed")
    first_time_fix = _flag(data.first_time_fix, "first_time_fix")
    if first_time_fix and fixed is not True:
        raise Refused(
            _("first_time_fix = true needs fixed = true: an unfixed fault was not fixed first time")
        )
    parts = []
    for i, part in enumerate(_lines(data.parts, "parts"), 1):
        where = f"parts[{i}]"
        if not isinstance(part, ReportPartInput):
            raise Refused(_("{what} must be a part").format(what=where))
        number = _text(part.part_number, f"{where}.part_number", SHORT_LIMIT, multiline=False)
        if not number:
            raise Refused(_("{what} is empty").format(what=f"{where}.part_number"))
        parts.append(
            ReportPartInput(
                part_number=number,
                description=_text(
                    part.description, f"{where}.description", SHORT_LIMIT, multiline=False
                ),
                quantity=_positive(part.quantity, f"{where}.quantity"),
            )
        )
    hours = []
    seen: set[str] = set()
    for i, line in enumerate(_lines(data.hours, "hours"), 1):
        where = f"hours[{i}]"
        if not isinstance(line, ReportHoursInput):
            raise Refused(_("{what} must be a work-hours line").format(what=where))
        login = _text(line.staff, f"{where}.staff", 64, multiline=False)
        if not _LOGIN.fullmatch(login):
            raise Refused(
                _("{what} '{value}' is not a staff login").format(
                    what=f"{where}.staff", value=login
                )
            )
        if login in seen:
            raise Refused(
                _("{what}: {login} has two hours lines (one line per person)").format(
                    what=where, login=login
                )
            )
        seen.add(login)
        hours.append(ReportHoursInput(login, _positive(line.hours, f"{where}.hours")))
    attachments = []
    for i, ref in enumerate(_lines(data.attachments, "attachments"), 1):
        where = f"attachments[{i}]"
        text = _text(ref, where, REFERENCE_LIMIT, multiline=False)
        if not text:
            raise Refused(_("{what} is empty").format(what=where))
        attachments.append(text)
    return ReportInput(
        diagnosis=_text(data.diagnosis, "diagnosis", TEXT_LIMIT),
        work_done=_text(data.work_done, "work_done", TEXT_LIMIT),
        root_cause=_text(data.root_cause, "root_cause", TEXT_LIMIT),
        fault_code_confirmed=fault or None,
        parts=tuple(parts),
        hours=tuple(hours),
        fixed=fixed,
        first_time_fix=first_time_fix,
        attachments=tuple(attachments),
    )


def missing_fields(
    report: ReportInput | RepairReportRecord, *, site_visit: bool = True
) -> tuple[str, ...]:
    """The required fields ``report`` leaves empty, in form order (names: :data:`REPORT_FIELDS`;
    show them with :func:`label`). Without a site visit no root cause and no hours are needed."""
    missing = []
    if not report.diagnosis.strip():
        missing.append("diagnosis")
    if not report.work_done.strip():
        missing.append("work_done")
    if site_visit and not report.root_cause.strip():
        missing.append("root_cause")
    if site_visit and not report.hours:
        missing.append("hours")
    if report.fixed is None:
        missing.append("fixed")
    if report.first_time_fix is None:
        missing.append("first_time_fix")
    return tuple(sorted(missing, key=REPORT_FIELDS.index))


def parse_report(data: object, source: str = "report") -> ReportInput:
    """A report file's table (TOML or JSON, already parsed) as a :class:`ReportInput`.

    Refuses, naming ``source`` and the key, anything but the known keys with the right types;
    the values themselves are checked by :func:`check_report`.
    """
    if not isinstance(data, Mapping):
        raise Refused(
            _("{source}: a repair report is a table of fields ({fields})").format(
                source=source, fields=", ".join(REPORT_FIELDS)
            )
        )
    _known_keys(data, REPORT_FIELDS, source, "")
    try:
        for key in ("diagnosis", "work_done", "root_cause", "fault_code_confirmed"):
            _text(data.get(key), key, 10 * TEXT_LIMIT)
        parts = tuple(
            _table_line(line, f"parts[{i}]", _PART_KEYS, source, ReportPartInput)
            for i, line in enumerate(_lines(data.get("parts", []), "parts"), 1)
        )
        hours = tuple(
            _table_line(line, f"hours[{i}]", _HOURS_KEYS, source, ReportHoursInput)
            for i, line in enumerate(_lines(data.get("hours", []), "hours"), 1)
        )
        attachments = _lines(data.get("attachments", []), "attachments")
        for i, ref in enumerate(attachments, 1):
            if not isinstance(ref, str):
                raise Refused(_("{what} must be text").format(what=f"attachments[{i}]"))
        return ReportInput(
            diagnosis=data.get("diagnosis") or "",
            work_done=data.get("work_done") or "",
            root_cause=data.get("root_cause") or "",
            fault_code_confirmed=data.get("fault_code_confirmed"),
            parts=parts,
            hours=hours,
            fixed=_flag(data.get("fixed"), "fixed"),
            first_time_fix=_flag(data.get("first_time_fix"), "first_time_fix"),
            attachments=tuple(attachments),
        )
    except Refused as exc:
        if str(exc).startswith(f"{source}: "):
            raise
        raise Refused(f"{source}: {exc}") from None


def _known_keys(data: Mapping[Any, Any], known: Sequence[str], source: str, where: str) -> None:
    for key in data:
        if key not in known:
            raise Refused(
                _("{source}: unknown key '{key}' (known: {known})").format(
                    source=source, key=_quote(f"{where}{key}"), known=", ".join(known)
                )
            )


def _table_line(
    line: object, where: str, keys: Sequence[str], source: str, kind: Callable[..., Any]
) -> Any:
    if not isinstance(line, Mapping):
        raise Refused(
            _("{what} must be a table of {keys}").format(what=where, keys=", ".join(keys))
        )
    _known_keys(line, keys, source, f"{where}.")
    if kind is ReportPartInput:
        part_number = line.get("part_number")
        if part_number is None:
            raise Refused(_("{what} is missing").format(what=f"{where}.part_number"))
        _text(part_number, f"{where}.part_number", SHORT_LIMIT, multiline=False)
        _text(line.get("description"), f"{where}.description", SHORT_LIMIT, multiline=False)
        quantity = line.get("quantity", 1)
        _positive(quantity, f"{where}.quantity")
        return ReportPartInput(part_number, line.get("description") or "", quantity)
    for key in keys:
        if line.get(key) is None:
            raise Refused(_("{what} is missing").format(what=f"{where}.{key}"))
    _text(line["staff"], f"{where}.staff", 64, multiline=False)
    _positive(line["hours"], f"{where}.hours")
    return ReportHoursInput(line["staff"], line["hours"])


def report_input(record: RepairReportRecord) -> ReportInput:
    """A stored report as the input that would write it again (a form's starting values)."""
    return ReportInput(
        diagnosis=record.diagnosis,
        work_done=record.work_done,
        root_cause=record.root_cause,
        fault_code_confirmed=record.fault_code_confirmed,
        parts=tuple(
            ReportPartInput(p.part_number, p.description, p.quantity) for p in record.parts
        ),
        hours=tuple(ReportHoursInput(h.staff, h.hours) for h in record.hours),
        fixed=record.fixed,
        first_time_fix=record.first_time_fix,
        attachments=record.attachments,
    )


def _check_score(score: object) -> int:
    low, high = SCORE_RANGE
    if not isinstance(score, int) or isinstance(score, bool) or not low <= score <= high:
        raise Refused(
            _("a satisfaction score is a whole number from {low} to {high}: {score} is not").format(
                low=low, high=high, score=_quote(score)
            )
        )
    return score


def _choice(value: object, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise Refused(
            _("unknown {what} '{value}': choose one of {choices}").format(
                what=what, value=_quote(value), choices=", ".join(choices)
            )
        )
    return str(value)


def _day(value: object, what: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise Refused(_("{what} must be a date (YYYY-MM-DD)").format(what=what))
    return value


def _today(now: datetime, tz: str = DESK_TZ) -> date:
    local = pendulum.instance(now).in_timezone(tz)
    return date(local.year, local.month, local.day)  # a plain date: drivers refuse pendulum's


# ---------------------------------------------------------------------------- the repair report


def _canonical(clean: ReportInput) -> dict[str, str | None]:
    """The report's fields as event-log text (None: empty), for comparing and logging."""

    def listing(items: list[Any]) -> str | None:
        return json.dumps(items, ensure_ascii=False, sort_keys=True) if items else None

    def flag(value: bool | None) -> str | None:
        return None if value is None else ("true" if value else "false")

    return {
        "diagnosis": clean.diagnosis or None,
        "work_done": clean.work_done or None,
        "root_cause": clean.root_cause or None,
        "fault_code_confirmed": clean.fault_code_confirmed or None,
        "parts": listing(
            [
                {"part_number": p.part_number, "description": p.description, "quantity": p.quantity}
                for p in clean.parts
            ]
        ),
        "hours": listing([{"staff": h.staff, "hours": h.hours} for h in clean.hours]),
        "fixed": flag(clean.fixed),
        "first_time_fix": flag(clean.first_time_fix),
        "attachments": listing(list(clean.attachments)),
    }


def _stored_input(report: RepairReport) -> ReportInput:
    parts = ReportPart.select().where(ReportPart.report == report.id).order_by(ReportPart.position)
    hours = (
        ReportHours.select(ReportHours.hours, Staff.login)
        .join(Staff)
        .where(ReportHours.report == report.id)
        .order_by(ReportHours.id)
    )
    return ReportInput(
        diagnosis=report.diagnosis,
        work_done=report.work_done,
        root_cause=report.root_cause,
        fault_code_confirmed=report.fault_code_confirmed,
        parts=tuple(ReportPartInput(p.part_number, p.description, p.quantity) for p in parts),
        hours=tuple(ReportHoursInput(h.staff.login, h.hours) for h in hours),
        fixed=report.fixed,
        first_time_fix=report.first_time_fix,
        attachments=tuple(json.loads(report.attachments or "[]")),
    )


def _job_days(row: Ticket) -> int:
    """Calendar days (farm time) from the ticket's receipt to its resolution, both counted."""
    tz = Farm.get_by_id(row.farm_id).timezone
    end = row.resolved_at or row.received_at
    return (_today(end, tz) - _today(row.received_at, tz)).days + 1


def _crew(hours: Iterable[ReportHoursInput]) -> dict[str, Staff]:
    """The staff rows of the hours lines (NotFound names an unknown login)."""
    out = {}
    for i, line in enumerate(hours, 1):
        person = Staff.get_or_none(Staff.login == line.staff)
        if person is None:
            raise NotFound(
                _("{what}: {login} is not on the staff list").format(
                    what=f"hours[{i}].staff", login=line.staff
                )
            )
        out[line.staff] = person
    return out


@_service
def write_report(
    desk: Desk,
    number: int,
    data: ReportInput,
    *,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> RepairReportRecord:
    """Save ticket ``number``'s repair report (a draft, or the revision after a return).

    The technician crew on the ticket and dispatchers, once the ticket is resolved (a returned
    report puts it back there). The input replaces the stored report; one ``report`` event per
    changed field, and the ticket's version moves. Saving an unchanged report writes nothing.
    ``at`` dates the events (default now; never in the future), like ``Desk.act``'s.
    """
    desk._gate(access.REPORT, f"ticket {number}")
    clean = check_report(data)
    now = desk.clock()
    at = desk._instant(at, now)
    with write_transaction(desk.db):
        row = desk._locked(number, expected_version, access.REPORT)
        state = TicketState(row.state)
        if state is not TicketState.RESOLVED:
            raise Refused(
                _(
                    "ticket {number} is {state}: its repair report is written once it is"
                    " resolved (or returned for rework)"
                ).format(number=number, state=_(state.label).lower())
            )
        crew = _crew(clean.hours)
        days = _job_days(row)
        for i, line in enumerate(clean.hours, 1):
            if line.hours > HOURS_PER_DAY * days:
                raise Refused(
                    _(
                        "{what}: {hours:g} h for {login} is more than {limit:g} h a day over the"
                        " {days} day(s) from receipt to resolution"
                    ).format(
                        what=f"hours[{i}].hours",
                        hours=line.hours,
                        login=line.staff,
                        limit=HOURS_PER_DAY,
                        days=days,
                    )
                )
        report = RepairReport.get_or_none(RepairReport.ticket == row.id)
        before = _canonical(_stored_input(report)) if report is not None else {}
        after = _canonical(clean)
        changes: dict[str, tuple[object, object]] = {
            name: (before.get(name), value)
            for name, value in after.items()
            if before.get(name) != value
        }
        if not changes:
            if report is None:
                raise Refused(
                    _("ticket {number}: the repair report is empty, nothing to save").format(
                        number=number
                    )
                )
            return _report_record(report, row)
        values = {
            "diagnosis": clean.diagnosis,
            "work_done": clean.work_done,
            "root_cause": clean.root_cause,
            "fault_code_confirmed": clean.fault_code_confirmed,
            "fixed": clean.fixed,
            "first_time_fix": clean.first_time_fix,
            "attachments": json.dumps(list(clean.attachments), ensure_ascii=False),
            "author": desk.actor,
            "updated_at": now,
        }
        if report is None:
            report = RepairReport.create(ticket=row.id, revision=0, **values)
        else:
            RepairReport.update(**values).where(RepairReport.id == report.id).execute()
        if "parts" in changes:
            ReportPart.delete().where(ReportPart.report == report.id).execute()
            for i, p in enumerate(clean.parts):
                ReportPart.create(
                    report=report.id,
                    position=i,
                    part_number=p.part_number,
                    description=p.description,
                    quantity=p.quantity,
                )
        if "hours" in changes:
            ReportHours.delete().where(ReportHours.report == report.id).execute()
            for line in clean.hours:
                ReportHours.create(report=report.id, staff=crew[line.staff].id, hours=line.hours)
        desk._commit(row, "report", changes, {}, at, now)
        return _report_record(RepairReport.get_by_id(report.id), row)


def _report_record(report: RepairReport, row: Ticket) -> RepairReportRecord:
    stored = _stored_input(report)
    names = {
        s.login: (s.name_zh, s.name_en)
        for s in Staff.select().where(Staff.login.in_([h.staff for h in stored.hours]))
    }
    return RepairReportRecord(
        ticket=row.number,
        diagnosis=stored.diagnosis,
        work_done=stored.work_done,
        root_cause=stored.root_cause,
        fault_code_confirmed=stored.fault_code_confirmed,
        parts=tuple(
            ReportPartRecord(p.part_number, p.description, p.quantity) for p in stored.parts
        ),
        hours=tuple(
            ReportHoursRecord(h.staff, *names.get(h.staff, (h.staff, h.staff)), h.hours)
            for h in stored.hours
        ),
        fixed=stored.fixed,
        first_time_fix=stored.first_time_fix,
        attachments=stored.attachments,
        author=report.author,
        revision=report.revision,
        submitted_at=report.submitted_at,
        updated_at=report.updated_at,
        missing=missing_fields(stored, site_visit=Category(row.category).needs_site_visit),
    )


# ---------------------------------------------------------------------------- the lifecycle hook


def before_step(
    desk: Desk,
    row: Any,
    action: Action,
    *,
    at: datetime,
    reason: str | None,
    changes: dict[str, tuple[object, object]],
) -> None:
    """Check and write what ``action`` needs from the quality records (inside ``Desk.act``'s
    transaction, after the lifecycle check, before the ticket is written).

    Adds ``report_revision`` (submit) and ``review`` (approve/return) to ``changes`` so the
    event log says which revision was submitted and how it was reviewed.
    """
    if action is Action.SUBMIT:
        _submit(row, at, changes)
    elif action in (Action.APPROVE, Action.RETURN):
        _review(desk, row, action, at, reason, changes)
    elif action is Action.FOLLOWUP:
        _check_survey(row)


def _submit(row: Ticket, at: datetime, changes: dict[str, tuple[object, object]]) -> None:
    report = RepairReport.get_or_none(RepairReport.ticket == row.id)
    if report is None:
        raise Refused(
            _(
                "ticket {number} has no repair report: write it first"
                " (`windtui ticket report {number} --file report.toml`)"
            ).format(number=row.number)
        )
    site_visit = Category(row.category).needs_site_visit
    missing = missing_fields(_stored_input(report), site_visit=site_visit)
    if missing:
        raise Refused(
            _(
                "ticket {number}'s repair report lacks {fields}: complete it before submitting"
            ).format(number=row.number, fields=", ".join(label(m) for m in missing))
        )
    revision = report.revision + 1
    RepairReport.update(revision=revision, submitted_at=at).where(
        RepairReport.id == report.id
    ).execute()
    changes["report_revision"] = (report.revision, revision)


def _review(
    desk: Desk,
    row: Ticket,
    action: Action,
    at: datetime,
    reason: str | None,
    changes: dict[str, tuple[object, object]],
) -> None:
    report = RepairReport.get_or_none(RepairReport.ticket == row.id)
    if report is None or report.revision < 1 or report.submitted_at is None:
        raise Refused(
            _("ticket {number} has no submitted repair report to review").format(number=row.number)
        )
    # Separate duties (policy §三(2), §四(1)): QA reviews other people's work, never its own.
    me = desk.identity
    crew = {
        report.author,
        *(h.staff.login for h in ReportHours.select().where(ReportHours.report == report.id)),
    }
    if row.owner_id is not None and row.owner_id == me.staff_id:
        crew.add(me.login)
    if me.login in crew:
        raise Forbidden(
            _(
                "{login} worked on ticket {number}: its repair report must be reviewed by"
                " someone else in QA"
            ).format(login=me.login, number=row.number),
            operation=action.value,
            target=f"ticket {row.number}",
            needed="qa",
        )
    why = _text(reason, "reason", TEXT_LIMIT)
    if action is Action.RETURN and not why:
        raise Refused(
            _(
                "returning ticket {number}'s repair report for rework needs a reason: what must"
                " be fixed"
            ).format(number=row.number)
        )
    outcome = "approved" if action is Action.APPROVE else "returned"
    Review.create(
        ticket=row.id,
        revision=report.revision,
        outcome=outcome,
        reason=why,
        reviewer=desk.actor,
        reviewed_at=at,
    )
    changes["review"] = (None, outcome)


def _check_survey(row: Ticket) -> None:
    survey = Survey.get_or_none(Survey.ticket == row.id)
    if survey is None or (row.resolved_at is not None and survey.contacted_at < row.resolved_at):
        raise Refused(
            _(
                "ticket {number} has no satisfaction survey for this service: record it first"
                " with `windtui ticket survey {number} --score 1-5`"
            ).format(number=row.number)
        )


# ---------------------------------------------------------------------------- the survey


#: A survey is recorded once the report is approved (and may be corrected until the ticket closes).
SURVEY_STATES = (TicketState.REVIEWED, TicketState.FOLLOWED_UP)


@_service
def record_survey(
    desk: Desk,
    number: int,
    score: int,
    comments: str = "",
    caller: str | None = None,
    contacted_at: datetime | None = None,
    channel: str = "phone",
    *,
    expected_version: int | None = None,
) -> SurveyRecord:
    """Record (or correct) ticket ``number``'s satisfaction follow-up.

    ``caller`` is the staff login who called or visited (default: the desk's actor);
    ``contacted_at`` when (default now; not before the resolution, not in the future). A score
    of :data:`LOW_SCORE` or less opens an analysis item owned by the person recording it, due
    :data:`ANALYSIS_DUE_DAYS` days later (once per survey). Dispatchers and QA.
    """
    desk._gate(access.SURVEY, f"ticket {number}")
    score = _check_score(score)
    channel = _choice(channel, SURVEY_CHANNELS, _("survey channel"))
    remarks = _text(comments, "comments", TEXT_LIMIT)
    now = desk.clock()
    at = desk._instant(contacted_at, now)
    with write_transaction(desk.db):
        row = desk._locked(number, expected_version, access.SURVEY)
        state = TicketState(row.state)
        if state not in SURVEY_STATES:
            raise Refused(
                _(
                    "ticket {number} is {state}: the satisfaction survey follows the approved"
                    " repair report ({states})"
                ).format(
                    number=number,
                    state=_(state.label).lower(),
                    states=", ".join(_(s.label).lower() for s in SURVEY_STATES),
                )
            )
        who = _person(caller, "caller").login if caller is not None else desk.actor
        if row.resolved_at is not None and at < row.resolved_at:
            raise Refused(
                _(
                    "the survey call at {at} is before ticket {number} was resolved ({resolved})"
                ).format(
                    at=at.isoformat(timespec="minutes"),
                    number=number,
                    resolved=row.resolved_at.isoformat(timespec="minutes"),
                )
            )
        survey = Survey.get_or_none(Survey.ticket == row.id)
        values: dict[str, Any] = {
            "score": score,
            "comments": remarks,
            "caller": who,
            "channel": channel,
            "contacted_at": at,
        }
        changes: dict[str, tuple[object, object]] = {}
        for name, value in values.items():
            old = getattr(survey, name) if survey is not None else None
            if old != value and not (old is None and value == ""):
                changes[name] = (old, value)
        if not changes:
            return _survey_record(survey, row.number)
        if survey is None:
            survey = Survey.create(ticket=row.id, recorded_at=now, **values)
        else:
            Survey.update(recorded_at=now, **values).where(Survey.id == survey.id).execute()
        if score <= LOW_SCORE and not (
            Improvement.select()
            .where(Improvement.survey == survey.id, Improvement.kind == "analysis")
            .exists()
        ):
            tz = Farm.get_by_id(row.farm_id).timezone
            item = Improvement.create(
                kind="analysis",
                title=_(
                    "Low satisfaction score {score}/5 on ticket {number}: analyse the cause"
                ).format(score=score, number=number),
                category="other",
                ticket=row.id,
                survey=survey.id,
                owner=desk.identity.staff_id,
                due=_today(now, tz) + timedelta(days=ANALYSIS_DUE_DAYS),
                status="open",
                created_at=now,
            )
            changes["analysis"] = (None, item.id)
        desk._commit(row, "survey", changes, {}, at, now)
        return _survey_record(Survey.get_by_id(survey.id), row.number)


def _survey_record(survey: Survey, number: int) -> SurveyRecord:
    analysis = (
        Improvement.select(Improvement.id)
        .where(Improvement.survey == survey.id, Improvement.kind == "analysis")
        .order_by(Improvement.id)
        .scalar()
    )
    return SurveyRecord(
        ticket=number,
        score=survey.score,
        comments=survey.comments,
        caller=survey.caller,
        contacted_at=survey.contacted_at,
        channel=survey.channel,
        recorded_at=survey.recorded_at,
        analysis=analysis,
    )


def _person(login: object, what: str, *, active: bool = False) -> Staff:
    """The staff row of ``login`` (NotFound naming ``what``; refused when disabled and
    ``active``)."""
    person = Staff.get_or_none(Staff.login == login) if isinstance(login, str) else None
    if person is None:
        raise NotFound(_("{what}: {login} is not on the staff list").format(what=what, login=login))
    if active and not person.active:
        raise Refused(_("{what}: {login} is disabled").format(what=what, login=login))
    return person


# ---------------------------------------------------------------------------- reads of a ticket


@_service
def report(desk: Desk, number: int) -> RepairReportRecord | None:
    """Ticket ``number``'s repair report, or None (a technician reads only their own jobs)."""
    snap = desk.ticket(number)
    row = Ticket.get_by_id(snap.id)
    stored = RepairReport.get_or_none(RepairReport.ticket == snap.id)
    return _report_record(stored, row) if stored is not None else None


@_service
def ticket_quality(desk: Desk, number: int) -> TicketQuality:
    """The report, the reviews (oldest first), the survey and the improvement items of ticket
    ``number`` (whoever may read the ticket)."""
    snap = desk.ticket(number)
    row = Ticket.get_by_id(snap.id)
    stored = RepairReport.get_or_none(RepairReport.ticket == snap.id)
    survey = Survey.get_or_none(Survey.ticket == snap.id)
    reviews = (
        Review.select().where(Review.ticket == snap.id).order_by(Review.reviewed_at, Review.id)
    )
    today = _today(desk.clock())
    return TicketQuality(
        report=_report_record(stored, row) if stored is not None else None,
        reviews=tuple(
            ReviewRecord(
                ticket=number,
                revision=r.revision,
                outcome=r.outcome,
                reason=r.reason,
                reviewer=r.reviewer,
                reviewed_at=r.reviewed_at,
            )
            for r in reviews
        ),
        survey=_survey_record(survey, number) if survey is not None else None,
        improvements=tuple(_improvements(Improvement.ticket == snap.id, today=today)),
    )


def _read_gate(desk: Desk, target: str) -> None:
    """Reading the registers: everyone who reads every ticket (not a crew-only technician)."""
    me = desk._gate(access.READ, target)
    if me.crew_only:
        raise desk._forbidden(me, access.READ, target)


# ---------------------------------------------------------------------------- improvements


def _ticket_row(number: int | None) -> Ticket | None:
    if number is None:
        return None
    row = Ticket.get_or_none(Ticket.number == number)
    if row is None:
        raise NotFound(_("ticket {number} not found").format(number=number))
    return row


def _log(
    desk: Desk,
    ticket_id: int | None,
    action: str,
    changes: dict[str, tuple[object, object]],
    now: datetime,
    note: str,
) -> None:
    """One audit event per change, desk-wide or on the item's ticket (the ticket itself does not
    change: its version stays)."""
    seq = desk._bump()
    desk._log(ticket_id, seq, action, changes, now, now, note)


@_service
def add_improvement(desk: Desk, item: ImprovementInput) -> ImprovementRecord:
    """Open an analysis item or an improvement action (QA and supervisors).

    ``parent`` must be an analysis item (an action answers it; an analysis has no parent); an
    action with a parent and no ticket takes the parent's ticket. The due date may not be past.
    """
    desk._gate(access.IMPROVEMENT, "improvements")
    kind = _choice(item.kind, IMPROVEMENT_KINDS, _("improvement kind"))
    category = _choice(item.category, IMPROVEMENT_CATEGORIES, _("improvement category"))
    title = _text(item.title, "title", SHORT_LIMIT, multiline=False)
    if not title:
        raise Refused(_("an improvement needs a title"))
    notes = _text(item.notes, "notes", TEXT_LIMIT)
    due = _day(item.due, "due")
    now = desk.clock()
    today = _today(now)
    if due < today:
        raise Refused(
            _("the due date {due} is in the past (today is {today})").format(due=due, today=today)
        )
    if kind == "analysis" and item.parent is not None:
        raise Refused(_("an analysis item has no parent: only actions answer an analysis"))
    with write_transaction(desk.db):
        owner = _person(item.owner, "owner", active=True)
        parent = None
        if item.parent is not None:
            parent = Improvement.get_or_none(Improvement.id == item.parent)
            if parent is None:
                raise NotFound(_("improvement {id} not found").format(id=item.parent))
            if parent.kind != "analysis":
                raise Refused(
                    _(
                        "improvement {id} is an action, not an analysis: an action's parent is"
                        " the analysis item it answers"
                    ).format(id=parent.id)
                )
        ticket = _ticket_row(item.ticket)
        ticket_id = ticket.id if ticket is not None else (parent.ticket_id if parent else None)
        row = Improvement.create(
            kind=kind,
            title=title,
            category=category,
            ticket=ticket_id,
            parent=parent.id if parent is not None else None,
            owner=owner.id,
            due=due,
            status="open",
            notes=notes,
            created_at=now,
        )
        values = {
            "kind": kind,
            "title": title,
            "category": category,
            "owner": owner.login,
            "due": due.isoformat(),
            "status": "open",
            "parent": parent.id if parent is not None else None,
        }
        changes = {k: (None, v) for k, v in values.items() if v is not None}
        _log(desk, ticket_id, "improvement", changes, now, _("improvement {id}").format(id=row.id))
        return _improvements(Improvement.id == row.id, today=today)[0]


@_service
def update_improvement(
    desk: Desk,
    item_id: int,
    *,
    status: str | None = None,
    owner: str | None = None,
    due: date | None = None,
    note: str | None = None,
) -> ImprovementRecord:
    """Move an item on (open → in_progress → done / cancelled; ``closed_at`` stamped when it is
    done or cancelled), hand it to another owner, move its due date, or add a dated note. A
    closed item only takes notes."""
    desk._gate(access.IMPROVEMENT, f"improvement {item_id}")
    if status is None and owner is None and due is None and not (note or "").strip():
        raise Refused(_("give a new status, owner, due date or note"))
    if status is not None:
        _choice(status, IMPROVEMENT_STATUSES, _("improvement status"))
    text = _text(note, "note", TEXT_LIMIT)
    if due is not None:
        _day(due, "due")
    now = desk.clock()
    today = _today(now)
    with write_transaction(desk.db):
        row = Improvement.get_or_none(Improvement.id == item_id)
        if row is None:
            raise NotFound(_("improvement {id} not found").format(id=item_id))
        closed = row.status not in _OPEN_IMPROVEMENT
        changes: dict[str, tuple[object, object]] = {}
        fields: dict[str, Any] = {}
        if closed and (status is not None or owner is not None or due is not None):
            raise Refused(
                _("improvement {id} is {status}: it only takes notes now").format(
                    id=item_id, status=label(row.status)
                )
            )
        if status is not None and status != row.status:
            if status not in _IMPROVEMENT_NEXT[row.status]:
                raise Refused(
                    _("improvement {id} is {status}: it can go to {choices}").format(
                        id=item_id,
                        status=label(row.status),
                        choices=", ".join(_IMPROVEMENT_NEXT[row.status]),
                    )
                )
            changes["status"], fields["status"] = (row.status, status), status
            if status not in _OPEN_IMPROVEMENT:
                fields["closed_at"] = now
        if owner is not None:
            person = _person(owner, "owner", active=True)
            if person.id != row.owner_id:
                old = row.owner.login if row.owner_id else None
                changes["owner"], fields["owner"] = (old, person.login), person.id
        if due is not None and due != row.due:
            if due < today:
                raise Refused(
                    _("the due date {due} is in the past (today is {today})").format(
                        due=due, today=today
                    )
                )
            changes["due"], fields["due"] = (row.due, due.isoformat()), due
        if text:
            stamp = f"{today.isoformat()} {desk.actor}: {text}"
            fields["notes"] = f"{row.notes}\n{stamp}" if row.notes else stamp
            changes["note"] = (None, text)
        if not changes:
            raise Refused(
                _("improvement {id} already has these values: nothing to change").format(id=item_id)
            )
        Improvement.update(**fields).where(Improvement.id == row.id).execute()
        _log(
            desk,
            row.ticket_id,
            "improvement",
            changes,
            now,
            _("improvement {id}").format(id=row.id),
        )
        return _improvements(Improvement.id == row.id, today=today)[0]


@_service
def improvement(desk: Desk, item_id: int) -> ImprovementRecord:
    """One analysis item or improvement action."""
    _read_gate(desk, f"improvement {item_id}")
    found = _improvements(Improvement.id == item_id, today=_today(desk.clock()))
    if not found:
        raise NotFound(_("improvement {id} not found").format(id=item_id))
    return found[0]


@_service
def improvements(
    desk: Desk,
    *,
    status: str | None = None,
    owner: str | None = None,
    overdue: bool = False,
    ticket: int | None = None,
    kind: str | None = None,
) -> list[ImprovementRecord]:
    """Analysis items and improvement actions, by due date: filtered by status, owner login,
    ticket number, kind; ``overdue`` keeps open or in-progress items due before today."""
    _read_gate(desk, "improvements")
    today = _today(desk.clock())
    where = []
    if status is not None:
        where.append(Improvement.status == _choice(status, IMPROVEMENT_STATUSES, _("status")))
    if kind is not None:
        where.append(Improvement.kind == _choice(kind, IMPROVEMENT_KINDS, _("improvement kind")))
    if owner is not None:
        where.append(Improvement.owner == _person(owner, "owner").id)
    if ticket is not None:
        where.append(Improvement.ticket == _ticket_row(ticket).id)  # type: ignore[union-attr]
    if overdue:
        where += [Improvement.status.in_(_OPEN_IMPROVEMENT), Improvement.due < today]
    return _improvements(*where, today=today)


def _improvements(*where: Any, today: date) -> list[ImprovementRecord]:
    query = (
        Improvement.select(Improvement, Staff, Ticket.id, Ticket.number, Survey.id, Survey.score)
        .join(Staff, JOIN.LEFT_OUTER, on=(Improvement.owner == Staff.id))
        .switch(Improvement)
        .join(Ticket, JOIN.LEFT_OUTER, on=(Improvement.ticket == Ticket.id))
        .switch(Improvement)
        .join(Survey, JOIN.LEFT_OUTER, on=(Improvement.survey == Survey.id))
        .order_by(Improvement.due.asc(nulls="LAST"), Improvement.id)
    )
    if where:
        query = query.where(*where)
    out = []
    for row in query:
        person = row.owner if row.owner_id else None
        number = row.ticket.number if row.ticket_id else None
        score = row.survey.score if row.survey_id else None
        out.append(
            ImprovementRecord(
                id=row.id,
                kind=row.kind,
                title=row.title,
                category=row.category,
                owner=person.login if person is not None else None,
                owner_name_zh=person.name_zh if person is not None else None,
                owner_name_en=person.name_en if person is not None else None,
                due=row.due,
                status=row.status,
                notes=row.notes,
                ticket=number,
                parent=row.parent_id,
                survey_score=score,
                created_at=row.created_at,
                closed_at=row.closed_at,
                overdue=row.status in _OPEN_IMPROVEMENT and row.due is not None and row.due < today,
            )
        )
    return out


# ---------------------------------------------------------------------------- suggestions


@_service
def add_suggestion(desk: Desk, item: SuggestionInput) -> SuggestionRecord:
    """Register a customer suggestion (dispatchers, QA, supervisors); it starts as ``new``.

    A ticket fills in its farm, a farm its contract's customer, when they are not given; given
    ones must agree with each other.
    """
    desk._gate(access.SUGGESTION, "suggestions")
    source = _choice(item.source, SUGGESTION_SOURCES, _("suggestion source"))
    text = _text(item.text, "text", TEXT_LIMIT)
    if not text:
        raise Refused(_("a suggestion needs its text"))
    now = desk.clock()
    today = _today(now)
    received = _day(item.received_on, "received") if item.received_on is not None else today
    if received > today:
        raise Refused(
            _("the received date {day} is in the future (today is {today})").format(
                day=received, today=today
            )
        )
    with write_transaction(desk.db):
        ticket = _ticket_row(item.ticket)
        farm = None
        if item.farm is not None:
            farm = Farm.get_or_none(Farm.code == item.farm)
            if farm is None:
                raise NotFound(_("farm {name} not found").format(name=item.farm))
        if ticket is not None:
            if farm is not None and farm.id != ticket.farm_id:
                raise Refused(
                    _("ticket {number} is not at farm {farm}").format(
                        number=ticket.number, farm=farm.code
                    )
                )
            farm = Farm.get_by_id(ticket.farm_id)
        customer = None
        if item.customer is not None:
            customer = Customer.get_or_none(Customer.code == item.customer)
            if customer is None:
                raise NotFound(_("customer {name} not found").format(name=item.customer))
        farm_customer = _farm_customer(farm)
        if customer is not None and farm_customer is not None and customer.id != farm_customer.id:
            raise Refused(
                _("farm {farm} belongs to customer {owner}, not {customer}").format(
                    farm=farm.code,  # type: ignore[union-attr]
                    owner=farm_customer.code,
                    customer=customer.code,
                )
            )
        customer = customer or farm_customer
        row = Suggestion.create(
            customer=customer.id if customer is not None else None,
            farm=farm.id if farm is not None else None,
            ticket=ticket.id if ticket is not None else None,
            source=source,
            received_on=received,
            text=text,
            status="new",
            created_at=now,
        )
        values = {
            "source": source,
            "received_on": received.isoformat(),
            "text": text,
            "customer": customer.code if customer is not None else None,
            "farm": farm.code if farm is not None else None,
            "status": "new",
        }
        changes = {k: (None, v) for k, v in values.items() if v is not None}
        ticket_id = ticket.id if ticket is not None else None
        _log(desk, ticket_id, "suggestion", changes, now, _("suggestion {id}").format(id=row.id))
        return _suggestions(Suggestion.id == row.id)[0]


def _farm_customer(farm: Farm | None) -> Customer | None:
    if farm is None or farm.contract_id is None:
        return None
    return Customer.get_by_id(Contract.get_by_id(farm.contract_id).customer_id)


@_service
def set_suggestion_status(
    desk: Desk, item_id: int, status: str, *, on: date | None = None
) -> SuggestionRecord:
    """Move a suggestion on: new → evaluating → adopted / rejected (a decision is final and
    records ``decided_on`` — ``on``, default today — and ``decided_by``, the desk's actor)."""
    desk._gate(access.SUGGESTION, f"suggestion {item_id}")
    status = _choice(status, SUGGESTION_STATUSES, _("suggestion status"))
    now = desk.clock()
    today = _today(now)
    day = _day(on, "on") if on is not None else today
    if day > today:
        raise Refused(
            _("the decision date {day} is in the future (today is {today})").format(
                day=day, today=today
            )
        )
    with write_transaction(desk.db):
        row = Suggestion.get_or_none(Suggestion.id == item_id)
        if row is None:
            raise NotFound(_("suggestion {id} not found").format(id=item_id))
        if status == row.status:
            raise Refused(
                _("suggestion {id} is already {status}").format(id=item_id, status=label(status))
            )
        if not _SUGGESTION_NEXT[row.status]:
            raise Refused(
                _("suggestion {id} is {status}: a decision is final").format(
                    id=item_id, status=label(row.status)
                )
            )
        if status not in _SUGGESTION_NEXT[row.status]:
            raise Refused(
                _("suggestion {id} is {status}: it can go to {choices}").format(
                    id=item_id,
                    status=label(row.status),
                    choices=", ".join(_SUGGESTION_NEXT[row.status]),
                )
            )
        fields: dict[str, Any] = {"status": status}
        changes: dict[str, tuple[object, object]] = {"status": (row.status, status)}
        if status in _DECIDED:
            if day < row.received_on:
                raise Refused(
                    _(
                        "the decision date {day} is before the suggestion came in ({received})"
                    ).format(day=day, received=row.received_on)
                )
            fields.update(decided_on=day, decided_by=desk.actor)
            changes["decided_on"] = (None, day.isoformat())
        Suggestion.update(**fields).where(Suggestion.id == row.id).execute()
        _log(
            desk, row.ticket_id, "suggestion", changes, now, _("suggestion {id}").format(id=row.id)
        )
        return _suggestions(Suggestion.id == row.id)[0]


def _period(start: date | None, end: date | None) -> list[Any]:
    if start is not None:
        _day(start, "from")
    if end is not None:
        _day(end, "to")
    if start is not None and end is not None and start > end:
        raise Refused(
            _("the period starts {start}, after its end {end}").format(start=start, end=end)
        )
    where = []
    if start is not None:
        where.append(Suggestion.received_on >= start)
    if end is not None:
        where.append(Suggestion.received_on <= end)
    return where


@_service
def suggestions(
    desk: Desk,
    *,
    status: str | None = None,
    source: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[SuggestionRecord]:
    """The suggestions register, newest received first: by status, source, received period."""
    _read_gate(desk, "suggestions")
    where = _period(start, end)
    if status is not None:
        where.append(Suggestion.status == _choice(status, SUGGESTION_STATUSES, _("status")))
    if source is not None:
        where.append(
            Suggestion.source == _choice(source, SUGGESTION_SOURCES, _("suggestion source"))
        )
    return _suggestions(*where)


def _suggestions(*where: Any) -> list[SuggestionRecord]:
    query = (
        Suggestion.select(
            Suggestion, Customer.id, Customer.code, Farm.id, Farm.code, Ticket.id, Ticket.number
        )
        .join(Customer, JOIN.LEFT_OUTER, on=(Suggestion.customer == Customer.id))
        .switch(Suggestion)
        .join(Farm, JOIN.LEFT_OUTER, on=(Suggestion.farm == Farm.id))
        .switch(Suggestion)
        .join(Ticket, JOIN.LEFT_OUTER, on=(Suggestion.ticket == Ticket.id))
        .order_by(Suggestion.received_on.desc(), Suggestion.id.desc())
    )
    if where:
        query = query.where(*where)
    return [
        SuggestionRecord(
            id=row.id,
            source=row.source,
            received_on=row.received_on,
            text=row.text,
            status=row.status,
            customer=row.customer.code if row.customer_id else None,
            farm=row.farm.code if row.farm_id else None,
            ticket=row.ticket.number if row.ticket_id else None,
            decided_on=row.decided_on,
            decided_by=row.decided_by,
            created_at=row.created_at,
        )
        for row in query
    ]


@_service
def adoption_rate(desk: Desk, start: date | None = None, end: date | None = None) -> AdoptionRate:
    """Of the suggestions received from ``start`` to ``end`` (both included; open-ended when
    None): adopted / decided, where decided = adopted + rejected. Suggestions still new or under
    evaluation count as ``pending``, in neither part of the rate (policy §四(2): "80 % adopted").
    """
    _read_gate(desk, "suggestions")
    where = _period(start, end)
    query = Suggestion.select(Suggestion.status, fn.COUNT(Suggestion.id)).group_by(
        Suggestion.status
    )
    if where:
        query = query.where(*where)
    counts = {status: int(count) for status, count in query.tuples()}
    adopted, rejected = counts.get("adopted", 0), counts.get("rejected", 0)
    decided = adopted + rejected
    return AdoptionRate(
        start=start,
        end=end,
        received=sum(counts.values()),
        adopted=adopted,
        rejected=rejected,
        pending=counts.get("new", 0) + counts.get("evaluating", 0),
        rate=adopted / decided if decided else None,
    )
