"""Where windtui finds its shipped data files and keeps its default database."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import windtui


def data_dir() -> Path:
    """The folder with shipped data (``sla-policy.toml``, demo data).

    A source checkout has it at ``<repo>/data``; an installed package carries it as
    ``windtui/_data`` (setuptools maps it there).
    """
    checkout = Path(windtui.__file__).resolve().parents[1] / "data"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("windtui").joinpath("_data")))


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/windtui`` or ``~/.local/share/windtui`` (not created here)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "windtui"


def default_db_path() -> Path:
    """The default SQLite file: ``<user data dir>/windtui.db``."""
    return user_data_dir() / "windtui.db"
