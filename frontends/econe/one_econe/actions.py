"""The EC2 actions on images and instances, mapped to oned and the image repository
(spec cloud-apis §3.4-3.9; issue 20 for parameters, defaults and error codes).

Each handler takes the authenticated :class:`CloudUser` and the request
parameters and returns the response document, or raises :class:`EC2Error`.
The user always comes from the authentication step, never from a parameter.
Every parameter an action does not honour fails with ``UnknownParameter``
(:mod:`one_econe.params`); nothing is silently ignored.

Ownership is checked by every action (docs/decisions/econe.md): DescribeImages
lists the caller's images; RegisterImage and RunInstances need the caller's
image (oneadmin may run any image; ``IMAGE_OWNERSHIP = no`` restores 1.4's "any
image" for RunInstances); instance actions see the caller's VMs (oneadmin:
all). The other actions are in :mod:`one_econe.lifecycle` and
:mod:`one_econe.resources`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from one_cloudkit.images import (
    ImageNotFound,
    ImageNotOwned,
    ImageRecord,
    ImageRepository,
    MalformedImageId,
)

from one_core.api import Client, OneClientError, Template
from one_econe import keys, params, views
from one_econe.config import EconeConfig
from one_econe.errors import EC2Error, bad_request, opennebula_error
from one_econe.instances import (
    INSTANCE_FILTERS,
    Instance,
    InstanceLookup,
    matches,
    not_found,
    parse_instance_id,
)
from one_econe.lifecycle import LifecycleActions
from one_econe.resources import ResourceActions, check_tags
from one_econe.store import EconeStore
from one_econe.templates import TemplateError, render_file
from one_econe.users import CloudUser

log = logging.getLogger("econe")

Handler = Callable[[CloudUser, Mapping[str, str], str], bytes]

DEFAULT_INSTANCE_TYPE = "m1.small"
"""AWS's default when RunInstances has no InstanceType."""

MAX_INSTANCES = 100
"""Most instances one RunInstances starts (MaxCount is capped, MinCount refused above it)."""

_IMAGE_RE = re.compile(r"^(?:ami-)?(\d+)$")

_RUN_PARAMS = (
    "ImageId",
    "InstanceType",
    "MinCount",
    "MaxCount",
    "KeyName",
    "ClientToken",
    "AddressingType",
    "Placement.AvailabilityZone",
    "SecurityGroup.N",
    "SecurityGroupId.N",
    "TagSpecification.N.ResourceType",
    "TagSpecification.N.Tag.N.Key",
    "TagSpecification.N.Tag.N.Value",
)
_TEMPLATE_PARAM_RE = re.compile(r"params\[\s*['\"]([A-Za-z0-9_.]+)['\"]\s*\]")


def _image_error(exc: Exception, image_id: str, not_found_status: int) -> EC2Error:
    if isinstance(exc, MalformedImageId):
        return bad_request(f'Invalid id: "{image_id}"', "InvalidAMIID.Malformed")
    if isinstance(exc, ImageNotOwned):
        return EC2Error(403, "UnauthorizedOperation", exc.message)
    if isinstance(exc, ImageNotFound):
        return EC2Error(not_found_status, "InvalidAMIID.NotFound", exc.message)
    raise exc


def with_key_pair(text: str, key_name: str, public_key: str) -> str:
    """The VM template with ``EC2_KEY_NAME`` and the key in ``CONTEXT/SSH_KEY``.

    A CONTEXT the instance type's template has is kept and extended; the
    guest's context scripts read ``SSH_KEY`` from context.sh (docs/econe.md).
    """
    template = Template.parse(text + "\n")
    template.set("EC2_KEY_NAME", key_name)
    context = dict(template.vector("CONTEXT") or {})
    context["SSH_KEY"] = public_key
    template.set("CONTEXT", context)
    return template.to_text()


