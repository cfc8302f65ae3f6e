"""Modal forms that produce desk requests: new ticket, hold/resume, cancel/reopen, assign/dispatch,
priority/category.

Every form is keyboard-complete (Tab/Shift+Tab between fields, Enter or Ctrl+S submits, Esc
cancels), validates inline (one line under the field, naming it) and dismisses with a
:data:`DeskRequest` — never writing itself. Choices (farms, turbines, technicians) are loaded from
``app.desk`` in thread workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from windtui.domain.model import Action, Category, HoldReason, Priority
from windtui.errors import WindtuiError
from windtui.i18n import _, current_language
from windtui.services.records import FarmRecord, TechnicianRecord, TurbineRecord
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.plain import plain
from windtui.tui.requests import (
    ActionRequest,
    AssignRequest,
    DeskRequest,
    NewTicketRequest,
    ReclassifyRequest,
)
from windtui.tui.widgets.cells import fit

# Categories whose tickets need not name a turbine (the whole farm, or advice by phone).
TURBINE_OPTIONAL = frozenset({Category.INFRASTRUCTURE, Category.CONSULTING})

NO_TURBINE = "-"
"""Picker value of the "no turbine" row."""

TURBINE_STATUS = {
    "running": N_("Running"),
    "standby": N_("Standby"),
    "stopped": N_("Stopped"),
    "fault": N_("Fault"),
    "offline": N_("Offline"),
    "maintenance": N_("Maintenance"),
    "derated": N_("Derated"),
}
"""Turbine status code -> English msgid."""

TECHNICIAN_STATUS = {
    "available": N_("Available"),
    "dispatched": N_("Dispatched"),
    "en_route": N_("En route"),
    "on_site": N_("On site"),
    "off_shift": N_("Off shift"),
    "on_leave": N_("On leave"),
}
"""Technician status code -> English msgid."""


def farm_name(farm: FarmRecord) -> str:
    """The farm's name in the console's language."""
    return farm.name_zh if current_language() == "zh_CN" else farm.name_en


def technician_name(tech: TechnicianRecord) -> str:
    """The technician's name in the console's language."""
    return tech.name_zh if current_language() == "zh_CN" else tech.name_en


@dataclass(frozen=True, slots=True)
class Choice:
    """One row of a :class:`FilterPicker`: a value, its display and the text typing matches."""

    value: str
    prompt: str | Text
    search: str


class FilterPicker(Vertical, can_focus=False):
    """Type to filter, Up/Down to move, the highlighted row is the value.

    Focus stays in the filter line, so typing, moving and Enter (submit the form) all work
    without leaving it; the list itself is not focusable.
    """

    DEFAULT_CSS = """
    FilterPicker { height: auto; }
    FilterPicker > Input { width: 1fr; }
    FilterPicker > OptionList {
        height: auto;
        max-height: 7;
        border: none;
        padding: 0;
        background: $surface;
    }
    FilterPicker > .picker-empty { color: $text-muted; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", N_("Next choice"), show=False, id="picker.next"),
        Binding("up", "move(-1)", N_("Previous choice"), show=False, id="picker.previous"),
        Binding("pagedown", "move(5)", N_("Next page"), show=False, id="picker.page_down"),
        Binding("pageup", "move(-5)", N_("Previous page"), show=False, id="picker.page_up"),
    ]

    class Changed(Message):
        """The picked value changed (None when nothing matches)."""

        def __init__(self, picker: FilterPicker, value: str | None) -> None:
            super().__init__()
            self.picker = picker
            self.value = value

        @property
        def control(self) -> FilterPicker:
            """The picker that changed."""
            return self.picker

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._placeholder = placeholder
        self._choices: list[Choice] = []
        self._shown: list[Choice] = []
        self._value: str | None = None
        self.touched = False
        """True once the user typed a filter or moved the highlight (a real choice)."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self._placeholder, compact=True, select_on_focus=False)
        option_list = OptionList(compact=True)
        option_list.can_focus = False
        yield option_list
        yield Static(_("no matches"), classes="picker-empty")

    @property
    def filter_text(self) -> str:
        """What has been typed into the filter line."""
        return self.query_one(Input).value

    @property
    def value(self) -> str | None:
        """The highlighted choice's value."""
        return self._value

    def set_choices(self, choices: Iterable[Choice], value: str | None = None) -> None:
        """Replace the choices (keeping the filter text) and highlight ``value`` if shown."""
        self._choices = list(choices)
        self._apply_filter(prefer=value)

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.touched = True
        self._apply_filter(prefer=self._value)

    def _apply_filter(self, prefer: str | None = None) -> None:
        words = self.filter_text.lower().split()
        self._shown = [c for c in self._choices if all(w in c.search.lower() for w in words)]
        option_list = self.query_one(OptionList)
        option_list.set_options(Option(c.prompt, id=c.value) for c in self._shown)
        self.query_one(".picker-empty").display = not self._shown and bool(self._choices)
        values = [c.value for c in self._shown]
        index = values.index(prefer) if prefer in values else (0 if values else None)
        option_list.highlighted = index
        self._set_value(values[index] if index is not None else None)

    def _set_value(self, value: str | None) -> None:
        if value != self._value:
            self._value = value
            self.post_message(self.Changed(self, value))

    def action_move(self, step: int) -> None:
        """Move the highlight by ``step`` rows."""
        if not self._shown:
            return
        self.touched = True
        option_list = self.query_one(OptionList)
        current = option_list.highlighted or 0
        index = max(0, min(len(self._shown) - 1, current + step))
        option_list.highlighted = index
        self._set_value(self._shown[index].value)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()  # mouse clicks: follow the list
        self._set_value(event.option.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._set_value(event.option.id)


class TickBox(Checkbox, inherit_bindings=False):
    """A checkbox whose state reads as text: ``[x]`` ticked, ``[ ]`` not; Space ticks it.

    Textual's Checkbox always draws ``▐X▌`` and tells the states apart by colour only, so it
    looks ticked when it is not, and with NO_COLOR (or a monochrome SSH client) it says nothing.
    It also toggles on Enter, where every other field submits the form: ticking with Space and
    submitting with Enter (as the hint says) untick the box and create the ticket without its
    downtime. Here Enter submits, like everywhere else in a form.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_button", N_("Toggle"), show=False, id="form.toggle"),
        Binding("enter", "screen.submit", N_("Submit"), show=False, id="form.enter_submit"),
    ]

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble("[", ("x" if self.value else " ", style), "]")


class FormScreen(ModalScreen[DeskRequest | None]):
    """Base of every form: title, fields with an error line each, a key hint, submit/cancel.

    Subclasses implement :meth:`compose_fields`, :meth:`build_request` (validate with
    :meth:`error`, return None when invalid) and :attr:`has_unsaved_input`.
    """

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > #form-box {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    FormScreen #form-title { text-style: bold; color: $accent; width: 1fr; margin-bottom: 1; }
    FormScreen .form-row { height: auto; }
    FormScreen .form-label { width: 18; height: 1; color: $text-muted; }
    FormScreen .form-row > Input,
    FormScreen .form-row > Select,
    FormScreen .form-row > FilterPicker,
    FormScreen .form-row > Checkbox { width: 1fr; }
    FormScreen .form-error { color: $error; height: auto; padding-left: 18; display: none; }
    FormScreen .form-error.-shown { display: block; }
    FormScreen #form-hint { color: $text-muted; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="form.cancel"),
        Binding("ctrl+s", "submit", N_("Submit"), id="form.submit", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self._labels: dict[str, str] = {}

    # -- layout -----------------------------------------------------------------------------

    def form_title(self) -> str:
        """The translated title line."""
        raise NotImplementedError

    def compose_fields(self) -> ComposeResult:
        """Yield the form's rows (use :meth:`row`)."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Label(self.form_title(), id="form-title")
            yield from self.compose_fields()
            yield Static(
                _("Enter/Ctrl+S submit · Esc cancel · Tab next field"),
                id="form-hint",
            )

    def row(self, name: str, label: str, widget: Widget) -> ComposeResult:
        """A labelled field row plus its (hidden) one-line error."""
        self._labels[name] = label
        with Horizontal(classes="form-row"):
            yield Label(fit(label, 17), classes="form-label")
            yield widget
        yield Static("", id=f"{name}-error", classes="form-error")

    # -- validation -------------------------------------------------------------------------

    def error(self, name: str, problem: str) -> None:
        """Show ``problem`` under field ``name``, prefixed with the field's label."""
        text = _("{field}: {problem}").format(field=self._labels.get(name, name), problem=problem)
        widget = self.query_one(f"#{name}-error", Static)
        widget.update(plain(text))  # a problem may quote typed text or a desk error
        widget.add_class("-shown")

    def clear_error(self, name: str) -> None:
        """Hide field ``name``'s error line."""
        for widget in self.query(f"#{name}-error"):
            if widget.has_class("-shown"):
                widget.remove_class("-shown")
                if isinstance(widget, Static):
                    widget.update("")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(FilterPicker.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        """A field was edited: its error (about the old value) no longer applies."""
        node = event.control
        while node is not None and node is not self:
            if node.id in self._labels:
                self.clear_error(node.id)
                return
            node = node.parent  # type: ignore[assignment]

    def clear_errors(self) -> None:
        """Hide every error line."""
        for widget in self.query(".form-error"):
            widget.remove_class("-shown")
            if isinstance(widget, Static):
                widget.update("")

    @property
    def errors(self) -> dict[str, str]:
        """Field name -> error text currently shown (for tests and the app)."""
        return {
            str(widget.id).removesuffix("-error"): str(widget.render())
            for widget in self.query(".form-error.-shown")
        }

    def build_request(self) -> DeskRequest | None:
        """Validate and build the request, or report errors and return None."""
        raise NotImplementedError

    @property
    def has_unsaved_input(self) -> bool:
        """True once the user has typed or picked something that Esc would throw away."""
        raise NotImplementedError

    # -- actions ----------------------------------------------------------------------------

    def action_submit(self) -> None:
        """Validate; hand the request on when valid (:meth:`accept`), else focus the first bad
        field."""
        self.clear_errors()
        request = self.build_request()
        if request is not None:
            self.accept(request)
            return
        self.focus_first_error()

    def accept(self, request: DeskRequest) -> None:
        """A valid request: dismiss with it (the opener performs it). Forms that must stay open
        until the desk accepts (long texts) save it themselves instead."""
        self.dismiss(request)

    def focus_first_error(self) -> None:
        """Move the focus to the first field that shows an error."""
        first = next(iter(self.errors), None)
        if first is not None:
            target = self.query(f"#{first}")
            if target:
                widget = target.first()
                focusable = widget if widget.can_focus else widget.query(Input).first()
                focusable.focus()

    def action_cancel(self) -> None:
        """Close without a request; asks first when that would throw typed input away."""
        if not self.has_unsaved_input:
            self.dismiss(None)
            return
        from windtui.tui.screens.confirm import confirm_discard

        self.app.push_screen(confirm_discard(), lambda yes: self.dismiss(None) if yes else None)

    @on(Input.Submitted)
    def _enter_submits(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def text(self, name: str) -> str:
        """The stripped value of Input ``#name``."""
        return self.query_one(f"#{name}", Input).value.strip()

    def load_error(self, name: str, error: Exception) -> None:
        """Report a failed choice load under the field it was for."""
        message = str(error) if isinstance(error, WindtuiError) else repr(error)
        self.error(name, _("could not load choices ({error})").format(error=message))


def _enum_select(
    members: Sequence[Category | Priority | HoldReason],
    field_id: str,
    *,
    value: Category | Priority | None = None,
    prompt: str = "",
) -> Select[str]:
    """A compact Select of enum members by translated label: preset (no blank) or with a prompt."""
    options = [(_(m.label), m.value) for m in members]
    if value is None:
        return Select(options, prompt=prompt, id=field_id, compact=True)
    return Select(options, value=value.value, allow_blank=False, id=field_id, compact=True)


class NewTicketForm(FormScreen):
    """Register a ticket: farm, turbine (searchable), category, priority, fault, title, reporter."""

    AUTO_FOCUS = "#farm"

    def __init__(self, *, farm: str | None = None) -> None:
        super().__init__()
        self._initial_farm = farm
        self._turbines: dict[str, list[TurbineRecord]] = {}

    def form_title(self) -> str:
        return _("New ticket")

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "farm", _("Farm"), Select([], prompt=_("choose a farm"), id="farm", compact=True)
        )
        yield from self.row(
            "turbine", _("Turbine"), FilterPicker(_("type to filter turbines"), id="turbine")
        )
        yield from self.row(
            "category",
            _("Category"),
            _enum_select(list(Category), "category", value=Category.FAULT),
        )
        yield from self.row(
            "priority",
            _("Priority"),
            _enum_select(list(Priority), "priority", value=Priority.P3),
        )
        yield from self.row(
            "fault_code",
            _("Fault code"),
            Input(placeholder="F-1234", id="fault_code", compact=True),
        )
        yield from self.row("title", _("Title"), Input(id="title", compact=True))
        yield from self.row("description", _("Description"), Input(id="description", compact=True))
        yield from self.row("reporter", _("Reporter"), Input(id="reporter", compact=True))
        yield from self.row("contact", _("Contact"), Input(id="contact", compact=True))
        yield from self.row(
            "turbine_stopped",
            _("Turbine stopped"),
            TickBox(
                _("the turbine is stopped (starts downtime)"), id="turbine_stopped", compact=True
            ),
        )

    def on_mount(self) -> None:
        self._load_farms()

    # -- choices ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="farms", exit_on_error=False)
    def _load_farms(self) -> None:
        try:
            farms = self.app.desk.farms()  # type: ignore[attr-defined]
        except Exception as error:  # shown under the field; the form stays usable
            self.app.call_from_thread(self.load_error, "farm", error)
            return
        self.app.call_from_thread(self._set_farms, farms)

    def _set_farms(self, farms: list[FarmRecord]) -> None:
        select = self.query_one("#farm", Select)
        select.set_options((plain(f"{f.code}  {farm_name(f)}"), f.code) for f in farms)
        codes = [f.code for f in farms]
        initial = self._initial_farm if self._initial_farm in codes else None
        if initial is None and len(codes) == 1:
            initial = codes[0]
        if initial is not None:
            select.value = initial

    @on(Select.Changed, "#farm")
    def _farm_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and str(event.value) not in self._turbines:
            self._load_turbines(str(event.value))
        self._refresh_turbines()

    @on(Select.Changed, "#category")
    def _category_changed(self) -> None:
        self._refresh_turbines()  # the "no turbine" row comes and goes with the category

    @work(thread=True, exclusive=True, group="turbines", exit_on_error=False)
    def _load_turbines(self, farm: str) -> None:
        try:
            turbines = self.app.desk.turbines(farm)  # type: ignore[attr-defined]
        except Exception as error:
            self.app.call_from_thread(self.load_error, "turbine", error)
            return
        self.app.call_from_thread(self._set_turbines, farm, turbines)

    def _set_turbines(self, farm: str, turbines: list[TurbineRecord]) -> None:
        self._turbines[farm] = turbines
        self._refresh_turbines()

    def _refresh_turbines(self) -> None:
        """Offer the chosen farm's turbines (plus "no turbine" where the category allows it)."""
        farm = self.query_one("#farm", Select).value
        category = Category(str(self.query_one("#category", Select).value))
        picker = self.query_one("#turbine", FilterPicker)
        if farm is Select.NULL:
            picker.set_choices([])
            return
        choices: list[Choice] = []
        if category in TURBINE_OPTIONAL:
            choices.append(Choice(NO_TURBINE, _("— no turbine (whole farm)"), _("none")))
        for t in self._turbines.get(str(farm), []):
            status = _(TURBINE_STATUS.get(t.status, t.status))
            prompt = plain(f"{fit(t.id, 10)} {fit(t.model, 22)} {t.rated_kw:>5} kW  {status}")
            choices.append(Choice(t.id, prompt, f"{t.id} {t.position} {t.model} {status}"))
        # Keep a turbine the user chose; otherwise start from the top ("no turbine" if offered).
        picker.set_choices(choices, value=picker.value if picker.touched else None)

    # -- request ----------------------------------------------------------------------------

    def build_request(self) -> NewTicketRequest | None:
        farm = self.query_one("#farm", Select).value
        category = Category(str(self.query_one("#category", Select).value))
        priority = Priority(str(self.query_one("#priority", Select).value))
        picked = self.query_one("#turbine", FilterPicker).value
        turbine = None if picked in (None, NO_TURBINE) else picked
        stopped = self.query_one("#turbine_stopped", Checkbox).value
        title = self.text("title")
        valid = True
        if farm is Select.NULL:
            self.error("farm", _("choose a farm"))
            valid = False
        if turbine is None and category not in TURBINE_OPTIONAL:
            self.error(
                "turbine",
                _("choose a turbine (required for {category})").format(category=_(category.label)),
            )
            valid = False
        if stopped and turbine is None:
            self.error("turbine_stopped", _("needs a turbine"))
            valid = False
        if not title:
            self.error("title", _("required"))
            valid = False
        if not valid:
            return None
        return NewTicketRequest(
            farm=str(farm),
            category=category,
            priority=priority,
            title=title,
            turbine=turbine,
            description=self.text("description"),
            fault_code=self.text("fault_code") or None,
            reporter=self.text("reporter") or None,
            contact=self.text("contact") or None,
            turbine_stopped=stopped,
        )

    @property
    def has_unsaved_input(self) -> bool:
        typed = any(
            self.text(name)
            for name in ("fault_code", "title", "description", "reporter", "contact")
        )
        picker = self.query_one("#turbine", FilterPicker)
        return (
            typed or bool(picker.filter_text) or self.query_one("#turbine_stopped", Checkbox).value
        )


class HoldForm(FormScreen):
    """Put a ticket on hold: a reason (which decides the paused clocks) and evidence."""

    AUTO_FOCUS = "#reason"

    def __init__(self, number: int, version: int | None) -> None:
        super().__init__()
        self.number = number
        self.version = version

    def form_title(self) -> str:
        return _("Hold ticket #{number}").format(number=self.number)

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "reason",
            _("Reason"),
            _enum_select(list(HoldReason), "reason", prompt=_("choose a hold reason")),
        )
        yield from self.row(
            "evidence",
            _("Evidence"),
            Input(
                placeholder=_("e.g. wind 18 m/s at hub, forecast until 14:00"),
                id="evidence",
                compact=True,
            ),
        )

    def build_request(self) -> ActionRequest | None:
        reason = self.query_one("#reason", Select).value
        evidence = self.text("evidence")
        if reason is Select.NULL:
            self.error("reason", _("choose a hold reason"))
        if not evidence:
            self.error("evidence", _("required"))
        if reason is Select.NULL or not evidence:
            return None
        return ActionRequest(
            self.number,
            Action.HOLD,
            reason=str(reason),
            evidence=evidence,
            expected_version=self.version,
        )

    @property
    def has_unsaved_input(self) -> bool:
        return (
            bool(self.text("evidence"))
            or self.query_one("#reason", Select).value is not Select.NULL
        )


class ResumeForm(FormScreen):
    """End the current hold, with an optional note (kept on the hold record)."""

    AUTO_FOCUS = "#note"

    def __init__(self, number: int, version: int | None) -> None:
        super().__init__()
        self.number = number
        self.version = version

    def form_title(self) -> str:
        return _("Resume ticket #{number}").format(number=self.number)

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "note", _("Note"), Input(placeholder=_("optional"), id="note", compact=True)
        )

    def build_request(self) -> ActionRequest:
        return ActionRequest(
            self.number,
            Action.RESUME,
            reason=self.text("note") or None,
            expected_version=self.version,
        )

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.text("note"))


