"""The ``xen`` driver under the real VM engine (SQLite, host pool, dummy TM) over the test sshd.

Every hook runs through the core: the deployment file it renders and writes,
deploy, poll, stop (save), resume (restore) and shutdown, against the
recording xm stand-in of conftest.py.
"""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from one_core import db
from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.engine.core import Engine, EngineConfig
from one_core.logs import VMLogWriter
from one_core.pools.host import HostPool
from one_core.vm.pool import VMPool
from one_core.vm.ports import PoolHosts
from one_core.vm.states import LcmState, VmState

TEMPLATE = """NAME = web
CPU = 0.25
MEMORY = 128
OS = [ KERNEL = /boot/vmlinuz-xen, ROOT = xvda1 ]
DISK = [ SOURCE = /images/a.img, TARGET = xvda ]
"""


class World:
    def __init__(self, engine: Engine, var: pathlib.Path, vms: pathlib.Path, hid: int, host):
        self.engine, self.var, self.vms, self.hid, self.host = engine, var, vms, hid, host

    def vm(self, vid: int) -> Any:
        vm = self.engine.pool.load(vid)
        assert vm is not None
        return vm

    def states(self, vid: int) -> tuple[str, str]:
        vm = self.vm(vid)
        return VmState(vm.state).name, LcmState(vm.lcm_state).name

    def log(self, vid: int) -> str:
        path = self.var / str(vid) / "vm.log"
        return path.read_text() if path.exists() else ""

    def wait_state(self, vid: int, state: tuple[str, str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.states(vid) != state:
            assert time.monotonic() < deadline, (self.states(vid), self.log(vid))
            time.sleep(0.05)

    def xm(self) -> list[list[str]]:
        return [c["argv"] for c in self.host.calls("xm")]


@pytest.fixture
def world(tmp_path: pathlib.Path, pool, fake_host) -> Iterator[World]:
    var, vms = tmp_path / "var", tmp_path / "vms"
    var.mkdir()
    db.close()
    db.connect({"backend": "sqlite", "path": str(var / "one.db")}, var_dir=str(var))
    section = {
        "EXECUTABLE": "one_vmm_xen",
        "TYPE": "xen",
        "XEN_PATH": str(fake_host.bin / "xm"),
        "XENTOP_PATH": str(fake_host.bin / "xentop"),
        "SUDO": "",
        "POLL_DELAY": "0.1",
        "SHUTDOWN_POLL": "0.1",
    }
    drivers = load_drivers_from_specs(
        [
            DriverSpec(role="vmm", name="vmm_xen", driver="xen", section=section),
            DriverSpec(role="tm", name="tm_dummy", driver="dummy"),
        ],
        var_dir=str(var),
        vm_dir=str(vms),
        vm_log_func=VMLogWriter(str(var)),
        remote_factory=pool,
    )
    hosts = HostPool()
    hid = hosts.allocate("node1", "im_xen", "vmm_xen", "tm_dummy")
    config = EngineConfig(
        var_dir=str(var),
        vm_dir=str(vms),
        front="front",
        vm_polling_interval=0,
        manager_timer=3600,
        driver_threads=2,
    )
    engine = Engine(pool=VMPool(), drivers=drivers, hosts=PoolHosts(hosts), cfg=config)
    engine.start(recover=False, timers=False)
    try:
        yield World(engine, var, vms, hid, fake_host)
    finally:
        engine.stop(5)
        db.close()


def test_life_of_a_xen_vm(world: World) -> None:
    vid = world.engine.allocate(0, TEMPLATE)
    world.engine.deploy(vid, world.hid)
    world.wait_state(vid, ("ACTIVE", "RUNNING"))
    name = f"one-{vid}"
    assert world.vm(vid).deploy_id == name
    remote = world.vms / str(vid) / "images" / "deployment.0"
    local = (world.var / str(vid) / "deployment.0").read_text()
    assert remote.read_text() == local
    assert local.startswith(f"name = '{name}'\n#O CPU_CREDITS = 64\nmemory  = '128'\n")
    assert f"    'tap:aio:{world.vms}/{vid}/images/disk.0,xvda,w',\n" in local
    assert world.xm() == [["create", str(remote)], ["sched-credit", "-d", name, "-w", "64"]]

    world.engine.poll_all()
    assert world.engine.wait_idle(30)
    assert world.vm(vid).memory == 524288
    assert world.states(vid) == ("ACTIVE", "RUNNING")

    world.engine.action("stop", vid)
    world.wait_state(vid, ("STOPPED", "LCM_INIT"))
    checkpoint = f"{world.vms}/{vid}/images/checkpoint"
    assert world.xm()[-1] == ["save", name, checkpoint]
    assert world.host.domains() == {}

    world.engine.action("resume", vid)
    world.wait_state(vid, ("PENDING", "LCM_INIT"))
    world.engine.deploy(vid, world.hid)
    world.wait_state(vid, ("ACTIVE", "RUNNING"))
    assert world.xm()[-1] == ["restore", checkpoint]
    assert world.host.domains() == {name: "-b----"}

    world.engine.action("shutdown", vid)
    world.wait_state(vid, ("DONE", "LCM_INIT"))
    assert world.xm()[-2:] == [["shutdown", name], ["list", name]]
    assert world.host.domains() == {}


def test_vm_gone_from_the_host_becomes_unknown(world: World) -> None:
    vid = world.engine.allocate(0, TEMPLATE)
    world.engine.deploy(vid, world.hid)
    world.wait_state(vid, ("ACTIVE", "RUNNING"))
    world.host.set_domains({})
    world.engine.poll_all()
    world.wait_state(vid, ("ACTIVE", "UNKNOWN"))


def test_template_without_kernel_fails_the_deploy(world: World) -> None:
    vid = world.engine.allocate(0, "MEMORY = 64\nDISK = [ SOURCE = /a, TARGET = xvda ]\n")
    world.engine.deploy(vid, world.hid)
    world.wait_state(vid, ("FAILED", "LCM_INIT"))
    assert "No kernel or bootloader defined and no default provided." in world.log(vid)
    assert world.xm() == []
