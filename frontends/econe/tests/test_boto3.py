"""boto3 (SigV4, today's botocore) against econe-server + oned with dummy drivers."""

from __future__ import annotations

import datetime as dt
import http.client

import botocore.auth
import pytest
from botocore.exceptions import ClientError


def _upload(econe_tool, stack, user: str, password: str, image_file) -> str:
    """boto3 cannot call UploadImage (not in its model): use econe-upload."""
    res = econe_tool("econe-upload", str(image_file), env=stack.tool_env(user, password))
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("Success: ImageId ")
    return res.stdout.split()[-1]


def _state(ec2, vid: str) -> str:
    resp = ec2.describe_instances(InstanceIds=[vid])
    (reservation,) = resp["Reservations"]
    (instance,) = reservation["Instances"]
    return instance["State"]["Name"]


def test_boto3_full_cycle(stack, boto3_client, econe_tool, image_file):
    user, password = stack.new_user()
    ec2 = boto3_client(user, password)
    image_id = _upload(econe_tool, stack, user, password, image_file)

    reg = ec2.register_image(Name="gentoo", ImageLocation=image_id)
    assert reg["ImageId"] == image_id
    assert reg["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert reg["ResponseMetadata"]["RequestId"]

    images = ec2.describe_images()["Images"]
    assert [(i["ImageId"], i["OwnerId"], i["State"]) for i in images] == [
        (image_id, user, "available")
    ]
    assert images[0]["ImageLocation"] == str(stack.image_dir / image_id)

    run = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m1.small")
    (inst,) = run["Instances"]
    vid = inst["InstanceId"]
    assert run["OwnerId"] == user
    assert inst["State"] == {"Code": 0, "Name": "pending"}
    assert inst["ImageId"] == image_id
    assert inst["InstanceType"] == "m1.small"
    assert inst["PrivateIpAddress" if "PrivateIpAddress" in inst else "PrivateDnsName"].startswith(
        "192.168.0."
    )
    assert isinstance(inst["LaunchTime"], dt.datetime)

    vm = stack.vm(int(vid))
    assert vm.findtext("TEMPLATE/IMAGE_ID") == image_id
    assert vm.findtext("TEMPLATE/INSTANCE_TYPE") == "m1.small"
    assert vm.findtext("TEMPLATE/DISK/SOURCE") == str(stack.image_dir / image_id)
    assert vm.findtext("NAME") == "eco-vm"

    assert _state(ec2, vid) == "pending"
    stack.deploy(int(vid))
    stack.wait_until(lambda: _state(ec2, vid) == "running", 30, "instance running")
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[vid], WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )

    term = ec2.terminate_instances(InstanceIds=[vid])
    (item,) = term["TerminatingInstances"]
    assert item["InstanceId"] == vid
    assert item["PreviousState"] == {"Code": 16, "Name": "running"}
    assert item["CurrentState"] == {"Code": 32, "Name": "shutting-down"}

    def gone() -> bool:
        reservations = ec2.describe_instances()["Reservations"]
        ids = [i["InstanceId"] for r in reservations for i in r["Instances"]]
        return vid not in ids

    stack.wait_until(gone, 30, "instance done")


def test_wrong_secret_is_auth_failure(stack, boto3_client):
    user, password = stack.new_user()
    ec2 = boto3_client(user, password, secret=password)  # the plain password is not the key
    with pytest.raises(ClientError) as err:
        ec2.describe_images()
    assert err.value.response["Error"]["Code"] == "AuthFailure"
    assert err.value.response["Error"]["Message"] == "Invalid credentials"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_unknown_user_is_auth_failure(stack, boto3_client):
    ec2 = boto3_client("nobody", "x")
    with pytest.raises(ClientError) as err:
        ec2.describe_instances()
    assert err.value.response["Error"]["Code"] == "AuthFailure"


