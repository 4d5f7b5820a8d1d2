"""Fixtures: the shared test sshd (tests/sshd.py) and an ``ssh`` driver reaching it."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from dataclasses import dataclass, field

import pytest

_SSHD = pathlib.Path(__file__).resolve().parents[3] / "tests" / "sshd.py"
if "one_tests_sshd" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("one_tests_sshd", _SSHD)
    assert _spec is not None and _spec.loader is not None
    sys.modules["one_tests_sshd"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["one_tests_sshd"])

from one_tests_sshd import sshd  # noqa: E402,F401  (re-exported fixture)

from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs  # noqa: E402
from one_core.remote import HostSettings, RemotePool  # noqa: E402


@dataclass
class World:
    """The loaded driver, the front-end and two "hosts" (both the test sshd)."""

    driver: LoadedDriver
    root: pathlib.Path
    vm_log: list[tuple[int, str]] = field(default_factory=list)

    def call(self, hook: str, **kwargs):
        return self.driver.call(hook, vid=7, **kwargs)

    def dir(self, name: str) -> pathlib.Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@pytest.fixture(scope="module")
def pool(sshd):  # noqa: F811  (the fixture above)
    """Connections to "node1" and "node2", both the test sshd (shared by a module's tests)."""
    pool = RemotePool(
        user=sshd.user,
        port=sshd.port,
        key_filename=sshd.key_filename,
        hosts={n: HostSettings(hostname="127.0.0.1") for n in ("node1", "node2")},
    )
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def world(pool: RemotePool, tmp_path: pathlib.Path):
    logged: list[tuple[int, str]] = []
    drivers = load_drivers_from_specs(
        [DriverSpec(role="tm", name="tm_ssh", driver="ssh")],
        var_dir=str(tmp_path / "var"),
        remote_factory=pool,
        vm_log_func=lambda vid, module, level, message: logged.append((vid, message)),
    )
    driver = drivers.get("tm", "tm_ssh")
    driver.ctx.front = "front"
    return World(driver, tmp_path, logged)
