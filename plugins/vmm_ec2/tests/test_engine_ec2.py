"""The ``ec2`` driver under the real VM engine (SQLite, host pool, dummy TM) and moto_server.

What the core gives the driver (the template as XML), what the driver's poll
puts back (IP into the VM template) and what the core refuses (no save).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from one_core.drivers import DriverSpec
from one_core.engine.errors import CapabilityError
from one_core.testing.engine_harness import EngineWorld as World
from one_core.testing.engine_harness import running_engine


@pytest.fixture
def world(tmp_path: pathlib.Path, moto_url: str) -> Iterator[World]:
    section = {
        "EXECUTABLE": "one_vmm_ec2",
        "TYPE": "xml",
        "EC2_URL": moto_url,
        "REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    vmm = DriverSpec(role="vmm", name="vmm_ec2", driver="ec2", section=section)
    with running_engine(tmp_path / "var", vmm, "ec2", im="im_ec2") as world:
        yield world


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
