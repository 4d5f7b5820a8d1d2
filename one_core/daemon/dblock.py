"""One oned per database: an exclusive lock held for the life of the process.

* SQLite: an ``flock`` on the database file itself (independent of SQLite's own
  ``fcntl`` record locks, so other readers and writers are unaffected);
* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a
  connection of its own.

The kernel / the PostgreSQL server release the lock when the process is gone,
whatever way it ends (``kill -9`` included), so a stale lock never blocks a start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Any

import peewee

ADVISORY_KEY = 0x4F4E4544  # "ONED"
"""The PostgreSQL advisory lock key oned takes."""


class DatabaseInUse(Exception):
    """Another oned holds the database."""


def describe(dbobj: peewee.Database) -> str:
    """The database as a person would name it: a path or ``postgresql://host:port/name``."""
    if isinstance(dbobj, peewee.SqliteDatabase):
        return str(dbobj.database)
    params = dbobj.connect_params
    return f"postgresql://{params.get('host')}:{params.get('port')}/{dbobj.database}"


class DatabaseLock:
    """Exclusive ownership of ``dbobj`` (built, not necessarily open)."""

    def __init__(self, dbobj: peewee.Database):
        self.dbobj = dbobj
        self._fd: int | None = None
        self._conn: Any = None

    def acquire(self) -> None:
        """:raises DatabaseInUse: another process holds it."""
        if isinstance(self.dbobj, peewee.SqliteDatabase):
            self._lock_file(str(self.dbobj.database))
        elif isinstance(self.dbobj, peewee.PostgresqlDatabase):
            self._lock_postgresql()

    def _lock_file(self, path: str) -> None:
        if path == ":memory:" or path.startswith("file:"):
            return
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUse(path) from None
        self._fd = fd

    def _lock_postgresql(self) -> None:
        pg: Any = self.dbobj
        conn = pg._connect()  # a connection of its own, outside peewee's pool
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,))
            (got,) = cur.fetchone()
        if not got:
            conn.close()
            raise DatabaseInUse(describe(self.dbobj))
        self._conn = conn

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
