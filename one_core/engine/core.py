"""The :class:`Engine`: pool + drivers + DM/LCM/VMM/TM on one dispatcher thread."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from one_core.engine.dispatcher import Dispatcher
from one_core.engine.dm import DispatchManager
from one_core.engine.executor import DriverExecutor, engine_describe
from one_core.engine.lcm import LifeCycleManager
from one_core.engine.store import EngineStore
from one_core.engine.tm import TransferManager
from one_core.engine.vmlog import EventVMLog
from one_core.engine.vmm import VMManager
from one_core.engine.work import Work
from one_core.logs import VMLogWriter
from one_core.vm.model import VirtualMachine
from one_core.vm.paths import VMPaths
from one_core.vm.pool import VMPool
from one_core.vm.ports import HostPort
from one_core.vm_context import stored_context, write_context_sh

if TYPE_CHECKING:
    from one_core.config import OnedConfig
    from one_core.drivers import DriverSet


@dataclass
class EngineConfig:
    """The oned.conf values the engine uses."""

    var_dir: str
    vm_dir: str = ""
    front: str = field(default_factory=lambda: socket.gethostname()[:79])
    vm_polling_interval: float = 300
    manager_timer: float = 30
    driver_threads: int = 8

    def __post_init__(self) -> None:
        if not self.vm_dir:
            self.vm_dir = self.var_dir

    @classmethod
    def from_oned(cls, cfg: OnedConfig, **overrides: Any) -> EngineConfig:
        """From an :class:`~one_core.config.OnedConfig` (its defaults are 1.4's)."""
        values: dict[str, Any] = {
            "var_dir": cfg.var_dir,
            "vm_dir": cfg.vm_dir,
            "vm_polling_interval": cfg.vm_polling_interval,
            "manager_timer": cfg.manager_timer,
            "driver_threads": cfg.driver_threads,
        }
        values.update(overrides)
        return cls(**values)


def write_context(vm: VirtualMachine, paths: VMPaths) -> str:
    """§8.2: write ``VAR<vid>/context.sh``; returns "" (no image: the TM driver builds it).

    Values are quoted by :func:`one_core.vm_context.shell_quote`, the one rule.
    ``tm_context`` gets ``context.sh`` and the ``FILES`` and makes the CD-ROM
    image (as 1.4's ``tm_context.sh`` ran ``mkisofs``): the core has no ISO writer.
    """
    write_context_sh(paths.local_dir, stored_context(vm.template) or {})
    return ""


class Engine:
    """Owns every VM state change (DESIGN.md §3).

    Public calls (:meth:`allocate`, :meth:`deploy`, :meth:`migrate`,
    :meth:`action`) may come from any thread: they run on the dispatcher
    and return once the first state change is committed.
    """

    def __init__(
        self,
        *,
        pool: VMPool,
        drivers: DriverSet,
        hosts: HostPort,
        cfg: EngineConfig,
        build_context: Callable[[VirtualMachine, VMPaths], str] | None = None,
        log: logging.Logger | None = None,
        vm_log: Callable[[int, str, str, str], None] | None = None,
    ):
        self.pool = pool
        self.drivers = drivers
        self.hosts = hosts
        self.cfg = cfg
        self.build_context = build_context or write_context
        self.log = log or logging.getLogger("one.engine")
        self.outbox = pool.outbox
        """What the running dispatcher events cause outside the database (driver calls,
        vm.log lines, after-commit work), released after their commit; the pool's, so
        its lease releases and hooks are held with the rest."""
        self.vm_log = EventVMLog(vm_log or VMLogWriter(cfg.var_dir), self.outbox)
        """vm.log lines of a dispatcher batch are written after its commit, by VM, on
        the outbox's line writer thread (the batch's driver calls start after them)."""
        self.outbox.write_in_background()
        if pool.vm_log is None:
            pool.vm_log = self.vm_log
        self.store = EngineStore(pool, hosts)
        """One transaction per batch of queued events (a SAVEPOINT each); a rolled-back
        event's VMs and hosts are read again from the database."""
        self.dispatcher = Dispatcher(store=self.store, outbox=self.outbox)
        self.executor = DriverExecutor(
            self.dispatcher, cfg.driver_threads, describe=engine_describe(pool, drivers)
        )
        self.work = Work(self.dispatcher, self.executor)
        """Timed and queued work of host monitoring, the scheduler and VM hooks."""
        self.vmm = VMManager(self)
        self.tm = TransferManager(self)
        self.lcm = LifeCycleManager(self)  # applies the transition table; dispatches its actions
        self.dm = DispatchManager(self)
        self._started = False
        self.pending_listeners: list[Callable[[], Any]] = []
        """Called (after the commit) whenever a VM becomes PENDING: the scheduler's one
        wake-up (:meth:`one_core.scheduling.SchedulerService.wake`, which queues the cycle
        on the dispatcher)."""

    def notify_pending(self) -> None:
        """A VM became PENDING: tell the listeners once the event has committed."""
        for listener in self.pending_listeners:
            self.outbox.after_commit(listener)

    def defer(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` once the current event committed (outside an event: now);
        :meth:`Outbox.after_commit <one_core.engine.outbox.Outbox.after_commit>`."""
        self.outbox.after_commit(fn, *args)

    @staticmethod
    def now() -> int:
        return int(time.time())

    # -- life --------------------------------------------------------------
    def start(self, *, recover: bool = True, timers: bool = True) -> None:
        """Start the dispatcher, reconcile VMs caught mid-transition, start the poll timer."""
        if self._started:
            return
        self._started = True
        self.dispatcher.start()
        if recover:
            from one_core.engine.recovery import recover_in_chunks

            self.dispatcher.post(recover_in_chunks, self)  # the first event: before any call
        if timers:
            self.dispatcher.every(self.cfg.manager_timer, self.vmm.timer)

    def stop(self, timeout: float = 30.0) -> None:
        """Let in-flight driver calls finish (up to ``timeout``), then stop."""
        self.wait_idle(timeout)
        self.executor.shutdown(wait=False)
        self.dispatcher.stop()
        self.outbox.stop_lines()
        self._started = False

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until no event is queued, no driver call is in flight and every
        committed vm.log line is written."""
        if not self.dispatcher.running:
            return self.executor.wait_idle(timeout) and self.outbox.flush_lines(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.executor.wait_idle(left):
                return False
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.dispatcher.wait_idle(left):
                return False
            if self.executor.idle and self.dispatcher.idle:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                return self.outbox.flush_lines(left)

    # -- requests (any thread) --------------------------------------------------
    def allocate(self, uid: int, text: str, on_hold: bool = False) -> int:
        """``one.vm.allocate`` (``on_hold``: the VM starts in HOLD, not PENDING);
        raises :class:`~one_core.vm.pool.AllocateError`."""
        return self.dispatcher.call(self._allocate, uid, text, on_hold)

    def _allocate(self, uid: int, text: str, on_hold: bool) -> int:
        """On the dispatcher, in the event's transaction: the row, its CONTEXT and the
        leases are committed together or not at all."""
        vid = self.pool.allocate(uid, text, on_hold=on_hold)
        if not on_hold:
            self.notify_pending()  # after the commit
        return vid

    def deploy(self, vid: int, hid: int) -> None:
        """``one.vm.deploy``; raises :class:`~one_core.engine.errors.EngineError`."""
        self.dispatcher.call(self.dm.deploy, vid, hid)

    def migrate(self, vid: int, hid: int, live: bool) -> None:
        self.dispatcher.call(self.dm.migrate, vid, hid, live)

    def action(self, name: str, vid: int) -> None:
        """``one.vm.action``; raises :class:`~one_core.engine.errors.ActionError`."""
        self.dispatcher.call(self.dm.action, name, vid)

    def poll_all(self) -> None:
        """Run the VM polling timer now (tests, ``onevm`` tools)."""
        self.dispatcher.call(self.vmm.timer)
