"""Virtualization actions: driver calls issued for the LCM and their replies (§3.3, §3.4, §1.6)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from one_core.cnum import stream_int_or_none
from one_core.engine.errors import CapabilityError
from one_core.engine.executor import record_info
from one_core.engine.transitions import Event
from one_core.errors import DriverError
from one_core.vm.model import History, VirtualMachine, host_of
from one_core.vm.paths import write_local
from one_core.vm.states import IGNORE_REPLIES, LcmState, VmState

if TYPE_CHECKING:
    from one_core.drivers import LoadedDriver
    from one_core.engine.core import Engine

L = LcmState

log = logging.getLogger("one.VMM")

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

REPLY_EVENTS: dict[str, tuple[Event, Event]] = {
    "DEPLOY": (Event.DEPLOY_SUCCESS, Event.DEPLOY_FAILURE),
    "RESTORE": (Event.DEPLOY_SUCCESS, Event.DEPLOY_FAILURE),
    "MIGRATE": (Event.DEPLOY_SUCCESS, Event.DEPLOY_FAILURE),
    "SHUTDOWN": (Event.SHUTDOWN_SUCCESS, Event.SHUTDOWN_FAILURE),
    "CANCEL": (Event.CANCEL_SUCCESS, Event.CANCEL_FAILURE),
    "SAVE": (Event.SAVE_SUCCESS, Event.SAVE_FAILURE),
}
"""Driver reply → LCM callback event (success, failure) (§3.3)."""

POLL_EVENTS: dict[str, Event] = {
    "a": Event.POLL_ACTIVE,
    "p": Event.POLL_PAUSED,
    "e": Event.POLL_ERROR,
    "d": Event.POLL_GONE,
}
"""The ``STATE`` letter of a poll (§1.6); any other letter does nothing."""


class _DeployId:
    """The deploy id a DEPLOY in flight will return, for calls queued behind it."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = ""


