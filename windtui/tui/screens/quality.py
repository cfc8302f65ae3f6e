"""The quality records in the console: the repair report form, the satisfaction survey form, the
quality section of the ticket detail, and the improvements and suggestions registers.

* :class:`ReportForm` — diagnosis, work done and root cause as multi-line fields, the fault code
  confirmed, parts (``part number, description, quantity`` a line) and work hours (``login
  hours`` a line) as editable lists, fixed and first-time fix (kept apart, unanswered until
  chosen), attachments (one file reference a line) and "submit to QA". Opened by ``w`` (write or
  revise the report) and by the submit step (``s`` in "my jobs", the ``m`` menu, Space), which
  shows the report before handing it over. Lines are parsed with an error naming the line;
  :func:`windtui.services.quality.check_report` and :func:`~windtui.services.quality.missing_fields`
  (the services' own rules) check the rest before anything is sent.
* :class:`SurveyForm` — score 1–5, comments, channel, caller (default: you), when (default now,
  farm time) and "record the follow-up". Opened by ``v`` and by the follow-up step.
* :class:`RegistersScreen` — analysis items and improvement actions, and the suggestions register
  with its adoption rate; a status filter, add and change.

These forms are :class:`SavingForm`\\ s: they hand their request to ``app.perform`` themselves and
stay open until the desk accepts it, with the desk's refusal shown under the field it names, so a
long report is never lost to a refused save. On success they dismiss with a
:class:`~windtui.tui.requests.ReloadRequest` (the screen behind reads the ticket again) or, in the
registers, with nothing (the register reloads itself).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pendulum
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.worker import Worker, WorkerFailed

from windtui.domain import roles as access
from windtui.domain.model import Action, TicketState
from windtui.errors import Refused, WindtuiError
from windtui.i18n import _, current_language
from windtui.services import quality as qs
from windtui.services.records import (
    ImprovementInput,
    ImprovementRecord,
    ReportHoursInput,
    ReportInput,
    ReportPartInput,
    SuggestionInput,
    SuggestionRecord,
    TicketQuality,
    TicketSnapshot,
)
from windtui.tui.actions import current_login, role_may
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.plain import plain
from windtui.tui.requests import (
    DeskRequest,
    ImprovementRequest,
    ImprovementUpdateRequest,
    ReloadRequest,
    ReportRequest,
    SuggestionRequest,
    SuggestionStatusRequest,
    SurveyRequest,
)
from windtui.tui.screens.forms import FormScreen, TickBox
from windtui.tui.widgets.table import Cell, Column, LineTable

YES, NO = "yes", "no"
"""Select values of the fixed / first-time-fix answers (blank: not answered yet)."""
SEPARATORS = re.compile(r"\s*[,，;；\t]\s*")
"""What separates the parts of a parts or hours line (ASCII or full-width comma, semicolon)."""


# --------------------------------------------------------------------------------------------
# Running the requests (in the app's perform worker thread)


class SavedButRefused(WindtuiError):
    """The first half of a request was saved (the report, the survey) but the step after it
    (submit, follow-up) was refused; ``version`` is the ticket's version after the save."""

    def __init__(self, message: str, version: int) -> None:
        super().__init__(message)
        self.version = version


def execute(desk: Any, request: DeskRequest) -> tuple[TicketSnapshot | None, str, object]:
    """Run a quality request through the services: ``(ticket snapshot or None, what to toast,
    the saved record)``. Raises the desk's error (one line) when it refuses."""
    if isinstance(request, ReloadRequest):
        snap = desk.ticket(request.number)
        return snap, "", snap
    if isinstance(request, ReportRequest):
        qs.write_report(
            desk, request.number, request.report, expected_version=request.expected_version
        )
        done = _("Ticket {number}: repair report saved").format(number=request.number)
        if request.submit:
            try:
                desk.act(request.number, Action.SUBMIT)
            except WindtuiError as error:
                version = desk.ticket(request.number).version
                raise SavedButRefused(
                    _("report saved, not submitted: {why}").format(why=error), version
                ) from error
            done = _("Ticket {number}: repair report submitted to QA").format(number=request.number)
        snap = desk.ticket(request.number)
        return snap, done, snap
    if isinstance(request, SurveyRequest):
        survey = qs.record_survey(
            desk,
            request.number,
            request.score,
            request.comments,
            caller=request.caller,
            contacted_at=request.contacted_at,
            channel=request.channel,
            expected_version=request.expected_version,
        )
        done = _("Ticket {number}: survey recorded ({score}/5)").format(
            number=request.number, score=survey.score
        )
        if survey.analysis is not None:
            done += " · " + _("analysis item {id} opened").format(id=survey.analysis)
        if request.followup:
            try:
                desk.act(request.number, Action.FOLLOWUP)
            except WindtuiError as error:
                version = desk.ticket(request.number).version
                raise SavedButRefused(
                    _("survey saved, follow-up not recorded: {why}").format(why=error), version
                ) from error
            done += " · " + _(Action.FOLLOWUP.label)
        snap = desk.ticket(request.number)
        return snap, done, snap
    if isinstance(request, ImprovementRequest):
        item = qs.add_improvement(desk, request.item)
        return None, _("Improvement {id} opened").format(id=item.id), item
    if isinstance(request, ImprovementUpdateRequest):
        item = qs.update_improvement(
            desk,
            request.item_id,
            status=request.status,
            owner=request.owner,
            due=request.due,
            note=request.note,
        )
        return (
            None,
            _("Improvement {id}: {status}").format(id=item.id, status=qs.label(item.status)),
            item,
        )
    if isinstance(request, SuggestionRequest):
        suggestion = qs.add_suggestion(desk, request.item)
        return None, _("Suggestion {id} registered").format(id=suggestion.id), suggestion
    if isinstance(request, SuggestionStatusRequest):
        suggestion = qs.set_suggestion_status(desk, request.item_id, request.status)
        return (
            None,
            _("Suggestion {id}: {status}").format(
                id=suggestion.id, status=qs.label(suggestion.status)
            ),
            suggestion,
        )
    raise TypeError(request)  # pragma: no cover - the quality requests are a closed set


# --------------------------------------------------------------------------------------------
# Parsing the list fields (pure)


def _number(text: str) -> float | None:
    try:
        value = float(text.replace("，", "").strip())
    except ValueError:
        return None
    return value


def parse_parts(text: str) -> tuple[tuple[ReportPartInput, ...], list[str]]:
    """``part number, description, quantity`` per line (description and quantity optional; a
    description may hold commas): the parts, and the problems naming their line."""
    parts: list[ReportPartInput] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = SEPARATORS.split(line.strip())
        number = fields[0]
        quantity: float | None = 1.0
        description = ""
        if len(fields) >= 3:
            quantity = _number(fields[-1])
            description = ", ".join(fields[1:-1])
            if quantity is None:
                problems.append(
                    _("line {n}: the quantity '{value}' is not a number").format(
                        n=n, value=fields[-1]
                    )
                )
                continue
        elif len(fields) == 2:
            description = fields[1]
        if not number:
            problems.append(_("line {n}: the part number is missing").format(n=n))
            continue
        parts.append(ReportPartInput(number, description, quantity or 0.0))
    return tuple(parts), problems


