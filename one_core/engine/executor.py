"""Driver calls on a bounded thread pool, one at a time per VM, results back on the dispatcher."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from one_core.engine.dispatcher import Dispatcher
from one_core.errors import DriverError

log = logging.getLogger("one.engine")

Done = Callable[[Any, "DriverError | None"], None]
"""``on_done(result, error)``: run on the dispatcher when the driver call ends."""


@dataclass
class _Task:
    vid: int
    label: str
    fn: Callable[[], Any]
    on_done: Done


class DriverExecutor:
    """Runs driver work off the dispatcher.

    Work for one VM runs in submission order, never two at a time (the
    hookspecs promise drivers at most one action per VM in flight). Any
    exception becomes a :class:`~one_core.errors.DriverError` handed to
    ``on_done``; ``on_done`` always runs on the dispatcher thread.
    """

    def __init__(self, dispatcher: Dispatcher, threads: int = 8):
        self.dispatcher = dispatcher
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, threads), thread_name_prefix="one-driver"
        )
        self._lock = threading.Lock()
        self._queues: dict[int, deque[_Task]] = {}
        self._active: set[int] = set()
        self._count = 0
        self._cond = threading.Condition(self._lock)
        self._held: list[_Task] | None = None

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

    def submit(self, vid: int, label: str, fn: Callable[[], Any], on_done: Done) -> None:
        """Run ``fn`` for VM ``vid``; inside a dispatcher event, only once the event committed."""
        task = _Task(vid, label, fn, on_done)
        with self._lock:
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
        self._pool.submit(self._run, task)

    def cancel_pending(self, vid: int) -> list[str]:
        """1.4's ``DRIVER_CANCEL``: drop the VM's queued (not yet started) work."""
        held = self._held or []
        mine = [t for t in held if t.vid == vid]
        if mine:
            held[:] = [t for t in held if t.vid != vid]
        with self._lock:
            dropped = self._queues.pop(vid, deque())
            dropped.extend(mine)
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
        result: Any = None
        error: DriverError | None = None
        try:
            result = task.fn()
        except DriverError as exc:
            error = exc
        except Exception as exc:
            log.exception("driver call %s for VM %s failed", task.label, task.vid)
            error = DriverError(f"{type(exc).__name__}: {exc}")
        self.dispatcher.post(task.on_done, result, error)
        with self._lock:
            self._count -= 1
            pending = self._queues.get(task.vid)
            nxt = pending.popleft() if pending else None
            if pending is not None and not pending:
                del self._queues[task.vid]
            if nxt is None:
                self._active.discard(task.vid)
            if self._count == 0:
                self._cond.notify_all()
        if nxt is not None:
            self._pool.submit(self._run, nxt)
