"""The ``ec2`` driver against a real moto_server on loopback (and a throttling HTTP server)."""

from __future__ import annotations

import pathlib
import uuid

import pytest

from one_core.errors import DriverError
from one_core.template import Template


def deployment(text: str) -> str:
    return Template.parse(text).to_xml()


def deploy(world, text: str, vid: int = 7, host: str = "ec2") -> str:
    return world.call(
        "vmm_deploy",
        vid=vid,
        host=host,
        deployment_file=f"/var/one/{vid}/deployment.0",
        deployment=deployment(text),
    )


def instance(ec2, instance_id: str) -> dict:
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


@pytest.fixture
def keypair(ec2) -> str:
    name = f"gsg-{uuid.uuid4().hex[:8]}"
    ec2.create_key_pair(KeyName=name)
    return name


def test_driver_has_no_save_restore_migrate(make) -> None:
    driver = make().driver
    assert not driver.implements("vmm_save")
    assert not driver.implements("vmm_restore")
    assert not driver.implements("vmm_migrate")
    assert not driver.implements("vmm_deployment_file")


def test_deploy_runs_the_instance(make, ec2, ami, keypair) -> None:
    world = make()
    instance_id = deploy(
        world, f"MEMORY = 1700\nEC2 = [ AMI = {ami}, KEYPAIR = {keypair}, INSTANCETYPE = m1.large ]"
    )
    got = instance(ec2, instance_id)
    assert got["ImageId"] == ami
    assert got["InstanceType"] == "m1.large"
    assert got["KeyName"] == keypair
    tags = {t["Key"]: t["Value"] for t in got.get("Tags", [])}
    assert tags == {"Name": "one-7", "opennebula:vid": "7"}
    assert (7, "I", f"EC2 instance {instance_id} launched from {ami}") in world.vm_log


def test_instance_type_from_the_packaged_defaults(make, ec2, ami) -> None:
    instance_id = deploy(make(), f"EC2 = [ AMI = {ami} ]")
    assert instance(ec2, instance_id)["InstanceType"] == "m1.small"


def test_defaults_file(make, ec2, ami, keypair) -> None:
    world = make(defaults=f'EC2 = [ KEYPAIR = "{keypair}", INSTANCETYPE = "t2.micro" ]\n')
    got = instance(ec2, deploy(world, f"EC2 = [ AMI = {ami} ]"))
    assert (got["KeyName"], got["InstanceType"]) == (keypair, "t2.micro")


def test_section_chosen_by_host(make, ec2, amis) -> None:
    images = amis
    world = make()
    text = f"EC2 = [ AMI = {images[0]}, CLOUD = east ]\nEC2 = [ AMI = {images[1]}, CLOUD = west ]"
    assert instance(ec2, deploy(world, text, host="WEST"))["ImageId"] == images[1]