class ReasonForm(FormScreen):
    """Cancel or reopen a ticket, or return its repair report for rework: the reason is required
    and goes into the event log (a return's reason also into the QA review: what must be
    fixed)."""

    AUTO_FOCUS = "#reason"

    def __init__(self, number: int, version: int | None, action: Action) -> None:
        if action not in (Action.CANCEL, Action.REOPEN, Action.RETURN):
            raise ValueError(f"ReasonForm is for cancel/reopen/return, not {action}")
        super().__init__()
        self.number = number
        self.version = version
        self.action = action

    def form_title(self) -> str:
        if self.action is Action.CANCEL:
            return _("Cancel ticket #{number}").format(number=self.number)
        if self.action is Action.RETURN:
            return _("Return ticket #{number}'s repair report for rework").format(
                number=self.number
            )
        return _("Reopen ticket #{number}").format(number=self.number)

    def compose_fields(self) -> ComposeResult:
        if self.action is Action.RETURN:
            field = Input(
                placeholder=_("what must be fixed, e.g. no photo of the new part"),
                id="reason",
                compact=True,
            )
            yield from self.row("reason", _("What to fix"), field)
            return
        yield from self.row("reason", _("Reason"), Input(id="reason", compact=True))

    def build_request(self) -> ActionRequest | None:
        reason = self.text("reason")
        if not reason:
            self.error("reason", _("required"))
            return None
        return ActionRequest(self.number, self.action, reason=reason, expected_version=self.version)

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.text("reason"))


