"""Database connection, model registry, schema version and the single writer.

Usage (what oned does at start-up)::

    from one_core import db
    db.connect(cfg.db, var_dir=cfg.var_dir)   # opens + creates/migrates every registered table
    ...
    with db.writer():                          # the one write path: lock + transaction
        Row.create(...)
    db.close()

Model modules (``one_core/db/models.py``, ``vnet_models.py``,
``vm_models.py``, ``monitoring_models.py``) subclass :class:`one_core.db.base.BaseModel` and call
:func:`register_models` at import time; :func:`connect` imports the known
model modules (:func:`import_model_modules`, plain imports: a missing one is an
``ImportError``) and creates every registered table that does not exist yet,
then runs pending migrations.

Writes: every mutation goes through :func:`writer` — a process-wide re-entrant
lock plus a transaction — so concurrent RPC threads can never interleave two
writes (SQLite allows one writer anyway; with PostgreSQL this keeps the
in-memory pool caches and the DB in the same order). Reads need no lock.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import peewee

from one_core.db.base import BaseModel, database
from one_core.dbclient import backend_of

__all__ = [
    "BaseModel",
    "SchemaVersion",
    "close",
    "connect",
    "errors_seen",
    "is_transient",
    "reconnect",
    "import_model_modules",
    "database",
    "register_migration",
    "register_models",
    "write_lock",
    "writer",
]

SCHEMA_VERSION = 2
"""Version of the schema this code writes; stored in ``schema_version``."""

write_lock = threading.RLock()
"""The single-writer lock. Prefer :func:`writer`, which also opens a transaction."""

_models: list[type[BaseModel]] = []
_migrations: dict[int, Callable[[peewee.Database], None]] = {}


class SchemaVersion(BaseModel):
    """One row: the schema version of this database."""

    version = peewee.IntegerField()

    class Meta:
        table_name = "schema_version"


def register_models(*models: type[BaseModel]) -> None:
    """Declare tables to be created by :func:`connect` (idempotent, keeps order)."""
    for model in models:
        if model not in _models:
            _models.append(model)
    if database.obj is not None:  # registered after connect: create now
        database.create_tables(list(models), safe=True)


def register_migration(to_version: int, func: Callable[[peewee.Database], None]) -> None:
    """Register ``func(db)`` to upgrade a database from ``to_version - 1`` to ``to_version``."""
    _migrations[to_version] = func


def registered_models() -> list[type[BaseModel]]:
    """The models :func:`connect` creates, in registration order."""
    return list(_models)


def import_model_modules() -> None:
    """Import oned's model modules, which register their tables (a missing one raises)."""
    # ``import pkg.mod``, not ``from pkg import mod``: the error then names the missing module
    import one_core.db.models
    import one_core.db.monitoring_models
    import one_core.db.vm_models
    import one_core.db.vnet_models  # noqa: F401


# -- database failures: what is transient, who saw one, reconnecting -------------------

_TRANSIENT_WORDS = (
    "locked",
    "busy",
    "disk",
    "full",
    "i/o",
    "readonly",
    "unable to open",
    "no transaction is active",
    "no such savepoint",
    "connection",
    "server closed",
    "terminating",
)
"""Words of SQLite's and peewee's messages for failures that go away (a lock released,
space freed, a connection back), unlike a syntax error or a missing table."""


def _connection_errors() -> tuple[type[BaseException], ...]:
    """psycopg2's connection errors, if psycopg2 is loaded (a SQLite oned does not load
    it: one_core/dbclient.py; an error can only be psycopg2's if psycopg2 is loaded)."""
    psycopg2 = sys.modules.get("psycopg2")
    if psycopg2 is None:
        return ()
    return (psycopg2.OperationalError, psycopg2.InterfaceError)


def _transient_one(exc: BaseException) -> bool:
    errors = _connection_errors()
    if errors and isinstance(exc, errors):
        return True  # PostgreSQL: connection lost, server shutting down, serialization
    if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError, sqlite3.OperationalError)):
        text = str(exc).lower()
        return any(word in text for word in _TRANSIENT_WORDS)
    return False


