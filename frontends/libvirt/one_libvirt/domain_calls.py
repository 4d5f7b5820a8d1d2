"""The REMOTE procedures on domains and the node: listing, lookups, life cycle, information.

Argument layouts are the ``remote_*_args`` / ``remote_*_ret`` structs of remote_protocol.x.
"""

from __future__ import annotations

from one_libvirt.domains import Vm, node_totals
from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session, dom_arg, handles, ret_dom, ret_int
from one_libvirt.protocol import (
    CPUMAP_MAX,
    CPUMAPS_MAX,
    DOMAIN_LIST_MAX,
    ErrCode,
    Proc,
    WireDomain,
)
from one_libvirt.states import DomState
from one_libvirt.xdr import Packer, Unpacker

NODE_MODEL = "OpenNebula"

# virConnectListAllDomainsFlags
LIST_ACTIVE, LIST_INACTIVE = 1, 2
LIST_PERSISTENT, LIST_TRANSIENT = 4, 8
LIST_RUNNING, LIST_PAUSED, LIST_SHUTOFF, LIST_OTHER = 16, 32, 64, 128
LIST_MANAGEDSAVE, LIST_AUTOSTART, LIST_HAS_SNAPSHOT, LIST_HAS_CHECKPOINT = 256, 1024, 4096, 16384


# -- listing ---------------------------------------------------------------------


def _count_arg(u: Unpacker) -> int:
    n = u.int()
    u.done()
    if n < 0 or n > DOMAIN_LIST_MAX:
        raise LibvirtError(ErrCode.RPC, f"too many domains requested: {n} > {DOMAIN_LIST_MAX}")
    return n


@handles(Proc.CONNECT_NUM_OF_DOMAINS)
def num_of_domains(s: Session, u: Unpacker) -> bytes:
    u.done()
    return ret_int(sum(1 for vm in s.domains.all() if vm.mapped.active))


@handles(Proc.CONNECT_NUM_OF_DEFINED_DOMAINS)
def num_of_defined(s: Session, u: Unpacker) -> bytes:
    u.done()
    return ret_int(sum(1 for vm in s.domains.all() if not vm.mapped.active))


@handles(Proc.CONNECT_LIST_DOMAINS)
def list_domains(s: Session, u: Unpacker) -> bytes:
    maxids = _count_arg(u)
    ids = [vm.id for vm in s.domains.all() if vm.mapped.active][:maxids]
    return Packer().array(ids, Packer.int).bytes()


@handles(Proc.CONNECT_LIST_DEFINED_DOMAINS)
def list_defined(s: Session, u: Unpacker) -> bytes:
    maxnames = _count_arg(u)
    names = [vm.name for vm in s.domains.all() if not vm.mapped.active][:maxnames]
    return Packer().array(names, Packer.string).bytes()


def matches(vm: Vm, flags: int) -> bool:
    """Whether a domain passes the virConnectListAllDomains filter ``flags``."""
    m = vm.mapped
    persistent = not m.active

    def pair(yes: int, no: int, value: bool) -> bool:
        if flags & (yes | no) in (0, yes | no):
            return True
        return bool(flags & yes) == value

    if not pair(LIST_ACTIVE, LIST_INACTIVE, m.active):
        return False
    if not pair(LIST_PERSISTENT, LIST_TRANSIENT, persistent):
        return False
    states = flags & (LIST_RUNNING | LIST_PAUSED | LIST_SHUTOFF | LIST_OTHER)
    if states:
        kind = {
            DomState.RUNNING: LIST_RUNNING,
            DomState.PAUSED: LIST_PAUSED,
            DomState.SHUTOFF: LIST_SHUTOFF,
        }.get(m.state, LIST_OTHER)
        if not states & kind:
            return False
    # No managed save, autostart, snapshots or checkpoints exist here.
    return not flags & (LIST_MANAGEDSAVE | LIST_AUTOSTART | LIST_HAS_SNAPSHOT | LIST_HAS_CHECKPOINT)


@handles(Proc.CONNECT_LIST_ALL_DOMAINS)
def list_all_domains(s: Session, u: Unpacker) -> bytes:
    need_results = u.int()
    flags = u.uint()
    u.done()
    vms = [vm for vm in s.domains.all() if matches(vm, flags)]
    p = Packer().array(vms if need_results else [], lambda p, vm: vm.wire().pack(p))
    return p.uint(len(vms)).bytes()


# -- lookups ---------------------------------------------------------------------


@handles(Proc.DOMAIN_LOOKUP_BY_ID)
def lookup_by_id(s: Session, u: Unpacker) -> bytes:
    dom_id = u.int()
    u.done()
    return ret_dom(s.domains.by_id(dom_id))


