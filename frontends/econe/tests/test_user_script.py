"""Issue 20's user script: the AWS CLI and boto3 against econe-server + a real oned.

oned runs the dummy drivers and its in-daemon scheduler, so instances reach
``running`` by themselves. Each step checks the answer against what AWS
documents: state codes 0 pending, 16 running, 32 shutting-down, 64 stopping,
80 stopped; error codes and HTTP statuses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from one_core.testing.cloud import sha1_hex, wait_until

AWS = str(Path(sys.executable).parent / "aws")


class User:
    """One OpenNebula user with both clients: ``aws(...)`` (the CLI, JSON) and ``ec2`` (boto3)."""

    def __init__(self, stack: Any, tmp: Path, name: str, password: str):
        self.stack = stack
        self.name = name
        self.password = password
        self.home = tmp
        self.env = {
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "HOME": str(tmp),
            "AWS_ACCESS_KEY_ID": name,
            "AWS_SECRET_ACCESS_KEY": sha1_hex(password),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "aws-credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        }
        self.ec2 = boto3.client(
            "ec2",
            endpoint_url=stack.main.url,
            region_name="us-east-1",
            aws_access_key_id=name,
            aws_secret_access_key=sha1_hex(password),
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def aws(self, *args: str, check: bool = True) -> Any:
        res = subprocess.run(
            [AWS, "ec2", *args, "--endpoint-url", self.stack.main.url, "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if not check:
            return res
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout) if res.stdout.strip() else None

    def instances(self, **kwargs: Any) -> list[dict[str, Any]]:
        resp = self.ec2.describe_instances(**kwargs)
        return [i for r in resp["Reservations"] for i in r["Instances"]]


def _upload(stack: Any, user: User, image_file: Path) -> str:
    res = subprocess.run(
        [str(Path(sys.executable).parent / "econe-upload"), str(image_file)],
        env=stack.tool_env(user.name, user.password),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.split()[-1]


@pytest.fixture
def user(sched_stack, tmp_path) -> User:
    name, password = sched_stack.new_user()
    return User(sched_stack, tmp_path, name, password)


def _ids_in(user: User, state: str, tag: str = "demo") -> list[str]:
    found = user.instances(
        Filters=[
            {"Name": "instance-state-name", "Values": [state]},
            {"Name": "tag:project", "Values": [tag]},
        ]
    )
    return sorted(i["InstanceId"] for i in found)


def test_user_script(sched_stack, user, image_file):
    stack = sched_stack
    image_id = _upload(stack, user, image_file)

    # 1. A key pair (AWS CLI): the private key comes back once, in PEM.
    key = user.aws("create-key-pair", "--key-name", "mykey")
    assert key["KeyName"] == "mykey"
    assert key["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert len(key["KeyFingerprint"].split(":")) == 20  # SHA-1, as AWS for created keys
    private = serialization.load_pem_private_key(key["KeyMaterial"].encode(), None)
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    laptop = ed25519.Ed25519PrivateKey.generate().public_key()
    pub_file = user.home / "laptop.pub"
    pub_file.write_bytes(
        laptop.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        + b" me@laptop\n"
    )
    imported = user.aws(
        "import-key-pair", "--key-name", "laptop", "--public-key-material", f"fileb://{pub_file}"
    )
    assert imported["KeyName"] == "laptop"
    listed = user.aws("describe-key-pairs")["KeyPairs"]
    assert [(k["KeyName"], k["KeyFingerprint"]) for k in listed] == [
        ("mykey", key["KeyFingerprint"]),
        ("laptop", imported["KeyFingerprint"]),
    ]

    # 2. Three tagged instances (AWS CLI --count 3 = MinCount=MaxCount=3), no instance type:
    #    AWS's default m1.small.
    run = user.aws(
        "run-instances",
        "--image-id",
        image_id,
        "--count",
        "3",
        "--key-name",
        "mykey",
        "--tag-specifications",
        "ResourceType=instance,Tags=[{Key=project,Value=demo},{Key=owner,Value=me}]",
    )
    instances = run["Instances"]
    assert len(instances) == 3
    ids = sorted(i["InstanceId"] for i in instances)
    assert [i["AmiLaunchIndex"] for i in instances] == [0, 1, 2]
    for inst in instances:
        assert inst["State"] == {"Code": 0, "Name": "pending"}
        assert inst["InstanceType"] == "m1.small"
        assert inst["KeyName"] == "mykey"
        assert inst["ImageId"] == image_id
        assert sorted((t["Key"], t["Value"]) for t in inst["Tags"]) == [
            ("owner", "me"),
            ("project", "demo"),
        ]
        vm = stack.vm(int(inst["InstanceId"]))
        assert vm.findtext("TEMPLATE/CONTEXT/SSH_KEY") == public  # 1.4 CONTEXT convention
        assert vm.findtext("TEMPLATE/EC2_KEY_NAME") == "mykey"

    # 3. Describe with a state filter and a tag filter (boto3): all three reach running.
    wait_until(lambda: _ids_in(user, "running") == ids, 60, "3 instances running")
    assert _ids_in(user, "pending") == []
    assert _ids_in(user, "running", tag="other") == []
    assert len(user.instances(Filters=[{"Name": "tag-key", "Values": ["owner"]}])) == 3
    running = user.instances(InstanceIds=ids)
    assert {i["State"]["Code"] for i in running} == {16}

    # 4. Stop one (boto3) and start it again (AWS CLI).
    target = ids[0]
    stop = user.ec2.stop_instances(InstanceIds=[target])["StoppingInstances"]
    assert stop == [
        {
            "InstanceId": target,
            "CurrentState": {"Code": 64, "Name": "stopping"},
            "PreviousState": {"Code": 16, "Name": "running"},
        }
    ]
    user.ec2.get_waiter("instance_stopped").wait(
        InstanceIds=[target], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert _ids_in(user, "stopped") == [target]
    assert _ids_in(user, "running") == ids[1:]
    start = user.aws("start-instances", "--instance-ids", target)["StartingInstances"]
    assert start == [
        {
            "InstanceId": target,
            "CurrentState": {"Code": 0, "Name": "pending"},
            "PreviousState": {"Code": 80, "Name": "stopped"},
        }
    ]
    wait_until(lambda: _ids_in(user, "running") == ids, 60, "instance running again")

    # 5. Terminate by filter result (AWS CLI, --query as a user's script would).
    found = user.aws(
        "describe-instances",
        "--filters",
        "Name=tag:project,Values=demo",
        "Name=instance-state-name,Values=running",
        "--query",
        "Reservations[].Instances[].InstanceId",
    )
    assert sorted(found) == ids
    term = user.aws("terminate-instances", "--instance-ids", *found)["TerminatingInstances"]
    assert sorted(t["InstanceId"] for t in term) == ids
    for item in term:
        assert item["CurrentState"] == {"Code": 32, "Name": "shutting-down"}
        assert item["PreviousState"] == {"Code": 16, "Name": "running"}
    user.ec2.get_waiter("instance_terminated").wait(
        InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    gone = user.instances(InstanceIds=ids)
    assert {(i["State"]["Code"], i["State"]["Name"]) for i in gone} == {(48, "terminated")}
    assert _ids_in(user, "running") == []

    # 6. Errors as AWS answers them.
    res = user.aws("describe-instances", "--filters", "Name=no-such-filter,Values=x", check=False)
    assert res.returncode != 0 and "InvalidParameterValue" in res.stderr
    with pytest.raises(ClientError) as err:
        user.ec2.terminate_instances(InstanceIds=["i-999999"])
    assert err.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    user.aws("delete-key-pair", "--key-name", "mykey")
    assert [k["KeyName"] for k in user.aws("describe-key-pairs")["KeyPairs"]] == ["laptop"]
