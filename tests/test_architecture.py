"""Layering rules from docs/ARCHITECTURE.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "windtui"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("domain"), ids=lambda p: p.name)
def test_domain_imports_neither_peewee_nor_textual(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        if name.split(".")[0] in {"peewee", "playhouse", "textual", "rich"}
        or name.startswith(("windtui.store", "windtui.services", "windtui.tui"))
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _modules("tui"), ids=lambda p: p.name)
def test_console_never_touches_the_database(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        if name.split(".")[0] in {"peewee", "playhouse"} or name.startswith("windtui.store")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
