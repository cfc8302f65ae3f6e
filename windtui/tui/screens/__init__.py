"""Screens of the dispatch console: ticket detail, forms, help and the ``:`` command line."""

from windtui.tui.screens.command_line import (
    CommandLineScreen,
    NavCommand,
    apply_command,
    open_command_line,
    parse_command,
)
from windtui.tui.screens.detail import DetailScreen
from windtui.tui.screens.forms import (
    AssignForm,
    FormScreen,
    HoldForm,
    NewTicketForm,
    ReasonForm,
    ReclassifyForm,
    ResumeForm,
)
from windtui.tui.screens.help import HelpScreen

__all__ = [
    "AssignForm",
    "CommandLineScreen",
    "DetailScreen",
    "FormScreen",
    "HelpScreen",
    "HoldForm",
    "NavCommand",
    "NewTicketForm",
    "ReasonForm",
    "ReclassifyForm",
    "ResumeForm",
    "apply_command",
    "open_command_line",
    "parse_command",
]
