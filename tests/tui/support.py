"""Helpers shared by the console tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

from textual.app import App

from windtui.services.desk import Desk

from .conftest import NOW


async def settle(app: App[Any], pilot: Any) -> None:
    """Wait for every worker (loads, performs, reloads) and the resulting repaint."""
    for _round in range(3):  # a finished perform starts a reload worker
        await app.workers.wait_for_complete()
        await pilot.pause()


def colleague(url: str) -> Desk:
    """A second desk on the same database (another dispatcher's console)."""
    return Desk.open(url, now=NOW, actor="luog")
