"""Instances as the EC2 actions see them: look-up with ownership, views and filters.

An instance is an OpenNebula VM; its key pair name is the VM template's
``EC2_KEY_NAME`` (written by RunInstances), its tags live in econe's store
(:mod:`one_econe.store`, 1.4 has no ``one.vm.update``). ``one.vmpool.info``
does not list DONE VMs, so terminated instances disappear from listings once
oned is done with them; asked for by id, the caller's DONE VMs are ``terminated``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from one_core.api import Client, OneClientError, VmState
from one_econe import views
from one_econe.errors import EC2Error, bad_request
from one_econe.params import Filter
from one_econe.states import ec2_state, vm_short
from one_econe.store import EconeStore
from one_econe.users import CloudUser

_INSTANCE_RE = re.compile(r"^(?:i-)?(\d+)$")


def parse_instance_id(text: str) -> int:
    """``15`` or ``i-15`` → 15 (§7 #14); otherwise ``InvalidInstanceID.Malformed``."""
    match = _INSTANCE_RE.match(text.strip())
    if match is None:
        raise bad_request(f'Invalid id: "{text}"', "InvalidInstanceID.Malformed")
    return int(match.group(1))


def not_found(raw: str) -> EC2Error:
    """400 ``InvalidInstanceID.NotFound`` (AWS's status and wording)."""
    return EC2Error(400, "InvalidInstanceID.NotFound", f"The instance ID '{raw}' does not exist")


def unauthorized(vid: int) -> EC2Error:
    """403 ``UnauthorizedOperation`` with oned's own wording."""
    return EC2Error(
        403,
        "UnauthorizedOperation",
        f"User not authorized to perform operation upon VirtualMachine [{vid}]",
    )


def launch_time(stime: str | None) -> str:
    """``STIME`` as Ruby's ``Time.at(t).xmlschema``: local time, numeric offset (§3.7)."""
    try:
        seconds = int(stime or 0)
    except ValueError:
        seconds = 0
    return dt.datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def vm_states(vm: Element) -> tuple[int, int]:
    return int(vm.findtext("STATE") or 0), int(vm.findtext("LCM_STATE") or 0)


def first_ip(vm: Element) -> str:
    """The first NIC's IP (§7 #16); empty if there is none."""
    for nic in vm.findall("TEMPLATE/NIC"):
        ip = nic.findtext("IP")
        if ip:
            return ip
    return ""


@dataclass(frozen=True)
class Instance:
    """One VM as read from oned, with its econe tags."""

    vid: int
    vm: Element
    tags: Mapping[str, str]

    @property
    def state(self) -> views.Ec2State:
        return ec2_state(*vm_states(self.vm))

    @property
    def short(self) -> str:
        return vm_short(*vm_states(self.vm))

    def view(
        self, launch_index: int = 0, state: views.Ec2State | None = None
    ) -> views.InstanceView:
        """The instance as EC2 shows it (``state``: what to report instead of the current one)."""
        vm = self.vm
        return views.InstanceView(
            instance_id=self.vid,
            image_id=vm.findtext("TEMPLATE/IMAGE_ID") or "",
            state=state or self.state,
            ip=first_ip(vm),
            instance_type=vm.findtext("TEMPLATE/INSTANCE_TYPE") or "",
            launch_time=launch_time(vm.findtext("STIME")),
            key_name=vm.findtext("TEMPLATE/EC2_KEY_NAME") or "",
            tags=tuple(sorted(self.tags.items())),
            launch_index=launch_index,
        )


INSTANCE_FILTERS: dict[str, Callable[[Instance], list[str]]] = {
    "instance-id": lambda i: [str(i.vid), f"i-{i.vid}"],
    "instance-state-name": lambda i: [i.state.name],
    "instance-state-code": lambda i: [str(i.state.code)],
    "image-id": lambda i: [i.vm.findtext("TEMPLATE/IMAGE_ID") or ""],
    "instance-type": lambda i: [i.vm.findtext("TEMPLATE/INSTANCE_TYPE") or ""],
    "key-name": lambda i: [i.vm.findtext("TEMPLATE/EC2_KEY_NAME") or ""],
    "tag-key": lambda i: list(i.tags),
    "tag-value": lambda i: list(i.tags.values()),
    "availability-zone": lambda i: [views.ZONE],
    "ip-address": lambda i: [first_ip(i.vm)],
    "private-ip-address": lambda i: [first_ip(i.vm)],
    "dns-name": lambda i: [first_ip(i.vm)],
    "reservation-id": lambda i: ["default"],
}
"""Filter names DescribeInstances honours (plus ``tag:<key>``) → the values they test."""


def matches(instance: Instance, filters: list[Filter]) -> bool:
    """AND across filters, OR across one filter's values (AWS semantics)."""
    for flt in filters:
        if flt.name.startswith("tag:"):
            key = flt.name[4:]
            values = [instance.tags[key]] if key in instance.tags else []
        else:
            values = INSTANCE_FILTERS[flt.name](instance)
        if not flt.matches(values):
            return False
    return True


class InstanceLookup:
    """Reads VMs for a user: the visible ones, or listed ids with AWS's errors."""

    def __init__(self, client: Client, user: CloudUser, store: EconeStore):
        self.client = client
        self.user = user
        self.store = store

    def visible(self) -> list[Instance]:
        """The caller's VMs (oneadmin: all), by id, each read with ``one.vm.info``."""
        try:
            pool = self.client.vmpool_info(-2 if self.user.id == 0 else -1)
        except OneClientError as exc:
            raise EC2Error(500, "InternalError", f"one.vmpool.info: {exc.message}") from None
        vids = [int(node.findtext("ID") or -1) for node in pool.findall("VM")]  # type: ignore[union-attr]
        tags = self.store.tags(vids)
        found = []
        for node in pool.findall("VM"):  # type: ignore[union-attr]
            vid = int(node.findtext("ID") or -1)
            try:
                vm = self.client.vm_info(vid)
            except OneClientError:
                vm = node
            found.append(Instance(vid, vm, tags.get(vid, {})))  # type: ignore[arg-type]
        return found

    def get(self, raw: str) -> Instance:
        """One listed id: ``InvalidInstanceID.Malformed``/``NotFound`` (oned's message; also
        for DONE VMs),
        or 403 ``UnauthorizedOperation`` when the VM is another user's."""
        vid = parse_instance_id(raw)
        try:
            vm = self.client.vm_info(vid)
        except OneClientError as exc:  # oned's message, as the 1.4 tools print it
            raise EC2Error(400, "InvalidInstanceID.NotFound", exc.message) from None
        if int(vm.findtext("STATE") or 0) == VmState.DONE:  # type: ignore[union-attr]
            raise not_found(raw)
        owner = int(vm.findtext("UID") or -1)  # type: ignore[union-attr]
        if owner != self.user.id and self.user.id != 0:
            raise unauthorized(vid)
        return Instance(vid, vm, self.store.tags([vid]).get(vid, {}))  # type: ignore[arg-type]

    def terminated(self, raw: str) -> Instance | None:
        """A DONE VM of the caller's by id (``one.vmpool.info`` no longer lists it), else
        ``None``: DescribeInstances shows it as ``terminated``, as AWS does for a while."""
        try:
            vid = parse_instance_id(raw)
            vm = self.client.vm_info(vid)
        except (OneClientError, EC2Error):
            return None
        owner = int(vm.findtext("UID") or -1)  # type: ignore[union-attr]
        done = int(vm.findtext("STATE") or 0) == VmState.DONE  # type: ignore[union-attr]
        if not done or (owner != self.user.id and self.user.id != 0):
            return None
        return Instance(vid, vm, self.store.tags([vid]).get(vid, {}))  # type: ignore[arg-type]

    def get_all(self, raws: list[str]) -> list[Instance]:
        """Every listed id, all checked before the caller acts on any (§7 #13)."""
        if not raws:
            raise EC2Error(
                400, "MissingParameter", "The request must contain the parameter InstanceId"
            )
        return [self.get(raw) for raw in raws]
