"""The REMOTE procedures that report on domains from what oned monitors: bulk statistics
(``virConnectGetAllDomainStats``, ``virsh domstats``) and interface addresses
(``virDomainInterfaceAddresses``, ``virsh domifaddr``: the IPs leased to the VM's NICs).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from one_libvirt import translate
from one_libvirt.domain_calls import matches
from one_libvirt.domains import Vm
from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session, handles
from one_libvirt.network_calls import network_prefix
from one_libvirt.protocol import DOMAIN_LIST_MAX, ErrCode, Proc, WireDomain
from one_libvirt.states import DomState
from one_libvirt.xdr import Packer, Unpacker

# virDomainStatsTypes
STATS_STATE, STATS_CPU_TOTAL, STATS_BALLOON, STATS_VCPU = 1, 2, 4, 8
STATS_INTERFACE, STATS_BLOCK = 16, 32
SUPPORTED_STATS = STATS_STATE | STATS_CPU_TOTAL | STATS_BALLOON | STATS_VCPU
SUPPORTED_STATS |= STATS_INTERFACE | STATS_BLOCK
ENFORCE_STATS = 1 << 31
LIST_FLAGS = 0xFF  # the virConnectListAllDomains filters, same bits
NOWAIT, BACKING = 1 << 29, 1 << 30

# virTypedParameterType
T_INT, T_UINT, T_ULLONG, T_STRING = 1, 2, 4, 7

# virDomainInterfaceAddressesSource
SOURCE_LEASE, SOURCE_AGENT, SOURCE_ARP = 0, 1, 2
IP_TYPE_IPV4 = 0
DEFAULT_PREFIX = 24

Param = tuple[str, int, int | str]


def pack_params(p: Packer, params: list[Param]) -> Packer:
    """``remote_typed_param params<>``: field, then the value union (type + value)."""
    p.uint(len(params))
    for field, kind, value in params:
        p.string(field).int(kind)
        if kind == T_STRING:
            p.string(str(value))
        elif kind == T_ULLONG:
            p.uhyper(int(value))
        elif kind == T_UINT:
            p.uint(int(value))
        else:
            p.int(int(value))
    return p


def domain_stats(vm: Vm, el: Element, groups: int) -> list[Param]:
    """The typed parameters of one domain for the requested groups (``one.vm.info`` ``el``)."""
    template = el.find("TEMPLATE")
    mapped = vm.mapped
    params: list[Param] = []
    if groups & STATS_STATE:
        params += [
            ("state.state", T_INT, int(mapped.state)),
            ("state.reason", T_INT, mapped.reason),
        ]
    if groups & STATS_CPU_TOTAL:
        params.append(("cpu.time", T_ULLONG, 0))  # 1.4 monitors a CPU percentage, no time
    max_kib = translate.template_int(template, "MEMORY") * 1024
    if groups & STATS_BALLOON:
        current = (vm.memory_kb or max_kib) if mapped.active else 0
        params += [("balloon.current", T_ULLONG, current), ("balloon.maximum", T_ULLONG, max_kib)]
    if groups & STATS_VCPU:
        vcpus = translate.template_vcpus(template)
        params += [("vcpu.current", T_UINT, vcpus), ("vcpu.maximum", T_UINT, vcpus)]
    if groups & STATS_INTERFACE:
        nics = [] if template is None else template.findall("NIC")
        params.append(("net.count", T_UINT, len(nics)))
        for i, nic in enumerate(nics):
            params.append((f"net.{i}.name", T_STRING, _nic_name(vm, nic, i)))
        if len(nics) == 1:  # oned's NET_RX/NET_TX are the VM's totals
            params += [
                ("net.0.rx.bytes", T_ULLONG, max(0, _int(el, "NET_RX"))),
                ("net.0.tx.bytes", T_ULLONG, max(0, _int(el, "NET_TX"))),
            ]
    if groups & STATS_BLOCK:
        disks = [] if template is None else template.findall("DISK")
        params.append(("block.count", T_UINT, len(disks)))
        for i, disk in enumerate(disks):
            params.append((f"block.{i}.name", T_STRING, _text(disk, "TARGET") or f"disk{i}"))
            if _text(disk, "SOURCE"):
                params.append((f"block.{i}.path", T_STRING, _text(disk, "SOURCE")))
    return params


def _text(el: Element, tag: str) -> str:
    return (el.findtext(tag) or "").strip()


def _int(el: Element, tag: str) -> int:
    try:
        return int(_text(el, tag) or 0)
    except ValueError:
        return 0


def _nic_name(vm: Vm, nic: Element, index: int) -> str:
    """The NIC's host device (TARGET), else the name the 1.4 drivers give it."""
    return _text(nic, "TARGET") or f"one-{vm.id}-{index}"