def _flip_last_signature_char(request, **kwargs):
    auth = request.headers["Authorization"]
    auth = auth.decode() if isinstance(auth, bytes) else auth
    request.headers["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")


def _change_image_id(request, **kwargs):
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    assert "ImageId=1&" in body
    request.body = body.replace("ImageId=1&", "ImageId=2&")  # same length


@pytest.mark.parametrize(
    ("tamper", "call"),
    [
        pytest.param(_flip_last_signature_char, lambda ec2: ec2.describe_images(), id="signature"),
        pytest.param(
            _change_image_id,
            lambda ec2: ec2.run_instances(
                ImageId="1", MinCount=1, MaxCount=1, InstanceType="small"
            ),
            id="body",
        ),
    ],
)
def test_tampered_request_is_auth_failure(stack, boto3_client, tamper, call):
    """A request changed after botocore signed it is refused."""
    user, password = stack.new_user()
    ec2 = boto3_client(user, password)
    ec2.meta.events.register_last("before-send.ec2.*", tamper)
    with pytest.raises(ClientError) as err:
        call(ec2)
    assert err.value.response["Error"]["Code"] == "AuthFailure"


def test_stale_request_is_expired(stack, boto3_client, monkeypatch):
    user, password = stack.new_user()
    ec2 = boto3_client(user, password)
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: real() - dt.timedelta(minutes=20)
    )
    with pytest.raises(ClientError) as err:
        ec2.describe_images()
    assert err.value.response["Error"]["Code"] == "RequestExpired"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_replayed_request_is_refused_once_stale(stack, boto3_client, monkeypatch):
    """A request captured 16 minutes ago (its signature valid) is refused when replayed."""
    user, password = stack.new_user()
    captured: dict = {}

    def capture(request, **kwargs):
        captured["headers"] = {
            k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
        }
        captured["body"] = request.body

    def replay() -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", stack.main.port, timeout=10)
        try:
            conn.request("POST", "/", body=captured["body"], headers=captured["headers"])
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    fresh = boto3_client(user, password)
    fresh.meta.events.register_last("before-send.ec2.*", capture)
    fresh.describe_images()
    assert replay()[0] == 200  # inside the window a replay is accepted (as AWS does)

    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda: real() - dt.timedelta(minutes=16)
    )
    old = boto3_client(user, password)
    old.meta.events.register_last("before-send.ec2.*", capture)
    with pytest.raises(ClientError):
        old.describe_images()
    status, body = replay()
    assert status == 400
    assert b"<Code>RequestExpired</Code>" in body


def test_dry_run(stack, boto3_client):
    user, password = stack.new_user()
    ec2 = boto3_client(user, password)
    with pytest.raises(ClientError) as err:
        ec2.describe_images(DryRun=True)
    assert err.value.response["Error"]["Code"] == "DryRunOperation"


def test_filters_and_paging_are_honoured(stack, boto3_client, econe_tool, image_file):
    """Issue 20: a state filter that matches nothing returns nothing; MaxResults pages."""
    user, password = stack.new_user()
    ec2 = boto3_client(user, password)
    image_id = _upload(econe_tool, stack, user, password, image_file)
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId=image_id, MinCount=2, MaxCount=2, InstanceType="small")[
            "Instances"
        ]
    ]
    resp = ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["terminated"]}]
    )
    assert [i for r in resp["Reservations"] for i in r["Instances"]] == []
    first = ec2.describe_instances(MaxResults=5)
    assert "NextToken" not in first
    page = ec2.describe_instances(Filters=[{"Name": "instance-id", "Values": ids}], MaxResults=1)
    assert [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]] == ids[:1]
    rest = ec2.describe_instances(
        Filters=[{"Name": "instance-id", "Values": ids}], MaxResults=1, NextToken=page["NextToken"]
    )
    assert [i["InstanceId"] for r in rest["Reservations"] for i in r["Instances"]] == ids[1:]
    assert "NextToken" not in rest
    ec2.terminate_instances(InstanceIds=ids)
