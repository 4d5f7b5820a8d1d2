"""The records a scheduler works on (see :mod:`one_core.hookspecs.sched`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PendingVM:
    """A VM waiting for a host.

    ``template`` holds the VM template's single attributes (first value of
    each name, upper-case names), which is where ``REQUIREMENTS``, ``RANK``,
    ``CPU`` and ``MEMORY`` are read from.
    """

    vid: int
    uid: int
    template: dict[str, str]
    requirements: str = ""
    rank: str = ""
    cpu: str = ""
    memory: str = ""


@dataclass(slots=True)
class HostSnapshot:
    """A host as a scheduler sees it at the start of a cycle.

    ``template`` is the monitored host template (``TOTALCPU``, ``FREEMEMORY``,
    ``HYPERVISOR``, ...), where REQUIREMENTS and RANK variables are looked up
    (as in 1.4, the host's own name is not a variable unless the IM driver
    reports it, e.g. ``HOSTNAME``). The share fields are 1.4's
    ``host_shares`` row: ``max_*`` from the monitoring, ``*_usage`` what oned
    has allotted to the VMs placed on it, ``free_*`` the monitored free
    figures; ``running_vms`` the VMs allotted to it.
    """

    hid: int
    name: str
    template: dict[str, str] = field(default_factory=dict)
    max_cpu: int = 0
    max_mem: int = 0
    max_disk: int = 0
    cpu_usage: int = 0
    mem_usage: int = 0
    disk_usage: int = 0
    free_cpu: int = 0
    free_mem: int = 0
    free_disk: int = 0
    running_vms: int = 0


@dataclass(frozen=True, slots=True)
class Placement:
    """Deploy VM ``vid`` on host ``hid``."""

    vid: int
    hid: int