def test_authorized_ports_security_group_created_then_reused(make, ec2, ami) -> None:
    world = make()
    first = deploy(world, f'EC2 = [ AMI = {ami}, AUTHORIZEDPORTS = "22,8000-8010" ]')
    second = deploy(world, f'EC2 = [ AMI = {ami}, AUTHORIZEDPORTS = "8000-8010, 22" ]', vid=8)
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["one-ports-22_8000-8010"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    rules = {
        (p["IpProtocol"], p["FromPort"], p["ToPort"], r["CidrIp"])
        for p in groups[0]["IpPermissions"]
        for r in p["IpRanges"]
    }
    assert rules == {("tcp", 22, 22, "0.0.0.0/0"), ("tcp", 8000, 8010, "0.0.0.0/0")}
    for instance_id in (first, second):
        assert [g["GroupId"] for g in instance(ec2, instance_id)["SecurityGroups"]] == [
            groups[0]["GroupId"]
        ]


def test_configured_security_group_is_completed(make, ec2, ami) -> None:
    name = f"web-{uuid.uuid4().hex[:6]}"
    group_id = ec2.create_security_group(GroupName=name, Description="existing")["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    world = make(SECURITY_GROUP=name)
    instance_id = deploy(world, f'EC2 = [ AMI = {ami}, AUTHORIZEDPORTS = "80,443" ]')
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    assert sorted((p["FromPort"], p["ToPort"]) for p in group["IpPermissions"]) == [
        (80, 80),
        (443, 443),
    ]
    assert instance(ec2, instance_id)["SecurityGroups"][0]["GroupId"] == group_id


def test_elastic_ip_is_associated(make, ec2, ami) -> None:
    address = ec2.allocate_address(Domain="vpc")
    instance_id = deploy(make(), f'EC2 = [ AMI = {ami}, ELASTICIP = "{address["PublicIp"]}" ]')
    found = ec2.describe_addresses(PublicIps=[address["PublicIp"]])["Addresses"][0]
    assert found.get("InstanceId") == instance_id


def test_unknown_elastic_ip_only_warns(make, ec2, ami) -> None:
    world = make()
    instance_id = deploy(world, f'EC2 = [ AMI = {ami}, ELASTICIP = "198.51.100.7" ]')
    assert instance(ec2, instance_id)["State"]["Name"] in ("pending", "running")
    warnings = [m for _, level, m in world.vm_log if level == "W"]
    assert len(warnings) == 1
    assert warnings[0].startswith("Could not associate elastic IP 198.51.100.7: EC2 ")


def test_poll_reports_running_and_public_ip(make, ec2, ami) -> None:
    world = make()
    instance_id = deploy(world, f"EC2 = [ AMI = {ami} ]")
    info = world.call("vmm_poll", deploy_id=instance_id)
    public = instance(ec2, instance_id)["PublicIpAddress"]
    assert info == {
        "USEDMEMORY": "0",
        "USEDCPU": "0",
        "NETTX": "0",
        "NETRX": "0",
        "STATE": "a",
        "IP": public,
    }


def test_shutdown_terminates_and_poll_says_gone(make, ec2, ami) -> None:
    world = make()
    instance_id = deploy(world, f"EC2 = [ AMI = {ami} ]")
    world.call("vmm_shutdown", deploy_id=instance_id)
    assert instance(ec2, instance_id)["State"]["Name"] in ("shutting-down", "terminated")
    assert world.call("vmm_poll", deploy_id=instance_id)["STATE"] == "d"


def test_cancel_terminates_and_is_idempotent(make, ec2, ami) -> None:
    world = make()
    instance_id = deploy(world, f"EC2 = [ AMI = {ami} ]")
    world.call("vmm_cancel", deploy_id=instance_id)
    assert instance(ec2, instance_id)["State"]["Name"] in ("shutting-down", "terminated")
    world.call("vmm_cancel", deploy_id="i-0123456789abcdef0")  # unknown: success


def test_unknown_instance(make) -> None:
    world = make()
    assert world.call("vmm_poll", deploy_id="i-0123456789abcdef0")["STATE"] == "d"
    with pytest.raises(DriverError, match="InvalidInstanceID.NotFound: The instance ID"):
        world.call("vmm_shutdown", deploy_id="i-0123456789abcdef0")


def test_unknown_ami_is_a_driver_error_with_the_aws_message(make, ec2) -> None:
    before = len(ec2.describe_instances()["Reservations"])
    with pytest.raises(DriverError) as info:
        deploy(make(), "EC2 = [ AMI = ami-00000000deadbeef ]")
    assert str(info.value) == (
        "EC2 RunInstances failed: InvalidAMIID.NotFound: "
        "The image id '[ami-00000000deadbeef]' does not exist"
    )
    assert len(ec2.describe_instances()["Reservations"]) == before


def test_unknown_keypair_is_a_driver_error(make, ami) -> None:
    with pytest.raises(DriverError, match="InvalidKeyPair.NotFound"):
        deploy(make(), f"EC2 = [ AMI = {ami}, KEYPAIR = no-such-key ]")


def test_missing_ami_and_missing_file(make) -> None:
    world = make()
    with pytest.raises(DriverError, match="^Can not find AMI in deployment file"):
        deploy(world, "EC2 = [ KEYPAIR = k ]")
    with pytest.raises(DriverError, match="^Can not open deployment file /nonexistent"):
        world.call("vmm_deploy", deployment_file="/nonexistent/deployment.0", deployment="")


def test_deployment_read_from_the_file(make, ec2, ami, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "deployment.0"
    path.write_text(deployment(f"EC2 = [ AMI = {ami} ]"))
    instance_id = make().call("vmm_deploy", deployment_file=str(path), deployment="")
    assert instance(ec2, instance_id)["ImageId"] == ami


def test_settings_from_the_environment(monkeypatch, make_plain, moto_url, ec2, ami) -> None:
    """EC2_URL (1.4's variable) and boto3's AWS_* variables, with an empty section."""
    monkeypatch.setenv("EC2_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    instance_id = deploy(make_plain({}), f"EC2 = [ AMI = {ami} ]")
    assert instance(ec2, instance_id)["ImageId"] == ami


def test_throttling_is_retried_then_a_driver_error(make_plain, throttling_server) -> None:
    """A real socket answering HTTP 503 RequestLimitExceeded (moto cannot throttle)."""
    world = make_plain(
        {
            "EC2_URL": throttling_server.url,
            "REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": "s",
            "MAX_ATTEMPTS": "2",
        }
    )
    with pytest.raises(DriverError) as info:
        deploy(world, "EC2 = [ AMI = ami-12345678 ]")
    assert str(info.value) == (
        "EC2 RunInstances failed: RequestLimitExceeded: Request limit exceeded."
    )
    assert len(throttling_server.requests) == 2  # retried once, as configured
    assert all("Action=RunInstances" in body for body in throttling_server.requests)
    with pytest.raises(DriverError, match="^EC2 DescribeInstances failed: RequestLimitExceeded"):
        world.call("vmm_poll", deploy_id="i-0123456789abcdef0")


def test_unreachable_endpoint_is_a_driver_error(make_plain) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    world = make_plain(
        {
            "EC2_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": "s",
            "MAX_ATTEMPTS": "1",
        }
    )
    with pytest.raises(DriverError, match="^EC2 TerminateInstances failed: Could not connect"):
        world.call("vmm_cancel", deploy_id="i-0123456789abcdef0")
