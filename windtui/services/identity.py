"""Who is at the desk: the identity record and the administrator's system configuration.

The actor is the operating-system login of the process, mapped to a staff member (a staff row's
own ``login``, or any of its ``StaffLogin`` rows). ``--as LOGIN`` is honoured only for an
administrator, or for an OS account the administrator lists in the system configuration as
*trusted*: a shared account whose identity is fixed per SSH key by a root-owned
``authorized_keys`` line (``restrict,pty,command="windtui --as lizq"``) or per browser session by
``windtui serve`` behind an authenticating proxy.

System configuration (``/etc/windtui/windtui.toml``; ``$WINDTUI_SYSTEM_CONFIG`` may point
elsewhere)::

    [identity]
    trusted_accounts = ["windtui"]   # OS accounts whose --as is trusted

The file is read only when root owns it and neither group nor others may write it: a user who can
write it could make themselves anyone.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from windtui.domain.model import Role
from windtui.domain.roles import crew_only
from windtui.errors import WindtuiError
from windtui.i18n import _

SYSTEM_CONFIG = Path("/etc/windtui/windtui.toml")


@dataclass(frozen=True, slots=True)
class Identity:
    """The person at the desk and how we know.

    ``via``: ``login`` (the OS login maps to them), ``as`` (``--as``, by an administrator or a
    trusted account), ``bootstrap`` (no staff exist yet: whoever sets the database up may do
    everything until the first administrator is added).
    """

    login: str
    name_zh: str
    name_en: str
    roles: frozenset[Role]
    os_login: str
    via: str
    staff_id: int | None = None

    @property
    def crew_only(self) -> bool:
        """True for a technician who sees only their own jobs."""
        return crew_only(self.roles)

    def role_names(self) -> tuple[str, ...]:
        """Role values in enum order."""
        return tuple(r.value for r in Role if r in self.roles)


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """The administrator's settings that decide whose ``--as`` is trusted."""

    trusted_accounts: frozenset[str] = frozenset()
    source: str = ""


def system_config_path() -> Path:
    """``$WINDTUI_SYSTEM_CONFIG`` or ``/etc/windtui/windtui.toml``."""
    override = os.environ.get("WINDTUI_SYSTEM_CONFIG")
    return Path(override) if override else SYSTEM_CONFIG


def load_system_config(path: Path | None = None) -> SystemConfig:
    """Read the system configuration; a missing file is an empty one.

    Refused (one line naming the file) when it is not root-owned or is writable by group or
    others, or when it does not parse.
    """
    file = path or system_config_path()
    try:
        info = file.stat()
    except FileNotFoundError:
        return SystemConfig()
    except OSError as exc:
        raise WindtuiError(
            _("cannot read {path}: {why}").format(path=file, why=exc.strerror)
        ) from exc
    if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise WindtuiError(
            _(
                "{path} is ignored: it must belong to root and be writable by root only"
                " (chown root: {path}; chmod 644 {path})"
            ).format(path=file)
        )
    try:
        data = tomllib.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WindtuiError(_("cannot read {path}: {why}").format(path=file, why=exc)) from exc
    section = data.get("identity", {})
    accounts = section.get("trusted_accounts", []) if isinstance(section, dict) else None
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise WindtuiError(
            _("{path}: [identity] trusted_accounts must be a list of login names").format(path=file)
        )
    return SystemConfig(trusted_accounts=frozenset(accounts), source=str(file))