class ReclassifyForm(FormScreen):
    """Change a ticket's priority and/or category; the reason is required (event log note).

    Both selects start at the ticket's current values, so the request carries only what the
    user changed. Whether the lifecycle can hold the new category (e.g. consulting while a
    technician is out) is the desk's rule: its refusal comes back as the usual error toast.
    """

    AUTO_FOCUS = "#priority"

    def __init__(
        self, number: int, version: int | None, priority: Priority, category: Category
    ) -> None:
        super().__init__()
        self.number = number
        self.version = version
        self.priority = priority
        self.category = category

    def form_title(self) -> str:
        return _("Priority and category of ticket #{number}").format(number=self.number)

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "priority",
            _("Priority"),
            _enum_select(list(Priority), "priority", value=self.priority),
        )
        yield from self.row(
            "category",
            _("Category"),
            _enum_select(list(Category), "category", value=self.category),
        )
        yield from self.row(
            "reason",
            _("Reason"),
            Input(
                placeholder=_("e.g. customer reports the whole string down"),
                id="reason",
                compact=True,
            ),
        )

    def _picked(self) -> tuple[Priority, Category]:
        """The selects' current values."""
        return (
            Priority(str(self.query_one("#priority", Select).value)),
            Category(str(self.query_one("#category", Select).value)),
        )

    def build_request(self) -> ReclassifyRequest | None:
        priority, category = self._picked()
        reason = self.text("reason")
        unchanged = priority is self.priority and category is self.category
        if unchanged:
            self.error("priority", _("same as now — change it or the category"))
        if not reason:
            self.error("reason", _("required"))
        if unchanged or not reason:
            return None
        return ReclassifyRequest(
            self.number,
            reason,
            priority=priority if priority is not self.priority else None,
            category=category if category is not self.category else None,
            expected_version=self.version,
        )

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.text("reason")) or self._picked() != (self.priority, self.category)


