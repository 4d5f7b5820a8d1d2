"""A real oned with an EC2 host against a real moto_server on loopback (issue 9).

oned runs ``IM_MAD ec2`` / ``VM_MAD ec2`` (type xml) / ``TM_MAD dummy`` and the
in-daemon scheduler; hosts are created with ``onehost create``; a second VM
driver points at a server that always throttles. Everything AWS did is checked
in moto through boto3.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

SECTIONS = """
IM_MAD = [ name = "im_ec2", driver = "ec2" ]
VM_MAD = [ name = "vmm_ec2", driver = "ec2", type = "xml", ec2_url = "{moto}",
           region = "us-east-1", aws_access_key_id = "testing",
           aws_secret_access_key = "testing" ]
VM_MAD = [ name = "vmm_throttled", driver = "ec2", type = "xml", ec2_url = "{throttled}",
           region = "us-east-1", aws_access_key_id = "k", aws_secret_access_key = "s",
           max_attempts = "2" ]
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "internal", interval = 1 ]
"""


@pytest.fixture
def one(oned_factory, moto_url: str, throttling_server) -> Any:
    """oned with the hosts ``ec2`` (moto), ``ec2thr`` (throttled) and ``local`` (dummy)."""
    sections = SECTIONS.format(moto=moto_url, throttled=throttling_server.url)
    o = oned_factory(
        sections=sections, HOST_MONITORING_INTERVAL=1, VM_POLLING_INTERVAL=1, MANAGER_TIMER=1
    )
    for host, im, vmm in (
        ("ec2", "im_ec2", "vmm_ec2"),
        ("ec2thr", "im_ec2", "vmm_throttled"),
        ("local", "im_dummy", "vmm_dummy"),
    ):
        assert cli(o, "onehost", "create", host, im, vmm, "tm_dummy") == (0, "", "")
    client = o.client()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pool = client.hostpool_info()
        if all(h.findtext("STATE") == "2" for h in pool.findall("HOST")):  # MONITORED
            break
        time.sleep(0.2)
    o.rpc = client
    yield o
    client.close()


def cli(o: Any, tool: str, *args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", f"one_core.cli.{tool}", *args],
        env=o.env, cwd=o.location, capture_output=True, timeout=60,
    )  # fmt: skip
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def vm(o: Any, vid: int) -> Any:
    return o.rpc.vm_info(vid)


def states(o: Any, vid: int) -> tuple[str, str]:
    doc = vm(o, vid)
    return doc.findtext("STATE"), doc.findtext("LCM_STATE")


def wait(o: Any, vid: int, predicate, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = vm(o, vid)
        if predicate(doc):
            return doc
        time.sleep(0.2)
    raise AssertionError(f"VM {vid} never {what}: {states(o, vid)}\n{vm_log(o, vid)}")


def vm_log(o: Any, vid: int) -> str:
    try:
        return (o.var / str(vid) / "vm.log").read_text()
    except OSError:
        return ""


def instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


ACTIVE, RUNNING, DONE, FAILED = "3", "3", "6", "7"


def test_ec2_vm_runs_polls_refuses_stop_and_terminates(
    one, ec2: Any, ami: str, db_backend: str
) -> None:
    key = f"e2e-key-{db_backend}"  # one moto server for the session: one key per run
    ec2.create_key_pair(KeyName=key)
    vid = one.rpc.vm_allocate(
        'NAME = web\nCPU = 1\nMEMORY = 1700\nREQUIREMENTS = "HOSTNAME = \\"ec2\\""\n'
        f'EC2 = [ AMI = "{ami}", KEYPAIR = "{key}", INSTANCETYPE = "m1.large",\n'
        '        AUTHORIZEDPORTS = "22,8000-8010" ]\n'
    )
    doc = wait(one, vid, lambda d: d.findtext("LCM_STATE") == RUNNING, "ran")
    assert doc.findtext("STATE") == ACTIVE
    assert doc.findtext("HISTORY/HOSTNAME") == "ec2"
    instance_id = doc.findtext("DEPLOY_ID")
    assert instance_id.startswith("i-")
    inst = instance(ec2, instance_id)
    assert (inst["ImageId"], inst["InstanceType"], inst["KeyName"]) == (ami, "m1.large", key)
    assert [g["GroupName"] for g in inst["SecurityGroups"]] == ["one-ports-22_8000-8010"]
    group = ec2.describe_security_groups(GroupNames=["one-ports-22_8000-8010"])["SecurityGroups"]
    assert sorted((p["FromPort"], p["ToPort"]) for p in group[0]["IpPermissions"]) == [
        (22, 22), (8000, 8010)]  # fmt: skip

    doc = wait(one, vid, lambda d: d.findtext("TEMPLATE/IP"), "got an IP")
    assert doc.findtext("TEMPLATE/IP") == inst["PublicIpAddress"]

    # a cold migration saves on the source: refused even towards a host that could restore
    refused = (("stop", str(vid)), ("suspend", "web"), ("migrate", "web", "local"))
    for action in refused:
        rc, out, err = cli(one, "onevm", *action)
        assert (rc, out + err) == (255, "Error: driver vmm_ec2 cannot save\n"), action
    assert states(one, vid) == (ACTIVE, RUNNING)
    assert instance(ec2, instance_id)["State"]["Name"] == "running"

    assert cli(one, "onevm", "shutdown", str(vid)) == (0, "", "")
    wait(one, vid, lambda d: d.findtext("STATE") == DONE, "finished")
    assert instance(ec2, instance_id)["State"]["Name"] in ("shutting-down", "terminated")


@pytest.mark.parametrize(
    ("host", "ec2_section", "message"),
    [
        (
            "ec2",
            'AMI = "ami-00000000deadbeef"',
            "Error deploying virtual machine: EC2 RunInstances failed: InvalidAMIID.NotFound: "
            "The image id '[ami-00000000deadbeef]' does not exist",
        ),
        (
            "ec2thr",
            'AMI = "ami-12345678"',
            "Error deploying virtual machine: EC2 RunInstances failed: RequestLimitExceeded: "
            "Request limit exceeded.",
        ),
    ],
    ids=["bad-ami", "throttled"],
)
def test_ec2_api_errors_fail_the_vm(
    one, throttling_server, host: str, ec2_section: str, message: str
) -> None:
    vid = one.rpc.vm_allocate(
        f'NAME = bad\nMEMORY = 1\nREQUIREMENTS = "HOSTNAME = \\"{host}\\""\n'
        f"EC2 = [ {ec2_section} ]\n"
    )
    doc = wait(one, vid, lambda d: d.findtext("STATE") == FAILED, "failed")
    assert doc.findtext("HISTORY/HOSTNAME") == host
    assert message in vm_log(one, vid)
    if host == "ec2thr":  # MAX_ATTEMPTS = 2: the throttled call was retried once
        assert len(throttling_server.requests) == 2
        assert all("Action=RunInstances" in body for body in throttling_server.requests)


def test_ec2_host_reports_the_configured_capacity(one) -> None:
    """im_ec2 with 1.4's default limits (5 small instances): 500 CPU, 5 x 1.7 GB."""
    host = one.rpc.host_info(0)
    share = host.find("HOST_SHARE")
    assert (host.findtext("NAME"), host.findtext("STATE")) == ("ec2", "2")
    assert (share.findtext("MAX_CPU"), share.findtext("MAX_MEM")) == ("500", "8912896")
    assert host.findtext("TEMPLATE/HYPERVISOR") == "ec2"
