"""Where windtui finds its shipped data files (used by every layer, so it lives outside them)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir() -> Path:
    """The folder with shipped data (``sla-policy.toml``, ``demo/``).

    An installed package carries it as ``windtui/_data`` (setuptools maps the top-level ``data/``
    there); a source checkout has it at ``<repo>/data``. The packaged copy wins so that an installed
    windtui never picks up some other project's ``data/`` folder next to site-packages.
    """
    packaged = Path(str(resources.files("windtui").joinpath("_data")))
    if (packaged / "sla-policy.toml").is_file():
        return packaged
    return Path(__file__).resolve().parents[1] / "data"


def default_policy_path() -> Path:
    """The shipped SLA policy file."""
    return data_dir() / "sla-policy.toml"
