"""Issue 20, focused: each parameter honoured or refused (never ignored), each new action."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def _err(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def alice(stack, boto3_client, econe_tool, image_file):
    """A fresh user with one uploaded image: ``(ec2, image_id, user name)``."""
    name, password = stack.new_user()
    res = econe_tool("econe-upload", str(image_file), env=stack.tool_env(name, password))
    assert res.returncode == 0, res.stdout
    return boto3_client(name, password), res.stdout.split()[-1], name


def _ids(resp) -> list[str]:
    return [i["InstanceId"] for r in resp["Reservations"] for i in r["Instances"]]


def test_unknown_filter_and_parameter_are_errors(alice):
    ec2, _, _ = alice
    with pytest.raises(ClientError) as err:
        ec2.describe_instances(Filters=[{"Name": "vpc-id", "Values": ["x"]}])
    assert _err(err) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as err:
        ec2.describe_images(ExecutableUsers=["self"])
    assert _err(err) == ("UnknownParameter", 400)
    with pytest.raises(ClientError) as err:
        ec2.describe_instances(InstanceIds=["1"], MaxResults=5)
    assert _err(err) == ("InvalidParameterCombination", 400)


def test_describe_images_ids_owner_filter(alice):
    ec2, image_id, name = alice
    assert [i["ImageId"] for i in ec2.describe_images(ImageIds=[image_id])["Images"]] == [image_id]
    with pytest.raises(ClientError) as err:
        ec2.describe_images(ImageIds=["ami-999999"])
    assert _err(err) == ("InvalidAMIID.NotFound", 400)
    assert ec2.describe_images(Owners=["amazon"])["Images"] == []
    assert len(ec2.describe_images(Owners=["self"])["Images"]) == 1
    flt = [{"Name": "image-id", "Values": ["ami-999999"]}]
    assert ec2.describe_images(Filters=flt)["Images"] == []


def test_run_instances_defaults_counts_and_tags(stack, alice):
    ec2, image_id, _ = alice
    run = ec2.run_instances(
        ImageId=image_id,
        MinCount=2,
        MaxCount=2,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]}],
    )
    ids = [i["InstanceId"] for i in run["Instances"]]
    assert len(ids) == 2
    assert {i["InstanceType"] for i in run["Instances"]} == {"m1.small"}  # AWS's default
    tagged = ec2.describe_instances(Filters=[{"Name": "tag:k", "Values": ["v"]}])
    assert sorted(_ids(tagged)) == sorted(ids)
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image_id, MinCount=3, MaxCount=2)
    assert _err(err) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, KeyName="nokey")
    assert _err(err) == ("InvalidKeyPair.NotFound", 400)
    with pytest.raises(ClientError) as err:
        ec2.run_instances(
            ImageId=image_id,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "a", "Value": "b"}]}],
        )
    assert _err(err) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, UserData="x")
    assert _err(err) == ("UnknownParameter", 400)
    # ClientToken: the same token answers the same instances, nothing new is started.
    first = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="tok-1")
    again = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, ClientToken="tok-1")
    assert [i["InstanceId"] for i in first["Instances"]] == [
        i["InstanceId"] for i in again["Instances"]
    ]
    ec2.terminate_instances(InstanceIds=ids + [first["Instances"][0]["InstanceId"]])


def test_min_count_not_reached_starts_nothing(stack, alice):
    """The ``tiny2``/``tiny`` types' networks have two leases each: MinCount 3 fails and
    the two started are finalized; MinCount 1 MaxCount 5 starts the two possible."""
    ec2, image_id, _ = alice
    before = _ids(ec2.describe_instances())
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image_id, MinCount=3, MaxCount=3, InstanceType="tiny2")
    assert _err(err)[0] == "InsufficientInstanceCapacity"
    stack.wait_until(lambda: _ids(ec2.describe_instances()) == before, 30, "none kept")
    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=5, InstanceType="tiny")
    ids = [i["InstanceId"] for i in run["Instances"]]
    assert len(ids) == 2
    ec2.terminate_instances(InstanceIds=ids)


def test_terminate_unknown_id_terminates_nothing(stack, alice):
    ec2, image_id, _ = alice
    vid = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    with pytest.raises(ClientError) as err:
        ec2.terminate_instances(InstanceIds=[vid, "999999"])
    assert _err(err) == ("InvalidInstanceID.NotFound", 400)
    assert stack.vm(int(vid)).findtext("STATE") == "1"
    with pytest.raises(ClientError) as err:
        ec2.reboot_instances(InstanceIds=[vid])
    assert _err(err) == ("UnsupportedOperation", 400)
    with pytest.raises(ClientError) as err:
        ec2.stop_instances(InstanceIds=[vid])  # pending: not stoppable
    assert _err(err) == ("IncorrectInstanceState", 400)
    ec2.terminate_instances(InstanceIds=[vid])


def test_key_pairs(alice):
    ec2, _, _ = alice
    public = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    imp = ec2.import_key_pair(KeyName="laptop", PublicKeyMaterial=public + b" me@laptop")
    assert imp["KeyName"] == "laptop" and imp["KeyFingerprint"]
    with pytest.raises(ClientError) as err:
        ec2.import_key_pair(KeyName="laptop", PublicKeyMaterial=public)
    assert _err(err) == ("InvalidKeyPair.Duplicate", 400)
    with pytest.raises(ClientError) as err:
        ec2.import_key_pair(KeyName="bad", PublicKeyMaterial=b"not a key")
    assert _err(err) == ("InvalidKey.Format", 400)
    created = ec2.create_key_pair(KeyName="made", KeyType="ed25519")
    assert "OPENSSH PRIVATE KEY" in created["KeyMaterial"]
    pairs = ec2.describe_key_pairs(IncludePublicKey=True)["KeyPairs"]
    assert [(k["KeyName"], k["KeyType"]) for k in pairs] == [
        ("laptop", "ed25519"),
        ("made", "ed25519"),
    ]
    assert pairs[0]["PublicKey"] == public.decode()
    with pytest.raises(ClientError) as err:
        ec2.describe_key_pairs(KeyNames=["nope"])
    assert _err(err) == ("InvalidKeyPair.NotFound", 400)
    ec2.delete_key_pair(KeyName="laptop")
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["made"]


def test_tags(alice):
    ec2, image_id, _ = alice
    vid = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[vid], Tags=[{"Key": "Name", "Value": "web"}, {"Key": "env"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vid]}])["Tags"]
    assert [(t["Key"], t["Value"], t["ResourceType"]) for t in tags] == [
        ("Name", "web", "instance"),
        ("env", "", "instance"),
    ]
    ec2.delete_tags(Resources=[vid], Tags=[{"Key": "Name", "Value": "other"}])  # value differs
    ec2.delete_tags(Resources=[vid], Tags=[{"Key": "env"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vid]}])["Tags"]
    assert [t["Key"] for t in tags] == ["Name"]
    with pytest.raises(ClientError) as err:
        ec2.create_tags(Resources=["i-999999"], Tags=[{"Key": "a", "Value": "b"}])
    assert _err(err) == ("InvalidInstanceID.NotFound", 400)
    with pytest.raises(ClientError) as err:
        ec2.create_tags(Resources=[vid], Tags=[{"Key": "aws:x", "Value": "b"}])
    assert _err(err) == ("InvalidParameterValue", 400)
    ec2.terminate_instances(InstanceIds=[vid])


def test_region_zone_types_groups(alice):
    ec2, _, name = alice
    assert [r["RegionName"] for r in ec2.describe_regions()["Regions"]] == ["opennebula"]
    with pytest.raises(ClientError) as err:
        ec2.describe_regions(RegionNames=["eu-west-1"])
    assert _err(err) == ("InvalidParameterValue", 400)
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["State"]) for z in zones] == [("default", "available")]
    types = ec2.describe_instance_types()["InstanceTypes"]
    by_name = {t["InstanceType"]: t for t in types}
    assert set(by_name) == {"m1.small", "small", "tiny", "tiny2"}
    assert by_name["m1.small"]["MemoryInfo"]["SizeInMiB"] == 256
    assert by_name["m1.small"]["VCpuInfo"]["DefaultVCpus"] == 1
    with pytest.raises(ClientError) as err:
        ec2.describe_instance_types(InstanceTypes=["t2.micro"])
    assert _err(err) == ("InvalidInstanceType", 400)
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert [(g["GroupName"], g["GroupId"], g["OwnerId"]) for g in groups] == [
        ("default", "sg-default", name)
    ]
    with pytest.raises(ClientError) as err:
        ec2.describe_security_groups(GroupNames=["web"])
    assert _err(err) == ("InvalidGroup.NotFound", 400)
