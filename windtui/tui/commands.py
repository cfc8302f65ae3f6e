"""Command palette provider (Ctrl+P): every hotkey and command-line verb, searchable.

Every hotkey of the current screen is discoverable from the palette: :class:`DeskCommands` reads
the live ``active_bindings`` (so keymap remaps show up) and lists each as
``"<namespace>: <description> (<key>)"``; it also lists the command-line verbs, which open the
``:`` prompt pre-filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from textual.app import App
from textual.binding import ActiveBinding, Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen

from windtui.i18n import _

# Namespace labels by binding-id prefix ("ticket.ack" -> "ticket"). The msgids are listed here so
# they get translated; unknown prefixes are shown as they are.
_NAMESPACES: dict[str, str] = {
    "ticket": "ticket",
    "view": "view",
    "pane": "pane",
    "app": "app",
    "form": "form",
    "detail": "ticket",
    "help": "help",
    "command": "command",
    "jobs": "ticket",
    "desk": "desk",
    "kpi": "KPI",
}
_NAMESPACE_MSGIDS = (_("ticket"), _("view"), _("pane"), _("app"), _("form"), _("help"), _("desk"),
                     _("KPI"))  # fmt: skip


PALETTE_ACTIONS = frozenset({"command_palette", "app.command_palette"})


def is_console_binding(binding: Binding) -> bool:
    """Console bindings carry an id (so they can be remapped); Textual's built-in scroll/focus
    keys do not and would only add untranslated noise to help and palette. The palette key is
    the one built-in worth listing."""
    return bool(binding.id) or binding.action in PALETTE_ACTIONS


def describe(binding: Binding) -> str:
    """A binding's translated description (Textual's palette key has an English one)."""
    if binding.action in PALETTE_ACTIONS:
        return _("Command palette")
    return _(binding.description)


def namespace_of(active: ActiveBinding) -> str:
    """The palette namespace of a binding: its id prefix, else where it is defined."""
    binding_id = active.binding.id or ""
    if "." in binding_id:
        prefix = binding_id.split(".", 1)[0]
        return _(_NAMESPACES.get(prefix, prefix))
    if isinstance(active.node, App):
        return _("app")
    if isinstance(active.node, Screen):
        return _("view")
    return _("pane")


@dataclass(frozen=True, slots=True)
class BindingCommand:
    """One palette entry built from an active binding."""

    title: str
    help: str
    action: str
    node: DOMNode


def binding_commands(screen: Screen[object]) -> list[BindingCommand]:
    """Palette entries for every enabled, described binding active on ``screen``."""
    app = screen.app
    seen: set[tuple[int, str]] = set()
    commands: list[BindingCommand] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or not active.enabled or not is_console_binding(binding):
            continue
        if binding.action in PALETTE_ACTIONS:
            continue  # the palette listing itself is noise
        # One entry per action even if several keys are bound to it.
        marker = (id(active.node), binding.action)
        if marker in seen:
            continue
        seen.add(marker)
        key = app.get_key_display(binding)
        title = _("{namespace}: {description} ({key})").format(
            namespace=namespace_of(active), description=describe(binding), key=key
        )
        commands.append(
            BindingCommand(title, _(binding.tooltip or ""), binding.action, active.node)
        )
    return commands


def command_line_entries() -> Iterator[tuple[str, str, str]]:
    """``(title, help, prefill)`` for each command-line verb (e.g. ``command: :ack <number>``)."""
    from windtui.tui.screens.command_line import COMMAND_HELP

    for verb, (usage, description) in COMMAND_HELP.items():
        title = _("{namespace}: {description} ({usage})").format(
            namespace=_("command"), description=_(description), usage=f":{verb} {usage}".strip()
        )
        yield title, _(description), f"{verb} " if usage else verb


class DeskCommands(Provider):
    """Palette commands: the current screen's hotkeys plus the command-line verbs."""

    def _entries(self) -> Iterable[tuple[str, str, object]]:
        for command in binding_commands(self.screen):
            yield (
                command.title,
                command.help,
                partial(self.app.run_action, command.action, command.node),
            )
        if not getattr(self.screen, "COMMAND_LINE", True):
            return  # a technician's console has no command line (its verbs are the desk's)
        for title, help_text, prefill in command_line_entries():
            yield title, help_text, partial(self._open_prompt, prefill)

    def _open_prompt(self, prefill: str) -> None:
        from windtui.tui.screens.command_line import open_command_line

        open_command_line(self.app, prefill)

    async def discover(self) -> Hits:
        """Everything, unfiltered, when the palette opens."""
        for title, help_text, callback in self._entries():
            yield DiscoveryHit(title, callback, help=help_text or None)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        """Fuzzy-match the query against the titles."""
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    callback,  # type: ignore[arg-type]
                    text=title,
                    help=help_text or None,
                )