def parse_hours(text: str) -> tuple[tuple[ReportHoursInput, ...], list[str]]:
    """``login hours`` per line (a space, comma or tab between): the lines, and the problems
    naming their line."""
    hours: list[ReportHoursInput] = []
    problems: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = [f for f in re.split(r"[\s,，;；]+", line.strip()) if f]
        if len(fields) != 2:
            problems.append(_("line {n}: write a login and the hours, e.g. lizq 3.5").format(n=n))
            continue
        value = _number(fields[1])
        if value is None:
            problems.append(
                _("line {n}: the hours '{value}' are not a number").format(n=n, value=fields[1])
            )
            continue
        hours.append(ReportHoursInput(fields[0], value))
    return tuple(hours), problems


def parse_lines(text: str) -> tuple[str, ...]:
    """The non-empty lines of ``text``, stripped (attachments: one reference a line)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def parts_text(parts: Iterable[ReportPartInput]) -> str:
    """Parts as the form shows them (the reverse of :func:`parse_parts`)."""
    lines = []
    for p in parts:
        lines.append(f"{p.part_number}, {p.description}, {p.quantity:g}")
    return "\n".join(lines)


def hours_text(hours: Iterable[ReportHoursInput]) -> str:
    """Work-hours lines as the form shows them (the reverse of :func:`parse_hours`)."""
    return "\n".join(f"{h.staff} {h.hours:g}" for h in hours)


_LINE_REF = re.compile(r"\b(parts|hours|attachments)\[(\d+)\](?:\.(\w+))?")
_FIELD_REF = re.compile(r"^(diagnosis|work_done|root_cause|fault_code_confirmed)\b")


def report_error_field(message: str) -> tuple[str | None, str]:
    """The report field a desk refusal is about, and the message with ``parts[2].quantity``
    written as the form's line (``line 2 (quantity)``); None when it names no field."""
    found = _LINE_REF.search(message)
    if found is not None:
        name, n, key = found.groups()
        where = _("line {n}").format(n=n) + (f" ({key})" if key else "")
        return name, message.replace(found.group(0), where, 1)
    found = _FIELD_REF.search(message)
    if found is not None:
        return found.group(1), message
    if message.startswith("first_time_fix"):
        return "first_time_fix", message
    return None, message


def said(message: str, *msgids: str) -> bool:
    """Whether ``message`` is one of the desk's messages ``msgids`` (translated, any values in
    their ``{placeholders}``): how a form tells which field a refusal is about."""
    for msgid in msgids:
        pattern = re.sub(r"\\\{\w+\\\}", ".*", re.escape(_(msgid)))
        if re.fullmatch(pattern, message, flags=re.DOTALL):
            return True
    return False


def _local_text(instant: datetime | None, tz: str) -> str:
    if instant is None:
        return ""
    return pendulum.instance(instant).in_timezone(tz).format("YYYY-MM-DD HH:mm")


def parse_when(text: str, tz: str, now: datetime) -> datetime | None:
    """``HH:MM`` (today) or ``YYYY-MM-DD HH:MM`` in the farm's timezone; empty: None (now).
    Raises ValueError with a translated message."""
    value = text.strip()
    if not value:
        return None
    zone = ZoneInfo(tz)
    try:
        if len(value) <= 5:
            clock = datetime.strptime(value, "%H:%M")
            today = now.astimezone(zone)
            local = today.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
        else:
            local = datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    except ValueError:
        raise ValueError(
            _("write the time as HH:MM or YYYY-MM-DD HH:MM (farm time), or leave it empty")
        ) from None
    return local.astimezone(ZoneInfo("UTC"))


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date (ValueError with a translated message)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(_("write the date as YYYY-MM-DD")) from None


def desk_today(now: datetime) -> date:
    """Today at the desk (the services' "today" for due and received dates)."""
    return now.astimezone(ZoneInfo(qs.DESK_TZ)).date()


# --------------------------------------------------------------------------------------------
# The form that saves itself


class SavingForm(FormScreen):
    """A form that sends its request through ``app.perform`` and stays open until it is saved.

    The desk's refusal is shown under the field it names (:meth:`error_field`), else on the line
    under the title; a valid request the desk accepts closes the form with :meth:`done_request`.
    """

    DEFAULT_CSS = """
    SavingForm #form-fields { height: auto; }
    SavingForm #form-refusal { color: $error; height: auto; display: none; }
    SavingForm #form-refusal.-shown { display: block; }
    SavingForm #form-note { color: $warning; height: auto; display: none; }
    SavingForm #form-note.-shown { display: block; }
    SavingForm TextArea { width: 1fr; height: 3; padding: 0; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.saving = False
        """True while the request is with the desk (a second Ctrl+S waits)."""
        self.saved: object | None = None
        """What the desk saved (the ticket snapshot or the register record), once it has."""

    def title_text(self) -> Text:
        """The title line (plain text: it may quote user text)."""
        return plain(self.form_title(), "bold")

    def form_hint(self) -> str:
        """The key hint under the fields."""
        return _("Ctrl+S save · Tab next field · Enter new line · Esc cancel")

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label(self.title_text(), id="form-title")
            yield Static("", id="form-note")
            yield Static("", id="form-refusal")
            with VerticalScroll(id="form-fields", can_focus=False):
                yield from self.compose_fields()
            yield Static(self.form_hint(), id="form-hint")

    def note(self, text: Text | str | None) -> None:
        """A line under the title (e.g. why QA returned the report); None hides it."""
        widget = self.query_one("#form-note", Static)
        widget.update(text if isinstance(text, Text) else plain(text or ""))
        widget.set_class(bool(text), "-shown")

    def refusal(self, text: str | None) -> None:
        """The desk's refusal that names no field (None hides it)."""
        widget = self.query_one("#form-refusal", Static)
        widget.update(plain(text or ""))
        widget.set_class(bool(text), "-shown")

    def clear_errors(self) -> None:
        super().clear_errors()
        if self.is_mounted:
            self.refusal(None)

    @on(TextArea.Changed)
    def _area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id in self._labels:
            self.clear_error(event.text_area.id)

    def area(self, name: str) -> str:
        """The text of TextArea ``#name``, without surrounding blank space."""
        return self.query_one(f"#{name}", TextArea).text.strip()

    def set_area(self, name: str, text: str) -> None:
        """Replace the text of TextArea ``#name``."""
        self.query_one(f"#{name}", TextArea).load_text(text)

    def text_area(self, name: str, placeholder: str) -> TextArea:
        """A multi-line field: Tab leaves it, Enter is a new line, no blinking cursor."""
        area = TextArea(
            id=name,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder=placeholder,
        )
        area.cursor_blink = False
        return area

    @on(Input.Submitted)
    def _enter_submits(self, event: Input.Submitted) -> None:
        """Enter in a one-line field moves on (these forms are long: Ctrl+S saves)."""
        event.stop()
        self.focus_next()

    # -- saving -------------------------------------------------------------------------------

    def accept(self, request: DeskRequest) -> None:
        if self.saving:
            return
        self.saving = True
        self.query_one("#form-hint", Static).update(_("Saving…"))
        self._save(request)

    @work(exclusive=True, group="form-save", exit_on_error=False)
    async def _save(self, request: DeskRequest) -> None:
        failures: list[BaseException] = []
        try:
            outcome = self.app.perform(request, on_error=failures.append)  # type: ignore[attr-defined]
            result = await outcome.wait() if isinstance(outcome, Worker) else outcome
        except WorkerFailed as failed:
            failures.append(failed.error)
            result = None
        finally:
            self.saving = False
            self.query_one("#form-hint", Static).update(self.form_hint())
        if failures or result is None:
            self.refused(failures[0] if failures else WindtuiError(_("not saved")))
            return
        self.saved = result
        self.dismiss(self.done_request())

    def refused(self, error: BaseException) -> None:
        """Show why the desk refused (under the field it names when it names one)."""
        if isinstance(error, SavedButRefused):
            self.after_partial_save(error.version)
        message = str(error) if isinstance(error, WindtuiError) else repr(error)
        field, text = self.error_field(message)
        if field is not None and field in self._labels:
            self.error(field, text)
            self.focus_first_error()
        else:
            self.refusal(text)

    def after_partial_save(self, version: int) -> None:
        """The first half was saved: the next attempt goes on from the ticket's new version."""

    def error_field(self, message: str) -> tuple[str | None, str]:
        """The field a refusal is about (None: the form as a whole) and the text to show."""
        return None, message

    def done_request(self) -> DeskRequest | None:
        """What the form dismisses with once saved (the opener performs it: a reload)."""
        return None


