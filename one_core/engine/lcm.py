"""1.4's Life-cycle Manager: applies the rows of :data:`~one_core.engine.transitions.TABLE`.

Every VM state change goes through :meth:`LifeCycleManager.fire` (an event for a VM →
its row) and :meth:`~LifeCycleManager.apply`, on the dispatcher thread with the VM object
the pool holds. A row's driver actions go through :meth:`~LifeCycleManager.run`, the one
place that turns a table action into a VMM/TM call; the driver call is handed to the
executor only once the event's transaction committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from one_core.engine.errors import ActionError, EngineError
from one_core.engine.transitions import (
    MISSES,
    Action,
    Event,
    NewRecord,
    Rec,
    Stamp,
    Transition,
    find,
)
from one_core.vm.model import History, VirtualMachine
from one_core.vm.states import LcmState

if TYPE_CHECKING:
    from one_core.engine.core import Engine

dm_log = logging.getLogger("one.DiM")


_JOIN_UPDATE = frozenset(
    {
        Action.VMM_DEPLOY,
        Action.VMM_RESTORE,
        Action.VMM_SAVE,
        Action.VMM_SHUTDOWN,
        Action.VMM_CANCEL,
        Action.VMM_CANCEL_PREVIOUS,
        Action.VMM_MIGRATE,
        Action.TM_PROLOG,
        Action.TM_PROLOG_MIGR,
        Action.TM_PROLOG_RESUME,
        Action.TM_EPILOG,
        Action.TM_EPILOG_STOP,
        Action.TM_EPILOG_DELETE,
        Action.TM_EPILOG_DELETE_PREVIOUS,
    }
)
"""Driver actions that change the VM only in memory (``pending_action``): a row made of
these writes the VM once, after them."""


class LifeCycleManager:
    """Looks events up in the transition table and applies the rows."""

    def __init__(self, engine: Engine):
        self.e = engine
        self._joining: VirtualMachine | None = None
        """The VM whose row :meth:`apply` writes after the row's driver actions."""
        self._held: tuple[VirtualMachine, History, Event] | None = None
        """A new record a passing row added without writing it (DEPLOY's): the row it
        passes to (LCM_DEPLOY) stamps it and writes it once (:meth:`_writing_held`)."""
        vmm, tm = engine.vmm, engine.tm
        self._actions: dict[Action, Callable[[VirtualMachine], None]] = {
            Action.VMM_DEPLOY: vmm.deploy,
            Action.VMM_RESTORE: vmm.restore,
            Action.VMM_SAVE: vmm.save,
            Action.VMM_SHUTDOWN: vmm.shutdown,
            Action.VMM_CANCEL: vmm.cancel,
            Action.VMM_CANCEL_PREVIOUS: vmm.cancel_previous,
            Action.VMM_MIGRATE: vmm.migrate,
            Action.VMM_POLL: vmm.poll,
            Action.VMM_DRIVER_CANCEL: self._driver_cancel,
            Action.TM_PROLOG: tm.prolog,
            Action.TM_PROLOG_MIGR: tm.prolog_migr,
            Action.TM_PROLOG_RESUME: tm.prolog_resume,
            Action.TM_EPILOG: tm.epilog,
            Action.TM_EPILOG_STOP: tm.epilog_stop,
            Action.TM_EPILOG_DELETE: tm.epilog_delete,
            Action.TM_EPILOG_DELETE_PREVIOUS: tm.epilog_delete_previous,
            Action.TM_DRIVER_CANCEL: self._driver_cancel,
            Action.RECOVER_POLL: self._probe,
            Action.MARK_POLLED: self._mark_polled,
            Action.NOTIFY_PENDING: lambda vm: engine.notify_pending(),
            Action.RELEASE_LEASES: engine.pool.release_leases,
            Action.FORGET: self._forget,
        }

    # -- lookups ---------------------------------------------------------------
    def fire(self, vm: VirtualMachine, event: Event) -> Transition | None:
        """Apply ``event``'s row to ``vm``; without one, do what :data:`MISSES` says."""
        row = self.check(vm, event)
        if row is not None:
            self.apply(vm, row, event)
        return row

    def check(self, vm: VirtualMachine, event: Event) -> Transition | None:
        """``event``'s row for ``vm``, or None once the miss was handled (RPC events raise)."""
        row = find(vm, event)
        if row is None:
            self._miss(vm, event)
        return row

    def _miss(self, vm: VirtualMachine, event: Event) -> None:
        miss = MISSES.get(event)
        if miss is None or not miss.target:
            return
        text = miss.text.format(vid=vm.oid)
        if miss.target == "rpc":
            if miss.code == -2:
                dm_log.error(text)
                raise ActionError(-2)
            raise EngineError(text)
        if miss.target == "vm.log":
            self.e.vm_log(vm.oid, event.module, "E", text)
        else:
            dm_log.error(text)

    # -- applying a row -----------------------------------------------------------
    def apply(
        self,
        vm: VirtualMachine,
        row: Transition,
        event: Event,
        *,
        record: History | None = None,
    ) -> None:
        """Run ``row`` for ``vm`` (``record``: the new record of a deploy/migrate request)."""
        e = self.e
        if row.note:
            self._log(vm, event, row.note.format(lcm=LcmState(vm.lcm_state).name))
        cur, prev = vm.history, vm.previous
        # a row that only changes the state and goes on (``then``: DEPLOY → LCM_DEPLOY)
        # leaves the write to the row it goes on to; its hooks see the state at once
        passing = row.changes_state and not row.actions and row.then is not None
        if row.history:
            now = e.now()
            # a row that changes the state writes the VM row after these records (here,
            # after its actions, or in the row it passes to): the row's ``last_seq`` and
            # listing entry wait for that one write
            row_follows = row.changes_state
            for op in row.history:
                if isinstance(op, Stamp):
                    self._stamp(vm, op, cur, prev, now, row_follows)
                else:
                    self._new_record(vm, op, event, cur, prev, record, now, passing)
        for cap in row.capacity:
            host = cur if cap.record is Rec.CUR else prev
            if host is not None:
                change = e.hosts.add_capacity if cap.op == "add" else e.hosts.del_capacity
                change(host.hid, vm.requirements())
        if row.to_state is not None:
            vm.state = row.to_state
        if row.to_lcm is not None:
            vm.lcm_state = row.to_lcm
        # a row whose actions are all driver calls writes the VM row once, after them:
        # the new state and the action in flight (``pending_action``) in one statement
        join = (
            row.changes_state and bool(row.actions) and all(a in _JOIN_UPDATE for a in row.actions)
        )
        if passing:
            e.pool.hooks.on_update(vm)
        elif row.changes_state and not join:
            e.pool.update(vm)
        self._joining = vm if join else None
        try:
            for action in row.actions:
                self.run(vm, action)
        finally:
            self._joining = None
        if join:
            e.pool.update(vm)
        if row.log:
            self._log(vm, event, row.log)
        if row.then is not None:
            try:
                then = self.fire(vm, row.then)
                held = self._held
                if held is not None and held[0] is vm:  # the row it went on to did not stamp it
                    self._held = None
                    with self._inserting(vm, held[2]):
                        e.pool.write_record(held[1])
            finally:
                self._held = None
            if passing and (then is None or not then.changes_state):
                e.pool.write(vm)  # the row it went on to wrote nothing

    def write_pending(self, vm: VirtualMachine) -> None:
        """Write ``vm``'s row after a driver action set its ``pending_action`` — unless
        the row being applied writes it right after its actions (one write, not two)."""
        if self._joining is not vm:
            self.e.pool.write(vm)

    def run(self, vm: VirtualMachine, action: Action) -> None:
        """The one dispatch of a table action to the VMM, the TM or the core."""
        self._actions[action](vm)

    def _log(self, vm: VirtualMachine, event: Event, text: str) -> None:
        self.e.vm_log(vm.oid, event.module, "I", text)
        if event.recovery:
            self.e.log.info("VM %s: %s", vm.oid, text)

    def _stamp(
        self,
        vm: VirtualMachine,
        op: Stamp,
        cur: History | None,
        prev: History | None,
        now: int,
        row_follows: bool = False,
    ) -> None:
        target: VirtualMachine | History | None = (
            vm if op.record is Rec.VM else cur if op.record is Rec.CUR else prev
        )
        if target is None:
            return
        for name in op.times:
            setattr(target, name, now)
        if op.reason is not None and isinstance(target, History):
            target.reason = op.reason
        if op.record is Rec.CUR:
            with self._writing_held(vm):
                self.e.pool.update_history(vm, entry=not row_follows)
        elif op.record is Rec.PREV:
            self.e.pool.update_previous_history(vm)

    def _new_record(
        self,
        vm: VirtualMachine,
        op: NewRecord,
        event: Event,
        cur: History | None,
        prev: History | None,
        record: History | None,
        now: int,
        passing: bool = False,
    ) -> None:
        """``passing``: the row goes on to another that writes the VM row (and stamps the
        new record for a host: it is written then, once — :attr:`_held`)."""
        if op.source == "host":
            if record is None:
                raise EngineError(f"{event.name} needs the new history record")
            if passing and self._held is None:
                vm.add_history(record)
                self._held = (vm, record, event)
                return
            with self._inserting(vm, event):
                self.e.pool.insert_history(vm, record, row=not passing)
            return
        source = cur if op.source == "cur" else prev
        if source is None or cur is None:
            return
        new = source.copy_as(cur.seq + 1)
        for name in op.times:
            setattr(new, name, now)
        self.e.pool.insert_history(vm, new, row=not passing)

    @staticmethod
    @contextlib.contextmanager
    def _inserting(vm: VirtualMachine, event: Event) -> Iterator[None]:
        """Writing the new record of a deploy/migrate: a failure is 1.4's RPC error."""
        try:
            yield
        except Exception as exc:
            verb = "deploy" if event is Event.DEPLOY else "migrate"
            raise EngineError(f"Can not {verb} VM {vm.oid}, can not insert history") from exc

    @contextlib.contextmanager
    def _writing_held(self, vm: VirtualMachine) -> Iterator[None]:
        """Around a write of ``vm``'s current record: if it is the :attr:`_held` one, it
        is written now (no longer held), and a failure is its insert's."""
        held = self._held
        if held is None or held[0] is not vm or vm.history is not held[1]:
            yield  # not held: a plain write
            return
        self._held = None
        with self._inserting(vm, held[2]):
            yield

    # -- actions that are not driver calls -------------------------------------------
    def _driver_cancel(self, vm: VirtualMachine) -> None:
        """1.4's VMM/TM ``DRIVER_CANCEL``: drop the VM's queued driver work (the call in
        flight finishes; its reply is ignored)."""
        self.e.executor.cancel_pending(vm.oid)

    def _mark_polled(self, vm: VirtualMachine) -> None:
        vm.last_poll = self.e.now()
        self.e.pool.write(vm)

    def _forget(self, vm: VirtualMachine) -> None:
        self.e.pool.forget(vm.oid)
        self.e.vmm.forget(vm.oid)

    def _probe(self, vm: VirtualMachine) -> None:
        from one_core.engine.recovery import probe

        probe(self.e, vm)


__all__ = ["LifeCycleManager"]
