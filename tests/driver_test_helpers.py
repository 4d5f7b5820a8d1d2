"""What the SSH driver tests of plugins/* share: the test sshd and a pool of loopback hosts.

A plugin's ``tests/conftest.py`` re-exports the fixtures::

    from tests.driver_test_helpers import pool, sshd  # noqa: F401  (re-exported fixtures)

``sshd`` is the session fixture of ``tests/sshd.py`` (loaded once as
``one_tests_sshd``, the module every conftest shares, so one server runs per
session); ``pool`` is a module-scoped :class:`~one_core.remote.RemotePool`
whose hosts ``node1`` and ``node2`` are both that sshd on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from collections.abc import Iterator, Mapping
from types import ModuleType

import pytest

from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs
from one_core.remote import HostSettings, RemotePool

HOSTS = ("node1", "node2")
"""The host names :func:`pool` knows (both the test sshd)."""


def load_shared(name: str) -> ModuleType:
    """``tests/<name>.py`` as module ``one_tests_<name>``, loaded once per process."""
    module = f"one_tests_{name}"
    if module not in sys.modules:
        path = pathlib.Path(__file__).resolve().parent / f"{name}.py"
        spec = importlib.util.spec_from_file_location(module, path)
        assert spec is not None and spec.loader is not None
        sys.modules[module] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module])
    return sys.modules[module]


sshd = load_shared("sshd").sshd


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
    return RemotePool(
        user=server.user,  # type: ignore[attr-defined]
        port=server.port,  # type: ignore[attr-defined]
        key_filename=server.key_filename,  # type: ignore[attr-defined]
        hosts={name: HostSettings(hostname="127.0.0.1") for name in hosts},
    )


@pytest.fixture(scope="module")
def pool(sshd: object) -> Iterator[RemotePool]:  # noqa: F811  (the fixture above)
    """Connections to ``node1`` and ``node2``, both the test sshd (shared by a module's tests)."""
    connections = loopback_pool(sshd)
    try:
        yield connections
    finally:
        connections.close()
