"""The dispatcher: a single thread running commands, driver results and timers in order.

Group commit: the events already queued when the dispatcher picks one up run as one
batch (at most :attr:`Dispatcher.batch_size` events or :attr:`Dispatcher.batch_window`
seconds) inside one :attr:`Dispatcher.scope` (one database transaction); each event runs
in a nested scope (a SAVEPOINT), so a failing event rolls back alone and the others
commit. Callers of :meth:`Dispatcher.call` get their result once the batch committed,
and the driver work and deferred side effects of the batch are issued after that one
commit (:attr:`Dispatcher.after`), as they were after each event's own commit before.
"""

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

_Item = tuple[Callable[..., Any], tuple[Any, ...], "Future[Any] | None"]


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
        """Context entered around each batch and, nested, around each event in it (the
        engine: one DB transaction per batch, a SAVEPOINT per event)."""
        self.before: Callable[[], None] | None = None
        """Called before a batch (or a lone event) starts."""
        self.after: Callable[[bool], None] | None = None
        """Called after a batch (or a lone event), once its scope closed (``True``: committed)."""
        self.mark: Callable[[], Any] | None = None
        """Called before each event of a batch; its value is handed to :attr:`undo`."""
        self.undo: Callable[[Any], None] | None = None
        """An event of a batch failed (its SAVEPOINT was rolled back): drop the work it
        queued since :attr:`mark` returned the token."""
        self.batch_size = 64
        """Most events run in one batch (1: one transaction per event, the old behaviour)."""
        self.batch_window = 0.005
        """No event joins a batch that has been running this long (seconds)."""
        self.batches = 0
        self.batched_events = 0
        """Counters for benchmarks: batches committed and the events they held."""

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

    def _done(self, count: int = 1) -> None:
        with self._idle:
            self._busy -= count
            if self._busy == 0:
                self._idle.notify_all()

    def _run_one(self, item: _Item) -> None:
        """Run one event alone (its own scope), as every event ran before group commit."""
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
            self._done()

    def _batchable(self, item: Any) -> bool:
        return item is not _STOP and not isinstance(item[0], _Unscoped)

    def _run_batch(self, first: _Item) -> Any:
        """Run ``first`` and the events queued behind it in one scope (group commit).

        Returns the item that ended the batch without running (``_STOP`` or an event that
        must run alone), or ``None``.
        """
        assert self.scope is not None
        scope = self.scope
        t0 = time.monotonic()
        answers: list[tuple[Future[Any], Any]] = []
        taken: list[_Item] = [first]
        ran = 0
        carry: Any = None
        if self.before is not None:
            self.before()
        ok = False
        try:
            with scope():
                item: _Item | None = first
                while item is not None:
                    ran += 1
                    self._batch_event(item, scope, answers)
                    item = None
                    if ran < self.batch_size and time.monotonic() - t0 < self.batch_window:
                        try:
                            nxt = self._queue.get_nowait()
                        except queue.Empty:
                            break
                        if self._batchable(nxt):
                            item = nxt
                            taken.append(nxt)
                        else:
                            carry = nxt
            ok = True
        except BaseException as exc:  # the commit failed: no event of the batch happened
            log.exception("dispatcher batch of %d events failed to commit", ran)
            for _, _, future in taken:
                if future is not None and not future.done():
                    future.set_exception(exc)
            answers = []
        finally:
            if self.after is not None:
                try:
                    self.after(ok)
                except Exception:
                    log.exception("dispatcher after-batch hook failed")
            for future, value in answers:
                future.set_result(value)
            self.batches += 1
            self.batched_events += ran
            self._done(len(taken))
        return carry

    def _batch_event(
        self,
        item: _Item,
        scope: Callable[[], contextlib.AbstractContextManager[Any]],
        answers: list[tuple[Future[Any], Any]],
    ) -> None:
        """One event of a batch in its own nested scope; a failure rolls back only it."""
        fn, args, future = item
        if future is not None and not future.set_running_or_notify_cancel():
            return
        token = self.mark() if self.mark is not None else None
        try:
            with scope():
                result = fn(*args)
        except BaseException as exc:
            if self.undo is not None:
                self.undo(token)
            if future is not None:
                future.set_exception(exc)
            elif isinstance(exc, Exception):
                log.exception("dispatcher event %r failed", fn)
            else:
                raise
            return
        if future is not None:
            answers.append((future, result))

    def _run(self) -> None:
        carry: Any = None
        while True:
            if carry is not None:
                item, carry = carry, None
            else:
                try:
                    item = self._queue.get(timeout=self._next_timeout())
                except queue.Empty:
                    self._run_timers()
                    continue
            if item is _STOP:
                break
            if self.scope is not None and self.batch_size > 1 and self._batchable(item):
                carry = self._run_batch(item)
            else:
                self._run_one(item)
            if self._timers and self._timers[0][0] <= time.monotonic():
                self._run_timers()
