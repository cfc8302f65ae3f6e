"""Ticket actions shared by the queue and the detail screen: one key map, one action menu.

Both screens bind the same keys to the same ids (:func:`ticket_bindings`): ``a f d h r x o``
for the common lifecycle steps, ``space`` for the next step, ``p`` priority/category, ``n`` new
ticket and ``m`` the :class:`ActionMenu` — every action the selected ticket allows right now,
including the rare ones that have no key (depart, arrive, resolve, submit, approve, return,
follow-up, close, restore, assign). :func:`run_ticket_action` carries one out: through its form
when it needs input, else straight to the caller's ``perform``; an action the ticket does not
allow now is refused with a one-line toast naming the ticket and its state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from windtui.domain import lifecycle
from windtui.domain import roles as access
from windtui.domain.lifecycle import ASSIGNABLE_STATES
from windtui.domain.model import Action, Role, TicketState
from windtui.i18n import _
from windtui.services.records import TicketSnapshot
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.requests import ActionRequest, DeskRequest
from windtui.tui.widgets.cells import fit

ACTION_KEYS: dict[Action, str] = {
    Action.ACK: "a",
    Action.FEEDBACK: "f",
    Action.DISPATCH: "d",
    Action.HOLD: "h",
    Action.RESUME: "r",
    Action.CANCEL: "x",
    Action.REOPEN: "o",
}
"""The lifecycle actions with a key of their own, the same on the queue and the detail screen
(ids ``ticket.<action>``); every other action is in the ``m`` menu."""

SHOWN_IN_FOOTER = frozenset({Action.DISPATCH, Action.HOLD})

MENU_ORDER: tuple[Action, ...] = (
    Action.ACK,
    Action.FEEDBACK,
    Action.DISPATCH,
    Action.DEPART,
    Action.ARRIVE,
    Action.RESOLVE,
    Action.SUBMIT,
    Action.APPROVE,
    Action.RETURN,
    Action.FOLLOWUP,
    Action.CLOSE,
    Action.RESTORE,
    Action.HOLD,
    Action.RESUME,
    Action.CANCEL,
    Action.REOPEN,
)
"""Menu order: the forward steps in lifecycle order, then the side steps."""

ASSIGN = "assign"
RECLASSIFY = "reclassify"
REPORT = access.REPORT
SURVEY = access.SURVEY
"""Menu entries that are not lifecycle actions (they change owner or priority/category, write
the repair report, record the satisfaction survey)."""

REPORT_STATES = (TicketState.RESOLVED,)
"""The repair report is written once the ticket is resolved (or returned for rework)."""
SURVEY_STATES = (TicketState.REVIEWED, TicketState.FOLLOWED_UP)
"""The survey follows the approved report, and may be corrected until the ticket closes."""


def ticket_bindings() -> list[Binding]:
    """The ticket keys of the queue and the detail screen (same keys, same ids, same actions)."""
    return [
        Binding("space", "next_step", N_("Next step"), id="ticket.next"),
        Binding("m", "menu", N_("Actions"), id="ticket.menu"),
        *(
            Binding(
                key,
                f"act('{action.value}')",
                action.label,
                show=action in SHOWN_IN_FOOTER,
                id=f"ticket.{action.value}",
            )
            for action, key in ACTION_KEYS.items()
        ),
        Binding("n", "new_ticket", N_("New ticket"), id="ticket.new"),
        Binding("p", "reclassify", N_("Priority/category"), show=False, id="ticket.reclassify"),
        Binding("w", f"act('{REPORT}')", N_("Repair report"), show=False, id="ticket.report"),
        Binding("v", f"act('{SURVEY}')", N_("Satisfaction survey"), show=False, id="ticket.survey"),
    ]


_desk_identity: tuple[frozenset[Role], str] | None = None
"""The roles and staff login of the person at this console (None: not known yet — the
services refuse what the role may not do anyway; this only greys and hides)."""


def set_identity(roles: Iterable[Role] | None, login: str | None = None) -> None:
    """Tell the ticket keys and menus who is at the console (the app does, once it knows)."""
    global _desk_identity
    _desk_identity = None if roles is None else (frozenset(roles), login or "")


def current_login() -> str | None:
    """The staff login of the person at this console (None while not known)."""
    if _desk_identity is None:
        return None
    return _desk_identity[1] or None


def role_may(operation: str) -> bool:
    """True when the person at the console may do ``operation`` at all (a register, not one
    ticket: improvements, suggestions)."""
    if _desk_identity is None:
        return True
    return access.permits(_desk_identity[0], operation)


def role_allows(name: str, ticket: TicketSnapshot) -> bool:
    """True when the person at the console may do ``name`` (an action value, ``assign`` or
    ``reclassify``) on ``ticket`` — the services' own table, asked ahead of time."""
    if _desk_identity is None:
        return True
    roles, login = _desk_identity
    return access.permits(roles, name, crew=bool(login) and ticket.owner == login)