def is_transient(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is a database failure worth retrying: locked,
    busy, disk full or I/O error, a dropped or closed connection (not a constraint, a
    syntax error or a missing table)."""
    todo = [exc]
    seen: set[int] = set()
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if _transient_one(e):
            return True
        todo += [e.__cause__, e.__context__]
        todo += [a for a in e.args[:1] if isinstance(a, BaseException)]  # peewee wraps so
    return False


_CONSEQUENCES = ("no transaction is active", "no such savepoint")
"""SQLite's answers to a ROLLBACK or RELEASE after it ended the transaction itself (a
full disk, an I/O error): never the failure worth showing."""


def _consequence(exc: BaseException) -> bool:
    return any(words in str(exc).lower() for words in _CONSEQUENCES)


def first_failure(exc: BaseException) -> BaseException:
    """The earliest transient database failure behind ``exc`` (``exc`` itself if none).

    A full disk makes SQLite end the transaction itself, so the ROLLBACK that follows
    fails with "no transaction is active": the message worth showing is the one it
    hides ("database or disk is full"). When the chain holds only such a consequence —
    the event's code caught the failure, and the RELEASE after it failed — the last
    failure this thread's statements met that was not one is shown."""
    found, e = exc, exc
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if _transient_one(e):
            found = e
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    cause = getattr(_errors, "cause", None)
    if _consequence(found) and cause is not None:
        return cast(BaseException, cause)
    return found


_errors = threading.local()


def errors_seen() -> int:
    """How many statements failed with a transient database error on this thread so far.

    The engine compares it before and after an event: a failure the event's code caught
    and logged (a scheduler deploy, a hook) still rolls the event back and retries it.
    """
    return getattr(_errors, "count", 0)


def _note_query(event: Any) -> None:
    """peewee query hook: count this thread's transient failures (and keep the last one
    that was a cause, not a consequence, for :func:`first_failure`)."""
    if event.exception is not None and is_transient(event.exception):
        _errors.count = getattr(_errors, "count", 0) + 1
        if not _consequence(event.exception):
            _errors.cause = event.exception


class _PostgresqlDatabase(peewee.PostgresqlDatabase):
    """PostgreSQL whose thread connections come back after the server dropped them."""

    def cursor(self, named_cursor: Any = None) -> Any:
        state: Any = self._state  # type: ignore[attr-defined]  # peewee's per-thread state
        conn = state.conn
        if conn is not None and conn.closed and not self.in_transaction():
            state.reset()  # terminated by the server: the next line opens a new one
        return super().cursor(named_cursor)


def reconnect() -> None:
    """Make this thread's connection usable again after a failure (outside a transaction).

    PostgreSQL: a connection the server dropped (``pg_terminate_backend``, a restart)
    is discarded and a new one opened. SQLite: the file's connection survives its
    errors (locked, disk full) and is kept.
    """
    obj = database.obj
    if obj is None or isinstance(obj, peewee.SqliteDatabase) or obj.in_transaction():
        return
    state: Any = obj._state  # peewee's per-thread connection state
    conn = state.conn
    if conn is not None and bool(getattr(conn, "closed", False)):
        with contextlib.suppress(Exception):
            conn.close()
        state.reset()
    obj.connect(reuse_if_open=True)


SQLITE_CACHE_KIB = 512
"""Default SQLite page cache of each connection (KiB; ``DB = [ CACHE_SIZE = ... ]``)."""
SQLITE_HEAP_KIB = 512
"""Default soft limit of SQLite's memory in the whole process (KiB; ``DB = [ HEAP_LIMIT =
... ]``): over it, the page caches of the connections (one per RPC thread) give pages back
instead of growing — each fills with the ``vm_pool`` table a listing scans otherwise (+2
MiB of oned's RSS with 4 clients, measured; docs/decisions.md). 1 MiB until session 5:
512 KiB took another ~0.5 MiB off the RSS with 10,000 VMs, the life cycle and the
listings as fast (docs/performance.md). A soft limit: a query's memory is never refused;
the connections' statements and schemas (≈ 0.6 MiB with 4 clients) are not cache and
stay."""


