"""Scheduler-integration fixtures: a real engine (SQLite, host pool, dummy VMM/TM) without oned."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.engine.core import Engine
from one_core.logs import VMLogWriter
from one_core.pools.host import HostPool
from one_core.testing.engine_harness import engine_on
from one_core.vm.states import LcmState, VmState

VM = 'NAME = "vm"\nCPU = {cpu}\nMEMORY = {mem}\n'


def monitored(cpu: int = 800, mem: int = 16777216, **extra: str) -> dict[str, str]:
    """A monitoring reply as the dummy IM would give it."""
    attrs = {
        "HYPERVISOR": "dummy",
        "TOTALCPU": str(cpu),
        "FREECPU": str(cpu),
        "USEDCPU": "0",
        "TOTALMEMORY": str(mem),
        "FREEMEMORY": str(mem),
        "USEDMEMORY": "0",
    }
    attrs.update(extra)
    return attrs


@dataclass
class SchedEnv:
    var: Path
    engine: Engine
    hosts: HostPool
    drivers: Any

    def add_host(self, name: str, **attrs: Any) -> int:
        hid = self.hosts.allocate(name, "im_dummy", "vmm_dummy", "tm_dummy")
        self.hosts.monitor_result(hid, monitored(**attrs))
        return hid

    def allocate(self, cpu: float = 1, mem: int = 1024, extra: str = "") -> int:
        return self.engine.allocate(0, VM.format(cpu=cpu, mem=mem) + extra)

    def state(self, vid: int) -> tuple[str, str]:
        vm = self.engine.pool.load(vid)
        assert vm is not None
        return VmState(vm.state).name, LcmState(vm.lcm_state).name

    def hid(self, vid: int) -> int | None:
        vm = self.engine.pool.load(vid)
        assert vm is not None
        return None if vm.history is None else vm.history.hid

    def settle(self) -> None:
        assert self.engine.wait_idle(30), "engine did not settle"

    def share(self, hid: int) -> dict[str, int]:
        host = self.hosts.get(hid)
        assert host is not None
        return dict(host.share)

    def log(self, vid: int) -> str:
        p = self.var / str(vid) / "vm.log"
        return p.read_text() if p.exists() else ""

    def rank_driver(self, **section: str) -> Any:
        drivers = load_drivers_from_specs(
            [DriverSpec(role="sched", name="rank", driver="rank", section=section)],
            var_dir=str(self.var),
            vm_log_func=VMLogWriter(str(self.var)),
        )
        return drivers.get("sched", "rank")


@pytest.fixture
def senv(tmp_path: Path) -> Iterator[SchedEnv]:
    specs = [
        DriverSpec(role="vmm", name="vmm_dummy", driver="dummy"),
        DriverSpec(role="tm", name="tm_dummy", driver="dummy"),
    ]
    var = tmp_path / "var"
    with engine_on(var, specs, driver_threads=4, vm_polling_interval=3600) as (
        engine,
        hosts,
        drivers,
    ):
        yield SchedEnv(var, engine, hosts, drivers)