def _answer(value: bool | None) -> str | object:
    if value is None:
        return Select.NULL
    return YES if value else NO


def _flag(value: object) -> bool | None:
    if value == YES:
        return True
    if value == NO:
        return False
    return None


def _yes_no(name: str) -> Select[str]:
    return Select(
        [(_("yes"), YES), (_("no"), NO)],
        prompt=_("not answered"),
        id=name,
        compact=True,
    )


# --------------------------------------------------------------------------------------------
# The repair report


class ReportForm(SavingForm):
    """Write or revise a ticket's repair report; with "submit to QA" ticked, hand it over."""

    DEFAULT_CSS = """
    ReportForm > #form-box { height: 100%; max-height: 40; }
    ReportForm #form-title { margin-bottom: 0; }
    ReportForm #form-fields { height: 1fr; }
    ReportForm #root_cause, ReportForm #hours, ReportForm #attachments { height: 2; }
    """
    AUTO_FOCUS = "#diagnosis"

    AREAS = ("diagnosis", "work_done", "root_cause", "parts", "hours", "attachments")

    def __init__(self, ticket: TicketSnapshot, *, submit: bool, may_submit: bool) -> None:
        super().__init__()
        self.ticket = ticket
        self.number = ticket.number
        self.version: int | None = ticket.version
        self.site_visit = ticket.category.needs_site_visit
        self.submit_first = submit and may_submit
        self.may_submit = may_submit
        self.loaded = False
        """True once the stored report (or the defaults) filled the fields."""
        self._initial: dict[str, object] = {}

    def form_title(self) -> str:
        return _("Repair report · ticket #{number}").format(number=self.number)

    def title_text(self) -> Text:
        title = plain(self.form_title(), "bold")
        title.append_text(plain(f"  {self.ticket.title}"))
        title.truncate(78, overflow="ellipsis")
        return title

    def form_hint(self) -> str:
        return _("Ctrl+S save · Tab next field · Enter new line · Esc cancel")

    def compose_fields(self) -> ComposeResult:
        optional = "" if self.site_visit else " " + _("(optional here)")
        yield from self.row(
            "diagnosis", _("Diagnosis"), self.text_area("diagnosis", _("what was found"))
        )
        yield from self.row(
            "work_done", _("Work done"), self.text_area("work_done", _("what was done, tested"))
        )
        yield from self.row(
            "root_cause",
            _("Root cause"),
            self.text_area("root_cause", _("why it failed") + optional),
        )
        yield from self.row(
            "fault_code_confirmed",
            _("Fault code"),
            Input(
                placeholder=_("the fault code confirmed on site (optional)"),
                id="fault_code_confirmed",
                compact=True,
            ),
        )
        yield from self.row(
            "parts",
            _("Parts used"),
            self.text_area("parts", _("a line each: part number, description, quantity")),
        )
        yield from self.row(
            "hours",
            _("Work hours"),
            self.text_area("hours", _("a line per person: login hours, e.g. lizq 3.5") + optional),
        )
        yield from self.row("fixed", _("Fixed"), _yes_no("fixed"))
        yield from self.row("first_time_fix", _("First-time fix"), _yes_no("first_time_fix"))
        yield from self.row(
            "attachments",
            _("Attachments"),
            self.text_area("attachments", _("a file reference a line (path or URL)")),
        )
        if self.may_submit:
            yield from self.row(
                "submit",
                _("Submit to QA"),
                TickBox(_("after saving"), self.submit_first, id="submit", compact=True),
            )

    def on_mount(self) -> None:
        self._initial = self.values()
        self._load()

    @work(thread=True, exclusive=True, group="report-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            found = qs.ticket_quality(self.app.desk, self.number)  # type: ignore[attr-defined]
        except WindtuiError as error:
            self.app.call_from_thread(self.refusal, str(error))
            return
        self.app.call_from_thread(self._fill, found)

    def _fill(self, found: TicketQuality) -> None:
        """The stored report, else defaults: the ticket's fault code and the owner's hours from
        arrival to resolution (what a technician would write first)."""
        untouched = self.values() == self._initial
        returned = [r for r in found.reviews if r.outcome == "returned"]
        if returned and found.report is not None and returned[-1].revision == found.report.revision:
            last = returned[-1]
            self.note(
                plain(
                    _("Returned by {who}: {reason}").format(who=last.reviewer, reason=last.reason),
                    multiline=True,
                )
            )
        if untouched:
            if found.report is not None:
                self.fill(qs.report_input(found.report))
            else:
                self.fill(self._defaults())
        self._initial = self.values()
        self.loaded = True

    def _defaults(self) -> ReportInput:
        t = self.ticket
        hours: tuple[ReportHoursInput, ...] = ()
        tl = t.timeline
        if self.site_visit and t.owner and tl.arrived_at and tl.resolved_at:
            spent = (tl.resolved_at - tl.arrived_at).total_seconds() / 3600
            hours = (ReportHoursInput(t.owner, max(0.5, round(spent * 2) / 2)),)
        return ReportInput(fault_code_confirmed=t.fault_code, hours=hours)

    def fill(self, report: ReportInput) -> None:
        """Put ``report`` into the fields."""
        self.set_area("diagnosis", report.diagnosis)
        self.set_area("work_done", report.work_done)
        self.set_area("root_cause", report.root_cause)
        self.query_one("#fault_code_confirmed", Input).value = report.fault_code_confirmed or ""
        self.set_area("parts", parts_text(report.parts))
        self.set_area("hours", hours_text(report.hours))
        self.set_area("attachments", "\n".join(report.attachments))
        self.query_one("#fixed", Select).value = _answer(report.fixed)
        self.query_one("#first_time_fix", Select).value = _answer(report.first_time_fix)

    def values(self) -> dict[str, object]:
        """Every field's current value (to tell typed input from what was loaded)."""
        out: dict[str, object] = {name: self.area(name) for name in self.AREAS}
        out["fault_code_confirmed"] = self.text("fault_code_confirmed")
        out["fixed"] = self.query_one("#fixed", Select).value
        out["first_time_fix"] = self.query_one("#first_time_fix", Select).value
        return out

    @property
    def submitting(self) -> bool:
        """Whether "submit to QA" is ticked."""
        boxes = self.query("#submit")
        return bool(boxes) and bool(boxes.first(TickBox).value)

    def build_request(self) -> ReportRequest | None:
        parts, part_problems = parse_parts(self.area("parts"))
        hours, hour_problems = parse_hours(self.area("hours"))
        for problem in part_problems[:1]:
            self.error("parts", problem)
        for problem in hour_problems[:1]:
            self.error("hours", problem)
        if part_problems or hour_problems:
            return None
        data = ReportInput(
            diagnosis=self.area("diagnosis"),
            work_done=self.area("work_done"),
            root_cause=self.area("root_cause"),
            fault_code_confirmed=self.text("fault_code_confirmed") or None,
            parts=parts,
            hours=hours,
            fixed=_flag(self.query_one("#fixed", Select).value),
            first_time_fix=_flag(self.query_one("#first_time_fix", Select).value),
            attachments=parse_lines(self.area("attachments")),
        )
        try:
            clean = qs.check_report(data)
        except Refused as error:
            field, text = report_error_field(str(error))
            if field is None:
                self.refusal(text)
            else:
                self.error(field, text)
            return None
        submit = self.submitting
        if submit:
            missing = qs.missing_fields(clean, site_visit=self.site_visit)
            for name in missing:
                self.error(name, _("required to submit"))
            if missing:
                self.refusal(
                    _(
                        "ticket {number}'s repair report lacks {fields}: complete it before"
                        " submitting"
                    ).format(number=self.number, fields=", ".join(qs.label(m) for m in missing))
                )
                return None
        return ReportRequest(self.number, data, submit=submit, expected_version=self.version)

    def error_field(self, message: str) -> tuple[str | None, str]:
        return report_error_field(message)

    def after_partial_save(self, version: int) -> None:
        self.version = version
        self._initial = self.values()  # what is in the fields is saved now

    def done_request(self) -> DeskRequest | None:
        return ReloadRequest(self.number)

    @property
    def has_unsaved_input(self) -> bool:
        return self.values() != self._initial


# --------------------------------------------------------------------------------------------
# The satisfaction survey


SCORE_LABELS = {
    5: N_("very satisfied"),
    4: N_("satisfied"),
    3: N_("neutral"),
    2: N_("dissatisfied"),
    1: N_("very dissatisfied"),
}


class SurveyForm(SavingForm):
    """Record (or correct) a ticket's satisfaction survey; with "record the follow-up" ticked,
    the follow-up step too. A score of 2 or less opens an analysis item (the desk does)."""

    AUTO_FOCUS = "#score"

    def __init__(self, ticket: TicketSnapshot, *, followup: bool, may_followup: bool) -> None:
        super().__init__()
        self.ticket = ticket
        self.number = ticket.number
        self.version: int | None = ticket.version
        self.followup_first = followup and may_followup
        self.may_followup = may_followup
        self.loaded = False
        self._initial: dict[str, object] = {}

    def form_title(self) -> str:
        return _("Satisfaction survey · ticket #{number}").format(number=self.number)

    def title_text(self) -> Text:
        title = plain(self.form_title(), "bold")
        title.append_text(plain(f"  {self.ticket.title}"))
        title.truncate(78, overflow="ellipsis")
        return title

    def compose_fields(self) -> ComposeResult:
        scores = [(f"{n} · {_(SCORE_LABELS[n])}", n) for n in sorted(SCORE_LABELS, reverse=True)]
        yield from self.row(
            "score", _("Score"), Select(scores, prompt=_("choose 1–5"), id="score", compact=True)
        )
        yield from self.row(
            "comments", _("Comments"), self.text_area("comments", _("what the customer said"))
        )
        channels = [(qs.label(c), c) for c in qs.SURVEY_CHANNELS]
        yield from self.row(
            "channel",
            _("How"),
            Select(channels, value=qs.SURVEY_CHANNELS[0], allow_blank=False, id="channel",
                   compact=True),
        )  # fmt: skip
        yield from self.row(
            "caller",
            _("Who called"),
            Input(current_login() or "", placeholder=_("staff login (you)"), id="caller",
                  compact=True),
        )  # fmt: skip
        yield from self.row(
            "when",
            _("When"),
            Input(placeholder=_("now · or HH:MM · or YYYY-MM-DD HH:MM (farm time)"), id="when",
                  compact=True),
        )  # fmt: skip
        if self.may_followup:
            box = TickBox(_("after saving"), self.followup_first, id="followup", compact=True)
            yield from self.row("followup", _("Record follow-up"), box)

    def on_mount(self) -> None:
        self._initial = self.values()
        self._load()

    @work(thread=True, exclusive=True, group="survey-load", exit_on_error=False)
    def _load(self) -> None:
        try:
            found = qs.ticket_quality(self.app.desk, self.number)  # type: ignore[attr-defined]
        except WindtuiError as error:
            self.app.call_from_thread(self.refusal, str(error))
            return
        self.app.call_from_thread(self._fill, found)

    def _fill(self, found: TicketQuality) -> None:
        survey = found.survey
        if survey is not None and self.values() == self._initial:
            self.query_one("#score", Select).value = survey.score
            self.set_area("comments", survey.comments)
            self.query_one("#channel", Select).value = survey.channel
            self.query_one("#caller", Input).value = survey.caller
            tz = self.ticket.farm_timezone
            self.query_one("#when", Input).value = _local_text(survey.contacted_at, tz)
            self.note(
                _("Recorded {when} by {who}: correcting it replaces it").format(
                    when=_local_text(survey.recorded_at, tz), who=survey.caller
                )
            )
        self._initial = self.values()
        self.loaded = True

    def values(self) -> dict[str, object]:
        return {
            "score": self.query_one("#score", Select).value,
            "comments": self.area("comments"),
            "channel": self.query_one("#channel", Select).value,
            "caller": self.text("caller"),
            "when": self.text("when"),
        }

    def build_request(self) -> SurveyRequest | None:
        score = self.query_one("#score", Select).value
        valid = True
        if score is Select.NULL:
            self.error("score", _("choose a score from 1 to 5"))
            valid = False
        now = self.app.clock()  # type: ignore[attr-defined]
        try:
            when = parse_when(self.text("when"), self.ticket.farm_timezone, now)
        except ValueError as error:
            self.error("when", str(error))
            valid = False
            when = None
        if not valid:
            return None
        boxes = self.query("#followup")
        followup = bool(boxes) and bool(boxes.first(TickBox).value)
        return SurveyRequest(
            self.number,
            int(score),  # type: ignore[call-overload]
            self.area("comments"),
            channel=str(self.query_one("#channel", Select).value),
            caller=self.text("caller") or None,
            contacted_at=when,
            followup=followup,
            expected_version=self.version,
        )

    def error_field(self, message: str) -> tuple[str | None, str]:
        if message.startswith(("caller", "comments")):
            return message.split(":", 1)[0].split("：", 1)[0].split(" ", 1)[0], message
        if said(
            message, "the survey call at {at} is before ticket {number} was resolved ({resolved})"
        ):
            return "when", message
        return None, message

    def after_partial_save(self, version: int) -> None:
        self.version = version
        self._initial = self.values()

    def done_request(self) -> DeskRequest | None:
        return ReloadRequest(self.number)

    @property
    def has_unsaved_input(self) -> bool:
        return self.values() != self._initial


# --------------------------------------------------------------------------------------------
# The quality section of the ticket detail


def _yes(value: bool | None) -> str:
    if value is None:
        return _("not answered")
    return _("yes") if value else _("no")


def _name(zh: str, en: str) -> str:
    return zh if current_language() == "zh_CN" else en


def quality_table(found: TicketQuality, tz: str) -> RenderableType:
    """The report, the reviews, the survey and the improvement items of one ticket: label /
    value rows, every typed value as plain text."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    report = found.report
    if report is None:
        table.add_row(_("Repair report"), Text(_("not written yet"), style="dim"))
    else:
        if report.revision:
            head = _("revision {n}, submitted {when}").format(
                n=report.revision, when=_local_text(report.submitted_at, tz)
            )
        else:
            head = _("draft, not submitted yet")
        state = plain(f"{head} · {report.author}")
        if report.missing:
            state.append(
                "  "
                + _("missing: {fields}").format(
                    fields=", ".join(qs.label(m) for m in report.missing)
                ),
                style="bold yellow",
            )
        table.add_row(_("Repair report"), state)
        table.add_row(_("Diagnosis"), plain(report.diagnosis or "—", multiline=True))
        table.add_row(_("Work done"), plain(report.work_done or "—", multiline=True))
        table.add_row(_("Root cause"), plain(report.root_cause or "—", multiline=True))
        table.add_row(_("Fault code"), plain(report.fault_code_confirmed or "—"))
        parts = "; ".join(
            f"{p.part_number} {p.description} × {p.quantity:g}".replace("  ", " ")
            for p in report.parts
        )
        table.add_row(_("Parts used"), plain(parts or "—"))
        hours = "; ".join(
            f"{_name(h.name_zh, h.name_en)} ({h.staff}) {h.hours:g} h" for h in report.hours
        )
        table.add_row(_("Work hours"), plain(hours or "—"))
        fixed = Text(f"{_('Fixed')}: {_yes(report.fixed)} · ")
        fixed.append(f"{_('First-time fix')}: {_yes(report.first_time_fix)}")
        table.add_row(_("Outcome"), fixed)
        if report.attachments:
            table.add_row(_("Attachments"), plain("\n".join(report.attachments), multiline=True))
    for review in found.reviews:
        line = plain(
            f"{_local_text(review.reviewed_at, tz)} {review.reviewer} · "
            + _("revision {n}").format(n=review.revision)
            + " · "
        )
        style = "green" if review.outcome == "approved" else "bold yellow"
        line.append(qs.label(review.outcome), style=style)
        if review.reason:
            line.append_text(plain(f" — {review.reason}", multiline=True))
        table.add_row(_("QA review"), line)
    survey = found.survey
    if survey is not None:
        line = Text(f"{survey.score}/5 ", style="bold red" if survey.score <= qs.LOW_SCORE else "")
        line.append_text(
            plain(
                f"· {qs.label(survey.channel)} · {survey.caller} · "
                f"{_local_text(survey.contacted_at, tz)}"
            )
        )
        if survey.comments:
            line.append_text(plain(f" — {survey.comments}", multiline=True))
        table.add_row(_("Survey"), line)
    for item in found.improvements:
        line = plain(f"#{item.id} {qs.label(item.kind)} · {qs.label(item.status)}")
        if item.due is not None:
            line.append(" · " + _("due {day}").format(day=item.due.isoformat()),
                        style="bold red" if item.overdue else "")  # fmt: skip
        line.append_text(plain(f" — {item.title}"))
        table.add_row(_("Improvement"), line)
    return table


def has_records(found: TicketQuality | None, state: TicketState) -> bool:
    """Whether the detail shows a quality section: once there is a record, or once the ticket is
    resolved (a report is due then)."""
    if found is None:
        return False
    if found.report or found.reviews or found.survey or found.improvements:
        return True
    return state in (TicketState.RESOLVED, TicketState.REPORT_SUBMITTED)


# --------------------------------------------------------------------------------------------
# The registers: improvements and suggestions


IMPROVEMENT_FILTERS: tuple[tuple[str, str], ...] = (
    ("active", N_("open or in progress")),
    ("overdue", N_("overdue")),
    ("open", N_("open")),
    ("in_progress", N_("in progress")),
    ("done", N_("done")),
    ("cancelled", N_("cancelled")),
    ("all", N_("all")),
)
SUGGESTION_FILTERS: tuple[tuple[str, str], ...] = (
    ("all", N_("all")),
    ("new", N_("new")),
    ("evaluating", N_("evaluating")),
    ("adopted", N_("adopted")),
    ("rejected", N_("rejected")),
)


def improvement_matches(item: ImprovementRecord, key: str) -> bool:
    """Whether ``item`` passes the status filter ``key``."""
    if key == "all":
        return True
    if key == "active":
        return item.status in ("open", "in_progress")
    if key == "overdue":
        return item.overdue
    return item.status == key


KIND_SHORT = {"action": N_("Action"), "analysis": N_("Analysis")}
"""Short kind labels for the register's column."""


class ImprovementList(LineTable):
    """Analysis items and improvement actions, by due date."""

    COLUMNS = (
        Column("id", N_("ID"), 4, align="right", fit_title=True),
        Column("due", N_("Due"), 10),
        Column("status", N_("Status"), 11, fit_title=True),
        Column("kind", N_("Kind"), 8, drop=1, fit_title=True),
        Column("category", N_("Category"), 11, drop=2, fit_title=True),
        Column("owner", N_("Owner"), 8, fit_title=True),
        Column("ticket", N_("Ticket"), 6, align="right", drop=3, fit_title=True),
        Column("title", N_("Title"), 24, flex=True),
    )
    EMPTY_TEXT = N_("No improvement items here")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: dict[Hashable, ImprovementRecord] = {}

    @property
    def selected(self) -> ImprovementRecord | None:
        """The item under the cursor."""
        return self.items.get(self.cursor_key) if self.cursor_key is not None else None

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        item = self.items[key]
        late = "line-table--at-risk" if item.overdue else None
        return (
            (str(item.id), None),
            (item.due.isoformat() if item.due else "—", late),
            (qs.label(item.status), late),
            (_(KIND_SHORT.get(item.kind, item.kind)), None),
            (qs.label(item.category), None),
            (item.owner or "—", None),
            (str(item.ticket) if item.ticket else "—", None),
            (item.title, None),
        )

    def row_style(self, key: Hashable) -> str | None:
        item = self.items[key]
        return "line-table--dim" if item.status in ("done", "cancelled") else None


class SuggestionList(LineTable):
    """The suggestions register, newest received first."""

    COLUMNS = (
        Column("id", N_("ID"), 4, align="right", fit_title=True),
        Column("received", N_("Received on"), 10, fit_title=True),
        Column("status", N_("Status"), 10, fit_title=True),
        Column("source", N_("Source"), 9, drop=2, fit_title=True),
        Column("farm", N_("Farm"), 4, drop=1, fit_title=True),
        Column("ticket", N_("Ticket"), 6, align="right", drop=3, fit_title=True),
        Column("text", N_("Suggestion"), 24, flex=True),
    )
    EMPTY_TEXT = N_("No suggestions here")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: dict[Hashable, SuggestionRecord] = {}

    @property
    def selected(self) -> SuggestionRecord | None:
        """The suggestion under the cursor."""
        return self.items.get(self.cursor_key) if self.cursor_key is not None else None

    def row_cells(self, key: Hashable) -> tuple[Cell, ...]:
        item = self.items[key]
        style = {"adopted": "line-table--met", "rejected": "line-table--dim"}.get(item.status)
        return (
            (str(item.id), None),
            (item.received_on.isoformat(), None),
            (qs.label(item.status), style),
            (qs.label(item.source), None),
            (item.farm or "—", None),
            (str(item.ticket) if item.ticket else "—", None),
            (item.text.replace("\n", " "), None),
        )


REGISTERS = ("improvements", "suggestions")


class RegistersScreen(Screen[None]):
    """The improvements register (analysis items, improvement actions) and the suggestions
    register with its adoption rate: a status filter, add, change status, open the ticket."""

    DEFAULT_CSS = """
    RegistersScreen { layout: vertical; }
    RegistersScreen #reg-tabs { height: 1; background: $panel; padding: 0 1; }
    RegistersScreen #reg-summary { height: 1; padding: 0 1; color: $text-muted; }
    RegistersScreen #reg-head { height: 1; color: $text-muted; text-style: bold; }
    RegistersScreen LineTable { height: 1fr; }
    RegistersScreen #reg-detail {
        height: 3;
        padding: 0 1;
        border-top: solid $panel-lighten-2;
    }
    RegistersScreen #reg-keys { height: 1; background: $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('improvements')", N_("Improvements"), show=False,
                id="quality.improvements"),
        Binding("2", "show('suggestions')", N_("Suggestions"), show=False,
                id="quality.suggestions"),
        Binding("tab", "switch", N_("Other register"), show=False, id="quality.switch"),
        Binding("f", "cycle_filter", N_("Status filter"), show=False, id="quality.filter"),
        Binding("a", "add", N_("Add"), show=False, id="quality.add"),
        Binding("s", "change", N_("Change status"), show=False, id="quality.change"),
        Binding("enter", "open_ticket", N_("Open ticket"), show=False, id="quality.open"),
        Binding("ctrl+r", "reload", N_("Reload"), show=False, id="quality.reload"),
        Binding("question_mark", "help", N_("Help"), show=False, id="quality.help"),
        Binding("escape", "back", N_("Back"), show=False, id="quality.back"),
    ]  # fmt: skip
    AUTO_FOCUS = "#improvements"

    def __init__(self, register: str = "improvements") -> None:
        super().__init__()
        translate_bindings(self)
        self.register = register
        self.filters = {"improvements": "active", "suggestions": "all"}
        self.improvements: list[ImprovementRecord] = []
        self.suggestions: list[SuggestionRecord] = []
        self.rate: Any = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static("", id="reg-tabs")
        yield Static("", id="reg-summary")
        yield Static("", id="reg-head")
        yield ImprovementList(id="improvements")
        yield SuggestionList(id="suggestions")
        yield Static("", id="reg-detail")
        yield Static("", id="reg-keys")

    def on_mount(self) -> None:
        self.load()
        self._switch_to(self.register)

    # -- data -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="registers", exit_on_error=False)
    def load(self) -> None:
        """Read both registers and the year's adoption rate (thread)."""
        desk = self.app.desk  # type: ignore[attr-defined]
        try:
            improvements = qs.improvements(desk)
            suggestions = qs.suggestions(desk)
            today = desk_today(self.app.clock())  # type: ignore[attr-defined]
            rate = qs.adoption_rate(desk, today - timedelta(days=365), today)
        except WindtuiError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._loaded, improvements, suggestions, rate)

    def _failed(self, message: str) -> None:
        self.query_one("#reg-summary", Static).update(plain(message, "bold red"))

    def _loaded(
        self, improvements: list[ImprovementRecord], suggestions: list[SuggestionRecord], rate: Any
    ) -> None:
        self.improvements, self.suggestions, self.rate = improvements, suggestions, rate
        self.loaded = True
        self._refresh_rows()

    @property
    def table(self) -> ImprovementList | SuggestionList:
        """The list on show."""
        if self.register == "improvements":
            return self.query_one(ImprovementList)
        return self.query_one(SuggestionList)

    def _refresh_rows(self) -> None:
        key = self.filters[self.register]
        if self.register == "improvements":
            shown = [i for i in self.improvements if improvement_matches(i, key)]
            imp = self.query_one(ImprovementList)
            imp.items = {i.id: i for i in shown}
            imp.set_rows([i.id for i in shown])
        else:
            shown_s = [s for s in self.suggestions if key == "all" or s.status == key]
            sug = self.query_one(SuggestionList)
            sug.items = {s.id: s for s in shown_s}
            sug.set_rows([s.id for s in shown_s])
        self._render_header()
        self._render_detail()

    def _render_header(self) -> None:
        tabs = Text()
        names = {"improvements": _("Improvements"), "suggestions": _("Suggestions")}
        counts = {"improvements": len(self.improvements), "suggestions": len(self.suggestions)}
        for n, register in enumerate(REGISTERS, 1):
            label = f" {n} {names[register]} ({counts[register]}) "
            tabs.append(label, style="reverse bold" if register == self.register else "")
            tabs.append(" ")
        filters = IMPROVEMENT_FILTERS if self.register == "improvements" else SUGGESTION_FILTERS
        chosen = dict(filters)[self.filters[self.register]]
        tabs.append("  " + _("Status: {filter}").format(filter=_(chosen)), style="bold")
        self.query_one("#reg-tabs", Static).update(tabs)
        self.query_one("#reg-summary", Static).update(self._summary())
        self.query_one("#reg-head", Static).update(self.table.header_text())

    def _summary(self) -> Text:
        if self.register == "improvements":
            items = self.improvements
            line = Text(
                _("open {open} · in progress {busy} · overdue {late} · done {done}").format(
                    open=sum(i.status == "open" for i in items),
                    busy=sum(i.status == "in_progress" for i in items),
                    late=sum(i.overdue for i in items),
                    done=sum(i.status == "done" for i in items),
                )
            )
            return line
        rate = self.rate
        if rate is None:
            return Text("")
        value = "–" if rate.rate is None else f"{rate.rate * 100:.1f} %"
        style = "green" if rate.rate is not None and rate.rate >= 0.8 else "bold yellow"
        line = Text(_("Adopted, last 12 months: "))
        line.append(value, style=style)
        line.append(
            " · "
            + _("{adopted} of {decided} decided · {pending} pending · target 80 %").format(
                adopted=rate.adopted, decided=rate.adopted + rate.rejected, pending=rate.pending
            )
        )
        return line

    def _render_detail(self) -> None:
        text = Text()
        if self.register == "improvements":
            item = self.query_one(ImprovementList).selected
            if item is not None:
                owner = _name(item.owner_name_zh or "", item.owner_name_en or "") or item.owner
                text.append_text(plain(item.title, "bold", multiline=True))
                text.append("\n")
                text.append_text(
                    plain(
                        f"{qs.label(item.kind)} · {qs.label(item.category)} · {owner or '—'}"
                        + (f" · #{item.ticket}" if item.ticket else "")
                        + (f" · ← {item.parent}" if item.parent else "")
                    )
                )
                if item.notes:
                    text.append("\n")
                    text.append_text(plain(item.notes.splitlines()[-1], "dim"))
        else:
            suggestion = self.query_one(SuggestionList).selected
            if suggestion is not None:
                text.append_text(plain(suggestion.text, "bold", multiline=True))
                text.append("\n")
                who = [
                    qs.label(suggestion.source),
                    suggestion.customer or "",
                    suggestion.farm or "",
                ]
                if suggestion.decided_on is not None:
                    who.append(
                        _("decided {day} by {who}").format(
                            day=suggestion.decided_on.isoformat(), who=suggestion.decided_by or "—"
                        )
                    )
                text.append_text(plain(" · ".join(w for w in who if w)))
        self.query_one("#reg-detail", Static).update(text)
        self._render_keys()

    def _render_keys(self) -> None:
        line = Text()

        def add(key: str, label: str) -> None:
            if line:
                line.append(" ")
            line.append(f" {key} ", style="reverse bold")
            line.append(" " + label)

        operation = access.IMPROVEMENT if self.register == "improvements" else access.SUGGESTION
        add("1/2", _("Register"))
        add("f", _("Filter"))
        if role_may(operation):
            add("a", _("Add"))
            add("s", _("Change"))
        add("Enter", _("Ticket"))
        add("Esc", _("Back"))
        self.query_one("#reg-keys", Static).update(line)

    @on(LineTable.Moved)
    def _moved(self, event: LineTable.Moved) -> None:
        event.stop()
        self._render_detail()

    # -- actions ----------------------------------------------------------------------------
    def _switch_to(self, register: str) -> None:
        self.register = register
        for name in REGISTERS:
            self.query_one(f"#{name}").display = name == register
        self.set_focus(self.table)
        self._refresh_rows()
        self.call_after_refresh(self._render_head)  # the columns fit the list once it is shown

    def on_resize(self) -> None:
        self.call_after_refresh(self._render_head)

    def _render_head(self) -> None:
        self.query_one("#reg-head", Static).update(self.table.header_text())

    def action_show(self, register: str) -> None:
        """``1`` / ``2``: the improvements or the suggestions register."""
        self._switch_to(register)

    def action_switch(self) -> None:
        """Tab: the other register."""
        index = REGISTERS.index(self.register)
        self._switch_to(REGISTERS[(index + 1) % len(REGISTERS)])

    def action_cycle_filter(self) -> None:
        """``f``: the next status filter."""
        filters = IMPROVEMENT_FILTERS if self.register == "improvements" else SUGGESTION_FILTERS
        keys = [k for k, _label in filters]
        current = keys.index(self.filters[self.register])
        self.filters[self.register] = keys[(current + 1) % len(keys)]
        self._refresh_rows()

    def _may(self, operation: str) -> bool:
        if role_may(operation):
            return True
        needed = _(" or ").join(_(r.label) for r in access.needed_roles(operation))
        self.app.notify(
            _("{action} needs the {roles} role").format(
                action=_(access.operation_label(operation)), roles=needed
            ),
            severity="warning",
        )
        return False

    def action_add(self) -> None:
        """``a``: a new improvement item or suggestion."""
        today = desk_today(self.app.clock())  # type: ignore[attr-defined]
        if self.register == "improvements":
            if not self._may(access.IMPROVEMENT):
                return
            selected = self.query_one(ImprovementList).selected
            parent = selected.id if selected is not None and selected.kind == "analysis" else None
            ticket = selected.ticket if parent is not None and selected is not None else None
            form: SavingForm = ImprovementForm(today, parent=parent, ticket=ticket)
        else:
            if not self._may(access.SUGGESTION):
                return
            form = SuggestionForm(today)
        self.app.push_screen(form, self._after_form)

    def action_change(self) -> None:
        """``s``: move the selected item on (status; an improvement also owner, due, note)."""
        if self.register == "improvements":
            if not self._may(access.IMPROVEMENT):
                return
            item = self.query_one(ImprovementList).selected
            if item is None:
                self.app.notify(_("No item selected"), severity="warning")
                return
            form: SavingForm = ImprovementUpdateForm(item)
        else:
            if not self._may(access.SUGGESTION):
                return
            suggestion = self.query_one(SuggestionList).selected
            if suggestion is None:
                self.app.notify(_("No item selected"), severity="warning")
                return
            if suggestion.status in ("adopted", "rejected"):
                self.app.notify(
                    _("suggestion {id} is {status}: a decision is final").format(
                        id=suggestion.id, status=qs.label(suggestion.status)
                    ),
                    severity="warning",
                )
                return
            form = SuggestionStatusForm(suggestion)
        self.app.push_screen(form, self._after_form)

    def _after_form(self, _request: DeskRequest | None) -> None:
        self.load()

    def action_open_ticket(self) -> None:
        """Enter: the selected item's ticket."""
        table = self.table
        selected = table.selected
        number = getattr(selected, "ticket", None) if selected is not None else None
        if number is None:
            self.app.notify(_("No ticket for this item"), severity="warning")
            return
        self.app.open_detail(number)  # type: ignore[attr-defined]

    def action_reload(self) -> None:
        """Ctrl+R: read the registers again."""
        self.load()

    def action_help(self) -> None:
        """Help for this screen."""
        from windtui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("quality"))

    def action_back(self) -> None:
        """Esc: back to the desk."""
        self.dismiss(None)


