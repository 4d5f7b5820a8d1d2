"""A user can neither see, register, run nor terminate another user's images or instances
(1.4 only checked RegisterImage; docs/decisions/econe.md)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def two_users(stack, boto3_client, econe_tool, image_file):
    """alice owns an image and a running instance; bob owns nothing."""
    alice, alice_pw = stack.new_user()
    bob, bob_pw = stack.new_user()
    res = econe_tool("econe-upload", str(image_file), env=stack.tool_env(alice, alice_pw))
    assert res.returncode == 0, res.stdout
    image_id = res.stdout.split()[-1]
    a = boto3_client(alice, alice_pw)
    b = boto3_client(bob, bob_pw)
    vid = a.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="small")[
        "Instances"
    ][0]["InstanceId"]
    return a, b, image_id, vid


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def test_cannot_see_images(two_users):
    a, b, image_id, _ = two_users
    assert [i["ImageId"] for i in a.describe_images()["Images"]] == [image_id]
    assert b.describe_images()["Images"] == []


def test_cannot_register_image(two_users):
    a, b, image_id, _ = two_users
    assert a.register_image(Name="mine", ImageLocation=image_id)["ImageId"] == image_id
    with pytest.raises(ClientError) as err:
        b.register_image(Name="theirs", ImageLocation=image_id)
    assert _code(err) == ("UnauthorizedOperation", 403)
    assert err.value.response["Error"]["Message"] == "Not permited to use image"


def test_cannot_run_image(two_users, stack):
    a, b, image_id, _ = two_users
    with pytest.raises(ClientError) as err:
        b.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="small")
    assert _code(err) == ("UnauthorizedOperation", 403)
    # oneadmin may run anyone's image
    admin_ec2 = boto3_admin(stack)
    vid = admin_ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="small")[
        "Instances"
    ][0]["InstanceId"]
    admin_ec2.terminate_instances(InstanceIds=[vid])


def test_cannot_see_instances(two_users, stack):
    a, b, _, vid = two_users
    ids = [i["InstanceId"] for r in a.describe_instances()["Reservations"] for i in r["Instances"]]
    assert vid in ids
    ids = [i["InstanceId"] for r in b.describe_instances()["Reservations"] for i in r["Instances"]]
    assert ids == []
    with pytest.raises(ClientError) as err:  # another user's instance does not exist for bob
        b.describe_instances(InstanceIds=[vid])
    assert _code(err) == ("InvalidInstanceID.NotFound", 400)
    # oneadmin sees everyone's
    admin_ec2 = boto3_admin(stack)
    ids = [
        i["InstanceId"]
        for r in admin_ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    ]
    assert vid in ids


def test_cannot_terminate_instance(two_users, stack):
    a, b, _, vid = two_users
    with pytest.raises(ClientError) as err:
        b.terminate_instances(InstanceIds=[vid])
    assert _code(err) == ("UnauthorizedOperation", 403)
    assert stack.vm(int(vid)).findtext("STATE") == "1"  # still pending, untouched
    # Mixed list: refused as a whole before acting on any (§7 #13)
    own = a.run_instances(ImageId=two_users[2], MinCount=1, MaxCount=1, InstanceType="small")[
        "Instances"
    ][0]["InstanceId"]
    with pytest.raises(ClientError):
        b.terminate_instances(InstanceIds=[own, vid])
    assert stack.vm(int(own)).findtext("STATE") == "1"
    resp = a.terminate_instances(InstanceIds=[own, vid])
    assert [i["InstanceId"] for i in resp["TerminatingInstances"]] == [own, vid]


def boto3_admin(stack):
    import hashlib

    import boto3

    return boto3.client(
        "ec2",
        endpoint_url=stack.main.url,
        region_name="us-east-1",
        aws_access_key_id="oneadmin",
        aws_secret_access_key=hashlib.sha1(b"onepass").hexdigest(),
    )
