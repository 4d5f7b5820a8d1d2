"""The database as a test parameter: SQLite and/or PostgreSQL.

Every test gets the fixture ``db_backend`` (``"sqlite"`` unless parametrized)
and ``db_options`` (the options of a fresh database of that backend, see
:func:`database_options`); ``oned`` / ``oned_factory`` start their daemons on
it. A test directory whose tests must run on both databases says so in its
``conftest.py``::

    from one_core.testing.databases import parametrize_databases as pytest_generate_tests

Then each of its tests that uses ``db_backend`` (directly or through ``oned``,
``oned_factory``, ``db_options``...) runs once per backend named by the
``--one-db`` option (default ``sqlite,postgresql``). A test about one backend
only (say, SQLite's file locking) says so: ``@pytest.mark.one_db("sqlite")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

BACKENDS = ("sqlite", "postgresql")
"""The databases one_core.db supports."""

OPTION = "--one-db"


def add_option(parser: pytest.Parser) -> None:
    """Register ``--one-db sqlite,postgresql`` (the backends parametrized tests run on)."""
    parser.addoption(
        OPTION,
        default=",".join(BACKENDS),
        help="comma-separated databases that database-parametrized tests run on "
        "(default: %(default)s)",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    """The backends of ``--one-db``; a clear error for an unknown one."""
    names = [n.strip() for n in str(config.getoption(OPTION)).split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise pytest.UsageError(f"{OPTION}: unknown backend(s) {unknown} (use {BACKENDS})")
    return names


MARKER = "one_db(*backends): the databases this test is about (default: every selected one)"
"""The ``one_db`` marker, registered by the plugin."""


def parametrize_databases(metafunc: pytest.Metafunc) -> None:
    """``pytest_generate_tests`` of a directory whose tests run on every selected backend."""
    if "db_backend" not in metafunc.fixturenames:
        return
    backends = selected_backends(metafunc.config)
    marker = metafunc.definition.get_closest_marker("one_db")
    if marker is not None:
        backends = [b for b in backends if b in marker.args]
    metafunc.parametrize("db_backend", backends, scope="function")


def database_options(request: pytest.FixtureRequest, backend: str, var: Path) -> dict[str, Any]:
    """Options of a fresh database of ``backend`` (released when the test ends).

    SQLite: ``{"backend": "sqlite", "path": "<var>/one.db"}``; PostgreSQL: a new
    database of the session's ``pg_server``.
    """
    if backend == "sqlite":
        return {"backend": "sqlite", "path": str(var / "one.db")}
    if backend != "postgresql":
        raise ValueError(f"unknown database backend {backend!r} (use {BACKENDS})")
    server = request.getfixturevalue("pg_server")
    opts = server.create_database()
    request.addfinalizer(lambda: server.release_database(opts["name"]))
    return opts