def open_registers(app: Any, register: str = "improvements") -> None:
    """Open the registers (or bring the open one forward); anyone who reads every ticket may
    look, adding and changing follow the roles."""
    for screen in reversed(app.screen_stack):
        if isinstance(screen, RegistersScreen):
            while app.screen is not screen:
                app.pop_screen()
            screen.action_show(register)
            return
    if not role_may(access.READ):
        needed = _(" or ").join(_(r.label) for r in access.needed_roles(access.READ))
        app.notify(
            _("{action} needs the {roles} role").format(
                action=_(access.operation_label(access.READ)), roles=needed
            ),
            severity="warning",
        )
        return
    app.push_screen(RegistersScreen(register))


# --------------------------------------------------------------------------------------------
# The register forms


def _choice_select(
    codes: Iterable[str], name: str, *, value: str | None = None, prompt: str = ""
) -> Select[str]:
    options = [(qs.label(c), c) for c in codes]
    if value is None:
        return Select(options, prompt=prompt, id=name, compact=True)
    return Select(options, value=value, allow_blank=False, id=name, compact=True)


def _optional_int(text: str) -> int | None:
    value = text.strip().lstrip("#")
    return int(value) if value else None


class ImprovementForm(SavingForm):
    """Open an improvement action (or an analysis item): title, category, owner, due date,
    optionally the ticket and the analysis item it answers, notes."""

    AUTO_FOCUS = "#title"

    def __init__(
        self, today: date, *, parent: int | None = None, ticket: int | None = None
    ) -> None:
        super().__init__()
        self.today = today
        self.answers = parent
        """The analysis item the new action answers (prefilled from the register's cursor)."""
        self.ticket_number = ticket
        self._initial: tuple[object, ...] = ()

    def form_title(self) -> str:
        return _("New improvement item")

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "kind", _("Kind"), _choice_select(qs.IMPROVEMENT_KINDS, "kind", value="action")
        )
        yield from self.row(
            "title", _("Title"), Input(placeholder=_("what will be done"), id="title", compact=True)
        )
        yield from self.row(
            "category",
            _("Category"),
            _choice_select(qs.IMPROVEMENT_CATEGORIES, "category", value="training"),
        )
        yield from self.row(
            "owner", _("Owner"), Input(current_login() or "", id="owner", compact=True)
        )
        due = (self.today + timedelta(days=30)).isoformat()
        yield from self.row("due", _("Due"), Input(due, placeholder="YYYY-MM-DD", id="due",
                                                   compact=True))  # fmt: skip
        yield from self.row(
            "ticket",
            _("Ticket"),
            Input(str(self.ticket_number or ""), placeholder=_("number (optional)"), id="ticket",
                  compact=True),
        )  # fmt: skip
        yield from self.row(
            "parent",
            _("Answers item"),
            Input(str(self.answers or ""), placeholder=_("analysis item number (optional)"),
                  id="parent", compact=True),
        )  # fmt: skip
        yield from self.row("notes", _("Notes"), self.text_area("notes", _("optional")))

    def on_mount(self) -> None:
        self._initial = self._values()

    def _values(self) -> tuple[object, ...]:
        return (
            self.text("title"),
            self.text("owner"),
            self.text("due"),
            self.text("ticket"),
            self.text("parent"),
            self.area("notes"),
        )

    def build_request(self) -> ImprovementRequest | None:
        valid = True
        title = self.text("title")
        if not title:
            self.error("title", _("required"))
            valid = False
        owner = self.text("owner")
        if not owner:
            self.error("owner", _("required"))
            valid = False
        try:
            due = parse_day(self.text("due"))
        except ValueError as error:
            self.error("due", str(error))
            valid = False
        numbers: dict[str, int | None] = {}
        for name in ("ticket", "parent"):
            try:
                numbers[name] = _optional_int(self.text(name))
            except ValueError:
                self.error(name, _("a number, or empty"))
                valid = False
        if not valid:
            return None
        return ImprovementRequest(
            ImprovementInput(
                title=title,
                owner=owner,
                due=due,
                kind=str(self.query_one("#kind", Select).value),
                category=str(self.query_one("#category", Select).value),
                parent=numbers["parent"],
                ticket=numbers["ticket"],
                notes=self.area("notes"),
            )
        )

    def error_field(self, message: str) -> tuple[str | None, str]:
        if message.startswith(("owner", "title", "notes")):
            return message.split(":", 1)[0].split("：", 1)[0].split(" ", 1)[0], message
        if said(message, "the due date {due} is in the past (today is {today})"):
            return "due", message
        if said(message, "ticket {number} not found"):
            return "ticket", message
        if said(
            message,
            "improvement {id} not found",
            "improvement {id} is an action, not an analysis: an action's parent is the analysis"
            " item it answers",
            "an analysis item has no parent: only actions answer an analysis",
        ):
            return "parent", message
        return None, message

    @property
    def has_unsaved_input(self) -> bool:
        return self._values() != self._initial


