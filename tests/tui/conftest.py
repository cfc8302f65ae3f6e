"""Console fixtures: the demo fleet in a SQLite file (built once, copied per test), an app on it.

Time is frozen twice over: the desk's clock is ``NOW`` (``Desk.open(now=...)``), and snapshot
tests also travel there with time-machine (never freezegun: it freezes ``time.monotonic`` and
hangs the event loop).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from windtui.i18n import set_language
from windtui.services.demo import load_demo
from windtui.services.desk import Desk
from windtui.tui.actions import set_identity
from windtui.tui.app import WindApp

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
"""Monday 3 March 2025, 10:00 in Beijing: the demo's relative times resolve against this."""


@pytest.fixture(autouse=True)
def _english_and_no_blink(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in English; a blinking cursor would make screenshots flaky."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None, raising=False)
    set_language("en")
    set_identity(None)  # the console's roles are per app: never carried from another test
    yield
    set_language("en")
    set_identity(None)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A builder of demo databases per language, each built once per session."""
    built: dict[str, Path] = {}

    def build(lang: str) -> Path:
        if lang not in built:
            path = tmp_path_factory.mktemp(f"demo-{lang}") / "demo.db"
            set_language(lang)
            desk = Desk.open(f"sqlite:///{path}", now=NOW, actor="tester")
            try:
                load_demo(desk, lang)
            finally:
                desk.close()
                set_language("en")
            built[lang] = path
        return built[lang]

    return build


@pytest.fixture
def demo_db(demo_template: Callable[[str], Path], tmp_path: Path) -> Callable[[str], str]:
    """A private copy of the demo database in ``lang``; returns its URL."""

    def copy(lang: str = "en") -> str:
        target = tmp_path / f"demo-{lang}.db"
        shutil.copy(demo_template(lang), target)
        return f"sqlite:///{target}"

    return copy


class MutableClock:
    """A clock a test moves by hand (``clock.advance(minutes=5)``)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def make_clock() -> Callable[[], MutableClock]:
    """A factory of hand-moved clocks starting at ``NOW``."""
    return MutableClock


@pytest.fixture
def demo_desk(demo_db: Callable[[str], str]) -> Iterator[Desk]:
    """A desk on a copy of the English demo database, clock frozen at ``NOW``."""
    desk = Desk.open(demo_db("en"), now=NOW, actor="tester")
    yield desk
    desk.close()


@pytest.fixture
def make_app() -> Callable[..., WindApp]:
    """Build a console on a desk without the live timers (tests drive ``tick``/``poll_once``)."""

    def make(desk: Desk, **kwargs: object) -> WindApp:
        kwargs.setdefault("live", False)
        return WindApp(desk, **kwargs)  # type: ignore[arg-type]

    return make
