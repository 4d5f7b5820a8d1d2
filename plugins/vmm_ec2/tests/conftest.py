"""Fixtures of the EC2 driver tests: an ``ec2`` driver talking to a real ``moto_server``.

``moto_url``, ``ec2``, ``amis``, ``ami`` and ``throttling_server`` come from the
``one_core.testing`` pytest plugin (:mod:`one_core.testing.moto`).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import pytest

from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs
from one_core.testing.moto import CREDENTIALS


@dataclass
class Ec2World:
    driver: LoadedDriver
    vm_log: list[tuple[int, str, str]] = field(default_factory=list)

    def call(self, hook: str, **kwargs: Any) -> Any:
        kwargs.setdefault("vid", 7)
        kwargs.setdefault("host", "ec2")
        return self.driver.call(hook, **kwargs)


def make_world(tmp_path: pathlib.Path, section: dict[str, str], defaults: str = "") -> Ec2World:
    logged: list[tuple[int, str, str]] = []
    section = dict(section)
    if defaults:
        (tmp_path / "vmm_ec2.conf").write_text(defaults)
        section["DEFAULT"] = "vmm_ec2.conf"
    drivers = load_drivers_from_specs(
        [DriverSpec(role="vmm", name="ec2", driver="ec2", section=section)],
        var_dir=str(tmp_path / "var"),
        etc_dir=str(tmp_path),
        vm_log_func=lambda vid, module, level, message: logged.append((vid, level, message)),
    )
    return Ec2World(drivers.get("vmm", "ec2"), logged)


@pytest.fixture
def make(moto_url: str, tmp_path: pathlib.Path):
    """``make(defaults="", **section)``: an ``ec2`` driver talking to the moto server."""

    def build(defaults: str = "", **section: str) -> Ec2World:
        return make_world(
            tmp_path,
            {"EC2_URL": moto_url, "REGION": "us-east-1", **CREDENTIALS, **section},
            defaults,
        )

    return build


@pytest.fixture
def make_plain(tmp_path: pathlib.Path):
    """``make_plain(section, defaults="")``: an ``ec2`` driver with exactly this section."""
    return lambda section, defaults="": make_world(tmp_path, section, defaults)
