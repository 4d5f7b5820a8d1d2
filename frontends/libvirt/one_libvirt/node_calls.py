"""The REMOTE procedures on the node beyond virNodeGetInfo: free memory and usage statistics.

The cloud is one node (as in ``virNodeGetInfo``): its figures are the sums over the enabled
hosts of what host monitoring last reported (``HOST_SHARE``: ``MAX_MEM``/``FREE_MEM`` in KiB,
``MAX_CPU``/``USED_CPU`` in percent of one CPU). There is one NUMA cell, cell 0.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from one_core.api import HostState
from one_libvirt.domains import host_int
from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session, handles
from one_libvirt.protocol import ErrCode, Proc
from one_libvirt.xdr import Packer, Unpacker

ALL_CELLS = -1  # VIR_NODE_MEMORY_STATS_ALL_CELLS
ALL_CPUS = -1  # VIR_NODE_CPU_STATS_ALL_CPUS
STATS_MAX = 16


def _enabled(s: Session) -> list[Element]:
    return [h for h in s.domains.oned.hosts() if host_int(h, "STATE") != HostState.DISABLED]


def _sum(hosts: list[Element], tag: str) -> int:
    return sum(host_int(h, f"HOST_SHARE/{tag}") for h in hosts)


def free_memory_kib(s: Session) -> int:
    return _sum(_enabled(s), "FREE_MEM")


@handles(Proc.NODE_GET_FREE_MEMORY)
def get_free_memory(s: Session, u: Unpacker) -> bytes:
    u.done()
    return Packer().uhyper(free_memory_kib(s) * 1024).bytes()  # bytes, not KiB


@handles(Proc.NODE_GET_CELLS_FREE_MEMORY)
def get_cells_free_memory(s: Session, u: Unpacker) -> bytes:
    start = u.int()
    maxcells = u.int()
    u.done()
    if start != 0 or maxcells < 1:
        raise LibvirtError(
            ErrCode.INVALID_ARG, f"invalid argument: start cell {start} out of range (0-0)"
        )
    return Packer().uint(1).uhyper(free_memory_kib(s) * 1024).bytes()


def _stats_reply(fields: list[tuple[str, int]], nparams: int) -> bytes:
    """``remote_node_get_{cpu,memory}_stats_ret``: with nparams 0 only the count is asked."""
    if nparams < 0 or nparams > STATS_MAX:
        raise LibvirtError(ErrCode.INVALID_ARG, f"invalid argument: nparams {nparams}")
    chosen = fields[:nparams] if nparams else []
    p = Packer().uint(len(chosen))
    for name, value in chosen:
        p.string(name).uhyper(value)
    return p.int(len(fields)).bytes()


@handles(Proc.NODE_GET_MEMORY_STATS)
def get_memory_stats(s: Session, u: Unpacker) -> bytes:
    nparams = u.int()
    cell = u.int()
    u.uint()
    u.done()
    if cell not in (ALL_CELLS, 0):
        raise LibvirtError(ErrCode.INVALID_ARG, f"invalid argument: cell {cell} (only 0)")
    hosts = _enabled(s)
    return _stats_reply(
        [("total", _sum(hosts, "MAX_MEM")), ("free", _sum(hosts, "FREE_MEM"))], nparams
    )


@handles(Proc.NODE_GET_CPU_STATS)
def get_cpu_stats(s: Session, u: Unpacker) -> bytes:
    """Only ``utilization`` (percent): 1.4 monitors CPU usage, not CPU times."""
    cpu = u.int()
    nparams = u.int()
    u.uint()
    u.done()
    if cpu != ALL_CPUS:
        raise LibvirtError(
            ErrCode.INVALID_ARG, f"invalid argument: CPU {cpu}: only the whole node (-1)"
        )
    hosts = _enabled(s)
    total = _sum(hosts, "MAX_CPU")
    used = _sum(hosts, "USED_CPU")
    utilization = round(used * 100 / total) if total > 0 else 0
    return _stats_reply([("utilization", max(0, min(100, utilization)))], nparams)
