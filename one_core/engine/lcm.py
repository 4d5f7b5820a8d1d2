"""1.4's Life-cycle Manager: LCM actions (§1.3), driver callbacks (§1.4), delete (§1.7).

Every method runs on the dispatcher thread with the VM object the pool holds.
Each state change is written (``pool.update``) before the driver action it
starts is handed to the executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.vm.model import History, VirtualMachine
from one_core.vm.states import LcmState, Reason, VmState

if TYPE_CHECKING:
    from one_core.engine.core import Engine

L = LcmState


class LifeCycleManager:
    def __init__(self, engine: Engine):
        self.e = engine

    # -- helpers -----------------------------------------------------------
    def _log(self, vm: VirtualMachine, message: str, level: str = "I") -> None:
        self.e.vm_log(vm.oid, "LCM", level, message)

    def _set(self, vm: VirtualMachine, lcm: LcmState, message: str | None = None) -> None:
        vm.lcm_state = lcm
        self.e.pool.update(vm)
        if message:
            self._log(vm, message)

    def _wrong(self, vm: VirtualMachine, name: str) -> None:
        self._log(vm, f"{name}_action, VM in a wrong state.", "E")

    def _add_cap(self, vm: VirtualMachine, record: History | None) -> None:
        if record is not None:
            self.e.hosts.add_capacity(record.hid, vm.requirements())

    def _del_cap(self, vm: VirtualMachine, record: History | None) -> None:
        if record is not None:
            self.e.hosts.del_capacity(record.hid, vm.requirements())

    def _running(self, vm: VirtualMachine) -> bool:
        return vm.state == VmState.ACTIVE and vm.lcm_state == L.RUNNING

    # -- actions triggered by the DM (§1.3) ----------------------------------
    def deploy(self, vm: VirtualMachine) -> None:
        if vm.state != VmState.ACTIVE or vm.history is None:
            return self._wrong(vm, "deploy")
        now = self.e.now()
        resume = vm.previous is not None and vm.previous.reason == Reason.STOP_RESUME
        self._set(vm, L.PROLOG_RESUME if resume else L.PROLOG)
        vm.history.stime = vm.history.pstime = now
        self.e.pool.update_history(vm)
        self._add_cap(vm, vm.history)
        if resume:
            self.e.tm.prolog_resume(vm)
        else:
            self.e.tm.prolog(vm)
        self._log(vm, "New VM state is PROLOG.")

    def suspend(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            return self._wrong(vm, "suspend")
        self._set(vm, L.SAVE_SUSPEND)
        self.e.vmm.save(vm)
        self._log(vm, "New VM state is SAVE_SUSPEND")

    def stop(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            return self._wrong(vm, "stop")
        self._set(vm, L.SAVE_STOP)
        self.e.vmm.save(vm)
        self._log(vm, "New VM state is SAVE_STOP")

    def migrate(self, vm: VirtualMachine) -> None:
        if not self._running(vm) or vm.history is None:
            return self._wrong(vm, "migrate")
        self._set(vm, L.SAVE_MIGRATE)
        vm.history.stime = self.e.now()
        self.e.pool.update_history(vm)
        self._add_cap(vm, vm.history)
        self.e.vmm.save(vm)
        self._log(vm, "New VM state is SAVE_MIGRATE")

    def live_migrate(self, vm: VirtualMachine) -> None:
        if not self._running(vm) or vm.history is None:
            return self._wrong(vm, "live_migrate")
        self._set(vm, L.MIGRATE)
        vm.history.stime = self.e.now()
        self.e.pool.update_history(vm)
        self._add_cap(vm, vm.history)
        self.e.vmm.migrate(vm)
        self._log(vm, "New VM state is MIGRATE")

    def shutdown(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            return self._wrong(vm, "shutdown")
        self._set(vm, L.SHUTDOWN)
        self.e.vmm.shutdown(vm)
        self._log(vm, "New VM state is SHUTDOWN")

    def cancel(self, vm: VirtualMachine) -> None:
        if not self._running(vm):
            return self._wrong(vm, "cancel")
        self._set(vm, L.CANCEL)
        self.e.vmm.cancel(vm)
        self._log(vm, "New state is CANCEL")

    def restore(self, vm: VirtualMachine) -> None:
        if vm.state != VmState.ACTIVE or vm.history is None:
            return self._wrong(vm, "restore")
        self._log(vm, "Restoring VM")
        self._set(vm, L.BOOT)
        now = self.e.now()
        record = vm.history.copy_as(vm.history.seq + 1)
        record.stime = record.rstime = now
        self.e.pool.insert_history(vm, record)
        self._add_cap(vm, vm.history)
        self.e.vmm.restore(vm)
        self._log(vm, "New state is BOOT")

    def restart(self, vm: VirtualMachine) -> None:
        if vm.state != VmState.ACTIVE or vm.lcm_state not in (L.UNKNOWN, L.BOOT):
            return self._wrong(vm, "restart")
        if vm.lcm_state == L.UNKNOWN:
            self._set(vm, L.BOOT)
            self.e.vmm.deploy(vm)
            self._log(vm, "New VM state is BOOT")
        else:
            self.e.vmm.deploy(vm)
            self._log(vm, "Sending BOOT command to VM again")

    def delete(self, vm: VirtualMachine) -> None:
        """``finalize`` of an ACTIVE VM (§1.7)."""
        s = LcmState(vm.lcm_state)
        if s in (L.LCM_INIT, L.DELETE, L.FAILURE):
            return  # quirk 7: nothing happens (the RPC still answers success)
        now = self.e.now()
        self._set(vm, L.DELETE)
        cur = vm.history
        if cur is not None:
            cur.etime = now
            cur.reason = Reason.USER
        self._del_cap(vm, cur)
        tm, vmm = self.e.tm, self.e.vmm
        if cur is not None:
            if s in (L.PROLOG, L.PROLOG_RESUME, L.PROLOG_MIGRATE):
                cur.petime = now
            elif s in (L.EPILOG_STOP, L.EPILOG):
                cur.eetime = now
            else:
                cur.retime = now
            self.e.pool.update_history(vm)
        prev = vm.previous
        if s in (L.MIGRATE, L.SAVE_MIGRATE) and prev is not None:
            prev.etime = prev.retime = now
            prev.reason = Reason.USER
            self.e.pool.update_previous_history(vm)
            self._del_cap(vm, prev)
        if s in (L.PROLOG, L.PROLOG_RESUME, L.EPILOG_STOP, L.EPILOG):
            tm.driver_cancel(vm)
            tm.epilog_delete(vm)
        elif s in (L.BOOT, L.RUNNING, L.UNKNOWN, L.SHUTDOWN, L.CANCEL, L.SAVE_STOP, L.SAVE_SUSPEND):
            vmm.driver_cancel(vm)
            vmm.cancel(vm)
            tm.epilog_delete(vm)
        elif s == L.MIGRATE:
            vmm.driver_cancel(vm)
            vmm.cancel(vm)
            vmm.cancel_previous(vm)
            tm.epilog_delete(vm)
        elif s == L.SAVE_MIGRATE:
            vmm.driver_cancel(vm)
            vmm.cancel_previous(vm)
            tm.epilog_delete_previous(vm)
        elif s == L.PROLOG_MIGRATE:
            tm.driver_cancel(vm)
            tm.epilog_delete(vm)
            tm.epilog_delete_previous(vm)
        self.e.dm.done(vm)

    # -- callbacks from driver replies (§1.4) ------------------------------
    def save_success(self, vm: VirtualMachine) -> None:
        now = self.e.now()
        if vm.lcm_state == L.SAVE_MIGRATE:
            self._set(vm, L.PROLOG_MIGRATE)
            if vm.previous is not None:
                vm.previous.etime = vm.previous.retime = now
                vm.previous.reason = Reason.USER
                self.e.pool.update_previous_history(vm)
            if vm.history is not None:
                vm.history.pstime = now
                self.e.pool.update_history(vm)
            self._del_cap(vm, vm.previous)
            self.e.tm.prolog_migr(vm)
            self._log(vm, "New VM state is PROLOG_MIGRATE")
        elif vm.lcm_state == L.SAVE_SUSPEND:
            if vm.history is not None:
                vm.history.retime = vm.history.etime = now
                vm.history.reason = Reason.STOP_RESUME
                self.e.pool.update_history(vm)
            self._del_cap(vm, vm.history)
            self.e.dm.suspend_success(vm)
        elif vm.lcm_state == L.SAVE_STOP:
            self._set(vm, L.EPILOG_STOP)
            if vm.history is not None:
                vm.history.estime = vm.history.retime = now
                vm.history.reason = Reason.STOP_RESUME
                self.e.pool.update_history(vm)
            self.e.tm.epilog_stop(vm)
            self._log(vm, "New VM state is EPILOG_STOP")
        else:
            self._log(vm, "save_success_action, VM in a wrong state", "E")

    def _back_to_previous_host(self, vm: VirtualMachine) -> None:
        """Failed (live) migration: close both records, reopen one on the source host."""
        now = self.e.now()
        cur, prev = vm.history, vm.previous
        if cur is not None:
            cur.etime = now
            cur.reason = Reason.ERROR
            self.e.pool.update_history(vm)
        if prev is not None:
            prev.etime = prev.retime = now
            prev.reason = Reason.USER
            self.e.pool.update_previous_history(vm)
        self._del_cap(vm, cur)
        if prev is not None and cur is not None:
            record = prev.copy_as(cur.seq + 1)
            record.stime = record.rstime = now
            self.e.pool.insert_history(vm, record)

    def save_failure(self, vm: VirtualMachine) -> None:
        if vm.lcm_state == L.SAVE_MIGRATE:
            self._back_to_previous_host(vm)
            self._set(vm, L.RUNNING)
            self.e.vmm.poll(vm)
            self._log(
                vm,
                "Fail to save VM state while migrating. Assuming that the VM is still "
                "RUNNING (will poll VM).",
            )
        elif vm.lcm_state in (L.SAVE_SUSPEND, L.SAVE_STOP):
            self._set(vm, L.RUNNING)
            self.e.vmm.poll(vm)
            self._log(
                vm, "Fail to save VM state. Assuming that the VM is still RUNNING (will poll VM)."
            )

    def deploy_success(self, vm: VirtualMachine) -> None:
        if vm.lcm_state == L.MIGRATE:
            now = self.e.now()
            if vm.history is not None:
                vm.history.rstime = now
                self.e.pool.update_history(vm)
            if vm.previous is not None:
                vm.previous.etime = vm.previous.retime = now
                vm.previous.reason = Reason.USER
                self.e.pool.update_previous_history(vm)
            self._del_cap(vm, vm.previous)
        self._set(vm, L.RUNNING, "New VM state is RUNNING")  # quirk 4: any other state too

    def deploy_failure(self, vm: VirtualMachine) -> None:
        if vm.lcm_state == L.MIGRATE:
            self._back_to_previous_host(vm)
            self._set(vm, L.RUNNING)
            self.e.vmm.poll(vm)
            self._log(
                vm, "Fail to life migrate VM. Assuming that the VM is still RUNNING (will poll VM)."
            )
        elif vm.lcm_state == L.BOOT:
            if vm.history is not None:
                vm.history.retime = self.e.now()
                self.e.pool.update_history(vm)
            self.failure(vm)

    def shutdown_success(self, vm: VirtualMachine) -> None:
        self._set(vm, L.EPILOG)
        if vm.history is not None:
            vm.history.estime = vm.history.retime = self.e.now()
            self.e.pool.update_history(vm)
        self.e.tm.epilog(vm)
        self._log(vm, "New VM state is EPILOG")

    def shutdown_failure(self, vm: VirtualMachine) -> None:
        self._set(vm, L.RUNNING)
        self.e.vmm.poll(vm)
        self._log(vm, "Fail to shutdown VM. Assuming that the VM is still RUNNING (will poll VM).")

    def cancel_success(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            vm.history.etime = self.e.now()
            vm.history.reason = Reason.CANCEL
            self.e.pool.update_history(vm)
        self._del_cap(vm, vm.history)
        self.e.dm.done(vm)  # quirk 5: no epilog

    def cancel_failure(self, vm: VirtualMachine) -> None:
        self._set(vm, L.RUNNING)
        self.e.vmm.poll(vm)
        self._log(vm, "Fail to cancel VM. Assuming that the VM is still RUNNING (will poll VM).")

    def prolog_success(self, vm: VirtualMachine) -> None:
        s = vm.lcm_state
        if s not in (L.PROLOG, L.PROLOG_MIGRATE, L.PROLOG_RESUME):
            return self._log(vm, "prolog_success_action, VM in a wrong state", "E")
        self._set(vm, L.BOOT)
        if vm.history is not None:
            vm.history.petime = vm.history.rstime = self.e.now()
            self.e.pool.update_history(vm)
        if s == L.PROLOG:
            self.e.vmm.deploy(vm)
        else:
            self.e.vmm.restore(vm)
        self._log(vm, "New VM state is BOOT")

    def prolog_failure(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            vm.history.petime = self.e.now()
            self.e.pool.update_history(vm)
        self.failure(vm)

    def epilog_success(self, vm: VirtualMachine) -> None:
        s = vm.lcm_state
        if s not in (L.EPILOG_STOP, L.EPILOG):
            return self._log(vm, "epilog_success_action, VM in a wrong state", "E")
        if vm.history is not None:
            vm.history.eetime = vm.history.etime = self.e.now()
            self.e.pool.update_history(vm)
        self._del_cap(vm, vm.history)
        if s == L.EPILOG_STOP:
            self.e.dm.stop_success(vm)
        else:
            self.e.dm.done(vm)

    def epilog_failure(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            vm.history.eetime = self.e.now()
            self.e.pool.update_history(vm)
        self.failure(vm)

    def monitor_failure(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            vm.history.retime = self.e.now()
            self.e.pool.update_history(vm)
        self.failure(vm)

    def monitor_suspend(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            now = self.e.now()
            vm.history.retime = vm.history.etime = now
            vm.history.reason = Reason.STOP_RESUME
            self.e.pool.update_history(vm)
        self._del_cap(vm, vm.history)
        self._log(vm, "VM is suspended.")
        self.e.dm.suspend_success(vm)

    def monitor_done(self, vm: VirtualMachine) -> None:
        self._set(vm, L.UNKNOWN, "New VM state is UNKNOWN")

    def failure(self, vm: VirtualMachine) -> None:
        """1.4's ``failure_action``."""
        self._set(vm, L.FAILURE)
        if vm.history is not None:
            vm.history.etime = self.e.now()
            vm.history.reason = Reason.ERROR
            self.e.pool.update_history(vm)
        self._del_cap(vm, vm.history)
        self.e.dm.failed(vm)
        self.e.tm.epilog_delete(vm)