def _status_width() -> int:
    """Cells of the widest translated technician status, plus a gap before the base."""
    return max(cell_len(_(label)) for label in TECHNICIAN_STATUS.values()) + 2


def technician_rank(tech: TechnicianRecord) -> tuple[int, str]:
    """Picker order: available first (who a dispatcher looks for), on leave last."""
    rank = 0 if tech.status == "available" else 2 if tech.status == "on_leave" else 1
    return rank, tech.login


def technician_choice(tech: TechnicianRecord, status_width: int | None = None) -> Choice:
    """A picker row: login, name, status, base and current ticket, aligned by cell width.

    A technician on leave is dimmed as a whole: listed (a dispatcher may look them up) but not
    someone to send.
    """
    status = _(TECHNICIAN_STATUS.get(tech.status, tech.status))
    style = (
        "green"
        if tech.status == "available"
        else ("dim" if tech.status.startswith("o") and tech.status != "on_site" else "")
    )
    prompt = Text(fit(tech.login, 10))
    prompt.append(fit(technician_name(tech), 14))
    prompt.append(fit(status, status_width or _status_width()), style=style)
    prompt.append(fit(tech.base, 10))
    if tech.current_ticket is not None:
        prompt.append(f"#{tech.current_ticket}", style="dim")
    if tech.certificate_warning:
        prompt.append(" ⚠", style="yellow")
    if tech.status == "on_leave":
        prompt.stylize("dim")
    search = " ".join((tech.login, tech.name_zh, tech.name_en, tech.base, tech.status, status))
    return Choice(tech.login, prompt, search)