class ImprovementUpdateForm(SavingForm):
    """Move an improvement item on: its status, owner, due date, or a dated note."""

    AUTO_FOCUS = "#status"

    def __init__(self, item: ImprovementRecord) -> None:
        super().__init__()
        self.item = item
        self.closed = item.status not in ("open", "in_progress")

    def form_title(self) -> str:
        return _("Improvement item {id}").format(id=self.item.id)

    def title_text(self) -> Text:
        title = plain(self.form_title(), "bold")
        title.append_text(plain(f"  {self.item.title}"))
        title.truncate(78, overflow="ellipsis")
        return title

    def compose_fields(self) -> ComposeResult:
        nexts = {
            "open": ("in_progress", "done", "cancelled"),
            "in_progress": ("done", "cancelled"),
        }.get(self.item.status, ())
        prompt = _("unchanged: {status}").format(status=qs.label(self.item.status))
        yield from self.row("status", _("Status"), _choice_select(nexts, "status", prompt=prompt))
        yield from self.row(
            "owner", _("Owner"), Input(self.item.owner or "", id="owner", compact=True,
                                       disabled=self.closed)
        )  # fmt: skip
        due = self.item.due.isoformat() if self.item.due else ""
        yield from self.row(
            "due", _("Due"), Input(due, placeholder="YYYY-MM-DD", id="due", compact=True,
                                   disabled=self.closed)
        )  # fmt: skip
        yield from self.row("note", _("Note"), self.text_area("note", _("what happened")))

    def on_mount(self) -> None:
        if self.closed:
            self.note(_("a closed item only takes notes"))

    def build_request(self) -> ImprovementUpdateRequest | None:
        status = self.query_one("#status", Select).value
        owner = self.text("owner")
        due_text = self.text("due")
        due: date | None = None
        if due_text and due_text != (self.item.due.isoformat() if self.item.due else ""):
            try:
                due = parse_day(due_text)
            except ValueError as error:
                self.error("due", str(error))
                return None
        request = ImprovementUpdateRequest(
            self.item.id,
            status=None if status is Select.NULL else str(status),
            owner=owner if owner and owner != (self.item.owner or "") else None,
            due=due,
            note=self.area("note") or None,
        )
        if (request.status, request.owner, request.due, request.note) == (None,) * 4:
            self.error("status", _("change the status, owner or due date, or add a note"))
            return None
        return request

    def error_field(self, message: str) -> tuple[str | None, str]:
        if message.startswith("owner"):
            return "owner", message
        if said(message, "the due date {due} is in the past (today is {today})"):
            return "due", message
        if message.startswith("note"):
            return "note", message
        return None, message

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.area("note")) or self.query_one("#status", Select).value is not Select.NULL


