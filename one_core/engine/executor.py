"""Driver calls on a bounded thread pool, one at a time per VM, results back on the dispatcher.

No driver can stall the cloud:

* **per-action timeouts**: every call runs under a deadline (``TIMEOUT_<ACTION>`` or
  ``TIMEOUT`` in the driver's oned.conf section, else :data:`ROLE_TIMEOUTS`); on
  expiry the callbacks the call registered with :func:`on_expiry` run (they kill
  its child process / SSH channel), the call is abandoned and the action fails
  into the state machine's ordinary failure path with ``DriverError("... timed
  out after N s")`` (BOOT → FAILED, SHUTDOWN → RUNNING...);
* **per-host concurrency limit**: at most ``per_host`` calls for one host hold
  driver threads; more wait without taking a thread, so a sick host cannot take
  every thread from the healthy ones;
* :meth:`DriverExecutor.close` (oned stopping) drops the work not yet started, so
  a stop waits only for calls really in flight (recovery re-issues the rest).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from one_core.deadlines import ROLE_TIMEOUTS, TimedCall, action_timeout, on_expiry
from one_core.engine.dispatcher import Dispatcher
from one_core.errors import DriverError

__all__ = [
    "ROLE_TIMEOUTS",
    "DriverExecutor",
    "TaskInfo",
    "TimedCall",
    "action_timeout",
    "engine_describe",
    "on_expiry",
]

log = logging.getLogger("one.engine")

Done = Callable[[Any, "DriverError | None"], None]
"""``on_done(result, error)``: run on the dispatcher when the driver call ends."""

Key = int | tuple[str, int]
"""What work runs one at a time for: a VM id, or ``(kind, id)`` for other work
(``("host", hid)`` monitoring probes, ``("hook", vid)`` hook runs, ``("sched", 0)``)."""


DEFAULT_PER_HOST = 4
"""Driver calls in flight for one host (oned.conf ``DRIVER_HOST_THREADS``)."""


@dataclass
class TaskInfo:
    """What the executor needs to know about a VM's driver work."""

    host: str | None = None
    timeout: float | None = None


Describe = Callable[[int, str], TaskInfo]
"""``describe(vid, label)``: the host the work is for and its timeout."""


@dataclass
class _Task:
    vid: Key
    label: str
    fn: Callable[[], Any]
    on_done: Done | None
    info: TaskInfo = field(default_factory=TaskInfo)


def _action_of(label: str) -> tuple[str, str]:
    """Executor label → (driver role, action): ``TRANSFER PROLOG`` → (tm, PROLOG)."""
    if label.startswith("TRANSFER "):
        return "tm", label.split(" ", 1)[1]
    if label == "RECOVER_POLL":
        return "vmm", "POLL"
    if label == "CANCEL_PREVIOUS":
        return "vmm", "CANCEL"
    return "vmm", label


def engine_describe(pool: Any, drivers: Any) -> Describe:
    """:data:`Describe` for the engine: host and drivers from the VM's history record."""

    def describe(vid: int, label: str) -> TaskInfo:
        vm = pool.get(vid)
        record = getattr(vm, "history", None) if vm is not None else None
        if record is None:
            return TaskInfo()
        role, action = _action_of(label)
        name = record.tm_mad if role == "tm" else record.vm_mad
        section: Mapping[str, Any] = {}
        if drivers is not None:
            try:
                section = drivers.get(role, name).spec.section
            except Exception:
                section = {}
        return TaskInfo(
            host=record.host_name or None, timeout=action_timeout(role, section, action)
        )

    return describe