class AssignForm(FormScreen):
    """Pick a technician to dispatch (``action=dispatch``) or to (re)assign the ticket to."""

    AUTO_FOCUS = "#technician Input"

    def __init__(self, number: int, version: int | None, action: Action | str = "assign") -> None:
        super().__init__()
        self.number = number
        self.version = version
        self.action = action

    @property
    def dispatching(self) -> bool:
        """True for the dispatch action (state change), False for a plain (re)assignment."""
        return self.action == Action.DISPATCH

    def form_title(self) -> str:
        if self.dispatching:
            return _("Dispatch ticket #{number}").format(number=self.number)
        return _("Assign ticket #{number}").format(number=self.number)

    def compose_fields(self) -> ComposeResult:
        yield from self.row(
            "technician",
            _("Technician"),
            FilterPicker(_("type a login, name, base or status"), id="technician"),
        )

    def on_mount(self) -> None:
        self._load_technicians()

    @work(thread=True, exclusive=True, group="technicians", exit_on_error=False)
    def _load_technicians(self) -> None:
        try:
            technicians = self.app.desk.technicians()  # type: ignore[attr-defined]
        except Exception as error:
            self.app.call_from_thread(self.load_error, "technician", error)
            return
        self.app.call_from_thread(self._set_technicians, technicians)

    def _set_technicians(self, technicians: list[TechnicianRecord]) -> None:
        width = _status_width()
        self.query_one("#technician", FilterPicker).set_choices(
            technician_choice(t, width) for t in sorted(technicians, key=technician_rank)
        )

    def build_request(self) -> ActionRequest | AssignRequest | None:
        login = self.query_one("#technician", FilterPicker).value
        if login is None:
            self.error("technician", _("choose a technician"))
            return None
        if self.dispatching:
            return ActionRequest(
                self.number, Action.DISPATCH, technician=login, expected_version=self.version
            )
        return AssignRequest(self.number, login, expected_version=self.version)

    @property
    def has_unsaved_input(self) -> bool:
        return bool(self.query_one("#technician", FilterPicker).filter_text)


def form_for(action: Action, number: int, version: int | None) -> FormScreen | None:
    """The form an action needs before it can run, or None when it runs as it is.

    hold → :class:`HoldForm`, resume → :class:`ResumeForm` (optional note), cancel/reopen and
    return (for rework) → :class:`ReasonForm`, dispatch → :class:`AssignForm`. Submit and
    follow-up need the ticket itself (their forms are in ``screens.quality``).
    """
    if action is Action.HOLD:
        return HoldForm(number, version)
    if action is Action.RESUME:
        return ResumeForm(number, version)
    if action in (Action.CANCEL, Action.REOPEN, Action.RETURN):
        return ReasonForm(number, version, action)
    if action is Action.DISPATCH:
        return AssignForm(number, version, Action.DISPATCH)
    return None
