"""Database URLs, SQLite settings, UTC round trips, schema creation, versions and locking."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from peewee import PostgresqlDatabase, SqliteDatabase

from windtui.errors import WindtuiError
from windtui.services.desk import Desk
from windtui.store import db as dbmod
from windtui.store.models import ChangeCounter, SchemaMeta, Ticket
from windtui.store.paths import data_dir, default_db_path
from windtui.store.schema import SCHEMA_VERSION, ensure_schema, schema_version


def test_sqlite_urls(tmp_path: Path) -> None:
    absolute = dbmod.open_database(f"sqlite:///{tmp_path}/a/b.db")
    assert isinstance(absolute, SqliteDatabase) and absolute.database == f"{tmp_path}/a/b.db"
    assert (tmp_path / "a").is_dir()  # the folder is created
    assert dbmod.open_database("sqlite:///rel.db", create=False).database == "rel.db"
    assert dbmod.open_database(str(tmp_path / "plain.db")).database == str(tmp_path / "plain.db")
    assert dbmod.open_database("sqlite:///:memory:").database == ":memory:"


def test_postgres_url_with_schema() -> None:
    pg = dbmod.open_database("postgresql://ops:s3cret@db.local:5433/windtui?schema=desk")
    assert isinstance(pg, PostgresqlDatabase)
    assert pg.database == "windtui"
    assert pg.connect_params == {
        "host": "db.local",
        "port": 5433,
        "user": "ops",
        "password": "s3cret",
        "options": "-c search_path=desk",
    }
    assert dbmod.redact("postgresql://ops:s3cret@h/db") == "postgresql://ops:***@h/db"


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(WindtuiError, match="unsupported database URL 'mysql://x/y'"):
        dbmod.open_database("mysql://x/y")


def test_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WINDTUI_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "windtui" / "windtui.db"
    assert dbmod.resolve_url(None) == f"sqlite:///{tmp_path}/windtui/windtui.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path() == Path.home() / ".local/share/windtui/windtui.db"
    monkeypatch.setenv("WINDTUI_DB", "sqlite:///env.db")
    assert dbmod.resolve_url(None) == "sqlite:///env.db"
    assert dbmod.resolve_url("sqlite:///arg.db") == "sqlite:///arg.db"


def test_shipped_data_is_found() -> None:
    assert (data_dir() / "sla-policy.toml").is_file()


def test_sqlite_connection_settings(sqlite_url: str) -> None:
    desk = Desk.open(sqlite_url)

    def pragma(name: str) -> Any:
        return desk.db.execute_sql(f"PRAGMA {name}").fetchone()[0]

    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 5000
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("user_version") == SCHEMA_VERSION
    desk.close()


def test_instants_round_trip_as_utc(any_desk: Desk) -> None:
    local = datetime(2025, 3, 2, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    number = any_desk.create_ticket(
        farm="DBC", category="fault", priority="P3", title="x", at=local
    ).number
    received = any_desk.ticket(number).timeline.received_at
    assert received == local and received.tzinfo == UTC
    assert received.microsecond == 123456
    with pytest.raises(ValueError, match="naive"):
        Ticket.update(received_at=datetime(2025, 1, 1)).execute()


def test_schema_is_idempotent_and_refuses_newer(backend_url: str) -> None:
    desk = Desk.open(backend_url)
    assert desk.init_schema() == SCHEMA_VERSION
    assert ensure_schema(desk.db) == SCHEMA_VERSION
    assert ChangeCounter.select().count() == 1
    SchemaMeta.update(value=str(SCHEMA_VERSION + 1)).execute()
    desk.close()
    with pytest.raises(WindtuiError, match="newer than this windtui knows"):
        Desk.open(backend_url)


def test_open_without_create_leaves_an_empty_database_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    desk = Desk.open(url, create=False)
    assert schema_version(desk.db) is None
    assert desk.init_schema() == SCHEMA_VERSION
    desk.close()


def test_reset_empties_everything(desk: Desk) -> None:
    desk.create_ticket(farm="DBC", category="fault", priority="P3", title="x")
    desk.reset()
    assert desk.farms() == [] and desk.tickets(include_closed=True) == []
    assert desk.changed_since(0)[0] == 0


def test_unreachable_postgres_is_one_line_error() -> None:
    with pytest.raises(WindtuiError, match="cannot open the database"):
        Desk.open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")


def _open(url: str, start: Any, out: Any) -> None:
    start.wait()
    try:
        Desk.open(url).close()
        out.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test
        out.put(repr(exc))


def test_concurrent_first_start_creates_the_schema_once(backend_url: str) -> None:
    ctx = mp.get_context("fork")
    start, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_open, args=(backend_url, start, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert results == ["ok"] * 4
    desk = Desk.open(backend_url)
    assert schema_version(desk.db) == SCHEMA_VERSION
    assert ChangeCounter.select().count() == 1
    desk.close()


def test_new_database_files_and_folders_are_owner_only(tmp_path: Path) -> None:
    """Tickets name customers, people and phone numbers: what windtui creates, only its owner
    reads (the folder 700, the file 600, and SQLite's -wal/-shm follow the file)."""
    import stat

    folder = tmp_path / "fresh" / "windtui"
    desk = Desk.open(f"sqlite:///{folder / 'desk.db'}")
    desk.add_staff("boss", name_zh="管", name_en="Boss", roles=["admin"])
    for path in (tmp_path / "fresh", folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for name in ("desk.db", "desk.db-wal", "desk.db-shm"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    desk.close()
    shared = tmp_path / "shared.db"  # an administrator's own modes on an existing file stay
    shared.touch(mode=0o660)
    shared.chmod(0o660)
    Desk.open(f"sqlite:///{shared}").close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o660
