"""The EC2 API calls the driver makes, with AWS errors turned into :class:`DriverError`."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

from one_core.api import DriverError

NOT_FOUND = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")
"""Error codes of an instance EC2 does not know (gone, or never existed)."""

NOT_READY = ("IncorrectInstanceState", "InvalidInstanceID", "InvalidInstanceID.NotFound")
"""Error codes of an address association tried before the instance runs."""

PORT_SOURCE = "0.0.0.0/0"
"""Where authorized ports are open from (``ec2-authorize``'s default)."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for other errors)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    """``<Code>: <Message>`` of an AWS error, else the exception's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        error = response["Error"]
        code, message = error.get("Code", ""), error.get("Message", "")
        return f"{code}: {message}" if code else str(message)
    return str(exc) or type(exc).__name__


@contextlib.contextmanager
def aws(action: str) -> Iterator[None]:
    """Turn botocore errors inside the block into ``DriverError("EC2 <action> failed: …")``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise DriverError(f"EC2 {action} failed: {error_message(exc)}") from exc


def group_name(ports: tuple[tuple[int, int], ...]) -> str:
    """The group opening exactly ``ports``: ``one-ports-22_80_8000-8010``."""
    items = [str(a) if a == b else f"{a}-{b}" for a, b in ports]
    return "one-ports-" + "_".join(items)


def _tcp_ranges(group: dict[str, Any]) -> set[tuple[int, int]]:
    found = set()
    for perm in group.get("IpPermissions", []):
        if perm.get("IpProtocol") != "tcp":
            continue
        if any(r.get("CidrIp") == PORT_SOURCE for r in perm.get("IpRanges", [])):
            found.add((perm.get("FromPort"), perm.get("ToPort")))
    return found


def _find_group(client: Any, name: str) -> dict[str, Any] | None:
    groups = client.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]
    ).get("SecurityGroups", [])
    return groups[0] if groups else None


def ensure_security_group(client: Any, name: str, ports: tuple[tuple[int, int], ...]) -> str:
    """The id of group ``name``, created if missing, with every TCP range of ``ports`` open."""
    from botocore.exceptions import ClientError

    with aws("security group setup"):
        group = _find_group(client, name)
        if group is None:
            description = "OpenNebula AUTHORIZEDPORTS " + ",".join(
                str(a) if a == b else f"{a}-{b}" for a, b in ports
            )
            try:
                client.create_security_group(GroupName=name, Description=description)
            except ClientError as exc:
                if error_code(exc) != "InvalidGroup.Duplicate":  # created meanwhile
                    raise
            group = _find_group(client, name)
            if group is None:
                raise DriverError(f"EC2 security group {name} could not be created")
        present = _tcp_ranges(group)
        for low, high in ports:
            if (low, high) in present:
                continue
            try:
                client.authorize_security_group_ingress(
                    GroupId=group["GroupId"],
                    IpPermissions=[
                        {
                            "IpProtocol": "tcp",
                            "FromPort": low,
                            "ToPort": high,
                            "IpRanges": [{"CidrIp": PORT_SOURCE}],
                        }
                    ],
                )
            except ClientError as exc:
                if error_code(exc) != "InvalidPermission.Duplicate":
                    raise
        return group["GroupId"]


def associate_address(
    client: Any,
    instance_id: str,
    ip: str,
    *,
    wait: float,
    sleep_delay: float = 5.0,
) -> None:
    """Give ``instance_id`` the elastic IP ``ip``, waiting up to ``wait`` s for it to run.

    A VPC address is associated by its allocation id, a classic one by its
    address. Raises :class:`DriverError` with the AWS message on failure.
    """
    from botocore.exceptions import ClientError, WaiterError

    with aws("AssociateAddress"):
        addresses = client.describe_addresses(PublicIps=[ip]).get("Addresses", [])
        address = addresses[0] if addresses else {}
        if address.get("Domain") == "vpc" and address.get("AllocationId"):
            target = {"AllocationId": address["AllocationId"]}
        else:
            target = {"PublicIp": ip}
        try:
            client.associate_address(InstanceId=instance_id, **target)
            return
        except ClientError as exc:
            if error_code(exc) not in NOT_READY or wait <= 0:
                raise
        try:
            client.get_waiter("instance_running").wait(
                InstanceIds=[instance_id],
                WaiterConfig={
                    "Delay": sleep_delay,
                    "MaxAttempts": max(1, math.ceil(wait / sleep_delay)),
                },
            )
        except WaiterError as exc:
            raise DriverError(
                f"EC2 AssociateAddress failed: {instance_id} did not reach running: {exc}"
            ) from exc
        client.associate_address(InstanceId=instance_id, **target)


def describe_instance(client: Any, instance_id: str) -> dict[str, Any] | None:
    """The instance as DescribeInstances shows it, ``None`` if EC2 does not know it."""
    from botocore.exceptions import ClientError

    with aws("DescribeInstances"):
        try:
            reply = client.describe_instances(InstanceIds=[instance_id])
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                return None
            raise
    for reservation in reply.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            if instance.get("InstanceId") == instance_id:
                return instance
    return None


def terminate(client: Any, instance_id: str, *, missing_ok: bool) -> None:
    """TerminateInstances; an unknown instance is a success when ``missing_ok``."""
    from botocore.exceptions import ClientError

    with aws("TerminateInstances"):
        try:
            client.terminate_instances(InstanceIds=[instance_id])
        except ClientError as exc:
            if not (missing_ok and error_code(exc) in NOT_FOUND):
                raise


def run_instance(client: Any, request: dict[str, Any]) -> str:
    """RunInstances of one instance; its id."""
    with aws("RunInstances"):
        reply = client.run_instances(MinCount=1, MaxCount=1, **request)
    instances = reply.get("Instances") or []
    if not instances or not instances[0].get("InstanceId"):
        raise DriverError("Could not find instance id. Check ec2-describe-instances")
    return instances[0]["InstanceId"]
