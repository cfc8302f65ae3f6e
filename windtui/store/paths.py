"""Where windtui finds its shipped data files and keeps its default database."""

from __future__ import annotations

import os
from pathlib import Path

from windtui.paths import data_dir

__all__ = ["data_dir", "default_db_path", "user_data_dir"]


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/windtui`` or ``~/.local/share/windtui`` (not created here)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "windtui"


def default_db_path() -> Path:
    """The default SQLite file: ``<user data dir>/windtui.db``."""
    return user_data_dir() / "windtui.db"