@handles(Proc.CONNECT_GET_ALL_DOMAIN_STATS)
def get_all_domain_stats(s: Session, u: Unpacker) -> bytes:
    n = u.array_length(DOMAIN_LIST_MAX)
    doms = [WireDomain.unpack(u) for _ in range(n)]
    stats = u.uint()
    flags = u.uint()
    u.done()
    if flags & ENFORCE_STATS and stats & ~SUPPORTED_STATS:
        raise LibvirtError(
            ErrCode.OPERATION_UNSUPPORTED,
            f"Operation not supported: stats types 0x{stats & ~SUPPORTED_STATS:x} are not "
            "supported by this daemon",
        )
    groups = (stats & SUPPORTED_STATS) or (SUPPORTED_STATS if stats == 0 else 0)
    if doms:
        if flags & LIST_FLAGS:
            raise LibvirtError(
                ErrCode.INVALID_ARG,
                "invalid argument: domain list filters are for the all-domains form only",
            )
        vms = [s.domains.resolve(d) for d in doms]
    else:
        vms = [vm for vm in s.domains.all() if matches(vm, flags & LIST_FLAGS)]
    p = Packer().uint(len(vms))
    for vm in vms:
        el = s.domains.oned.info(vm.id)
        fresh = Vm.from_element(el)
        fresh.wire().pack(p)
        pack_params(p, domain_stats(fresh, el, groups))
    return p.bytes()


@handles(Proc.DOMAIN_INTERFACE_ADDRESSES)
def interface_addresses(s: Session, u: Unpacker) -> bytes:
    dom = WireDomain.unpack(u)
    source = u.uint()
    u.uint()  # flags
    u.done()
    vm = s.domains.resolve(dom)
    if source == SOURCE_AGENT:
        raise LibvirtError(
            ErrCode.OPERATION_UNSUPPORTED,
            "Operation not supported: there is no guest agent in OpenNebula 1.4 "
            "(use --source lease)",
        )
    if source not in (SOURCE_LEASE, SOURCE_ARP):
        raise LibvirtError(ErrCode.INVALID_ARG, f"invalid argument: unknown source {source}")
    if not vm.mapped.active or vm.mapped.state == DomState.SHUTOFF:
        raise LibvirtError(
            ErrCode.OPERATION_INVALID, "Requested operation is not valid: domain is not running"
        )
    el = s.domains.oned.info(vm.id)
    template = el.find("TEMPLATE")
    nics = [] if template is None else template.findall("NIC")
    prefixes: dict[str, int] = {}
    p = Packer()
    leased = [(i, nic) for i, nic in enumerate(nics) if _text(nic, "IP")]
    p.uint(len(leased))
    for i, nic in leased:
        p.string(_nic_name(vm, nic, i))
        p.optional_string(_text(nic, "MAC") or None)
        p.uint(1)
        p.int(IP_TYPE_IPV4).string(_text(nic, "IP")).uint(_prefix(s, nic, prefixes))
    return p.bytes()


def _prefix(s: Session, nic: Element, cache: dict[str, int]) -> int:
    """The prefix length of the NIC's network (RANGED size), else /24."""
    vnid = _text(nic, "VNID")
    if not vnid.isdigit():
        return DEFAULT_PREFIX
    if vnid not in cache:
        try:
            cache[vnid] = network_prefix(s.domains.oned.vnet(int(vnid))) or DEFAULT_PREFIX
        except LibvirtError:
            cache[vnid] = DEFAULT_PREFIX
    return cache[vnid]
