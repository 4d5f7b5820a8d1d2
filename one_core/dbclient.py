"""Which database client library a process loads (oned's idle memory, issue 15).

peewee imports every database client it finds installed (psycopg2, psycopg,
pymysql, ...) when it is itself imported. psycopg2 alone brings libpq and
OpenSSL: about 5 MiB of resident memory in an oned that uses SQLite. oned
knows its backend (oned.conf ``DB``) before it imports peewee, so
:func:`import_peewee` imports peewee with the clients of the *other* databases
hidden: a SQLite oned loads no PostgreSQL client, a PostgreSQL oned loads
psycopg2 as before. Hiding uses the import system's documented switch: a
``None`` entry in ``sys.modules`` makes ``import name`` raise
``ModuleNotFoundError``, which peewee treats as "not installed"; the entries
are removed right after, so a later explicit import still works.

This module imports nothing from ``one_core.db`` (whose import loads peewee).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["CLIENT_MODULES", "backend_of", "import_peewee"]

POSTGRESQL_NAMES = ("postgresql", "postgres", "pgsql")
"""Spellings of the PostgreSQL backend accepted in ``DB = [ BACKEND = ... ]``."""

CLIENT_MODULES = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")
"""The client libraries peewee tries at import time, besides sqlite3."""


def backend_of(opts: Mapping[str, Any] | None) -> str:
    """``"sqlite"`` or ``"postgresql"`` for oned.conf's ``DB`` section (keys in any case);
    any other name is returned as given (lower case) for the caller to refuse."""
    o = {str(k).lower(): v for k, v in (opts or {}).items()}
    backend = str(o.get("backend") or "sqlite").strip().lower()
    return "postgresql" if backend in POSTGRESQL_NAMES else backend


def import_peewee(backend: str) -> None:
    """Import peewee loading only the client library ``backend`` needs.

    With ``"sqlite"`` the modules of :data:`CLIENT_MODULES` are hidden while peewee
    is imported (those already imported stay visible). Does nothing when peewee is
    already imported (a test process, a second call): peewee is imported once.
    """
    if "peewee" in sys.modules:
        return
    hidden = [] if backend != "sqlite" else [m for m in CLIENT_MODULES if m not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ModuleNotFoundError
    try:
        import peewee  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
