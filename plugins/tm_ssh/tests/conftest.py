"""Fixtures: an ``ssh`` driver reaching the test sshd (``one_core.testing``)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

import pytest
from one_driverkit.remote import RemotePool  # noqa: E402

from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs  # noqa: E402
from one_core.testing.drivers import pool  # noqa: F401  (re-exported fixture; sshd: the plugin's)


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


@pytest.fixture
def world(pool: RemotePool, tmp_path: pathlib.Path):  # noqa: F811  (the fixture)
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
