"""1.4's Dispatch Manager: user operations (§1.2) and final-state callbacks (§1.5)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from one_core.engine.errors import ActionError, CapabilityError, EngineError
from one_core.vm.model import History, VirtualMachine
from one_core.vm.states import LcmState, Reason, VmState

if TYPE_CHECKING:
    from one_core.engine.core import Engine

L = LcmState
S = VmState

log = logging.getLogger("one.DiM")

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


class DispatchManager:
    def __init__(self, engine: Engine):
        self.e = engine

    def _log(self, vm: VirtualMachine, message: str) -> None:
        self.e.vm_log(vm.oid, "DiM", "I", message)

    def _vm(self, vid: int) -> VirtualMachine:
        vm = self.e.pool.get(vid)
        if vm is None:
            raise ActionError(-1)
        return vm

    def _wrong(self, vm: VirtualMachine, op: str) -> ActionError:
        log.error("Could not %s VM %s, wrong state.", op, vm.oid)
        return ActionError(-2)

    def _running(self, vm: VirtualMachine) -> bool:
        return vm.state == S.ACTIVE and vm.lcm_state == L.RUNNING

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
        if self.e.hosts.host_info(hid) is None:
            raise EngineError(f"The host {hid} does not exists")
        vm = self.e.pool.get(vid)
        if vm is None:
            raise EngineError(f"The virtual machine {vid} does not exists")
        if vm.state != S.PENDING:
            raise EngineError(f"Can not deploy VM {vid}, wrong state")
        record = self._new_record(vm, hid)
        if (
            vm.history is not None and vm.history.reason == Reason.STOP_RESUME
        ):  # deploy after stop: RESTORE
            self.e.vmm.require(record.vm_mad, "vmm_restore", "restore")
        try:
            self.e.pool.insert_history(vm, record)
        except Exception as exc:
            raise EngineError(f"Can not deploy VM {vid}, can not insert history") from exc
        vm.state = S.ACTIVE
        self.e.pool.update(vm)
        self._log(vm, "New VM state is ACTIVE.")
        self.e.lcm.deploy(vm)

    def migrate(self, vid: int, hid: int, live: bool) -> None:
        if self.e.hosts.host_info(hid) is None:
            raise EngineError(f"The host {hid} does not exists")
        vm = self.e.pool.get(vid)
        if vm is None:
            raise EngineError(f"The virtual machine {vid} does not exists")
        if not self._running(vm) or vm.history is None:
            raise EngineError(f"Can not migrate VM {vid}, wrong state")
        record = self._new_record(vm, hid)
        if live:
            self.e.vmm.require(vm.history.vm_mad, "vmm_migrate", "migrate")
        else:
            self.e.vmm.require(vm.history.vm_mad, "vmm_save", "save")  # saved on the source
            self.e.vmm.require(record.vm_mad, "vmm_restore", "restore")
        try:
            self.e.pool.insert_history(vm, record)
        except Exception as exc:
            raise EngineError(f"Can not migrate VM {vid}, can not insert history") from exc
        if live:
            self.e.lcm.live_migrate(vm)
        else:
            self.e.lcm.migrate(vm)

    # -- one.vm.action --------------------------------------------------------
    def action(self, name: str, vid: int) -> None:
        if name not in ACTIONS:
            raise ActionError(-3)
        vm = self._vm(vid)
        getattr(self, f"_{name}")(vm)

    def _shutdown(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            raise self._wrong(vm, "shutdown")
        self.e.lcm.shutdown(vm)

    def _hold(self, vm: VirtualMachine) -> None:
        if vm.state != S.PENDING:
            raise self._wrong(vm, "hold")
        vm.state = S.HOLD
        self.e.pool.update(vm)
        self._log(vm, "New VM state is HOLD.")

    def _release(self, vm: VirtualMachine) -> None:
        if vm.state != S.HOLD:
            raise self._wrong(vm, "release")
        vm.state = S.PENDING
        self.e.pool.update(vm)
        self._log(vm, "New VM state is PENDING.")
        self.e.notify_pending()

    def _needs_save(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            self.e.vmm.require(vm.history.vm_mad, "vmm_save", "save")

    def _stop(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            raise self._wrong(vm, "stop")
        self._needs_save(vm)
        self.e.lcm.stop(vm)

    def _cancel(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            raise self._wrong(vm, "cancel")
        self.e.lcm.cancel(vm)

    def _suspend(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            raise self._wrong(vm, "suspend")
        self._needs_save(vm)
        if vm.history is not None:
            self.e.vmm.require(vm.history.vm_mad, "vmm_restore", "restore")
        self.e.lcm.suspend(vm)

    def _resume(self, vm: VirtualMachine) -> None:
        if vm.state == S.STOPPED:
            vm.state = S.PENDING
            self.e.pool.update(vm)
            self._log(vm, "New VM state is PENDING.")
            self.e.notify_pending()
        elif vm.state == S.SUSPENDED:
            if vm.history is not None:
                self.e.vmm.require(vm.history.vm_mad, "vmm_restore", "restore")
            vm.state = S.ACTIVE
            self.e.pool.update(vm)
            self._log(vm, "New VM state is ACTIVE.")
            self.e.lcm.restore(vm)
        else:
            raise self._wrong(vm, "resume")

    def _restart(self, vm: VirtualMachine) -> None:
        if vm.state != S.ACTIVE or vm.lcm_state not in (L.UNKNOWN, L.BOOT):
            raise self._wrong(vm, "restart")
        self.e.lcm.restart(vm)

    def _finalize(self, vm: VirtualMachine) -> None:
        state = vm.state
        if state == S.DONE:
            return
        if state == S.ACTIVE:
            self.e.lcm.delete(vm)
            return
        if state == S.SUSPENDED:
            self.e.tm.epilog_delete(vm)
        if state in (S.INIT, S.PENDING, S.HOLD, S.STOPPED, S.SUSPENDED):
            vm.etime = self.e.now()
        vm.lcm_state = L.LCM_INIT
        vm.state = S.DONE
        self.e.pool.update(vm)
        self.e.pool.release_leases(vm)
        self._log(vm, "New VM state is DONE.")
        self.e.pool.forget(vm.oid)

    # -- callbacks: final states (§1.5) -------------------------------------
    def suspend_success(self, vm: VirtualMachine) -> None:
        if vm.state != S.ACTIVE:
            log.error("suspend_success action received but VM %s not in ACTIVE state", vm.oid)
            return
        vm.state, vm.lcm_state = S.SUSPENDED, L.LCM_INIT
        self.e.pool.update(vm)
        self._log(vm, "New VM state is SUSPENDED")

    def stop_success(self, vm: VirtualMachine) -> None:
        if vm.state != S.ACTIVE:
            log.error("stop_success action received but VM %s not in ACTIVE state", vm.oid)
            return
        vm.state, vm.lcm_state = S.STOPPED, L.LCM_INIT
        self.e.pool.update(vm)
        self._log(vm, "New VM state is STOPPED")

    def done(self, vm: VirtualMachine) -> None:
        if vm.state != S.ACTIVE:
            log.error("done action received but VM %s not in ACTIVE state", vm.oid)
            return
        vm.state, vm.lcm_state = S.DONE, L.LCM_INIT
        vm.etime = self.e.now()
        self.e.pool.update(vm)
        self.e.pool.release_leases(vm)
        self._log(vm, "New VM state is DONE")
        self.e.pool.forget(vm.oid)

    def failed(self, vm: VirtualMachine) -> None:
        vm.state, vm.lcm_state = S.FAILED, L.LCM_INIT
        vm.etime = self.e.now()
        self.e.pool.update(vm)
        self._log(vm, "New VM state is FAILED")


__all__ = ["ACTIONS", "CapabilityError", "DispatchManager"]
