"""Choosing the EC2 section and reading it (spec §5.4, §5.6)."""

from __future__ import annotations

import pytest
from one_vmm_ec2.deployment import LaunchRequest, launch_request, parse_ports
from one_vmm_ec2.plugin import poll_info
from one_vmm_ec2.settings import packaged_defaults

from one_core.errors import DriverError
from one_core.template import Template

F = "/var/one/5/deployment.0"


def xml(text: str) -> str:
    """The deployment the core writes for a driver without vmm_deployment_file."""
    return Template.parse(text).to_xml()


def test_single_section_with_defaults() -> None:
    text = xml("CPU = 1\nMEMORY = 1700\nEC2 = [ AMI = ami-123, KEYPAIR = gsg ]\nNAME = vm1\n")
    assert launch_request(text, "ec2host", packaged_defaults(), F) == LaunchRequest(
        ami="ami-123", keypair="gsg", instance_type="m1.small"
    )


def test_1_4_sample_xml_and_stripped_values() -> None:
    text = (
        "<TEMPLATE><CPU>1</CPU><EC2><AMI> ami-123 </AMI><KEYPAIR>gsg</KEYPAIR>"
        "<ELASTICIP>75.101.155.97</ELASTICIP><AUTHORIZEDPORTS>22</AUTHORIZEDPORTS>"
        "<INSTANCETYPE>m1.large</INSTANCETYPE></EC2><MEMORY>1700</MEMORY>"
        "<NAME>vm1</NAME><VMID>5</VMID></TEMPLATE>"
    )
    assert launch_request(text, "h", {}, F) == LaunchRequest(
        ami="ami-123",
        keypair="gsg",
        instance_type="m1.large",
        ports=((22, 22),),
        elastic_ip="75.101.155.97",
    )


def test_section_by_cloud_case_insensitive_last_wins() -> None:
    text = xml(
        "EC2 = [ AMI = ami-eu, CLOUD = Europe ]\n"
        "EC2 = [ AMI = ami-us, CLOUD = us ]\n"
        "EC2 = [ AMI = ami-eu2, CLOUD = EUROPE ]\n"
    )
    assert launch_request(text, "us", {}, F).ami == "ami-us"
    assert launch_request(text, "europe", {}, F).ami == "ami-eu2"


def test_one_section_is_used_whatever_its_cloud() -> None:
    assert launch_request(xml("EC2 = [ AMI = a, CLOUD = other ]\n"), "h", {}, F).ami == "a"


@pytest.mark.parametrize(
    "text", ["MEMORY = 1\n", "EC2 = [ AMI = a, CLOUD = x ]\nEC2 = [ AMI = b, CLOUD = y ]\n"]
)
def test_no_section_for_the_host(text: str) -> None:
    with pytest.raises(DriverError) as info:
        launch_request(xml(text), "h", {}, F)
    assert str(info.value) == (
        f"Can not find EC2 element in deployment file {F} or couldn't find any EC2 site "
        "matching one of the template."
    )


def test_missing_ami() -> None:
    with pytest.raises(DriverError, match=rf"^Can not find AMI in deployment file {F}$"):
        launch_request(xml("EC2 = [ KEYPAIR = k ]\n"), "h", {}, F)


def test_only_three_defaults() -> None:
    defaults = {
        "EC2": {
            "KEYPAIR": "dk",
            "AUTHORIZEDPORTS": "80",
            "INSTANCETYPE": "t2.micro",
            "AMI": "ami-default",
            "ELASTICIP": "1.2.3.4",
        }
    }
    request = launch_request(xml("EC2 = [ AMI = a ]\n"), "h", defaults, F)
    assert request == LaunchRequest(
        ami="a", keypair="dk", instance_type="t2.micro", ports=((80, 80),)
    )
    with pytest.raises(DriverError, match="Can not find AMI"):
        launch_request(xml("EC2 = [ KEYPAIR = k ]\n"), "h", defaults, F)


def test_escaped_values_come_back_exactly() -> None:
    text = xml('EC2 = [ AMI = "ami-<&>", KEYPAIR = "a\'b \\"c\\"" ]\n')
    request = launch_request(text, "h", {}, F)
    assert (request.ami, request.keypair) == ("ami-<&>", 'a\'b "c"')


def test_malformed_xml() -> None:
    with pytest.raises(DriverError, match="Can not parse deployment file"):
        launch_request("<TEMPLATE><EC2>", "h", {}, F)


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("22", ((22, 22),)),
        ("8000-8010", ((8000, 8010),)),
        ("80, 22,22, 8000 - 8010", ((22, 22), (80, 80), (8000, 8010))),
        ("", ()),
    ],
)
def test_ports(text: str, ranges: tuple) -> None:
    assert parse_ports(text) == ranges


@pytest.mark.parametrize("text", ["ssh", "22;rm", "90-80", "70000", "-1"])
def test_bad_ports(text: str) -> None:
    with pytest.raises(DriverError, match="Wrong AUTHORIZEDPORTS value"):
        parse_ports(text)