def _sqlite(
    path: str,
    busy_timeout: int = 10000,
    cache_kib: int = SQLITE_CACHE_KIB,
    heap_kib: int = SQLITE_HEAP_KIB,
) -> peewee.SqliteDatabase:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return peewee.SqliteDatabase(
        path,
        pragmas={
            "journal_mode": "wal",
            "synchronous": "normal",
            "foreign_keys": 1,
            "busy_timeout": busy_timeout,
            "cache_size": -cache_kib,  # negative: KiB (SQLite's default is 2,000 KiB)
            # one limit for the whole process: the page caches of all connections shrink
            # when SQLite's memory (with a listing's aggregate) is over it
            "soft_heap_limit": heap_kib * 1024,
        },
        check_same_thread=False,
    )


def _postgresql(opts: Mapping[str, Any]) -> peewee.Database:
    return _PostgresqlDatabase(
        str(opts.get("name") or opts.get("database") or "opennebula"),
        host=str(opts.get("host") or "localhost"),
        port=int(opts.get("port") or 5432),
        user=str(opts.get("user") or "oneadmin"),
        password=str(opts.get("password") or ""),
    )


def make_database(opts: Mapping[str, Any] | None, var_dir: str = ".") -> peewee.Database:
    """Build (not open) the peewee database described by oned.conf's ``DB`` section.

    ``opts`` keys are case-insensitive: ``backend`` (``sqlite``, default, or
    ``postgresql``); SQLite: ``path`` (default ``<var_dir>/one.db``);
    ``busy_timeout`` (milliseconds a write waits for another process's lock, default
    10000); ``cache_size`` (KiB of page cache per connection, default
    :data:`SQLITE_CACHE_KIB`); ``heap_limit`` (KiB, soft limit of SQLite's memory in the
    process, default :data:`SQLITE_HEAP_KIB`); PostgreSQL: ``host``, ``port``, ``user``, ``password``, ``name``.
    """
    o = {str(k).lower(): v for k, v in (opts or {}).items()}
    backend = backend_of(o)
    if backend == "postgresql":
        return _postgresql(o)
    if backend != "sqlite":
        raise ValueError(f"Unknown DB backend {backend!r} (use sqlite or postgresql)")
    path = str(o.get("path") or os.path.join(var_dir, "one.db"))
    if not os.path.isabs(path):
        path = os.path.join(var_dir, path)
    cache_kib = int(o.get("cache_size") or SQLITE_CACHE_KIB)
    if cache_kib < 1:
        raise ValueError(f"DB CACHE_SIZE must be at least 1 (KiB), not {cache_kib}")
    heap_kib = int(o.get("heap_limit") or SQLITE_HEAP_KIB)
    if heap_kib < 1:
        raise ValueError(f"DB HEAP_LIMIT must be at least 1 (KiB), not {heap_kib}")
    return _sqlite(path, int(o.get("busy_timeout") or 10000), cache_kib, heap_kib)


def connect(
    opts: Mapping[str, Any] | peewee.Database | None = None, var_dir: str = "."
) -> tuple[peewee.Database, bool]:
    """Open the database, create missing tables and run migrations.

    :param opts: oned.conf's ``DB`` section (see :func:`make_database`) or an
        already built peewee database.
    :returns: ``(database, fresh)``; ``fresh`` is true when the schema was just
        created (1.4 logs ``Bootstraping OpenNebula database.`` then).
    """
    dbobj = opts if isinstance(opts, peewee.Database) else make_database(opts, var_dir)
    if _note_query not in dbobj.query_hooks:
        dbobj.query_hooks.append(_note_query)
    database.initialize(dbobj)
    database.connect(reuse_if_open=True)
    import_model_modules()
    with writer():
        fresh = not database.table_exists(SchemaVersion._meta.table_name)
        database.create_tables([SchemaVersion, *_models], safe=True)
        row = SchemaVersion.select().first()
        if row is None:
            SchemaVersion.create(version=SCHEMA_VERSION)
        else:
            _migrate(row)
    return dbobj, fresh


def _migrate(row: SchemaVersion) -> None:
    version = row.version
    while version < SCHEMA_VERSION:
        version += 1
        func = _migrations.get(version)
        if func is not None:
            func(database.obj)
    if version != row.version:
        SchemaVersion.update(version=version).execute()


def close() -> None:
    """Close this thread's connection and detach the proxy."""
    if database.obj is not None:
        with contextlib.suppress(Exception):
            database.close()
        database.initialize(None)


@contextlib.contextmanager
def writer() -> Iterator[None]:
    """The single write path: take :data:`write_lock` and run in one transaction."""
    with write_lock, database.atomic():
        yield
