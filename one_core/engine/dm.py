"""1.4's Dispatch Manager: the RPC side of the state machine (§1.2).

Each request is checked against the transition table (the wrong state gives 1.4's RPC
error), then the driver capabilities it needs, then its row is applied by the LCM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.engine.errors import ActionError, CapabilityError, EngineError
from one_core.engine.transitions import Event
from one_core.vm.model import History, VirtualMachine
from one_core.vm.states import Reason, VmState

if TYPE_CHECKING:
    from one_core.engine.core import Engine

ACTIONS: tuple[str, ...] = (
    "shutdown",
    "hold",
    "release",
    "stop",
    "cancel",
    "suspend",
    "resume",
    "restart",
    "finalize",
)
"""``one.vm.action`` names (exact, case-sensitive)."""

ACTION_EVENTS: dict[str, Event] = {name: Event[name.upper()] for name in ACTIONS}


class DispatchManager:
    def __init__(self, engine: Engine):
        self.e = engine

    def _vm(self, vid: int) -> VirtualMachine:
        vm = self.e.pool.get(vid)
        if vm is None:
            raise ActionError(-1)
        return vm

    def _requested(self, vid: int, hid: int) -> VirtualMachine:
        if self.e.hosts.host_info(hid) is None:
            raise EngineError(f"The host {hid} does not exists")
        vm = self.e.pool.get(vid)
        if vm is None:
            raise EngineError(f"The virtual machine {vid} does not exists")
        return vm

    def _require(self, record: History | None, hook: str, verb: str) -> None:
        if record is not None:
            self.e.vmm.require(record.vm_mad, hook, verb)

    # -- deploy / migrate (one.vm.deploy, one.vm.migrate) ----------------------
    def _new_record(self, vm: VirtualMachine, hid: int) -> History:
        host = self.e.hosts.host_info(hid)
        if host is None:
            raise EngineError(f"The host {hid} does not exists")
        return History(
            vid=vm.oid,
            seq=vm.next_seq(),
            host_name=host.name,
            vm_dir=self.e.cfg.vm_dir,
            hid=host.hid,
            vm_mad=host.vm_mad,
            tm_mad=host.tm_mad,
        )

    def deploy(self, vid: int, hid: int) -> None:
        vm = self._requested(vid, hid)
        row = self.e.lcm.check(vm, Event.DEPLOY)
        if row is None:
            return
        record = self._new_record(vm, hid)
        if vm.history is not None and vm.history.reason == Reason.STOP_RESUME:
            self.e.vmm.require(record.vm_mad, "vmm_restore", "restore")  # deploy after stop
        self.e.lcm.apply(vm, row, Event.DEPLOY, record=record)

    def migrate(self, vid: int, hid: int, live: bool) -> None:
        vm = self._requested(vid, hid)
        event = Event.LIVE_MIGRATE if live else Event.MIGRATE
        row = self.e.lcm.check(vm, event)
        if row is None:
            return
        record = self._new_record(vm, hid)
        if live:
            self._require(vm.history, "vmm_migrate", "migrate")
        else:
            self._require(vm.history, "vmm_save", "save")  # saved on the source
            self.e.vmm.require(record.vm_mad, "vmm_restore", "restore")
        self.e.lcm.apply(vm, row, event, record=record)

    # -- one.vm.action --------------------------------------------------------
    def action(self, name: str, vid: int) -> None:
        event = ACTION_EVENTS.get(name)
        if event is None:
            raise ActionError(-3)
        vm = self._vm(vid)
        row = self.e.lcm.check(vm, event)
        if row is None:
            return
        if event in (Event.STOP, Event.SUSPEND):
            self._require(vm.history, "vmm_save", "save")
        if event is Event.SUSPEND or (event is Event.RESUME and vm.state == VmState.SUSPENDED):
            self._require(vm.history, "vmm_restore", "restore")
        self.e.lcm.apply(vm, row, event)


__all__ = ["ACTIONS", "CapabilityError", "DispatchManager"]
