"""The EC2 actions, mapped to oned and the image repository (spec cloud-apis §3.4-3.9).

Each handler takes the authenticated :class:`CloudUser` and the request
parameters and returns the response document, or raises :class:`EC2Error`.
The user always comes from the authentication step, never from a parameter
(SigV4 requests have no ``AWSAccessKeyId``).

Ownership is checked by every action (1.4 only did it in RegisterImage;
docs/decisions/econe.md): DescribeImages lists the caller's images;
RegisterImage and RunInstances need the caller's image (oneadmin may run any
image; ``IMAGE_OWNERSHIP = no`` restores 1.4's "any image" for RunInstances);
DescribeInstances asks oned for the caller's VMs (all of them for oneadmin);
TerminateInstances needs the caller's VMs (or oneadmin) before acting.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element

from one_cloudkit.images import (
    ImageNotFound,
    ImageNotOwned,
    ImageRecord,
    ImageRepository,
    MalformedImageId,
)

from one_core.api import Client, OneClientError
from one_econe import views
from one_econe.config import EconeConfig
from one_econe.errors import EC2Error, bad_request, opennebula_error
from one_econe.states import ec2_state, vm_short
from one_econe.templates import TemplateError, render_file
from one_econe.users import CloudUser

log = logging.getLogger("econe")

_INSTANCE_RE = re.compile(r"^(?:i-)?(\d+)$")
_LIST_RE = re.compile(r"^InstanceId\.(\d+)$")

Handler = Callable[[CloudUser, Mapping[str, str], str], bytes]


def parse_instance_id(text: str) -> int:
    """``15`` or ``i-15`` → 15 (§7 #14); otherwise ``InvalidInstanceID.Malformed``."""
    match = _INSTANCE_RE.match(text.strip())
    if match is None:
        raise bad_request(f'Invalid id: "{text}"', "InvalidInstanceID.Malformed")
    return int(match.group(1))


def instance_ids(params: Mapping[str, str]) -> list[str]:
    """The values of ``InstanceId.1..N`` in index order."""
    found = []
    for key, value in params.items():
        match = _LIST_RE.match(key)
        if match:
            found.append((int(match.group(1)), value))
    return [value for _, value in sorted(found)]


def launch_time(stime: str | None) -> str:
    """``STIME`` as Ruby's ``Time.at(t).xmlschema``: local time, numeric offset (§3.7)."""
    try:
        seconds = int(stime or 0)
    except ValueError:
        seconds = 0
    return dt.datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def _image_error(exc: Exception, image_id: str, not_found_status: int) -> EC2Error:
    if isinstance(exc, MalformedImageId):
        return bad_request(f'Invalid id: "{image_id}"', "InvalidAMIID.Malformed")
    if isinstance(exc, ImageNotOwned):
        return EC2Error(401, "AuthFailure", exc.message)
    if isinstance(exc, ImageNotFound):
        return EC2Error(not_found_status, "InvalidAMIID.NotFound", exc.message)
    raise exc


class EconeActions:
    """The six actions of econe-server."""

    def __init__(
        self,
        config: EconeConfig,
        repo: ImageRepository,
        client_for: Callable[[CloudUser], Client],
    ):
        self.config = config
        self.repo = repo
        self.client_for = client_for
        self.handlers: dict[str, Handler] = {
            "RegisterImage": self.register_image,
            "DescribeImages": self.describe_images,
            "RunInstances": self.run_instances,
            "DescribeInstances": self.describe_instances,
            "TerminateInstances": self.terminate_instances,
        }

    # -- images ----------------------------------------------------------------

    def upload_image(self, user: CloudUser, image: ImageRecord, request_id: str) -> bytes:
        """UploadImage's answer, once the app stored the file for ``user`` (§3.4)."""
        return views.register_image(request_id, image.id)

    def register_image(self, user: CloudUser, params: Mapping[str, str], rid: str) -> bytes:
        """Only an ownership check that echoes the id (§3.5): 404 unknown, 401 not owner."""
        location = params.get("ImageLocation", "")
        try:
            image = self.repo.get_owned(location, user.id, admin=False)
        except (ImageNotFound, ImageNotOwned, MalformedImageId) as exc:
            if not location:
                raise EC2Error(404, "InvalidAMIID.NotFound", "Image not found") from None
            raise _image_error(exc, location, 404) from None
        return views.register_image(rid, image.id)

    def describe_images(self, user: CloudUser, params: Mapping[str, str], rid: str) -> bytes:
        """The caller's images, by id (§3.6); parameters are ignored."""
        images = self.repo.list(owner=user.id)
        return views.describe_images(rid, user.name, ((i.id, i.path or "") for i in images))

    # -- instances -------------------------------------------------------------

    def run_instances(self, user: CloudUser, params: Mapping[str, str], rid: str) -> bytes:
        """One VM from the instance type's template (§3.7)."""
        type_name = params.get("InstanceType", "")
        instance_type = self.config.vm_types.get(type_name)
        if instance_type is None:
            raise bad_request("Bad instance type")
        image_id = params.get("ImageId", "")
        try:
            image = self.repo.get(image_id)
        except (ImageNotFound, MalformedImageId) as exc:
            if not image_id or isinstance(exc, ImageNotFound):
                raise EC2Error(400, "InvalidAMIID.NotFound", "Bad image id") from None
            raise _image_error(exc, image_id, 400) from None
        if self.config.image_ownership and not self.repo.may_use(image, user.id):
            raise EC2Error(401, "AuthFailure", "Not permited to use image")
        template_path = self.config.template_dir / instance_type.get("TEMPLATE", "")
        variables: dict[str, Any] = {
            "erb_vm_info": {
                "img_path": image.path,
                "img_id": image.id,
                "instance_type": type_name,
                "template": str(template_path),
            },
            "erb_user_name": user.name,
            "params": dict(params),
            "user": {"id": user.id, "name": user.name},
            "image": {
                "id": image.id,
                "path": image.path,
                "owner": image.owner,
                "size": image.size,
                "md5": image.md5,
            },
            "instance_type": instance_type,
            "@config": self.config.values,
        }
        try:
            text = render_file(template_path, variables)
        except TemplateError as exc:
            log.error("RunInstances: %s", exc)
            raise EC2Error(500, "InternalError", str(exc)) from None
        client = self.client_for(user)
        try:
            vid = client.vm_allocate(text)
        except OneClientError as exc:
            raise opennebula_error(exc.message) from None
        try:
            vm = client.vm_info(vid)
            ip = _first_ip(vm)  # type: ignore[arg-type]
            stime = vm.findtext("STIME")  # type: ignore[union-attr]
        except OneClientError:
            ip, stime = "", None
        view = views.InstanceView(
            instance_id=vid,
            image_id=str(image.id),
            state=views.PENDING,
            ip=ip,
            instance_type=type_name,
            launch_time=launch_time(stime),
        )
        return views.run_instances(rid, user.name, view)

    def describe_instances(self, user: CloudUser, params: Mapping[str, str], rid: str) -> bytes:
        """The caller's VMs (oneadmin: all), one reservation ``default`` (§3.8)."""
        client = self.client_for(user)
        wanted = {parse_instance_id(v) for v in instance_ids(params)}
        try:
            pool = client.vmpool_info(-2 if user.id == 0 else -1)
        except OneClientError as exc:
            log.warning("DescribeInstances: vmpool.info failed: %s", exc)
            pool = None
        vms: list[views.InstanceView] = []
        for node in pool.findall("VM") if pool is not None else []:  # type: ignore[union-attr]
            vid = int(node.findtext("ID") or -1)
            if wanted and vid not in wanted:
                continue
            try:
                vm = client.vm_info(vid)
            except OneClientError:
                vm = node
            vms.append(_instance_view(vid, vm))  # type: ignore[arg-type]
        return views.describe_instances(rid, user.name, vms)

    def terminate_instances(self, user: CloudUser, params: Mapping[str, str], rid: str) -> bytes:
        """Shut down running VMs, finalize the others (§3.9, §7 #13: every InstanceId.N)."""
        raw_ids = instance_ids(params)
        if not raw_ids:
            raise opennebula_error("ID not defined")
        client = self.client_for(user)
        targets: list[tuple[int, str, views.Ec2State]] = []
        for raw in raw_ids:
            vid = parse_instance_id(raw)
            try:
                vm = client.vm_info(vid)
            except OneClientError as exc:
                raise EC2Error(401, "InvalidInstanceID.NotFound", exc.message) from None
            owner = int(vm.findtext("UID") or -1)  # type: ignore[union-attr]
            if owner != user.id and user.id != 0:
                raise EC2Error(
                    401,
                    "UnauthorizedOperation",
                    f"User not authorized to perform operation upon VirtualMachine [{vid}]",
                )
            state, lcm = _states(vm)  # type: ignore[arg-type]
            targets.append((vid, vm_short(state, lcm), ec2_state(state, lcm)))
        done: list[tuple[int, views.Ec2State]] = []
        for vid, short, previous in targets:
            action = "shutdown" if short == "runn" else "finalize"
            try:
                client.vm_action(action, vid)
            except OneClientError as exc:
                raise opennebula_error(exc.message) from None
            done.append((vid, previous))
        return views.terminate_instances(rid, done)


def _states(vm: Element) -> tuple[int, int]:
    return int(vm.findtext("STATE") or 0), int(vm.findtext("LCM_STATE") or 0)


def _first_ip(vm: Element) -> str:
    """The first NIC's IP (§7 #16); empty if there is none."""
    for nic in vm.findall("TEMPLATE/NIC"):
        ip = nic.findtext("IP")
        if ip:
            return ip
    return ""


def _instance_view(vid: int, vm: Element) -> views.InstanceView:
    state, lcm = _states(vm)
    return views.InstanceView(
        instance_id=vid,
        image_id=vm.findtext("TEMPLATE/IMAGE_ID") or "",
        state=ec2_state(state, lcm),
        ip=_first_ip(vm),
        instance_type=vm.findtext("TEMPLATE/INSTANCE_TYPE") or "",
        launch_time=launch_time(vm.findtext("STIME")),
    )
