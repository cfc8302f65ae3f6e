"""Binding ids, translated binding labels, and the user's console settings and key remaps.

Every ``Binding`` in the console has an ``id`` (``queue.sort``, ``ticket.ack``, …). A user remaps
keys in ``~/.config/windtui/config.toml`` (``$XDG_CONFIG_HOME`` respected)::

    [keys]
    "ticket.next" = "period"      # binding id = key (Textual key names, comma-separated)
    "list.down" = "j,down,ctrl+n"

    [console]
    timezone = "Asia/Shanghai"    # the desk clock's timezone
    bell = true                   # ring the terminal bell on an SLA alert

and the app applies them with ``App.set_keymap``. Binding descriptions are English msgids marked
with :func:`N_` and translated per widget instance by :func:`translate_bindings`, so switching the
language after import still shows the right labels.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textual.binding import Binding
from textual.dom import DOMNode

from windtui.errors import WindtuiError
from windtui.i18n import _

DEFAULT_TIMEZONE = "Asia/Shanghai"


def N_(message: str) -> str:
    """Mark ``message`` as a msgid to translate later (class attributes are built at import)."""
    return message


def translate_bindings(node: DOMNode) -> None:
    """Translate the descriptions of ``node``'s bindings into the active language (per instance)."""
    bindings = node._bindings  # the per-instance copy Textual made of the class BINDINGS
    bindings.key_to_bindings = {
        key: [replace(b, description=_(b.description) if b.description else "") for b in group]
        for key, group in bindings.key_to_bindings.items()
    }


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The console's part of ``config.toml``."""

    keys: dict[str, str] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    bell: bool = False
    source: str = ""


def config_path() -> Path:
    """Where the user's ``config.toml`` lives."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "windtui" / "config.toml"


def parse_config(text: str, source: str = "config.toml") -> ConsoleConfig:
    """Parse the ``[keys]`` and ``[console]`` tables; raises WindtuiError naming the bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WindtuiError(_("{source}: {error}").format(source=source, error=error)) from None
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise WindtuiError(
            _("{source}: [keys] must map binding ids to key strings").format(source=source)
        )
    console = data.get("console", {})
    timezone = console.get("timezone", DEFAULT_TIMEZONE)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise WindtuiError(
            _("{source}: console.timezone {tz} is not an IANA timezone").format(
                source=source, tz=timezone
            )
        ) from None
    bell = console.get("bell", False)
    if not isinstance(bell, bool):
        raise WindtuiError(_("{source}: console.bell must be true or false").format(source=source))
    return ConsoleConfig(keys=dict(keys), timezone=str(timezone), bell=bell, source=source)


def load_config(path: Path | None = None) -> ConsoleConfig:
    """Read the user's config file; a missing file means defaults."""
    path = path or config_path()
    if not path.is_file():
        return ConsoleConfig()
    return parse_config(path.read_text("utf-8"), str(path))


def all_bindings() -> list[tuple[str, Binding]]:
    """Every console binding with the class that declares it (for docs, help and validation)."""
    from windtui.tui.actions import ActionMenu
    from windtui.tui.app import MainScreen, WindApp  # lazy: the widgets import this module
    from windtui.tui.screens.detail import DetailScreen
    from windtui.tui.screens.kpi import KpiScreen, KpiTicketsScreen
    from windtui.tui.screens.my_jobs import JobList, MyJobsScreen
    from windtui.tui.screens.quality import RegistersScreen
    from windtui.tui.widgets.board import TechnicianBoard
    from windtui.tui.widgets.countdown import CountdownPane
    from windtui.tui.widgets.queue import TicketQueue
    from windtui.tui.widgets.table import LineTable

    found: list[tuple[str, Binding]] = []
    owners = (
        WindApp,
        MainScreen,
        LineTable,
        TicketQueue,
        CountdownPane,
        TechnicianBoard,
        DetailScreen,
        ActionMenu,
        MyJobsScreen,
        JobList,
        RegistersScreen,
        KpiScreen,
        KpiTicketsScreen,
    )
    for owner in owners:
        for binding in owner.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                found.append((owner.__name__, binding))
    return found


def unknown_binding_ids(keys: dict[str, str]) -> list[str]:
    """Binding ids in a ``[keys]`` table that no console binding has (likely typos)."""
    known = {b.id for _owner, b in all_bindings()}
    return sorted(k for k in keys if k not in known)
