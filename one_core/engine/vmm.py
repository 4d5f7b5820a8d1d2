"""Virtualization actions: driver calls issued for the LCM and their replies (§3.3, §3.4, §1.6)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from one_core.engine.errors import CapabilityError
from one_core.errors import DriverError
from one_core.vm.model import History, VirtualMachine
from one_core.vm.states import IGNORE_REPLIES, LcmState

if TYPE_CHECKING:
    from one_core.drivers import LoadedDriver
    from one_core.engine.core import Engine

L = LcmState

log = logging.getLogger("one.VMM")

_INT = re.compile(r"\s*([+-]?\d+)")

FAILURE_TEXTS = {
    "DEPLOY": "Error deploying virtual machine",
    "SHUTDOWN": "Error shuting down VM, ",
    "CANCEL": "Error canceling VM, ",
    "SAVE": "Error saving VM state, ",
    "RESTORE": "Error restoring VM, ",
    "MIGRATE": "Error live-migrating VM, ",
    "POLL": "Error monitoring VM, ",
}
"""vm.log text of each failed VMM reply (1.4 spellings)."""

COUNTERS = {"USEDMEMORY": "memory", "USEDCPU": "cpu", "NETTX": "net_tx", "NETRX": "net_rx"}


def stream_int(text: str) -> int | None:
    """C++ ``>>`` of an int: ``12.7`` → 12; None when no digits lead."""
    m = _INT.match(str(text))
    return int(m.group(1)) if m else None


class VMManager:
    def __init__(self, engine: Engine):
        self.e = engine
        self._deploy_ids: dict[int, str] = {}
        self._mark = 0.0

    # -- drivers -----------------------------------------------------------
    def driver(self, name: str) -> LoadedDriver | None:
        try:
            return self.e.drivers.get("vmm", name)
        except Exception:
            return None

    def require(self, vm_mad: str, hook: str, verb: str) -> None:
        """Refuse an action the host's driver cannot do, before any state change."""
        driver = self.driver(vm_mad)
        if driver is not None and not driver.implements(hook):
            raise CapabilityError(f"driver {driver.name} cannot {verb}")

    def _log(self, vm: VirtualMachine, message: str, level: str = "I") -> None:
        self.e.vm_log(vm.oid, "VMM", level, message)

    def _issue(
        self,
        vm: VirtualMachine,
        action: str,
        record: History | None,
        work: Callable[[LoadedDriver], Any],
        *,
        on_error: Callable[[VirtualMachine], None] | None,
        track: bool = True,
    ) -> None:
        """Submit ``work(driver)`` for ``vm``; its reply comes back to :meth:`reply`."""
        driver = self.driver(record.vm_mad) if record is not None else None
        if driver is None:
            why = "no history" if record is None else f"driver {record.vm_mad} not loaded"
            self._log(vm, f"{action.lower()}_action, {why}", "E")
            if on_error is not None:
                self.e.dispatcher.post(self._internal_failure, vm.oid, on_error)
            return
        if track:
            vm.pending_action = action
            self.e.pool.write(vm)
        vid = vm.oid
        self.e.executor.submit(
            vid,
            action,
            lambda: work(driver),
            lambda result, error: self.reply(vid, action, result, error),
        )

    def _internal_failure(self, vid: int, on_error: Callable[[VirtualMachine], None]) -> None:
        vm = self.e.pool.get(vid)
        if vm is not None and vm.lcm_state not in IGNORE_REPLIES:
            on_error(vm)

    def _deploy_id(self, vm: VirtualMachine) -> Callable[[], str]:
        """The deploy id as known when the call runs (a delete may follow a deploy in flight)."""
        vid, known = vm.oid, vm.deploy_id
        return lambda: known or self._deploy_ids.get(vid, "")

    # -- actions -------------------------------------------------------------
    def deploy(self, vm: VirtualMachine) -> None:
        snap = vm.snapshot()
        var_dir = self.e.cfg.var_dir
        record = vm.history

        def work(driver: LoadedDriver) -> str:
            rec = snap.record(var_dir)
            if driver.implements("vmm_deployment_file"):
                text = driver.call("vmm_deployment_file", vm=rec)
            else:
                text = snap.template.to_xml()
            path = snap.paths(var_dir).deployment_file
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            deploy_id = driver.call(
                "vmm_deploy", vid=snap.oid, host=rec.host, deployment_file=path, deployment=text
            )
            deploy_id = str(deploy_id or "").split()[0] if deploy_id else ""
            self._deploy_ids[snap.oid] = deploy_id
            return deploy_id

        self._issue(vm, "DEPLOY", record, work, on_error=self.e.lcm.deploy_failure)

    def restore(self, vm: VirtualMachine) -> None:
        record, did = vm.history, self._deploy_id(vm)
        host = record.host_name if record else ""
        checkpoint = vm.paths(self.e.cfg.var_dir).checkpoint

        def work(driver: LoadedDriver) -> str | None:
            return driver.call(
                "vmm_restore", vid=vm.oid, host=host, deploy_id=did(), checkpoint=checkpoint
            )

        self._issue(vm, "RESTORE", record, work, on_error=self.e.lcm.deploy_failure)

    def save(self, vm: VirtualMachine) -> None:
        record, did = vm.history, self._deploy_id(vm)
        if vm.lcm_state == L.SAVE_MIGRATE:
            if vm.previous is None:
                self._log(vm, "save_action, no previous history", "E")
                self.e.dispatcher.post(self._internal_failure, vm.oid, self.e.lcm.save_failure)
                return
            host = vm.previous.host_name  # quirk 38: the target's driver, the source host
        else:
            host = record.host_name if record else ""
        checkpoint = vm.paths(self.e.cfg.var_dir).checkpoint

        def work(driver: LoadedDriver) -> None:
            driver.call("vmm_save", vid=vm.oid, host=host, deploy_id=did(), checkpoint=checkpoint)

        self._issue(vm, "SAVE", record, work, on_error=self.e.lcm.save_failure)

    def shutdown(self, vm: VirtualMachine) -> None:
        record, did = vm.history, self._deploy_id(vm)
        host = record.host_name if record else ""
        self._issue(
            vm,
            "SHUTDOWN",
            record,
            lambda d: d.call("vmm_shutdown", vid=vm.oid, host=host, deploy_id=did()),
            on_error=self.e.lcm.shutdown_failure,
        )

    def cancel(self, vm: VirtualMachine) -> None:
        record, did = vm.history, self._deploy_id(vm)
        host = record.host_name if record else ""
        on_error = self.e.lcm.cancel_failure if vm.lcm_state == L.CANCEL else None
        self._issue(
            vm,
            "CANCEL",
            record,
            lambda d: d.call("vmm_cancel", vid=vm.oid, host=host, deploy_id=did()),
            on_error=on_error,
            track=vm.lcm_state == L.CANCEL,
        )

    def cancel_previous(self, vm: VirtualMachine) -> None:
        record, did = vm.previous, self._deploy_id(vm)
        host = record.host_name if record else ""
        self._issue(
            vm,
            "CANCEL_PREVIOUS",
            record,
            lambda d: d.call("vmm_cancel", vid=vm.oid, host=host, deploy_id=did()),
            on_error=None,
            track=False,
        )

    def migrate(self, vm: VirtualMachine) -> None:
        record, did = vm.history, self._deploy_id(vm)
        if vm.previous is None:
            self._log(vm, "migrate_action, no previous history", "E")
            self.e.dispatcher.post(self._internal_failure, vm.oid, self.e.lcm.deploy_failure)
            return
        source, target = vm.previous.host_name, record.host_name if record else ""
        self._issue(
            vm,
            "MIGRATE",
            vm.previous,
            lambda d: d.call(
                "vmm_migrate", vid=vm.oid, host=source, deploy_id=did(), dest_host=target
            ),
            on_error=self.e.lcm.deploy_failure,
        )

    def poll(self, vm: VirtualMachine) -> None:
        record, did = vm.history, self._deploy_id(vm)
        if record is None:
            log.error("Monitoring VM %s but it has no history.", vm.oid)
            return
        host = record.host_name
        self._issue(
            vm,
            "POLL",
            record,
            lambda d: d.call("vmm_poll", vid=vm.oid, host=host, deploy_id=did()),
            on_error=None,
            track=False,
        )

    def driver_cancel(self, vm: VirtualMachine) -> None:
        """Drop the VM's queued VMM/TM work (the call in flight finishes; its reply is ignored)."""
        self.e.executor.cancel_pending(vm.oid)

    # -- replies (§3.3) --------------------------------------------------------
    def reply(self, vid: int, action: str, result: Any, error: DriverError | None) -> None:
        info = str(error) if error is not None else ("-" if result is None else str(result))
        raw = f"{action} {'FAILURE' if error else 'SUCCESS'} {vid} {info}"
        log.debug("Message received: %s", raw)
        vm = self.e.pool.get(vid)
        if vm is None:
            return
        if action == "CANCEL_PREVIOUS":
            if error is not None:
                self._log(vm, f"Error canceling VM on previous host, {error}", "E")
            return
        if vm.lcm_state in IGNORE_REPLIES or vm.state != 3:
            self._log(vm, f"Ignored: {raw}", "W")
            return
        if action != "POLL":
            vm.pending_action = ""
        if error is not None:
            text = str(error)
            if action == "DEPLOY":
                msg = FAILURE_TEXTS[action] + ("" if text.startswith("-") else f": {text}")
            else:
                msg = FAILURE_TEXTS[action] + text
            self._log(vm, msg, "E")
        lcm = self.e.lcm
        if action == "DEPLOY":
            if error is None:
                vm.deploy_id = str(result or "")
                self.e.pool.write(vm)
                lcm.deploy_success(vm)
            else:
                lcm.deploy_failure(vm)
        elif action == "RESTORE":
            if error is None:
                if result:
                    vm.deploy_id = str(result)
                    self.e.pool.write(vm)
                lcm.deploy_success(vm)
            else:
                lcm.deploy_failure(vm)
        elif action == "MIGRATE":
            (lcm.deploy_failure if error else lcm.deploy_success)(vm)
        elif action == "SHUTDOWN":
            (lcm.shutdown_failure if error else lcm.shutdown_success)(vm)
        elif action == "CANCEL":
            (lcm.cancel_failure if error else lcm.cancel_success)(vm)
        elif action == "SAVE":
            (lcm.save_failure if error else lcm.save_success)(vm)
        elif action == "POLL" and error is None:
            if result is not None and not hasattr(result, "items"):
                self._log(vm, f"Error monitoring VM, driver returned {type(result).__name__}", "E")
                return
            self.poll_result(vm, result or {})

    def poll_result(self, vm: VirtualMachine, info: dict[str, Any]) -> None:
        """§1.6 and §3.4: counters, extra attributes, then the STATE letter."""
        letter = ""
        template_changed = False
        for name, value in info.items():
            key, text = str(name).upper(), str(value)
            if key in COUNTERS:
                number = stream_int(text)
                if number is not None:
                    setattr(vm, COUNTERS[key], number)
            elif key == "STATE":
                letter = text[:1]
            else:
                vm.template.set(key, text)
                template_changed = True
                self._log(
                    vm,
                    f"Unknown monitoring attribute (adding/updating template): {key}={text}",
                    "W",
                )
        self.e.pool.update(vm, with_template=template_changed)
        if vm.lcm_state not in (L.RUNNING, L.UNKNOWN):
            return
        lcm = self.e.lcm
        if letter == "a":
            if vm.lcm_state == L.UNKNOWN:
                vm.lcm_state = L.RUNNING
                self.e.pool.update(vm)
                self._log(vm, "VM was now found, new state is RUNNING")
        elif letter == "p":
            lcm.monitor_suspend(vm)
        elif letter == "e":
            lcm.monitor_failure(vm)
        elif letter == "d" and vm.lcm_state == L.RUNNING:
            self._log(
                vm,
                "VM running but it was not found. Restart and delete actions available or try "
                "to recover it manually",
            )
            lcm.monitor_done(vm)

    # -- timer (§9.6) ---------------------------------------------------------------
    def timer(self) -> None:
        """Poll every RUNNING/UNKNOWN VM whose last poll is older than the interval."""
        from one_core.db.vm_models import VMRow

        self._mark += self.e.cfg.manager_timer
        if self._mark >= 600:  # 1.4 logged a mark every 600 s of timer periods
            self._mark = 0
            log.info("--Mark--")
        now = self.e.now()
        interval = self.e.cfg.vm_polling_interval
        ids = self.e.pool.ids_where(
            VMRow.state == 3,
            VMRow.lcm_state << [int(L.RUNNING), int(L.UNKNOWN)],
            VMRow.last_poll <= now - interval,
        )
        for vid in ids:
            vm = self.e.pool.get(vid)
            if vm is None or vm.history is None:
                continue
            if self.e.executor.in_flight(vid):
                continue
            vm.last_poll = now
            self.e.pool.update(vm)
            self.poll(vm)
