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
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from one_core.deadlines import (
    ROLE_TIMEOUTS,
    Deadline,
    TimedCall,
    Watchdog,
    action_timeout,
    on_expiry,
    watchdog,
)
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
    "record_info",
]

log = logging.getLogger("one.engine")

Done = Callable[[Any, "DriverError | None"], None]
"""``on_done(result, error)``: run on the dispatcher when the driver call ends."""

Key = int | tuple[str, int]
"""What work runs one at a time for: a VM id, or ``(kind, id)`` for other work
(``("host", hid)`` monitoring probes, ``("hook", vid)`` hook runs, ``("sched", 0)``)."""


DEFAULT_PER_HOST = 4
"""Driver calls in flight for one host (oned.conf ``DRIVER_HOST_THREADS``)."""

LINES_WAIT = 30.0
"""Longest a driver call waits for the vm.log lines that announce it (a hung disk)."""


@dataclass(slots=True)
class TaskInfo:
    """What the executor needs to know about a VM's driver work."""

    host: str | None = None
    timeout: float | None = None
    what: str = ""
    """How a timeout names the call (default ``<label> of VM <key>``)."""


Describe = Callable[[int, str], TaskInfo]
"""``describe(vid, label)``: the host the work is for and its timeout."""


@dataclass(slots=True)
class _Task:
    vid: Key
    label: str
    fn: Callable[[], Any]
    on_done: Done | None
    info: TaskInfo = field(default_factory=TaskInfo)
    lines: int = 0
    """Ticket of the vm.log lines released before the task (written before it starts)."""


def _action_of(label: str) -> tuple[str, str]:
    """Executor label → (driver role, action): ``TRANSFER PROLOG`` → (tm, PROLOG)."""
    if label.startswith("TRANSFER "):
        return "tm", label.split(" ", 1)[1]
    if label == "RECOVER_POLL":
        return "vmm", "POLL"
    if label == "CANCEL_PREVIOUS":
        return "vmm", "CANCEL"
    return "vmm", label


_TIMEOUTS: dict[tuple[int, str, str], tuple[Any, float | None]] = {}
"""``(id(driver), role, action)`` → (the driver, its timeout): sections do not change."""


def record_info(drivers: Any, record: Any, label: str) -> TaskInfo:
    """The host and timeout of ``label`` run through ``record``'s driver (a history
    record: the VM's current one, or its previous one for the actions on the previous
    host, ``CANCEL_PREVIOUS`` and ``TRANSFER delete_prev``)."""
    if record is None:
        return TaskInfo()
    role, action = _action_of(label)
    name = record.tm_mad if role == "tm" else record.vm_mad
    driver: Any = None
    if drivers is not None:
        try:
            driver = drivers.get(role, name)
        except Exception:
            driver = None
    key = (id(driver), role, action)
    known = _TIMEOUTS.get(key)
    if known is None or known[0] is not driver:
        section: Mapping[str, Any] = driver.spec.section if driver is not None else {}
        known = _TIMEOUTS[key] = (driver, action_timeout(role, section, action))
    return TaskInfo(host=record.host_name or None, timeout=known[1])