class EconeActions:
    """Every EC2 action econe-server answers, by name in :attr:`handlers`."""

    def __init__(
        self,
        config: EconeConfig,
        repo: ImageRepository,
        client_for: Callable[[CloudUser], Client],
        store: EconeStore | None = None,
    ):
        self.config = config
        self.repo = repo
        self.client_for = client_for
        self.store = store or EconeStore(repo.db)
        self.handlers: dict[str, Handler] = {
            "RegisterImage": self.register_image,
            "DescribeImages": self.describe_images,
            "RunInstances": self.run_instances,
            "DescribeInstances": self.describe_instances,
            "TerminateInstances": self.terminate_instances,
        }
        self.handlers.update(LifecycleActions(self.lookup).handlers)
        self.handlers.update(ResourceActions(config, self.store, self.lookup).handlers)

    def lookup(self, user: CloudUser) -> InstanceLookup:
        return InstanceLookup(self.client_for(user), user, self.store)

    # -- images ----------------------------------------------------------------

    def upload_image(self, user: CloudUser, image: ImageRecord, request_id: str) -> bytes:
        """UploadImage's answer, once the app stored the file for ``user`` (§3.4)."""
        return views.register_image(request_id, image.id)

    def register_image(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Only an ownership check that echoes the id (§3.5): 404 unknown, 403 not owner.

        ``Name`` and ``Description`` are accepted as boto3 sends them (RegisterImage
        stores nothing, §7 #19).
        """
        params.check_known(p, params.pattern("ImageLocation", "Name", "Description"))
        location = p.get("ImageLocation", "")
        try:
            image = self.repo.get_owned(location, user.id, admin=False)
        except (ImageNotFound, ImageNotOwned, MalformedImageId) as exc:
            if not location:
                raise EC2Error(404, "InvalidAMIID.NotFound", "Image not found") from None
            raise _image_error(exc, location, 404) from None
        return views.register_image(rid, image.id)

    def describe_images(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """The caller's images (§3.6), narrowed by ``ImageId.N``, ``Owner.N`` and filters."""
        params.check_known(p, params.pattern("ImageId.N", "Owner.N", *params.FILTERS))
        flts = params.filters(p, ("image-id", "owner-id", "owner-alias", "state", "image-type"))
        images = self.repo.list(owner=user.id)
        wanted = params.indexed(p, "ImageId")
        if wanted:
            by_id = {str(i.id): i for i in images}
            picked = []
            for raw in wanted:
                match = _IMAGE_RE.match(raw.strip())
                if match is None:
                    raise bad_request(f'Invalid id: "{raw}"', "InvalidAMIID.Malformed")
                if str(int(match.group(1))) not in by_id:
                    raise bad_request(
                        f"The image id '[{raw}]' does not exist", "InvalidAMIID.NotFound"
                    )
                picked.append(by_id[str(int(match.group(1)))])
            images = picked
        owners = params.indexed(p, "Owner")
        if owners and not {"self", user.name, str(user.id)} & set(owners):
            images = []
        fields: dict[str, Callable[[ImageRecord], list[str]]] = {
            "image-id": lambda i: [str(i.id), f"ami-{i.id}"],
            "owner-id": lambda i: [user.name, str(user.id)],
            "owner-alias": lambda i: ["self"],
            "state": lambda i: ["available"],
            "image-type": lambda i: ["machine"],
        }
        images = [i for i in images if all(f.matches(fields[f.name](i)) for f in flts)]
        return views.describe_images(rid, user.name, ((i.id, i.path or "") for i in images))

    # -- instances -------------------------------------------------------------

    def _run_image(self, user: CloudUser, image_id: str) -> ImageRecord:
        try:
            image = self.repo.get(image_id)
        except (ImageNotFound, MalformedImageId) as exc:
            if not image_id or isinstance(exc, ImageNotFound):
                raise EC2Error(400, "InvalidAMIID.NotFound", "Bad image id") from None
            raise _image_error(exc, image_id, 400) from None
        if self.config.image_ownership and not self.repo.may_use(image, user.id):
            raise EC2Error(403, "UnauthorizedOperation", "Not permited to use image")
        return image

    def _check_placement(self, p: Mapping[str, str]) -> None:
        """The one zone, the default group, and ``AddressingType=public`` (the 1.4 gem's)."""
        if p.get("AddressingType", "public") != "public":
            raise bad_request(f"Invalid AddressingType: {p['AddressingType']}")
        zone = p.get("Placement.AvailabilityZone")
        if zone is not None and zone != views.ZONE:
            raise bad_request(f"Invalid availability zone: [{zone}]")
        for group in params.indexed(p, "SecurityGroup") + params.indexed(p, "SecurityGroupId"):
            if group not in ("default", "sg-default"):
                raise EC2Error(
                    400, "InvalidGroup.NotFound", f"The security group '{group}' does not exist"
                )

    def run_instances(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """MaxCount VMs (at least MinCount, or none) from the instance type's template (§3.7).

        Also honours KeyName (the public key in CONTEXT), TagSpecification.N
        (``instance`` tags), ClientToken (idempotency), the default zone and group.
        Parameters the type's template reads as ``params['X']`` are accepted too.
        """
        type_name = p.get("InstanceType", DEFAULT_INSTANCE_TYPE)
        instance_type = self.config.vm_types.get(type_name)
        if instance_type is None:
            raise bad_request("Bad instance type")
        template_path = self.config.template_dir / instance_type.get("TEMPLATE", "")
        try:
            used = _TEMPLATE_PARAM_RE.findall(template_path.read_text())
        except OSError:
            used = []
        params.check_known(p, params.pattern(*_RUN_PARAMS, *used))
        min_count = params.integer(p, "MinCount", 1, minimum=1)
        max_count = params.integer(p, "MaxCount", min_count, minimum=1)
        if max_count < min_count:
            raise bad_request("MaxCount must be greater than or equal to MinCount")
        if min_count > MAX_INSTANCES:
            raise EC2Error(
                400,
                "InstanceLimitExceeded",
                f"At most {MAX_INSTANCES} instances can be started by one request",
            )
        max_count = min(max_count, MAX_INSTANCES)
        token = p.get("ClientToken", "")
        if token:
            earlier = self.store.run_token(user.id, token)
            if earlier is not None:
                return self._run_answer(user, earlier, rid)
        image = self._run_image(user, p.get("ImageId", ""))
        self._check_placement(p)
        tags = params.tag_specifications(p, "instance")
        check_tags(tags)
        key = None
        if "KeyName" in p:
            key = self.store.key_pair(user.id, keys.check_name(p["KeyName"]))
            if key is None:
                raise EC2Error(
                    400, "InvalidKeyPair.NotFound", f"The key pair '{p['KeyName']}' does not exist"
                )
        text = self._render(user, image, type_name, instance_type, template_path, p)
        if key is not None:
            text = with_key_pair(text, key.name, key.public_key)
        vids = self._allocate(user, text, min_count, max_count)
        if tags:
            self.store.set_tags(vids, tags)
        if token:
            self.store.save_run_token(user.id, token, vids)
        return self._run_answer(user, vids, rid)

    def _render(
        self,
        user: CloudUser,
        image: ImageRecord,
        type_name: str,
        instance_type: dict[str, str],
        template_path: Any,
        p: Mapping[str, str],
    ) -> str:
        variables: dict[str, Any] = {
            "erb_vm_info": {
                "img_path": image.path,
                "img_id": image.id,
                "instance_type": type_name,
                "template": str(template_path),
            },
            "erb_user_name": user.name,
            "params": dict(p),
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
            return render_file(template_path, variables)
        except TemplateError as exc:
            log.error("RunInstances: %s", exc)
            raise EC2Error(500, "InternalError", str(exc)) from None

    def _allocate(self, user: CloudUser, text: str, min_count: int, max_count: int) -> list[int]:
        """Allocate up to ``max_count`` VMs; fewer than ``min_count``: finalize them, fail."""
        client = self.client_for(user)
        vids: list[int] = []
        failure = ""
        for _ in range(max_count):
            try:
                vids.append(client.vm_allocate(text))
            except OneClientError as exc:
                failure = exc.message
                break
        if len(vids) >= min_count:
            if failure:
                log.info("RunInstances: %d of %d started (%s)", len(vids), max_count, failure)
            return vids
        for vid in vids:
            try:
                client.vm_action("finalize", vid)
            except OneClientError as exc:
                log.error("RunInstances: cannot finalize VM %d: %s", vid, exc.message)
        if min_count == 1:
            raise opennebula_error(failure)
        raise EC2Error(
            500,
            "InsufficientInstanceCapacity",
            f"Only {len(vids)} of MinCount {min_count} instances could be started, "
            f"none was kept: {failure}",
        )

    def _run_answer(self, user: CloudUser, vids: list[int], rid: str) -> bytes:
        lookup = self.lookup(user)
        items = []
        for index, vid in enumerate(vids):
            try:
                vm = lookup.client.vm_info(vid)
            except OneClientError:
                continue
            tags = self.store.tags([vid]).get(vid, {})
            # AWS answers every instance it launched as pending, whatever it is by now
            view = Instance(vid, vm, tags).view(launch_index=index, state=views.PENDING)  # type: ignore[arg-type]
            items.append(view)
        return views.run_instances(rid, user.name, items)

    def describe_instances(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """The caller's VMs (oneadmin: all), one reservation ``default`` (§3.8).

        ``InstanceId.N`` (``InvalidInstanceID.NotFound`` for any not visible; the
        caller's DONE VMs are ``terminated``, so boto3's ``instance_terminated`` waiter works),
        ``Filter.N`` (:data:`INSTANCE_FILTERS` and ``tag:<key>``) and
        ``MaxResults``/``NextToken`` paging.
        """
        params.check_known(p, params.pattern("InstanceId.N", *params.FILTERS, *params.PAGING))
        flts = params.filters(p, INSTANCE_FILTERS, tags=True)
        wanted = params.indexed(p, "InstanceId")
        if wanted and ("MaxResults" in p or "NextToken" in p):
            raise EC2Error(
                400,
                "InvalidParameterCombination",
                "The parameter instancesSet cannot be used with the parameter maxResults",
            )
        instances = self.lookup(user).visible()
        if wanted:
            by_id = {i.vid: i for i in instances}
            picked = []
            lookup = self.lookup(user)
            for raw in wanted:
                vid = parse_instance_id(raw)
                inst = by_id.get(vid) or lookup.terminated(raw)
                if inst is None:
                    raise not_found(raw)
                picked.append(inst)
            instances = picked
        instances = [i for i in instances if matches(i, flts)]
        page, token = params.page(instances, p)
        return views.describe_instances(rid, user.name, [i.view() for i in page], token)

    def terminate_instances(self, user: CloudUser, p: Mapping[str, str], rid: str) -> bytes:
        """Shut down running VMs, finalize the others (§3.9, §7 #13: every InstanceId.N,
        all looked up and ownership-checked before any is touched)."""
        params.check_known(p, params.pattern("InstanceId.N"))
        lookup = self.lookup(user)
        targets = lookup.get_all(params.indexed(p, "InstanceId"))
        done: list[tuple[int, views.Ec2State]] = []
        for inst in targets:
            action = "shutdown" if inst.short == "runn" else "finalize"
            try:
                lookup.client.vm_action(action, inst.vid)
            except OneClientError as exc:
                raise opennebula_error(exc.message) from None
            done.append((inst.vid, inst.state))
        return views.terminate_instances(rid, done)
