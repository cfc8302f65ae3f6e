"""Every visible string goes through the translation layer and has a zh-CN translation."""

from __future__ import annotations

import ast
from pathlib import Path

from windtui import i18n
from windtui.domain import model

PACKAGE = Path(__file__).resolve().parents[1] / "windtui"


def _literal_msgids() -> dict[str, str]:
    """``_("…")`` literal msgids in the package, mapped to the file that uses them."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, path.name)
    return found


def test_every_literal_msgid_has_a_chinese_translation() -> None:
    catalog = set(i18n.catalog_ids("zh_CN"))
    missing = {m: f for m, f in _literal_msgids().items() if m not in catalog}
    assert not missing, f"untranslated msgids: {missing}"


def test_every_enum_label_has_a_chinese_translation() -> None:
    catalog = set(i18n.catalog_ids("zh_CN"))
    enums = [
        model.Target,
        model.ClockState,
        model.Category,
        model.Priority,
        model.TicketState,
        model.HoldReason,
        model.Action,
        model.Role,
    ]
    missing = [member.label for enum in enums for member in enum if member.label not in catalog]
    assert not missing, f"untranslated labels: {missing}"


def test_language_switch_translates_and_english_is_identity() -> None:
    try:
        assert i18n.set_language("zh_CN.UTF-8") == "zh_CN"
        assert i18n._("On site") == "到场"
        assert i18n.set_language("en_US") == "en"
        assert i18n._("On site") == "On site"
    finally:
        i18n.set_language("en")


def test_po_parser_handles_continuations_and_escapes() -> None:
    text = 'msgid ""\nmsgstr "header"\n\nmsgid "a \\"b\\""\nmsgstr ""\n"c"\n"d"\n'
    assert i18n._parse_po(text) == {'a "b"': "cd"}
