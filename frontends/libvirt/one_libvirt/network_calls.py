"""The REMOTE procedures on networks: OpenNebula's virtual networks as libvirt networks.

Every virtual network the user may use is a libvirt network that is active, persistent and
autostarted (it exists as long as oned has it); its UUID is derived from the network id
(:func:`net_uuid`). ``virNetworkGetXMLDesc`` shows the bridge and, for a RANGED network, the
address range; for a FIXED one, the leases as DHCP hosts. Defining, starting, stopping or
changing networks through libvirt is not supported (``onevnet`` does that).
"""

from __future__ import annotations

import ipaddress
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from one_libvirt.domains import uuid_string
from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session, handles, ret_int
from one_libvirt.protocol import DOMAIN_LIST_MAX, UUID_LEN, ErrCode, ErrDomain, Proc
from one_libvirt.xdr import Packer, Unpacker

NET_UUID_PREFIX = bytes.fromhex("4f4e4500000040008001")
"""First 10 bytes of every network UUID; the last 6 are the network id (big-endian)."""

ERR_FROM_NETWORK = 19  # VIR_FROM_NETWORK

# virConnectListAllNetworksFlags
LIST_INACTIVE, LIST_ACTIVE, LIST_PERSISTENT, LIST_TRANSIENT = 1, 2, 4, 8
LIST_AUTOSTART, LIST_NO_AUTOSTART = 16, 32

_CLASS_PREFIX = {"A": 8, "B": 16, "C": 24}
RANGED = "0"  # VNET TYPE
DEFAULT_SIZE_PREFIX = 24
"""oned's default NETWORK_SIZE (254 hosts)."""


def net_uuid(nid: int) -> bytes:
    return NET_UUID_PREFIX + nid.to_bytes(6, "big")


def _nid(el: Element) -> int:
    return int(el.findtext("ID") or "-1")


def _pack_net(p: Packer, el: Element) -> Packer:
    """``remote_nonnull_network``: name, uuid."""
    p.string(el.findtext("NAME") or "")
    return p.fixed_opaque(net_uuid(_nid(el)), UUID_LEN)


def _no_network(what: str) -> LibvirtError:
    return LibvirtError(ErrCode.NO_NETWORK, f"Network not found: {what}", ERR_FROM_NETWORK)


def _by_name(s: Session, name: str) -> Element:
    for el in s.domains.oned.vnets():
        if el.findtext("NAME") == name:
            return el
    raise _no_network(f"no network with matching name '{name}'")


def _net_arg(s: Session, u: Unpacker) -> Element:
    """The network a handle names (by its UUID, else by name)."""
    name = u.string()
    uuid = u.fixed_opaque(UUID_LEN)
    if uuid.startswith(NET_UUID_PREFIX):
        nid = int.from_bytes(uuid[10:], "big")
        for el in s.domains.oned.vnets():
            if _nid(el) == nid:
                return el
        raise _no_network(f"no network with matching uuid '{uuid_string(uuid)}'")
    return _by_name(s, name)


def _names(s: Session, u: Unpacker) -> list[str]:
    maxnames = u.int()
    u.done()
    if maxnames < 0 or maxnames > DOMAIN_LIST_MAX:
        raise LibvirtError(ErrCode.RPC, f"too many networks requested: {maxnames}", ErrDomain.RPC)
    return [el.findtext("NAME") or "" for el in s.domains.oned.vnets()][:maxnames]


@handles(Proc.CONNECT_NUM_OF_NETWORKS)
def num_of_networks(s: Session, u: Unpacker) -> bytes:
    u.done()
    return ret_int(len(s.domains.oned.vnets()))


@handles(Proc.CONNECT_LIST_NETWORKS)
def list_networks(s: Session, u: Unpacker) -> bytes:
    names = _names(s, u)
    return Packer().array(names, Packer.string).bytes()


@handles(Proc.CONNECT_NUM_OF_DEFINED_NETWORKS)
def num_of_defined_networks(s: Session, u: Unpacker) -> bytes:
    u.done()
    return ret_int(0)  # every network is active


@handles(Proc.CONNECT_LIST_DEFINED_NETWORKS)
def list_defined_networks(s: Session, u: Unpacker) -> bytes:
    _names(s, u)
    return Packer().uint(0).bytes()


