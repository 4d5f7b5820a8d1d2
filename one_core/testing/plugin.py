"""The ``one_core.testing`` pytest plugin (entry point ``pytest11``: ``one_core``).

Installed with one-core, so every pytest run of a driver's or front-end's own
test suite has these fixtures without importing anything:

* ``oned_factory``, ``oned``, ``client``, ``raw_client``, ``oned_process_cls``
  — a real oned subprocess with chosen drivers (:mod:`.oned`);
* ``db_backend``, ``db_options``, ``pg_server`` — the database as a test
  parameter and the session's throwaway PostgreSQL (:mod:`.databases`,
  :mod:`.postgres`; option ``--one-db``);
* ``sshd`` — a real OpenSSH server on loopback (:mod:`.sshd`);
* ``libvirt_guest`` — libvirtd and a tiny bootable guest (:mod:`.guest`);
* ``moto_url``, ``ec2``, ``amis``, ``ami``, ``throttling_server`` — a real
  ``moto_server`` and a throttling one (:mod:`.moto`);
* ``recording_driver`` — a driver object recording every hook call (:mod:`.recording`).

Not fixtures, imported by tests: :mod:`.engine_harness` (the VM engine around
one driver), :mod:`.drivers` (``driver_from_section``, the ``pool`` of SSH
hosts), :mod:`.cloud` (cloud front-end servers).

This module is imported by every pytest run: it imports only the standard
library, pytest and the light modules above; paramiko, fabric, boto3, lxml,
pycdlib and the engine are imported inside the fixtures that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from one_core.testing import databases
from one_core.testing.guest import libvirt_guest
from one_core.testing.moto import ami, amis, ec2, moto_url, throttling_server
from one_core.testing.oned import DRIVER_SECTIONS, OnedProcess, driver_sections
from one_core.testing.postgres import PgServer, start_pg_server
from one_core.testing.sshd import sshd

__all__ = [
    "ami",
    "amis",
    "client",
    "db_backend",
    "db_options",
    "ec2",
    "libvirt_guest",
    "moto_url",
    "oned",
    "oned_factory",
    "oned_process_cls",
    "pg_server",
    "raw_client",
    "recording_driver",
    "sshd",
    "throttling_server",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--one-db``: the databases that database-parametrized tests run on."""
    databases.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``one_db`` marker."""
    config.addinivalue_line("markers", databases.MARKER)


# -- the database -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's throwaway PostgreSQL server (:class:`~.postgres.PgServer`)."""
    yield from start_pg_server()


@pytest.fixture
def db_backend() -> str:
    """``"sqlite"``; ``"sqlite"`` and ``"postgresql"`` in directories that parametrize it."""
    return "sqlite"


@pytest.fixture
def db_options(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> dict[str, Any]:
    """Options of a fresh database of ``db_backend`` (for :func:`one_core.db.connect`)."""
    return databases.database_options(request, db_backend, tmp_path / "var")


# -- oned -------------------------------------------------------------------------------


@pytest.fixture
def oned_factory(
    request: pytest.FixtureRequest, tmp_path: Path, db_backend: str
) -> Iterator[Callable[..., OnedProcess]]:
    """``oned_factory(location=None, sections=DRIVER_SECTIONS, start=True, env=None,
    drivers=None, db=None, **conf)``: start an oned (stopped when the test ends).

    ``drivers`` (``{"vmm": "hello"}``...) selects drivers by name instead of
    ``sections`` (see :func:`~.oned.driver_sections`); ``conf`` are more oned.conf
    keys (``HOST_MONITORING_INTERVAL=1``). The database is a fresh one of
    ``db_backend`` per ONE_LOCATION (the same location keeps its database), or ``db``.
    """
    started: list[OnedProcess] = []
    counter = iter(range(1000))
    by_location: dict[Path, dict[str, Any] | None] = {}
    server: PgServer | None = None

    def database(location: Path) -> dict[str, Any] | None:
        nonlocal server
        if location not in by_location:
            if db_backend == "sqlite":
                by_location[location] = None
            else:
                server = request.getfixturevalue("pg_server")
                by_location[location] = server.create_database()
        return by_location[location]

    def make(
        location: Path | None = None,
        sections: str = DRIVER_SECTIONS,
        start: bool = True,
        env: dict[str, str] | None = None,
        drivers: Mapping[str, str] | None = None,
        db: dict[str, Any] | None = None,
        **conf: Any,
    ) -> OnedProcess:
        loc = location or tmp_path / f"one{next(counter)}"
        if drivers is not None:
            sections = driver_sections(**drivers)
        o = OnedProcess(loc, conf, sections, env, db if db is not None else database(loc))
        started.append(o)
        if start:
            o.start()
        return o

    yield make
    for o in started:
        if o.proc is not None:
            o.stop()
    for opts in by_location.values():
        if opts is not None and server is not None:
            server.release_database(opts["name"])


@pytest.fixture
def oned(oned_factory: Callable[..., OnedProcess]) -> OnedProcess:
    """A fresh oned with the dummy drivers (:data:`~.oned.DRIVER_SECTIONS`)."""
    return oned_factory()


@pytest.fixture
def client(oned: OnedProcess) -> Iterator[Any]:
    """:class:`one_core.client.Client` as oneadmin on ``oned``."""
    c = oned.client()
    yield c
    c.close()


@pytest.fixture
def raw_client(oned: OnedProcess) -> Iterator[Any]:
    """The same returning XML text."""
    c = oned.client(raw=True)
    yield c
    c.close()


@pytest.fixture(scope="session")
def oned_process_cls() -> type[OnedProcess]:
    """The :class:`OnedProcess` class, for module- or session-scoped daemons of your own."""
    return OnedProcess


# -- drivers ----------------------------------------------------------------------------


@pytest.fixture
def recording_driver() -> Any:
    """A fresh :class:`~.recording.Recorder` (every hook of every role, calls recorded)."""
    from one_core.testing.recording import Recorder

    return Recorder()
