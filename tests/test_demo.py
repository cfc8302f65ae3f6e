"""The demo fleet: counts, coverage of every category/priority/clock state, determinism, and
that a broken demo file fails loudly naming the ticket."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from windtui.domain.model import Category, ClockState, HoldReason, Priority, TicketState
from windtui.domain.sla import compute_clocks
from windtui.errors import WindtuiError
from windtui.services.demo import demo_dir, load_demo, parse_offset, read_demo, resolve_date
from windtui.services.desk import Desk

#: The demo's frozen "now": Tuesday 10 March 2026, 14:00 Beijing time.
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    desk = Desk.open(f"sqlite:///{path}", now=NOW, actor="test")
    summary = load_demo(desk, "en")
    assert summary.tickets == 60
    return desk


def _clock_states(desk: Desk) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    policy = desk.policy()
    for snap in desk.tickets():
        for clock in compute_clocks(
            snap.timeline,
            policy,
            farm_tz=snap.farm_timezone,
            farm_calendar=snap.farm_calendar,
            now=NOW,
        ):
            found[(clock.state.value, clock.hold_reason.value if clock.hold_reason else "")] += 1
    return found


def test_counts(demo_desk: Desk) -> None:
    assert len(demo_desk.farms()) == 8
    assert len(demo_desk.turbines()) == 312
    assert sum(f.turbine_count for f in demo_desk.farms()) == 312
    assert len(demo_desk.tickets(include_closed=True)) == 60
    assert {f.code for f in demo_desk.farms()} == {
        "DBC",
        "YMN",
        "HTX",
        "ZBE",
        "RDG",
        "DHQ",
        "YJS",
        "PTN",
    }
    data = read_demo(NOW)
    assert len(data.staff) == 25
    roles = Counter(r for s in data.staff for r in s.roles)
    assert roles["technician"] >= 18 and roles["admin"] == 1 and 1 <= roles["qa"] <= 2
    assert roles["dispatcher"] >= 2


def test_every_category_priority_and_state_is_present(demo_desk: Desk) -> None:
    tickets = demo_desk.tickets(include_closed=True)
    assert {t.category for t in tickets} == set(Category)
    assert {t.priority for t in tickets} == set(Priority)
    assert {t.state for t in tickets} == set(TicketState)
    assert {t.hold for t in tickets if t.hold} == set(HoldReason)
    categories = Counter(t.category for t in tickets)
    assert categories[Category.FAULT] == 30


def test_live_clocks_breached_at_risk_and_paused_on_weather(demo_desk: Desk) -> None:
    states = _clock_states(demo_desk)
    assert states[(ClockState.BREACHED.value, "")] >= 1
    assert states[(ClockState.AT_RISK.value, "")] >= 1
    assert states[(ClockState.MET.value, "")] >= 1
    assert states[(ClockState.PAUSED.value, HoldReason.WEATHER.value)] >= 1


def test_every_ticket_has_an_event_log_with_evidence_for_holds(demo_desk: Desk) -> None:
    for snap in demo_desk.tickets(include_closed=True):
        detail = demo_desk.detail(snap.number)
        assert detail.events[0].action == "create"
        for hold in detail.holds:
            assert hold.evidence.strip()
    weather = demo_desk.detail(1030)  # DBC-A07, the hub-entry wind hold
    assert "14.2 m/s" in weather.holds[0].evidence
    actors = {e.actor for s in (1030, 1058) for e in demo_desk.detail(s).events}
    assert {"wangjg", "luog"} <= actors  # dispatcher and technician, not the loader's login


def test_deterministic_for_a_frozen_now(tmp_path: Path, demo_desk: Desk) -> None:
    other = Desk.open(f"sqlite:///{tmp_path / 'again.db'}", now=NOW, actor="test")
    load_demo(other, "en")

    def fingerprint(desk: Desk) -> list[object]:
        return [
            (t.number, t.state, t.owner, t.hold, t.timeline)
            for t in desk.tickets(include_closed=True)
        ]

    assert fingerprint(other) == fingerprint(demo_desk)


def test_chinese_demo_loads_chinese_titles(tmp_path: Path) -> None:
    desk = Desk.open(f"sqlite:///{tmp_path / 'zh.db'}", now=NOW, actor="test")
    load_demo(desk, "zh_CN")
    title = desk.ticket(1030).title
    assert "变桨" in title
    assert "机舱" in desk.detail(1030).holds[0].evidence


def test_relative_dates_follow_now() -> None:
    data = read_demo(NOW)
    zbe = next(t for t in data.turbines if t.id == "ZBE-A01")
    assert zbe.warranty_end == (NOW + timedelta(days=90)).date()
    assert all(t.received <= NOW for t in data.tickets)
    assert all(s.at <= NOW for t in data.tickets for s in t.steps)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("-3h20m", -12_000), ("+90d", 90 * 86_400), ("45m", 2_700), ("-1d2h3m4s", -93_784)],
)
def test_parse_offset(text: str, seconds: int) -> None:
    assert parse_offset(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "3x", "-h", "1h-2m", "tomorrow"])
def test_parse_offset_refuses_garbage(text: str) -> None:
    with pytest.raises(WindtuiError, match="relative time"):
        parse_offset(text)


def test_resolve_date_absolute_and_bad() -> None:
    assert str(resolve_date("2015-09-30", NOW)) == "2015-09-30"
    with pytest.raises(WindtuiError, match="2015-13-30"):
        resolve_date("2015-13-30", NOW)


def _copy_demo(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir(), folder)
    return folder


def test_an_illegal_step_fails_loudly_naming_the_ticket(tmp_path: Path) -> None:
    folder = _copy_demo(tmp_path)
    tickets = folder / "tickets.toml"
    text = tickets.read_text("utf-8")
    # The first ticket only has `events = []`: make it arrive without being dispatched.
    text = text.replace("events = []", 'events = [["arrive", "-1h"]]', 1)
    tickets.write_text(text, "utf-8")
    desk = Desk.open(f"sqlite:///{tmp_path / 'bad.db'}", now=NOW, actor="test")
    with pytest.raises(WindtuiError, match=r"demo ticket 1001 .*arrive"):
        load_demo(desk, "en", folder)


def test_unknown_technician_or_turbine_is_named(tmp_path: Path) -> None:
    folder = _copy_demo(tmp_path)
    tickets = folder / "tickets.toml"
    tickets.write_text(
        tickets.read_text("utf-8").replace('tech = "lizq"', 'tech = "nobody"'), "utf-8"
    )
    with pytest.raises(WindtuiError, match="unknown technician nobody"):
        read_demo(NOW, "en", folder)
    fleet = folder / "fleet.toml"
    fleet.write_text(fleet.read_text("utf-8").replace('A07 = "fault"', 'Z99 = "fault"'), "utf-8")
    with pytest.raises(WindtuiError, match="DBC has no turbine Z99"):
        read_demo(NOW, "en", folder)


def test_reference_data_goes_in_all_or_nothing(tmp_path: Path) -> None:
    """A clash half-way through the reference data leaves no farm behind."""
    desk = Desk.open(f"sqlite:///{tmp_path / 'clash.db'}", now=NOW, actor="test")
    desk.add_staff("test", name_zh="测试", name_en="Test", roles=["admin"])
    desk.add_staff("wuh", name_zh="吴昊", name_en="Wu Hao", roles=["technician"])  # demo has wuh
    with pytest.raises(WindtuiError, match="wuh"):
        load_demo(desk, "en")
    assert desk.farms() == []
    assert desk.tickets(include_closed=True) == []