def allowed_for(ticket: TicketSnapshot) -> tuple[Action, ...]:
    """The lifecycle actions ``ticket`` allows now that the person at the console may do
    (from its snapshot, no database)."""
    return tuple(
        a
        for a in lifecycle.allowed_actions(
            ticket.state,
            category=ticket.category,
            on_hold=lifecycle.is_on_hold(ticket.timeline),
            turbine_down=lifecycle.is_turbine_down(ticket.timeline),
        )
        if role_allows(a.value, ticket)
    )


def entry_label(name: str) -> str:
    """The translated label of a menu entry (an action value, ``assign`` or ``reclassify``)."""
    if name == ASSIGN:
        return _("Assign technician")
    if name == RECLASSIFY:
        return _("Priority/category")
    if name == REPORT:
        return _("Repair report")
    if name == SURVEY:
        return _("Satisfaction survey")
    return _(Action(name).label)


def menu_entries(ticket: TicketSnapshot, allowed: Sequence[Action]) -> list[str]:
    """Every entry the ticket allows now, in menu order."""
    names = [a.value for a in MENU_ORDER if a in allowed]
    if ticket.state in REPORT_STATES and role_allows(REPORT, ticket):
        names.append(REPORT)
    if ticket.state in SURVEY_STATES and role_allows(SURVEY, ticket):
        names.append(SURVEY)
    if ticket.state in ASSIGNABLE_STATES and role_allows(ASSIGN, ticket):
        names.append(ASSIGN)
    if ticket.state.is_open and role_allows(RECLASSIFY, ticket):
        names.append(RECLASSIFY)
    return names


def bound_keys(screen: Screen[object]) -> dict[str, str]:
    """Entry name -> the key shown for it on ``screen`` (live bindings, so remaps show)."""
    keys: dict[str, str] = {}
    for active in screen.active_bindings.values():
        action = active.binding.action
        if action.startswith("act('"):
            name = action[5:-2]
        elif action == RECLASSIFY:
            name = RECLASSIFY
        else:
            continue
        keys.setdefault(name, screen.app.get_key_display(active.binding))
    return keys


def refuse(screen: Screen[object], name: str, ticket: TicketSnapshot) -> None:
    """Toast why nothing happened: the role may not (named as the services name it), or the
    ticket does not allow ``name`` in its state."""
    if not role_allows(name, ticket):
        needed = _(" or ").join(_(r.label) for r in access.needed_roles(name))
        screen.app.notify(
            _("{action} needs the {roles} role").format(action=entry_label(name), roles=needed),
            severity="warning",
        )
        return
    screen.app.notify(
        _("{action} is not allowed for ticket {number} ({state})").format(
            action=entry_label(name), number=ticket.number, state=_(ticket.state.label)
        ),
        severity="warning",
    )


