"""The dispatcher: a single thread running commands, driver results and timers in order."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger("one.engine")

T = TypeVar("T")

_STOP = object()


class _Unscoped:
    """Marks an event that must not run inside :attr:`Dispatcher.scope`."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "unscoped")

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


class Dispatcher:
    """Runs callables one at a time on its own thread.

    * :meth:`post` queues a callable (fire and forget);
    * :meth:`call` queues it and waits for its result (runs it inline when
      already on the dispatcher thread);
    * :meth:`every` registers a periodic timer, run on the same thread.
    """

    def __init__(self, name: str = "one-dispatcher"):
        self._queue: queue.SimpleQueue[
            tuple[Callable[..., Any], tuple[Any, ...], Future[Any] | None]
        ] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, float, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopping = False
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._idle = threading.Condition(self._busy_lock)
        self.scope: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
        """Context entered around each event (the engine uses one DB transaction per event)."""
        self.before: Callable[[], None] | None = None
        self.after: Callable[[bool], None] | None = None
        """Called after each event, once its scope closed (``True`` if it succeeded)."""

    # -- life ------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        self._stopping = True
        self._queue.put(_STOP)  # type: ignore[arg-type]
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def on_thread(self) -> bool:
        return threading.current_thread() is self._thread

    # -- submitting ------------------------------------------------------
    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._busy_lock:
            self._busy += 1
        self._queue.put((fn, args, None))

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = 60.0) -> T:
        if self.on_thread():
            return fn(*args)
        if not self._thread.is_alive():
            return self._execute(fn, args)
        future: Future[T] = Future()
        with self._busy_lock:
            self._busy += 1
        self._queue.put((fn, args, future))
        return future.result(timeout)

    def every(self, period: float, fn: Callable[[], Any], first: float | None = None) -> None:
        """Run ``fn`` every ``period`` seconds (first after ``first`` seconds, default ``period``)."""
        due = time.monotonic() + (period if first is None else first)
        heapq.heappush(self._timers, (due, next(self._seq), period, fn))

    # -- idle tracking (tests, benchmarks, shutdown) ------------------------
    @property
    def idle(self) -> bool:
        with self._busy_lock:
            return self._busy == 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    # -- loop --------------------------------------------------------------
    def _next_timeout(self) -> float | None:
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - time.monotonic())

    def call_unscoped(self, fn: Callable[..., T], *args: Any, timeout: float | None = 60.0) -> T:
        """:meth:`call` without the event transaction (``fn`` opens its own, e.g. allocation,
        which takes other pools' locks before the DB write lock)."""
        return self.call(_Unscoped(fn), *args, timeout=timeout)

    def _execute(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """Run one event inside :attr:`scope`, then :attr:`after` (work issued after commit)."""
        if self.before is not None:
            self.before()
        ok = False
        try:
            if self.scope is None or isinstance(fn, _Unscoped):
                result = fn(*args)
            else:
                with self.scope():
                    result = fn(*args)
            ok = True
        finally:
            if self.after is not None:
                self.after(ok)
        return result

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, seq, period, fn = heapq.heappop(self._timers)
            try:
                self._execute(fn, ())
            except Exception:
                log.exception("timer %r failed", fn)
            heapq.heappush(self._timers, (time.monotonic() + period, seq, period, fn))

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._next_timeout())
            except queue.Empty:
                self._run_timers()
                continue
            if item is _STOP:
                break
            fn, args, future = item
            try:
                if future is None:
                    self._execute(fn, args)
                elif future.set_running_or_notify_cancel():
                    try:
                        future.set_result(self._execute(fn, args))
                    except BaseException as exc:  # handed to the caller
                        future.set_exception(exc)
            except Exception:
                log.exception("dispatcher event %r failed", fn)
            finally:
                with self._idle:
                    self._busy -= 1
                    if self._busy == 0:
                        self._idle.notify_all()
            if self._timers and self._timers[0][0] <= time.monotonic():
                self._run_timers()
