"""A throwaway PostgreSQL server for tests: one per test session, a fresh database per test.

The session fixture ``pg_server`` (registered by :mod:`.plugin`) runs ``initdb``
and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` (as user ``postgres`` when
the tests run as root) in a temporary directory, with trust authentication for
the role ``oneadmin`` on 127.0.0.1 and a free port, and yields a
:class:`PgServer`. ``pg_server.create_database()`` gives the options of an
empty database (``release_database(name)`` empties it for the next test) (``{"backend": "postgresql", "host": ..., "port": ...,
"user": ..., "password": "", "name": ...}``: oned.conf's ``DB`` section and
:func:`one_core.db.connect`'s argument). Tests skip with the reason when the
server binaries are not installed (``apt-get install postgresql``).

``psycopg2`` (``one-core[postgresql]``) is imported only when a database is made.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from one_core.testing.oned import free_port

ROLE = "oneadmin"
"""The superuser role ``initdb`` creates (``-U``); the tests connect as it."""


def pg_bindir() -> str | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb``, or ``None``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@dataclass
class PgServer:
    """A running throwaway PostgreSQL server."""

    host: str
    port: int
    user: str = ROLE
    in_use: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)

    def options(self, name: str = "postgres") -> dict[str, Any]:
        """Database options (one_core.db / oned.conf ``DB`` keys) for database ``name``."""
        return {
            "backend": "postgresql",
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": "",
            "name": name,
        }

    def _execute(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def create_database(self) -> dict[str, Any]:
        """An empty database; its options (see :meth:`options`).

        A database given back with :meth:`release_database` is reused (its schema
        dropped and created again: empty, like a new one, in a tenth of the time).
        """
        if self.free:
            name = self.free.pop()
        else:
            name = "one_" + uuid.uuid4().hex[:12]
            self._execute(f"CREATE DATABASE {name}")
        self.in_use.append(name)
        return self.options(name)

    def release_database(self, name: str) -> None:
        """Close every connection to database ``name``, empty it and keep it for reuse."""
        self._execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        self._execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public", dbname=name)
        self.in_use.remove(name)
        self.free.append(name)


def start_pg_server() -> Iterator[PgServer]:
    """Start a server in a temporary directory, yield it, stop it and remove the directory."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql)"
        )
    base = tempfile.mkdtemp(prefix="one-pg-")
    data = os.path.join(base, "data")
    port = free_port()
    prefix: list[str] = []
    if os.getuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run initdb as")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o700)
        prefix = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run(
            [*prefix, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", ROLE],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *prefix,
                f"{bindir}/pg_ctl",
                "-D",
                data,
                "-l",
                os.path.join(base, "pg.log"),
                "-w",
                "-o",
                f"-p {port} -k {base} -h 127.0.0.1 -F -c max_connections=300",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr!r}") from exc
    try:
        yield PgServer("127.0.0.1", port)
    finally:
        subprocess.run(
            [*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
