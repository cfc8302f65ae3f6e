"""The wheel's package list in pyproject.toml covers every package and the shipped data."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setuptools() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["setuptools"]


def test_every_package_folder_is_listed() -> None:
    listed = set(_setuptools()["packages"])  # type: ignore[arg-type]
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "windtui").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = sorted(found - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_data_folder_ships_as_windtui_data() -> None:
    config = _setuptools()
    assert config["package-dir"]["windtui._data"] == "data"  # type: ignore[index]
    patterns = config["package-data"]["windtui._data"]  # type: ignore[index]
    shipped = {p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*.toml")}
    assert "sla-policy.toml" in shipped and "demo/tickets.toml" in shipped
    for name in shipped:
        assert any(Path(name).match(pattern) for pattern in patterns), name