class SuggestionForm(SavingForm):
    """Register a customer suggestion: source, text, the day it came in, optionally the farm
    or the ticket it came with."""

    AUTO_FOCUS = "#source"

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today

    def form_title(self) -> str:
        return _("New customer suggestion")

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "source", _("Source"), _choice_select(qs.SUGGESTION_SOURCES, "source", value="survey")
        )
        yield from self.row(
            "text", _("Suggestion"), self.text_area("text", _("as the customer put it"))
        )
        yield from self.row(
            "received", _("Received"), Input(self.today.isoformat(), placeholder="YYYY-MM-DD",
                                             id="received", compact=True)
        )  # fmt: skip
        yield from self.row(
            "farm", _("Farm"), Input(placeholder=_("farm code (optional)"), id="farm", compact=True)
        )
        yield from self.row(
            "ticket",
            _("Ticket"),
            Input(placeholder=_("number (optional)"), id="ticket", compact=True),
        )

    def build_request(self) -> SuggestionRequest | None:
        valid = True
        text = self.area("text")
        if not text:
            self.error("text", _("required"))
            valid = False
        try:
            received = parse_day(self.text("received"))
        except ValueError as error:
            self.error("received", str(error))
            valid = False
        try:
            ticket = _optional_int(self.text("ticket"))
        except ValueError:
            self.error("ticket", _("a number, or empty"))
            valid = False
        if not valid:
            return None
        return SuggestionRequest(
            SuggestionInput(
                source=str(self.query_one("#source", Select).value),
                text=text,
                received_on=received,
                farm=self.text("farm").upper() or None,
                ticket=ticket,
            )
        )

    def error_field(self, message: str) -> tuple[str | None, str]:
        if said(message, "farm {name} not found", "ticket {number} is not at farm {farm}"):
            return "farm", message
        if said(message, "ticket {number} not found"):
            return "ticket", message
        if said(message, "the received date {day} is in the future (today is {today})"):
            return "received", message
        if message.startswith("text"):
            return "text", message
        return None, message

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.area("text") or self.text("farm") or self.text("ticket"))