@handles(Proc.CONNECT_LIST_ALL_NETWORKS)
def list_all_networks(s: Session, u: Unpacker) -> bytes:
    need_results = u.int()
    flags = u.uint()
    u.done()
    # Every network is active, persistent and autostarted: a filter asking only for the
    # opposite of one of these matches nothing.
    excluded = any(
        flags & (no | yes) == no
        for yes, no in (
            (LIST_ACTIVE, LIST_INACTIVE),
            (LIST_PERSISTENT, LIST_TRANSIENT),
            (LIST_AUTOSTART, LIST_NO_AUTOSTART),
        )
    )
    nets = [] if excluded else s.domains.oned.vnets()
    p = Packer().array(nets if need_results else [], _pack_net)
    return p.uint(len(nets)).bytes()


@handles(Proc.NETWORK_LOOKUP_BY_NAME)
def lookup_by_name(s: Session, u: Unpacker) -> bytes:
    name = u.string()
    u.done()
    return _pack_net(Packer(), _by_name(s, name)).bytes()


@handles(Proc.NETWORK_LOOKUP_BY_UUID)
def lookup_by_uuid(s: Session, u: Unpacker) -> bytes:
    uuid = u.fixed_opaque(UUID_LEN)
    u.done()
    if uuid.startswith(NET_UUID_PREFIX):
        nid = int.from_bytes(uuid[10:], "big")
        for el in s.domains.oned.vnets():
            if _nid(el) == nid:
                return _pack_net(Packer(), el).bytes()
    raise _no_network(f"no network with matching uuid '{uuid_string(uuid)}'")


@handles(Proc.NETWORK_IS_ACTIVE, Proc.NETWORK_IS_PERSISTENT, Proc.NETWORK_GET_AUTOSTART)
def always_true(s: Session, u: Unpacker) -> bytes:
    _net_arg(s, u)
    u.done()
    return ret_int(1)


@handles(Proc.NETWORK_GET_BRIDGE_NAME)
def bridge_name(s: Session, u: Unpacker) -> bytes:
    el = _net_arg(s, u)
    u.done()
    return Packer().string(el.findtext("BRIDGE") or "").bytes()


@handles(Proc.NETWORK_GET_XML_DESC)
def get_xml_desc(s: Session, u: Unpacker) -> bytes:
    el = _net_arg(s, u)
    u.uint()  # flags
    u.done()
    return Packer().string(network_xml(s.domains.oned.vnet(_nid(el)))).bytes()


def network_prefix(vnet: Element) -> int | None:
    """The prefix length of a RANGED network (NETWORK_SIZE: A/B/C or a host count)."""
    if (vnet.findtext("TYPE") or "").strip() != RANGED:
        return None
    size = (vnet.findtext("TEMPLATE/NETWORK_SIZE") or "").strip().upper()
    if size in _CLASS_PREFIX:
        return _CLASS_PREFIX[size]
    if size.isdigit() and int(size) > 0:
        return max(0, 32 - (int(size) + 1).bit_length())
    return DEFAULT_SIZE_PREFIX


def network_xml(vnet: Element) -> str:
    """The ``<network>`` document of an OpenNebula virtual network (``one.vn.info``)."""
    root = Element("network")
    SubElement(root, "name").text = vnet.findtext("NAME") or ""
    SubElement(root, "uuid").text = uuid_string(net_uuid(_nid(vnet)))
    SubElement(root, "bridge", {"name": vnet.findtext("BRIDGE") or ""})
    address = (vnet.findtext("TEMPLATE/NETWORK_ADDRESS") or "").strip()
    prefix = network_prefix(vnet)
    if address and prefix is not None:
        try:
            net = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
        except ValueError:
            net = None
        if net is not None:
            ip = SubElement(root, "ip", {"address": str(net.network_address + 1)})
            ip.set("prefix", str(prefix))
            dhcp = SubElement(ip, "dhcp")
            SubElement(
                dhcp,
                "range",
                {"start": str(net.network_address + 1), "end": str(net.broadcast_address - 1)},
            )
    leases = vnet.findall("LEASES/LEASE")
    if leases and prefix is None:
        ip = SubElement(root, "ip")
        dhcp = SubElement(ip, "dhcp")
        for lease in leases:
            SubElement(
                dhcp,
                "host",
                {"mac": lease.findtext("MAC") or "", "ip": lease.findtext("IP") or ""},
            )
    indent(root, space="  ")
    return tostring(root, encoding="unicode") + "\n"
