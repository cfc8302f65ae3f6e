"""The ``:`` command line: a one-line prompt at the bottom of the screen (k9s/vim style).

:func:`parse_command` is pure: it turns ``"ack 1042"`` into a :data:`DeskRequest` (for
``WindApp.perform``) or a :class:`NavCommand` (open, filter, help, quit), and raises
:class:`WindtuiError` naming the bad part. :class:`CommandLineScreen` shows parse errors inline
and only dismisses with a valid command; Tab completes verbs (and hold reasons, priorities and
categories), Up/Down walk
the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal
from weakref import WeakKeyDictionary

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from windtui.domain.kpi import parse_period
from windtui.domain.model import Action, Category, HoldReason, Priority
from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.tui.keymap import N_, translate_bindings
from windtui.tui.plain import plain
from windtui.tui.requests import ActionRequest, AssignRequest, DeskRequest, ReclassifyRequest

NavKind = Literal["open", "filter", "quit", "help", "kpi"]


@dataclass(frozen=True, slots=True)
class NavCommand:
    """A command line result that moves the console instead of changing a ticket."""

    kind: NavKind
    number: int | None = None
    text: str = ""


CommandResult = DeskRequest | NavCommand

# verb -> (usage after the verb, English description msgid). Order is the completion order.
COMMAND_HELP: dict[str, tuple[str, str]] = {
    "ack": ("<number>", "Acknowledge"),
    "feedback": ("<number>", "Give feedback"),
    "assign": ("<number> <technician>", "Assign technician"),
    "dispatch": ("<number> <technician>", "Dispatch"),
    "depart": ("<number>", "Depart"),
    "arrive": ("<number>", "Arrive on site"),
    "resolve": ("<number>", "Resolve"),
    "submit": ("<number>", "Submit report"),
    "approve": ("<number>", "Approve report"),
    "return": ("<number>", "Return for rework"),
    "followup": ("<number>", "Follow-up done"),
    "close": ("<number>", "Close"),
    "restore": ("<number>", "Turbine restored"),
    "hold": ("<number> <reason> <evidence…>", "Hold"),
    "resume": ("<number> [note…]", "Resume"),
    "cancel": ("<number> <reason…>", "Cancel"),
    "reopen": ("<number> <reason…>", "Reopen"),
    "priority": ("<number> <P1-P4> <reason…>", "Change priority"),
    "category": ("<number> <category> <reason…>", "Change category"),
    "open": ("<number>", "Open ticket"),
    "filter": ("<text>", "Filter"),
    "kpi": ("[period]", "KPIs"),
    "help": ("", "Help"),
    "quit": ("", "Quit"),
}
_ALIASES = {"q": "quit", "q!": "quit", "h": "help", "o": "open", "f": "filter"}
# Actions that take nothing but the ticket number.
_PLAIN_ACTIONS = {
    a.value: a
    for a in (
        Action.ACK,
        Action.FEEDBACK,
        Action.DEPART,
        Action.ARRIVE,
        Action.RESOLVE,
        Action.SUBMIT,
        Action.APPROVE,
        Action.RETURN,
        Action.FOLLOWUP,
        Action.CLOSE,
        Action.RESTORE,
    )
}


def _number(word: str | None) -> int:
    if word is None:
        raise WindtuiError(_("ticket number expected"))
    digits = word.removeprefix("#")
    if not digits.isdigit():
        raise WindtuiError(_("ticket number expected, got '{word}'").format(word=word))
    return int(digits)


#: The enum each value-taking verb's third word is read as (also what Tab completes there).
_VALUE_ENUMS: dict[str, type[StrEnum]] = {
    "hold": HoldReason,
    "priority": Priority,
    "category": Category,
}
#: How errors name those values (English msgids, translated when raised).
_VALUE_NAMES = {"hold": "hold reason", "priority": "priority", "category": "category"}


def _value(verb: str, word: str | None) -> StrEnum:
    """The third word of ``verb`` as its enum member (case-insensitive), naming the choices."""
    kind = _VALUE_ENUMS[verb]
    choices = ", ".join(m.value for m in kind)
    what = _(_VALUE_NAMES[verb])
    if word is None:
        raise WindtuiError(_("{what} expected ({choices})").format(what=what, choices=choices))
    member = next((m for m in kind if m.value.lower() == word.lower()), None)
    if member is None:
        raise WindtuiError(
            _("unknown {what} '{word}' ({choices})").format(what=what, word=word, choices=choices)
        )
    return member


def _rest(words: list[str], start: int, what: str) -> str:
    text = " ".join(words[start:]).strip()
    if not text:
        raise WindtuiError(_("{what} expected").format(what=what))
    return text


def parse_command(text: str) -> CommandResult:
    """Parse one command line (with or without the leading ``:``).

    Raises:
        WindtuiError: with one line naming the bad part, e.g. ``unknown action 'akc'``.
    """
    words = text.strip().removeprefix(":").split()
    if not words:
        raise WindtuiError(_("empty command"))
    verb = _ALIASES.get(words[0].lower(), words[0].lower())
    arg = words[1] if len(words) > 1 else None
    if verb in _PLAIN_ACTIONS:
        _no_extra(words, 2)
        return ActionRequest(_number(arg), _PLAIN_ACTIONS[verb])
    match verb:
        case "assign" | "dispatch":
            number = _number(arg)
            if len(words) < 3:
                raise WindtuiError(_("technician login expected"))
            _no_extra(words, 3)
            if verb == "assign":
                return AssignRequest(number, words[2])
            return ActionRequest(number, Action.DISPATCH, technician=words[2])
        case "hold":
            number = _number(arg)
            reason = _value(verb, words[2] if len(words) > 2 else None)
            evidence = _rest(words, 3, _("evidence"))
            return ActionRequest(number, Action.HOLD, reason=reason.value, evidence=evidence)
        case "priority" | "category":
            number = _number(arg)
            value = _value(verb, words[2] if len(words) > 2 else None)
            why = _rest(words, 3, _("reason"))
            if verb == "priority":
                return ReclassifyRequest(number, why, priority=Priority(value))
            return ReclassifyRequest(number, why, category=Category(value))
        case "resume":
            number = _number(arg)
            note = " ".join(words[2:]).strip() or None
            return ActionRequest(number, Action.RESUME, reason=note)
        case "cancel" | "reopen":
            number = _number(arg)
            return ActionRequest(number, Action(verb), reason=_rest(words, 2, _("reason")))
        case "open":
            number = _number(arg)
            _no_extra(words, 2)
            return NavCommand("open", number=number)
        case "filter":
            # An empty filter is meaningful: it clears the current one.
            return NavCommand("filter", text=" ".join(words[1:]))
        case "kpi":
            _no_extra(words, 2)
            if arg is not None:
                parse_period(arg)  # a bad period is refused here, inline, naming it
            return NavCommand("kpi", text=arg or "")
        case "quit" | "help":
            _no_extra(words, 1)
            return NavCommand(verb)
    raise WindtuiError(_("unknown action '{word}'").format(word=words[0]))


def _no_extra(words: list[str], expected: int) -> None:
    if len(words) > expected:
        raise WindtuiError(_("unexpected '{word}'").format(word=" ".join(words[expected:])))


def complete(text: str) -> tuple[str, list[str]]:
    """Tab completion: ``(new text, candidates)``.

    Completes the verb (first word) and, for ``hold N`` / ``priority N`` / ``category N``, the
    hold reason, priority or category; extends to the longest common prefix and returns every
    candidate so the prompt can list them.
    """
    words = text.split(" ")
    if len(words) == 1:
        pool = list(COMMAND_HELP)
        index = 0
    elif len(words) == 3 and words[0].lower() in _VALUE_ENUMS:
        pool = [m.value for m in _VALUE_ENUMS[words[0].lower()]]
        index = 2
    else:
        return text, []
    stem = words[index].lower()
    matches = [c for c in pool if c.lower().startswith(stem)]
    if not matches:
        return text, []
    common = matches[0]
    for other in matches[1:]:
        while not other.startswith(common):
            common = common[:-1]
    words[index] = common
    new = " ".join(words)
    if len(matches) == 1:
        new += " "
    return new, matches


# Command history per app (weak keys, so test apps do not leak).
_HISTORIES: WeakKeyDictionary[App[object], list[str]] = WeakKeyDictionary()


def history_for(app: App[object]) -> list[str]:
    """The app's command history, oldest first."""
    return _HISTORIES.setdefault(app, [])


