"""``one.vn.*`` and ``one.vnpool.info`` of the modern dialect (the 1.4 network pool).

Address ranges (``AR = [ TYPE = IP4, IP = ..., SIZE = ... ]``) become 1.4
FIXED leases, one per address; a 1.4 template (``TYPE = RANGED`` /
``FIXED``, no ``AR``) is taken as it is. Documents show a RANGED network as one
range and each lease of a FIXED one as a range of size 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.leases import ip_str, mac_str, parse_ip, parse_mac
from one_core.pools.vnet import VNetAllocateError
from one_core.rpc.modern import errors
from one_core.rpc.modern.api import Call, api, unsupported
from one_core.rpc.modern.documents import vnet_xml
from one_core.rpc.modern.errors import ApiError, not_supported
from one_core.rpc.modern.paging import page
from one_core.template import Template, TemplateSyntaxError

if TYPE_CHECKING:
    from one_core.pools.vnet import VirtualNetwork, VNetPool

MAX_ADDRESSES = 4096
"""Most addresses a template's ranges may hold (each is a stored 1.4 lease)."""


def _pool(call: Call) -> VNetPool:
    return call.core.need_vnet()


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(errors.ALLOCATE, f"{what} must be an integer, not {value!r}.") from None


def ranges_to_leases(template: Template) -> Template:
    """Replace the ``AR`` vectors of ``template`` by 1.4 FIXED ``LEASES`` (in place).

    :raises ApiError: ALLOCATE for a range that is not IPv4, malformed, or too large.
    """
    ranges = template.remove("AR")
    if not ranges:
        return template
    leases: list[dict[str, str]] = []
    for ar in ranges:
        if not isinstance(ar, dict):
            raise ApiError(errors.ALLOCATE, "AR must be a vector attribute.")
        kind = ar.get("TYPE", "").upper()
        if kind != "IP4":
            raise not_supported(f"Address range type {kind or '(none)'!r}", errors.ALLOCATE)
        ip = parse_ip(ar.get("IP", ""))
        if ip is None:
            raise ApiError(errors.ALLOCATE, f"Wrong IP {ar.get('IP', '')!r} in address range.")
        size = _int(ar.get("SIZE", ""), "SIZE")
        mac = parse_mac(ar["MAC"]) if ar.get("MAC") else None
        if size < 1 or len(leases) + size > MAX_ADDRESSES:
            raise ApiError(
                errors.ALLOCATE, f"Address ranges must hold 1 to {MAX_ADDRESSES} addresses."
            )
        for i in range(size):
            lease = {"IP": ip_str(ip + i)}
            if mac is not None:
                lease["MAC"] = mac_str(mac + i)
            leases.append(lease)
    template.set("TYPE", "FIXED")
    template.remove("LEASES")
    for lease in leases:
        template.add("LEASES", lease)
    return template


@api("one.vn.allocate", "A:ss", "Allocates a new virtual network", optional="i")
def vn_allocate(call: Call, text: str, cluster: int = -1) -> int:
    if cluster not in (-1, 0):
        raise not_supported("Clusters other than 0 (default)", errors.ALLOCATE)
    try:
        template = Template.parse(text + "\n")
    except TemplateSyntaxError as exc:
        raise ApiError(errors.ALLOCATE, f"Error parsing template: {exc}") from None
    name = template.get("NAME")
    if not name:
        raise ApiError(errors.ALLOCATE, "No NAME in template.")
    pool = _pool(call)
    taken = pool.get_by_name(name)
    if taken is not None:
        raise ApiError(errors.ALLOCATE, f"NAME is already taken by NET {taken.oid}.")
    try:
        return call.core.writes.vnet_allocate_template(call.uid, ranges_to_leases(template))
    except VNetAllocateError as exc:
        raise ApiError(errors.ALLOCATE, f"Error allocating virtual network: {exc}") from None


def _visible(call: Call, nid: int) -> VirtualNetwork:
    net = _pool(call).get(nid)
    if net is None:
        raise call.missing("virtual network", nid)
    if not net.can_be_used_by(call.uid):
        call.authorize("USE", "NET", nid, net.uid)
    return net


@api("one.vn.info", "A:si", "Returns virtual network information", optional="b")
def vn_info(call: Call, nid: int, decrypt: bool = False) -> str:
    net = _visible(call, nid)
    return vnet_xml(net, call.core.users.name_of(net.uid))


@api("one.vn.delete", "A:si", "Deletes a virtual network")
def vn_delete(call: Call, nid: int) -> int:
    pool = _pool(call)
    net = pool.get(nid)
    if net is None:
        raise call.missing("virtual network", nid)
    call.authorize("MANAGE", "NET", nid, net.uid)
    if net.leases.used_count():
        raise ApiError(errors.ACTION, "Cannot delete a virtual network with leases in use.")
    if not call.core.writes.vnet_delete(nid):
        raise ApiError(errors.INTERNAL, f"Error deleting virtual network [{nid}].")
    return nid


@api("one.vnpool.info", "A:siii", "Returns the virtual network pool")
def vnpool_info(call: Call, flag: int, start: int, end: int) -> str:
    if flag < -4:
        raise ApiError(errors.XML_RPC_API, f"Incorrect filter_flag {flag}.")
    pool = _pool(call)
    nets = [pool.get(i) for i in pool.ids()]
    mine_only = flag in (-3,) or (flag in (-1, -4) and call.is_admin)
    chosen = [
        n
        for n in nets
        if n is not None
        and n.can_be_used_by(call.uid)
        and (not mine_only or n.uid == call.uid)
        and (flag < 0 or n.uid == flag)
    ]
    name_of = call.core.users.name_of
    body = "".join(vnet_xml(n, name_of(n.uid)) for n in page(chosen, lambda n: n.oid, start, end))
    return f"<VNET_POOL>{body}</VNET_POOL>"


unsupported(
    [
        f"one.vn.{m}"
        for m in (
            "add_ar", "rm_ar", "update_ar", "reserve", "free_ar", "hold", "release", "update",
            "chmod", "chown", "rename", "lock", "unlock", "recover",
        )
    ],
    "This virtual network operation",
    errors.ACTION,
)  # fmt: skip
