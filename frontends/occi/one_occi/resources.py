"""What each route does (spec cloud-apis §5.1, §5.5-§5.9), with the guide's authorization.

Authorization (guide §3.3.4; docs/decisions/occi.md): every user may list
and create in every pool; a normal user may act only on entry resources he
owns; oneadmin (uid 0) on all. Networks of uid 0 are also readable and
attachable by everybody (1.4's public networks). A denied entry is 403.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from xml.etree.ElementTree import Element

from one_cloudkit.erb import TemplateError
from one_cloudkit.images import ImageNotFound, ImageRecord, ImageRepository, MalformedImageId
from one_cloudkit.users import CloudUser

from one_core.api import Client, OneClientError
from one_occi import views
from one_occi.config import OcciConfig
from one_occi.errors import OcciError, bad_request, forbidden, malformed, not_found
from one_occi.vmtemplate import ComputeRequest, Disk, Nic, UnsafeValue, render, value
from one_occi.xmlbody import text

STATE_ACTIONS = {
    "stopped": "stop",
    "suspended": "suspend",
    "resume": "resume",
    "cancel": "cancel",
    "shutdown": "shutdown",  # §7 #30: the guide lists it, 1.4 answered 400
    "done": "finalize",
}

_DIGITS = re.compile(r"^\d+$")
_SIZE = re.compile(r"^\d+$")


def _uid(doc: Element) -> int:
    try:
        return int(doc.findtext("UID") or -1)
    except ValueError:
        return -1


class Resources:
    """The handlers; ``client_for(user)`` gives an oned client acting as ``user``."""

    def __init__(
        self,
        config: OcciConfig,
        repo: ImageRepository,
        client_for: Callable[[CloudUser], Client],
        admin: Client,
    ):
        self.config = config
        self.repo = repo
        self.client_for = client_for
        self.admin = admin

    @property
    def base(self) -> str:
        return self.config.base_url

    # -- compute -----------------------------------------------------------------

    def list_computes(self, user: CloudUser) -> bytes:
        pool = self.client_for(user).vmpool_info(-1)
        ids = [int(vm.findtext("ID") or 0) for vm in pool.findall("VM")]  # type: ignore[union-attr]
        return views.compute_pool(ids, self.base)

    def _vm(self, user: CloudUser, vid: int) -> Element:
        try:
            vm = self.client_for(user).vm_info(vid)
        except OneClientError as exc:
            raise not_found(exc.message) from None
        assert isinstance(vm, Element)
        if user.id != 0 and _uid(vm) != user.id:
            raise forbidden("VirtualMachine", vid)
        return vm

    def show_compute(self, user: CloudUser, vid: int) -> bytes:
        return views.compute(self._vm(user, vid), self.base)

    def create_compute(self, user: CloudUser, root: Element) -> tuple[int, bytes]:
        request = self._compute_request(user, root)
        vm_type = self.config.vm_types[request.instance_type]
        try:
            template = render(
                self.config.template_dir / vm_type.get("TEMPLATE", ""),
                request,
                self.config.fs_format,
                self.config.values,
            )
        except UnsafeValue as exc:
            raise bad_request(str(exc)) from None
        except TemplateError as exc:
            raise OcciError(500, str(exc)) from None
        client = self.client_for(user)
        try:
            vid = client.vm_allocate(template)
        except OneClientError as exc:
            raise bad_request(exc.message) from None
        return 201, views.compute(self._vm(user, vid), self.base)

    def _compute_request(self, user: CloudUser, root: Element) -> ComputeRequest:
        """§5.5 steps 2-4 on the parsed body (STORAGE, else the guide's DISKS, §7 #31)."""
        storage = root.find("STORAGE")
        if storage is None:
            storage = root.find("DISKS")
        disks: list[Disk] = []
        if storage is not None:
            groups: dict[str, list[Element]] = {}
            for child in storage:
                if child.tag in ("DISK", "SWAP", "FS"):
                    groups.setdefault(child.tag, []).append(child)
            for tag, elements in groups.items():  # 1.4 (crack): grouped by first appearance
                for el in elements:
                    disks.append(self._disk(user, tag, el))
        nics = [self._nic(user, el) for el in root.findall("NETWORK/NIC")]
        itype = text(root, "INSTANCE_TYPE")
        if itype is None or itype not in self.config.vm_types:
            raise bad_request("Bad instance type")
        return ComputeRequest(name=text(root, "NAME"), instance_type=itype, disks=disks, nics=nics)

    def _disk(self, user: CloudUser, tag: str, el: Element) -> Disk:
        dev = el.get("dev")
        size = el.get("size")
        if size is not None and not _SIZE.match(size.strip()):
            raise bad_request(f"Invalid size ({size}) for {tag}")
        if tag == "SWAP":
            return Disk("swap", dev=dev, size=size)
        if tag == "FS":
            return Disk("fs", dev=dev, size=size, format=el.get("format") or None)
        image_ref = el.get("image")
        if image_ref is None:
            return Disk("disk", dev=dev)
        image = self._image(user, image_ref, invalid=f"Invalid image ({image_ref}) referred")
        return Disk("disk", dev=dev, image_id=image.id, source=image.path)

    def _nic(self, user: CloudUser, el: Element) -> Nic:
        ref = (el.get("network") or "").strip()
        if not _DIGITS.match(ref):
            raise bad_request("Invalid network referred")
        try:
            vn = self.client_for(user).vn_info(int(ref))
        except OneClientError:
            raise bad_request("Invalid network referred") from None
        assert isinstance(vn, Element)
        name = vn.findtext("NAME")
        if not name:
            raise bad_request("Invalid network referred")
        if user.id != 0 and _uid(vn) not in (0, user.id):
            raise forbidden("VirtualNetwork", ref)
        ip = el.get("ip")
        if ip is not None:
            try:
                ipaddress.IPv4Address(ip.strip())
            except ValueError:
                raise bad_request(f"Invalid IP ({ip}) for network {ref}") from None
            ip = ip.strip()
        return Nic(network_id=int(ref), network_name=name, ip=ip)

    def update_compute(self, user: CloudUser, vid: int, root: Element) -> tuple[int, bytes]:
        """§5.6: only STATE is read; the id comes from the URL."""
        self._vm(user, vid)
        state = text(root, "STATE")
        if state is None:
            raise bad_request("State not defined in the OCCI XML")
        action = STATE_ACTIONS.get(state.lower())
        if action is None:
            raise bad_request("Invalid state")
        try:
            self.client_for(user).vm_action(action, vid)
        except OneClientError as exc:
            raise bad_request(exc.message) from None
        return 202, views.compute(self._vm(user, vid), self.base)

    def delete_compute(self, user: CloudUser, vid: int) -> tuple[int, bytes]:
        self._vm(user, vid)
        try:
            self.client_for(user).vm_action("finalize", vid)
        except OneClientError as exc:
            raise OcciError(500, exc.message) from None
        return 204, b""

    # -- network -----------------------------------------------------------------

    def list_networks(self, user: CloudUser) -> bytes:
        """§7 #36: networks of uid 0 plus the caller's own; oneadmin sees all."""
        pool = self.admin.vnpool_info(-2)
        ids = []
        for vn in pool.findall("VNET"):  # type: ignore[union-attr]
            if user.id == 0 or _uid(vn) in (0, user.id):
                ids.append(int(vn.findtext("ID") or 0))
        return views.network_pool(ids, self.base)

    def _vn(self, user: CloudUser, nid: int, *, write: bool = False) -> Element:
        try:
            vn = self.client_for(user).vn_info(nid)
        except OneClientError as exc:
            raise not_found(exc.message) from None
        assert isinstance(vn, Element)
        owners = (user.id,) if write else (0, user.id)
        if user.id != 0 and _uid(vn) not in owners:
            raise forbidden("VirtualNetwork", nid)
        return vn

    def show_network(self, user: CloudUser, nid: int) -> bytes:
        return views.network(self._vn(user, nid))

    def create_network(self, user: CloudUser, root: Element) -> tuple[int, bytes]:
        """§5.8, root ``NIC`` or the guide's ``NETWORK`` (§7 #34)."""
        name = text(root, "NAME")
        if name is None:
            raise bad_request("NAME not defined in the OCCI XML")
        try:
            lines = [f"NAME = {value(name)}", "TYPE = RANGED"]
            if self.config.bridge:
                lines.append(f"BRIDGE = {value(self.config.bridge)}")
            for tag, key in (("ADDRESS", "NETWORK_ADDRESS"), ("SIZE", "NETWORK_SIZE")):
                given = text(root, tag)
                if given is not None:
                    lines.append(f"{key} = {value(given)}")
        except UnsafeValue as exc:
            raise bad_request(str(exc)) from None
        client = self.client_for(user)
        try:
            nid = client.vn_allocate("\n".join(lines) + "\n")
        except OneClientError as exc:
            raise OcciError(500, f"Error creating the Virtual Network: {exc.message}") from None
        return 201, views.network(self._vn(user, nid))

    def delete_network(self, user: CloudUser, nid: int) -> tuple[int, bytes]:
        self._vn(user, nid, write=True)
        try:
            self.client_for(user).vn_delete(nid)
        except OneClientError as exc:
            raise OcciError(500, exc.message) from None
        return 204, b""

    # -- storage -----------------------------------------------------------------

    def _image(self, user: CloudUser, ref: str | int, *, invalid: str | None = None) -> ImageRecord:
        try:
            image = self.repo.get(ref)
        except (ImageNotFound, MalformedImageId):
            if invalid is not None:
                raise bad_request(invalid) from None
            raise not_found(f'Disk with id = "{ref}" not found') from None
        if self.config.image_ownership and not self.repo.may_use(image, user.id):
            raise forbidden("Image", image.id)
        return image

    def list_storage(self, user: CloudUser) -> bytes:
        return views.storage_pool(self.repo.list(owner=user.id), self.base)

    def show_storage(self, user: CloudUser, iid: int) -> bytes:
        return views.disk(self._image(user, iid))

    def delete_storage(self, user: CloudUser, iid: int) -> tuple[int, bytes]:
        """The guide's DELETE (1.4 answered 501): the owner or oneadmin only."""
        try:
            image = self.repo.get(iid)
        except ImageNotFound:
            raise not_found(f'Disk with id = "{iid}" not found') from None
        if not self.repo.may_use(image, user.id):
            raise forbidden("Image", iid)
        self.repo.delete(iid)
        return 204, b""


def disk_metadata(root: Element) -> tuple[str | None, str | None]:
    """NAME and URL of an ``occixml`` DISK document."""
    if root.tag != "DISK":
        raise malformed(f"expected root element DISK, found {root.tag}")
    return text(root, "NAME"), text(root, "URL")
