"""Shared fixtures: a desk on a temporary SQLite file with a frozen clock and a tiny fleet, and a
fresh PostgreSQL schema (skipped when no server answers, unless ``CI=true``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from windtui.services.desk import Desk

#: The frozen "now" of the fixtures: Monday 3 March 2025, 10:00 in Beijing.
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
PG_SERVER = os.environ.get("WINDTUI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TECHNICIANS = ("wangjg", "lihua", "zhaom")


#: The roles of the fixtures' own actor: everything but technician and viewer.
DESK_ROLES = ["admin", "dispatcher", "qa", "supervisor"]


def seed_fleet(desk: Desk) -> None:
    """The desk's own actor as an administrator, dispatcher, QA and supervisor (added while the
    staff list is empty, so it bootstraps), two farms (onshore 24x7 and offshore business-day),
    a few turbines, three technicians and a dispatcher."""
    desk.add_staff(desk.actor, name_zh="测试员", name_en="Tester", roles=DESK_ROLES)
    desk.add_customer("HNR", name_zh="华能新能源", name_en="Huaneng Renewables")
    desk.add_contract("HNR-DBC-OM", customer="HNR", name="达坂城运维合同", kind="service")
    desk.add_farm(
        "DBC",
        name_zh="达坂城风电场",
        name_en="Dabancheng Wind Farm",
        province="新疆",
        latitude=43.35,
        longitude=88.30,
        calendar="24x7",
        contract="HNR-DBC-OM",
    )
    desk.add_farm(
        "DHQ",
        name_zh="东海大桥海上风电场",
        name_en="Donghai Bridge Offshore",
        province="上海",
        latitude=30.77,
        longitude=121.99,
        offshore=True,
        calendar="cn-business",
    )
    for farm, model, positions in (
        ("DBC", "Goldwind GW121-2.5MW", ("A01", "A07", "B05")),
        ("DHQ", "Sinovel SL3000/90", ("01", "02")),
    ):
        desk.add_turbines(
            farm,
            [
                {
                    "position": p,
                    "model": model,
                    "rated_kw": 2500,
                    "commissioned": date(2015, 9, 30),
                    "warranty_end": date(2020, 9, 30),
                }
                for p in positions
            ],
        )
    for login, zh, en in (("wangjg", "王建国", "Wang Jianguo"), ("lihua", "李华", "Li Hua")):
        desk.add_staff(
            login,
            name_zh=zh,
            name_en=en,
            roles=["technician"],
            base="URC",
            skills=["electrical", "pitch"],
            certificates={"gwo_bst": date(2026, 5, 1)},
        )
    desk.add_staff(
        "zhaom",
        name_zh="赵敏",
        name_en="Zhao Min",
        roles=["technician", "qa"],
        base="LGG",
        status="off_shift",
        certificates={"gwo_bst": date(2025, 3, 20)},  # expires within 30 days of NOW
    )
    desk.add_staff("chenx", name_zh="陈曦", name_en="Chen Xi", roles=["dispatcher"])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture
def desk(sqlite_url: str) -> Iterator[Desk]:
    """A desk on a temporary SQLite file, clock frozen at ``NOW``, with the tiny fleet."""
    opened = Desk.open(sqlite_url, now=NOW, actor="tester")
    seed_fleet(opened)
    yield opened
    opened.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty schema on the local PostgreSQL server, dropped afterwards.

    Skips when no server answers — except with ``CI=true``, where a missing server fails.
    """
    import psycopg2

    try:
        conn = psycopg2.connect(PG_SERVER, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        reason = f"PostgreSQL not reachable at {PG_SERVER}: {str(exc).strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    conn.autocommit = True
    schema = f"windtui_test_{uuid.uuid4().hex[:12]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_SERVER}?schema={schema}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def any_desk(backend_url: str) -> Iterator[Desk]:
    """The ``desk`` fixture on every backend."""
    opened = Desk.open(backend_url, now=NOW, actor="tester")
    seed_fleet(opened)
    yield opened
    opened.close()


@pytest.fixture
def now() -> datetime:
    """The frozen instant of the desk fixtures."""
    return NOW
