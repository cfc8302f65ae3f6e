"""Open the database named by a URL; the one place that knows which backend is in use.

URLs: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite:///:memory:``, a plain file
path (SQLite), ``postgresql://user[:password]@host[:port]/dbname[?schema=name&sslmode=…]``.
Without a URL: ``$WINDTUI_DB``, else the SQLite file in the user's data dir.

Instants are stored as **naive UTC** ``TIMESTAMP``/``DATETIME`` values (see
:class:`windtui.store.models.UtcDateTimeField`), which round-trip on both backends.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from peewee import Database, DatabaseProxy, PostgresqlDatabase, SqliteDatabase

from windtui.errors import WindtuiError
from windtui.i18n import _
from windtui.store.paths import default_db_path

#: Every model is bound to this proxy; ``Desk.open`` points it at the real database.
database_proxy = DatabaseProxy()

#: Applied to every new SQLite connection (peewee sets busy_timeout from ``timeout``).
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal"}
SQLITE_BUSY_SECONDS = 5


def resolve_url(url: str | None) -> str:
    """The URL to use: ``url``, else ``$WINDTUI_DB``, else the default SQLite file."""
    if url:
        return url
    env = os.environ.get("WINDTUI_DB")
    if env:
        return env
    return f"sqlite:///{default_db_path()}"


def open_database(url: str, *, create: bool = True) -> Database:
    """A (not yet connected) peewee database for ``url``.

    With ``create``, the parent folder of a SQLite file is created.
    """
    if "://" not in url:
        return _sqlite(url, create=create)  # a plain file path
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        # sqlite:///x.db -> "x.db" (relative), sqlite:////tmp/x.db -> "/tmp/x.db"
        return _sqlite(unquote(url.split("://", 1)[1][1:]), create=create)
    if scheme in ("postgresql", "postgres"):
        return _postgres(url)
    raise WindtuiError(
        _("unsupported database URL '{url}': use sqlite:///path or postgresql://…").format(
            url=redact(url)
        )
    )


def _sqlite(path: str, *, create: bool) -> SqliteDatabase:
    if not path:
        raise WindtuiError(_("the SQLite URL names no file"))
    if path == ":memory:":
        # One shared connection, or each thread would see its own empty in-memory database.
        return SqliteDatabase(
            path,
            pragmas={"foreign_keys": 1},
            timeout=SQLITE_BUSY_SECONDS,
            thread_safe=False,
            check_same_thread=False,
        )
    file = Path(path).expanduser()
    if create:
        create_private(file)
    return SqliteDatabase(str(file), pragmas=SQLITE_PRAGMAS, timeout=SQLITE_BUSY_SECONDS)


#: Modes of what windtui creates: tickets name customers, staff and phone numbers.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def create_private(file: Path) -> None:
    """Create ``file``'s missing folders (mode 700) and the empty file itself (mode 600).

    Only what does not exist yet: an administrator's chosen modes on an existing database (a
    group-writable one shared by per-person accounts, say) are left alone. SQLite gives the
    ``-wal`` and ``-shm`` files the database file's mode.
    """
    missing = [p for p in reversed(file.parents) if not p.exists()]
    for folder in missing:
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            pass  # another process made it meanwhile
        except OSError as exc:
            raise WindtuiError(
                _("cannot create the folder {path}: {why}").format(path=folder, why=exc.strerror)
            ) from exc
    try:
        fd = os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise WindtuiError(
            _("cannot create the database file {path}: {why}").format(path=file, why=exc.strerror)
        ) from exc
    os.close(fd)


def _postgres(url: str) -> PostgresqlDatabase:
    parts = urlsplit(url)
    params: dict[str, object] = {}
    for key, value in parse_qsl(parts.query):
        if key == "schema":
            # A schema per deployment (and per test): everything lives in it.
            params["options"] = f"-c search_path={value}"
        else:
            params[key] = value
    if parts.hostname:
        params["host"] = parts.hostname
    if parts.port:
        params["port"] = parts.port
    if parts.username:
        params["user"] = unquote(parts.username)
    if parts.password:
        params["password"] = unquote(parts.password)
    name = unquote(parts.path.lstrip("/")) or "windtui"
    return PostgresqlDatabase(name, **params)


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def is_sqlite(db: Database) -> bool:
    """True for SQLite (also through the proxy)."""
    target = db.obj if isinstance(db, DatabaseProxy) else db
    return isinstance(target, SqliteDatabase)


def write_transaction(db: Database) -> AbstractContextManager[object]:
    """A transaction for read-then-write work.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock up front, so a read inside cannot go stale
    (a DEFERRED transaction fails with SQLITE_BUSY_SNAPSHOT instead). PostgreSQL: a plain
    transaction; callers lock the rows they read with ``SELECT … FOR UPDATE``.
    """
    if is_sqlite(db):
        return db.atomic("IMMEDIATE")
    return db.atomic()