def run_ticket_action(
    screen: Screen[object],
    ticket: TicketSnapshot,
    allowed: Sequence[Action],
    name: str,
    perform: Callable[[DeskRequest | None], None],
) -> None:
    """Carry out entry ``name`` on ``ticket``: its form when it needs input, else ``perform``.

    The repair report (``report``, and ``submit``, which shows the report before handing it to
    QA) and the survey (``survey``, and ``followup``) open the quality forms; those save
    themselves and stay open until the desk accepts, then hand ``perform`` a reload.
    """
    from windtui.tui.screens import (
        forms,  # lazy: forms import the widgets, not the reverse
        quality,
    )

    number, version = ticket.number, ticket.version
    form: forms.FormScreen | None
    if not role_allows(name, ticket):
        refuse(screen, name, ticket)
        return
    if name in (REPORT, Action.SUBMIT.value):
        if ticket.state not in REPORT_STATES or (name != REPORT and Action(name) not in allowed):
            refuse(screen, name, ticket)
            return
        may = Action.SUBMIT in allowed and role_allows(Action.SUBMIT.value, ticket)
        form = quality.ReportForm(ticket, submit=name != REPORT, may_submit=may)
    elif name in (SURVEY, Action.FOLLOWUP.value):
        if ticket.state not in SURVEY_STATES or (name != SURVEY and Action(name) not in allowed):
            refuse(screen, name, ticket)
            return
        may = Action.FOLLOWUP in allowed and role_allows(Action.FOLLOWUP.value, ticket)
        form = quality.SurveyForm(ticket, followup=name != SURVEY, may_followup=may)
    elif name == RECLASSIFY:
        if not ticket.state.is_open:  # closed and cancelled tickets are history (desk rule)
            refuse(screen, name, ticket)
            return
        form = forms.ReclassifyForm(number, version, ticket.priority, ticket.category)
    elif name == ASSIGN:
        if ticket.state not in ASSIGNABLE_STATES:
            refuse(screen, name, ticket)
            return
        form = forms.AssignForm(number, version, ASSIGN)
    else:
        action = Action(name)
        if action not in allowed:
            refuse(screen, name, ticket)
            return
        form = forms.form_for(action, number, version)
        if form is None:
            perform(ActionRequest(number, action, expected_version=version))
            return
    screen.app.push_screen(form, perform)


def open_action_menu(
    screen: Screen[object],
    ticket: TicketSnapshot,
    allowed: Sequence[Action],
    perform: Callable[[DeskRequest | None], None],
) -> None:
    """``m``: the menu of what ``ticket`` allows now; the chosen entry runs as if keyed."""
    names = menu_entries(ticket, allowed)
    if not names:
        screen.app.notify(
            _("ticket {number} allows no action now ({state})").format(
                number=ticket.number, state=_(ticket.state.label)
            ),
            severity="warning",
        )
        return
    keys = bound_keys(screen)

    def chosen(name: str | None) -> None:
        if name is not None:
            run_ticket_action(screen, ticket, allowed, name, perform)

    menu = ActionMenu(ticket.number, [(name, entry_label(name), keys.get(name)) for name in names])
    screen.app.push_screen(menu, chosen)


class ActionMenu(ModalScreen[str | None]):
    """A small list of a ticket's allowed actions: Up/Down, Enter runs one, Esc closes."""

    DEFAULT_CSS = """
    ActionMenu { align: center middle; }
    ActionMenu > Vertical {
        width: 44;
        height: auto;
        max-height: 100%;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    ActionMenu #menu-title { text-style: bold; color: $accent; width: 1fr; }
    ActionMenu OptionList { height: auto; max-height: 20; border: none; padding: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,m", "close", N_("Close"), id="menu.close"),
    ]
    AUTO_FOCUS = "OptionList"

    def __init__(self, number: int, entries: list[tuple[str, str, str | None]]) -> None:
        """``entries``: (name, translated label, key or None) in display order."""
        super().__init__()
        translate_bindings(self)
        self.number = number
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                _("Actions for ticket #{number}").format(number=self.number), id="menu-title"
            )
            options = []
            for name, label, key in self.entries:
                prompt = Text(fit(key or "", 3), style="bold")
                prompt.append(label)
                options.append(Option(prompt, id=name))
            yield OptionList(*options, compact=True)

    def on_mount(self) -> None:
        # Nothing highlighted until the user moves: an Esc sent with an Enter right behind it (a
        # fast typist, or a terminal delivering both in one read) must not run the first step.
        self.query_one(OptionList).highlighted = None

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        """Close without running anything."""
        self.dismiss(None)
