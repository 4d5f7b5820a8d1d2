"""Transfer phases: build each script (§4.2), run it through the TM driver, map the reply (§3.5)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from one_core.engine.executor import record_info
from one_core.engine.transitions import EPILOG_STATES, PROLOG_STATES, Event
from one_core.errors import DriverError
from one_core.vm import transfer
from one_core.vm.model import History, VirtualMachine, host_of
from one_core.vm.paths import VMPaths
from one_core.vm.states import IGNORE_REPLIES
from one_core.vm.transfer import TransferCommand, TransferError

if TYPE_CHECKING:
    from one_core.drivers import LoadedDriver
    from one_core.engine.core import Engine

log = logging.getLogger("one.TM")


class TransferManager:
    def __init__(self, engine: Engine):
        self.e = engine

    def driver(self, name: str) -> LoadedDriver | None:
        try:
            return self.e.drivers.get("tm", name)
        except Exception:
            return None

    def _log(self, vid: int, message: str, level: str = "I") -> None:
        self.e.vm_log(vid, "TM", level, message)

    def _phase(
        self,
        vm: VirtualMachine,
        suffix: str,
        record: History | None,
        build: Callable[[VMPaths], list[TransferCommand]],
        *,
        kind: str,
        paths_record: History | None = None,
    ) -> None:
        """Write ``transfer.<seq>.<suffix>`` and run it; ``kind`` is prolog, epilog or delete."""
        vid = vm.oid
        driver = self.driver(record.tm_mad) if record is not None else None
        if driver is None:
            why = "no history" if record is None else f"driver {record.tm_mad} not loaded"
            if kind == "delete":
                self._log(
                    vid, f"epilog_delete, {why}. You may need to manually clean the host", "E"
                )
                return
            self._log(vid, f"{kind}, {why}", "E")
            self.e.dispatcher.post(self.reply, vid, kind, None, TransferError(why))
            return
        paths = vm.paths(self.e.cfg.var_dir, paths_record or vm.history)
        if kind != "delete":
            vm.pending_action = f"TRANSFER {suffix}"
            self.e.lcm.write_pending(vm)

        def work() -> None:
            commands = build(paths)
            transfer.write_script(paths.transfer_file(suffix), commands)
            transfer.run_commands(driver, vid, commands)

        label = f"TRANSFER {suffix}"
        self.e.executor.submit(
            vid,
            label,
            work,
            lambda result, error: self.reply(vid, kind, result, error, record, paths),
            info=record_info(self.e.drivers, record, label),  # the record's host and driver
        )

    # -- phases ----------------------------------------------------------------
    def prolog(self, vm: VirtualMachine) -> None:
        snap = vm.snapshot()
        host = host_of(vm.history)
        front = self.e.cfg.front
        vid = vm.oid

        def build(paths: VMPaths) -> list[TransferCommand]:
            warn = lambda msg: self._log(vid, msg, "W")  # noqa: E731
            commands = transfer.disk_commands(snap.template, host, paths, front, warn)
            ctx = transfer.context_command(snap.template, host, paths)
            if ctx is None:
                self._log(vid, "Virtual Machine has no context")
                return commands
            try:
                iso = self.e.build_context(snap, paths)
            except Exception as exc:
                raise TransferError(f"prolog, could not write context file for VM {vid}") from exc
            commands.append(TransferCommand(ctx.op, ctx.args, iso=iso or ""))
            return commands

        self._phase(vm, "prolog", vm.history, build, kind="prolog")

    def prolog_migr(self, vm: VirtualMachine) -> None:
        prev_host = host_of(vm.previous)
        host = host_of(vm.history)
        self._phase(
            vm,
            "migrate",
            vm.history,
            lambda p: transfer.migrate_commands(prev_host, host, p),
            kind="prolog",
        )

    def _host_and_front(
        self,
        vm: VirtualMachine,
        suffix: str,
        commands: Callable[[str, VMPaths, str], list[TransferCommand]],
        *,
        kind: str,
    ) -> None:
        """A phase between the VM's host and the front-end: ``commands(host, paths, front)``."""
        host, front = host_of(vm.history), self.e.cfg.front
        self._phase(vm, suffix, vm.history, lambda p: commands(host, p, front), kind=kind)

    def prolog_resume(self, vm: VirtualMachine) -> None:
        self._host_and_front(vm, "resume", transfer.resume_commands, kind="prolog")

    def epilog(self, vm: VirtualMachine) -> None:
        commands = functools.partial(transfer.epilog_commands, vm.snapshot().template)
        self._host_and_front(vm, "epilog", commands, kind="epilog")

    def epilog_stop(self, vm: VirtualMachine) -> None:
        self._host_and_front(vm, "stop", transfer.stop_commands, kind="epilog")

    def epilog_delete(self, vm: VirtualMachine) -> None:
        host = host_of(vm.history)
        self._phase(
            vm, "delete", vm.history, lambda p: transfer.delete_commands(host, p), kind="delete"
        )

    def epilog_delete_previous(self, vm: VirtualMachine) -> None:
        """``DELETE <prev host>:<cur rdir>`` through the prev record's TM driver (quirk 34)."""
        host = host_of(vm.previous)
        self._phase(
            vm,
            "delete_prev",
            vm.previous,
            lambda p: transfer.delete_commands(host, p),
            kind="delete",
            paths_record=vm.history,
        )

    # -- replies -----------------------------------------------------------------
    def reply(
        self,
        vid: int,
        kind: str,
        result: Any,
        error: DriverError | None,
        record: History | None = None,
        paths: VMPaths | None = None,
    ) -> None:
        raw = f"TRANSFER {'FAILURE' if error else 'SUCCESS'} {vid} {error or '-'}"
        log.debug("Message received: %s", raw)
        if kind == "delete":
            if error is not None and record is not None and paths is not None:
                self._log(
                    vid,
                    f"Error deleting images: {error}. You may need to manually clean "
                    f"{record.host_name}:{paths.rdir}",
                    "E",
                )
            return
        vm = self.e.pool.get(vid)
        if vm is None:
            return
        if vm.lcm_state in IGNORE_REPLIES:
            self._log(vid, f"Ignored: {raw}", "W")
            return
        if error is not None:
            if isinstance(error, TransferError):
                self._log(vid, str(error), "E")
            else:
                self._log(vid, f"Error excuting image transfer script: {error}", "E")
        if vm.lcm_state in PROLOG_STATES:
            vm.pending_action = ""
            self.e.lcm.fire(vm, Event.PROLOG_FAILURE if error else Event.PROLOG_SUCCESS)
        elif vm.lcm_state in EPILOG_STATES:
            vm.pending_action = ""
            self.e.lcm.fire(vm, Event.EPILOG_FAILURE if error else Event.EPILOG_SUCCESS)
        else:
            log.error("Wrong state in TM answer for VM %s", vid)
