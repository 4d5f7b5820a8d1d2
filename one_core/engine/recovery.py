"""Start-up recovery: reconcile each VM oned left in a transitional state.

1.4 did nothing (quirk 12). The rules, one per LCM state, are in
``docs/recovery.md``; they rely on every state change (and the driver action
it started, ``vm_pool.pending_action``) being committed before the action was
issued. Recovery runs on the dispatcher before the API port opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from one_core.errors import DriverError
from one_core.vm.model import VirtualMachine
from one_core.vm.states import LcmState, Reason, VmState

if TYPE_CHECKING:
    from one_core.drivers import LoadedDriver
    from one_core.engine.core import Engine

L = LcmState


def _log(engine: Engine, vm: VirtualMachine, what: str) -> None:
    message = f"Recovering VM in state {LcmState(vm.lcm_state).name} after a restart: {what}"
    engine.vm_log(vm.oid, "LCM", "I", message)
    engine.log.info("VM %s: %s", vm.oid, message)


def recover(engine: Engine) -> dict[int, str]:
    """Reconcile every ACTIVE VM; return ``{vid: rule applied}`` (also logged)."""
    from one_core.db.vm_models import VMRow

    applied: dict[int, str] = {}
    for vid in engine.pool.ids_where(VMRow.state == int(VmState.ACTIVE)):
        vm = engine.pool.get(vid)
        if vm is None:
            continue
        applied[vid] = _recover_one(engine, vm)
    return applied


def _recover_one(engine: Engine, vm: VirtualMachine) -> str:
    s = LcmState(vm.lcm_state)
    lcm, vmm, tm, dm = engine.lcm, engine.vmm, engine.tm, engine.dm
    cur = vm.history
    if cur is None:
        _log(engine, vm, "no history, the VM fails")
        dm.failed(vm)
        return "failed"
    if s == L.LCM_INIT:
        if cur.stime == 0:
            _log(engine, vm, "deploy again")
            lcm.deploy(vm)
            return "deploy"
        if cur.reason == Reason.STOP_RESUME:
            _log(engine, vm, "restore again")
            lcm.restore(vm)
            return "restore"
        _log(engine, vm, "unknown step, the VM fails")
        lcm.failure(vm)
        return "failed"
    if s in (L.RUNNING, L.UNKNOWN):
        vm.last_poll = engine.now()
        engine.pool.write(vm)
        vmm.poll(vm)
        return "poll"
    if s == L.PROLOG:
        _log(engine, vm, "prolog again")
        tm.prolog(vm)
        return "prolog"
    if s == L.PROLOG_RESUME:
        _log(engine, vm, "resume transfer again")
        tm.prolog_resume(vm)
        return "prolog_resume"
    if s == L.PROLOG_MIGRATE:
        _log(engine, vm, "migration transfer again")
        tm.prolog_migr(vm)
        return "prolog_migr"
    if s == L.EPILOG:
        _log(engine, vm, "epilog again")
        tm.epilog(vm)
        return "epilog"
    if s == L.EPILOG_STOP:
        _log(engine, vm, "stop transfer again")
        tm.epilog_stop(vm)
        return "epilog_stop"
    if s == L.CANCEL:
        _log(engine, vm, "cancel again")
        vmm.cancel(vm)
        return "cancel"
    if s == L.FAILURE:
        _log(engine, vm, "finish the failure")
        dm.failed(vm)
        tm.epilog_delete(vm)
        return "failed"
    if s == L.DELETE:
        _log(engine, vm, "finish the delete")
        if vm.deploy_id:
            vmm.cancel(vm)
        tm.epilog_delete(vm)
        dm.done(vm)
        return "done"
    if s == L.BOOT and not vm.deploy_id:
        _log(engine, vm, "boot again")
        if vm.pending_action == "RESTORE":
            vmm.restore(vm)
        else:
            vmm.deploy(vm)
        return "deploy"
    # BOOT with a domain, SHUTDOWN, SAVE_*, MIGRATE: ask the hypervisor first
    _log(engine, vm, "polling the VM to decide")
    _probe(engine, vm)
    return "probe"


def _probe(engine: Engine, vm: VirtualMachine) -> None:
    record = vm.history
    driver = engine.vmm.driver(record.vm_mad) if record else None
    vid, host, deploy_id = vm.oid, record.host_name if record else "", vm.deploy_id
    if driver is None:
        engine.dispatcher.post(_decide, engine, vid, None, DriverError("driver not loaded"))
        return

    def work(d: LoadedDriver = driver) -> Any:
        return d.call("vmm_poll", vid=vid, host=host, deploy_id=deploy_id)

    engine.executor.submit(vid, "RECOVER_POLL", work, lambda r, e: _decide(engine, vid, r, e))


def _decide(engine: Engine, vid: int, result: Any, error: DriverError | None) -> None:
    vm = engine.pool.get(vid)
    if vm is None or vm.state != VmState.ACTIVE:
        return
    letter = "" if error is not None else str((result or {}).get("STATE", ""))[:1]
    s = LcmState(vm.lcm_state)
    lcm, vmm = engine.lcm, engine.vmm
    gone = letter in ("d", "p")
    if s == L.BOOT:
        if letter == "a":
            _log(engine, vm, "the VM runs")
            lcm.deploy_success(vm)
        elif vm.pending_action == "RESTORE":
            vmm.restore(vm)
        else:
            vmm.deploy(vm)
    elif s == L.SHUTDOWN:
        if letter == "d":
            _log(engine, vm, "the VM is gone")
            lcm.shutdown_success(vm)
        else:
            vmm.shutdown(vm)
    elif s in (L.SAVE_STOP, L.SAVE_SUSPEND, L.SAVE_MIGRATE):
        if gone:
            _log(engine, vm, "the VM is saved")
            lcm.save_success(vm)
        else:
            vmm.save(vm)
    elif s == L.MIGRATE:
        if letter == "a":
            _log(engine, vm, "the VM runs on the target")
            lcm.deploy_success(vm)
        else:
            lcm.deploy_failure(vm)
