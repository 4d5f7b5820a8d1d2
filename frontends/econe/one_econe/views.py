"""The response documents of 1.4's ERB views (spec cloud-apis §3.4-3.9).

Namespace ``http://ec2.amazonaws.com/doc/2009-04-04/`` whatever Version was
asked. Two deviations, both invisible to the 1.4 tools: values are
XML-escaped (§7 #39) and a ``<requestId>`` is the first child, which fills
boto3's ``ResponseMetadata.RequestId`` (§8.3 item 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

NAMESPACE = "http://ec2.amazonaws.com/doc/2009-04-04/"


@dataclass(frozen=True)
class Ec2State:
    code: int
    name: str


PENDING = Ec2State(0, "pending")
RUNNING = Ec2State(16, "running")
SHUTTING_DOWN = Ec2State(32, "shutting-down")
TERMINATED = Ec2State(48, "terminated")
STOPPING = Ec2State(64, "stopping")
STOPPED = Ec2State(80, "stopped")


@dataclass(frozen=True)
class InstanceView:
    """What an instance ``item`` shows."""

    instance_id: int
    image_id: str
    state: Ec2State
    ip: str
    instance_type: str
    launch_time: str
    key_name: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    launch_index: int = 0


ZONE = "default"
"""The one availability zone (1.4's ``placement``), also DescribeAvailabilityZones' answer."""


def _e(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _doc(root: str, request_id: str, body: str) -> bytes:
    return (
        f'<{root} xmlns="{NAMESPACE}">\n'
        f"  <requestId>{_e(request_id)}</requestId>\n"
        f"{body}</{root}>\n"
    ).encode()


def register_image(request_id: str, image_id: int) -> bytes:
    """RegisterImageResponse (also UploadImage's answer, §3.4)."""
    return _doc("RegisterImageResponse", request_id, f"  <imageId>{image_id}</imageId>\n")


def describe_images(request_id: str, owner_name: str, images: Iterable[tuple[int, str]]) -> bytes:
    """DescribeImagesResponse; ``images`` are ``(id, path)`` pairs."""
    items = "".join(
        "    <item>\n"
        f"      <imageId>{iid}</imageId>\n"
        f"      <imageLocation>{_e(path)}</imageLocation>\n"
        "      <imageState>available</imageState>\n"
        f"      <imageOwnerId>{_e(owner_name)}</imageOwnerId>\n"
        "      <isPublic>false</isPublic>\n"
        "      <architecture>i386</architecture>\n"
        "      <imageType>machine</imageType>\n"
        "    </item>\n"
        for iid, path in images
    )
    return _doc("DescribeImagesResponse", request_id, f"  <imagesSet>\n{items}  </imagesSet>\n")


def _state(tag: str, state: Ec2State) -> str:
    return f"<{tag}><code>{state.code}</code><name>{state.name}</name></{tag}>"


def _instance_item(vm: InstanceView, indent: str, monitoring: bool) -> str:
    i = indent
    lines = [
        f"{i}<item>",
        f"{i}  <instanceId>{vm.instance_id}</instanceId>",
        f"{i}  <imageId>{_e(vm.image_id)}</imageId>",
        f"{i}  {_state('instanceState', vm.state)}",
        f"{i}  <privateDnsName>{_e(vm.ip)}</privateDnsName>",
        f"{i}  <dnsName>{_e(vm.ip)}</dnsName>",
        f"{i}  <keyName>{_e(vm.key_name or 'default')}</keyName>",
        f"{i}  <amiLaunchIndex>{vm.launch_index}</amiLaunchIndex>",
        f"{i}  <instanceType>{_e(vm.instance_type)}</instanceType>",
        f"{i}  <launchTime>{_e(vm.launch_time)}</launchTime>",
        f"{i}  <placement><availabilityZone>{ZONE}</availabilityZone></placement>",
    ]
    if vm.tags:
        lines.append(f"{i}  <tagSet>{_tag_items(vm.tags)}</tagSet>")
    if monitoring:
        lines.append(f"{i}  <monitoring><enabled>true</enabled></monitoring>")
    lines.append(f"{i}</item>")
    return "\n".join(lines) + "\n"


def _tag_items(tags: Iterable[tuple[str, str]]) -> str:
    return "".join(f"<item><key>{_e(k)}</key><value>{_e(v)}</value></item>" for k, v in tags)


def run_instances(request_id: str, owner_name: str, vms: Iterable[InstanceView]) -> bytes:
    items = "".join(_instance_item(vm, "    ", monitoring=True) for vm in vms)
    body = (
        "  <reservationId>r-47a5402e</reservationId>\n"
        f"  <ownerId>{_e(owner_name)}</ownerId>\n"
        "  <groupSet><item><groupId>default</groupId></item></groupSet>\n"
        f"  <instancesSet>\n{items}  </instancesSet>\n"
    )
    return _doc("RunInstancesResponse", request_id, body)


def describe_instances(
    request_id: str, owner_name: str, vms: Iterable[InstanceView], next_token: str = ""
) -> bytes:
    items = "".join(_instance_item(vm, "        ", monitoring=False) for vm in vms)
    token = f"  <nextToken>{_e(next_token)}</nextToken>\n" if next_token else ""
    body = (
        "  <reservationSet>\n"
        "    <item>\n"
        "      <reservationId>default</reservationId>\n"
        f"      <ownerId>{_e(owner_name)}</ownerId>\n"
        "      <groupSet><item><groupId>default</groupId></item></groupSet>\n"
        f"      <instancesSet>\n{items}      </instancesSet>\n"
        "    </item>\n"
        "  </reservationSet>\n"
        f"{token}"
    )
    return _doc("DescribeInstancesResponse", request_id, body)


def terminate_instances(request_id: str, items: Iterable[tuple[int, Ec2State]]) -> bytes:
    """``items``: ``(instance id, previous state)``; shutdownState is constant (§3.9).

    ``currentState`` (the same value) is added for today's clients: the
    2016-11-15 model botocore uses reads it instead of ``shutdownState``.
    """
    body = "".join(
        "    <item>\n"
        f"      <instanceId>{vid}</instanceId>\n"
        f"      {_state('shutdownState', SHUTTING_DOWN)}\n"
        f"      {_state('currentState', SHUTTING_DOWN)}\n"
        f"      {_state('previousState', prev)}\n"
        "    </item>\n"
        for vid, prev in items
    )
    return _doc(
        "TerminateInstancesResponse", request_id, f"  <instancesSet>\n{body}  </instancesSet>\n"
    )
