"""User text in the console: shown by :func:`windtui.safetext.visible`, never read as markup.

A ``str`` handed to ``Static.update``, ``Label``, a Rich table cell, an ``Option`` prompt or a
border title is parsed as markup, so a ticket titled ``[@click=app.quit]…`` would become a
clickable action and ``[$error]`` a style (``textual.markup.escape`` misses both ``$`` and
upper-case tags). Anything that holds user text goes through :func:`plain` instead: a Rich
``Text``, which no widget parses. Line widgets (``LineTable``) build segments, never markup;
their cells are made visible by ``widgets.cells.fit``.
"""

from __future__ import annotations

from rich.text import Text

from windtui.safetext import visible


def plain(text: str | None, style: str = "", *, multiline: bool = False) -> Text:
    """``text`` as a Rich ``Text`` in ``style``: controls made visible, never parsed as markup."""
    return Text(visible(text, multiline=multiline), style=style)


__all__ = ["plain"]