def test_poll_info_mapping() -> None:
    zero = {"USEDMEMORY": "0", "USEDCPU": "0", "NETTX": "0", "NETRX": "0"}
    assert poll_info(None) == {**zero, "STATE": "d"}
    assert poll_info({"State": {"Name": "pending"}}) == {**zero, "STATE": "a"}
    running = {"State": {"Name": "running"}, "PublicIpAddress": "54.1.2.3"}
    assert poll_info(running) == {**zero, "STATE": "a", "IP": "54.1.2.3"}
    dns = {"State": {"Name": "running"}, "PublicDnsName": "ec2-54-1-2-3.compute-1.amazonaws.com"}
    assert poll_info(dns)["IP"] == "ec2-54-1-2-3.compute-1.amazonaws.com"
    assert poll_info({"State": {"Name": "running"}}) == {**zero, "STATE": "a"}
    assert poll_info({"State": {"Name": "terminated"}})["STATE"] == "d"
    assert poll_info({"State": {"Name": "shutting-down"}})["STATE"] == "d"
    assert poll_info({"State": {"Name": "stopped"}}) == zero


def test_1_4_vm_mad_section_loads_this_driver(tmp_path) -> None:
    from one_vmm_ec2.settings import settings

    from one_core.testing.drivers import driver_from_section

    section = {
        "NAME": "vmm_ec2",
        "EXECUTABLE": "one_vmm_ec2",
        "DEFAULT": "vmm_ec2.conf",
        "TYPE": "xml",
        "EC2_URL": "https://ec2.eu-west-1.amazonaws.com",
    }
    defaults = {"vmm_ec2.conf": 'EC2 = [ KEYPAIR = gsg ]\nREGION = "eu-west-1"\n'}
    driver = driver_from_section(tmp_path, "vmm", section, defaults)
    assert driver.spec.driver == "ec2"
    s = settings(driver.ctx)
    assert (s.region, s.endpoint_url) == ("eu-west-1", "https://ec2.eu-west-1.amazonaws.com")
    text = xml("EC2 = [ AMI = a ]\n")
    assert launch_request(text, "h", driver.ctx.defaults, F).keypair == "gsg"


def test_client_setup_errors_are_driver_errors() -> None:
    from one_vmm_ec2.settings import client

    from one_core.context import DriverContext

    ctx = DriverContext(role="vmm", name="ec2", config={"EC2_URL": "not a url"})
    with pytest.raises(DriverError, match="^EC2 client setup failed: "):
        client(ctx)
    ctx = DriverContext(role="vmm", name="ec2", config={"MAX_ATTEMPTS": "many"})
    with pytest.raises(DriverError, match="MAX_ATTEMPTS is not a number"):
        client(ctx)


class _FakeEc2:
    """Just enough of an EC2 client for the elastic-IP retry path (AWS refuses to associate
    an address with an instance that is not running yet; moto's instances run at once)."""

    def __init__(self, domain: str, waits: bool = True):
        self.domain, self.waits, self.calls = domain, waits, []

    def describe_addresses(self, PublicIps):  # noqa: N803 - boto3's names
        address = {"PublicIp": PublicIps[0], "Domain": self.domain}
        if self.domain == "vpc":
            address["AllocationId"] = "eipalloc-1"
        return {"Addresses": [address]}

    def associate_address(self, **kwargs):
        from botocore.exceptions import ClientError

        self.calls.append(("associate", kwargs))
        if len([c for c in self.calls if c[0] == "associate"]) == 1:
            error = {"Code": "IncorrectInstanceState", "Message": "The instance is pending"}
            raise ClientError({"Error": error}, "AssociateAddress")
        return {}

    def get_waiter(self, name):
        fake = self

        class Waiter:
            def wait(self, **kwargs):
                from botocore.exceptions import WaiterError

                fake.calls.append((name, kwargs))
                if not fake.waits:
                    raise WaiterError(name, "Max attempts exceeded", {})

        return Waiter()


def test_elastic_ip_waits_for_running_then_associates() -> None:
    from one_vmm_ec2.api import associate_address

    fake = _FakeEc2("vpc")
    associate_address(fake, "i-1", "54.0.0.1", wait=12, sleep_delay=5)
    assert fake.calls == [
        ("associate", {"InstanceId": "i-1", "AllocationId": "eipalloc-1"}),
        (
            "instance_running",
            {"InstanceIds": ["i-1"], "WaiterConfig": {"Delay": 5, "MaxAttempts": 3}},
        ),
        ("associate", {"InstanceId": "i-1", "AllocationId": "eipalloc-1"}),
    ]
    classic = _FakeEc2("standard")
    associate_address(classic, "i-2", "54.0.0.2", wait=5)
    assert classic.calls[0] == ("associate", {"InstanceId": "i-2", "PublicIp": "54.0.0.2"})


def test_elastic_ip_gives_up_when_the_instance_never_runs() -> None:
    from one_vmm_ec2.api import associate_address

    with pytest.raises(DriverError, match="i-1 did not reach running"):
        associate_address(_FakeEc2("vpc", waits=False), "i-1", "54.0.0.1", wait=5)
    with pytest.raises(DriverError, match="IncorrectInstanceState: The instance is pending"):
        associate_address(_FakeEc2("vpc"), "i-1", "54.0.0.1", wait=0)