class CommandInput(Input):
    """The prompt's input: lets ``:`` through to the screen's restart binding when the line is
    refused (an Input consumes every printable key, which hides it from bindings);
    anywhere else a colon is text (``hold 7 weather gusts until 14:00``)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Consume printable keys, except ``:`` when the screen would restart the line."""
        screen = self.screen
        if character == ":" and isinstance(screen, CommandLineScreen) and screen.restarts_on_colon:
            return False
        return super().check_consume_key(key, character)


class CommandLineScreen(ModalScreen[CommandResult | None]):
    """A one-line ``:`` prompt docked at the bottom; dismisses with a parsed command or None."""

    DEFAULT_CSS = """
    CommandLineScreen {
        align: left bottom;
        background: $background 30%;
    }
    CommandLineScreen > #cmd-box {
        dock: bottom;
        height: auto;
        width: 1fr;
        background: $panel;
    }
    CommandLineScreen #cmd-row { height: 1; }
    CommandLineScreen #cmd-colon { width: 1; color: $accent; text-style: bold; }
    CommandLineScreen #cmd-input {
        border: none;
        height: 1;
        padding: 0;
        width: 1fr;
        background: $panel;
    }
    CommandLineScreen #cmd-message { height: auto; color: $text-muted; padding: 0 1; }
    CommandLineScreen #cmd-message.-error { color: $error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="command.cancel"),
        Binding("tab", "complete", N_("Complete"), id="command.complete", priority=True),
        Binding("up", "history(-1)", N_("Previous command"), id="command.history_prev"),
        Binding("down", "history(1)", N_("Next command"), id="command.history_next"),
        # Priority, so it is seen before the input inserts it: see action_restart.
        Binding(
            "colon", "restart", N_("New command"), show=False, id="command.restart", priority=True
        ),
    ]
    AUTO_FOCUS = "#cmd-input"

    def __init__(self, initial: str = "", history: list[str] | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self._initial = initial
        self._history = history
        self._cursor: int | None = None  # index into history while walking it

    @property
    def history(self) -> list[str]:
        """Commands entered so far (shared by every prompt of the app unless one was given)."""
        if self._history is None:
            self._history = history_for(self.app)
        return self._history

    def compose(self) -> ComposeResult:
        with Vertical(id="cmd-box"):
            with Horizontal(id="cmd-row"):
                yield Label(":", id="cmd-colon")
                yield CommandInput(
                    self._initial,
                    placeholder=_("ack 1042 · hold 1042 weather <evidence> · open 1042 · q"),
                    id="cmd-input",
                    select_on_focus=False,
                )
            yield Static("", id="cmd-message")

    @property
    def input(self) -> Input:
        """The prompt's input line."""
        return self.query_one("#cmd-input", Input)

    def on_screen_resume(self) -> None:
        """Focus the input now and hand it the keys typed while the prompt was opening."""
        self.set_focus(self.input)
        release = getattr(self.app, "release_typeahead", None)
        if release is not None:
            release()

    def show_message(self, text: str, *, error: bool = False) -> None:
        """One line under the prompt: a parse error (red) or completion candidates."""
        message = self.query_one("#cmd-message", Static)
        message.set_class(error, "-error")
        message.update(plain(text))  # an error quotes the typed word

    @on(Input.Submitted, "#cmd-input")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.dismiss(None)
            return
        try:
            result = parse_command(text)
        except WindtuiError as error:
            self.show_message(str(error), error=True)
            self._refused = True
            return
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        self.dismiss(result)

    @on(Input.Changed, "#cmd-input")
    def _edited(self) -> None:
        self.show_message("")
        self._refused = False

    _refused = False
    """True while the line holds a command that was just refused (its error is shown)."""

    @property
    def restarts_on_colon(self) -> bool:
        """Would ``:`` start a new command? On a refused line, yes (see CommandInput)."""
        return self._refused

    def action_restart(self) -> None:
        """``:`` on a refused line starts a new command, as re-opening the prompt would,
        instead of appending to the refused text."""
        self.input.value = ""
        self.show_message("")
        self._refused = False

    def action_cancel(self) -> None:
        """Close the prompt without a command."""
        self.dismiss(None)

    def action_complete(self) -> None:
        """Complete the verb or hold reason under the cursor."""
        new, candidates = complete(self.input.value)
        if new != self.input.value:
            with self.prevent(Input.Changed):
                self.input.value = new
            self.input.cursor_position = len(new)
        self.show_message("  ".join(candidates) if len(candidates) > 1 else "")

    def action_history(self, step: int) -> None:
        """Walk the history (-1 older, +1 newer; past the newest clears the line)."""
        if not self.history:
            return
        if self._cursor is None:
            self._cursor = len(self.history)
        self._cursor = max(0, min(len(self.history), self._cursor + step))
        value = self.history[self._cursor] if self._cursor < len(self.history) else ""
        self.input.value = value
        self.input.cursor_position = len(value)


def apply_command(app: App[object], result: CommandResult | None) -> None:
    """Carry out a prompt result on a console app.

    Desk requests go to ``app.perform``; navigation uses ``app.open_detail``, the app's
    ``filter``/``help`` actions and ``app.exit``. An app may take over by defining
    ``handle_command(result)``.
    """
    if result is None:
        return
    handler = getattr(app, "handle_command", None)
    if handler is not None:
        handler(result)
        return
    if not isinstance(result, NavCommand):
        app.perform(result)  # type: ignore[attr-defined]
        return
    match result.kind:
        case "open":
            app.open_detail(result.number)  # type: ignore[attr-defined]
        case "quit":
            app.exit()
        case "help":
            app.call_later(app.run_action, "help")
        case "filter":
            app.call_later(app.run_action, f"filter({result.text!r})")
        case "kpi":
            app.open_kpi(result.text or None)  # type: ignore[attr-defined]


def open_command_line(app: App[object], initial: str = "") -> None:
    """Push the prompt (optionally pre-filled) and apply whatever it returns."""
    app.push_screen(CommandLineScreen(initial), lambda result: apply_command(app, result))