@handles(Proc.DOMAIN_LOOKUP_BY_NAME)
def lookup_by_name(s: Session, u: Unpacker) -> bytes:
    name = u.string()
    u.done()
    return ret_dom(s.domains.by_name(name))


@handles(Proc.DOMAIN_LOOKUP_BY_UUID)
def lookup_by_uuid(s: Session, u: Unpacker) -> bytes:
    uuid = u.fixed_opaque(16)
    u.done()
    return ret_dom(s.domains.by_uuid(uuid))


# -- life cycle ------------------------------------------------------------------


@handles(Proc.DOMAIN_CREATE_XML)
def create_xml(s: Session, u: Unpacker) -> bytes:
    xml = u.string()
    flags = u.uint()
    u.done()
    if flags:
        raise LibvirtError(ErrCode.INVALID_ARG, f"unsupported flags (0x{flags:x}) in create")
    return ret_dom(s.domains.create_xml(xml))


@handles(Proc.DOMAIN_DEFINE_XML)
def define_xml(s: Session, u: Unpacker) -> bytes:
    xml = u.string()
    u.done()
    return ret_dom(s.domains.define_xml(xml))


@handles(Proc.DOMAIN_DEFINE_XML_FLAGS)
def define_xml_flags(s: Session, u: Unpacker) -> bytes:
    xml = u.string()
    u.uint()  # validation flags: the translator always validates
    u.done()
    return ret_dom(s.domains.define_xml(xml))


@handles(Proc.DOMAIN_CREATE)
def domain_create(s: Session, u: Unpacker) -> bytes:
    s.domains.start(dom_arg(s, u))
    return b""


@handles(Proc.DOMAIN_CREATE_WITH_FLAGS)
def domain_create_with_flags(s: Session, u: Unpacker) -> bytes:
    return ret_dom(s.domains.start(dom_arg(s, u, with_flags=True)))


@handles(Proc.DOMAIN_DESTROY, Proc.DOMAIN_DESTROY_FLAGS)
def domain_destroy(s: Session, u: Unpacker) -> bytes:
    s.domains.destroy(dom_arg(s, u, flags_optional=True))
    return b""


@handles(Proc.DOMAIN_SHUTDOWN, Proc.DOMAIN_SHUTDOWN_FLAGS)
def domain_shutdown(s: Session, u: Unpacker) -> bytes:
    s.domains.shutdown(dom_arg(s, u, flags_optional=True))
    return b""


@handles(Proc.DOMAIN_UNDEFINE, Proc.DOMAIN_UNDEFINE_FLAGS)
def domain_undefine(s: Session, u: Unpacker) -> bytes:
    s.domains.undefine(dom_arg(s, u, flags_optional=True))
    return b""


@handles(Proc.DOMAIN_SUSPEND)
def domain_suspend(s: Session, u: Unpacker) -> bytes:
    s.domains.suspend(dom_arg(s, u))
    return b""


def _set_memory(s: Session, u: Unpacker, with_flags: bool) -> bytes:
    dom = WireDomain.unpack(u)
    kib = u.uhyper()
    if with_flags:
        u.uint()
    u.done()
    s.domains.set_memory(s.domains.resolve(dom), kib)
    return b""


@handles(Proc.DOMAIN_SET_MEMORY)
def domain_set_memory(s: Session, u: Unpacker) -> bytes:
    return _set_memory(s, u, with_flags=False)


@handles(Proc.DOMAIN_SET_MEMORY_FLAGS)
def domain_set_memory_flags(s: Session, u: Unpacker) -> bytes:
    """virsh setmem: any of the current/live/config flags; only a defined domain changes."""
    return _set_memory(s, u, with_flags=True)


@handles(Proc.DOMAIN_RESUME)
def domain_resume(s: Session, u: Unpacker) -> bytes:
    s.domains.resume(dom_arg(s, u))
    return b""


# -- information -----------------------------------------------------------------


@handles(Proc.DOMAIN_GET_INFO)
def get_info(s: Session, u: Unpacker) -> bytes:
    state, max_mem, memory, ncpu, cpu_time = s.domains.info(dom_arg(s, u))
    # unsigned char / unsigned short travel as 4-byte XDR unsigned ints
    return Packer().uint(state).uhyper(max_mem).uhyper(memory).uint(ncpu).uhyper(cpu_time).bytes()


@handles(Proc.DOMAIN_GET_STATE)
def get_state(s: Session, u: Unpacker) -> bytes:
    vm = dom_arg(s, u, with_flags=True)
    m = vm.mapped
    return Packer().int(int(m.state)).int(m.reason).bytes()


@handles(Proc.DOMAIN_GET_XML_DESC)
def get_xml_desc(s: Session, u: Unpacker) -> bytes:
    return Packer().string(s.domains.xml(dom_arg(s, u, with_flags=True))).bytes()