class DriverExecutor:
    """Runs driver work off the dispatcher.

    Work for one VM runs in submission order, never two at a time (the
    hookspecs promise drivers at most one action per VM in flight). Any
    exception becomes a :class:`~one_core.errors.DriverError` handed to
    ``on_done``; ``on_done`` always runs on the dispatcher thread.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        threads: int = 8,
        describe: Describe | None = None,
        per_host: int = DEFAULT_PER_HOST,
    ):
        self.dispatcher = dispatcher
        self.describe = describe
        self.per_host = max(1, per_host)
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, threads), thread_name_prefix="one-driver"
        )
        self._lock = threading.Lock()
        self._queues: dict[Key, deque[_Task]] = {}
        self._active: set[Key] = set()
        self._host_busy: dict[str, int] = {}
        self._host_wait: dict[str, deque[_Task]] = {}
        self._count = 0
        self._cond = threading.Condition(self._lock)
        self._held: list[_Task] | None = None
        self._closed = False
        self.gate: Callable[[], bool] | None = None
        """Asked before each driver call (HA leader: its lock is confirmed); False: not issued."""

    # -- commit first, then issue ----------------------------------------------
    def hold(self) -> None:
        """Start buffering submissions (the dispatcher opened an event's transaction)."""
        self._held = []

    def release(self, ok: bool) -> None:
        """The event's transaction ended: issue what it submitted (drop it if it failed)."""
        held, self._held = self._held, None
        if not held:
            return
        if not ok:
            with self._lock:
                self._count -= len(held)
                if self._count == 0:
                    self._cond.notify_all()
            return
        for task in held:
            self._start(task)

    def submit(
        self,
        vid: Key,
        label: str,
        fn: Callable[[], Any],
        on_done: Done | None,
        *,
        info: TaskInfo | None = None,
    ) -> None:
        """Run ``fn`` for VM ``vid``; inside a dispatcher event, only once the event committed.

        Work that is not a VM's passes a ``(kind, id)`` key and its :class:`TaskInfo`
        (host for the per-host limit); ``on_done`` None: nothing is posted back.
        """
        task = _Task(vid, label, fn, on_done, info or TaskInfo())
        if info is None and self.describe is not None and isinstance(vid, int):
            try:
                task.info = self.describe(vid, label)
            except Exception:
                log.exception("cannot describe %s for VM %s", label, vid)
        with self._lock:
            if self._closed:
                return
            self._count += 1
        if self._held is not None and (self.dispatcher.on_thread() or not self.dispatcher.running):
            self._held.append(task)
            return
        self._start(task)

    def _start(self, task: _Task) -> None:
        vid = task.vid
        with self._lock:
            if vid in self._active:
                self._queues.setdefault(vid, deque()).append(task)
                return
            self._active.add(vid)
            go = self._host_gate(task)
        if go:
            self._pool.submit(self._run, task)

    def _host_gate(self, task: _Task) -> bool:
        """(lock held) Take a slot of the task's host, or park the task; True: run it."""
        host = task.info.host
        if host is None:
            return True
        if self._host_busy.get(host, 0) >= self.per_host:
            self._host_wait.setdefault(host, deque()).append(task)
            return False
        self._host_busy[host] = self._host_busy.get(host, 0) + 1
        return True

    def _host_done(self, task: _Task) -> _Task | None:
        """(lock held) Free the task's host slot; the parked task that takes it, if any."""
        host = task.info.host
        if host is None:
            return None
        waiting = self._host_wait.get(host)
        if waiting:
            nxt = waiting.popleft()
            if not waiting:
                del self._host_wait[host]
            return nxt  # the slot passes on
        busy = self._host_busy.get(host, 1) - 1
        if busy > 0:
            self._host_busy[host] = busy
        else:
            self._host_busy.pop(host, None)
        return None

    def close(self) -> None:
        """oned is stopping: drop every task not started yet and accept no more."""
        with self._lock:
            self._closed = True
            dropped = sum(len(q) for q in self._queues.values())
            dropped += sum(len(q) for q in self._host_wait.values())
            self._queues.clear()
            self._host_wait.clear()
            self._count -= dropped
            if self._count <= 0:
                self._cond.notify_all()

    def cancel_pending(self, vid: int) -> list[str]:
        """1.4's ``DRIVER_CANCEL``: drop the VM's queued (not yet started) work."""
        held = self._held or []
        mine = [t for t in held if t.vid == vid]
        if mine:
            held[:] = [t for t in held if t.vid != vid]
        with self._lock:
            dropped = self._queues.pop(vid, deque())
            dropped.extend(mine)
            for host, waiting in list(self._host_wait.items()):
                parked = [t for t in waiting if t.vid == vid]
                if parked:
                    dropped.extend(parked)
                    self._host_wait[host] = deque(t for t in waiting if t.vid != vid)
                    self._active.discard(vid)
                    if not self._host_wait[host]:
                        del self._host_wait[host]
            self._count -= len(dropped)
            if self._count == 0:
                self._cond.notify_all()
        return [t.label for t in dropped]

    def in_flight(self, vid: int) -> bool:
        with self._lock:
            return vid in self._active

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._count == 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _run(self, task: _Task) -> None:
        if self._closed:  # queued in the pool before close(): left for recovery
            self._finish(task)
            return
        if self.gate is not None and not self.gate():  # HA fencing (one_core.ha.fence)
            self._finish(task)  # not issued: the next leader's recovery re-issues it
            return
        result: Any = None
        error: DriverError | None = None
        try:
            timeout = task.info.timeout
            if timeout:
                what = f"{task.label.lower()} of VM {task.vid}"
                result = TimedCall(task.fn, timeout).run(what)
            else:
                result = task.fn()
        except DriverError as exc:
            error = exc
        except Exception as exc:
            log.exception("driver call %s for VM %s failed", task.label, task.vid)
            error = DriverError(f"{type(exc).__name__}: {exc}")
        if error is not None and "timed out" in str(error):
            log.error("%s", error)
        if task.on_done is not None:
            self.dispatcher.post(task.on_done, result, error)
        self._finish(task)

    def _finish(self, task: _Task) -> None:
        """Bookkeeping after a task: its VM's next task, its host's next parked task."""
        start: list[_Task] = []
        with self._lock:
            self._count -= 1
            parked = self._host_done(task)
            if parked is not None:
                start.append(parked)
            pending = self._queues.get(task.vid)
            nxt = pending.popleft() if pending else None
            if pending is not None and not pending:
                del self._queues[task.vid]
            if nxt is None:
                self._active.discard(task.vid)
            elif self._host_gate(nxt):
                start.append(nxt)
            if self._count <= 0:
                self._cond.notify_all()
        for t in start:
            try:
                self._pool.submit(self._run, t)
            except RuntimeError:  # pool shut down
                self._finish(t)