class SuggestionStatusForm(SavingForm):
    """Move a suggestion on: evaluating, adopted or rejected (a decision is final)."""

    AUTO_FOCUS = "#status"

    def __init__(self, suggestion: SuggestionRecord) -> None:
        super().__init__()
        self.suggestion = suggestion

    def form_title(self) -> str:
        return _("Suggestion {id}").format(id=self.suggestion.id)

    def form_hint(self) -> str:
        return _("Ctrl+S save · Esc cancel")

    def compose_fields(self) -> ComposeResult:
        nexts = {
            "new": ("evaluating", "adopted", "rejected"),
            "evaluating": ("adopted", "rejected"),
        }.get(self.suggestion.status, ())
        yield from self.row("text", _("Suggestion"), Static(plain(self.suggestion.text,
                                                                   multiline=True)))  # fmt: skip
        yield from self.row(
            "status",
            _("Status"),
            _choice_select(nexts, "status", value=nexts[0] if nexts else None),
        )

    def build_request(self) -> SuggestionStatusRequest | None:
        status = self.query_one("#status", Select).value
        if status is Select.NULL:
            self.error("status", _("choose a status"))
            return None
        return SuggestionStatusRequest(self.suggestion.id, str(status))

    @property
    def has_unsaved_input(self) -> bool:
        return False


__all__ = [
    "ImprovementForm",
    "ImprovementUpdateForm",
    "RegistersScreen",
    "ReportForm",
    "SavedButRefused",
    "SavingForm",
    "SuggestionForm",
    "SuggestionStatusForm",
    "SurveyForm",
    "execute",
    "has_records",
    "open_registers",
    "parse_hours",
    "parse_parts",
    "quality_table",
]