@handles(Proc.DOMAIN_GET_OS_TYPE)
def get_os_type(s: Session, u: Unpacker) -> bytes:
    dom_arg(s, u)
    return Packer().string("hvm").bytes()


@handles(Proc.DOMAIN_GET_AUTOSTART)
def get_autostart(s: Session, u: Unpacker) -> bytes:
    dom_arg(s, u)
    return ret_int(0)


@handles(Proc.DOMAIN_IS_ACTIVE)
def is_active(s: Session, u: Unpacker) -> bytes:
    return ret_int(1 if dom_arg(s, u).mapped.active else 0)


@handles(Proc.DOMAIN_IS_PERSISTENT)
def is_persistent(s: Session, u: Unpacker) -> bytes:
    return ret_int(0 if dom_arg(s, u).mapped.active else 1)


@handles(Proc.DOMAIN_IS_UPDATED)
def is_updated(s: Session, u: Unpacker) -> bytes:
    dom_arg(s, u)
    return ret_int(0)


@handles(Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE)
def has_managed_save(s: Session, u: Unpacker) -> bytes:
    dom_arg(s, u, with_flags=True)
    return ret_int(0)


def _cpu_bits(cpus: int, maplen: int) -> bytes:
    """A CPU map of ``maplen`` bytes with the bits of CPUs ``0 .. cpus - 1`` set."""
    cpumap = bytearray(maplen)
    for i in range(min(cpus, maplen * 8)):
        cpumap[i // 8] |= 1 << (i % 8)
    return bytes(cpumap)


def _cpumap(s: Session, maplen: int) -> bytes:
    """A CPU map of ``maplen`` bytes with every CPU of the cloud-node set (no pinning here)."""
    if maplen == 0:
        return b""
    _, cpus = node_totals(s.domains.oned.hosts())
    return _cpu_bits(cpus, maplen)


@handles(Proc.NODE_GET_CPU_MAP)
def node_get_cpu_map(s: Session, u: Unpacker) -> bytes:
    need_map = u.int()
    need_online = u.int()
    u.uint()
    u.done()
    _, cpus = node_totals(s.domains.oned.hosts())
    cpus = min(cpus, CPUMAP_MAX * 8)
    p = Packer()
    p.opaque(_cpu_bits(cpus, (cpus + 7) // 8) if need_map else b"", CPUMAP_MAX)
    p.uint(cpus if need_online else 0)
    return p.int(cpus).bytes()


@handles(Proc.NODE_GET_INFO)
def node_get_info(s: Session, u: Unpacker) -> bytes:
    u.done()
    memory, cpus = node_totals(s.domains.oned.hosts())
    p = Packer()
    model = NODE_MODEL.encode()[:31].ljust(32, b"\0")
    for byte in model:  # char model[32]: each char is one 4-byte XDR unit
        p.int(byte)
    return p.uhyper(memory).int(cpus).int(0).int(1).int(1).int(cpus).int(1).bytes()


@handles(Proc.DOMAIN_GET_MAX_MEMORY)
def get_max_memory(s: Session, u: Unpacker) -> bytes:
    return Packer().uhyper(s.domains.max_memory(dom_arg(s, u))).bytes()


@handles(Proc.DOMAIN_GET_MAX_VCPUS)
def get_max_vcpus_dom(s: Session, u: Unpacker) -> bytes:
    return ret_int(s.domains.vcpus(dom_arg(s, u)))


@handles(Proc.DOMAIN_GET_VCPUS_FLAGS)
def get_vcpus_flags(s: Session, u: Unpacker) -> bytes:
    return ret_int(s.domains.vcpus(dom_arg(s, u, with_flags=True)))


@handles(Proc.DOMAIN_GET_VCPUS)
def get_vcpus(s: Session, u: Unpacker) -> bytes:
    dom = WireDomain.unpack(u)
    maxinfo = u.int()
    maplen = u.int()
    u.done()
    if maxinfo < 0 or maplen < 0 or maxinfo * maplen > CPUMAPS_MAX:
        raise LibvirtError(ErrCode.RPC, "vCPU information or CPU map too large")
    vm = s.domains.resolve(dom)
    if not vm.mapped.active:
        raise LibvirtError(
            ErrCode.OPERATION_INVALID, "Requested operation is not valid: domain is not running"
        )
    n = min(maxinfo, s.domains.vcpus(vm))
    running = 1 if vm.mapped.state == DomState.RUNNING else 0
    p = Packer().uint(n)
    for i in range(n):
        p.uint(i).int(running).uhyper(0).int(-1)  # number, state, cpu_time, cpu (unknown)
    p.opaque(_cpumap(s, maplen) * n, CPUMAPS_MAX)
    return p.bytes()
