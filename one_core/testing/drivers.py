"""Helpers for driver tests: a driver from a 1.4 oned.conf section, SSH hosts on loopback.

``sshd`` (the session's test sshd, :mod:`.sshd`) is a fixture of the
``one_core.testing`` plugin. A driver's ``tests/conftest.py`` that wants
``pool`` — a module-scoped ``one_driverkit.remote.RemotePool`` whose hosts
``node1`` and ``node2`` are both that sshd on 127.0.0.1 — re-exports it::

    from one_core.testing.drivers import pool  # noqa: F401  (re-exported fixture)

SSH pools are ``one_driverkit.remote`` (the SSH drivers' kit, imported when used).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import pytest

from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs

if TYPE_CHECKING:
    from one_driverkit.remote import RemotePool

HOSTS = ("node1", "node2")
"""The host names :func:`pool` knows (both the test sshd)."""


def driver_from_section(
    etc: pathlib.Path, role: str, section: Mapping[str, str], files: Mapping[str, str] = {}
) -> LoadedDriver:
    """The driver a 1.4 oned.conf ``section`` loads, with ``files`` (its ``DEFAULT``...)
    written below ``etc`` first (relative path → text)."""
    for name, text in files.items():
        (etc / name).parent.mkdir(parents=True, exist_ok=True)
        (etc / name).write_text(text)
    drivers = load_drivers_from_specs([DriverSpec.from_section(role, section)], etc_dir=str(etc))
    return drivers.get(role, section["NAME"])


def loopback_pool(server: object, hosts: tuple[str, ...] = HOSTS) -> RemotePool:
    """A pool reaching the test sshd ``server`` under each of ``hosts``."""
    from one_driverkit.remote import HostSettings, RemotePool

    return RemotePool(
        user=server.user,  # type: ignore[attr-defined]
        port=server.port,  # type: ignore[attr-defined]
        key_filename=server.key_filename,  # type: ignore[attr-defined]
        hosts={name: HostSettings(hostname="127.0.0.1") for name in hosts},
    )


@pytest.fixture(scope="module")
def pool(sshd: object) -> Iterator[RemotePool]:
    """Connections to ``node1`` and ``node2``, both the test sshd (shared by a module's tests)."""
    connections = loopback_pool(sshd)
    try:
        yield connections
    finally:
        connections.close()
