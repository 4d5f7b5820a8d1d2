"""The ``xen`` driver under the real VM engine (SQLite, host pool, dummy TM) over the test sshd.

Every hook runs through the core: the deployment file it renders and writes,
deploy, poll, stop (save), resume (restore) and shutdown, against the
recording xm stand-in of conftest.py.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from one_core.drivers import DriverSpec
from one_core.testing.engine_harness import EngineWorld, running_engine

TEMPLATE = """NAME = web
CPU = 0.25
MEMORY = 128
OS = [ KERNEL = /boot/vmlinuz-xen, ROOT = xvda1 ]
DISK = [ SOURCE = /images/a.img, TARGET = xvda ]
"""


class World(EngineWorld):
    """The engine, plus the Xen stand-ins' host and the VM directory."""

    def __init__(self, base: EngineWorld, vms: pathlib.Path, host):
        super().__init__(base.engine, base.var, base.hid)
        self.vms, self.host = vms, host

    def xm(self) -> list[list[str]]:
        return [c["argv"] for c in self.host.calls("xm")]


@pytest.fixture
def world(tmp_path: pathlib.Path, pool, fake_host) -> Iterator[World]:
    vms = tmp_path / "vms"
    section = {
        "EXECUTABLE": "one_vmm_xen",
        "TYPE": "xen",
        "XEN_PATH": str(fake_host.bin / "xm"),
        "XENTOP_PATH": str(fake_host.bin / "xentop"),
        "SUDO": "",
        "POLL_DELAY": "0.1",
        "SHUTDOWN_POLL": "0.1",
    }
    vmm = DriverSpec(role="vmm", name="vmm_xen", driver="xen", section=section)
    with running_engine(
        tmp_path / "var", vmm, "node1", im="im_xen", vm_dir=vms, remote_factory=pool
    ) as base:
        yield World(base, vms, fake_host)


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
