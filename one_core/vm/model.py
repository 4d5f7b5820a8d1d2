"""In-memory VM and history objects (``spec/lifecycle-and-drivers.md`` §1.1, §2)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from one_core.cnum import vm_demand
from one_core.records import VMRecord
from one_core.template import Template
from one_core.vm.paths import VMPaths
from one_core.vm.states import LcmState, Reason, VmState

HISTORY_TIMES: tuple[str, ...] = (
    "stime",
    "etime",
    "pstime",
    "petime",
    "rstime",
    "retime",
    "estime",
    "eetime",
)


@dataclass(slots=True)
class History:
    """One stay of a VM on a host (table ``history``, key ``(vid, seq)``)."""

    vid: int
    seq: int
    host_name: str
    vm_dir: str
    hid: int
    vm_mad: str
    tm_mad: str
    stime: int = 0
    etime: int = 0
    pstime: int = 0
    petime: int = 0
    rstime: int = 0
    retime: int = 0
    estime: int = 0
    eetime: int = 0
    reason: int = Reason.NONE

    def copy_as(self, seq: int) -> History:
        """A new record on the same host (``cp_history``): times 0, reason NONE."""
        return History(
            vid=self.vid,
            seq=seq,
            host_name=self.host_name,
            vm_dir=self.vm_dir,
            hid=self.hid,
            vm_mad=self.vm_mad,
            tm_mad=self.tm_mad,
        )


def host_of(record: History | None) -> str:
    """The host name of ``record``; ``""`` when there is no record."""
    return record.host_name if record else ""


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a VM takes from its host: cpu in % of a core, memory in KB, disk."""

    cpu: int = 0
    mem: int = 0
    disk: int = 0


@dataclass(slots=True)
class VirtualMachine:
    """A VM as the engine holds it (table ``vm_pool`` + template + cur/prev history)."""

    oid: int
    uid: int
    name: str
    template: Template
    state: int = VmState.PENDING
    lcm_state: int = LcmState.LCM_INIT
    stime: int = 0
    etime: int = 0
    last_poll: int = 0
    deploy_id: str = ""
    memory: int = 0
    cpu: int = 0
    net_tx: int = 0
    net_rx: int = 0
    history: History | None = None
    previous: History | None = None
    pending_action: str = ""

    # -- derived -----------------------------------------------------------
    def requirements(self) -> Requirements:
        """1.4's ``get_requirements`` (:func:`one_core.cnum.vm_demand`): ``CPU×100`` in
        32-bit float, ``MEMORY×1024`` KB, disk 0; nothing when MEMORY is 0 or CPU empty."""
        cpu, mem = vm_demand(self.template.get("CPU"), self.template.get("MEMORY"))
        return Requirements(cpu=cpu, mem=mem, disk=0)

    def paths(self, var_dir: str, record: History | None = None) -> VMPaths:
        record = record or self.history
        if record is None:
            return VMPaths(var_dir=var_dir, vid=self.oid)
        return VMPaths(var_dir=var_dir, vid=self.oid, seq=record.seq, vm_dir=record.vm_dir)

    def record(self, var_dir: str) -> VMRecord:
        """The driver's read-only view (cur host)."""
        h = self.history
        return VMRecord(
            vid=self.oid,
            uid=self.uid,
            name=self.name,
            template=copy.deepcopy(self.template),
            host=host_of(h),
            vm_dir=(h.vm_dir if h else var_dir),
            seq=h.seq if h else 0,
            deploy_id=self.deploy_id,
        )

    # -- history -----------------------------------------------------------
    def add_history(self, record: History) -> None:
        """Make ``record`` the current one; the old current becomes the previous."""
        self.previous = self.history
        self.history = record

    def next_seq(self) -> int:
        return 0 if self.history is None else self.history.seq + 1

    def snapshot(self) -> VirtualMachine:
        """A deep copy for use off the dispatcher thread."""
        return replace(
            self,
            template=copy.deepcopy(self.template),
            history=copy.copy(self.history),
            previous=copy.copy(self.previous),
        )
