"""Translation layer: gettext-style ``.po`` catalogs for zh-CN and en.

English text is the message id, so the English catalog is the identity. The zh-CN catalog lives in
``windtui/locale/zh_CN/*.po`` (one file per area: domain, services, cli, tui), merged and parsed
at first use (no compiled ``.mo`` files in the tree).
Every visible string goes through :func:`_` (or :func:`ngettext`-free formatting with ``{}``).
"""

from __future__ import annotations

import ast
import locale
import os
from collections.abc import Iterator
from importlib import resources

_catalogs: dict[str, dict[str, str]] = {}
_current = "en"


def normalise(lang: str | None) -> str:
    """Map a locale name such as ``zh_CN.UTF-8``, ``zh-cn`` or ``en_US`` to a supported language."""
    if not lang:
        return "en"
    code = lang.split(".")[0].replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    return "en"


def default_language() -> str:
    """The language from ``WINDTUI_LANG``, then the POSIX locale variables, else English."""
    for var in ("WINDTUI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return normalise(value)
    try:
        return normalise(locale.getlocale()[0])
    except ValueError:
        return "en"


def _parse_po(text: str) -> dict[str, str]:
    """Parse msgid/msgstr pairs (with continuation lines) from a ``.po`` file."""
    catalog: dict[str, str] = {}
    msgid: list[str] = []
    msgstr: list[str] = []
    current: list[str] | None = None

    def flush() -> None:
        key, value = "".join(msgid), "".join(msgstr)
        if key and value:
            catalog[key] = value

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [], []
            current = msgid
            line = line[6:]
        elif line.startswith("msgstr "):
            current = msgstr
            line = line[7:]
        if current is not None and line.startswith('"'):
            current.append(ast.literal_eval(line))
    flush()
    return catalog


def _load(lang: str) -> dict[str, str]:
    if lang not in _catalogs:
        if lang == "en":
            _catalogs[lang] = {}
        else:
            merged: dict[str, str] = {}
            folder = resources.files("windtui.locale").joinpath(lang)
            for entry in sorted(folder.iterdir(), key=lambda e: e.name):
                if entry.name.endswith(".po"):
                    merged.update(_parse_po(entry.read_text("utf-8")))
            _catalogs[lang] = merged
    return _catalogs[lang]


def set_language(lang: str | None) -> str:
    """Switch the process-wide language; returns the normalised code that is now active."""
    global _current
    _current = normalise(lang) if lang else default_language()
    _load(_current)
    return _current


def current_language() -> str:
    """The active language code (``en`` or ``zh_CN``)."""
    return _current


def _(message: str) -> str:
    """Translate ``message`` (an English msgid) into the active language."""
    if _current == "en":
        return message
    return _load(_current).get(message, message)


def catalog_ids(lang: str = "zh_CN") -> Iterator[str]:
    """Every msgid in a catalog (used by the test that checks nothing visible is untranslated)."""
    return iter(_load(lang))
