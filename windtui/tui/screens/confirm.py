"""One yes/no question over the current screen (quit with unsaved input, discard a form).

y/Enter answers yes, n/Esc answers no: Esc never throws anything away.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from windtui.i18n import _
from windtui.tui.keymap import N_, translate_bindings


class ConfirmScreen(ModalScreen[bool]):
    """Ask ``question``; dismiss with True (y/Enter, labelled ``yes``) or False (n/Esc)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 50; height: auto; border: thick $error; background: $surface;
                               padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", N_("Yes"), id="confirm.yes"),
        Binding("n,escape", "answer(False)", N_("Stay"), id="confirm.no"),
    ]

    def __init__(self, question: str, yes: str) -> None:
        """``question`` and ``yes`` (what y/Enter does, e.g. "quit") are translated text."""
        super().__init__()
        translate_bindings(self)
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Label(_("y / Enter: {yes}    n / Esc: stay").format(yes=self.yes))

    def action_answer(self, value: bool) -> None:
        """Dismiss with the answer."""
        self.dismiss(value)


def confirm_quit() -> ConfirmScreen:
    """The question before quitting over a form with unsaved input."""
    return ConfirmScreen(_("A form has unsaved input. Quit anyway?"), _("quit"))


def confirm_discard() -> ConfirmScreen:
    """The question before Esc closes a form with unsaved input."""
    return ConfirmScreen(_("Discard what you typed?"), _("discard"))
