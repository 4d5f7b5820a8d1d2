"""Deadlines of driver calls: per-action timeouts and what to kill when one expires.

Used by the engine's executor for every driver call it runs (VMM/TM actions, IM
probes, hooks): one :class:`Watchdog` thread keeps every deadline in a heap, and a
call runs on the executor's thread itself (no thread per call). ``on_expiry(callback)``
is how code running inside a timed call (the driver kit's remote commands) registers
the kill of its child process or SSH channel; it is exported to drivers as
``one_core.api.on_expiry``. :class:`TimedCall` (a thread of its own per call, which the
caller stops waiting for) remains for callers outside the executor.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from one_core.errors import DriverError

log = logging.getLogger("one.engine")

ROLE_TIMEOUTS: dict[str, dict[str, float]] = {
    "vmm": {"": 600.0, "POLL": 60.0, "CANCEL": 120.0},
    "tm": {"": 3600.0},
    "im": {"": 120.0},
}
"""Seconds an action may take when its driver section sets no ``TIMEOUT_<ACTION>`` /
``TIMEOUT`` (``""``: any other action of the role). 1.4 had no timeouts."""


def action_timeout(role: str, section: Mapping[str, Any], action: str) -> float | None:
    """The timeout of ``action`` (``DEPLOY``, ``PROLOG``, ``MONITOR``...) for a driver of
    ``role`` configured by ``section``; ``None`` or ``0``: no limit."""
    action = action.upper()
    for key in (f"TIMEOUT_{action}", "TIMEOUT"):
        raw = str(section.get(key, "") or "").strip()
        if raw:
            try:
                value = float(raw)
            except ValueError:
                log.warning("%s = %r is not a number of seconds; ignored", key, raw)
                continue
            return value if value > 0 else None
    defaults = ROLE_TIMEOUTS.get(role, {})
    return defaults.get(action, defaults.get(""))


_current = threading.local()


def on_expiry(callback: Callable[[], Any]) -> None:
    """Register ``callback`` to run if the driver call running in this thread times out
    (e.g. ``proc.kill``). Outside a timed call it is ignored."""
    callbacks = getattr(_current, "callbacks", None)
    if callbacks is not None:
        callbacks.append(callback)


class Deadline:
    """One call's deadline in a :class:`Watchdog`: :meth:`settle` it when the call ends."""

    __slots__ = ("_lock", "_state", "callbacks", "on_expire")

    def __init__(self, on_expire: Callable[[Deadline], Any]) -> None:
        self._lock = threading.Lock()
        self._state = 0  # 0 running, 1 settled, 2 expired
        self.on_expire: Callable[[Deadline], Any] | None = on_expire
        """None once settled (see :meth:`settle`)."""
        self.callbacks: list[Callable[[], Any]] = []
        """What :func:`on_expiry` registered while the call ran (kills)."""

    def settle(self) -> bool:
        """The call ended: True if in time, False if it had expired already (its expiry
        was handled: the result is to be dropped)."""
        with self._lock:
            if self._state == 0:
                self._state = 1
                # What the expiry would have needed (the executor's task: its closures,
                # the VM's snapshot) goes now, not when the watchdog drops the entry, up
                # to the timeout later (600 s for a deploy).
                self.on_expire = None
                self.callbacks = []
                return True
            return False

    @property
    def expired(self) -> bool:
        """The watchdog handled this call's expiry."""
        return self._state == 2

    def _expire(self) -> bool:
        with self._lock:
            if self._state == 0:
                self._state = 2
                return True
            return False

    def run_callbacks(self, what: str) -> None:
        """Run the kills registered by the call (on the watchdog thread)."""
        for callback in list(self.callbacks):
            try:
                callback()
            except Exception:
                log.exception("expiry callback of %s failed", what)

    def bind(self) -> None:
        """The calling thread runs the call now: :func:`on_expiry` registers here."""
        _current.callbacks = self.callbacks

    @staticmethod
    def unbind() -> None:
        _current.callbacks = None


class Watchdog:
    """One thread for the deadlines of every driver call: a heap of ``(due, deadline)``.

    :meth:`watch` is a push under a lock (the thread is woken only when the new
    deadline is the earliest); a settled deadline stays in the heap until it is due
    or the heap is compacted (when most of it is settled, at :meth:`watch` or
    :meth:`settle`: a burst of calls leaves no entries behind once they all ended).
    """

    COMPACT_MIN = 64
    """Heap size below which settled entries are left for the thread to pop."""

    def __init__(self, name: str = "one-watchdog") -> None:
        self.name = name
        self._heap: list[tuple[float, int, Deadline]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._settled = 0

    def watch(self, timeout: float, on_expire: Callable[[Deadline], Any]) -> Deadline:
        """A deadline ``timeout`` seconds from now; ``on_expire(deadline)`` runs on the
        watchdog thread if it is not settled by then."""
        deadline = Deadline(on_expire)
        due = time.monotonic() + timeout
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._compact()
            first = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._seq), deadline))
            if first:
                self._cond.notify()
        return deadline

    def settle(self, deadline: Deadline) -> bool:
        """:meth:`Deadline.settle`, counted for compaction."""
        if not deadline.settle():
            return False
        with self._cond:
            self._settled += 1
            self._compact()
        return True

    def _compact(self) -> None:
        """(lock held) Drop the settled entries once they are most of a large heap
        (linear, so amortized over the settles that made them the majority)."""
        if len(self._heap) > self.COMPACT_MIN and self._settled > len(self._heap) // 2:
            self._heap = [e for e in self._heap if e[2]._state == 0]
            heapq.heapify(self._heap)
            self._settled = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    due, _, deadline = self._heap[0]
                    left = due - time.monotonic()
                    if left > 0:
                        self._cond.wait(left)
                        continue
                    heapq.heappop(self._heap)
                    if deadline._state != 0:
                        self._settled = max(0, self._settled - 1)
                        continue
                    break
            on_expire = deadline.on_expire  # read before _expire: None once settled
            if on_expire is not None and deadline._expire():
                try:
                    on_expire(deadline)
                except Exception:
                    log.exception("deadline expiry failed")


watchdog = Watchdog()
"""The process's watchdog (the engine's executor uses it)."""


class TimedCall:
    """Run ``fn`` in a thread of its own and wait at most ``timeout`` seconds."""

    def __init__(self, fn: Callable[[], Any], timeout: float):
        self.fn = fn
        self.timeout = timeout
        self.callbacks: list[Callable[[], Any]] = []
        self.result: Any = None
        self.error: BaseException | None = None

    def _body(self) -> None:
        _current.callbacks = self.callbacks
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            _current.callbacks = None

    def run(self, what: str) -> Any:
        """The call's result; its exception; or DriverError on expiry."""
        thread = threading.Thread(target=self._body, name="one-driver-call", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            for callback in list(self.callbacks):
                try:
                    callback()
                except Exception:
                    log.exception("expiry callback of %s failed", what)
            raise DriverError(f"{what} timed out after {self.timeout:g} s")
        if self.error is not None:
            raise self.error
        return self.result