def engine_describe(pool: Any, drivers: Any) -> Describe:
    """:data:`Describe` for the engine: host and drivers from the VM's current record
    (work submitted without a :class:`TaskInfo`, e.g. the recovery poll)."""

    def describe(vid: int, label: str) -> TaskInfo:
        vm = pool.get(vid)
        return record_info(drivers, getattr(vm, "history", None) if vm is not None else None, label)

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
        self._pool = _Workers(max(1, threads), "one-driver")
        self._lock = threading.Lock()
        self._queues: dict[Key, deque[_Task]] = {}
        self._active: set[Key] = set()
        self._host_busy: dict[str, int] = {}
        self._host_wait: dict[str, deque[_Task]] = {}
        self._count = 0
        self._cond = threading.Condition(self._lock)
        self._closed = False
        self.watchdog: Watchdog = watchdog
        """Keeps the deadline of every call (one thread for the process)."""
        self.gate: Callable[[], bool] | None = None
        """Asked before each driver call (HA leader: its lock is confirmed); False: not issued."""

    # -- commit first, then issue (the dispatcher's outbox, :class:`CallSink`) -------
    def issue(self, calls: list[Any]) -> None:
        """The event that submitted ``calls`` committed: start them, in order."""
        go: list[_Task] = []
        ticket = self.dispatcher.outbox.ticket
        with self._lock:
            for task in calls:
                task.lines = ticket
                if self._admit(task):
                    go.append(task)
        for task in go:
            self._pool.submit(self._run, task)

    def drop(self, calls: list[Any]) -> None:
        """The event that submitted ``calls`` was rolled back: they never start."""
        if not calls:
            return
        with self._lock:
            self._count -= len(calls)
            if self._count <= 0:
                self._cond.notify_all()

    def submit(
        self,
        vid: Key,
        label: str,
        fn: Callable[[], Any],
        on_done: Done | None,
        *,
        info: TaskInfo | None = None,
    ) -> None:
        """Run ``fn`` for VM ``vid``; inside a dispatcher event, only once the event committed
        (held in the dispatcher's :class:`~one_core.engine.outbox.Outbox`).

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
        if not self.dispatcher.outbox.add_call(self, task):  # held until the event commits
            self._start(task)

    def _start(self, task: _Task) -> None:
        task.lines = self.dispatcher.outbox.ticket
        with self._lock:
            go = self._admit(task)
        if go:
            self._pool.submit(self._run, task)

    def _admit(self, task: _Task) -> bool:
        """(lock held) Queue the task behind its key's work, park it behind its host's
        limit, or take both: True, run it now."""
        vid = task.vid
        if vid in self._active:
            self._queues.setdefault(vid, deque()).append(task)
            return False
        self._active.add(vid)
        return self._host_gate(task)

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
        mine = self.dispatcher.outbox.take_calls(self, lambda t: t.vid == vid)
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
        self._pool.shutdown(wait=wait)

    def _run(self, task: _Task) -> bool:
        """Run a task on a worker thread, then the task it made ready (its key's next
        one, or a task parked behind its host) on the same thread, without a hand-off.
        False: a deadline expired while its call ran (the watchdog failed it and gave the
        pool a new thread: this one retires)."""
        current: _Task | None = task
        while current is not None:
            ok, current = self._run_one(current)
            if not ok:
                return False
        return True

    def _run_one(self, task: _Task) -> tuple[bool, _Task | None]:
        """One task: (in time, the next task to run on this thread)."""
        if self._closed or self._pool.shut:  # not started before close(): left for recovery
            return True, self._finish(task, inline=True)
        if self.gate is not None and not self.gate():  # HA fencing (one_core.ha.fence)
            # not issued: the next leader's recovery re-issues it
            return True, self._finish(task, inline=True)
        if task.lines and not self.dispatcher.outbox.wait_lines(task.lines, LINES_WAIT):
            log.error("vm.log lines before %s of %s not written after %g s: calling it",
                      task.label, task.vid, LINES_WAIT)  # fmt: skip
        result: Any = None
        error: DriverError | None = None
        timeout = task.info.timeout
        deadline = self.watchdog.watch(timeout, partial(self._expired, task)) if timeout else None
        if deadline is not None:
            deadline.bind()
        try:
            result = task.fn()
        except DriverError as exc:
            error = exc
        except Exception as exc:
            if deadline is None or not deadline.expired:
                log.exception("driver call %s for VM %s failed", task.label, task.vid)
            error = DriverError(f"{type(exc).__name__}: {exc}")
        finally:
            if deadline is not None:
                deadline.unbind()
        if deadline is not None and not self.watchdog.settle(deadline):
            return False, None  # answered by _expired already
        if task.on_done is not None:
            self.dispatcher.post(task.on_done, result, error)
        return True, self._finish(task, inline=True)

    def _expired(self, task: _Task, deadline: Deadline) -> None:
        """On the watchdog thread: the task's call is past its deadline. Kill what it
        registered, fail it into the state machine, and give the pool a thread in place
        of the one the call still holds."""
        what = task.info.what or f"{task.label.lower()} of VM {task.vid}"
        deadline.run_callbacks(what)
        error = DriverError(f"{what} timed out after {task.info.timeout:g} s")
        log.error("%s", error)
        self._pool.add_worker()
        if task.on_done is not None:
            self.dispatcher.post(task.on_done, None, error)
        self._finish(task)

    def _finish(self, task: _Task, *, inline: bool = False) -> _Task | None:
        """Bookkeeping after a task: its VM's next task, its host's next parked task.
        ``inline``: one of them is returned for the calling worker to run itself."""
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
        mine = start.pop(0) if inline and start else None
        for t in start:
            try:
                self._pool.submit(self._run, t)
            except RuntimeError:  # pool shut down
                self._finish(t)
        return mine


class _Workers:
    """The driver threads: at most ``size`` (started as work arrives) take tasks from one
    queue. A worker whose call outlived its deadline retires when the call returns; the
    watchdog added a worker in its place (:meth:`add_worker`)."""

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Callable[[_Task], bool], _Task] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._shut = False

    def submit(self, fn: Callable[[_Task], bool], task: _Task) -> None:
        with self._lock:
            if self._shut:
                raise RuntimeError("driver threads shut down")
            if self._idle <= 0 and len(self._threads) < self.size:
                self._spawn()
            else:
                self._idle -= 1  # taken by this task (a worker that waits gets it)
        self._queue.put((fn, task))

    @property
    def shut(self) -> bool:
        """:meth:`shutdown` was called: no more work starts."""
        return self._shut

    def add_worker(self) -> None:
        """A worker is stuck in an expired call: one more takes its place."""
        with self._lock:
            if not self._shut:
                self.size += 1
                self._idle += 1
                self._spawn()

    def _spawn(self) -> None:
        """(lock held) Start a worker."""
        thread = threading.Thread(
            target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            keep = self._call(*item)
            item = None  # a waiting worker keeps no finished task (its closures, a VM snapshot)
            with self._lock:
                if not keep:  # retired: its place was taken by add_worker()
                    self.size -= 1
                    self._threads.remove(threading.current_thread())
                    return
                self._idle += 1

    @staticmethod
    def _call(fn: Callable[[_Task], bool], task: _Task) -> bool:
        """``fn(task)``: False, the worker retires."""
        try:
            return fn(task)
        except BaseException:
            log.exception("driver worker failed")
            return True

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        # work queued but not started is dropped (as cancel_futures did)
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
