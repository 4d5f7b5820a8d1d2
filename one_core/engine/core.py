"""The :class:`Engine`: pool + drivers + DM/LCM/VMM/TM on one dispatcher thread."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from one_core import db
from one_core.engine.dispatcher import Dispatcher
from one_core.engine.dm import DispatchManager
from one_core.engine.executor import DriverExecutor, engine_describe
from one_core.engine.lcm import LifeCycleManager
from one_core.engine.tm import TransferManager
from one_core.engine.vmlog import BatchedVMLog
from one_core.engine.vmm import VMManager
from one_core.engine.work import Work
from one_core.errors import OneError
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
        self.vm_log = BatchedVMLog(vm_log or VMLogWriter(cfg.var_dir))
        """vm.log lines of a dispatcher batch are written after its commit, by VM."""
        if pool.vm_log is None:
            pool.vm_log = self.vm_log
        self.dispatcher = Dispatcher()
        self.executor = DriverExecutor(
            self.dispatcher, cfg.driver_threads, describe=engine_describe(pool, drivers)
        )
        self.work = Work(self.dispatcher, self.executor)
        """Timed and queued work of host monitoring, the scheduler and VM hooks."""
        # one transaction per batch of queued events (a SAVEPOINT each); the driver work
        # and deferred side effects of the batch are issued after its commit
        self._deferred: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.dispatcher.scope = db.writer
        self.dispatcher.before = self._before_event
        self.dispatcher.after = self._after_event
        self.dispatcher.mark = self._mark_event
        self.dispatcher.undo = self._undo_event
        # a database failure: the batch is rolled back, memory reloaded, events retried
        self.dispatcher.transient = db.is_transient
        self.dispatcher.errors = db.errors_seen
        self.dispatcher.recover = self._recover
        self._touched: set[int] = set()
        """VMs the events of the current batch got from the pool (before the last mark)."""
        pool.defer = self.defer
        if hasattr(pool.hooks, "defer"):
            pool.hooks.defer = self.defer
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
            self.defer(listener)

    # -- events: one transaction each, side effects after the commit ----------
    def defer(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the dispatcher once the current event committed (hooks,
        lease release: work that takes other locks or must see committed state)."""
        if self._in_event and (self.dispatcher.on_thread() or not self.dispatcher.running):
            self._deferred.append((fn, args))
        else:
            fn(*args)

    _in_event = False

    def _before_event(self) -> None:
        self._in_event = True
        self._deferred = []
        self._touched = set()
        self.pool.touched.clear()
        self.vm_log.hold()
        self.executor.hold()

    def _mark_event(self) -> tuple[int, set[int]]:
        """Before each event of a batch: what the batch has queued so far."""
        held = getattr(self.executor, "_held", None) or []
        self._touched |= self.pool.touched
        self.pool.touched.clear()
        return len(self._deferred), {id(task) for task in held}

    def _undo_event(self, mark: tuple[int, set[int]], error: BaseException | None = None) -> None:
        """An event of a batch failed and was rolled back: drop the work it queued and
        what memory holds of the VMs (and, unless it was refused, the hosts) it touched:
        they are read again from the database, where the event left no trace."""
        deferred, earlier = mark
        del self._deferred[deferred:]
        self.pool.invalidate(self.pool.touched)
        self._touched |= self.pool.touched
        self.pool.touched.clear()
        if not isinstance(error, OneError):  # a refusal changes nothing before raising
            self._reload_hosts()
        held = getattr(self.executor, "_held", None)
        if not held:
            return
        mine = [task for task in held if id(task) not in earlier]
        if not mine:
            return
        # the executor drops a held list with release(False) (and its in-flight count)
        held[:] = [task for task in held if id(task) in earlier]
        self.executor._held = mine
        self.executor.release(False)
        self.executor._held = held

    def _reload_hosts(self, *, strict: bool = False) -> None:
        """Read the hosts back from the database (their share may be ahead of it).

        A database failure here is left to :meth:`_recover` (``strict``: raised).
        """
        reload = getattr(getattr(self.hosts, "host_pool", None), "reload", None)
        if reload is None:
            return
        try:
            with db.write_lock:
                reload()
        except Exception as exc:
            if strict or not db.is_transient(exc):
                raise

    def _recover(self) -> None:
        """Before retrying events after a database failure: a usable connection, and
        memory read back from the database (every cached VM, every host)."""
        db.reconnect()
        self.pool.invalidate()
        self._reload_hosts(strict=True)

    def _after_event(self, ok: bool) -> None:
        self._in_event = False
        if not ok:  # rolled back: nothing the batch did in memory may stay
            self.pool.invalidate(self._touched | self.pool.touched)
            self._reload_hosts()
        self._touched = set()
        self.pool.touched.clear()
        try:
            self.vm_log.flush()
        except Exception:
            self.log.exception("cannot write vm.log")
        self.executor.release(ok)
        deferred, self._deferred = self._deferred, []
        for fn, args in deferred if ok else ():
            try:
                fn(*args)
            except Exception:
                self.log.exception("deferred %r failed", fn)

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
            from one_core.engine.recovery import recover as run_recovery

            self.dispatcher.call(run_recovery, self, timeout=None)
        if timers:
            self.dispatcher.every(self.cfg.manager_timer, self.vmm.timer)

    def stop(self, timeout: float = 30.0) -> None:
        """Let in-flight driver calls finish (up to ``timeout``), then stop."""
        self.wait_idle(timeout)
        self.executor.shutdown(wait=False)
        self.dispatcher.stop()
        self._started = False

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until no event is queued and no driver call is in flight."""
        if not self.dispatcher.running:
            return self.executor.wait_idle(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.executor.wait_idle(left):
                return False
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.dispatcher.wait_idle(left):
                return False
            if self.executor.idle and self.dispatcher.idle:
                return True

    # -- requests (any thread) --------------------------------------------------
    def allocate(self, uid: int, text: str, on_hold: bool = False) -> int:
        """``one.vm.allocate`` (``on_hold``: the VM starts in HOLD, not PENDING);
        raises :class:`~one_core.vm.pool.AllocateError`."""
        vid = self.dispatcher.call_unscoped(partial(self.pool.allocate, on_hold=on_hold), uid, text)
        if not on_hold:
            self.notify_pending()  # committed already: the listeners run now
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