class VMManager:
    def __init__(self, engine: Engine):
        self.e = engine
        self._deploy_ids: dict[int, _DeployId] = {}
        """VMs with a DEPLOY in flight; the entry goes with its reply (or the VM)."""
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
        on_error: Event | None,
        track: bool = True,
        finished: Callable[[], None] | None = None,
    ) -> bool:
        """Submit ``work(driver)`` for ``vm``; its reply comes back to :meth:`reply`
        (after ``finished()``). False when no driver could take it."""
        driver = self.driver(record.vm_mad) if record is not None else None
        if driver is None:
            why = "no history" if record is None else f"driver {record.vm_mad} not loaded"
            self._log(vm, f"{action.lower()}_action, {why}", "E")
            if on_error is not None:
                self.e.dispatcher.post(self._internal_failure, vm.oid, on_error)
            return False
        if track:
            vm.pending_action = action
            self.e.lcm.write_pending(vm)
        vid = vm.oid

        def done(result: Any, error: DriverError | None) -> None:
            if finished is not None:
                finished()
            self.reply(vid, action, result, error)

        info = record_info(self.e.drivers, record, action)  # the record's host and driver
        self.e.executor.submit(vid, action, lambda: work(driver), done, info=info)
        return True

    def _internal_failure(self, vid: int, event: Event) -> None:
        vm = self.e.pool.get(vid)
        if vm is not None and vm.lcm_state not in IGNORE_REPLIES:
            self.e.lcm.fire(vm, event)

    def _deploy_id(self, vm: VirtualMachine) -> Callable[[], str]:
        """The deploy id as known when the call runs (a delete may follow a deploy in flight)."""
        known = vm.deploy_id
        slot = None if known else self._deploy_ids.get(vm.oid)
        return lambda: known or (slot.value if slot is not None else "")

    def forget(self, vid: int) -> None:
        """VM ``vid`` left its host for good (DONE): drop what is kept for it."""
        self._deploy_ids.pop(vid, None)

    # -- actions -------------------------------------------------------------
    def deploy(self, vm: VirtualMachine) -> None:
        snap = vm.snapshot()
        var_dir = self.e.cfg.var_dir
        record = vm.history
        vid, slot = vm.oid, _DeployId()

        def work(driver: LoadedDriver) -> str:
            rec = snap.record(var_dir)
            if driver.implements("vmm_deployment_file"):
                text = driver.call("vmm_deployment_file", vm=rec)
            else:
                text = snap.template.to_xml()
            path = snap.paths(var_dir).deployment_file
            write_local(path, text)
            deploy_id = driver.call(
                "vmm_deploy", vid=snap.oid, host=rec.host, deployment_file=path, deployment=text
            )
            deploy_id = str(deploy_id or "").split()[0] if deploy_id else ""
            slot.value = deploy_id
            return deploy_id

        def finished() -> None:
            if self._deploy_ids.get(vid) is slot:
                del self._deploy_ids[vid]

        self._deploy_ids[vid] = slot
        if not self._issue(
            vm, "DEPLOY", record, work, on_error=Event.DEPLOY_FAILURE, finished=finished
        ):
            finished()

    def restore(self, vm: VirtualMachine) -> None:
        record, did, vid = vm.history, self._deploy_id(vm), vm.oid
        host = host_of(record)
        checkpoint = vm.paths(self.e.cfg.var_dir).checkpoint

        def work(driver: LoadedDriver) -> str | None:
            return driver.call(
                "vmm_restore", vid=vid, host=host, deploy_id=did(), checkpoint=checkpoint
            )

        self._issue(vm, "RESTORE", record, work, on_error=Event.DEPLOY_FAILURE)

    def save(self, vm: VirtualMachine) -> None:
        record, did, vid = vm.history, self._deploy_id(vm), vm.oid
        if vm.lcm_state == L.SAVE_MIGRATE:
            if vm.previous is None:
                self._log(vm, "save_action, no previous history", "E")
                self.e.dispatcher.post(self._internal_failure, vm.oid, Event.SAVE_FAILURE)
                return
            host = vm.previous.host_name  # quirk 38: the target's driver, the source host
        else:
            host = host_of(record)
        checkpoint = vm.paths(self.e.cfg.var_dir).checkpoint

        def work(driver: LoadedDriver) -> None:
            driver.call("vmm_save", vid=vid, host=host, deploy_id=did(), checkpoint=checkpoint)

        self._issue(vm, "SAVE", record, work, on_error=Event.SAVE_FAILURE)

    def _call_on_host(
        self,
        vm: VirtualMachine,
        action: str,
        hook: str,
        record: History | None,
        *,
        on_error: Event | None,
        track: bool = True,
    ) -> None:
        """Issue ``hook(vid, host, deploy_id)`` as ``action`` on the host of ``record``."""
        did, vid = self._deploy_id(vm), vm.oid
        host = host_of(record)
        self._issue(
            vm,
            action,
            record,
            lambda d: d.call(hook, vid=vid, host=host, deploy_id=did()),
            on_error=on_error,
            track=track,
        )

    def shutdown(self, vm: VirtualMachine) -> None:
        self._call_on_host(
            vm, "SHUTDOWN", "vmm_shutdown", vm.history, on_error=Event.SHUTDOWN_FAILURE
        )

    def cancel(self, vm: VirtualMachine) -> None:
        cancelling = vm.lcm_state == L.CANCEL
        self._call_on_host(
            vm,
            "CANCEL",
            "vmm_cancel",
            vm.history,
            on_error=Event.CANCEL_FAILURE if cancelling else None,
            track=cancelling,
        )

    def cancel_previous(self, vm: VirtualMachine) -> None:
        self._call_on_host(
            vm, "CANCEL_PREVIOUS", "vmm_cancel", vm.previous, on_error=None, track=False
        )

    def migrate(self, vm: VirtualMachine) -> None:
        record, did, vid = vm.history, self._deploy_id(vm), vm.oid
        if vm.previous is None:
            self._log(vm, "migrate_action, no previous history", "E")
            self.e.dispatcher.post(self._internal_failure, vm.oid, Event.DEPLOY_FAILURE)
            return
        source, target = vm.previous.host_name, host_of(record)
        self._issue(
            vm,
            "MIGRATE",
            vm.previous,
            lambda d: d.call(
                "vmm_migrate", vid=vid, host=source, deploy_id=did(), dest_host=target
            ),
            on_error=Event.DEPLOY_FAILURE,
        )

    def poll(self, vm: VirtualMachine) -> None:
        if vm.history is None:
            log.error("Monitoring VM %s but it has no history.", vm.oid)
            return
        self._call_on_host(vm, "POLL", "vmm_poll", vm.history, on_error=None, track=False)

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
        if vm.lcm_state in IGNORE_REPLIES or vm.state != VmState.ACTIVE:
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
        if action == "POLL":
            if error is not None:
                return
            if result is not None and not hasattr(result, "items"):
                self._log(vm, f"Error monitoring VM, driver returned {type(result).__name__}", "E")
                return
            self.poll_result(vm, result or {})
            return
        dirty = False
        if error is None and action in ("DEPLOY", "RESTORE") and (result or action == "DEPLOY"):
            vm.deploy_id = str(result or "")
            dirty = True
        events = REPLY_EVENTS.get(action)
        row = self.e.lcm.fire(vm, events[error is not None]) if events is not None else None
        if dirty and (row is None or not row.changes_state):
            self.e.pool.write(vm)  # else the row's state write carried the deploy id

    def poll_result(self, vm: VirtualMachine, info: dict[str, Any]) -> None:
        """§1.6 and §3.4: counters, extra attributes, then the STATE letter."""
        letter = ""
        template_changed = False
        for name, value in info.items():
            key, text = str(name).upper(), str(value)
            if key in COUNTERS:
                number = stream_int_or_none(text)
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
        event = POLL_EVENTS.get(letter)
        if event is not None:
            self.e.lcm.fire(vm, event)

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
            VMRow.state == int(VmState.ACTIVE),
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
