"""The ``ec2`` driver under the real VM engine (SQLite, host pool, dummy TM) and moto_server.

What the core gives the driver (the template as XML), what the driver's poll
puts back (IP into the VM template) and what the core refuses (no save).
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
from one_core.engine.errors import CapabilityError
from one_core.logs import VMLogWriter
from one_core.pools.host import HostPool
from one_core.vm.pool import VMPool
from one_core.vm.ports import PoolHosts
from one_core.vm.states import LcmState, VmState


class World:
    def __init__(self, engine: Engine, var: pathlib.Path, hid: int):
        self.engine, self.var, self.hid = engine, var, hid

    def settle(self) -> None:
        assert self.engine.wait_idle(60), "engine did not settle"

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

    def wait_state(self, vid: int, state: tuple[str, str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.states(vid) != state:
            assert time.monotonic() < deadline, (self.states(vid), self.log(vid))
            time.sleep(0.05)


@pytest.fixture
def world(tmp_path: pathlib.Path, moto_url: str) -> Iterator[World]:
    var = tmp_path / "var"
    var.mkdir()
    db.close()
    db.connect({"backend": "sqlite", "path": str(var / "one.db")}, var_dir=str(var))
    section = {
        "EXECUTABLE": "one_vmm_ec2",
        "TYPE": "xml",
        "EC2_URL": moto_url,
        "REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    drivers = load_drivers_from_specs(
        [
            DriverSpec(role="vmm", name="vmm_ec2", driver="ec2", section=section),
            DriverSpec(role="tm", name="tm_dummy", driver="dummy"),
        ],
        var_dir=str(var),
        vm_log_func=VMLogWriter(str(var)),
    )
    hosts = HostPool()
    hid = hosts.allocate("ec2", "im_ec2", "vmm_ec2", "tm_dummy")
    config = EngineConfig(
        var_dir=str(var),
        front="front",
        vm_polling_interval=0,
        manager_timer=3600,
        driver_threads=2,
    )
    engine = Engine(pool=VMPool(), drivers=drivers, hosts=PoolHosts(hosts), cfg=config)
    engine.start(recover=False, timers=False)
    try:
        yield World(engine, var, hid)
    finally:
        engine.stop(5)
        db.close()


def test_deploy_poll_refuse_save_shutdown(world: World, ec2: Any, ami: str) -> None:
    vid = world.engine.allocate(
        0, f'NAME = web\nCPU = 1\nMEMORY = 1700\nEC2 = [ AMI = "{ami}", INSTANCETYPE = m1.large ]\n'
    )
    world.engine.deploy(vid, world.hid)
    world.settle()
    assert world.states(vid) == ("ACTIVE", "RUNNING"), world.log(vid)
    instance_id = world.vm(vid).deploy_id
    described = ec2.describe_instances(InstanceIds=[instance_id])
    instance = described["Reservations"][0]["Instances"][0]
    assert (instance["ImageId"], instance["InstanceType"]) == (ami, "m1.large")
    deployment = (world.var / str(vid) / "deployment.0").read_text()
    assert deployment.startswith("<TEMPLATE>") and f"<AMI>{ami}</AMI>" in deployment

    world.engine.poll_all()
    world.settle()
    assert world.vm(vid).template.get("IP") == instance["PublicIpAddress"]
    assert "Unknown monitoring attribute (adding/updating template): IP=" in world.log(vid)

    with pytest.raises(CapabilityError, match="^driver vmm_ec2 cannot save$"):
        world.engine.action("stop", vid)
    assert world.states(vid) == ("ACTIVE", "RUNNING")

    world.engine.action("shutdown", vid)
    world.wait_state(vid, ("DONE", "LCM_INIT"))
    described = ec2.describe_instances(InstanceIds=[instance_id])
    state = described["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")


def test_bad_ami_fails_the_vm_with_the_aws_message(world: World) -> None:
    vid = world.engine.allocate(0, 'MEMORY = 1\nEC2 = [ AMI = "ami-00000000deadbeef" ]\n')
    world.engine.deploy(vid, world.hid)
    world.wait_state(vid, ("FAILED", "LCM_INIT"))
    assert (
        "Error deploying virtual machine: EC2 RunInstances failed: InvalidAMIID.NotFound: "
        "The image id '[ami-00000000deadbeef]' does not exist"
    ) in world.log(vid)
