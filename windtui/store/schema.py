"""Create and upgrade the schema idempotently, safely when several processes start at once.

The version lives in ``schema_meta`` (key ``schema_version``; SQLite also mirrors it in
``PRAGMA user_version``). A console refuses to run against a schema newer than it knows, so an
old console left running after an upgrade cannot write rows it does not understand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from peewee import SQL, BooleanField, Database, TextField

from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.store.db import is_sqlite
from windtui.store.models import (
    MODELS,
    QUALITY_MODELS,
    ChangeCounter,
    Event,
    Refusal,
    SchemaMeta,
    StaffLogin,
)

SCHEMA_VERSION = 3

#: pg_advisory_xact_lock key for schema work ("windtui" in ASCII, truncated to fit a bigint).
_PG_LOCK_KEY = 0x77696E64747569

#: Tables that refuse UPDATE and DELETE (the audit trail).
APPEND_ONLY = ("event", "refusal")


def _sqlite_triggers(table: str) -> tuple[str, ...]:
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    )


def _pg_triggers(table: str) -> tuple[str, ...]:
    return (
        f"CREATE OR REPLACE FUNCTION windtui_{table}_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION windtui_{table}_append_only()",
    )


def append_only_triggers(db: Database) -> list[str]:
    """The statements that make :data:`APPEND_ONLY` tables refuse UPDATE/DELETE."""
    make = _sqlite_triggers if is_sqlite(db) else _pg_triggers
    return [sql for table in APPEND_ONLY for sql in make(table)]


def drop_append_only_triggers(db: Database) -> None:
    """Drop those triggers (schema upgrades that must rewrite the audit tables; tests)."""
    for table in APPEND_ONLY:
        if is_sqlite(db):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def _upgrade_to_2(db: Database) -> None:
    """Identity and the audit chain: staff logins and ``active``, farm access notes, refusals,
    and the hash chain over every existing event (in ``seq`` order)."""
    from playhouse.migrate import SchemaMigrator, migrate  # only when upgrading

    from windtui.store.chain import rechain_all

    migrator = SchemaMigrator.from_database(db)
    # NOT NULL columns with an SQL default: one ALTER TABLE on both backends (peewee's generic
    # path would rebuild the table on SQLite, which foreign keys forbid inside a transaction).
    active = BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")])
    access = TextField(default="", constraints=[SQL("DEFAULT ''")])
    migrate(
        migrator.add_column("staff", "active", active, allow_not_null=True),
        migrator.add_column("farm", "access_notes", access, allow_not_null=True),
        migrator.add_column("event", "chain_seq", Event.chain_seq),
        migrator.add_column("event", "prev_hash", Event.prev_hash),
        migrator.add_column("event", "hash", Event.hash),
    )
    db.create_tables([StaffLogin, Refusal], safe=True)
    drop_append_only_triggers(db)  # the back-fill writes the new chain columns once
    rechain_all(db)
    for sql in append_only_triggers(db):
        db.execute_sql(sql)


def _upgrade_to_3(db: Database) -> None:
    """The quality half: repair reports, reviews, surveys, improvements, suggestions and the
    outcomes of closed tickets (new tables only; outcomes of tickets closed before are
    computed by ``windtui kpi --rebuild``)."""
    db.create_tables(QUALITY_MODELS, safe=True)


#: Upgrade steps: ``_UPGRADES[n]`` takes a version n-1 schema to version n (run under the lock).
_UPGRADES: dict[int, Callable[[Database], None]] = {2: _upgrade_to_2, 3: _upgrade_to_3}


@contextmanager
def schema_lock(db: Database) -> Iterator[None]:
    """One transaction that only one process at a time can hold for schema work."""
    if is_sqlite(db):
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
            yield


def schema_version(db: Database) -> int | None:
    """The stored schema version, or None when the database has no windtui schema."""
    if not db.table_exists(SchemaMeta._meta.table_name):
        return None
    row = SchemaMeta.get_or_none(SchemaMeta.key == "schema_version")
    return int(row.value) if row else None


def _refuse_newer(version: int | None) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise WindtuiError(
            _(
                "the database schema is version {found}, newer than this windtui knows ({known}):"
                " upgrade windtui"
            ).format(found=version, known=SCHEMA_VERSION)
        )


def ensure_schema(db: Database, *, create: bool = True) -> int:
    """Create or upgrade the schema; return its version.

    Without ``create``, a database with no schema is refused instead of initialised.
    """
    version = schema_version(db)
    _refuse_newer(version)
    if version == SCHEMA_VERSION:
        return version  # the common case: no lock needed
    if version is None and not create:
        raise WindtuiError(_("the database has no windtui schema: run 'windtui init' first"))
    with schema_lock(db):
        # Re-read under the lock: another process may have done the work meanwhile.
        version = schema_version(db)
        _refuse_newer(version)
        if version is None:
            _create(db)
        else:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                _UPGRADES[step](db)
        _set_version(db, SCHEMA_VERSION)
    return SCHEMA_VERSION


def _create(db: Database) -> None:
    db.create_tables(MODELS, safe=True)
    for sql in append_only_triggers(db):
        db.execute_sql(sql)
    ChangeCounter.insert(id=1, value=0).on_conflict_ignore().execute()


def _set_version(db: Database, version: int) -> None:
    SchemaMeta.insert(key="schema_version", value=str(version)).on_conflict(
        conflict_target=[SchemaMeta.key], update={SchemaMeta.value: str(version)}
    ).execute()
    if is_sqlite(db):
        db.execute_sql(f"PRAGMA user_version = {int(version)}")


def drop_schema(db: Database) -> None:
    """Drop every windtui table (used by ``Desk.reset`` before recreating)."""
    with schema_lock(db):
        db.drop_tables(MODELS, safe=True, cascade=not is_sqlite(db))
