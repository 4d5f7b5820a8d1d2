"""The dispatcher: a single thread running commands, driver results and timers in order.

Group commit: the events already queued when the dispatcher picks one up run as one
batch (at most :attr:`Dispatcher.batch_size` events or :attr:`Dispatcher.batch_window`
seconds) inside one transaction of the dispatcher's :class:`Store`; each event runs in a
nested one (a SAVEPOINT), so a failing event rolls back alone and the others commit. The
first event of a batch has nothing before it to keep: where the store allows it
(:meth:`Store.bare`, SQLite) it runs without a SAVEPOINT, and if it fails the transaction
is rolled back and begun again for the events after it (:meth:`Store.restart`).
Callers of :meth:`Dispatcher.call` get their result once the batch committed (and its
vm.log lines are written: :meth:`Outbox.after_lines <one_core.engine.outbox.Outbox.after_lines>`).

Commit, then issue: what the events cause outside the database (driver calls, vm.log
lines, after-commit work) is appended to the dispatcher's
:class:`~one_core.engine.outbox.Outbox` and released after the batch's one commit; a
failed event's part is dropped (:meth:`Outbox.undo <one_core.engine.outbox.Outbox.undo>`),
and a batch that does not commit drops it all.

Database failures (:meth:`Store.is_transient`: locked, disk full, a dropped
connection), whether an event raised them or caught and logged them
(:meth:`Store.errors_seen` grew), or the commit failed: the whole batch is rolled back,
callers waiting on an event get the error (nothing happened), and the other events —
driver results, scheduler cycles, deferred work — are queued again, ahead of newer
ones, and retried after a back-off (0.1 s doubling to 5 s, for as long as the failure
lasts) once :meth:`Store.recover` (reconnect, reload the memory the engine keeps)
succeeded. An episode is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from one_core.engine.outbox import Mark, Outbox
from one_core.errors import DatabaseFailure

log = logging.getLogger("one.engine")

T = TypeVar("T")

_STOP = object()

_Item = tuple[Callable[..., Any], tuple[Any, ...], "Future[Any] | None"]


class Store(Protocol):
    """The storage the dispatcher's events write: its transactions, its failures and
    the memory kept of it (the engine: :class:`one_core.engine.store.EngineStore`)."""

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """Entered around each batch (and a lone event or timer)."""

    def savepoint(self) -> contextlib.AbstractContextManager[Any]:
        """Entered, inside the batch's transaction, around each event of it (but an
        event run :meth:`bare`)."""

    def bare(self) -> bool:
        """Whether an event with nothing before it in the transaction (the first of a
        batch) may run without :meth:`savepoint`: if it fails, :meth:`restart` undoes it
        with the whole transaction, which holds nothing else."""

    def restart(self) -> None:
        """Roll back the batch's transaction and begin it again (an event run bare failed)."""

    def is_transient(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a database failure to retry (locked, disk full...)."""

    def errors_seen(self) -> int:
        """Database failures seen on this thread so far; growing during an event fails
        it even if its code caught the error."""

    def first_failure(self, exc: BaseException) -> BaseException:
        """The failure to name in the callers' message (what a failed rollback hides)."""

    def recover(self) -> None:
        """Before events that failed on the database are retried: reconnect and reload
        what memory holds; a transient error here backs off again."""

    def begin(self) -> None:
        """A batch starts."""

    def mark(self) -> Any:
        """Before each event of a batch; the value is handed to :meth:`undo`."""

    def undo(self, mark: Any, error: BaseException) -> None:
        """An event of a batch was rolled back: forget what it changed in memory."""

    def end(self, committed: bool) -> None:
        """The batch ended (``False``: rolled back, forget what it changed in memory)."""


def _answer(answers: list[tuple[Future[Any], Any]]) -> None:
    """Hand a committed batch's callers their results."""
    for future, value in answers:
        future.set_result(value)


class _Retry(Exception):
    """Aborts a batch whose event hit a database failure (the batch is retried)."""

    def __init__(self, cause: BaseException | None):
        super().__init__(str(cause) if cause is not None else "database error")
        self.cause = cause


class Dispatcher:
    """Runs callables one at a time on its own thread.

    * :meth:`post` queues a callable (fire and forget);
    * :meth:`call` queues it and waits for its result (runs it inline when
      already on the dispatcher thread);
    * :meth:`every` registers a periodic timer, run on the same thread.

    ``store`` (None: events run without a transaction, one at a time) and ``outbox``
    (default: a new one) are given once, at construction.
    """

    def __init__(
        self,
        name: str = "one-dispatcher",
        *,
        store: Store | None = None,
        outbox: Outbox | None = None,
    ):
        self._queue: queue.SimpleQueue[
            tuple[Callable[..., Any], tuple[Any, ...], Future[Any] | None]
        ] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, float | None, Callable[[], Any]]] = []
        """(due, order, period — None: once —, fn), earliest first."""
        self._seq = itertools.count()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopping = False
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._idle = threading.Condition(self._busy_lock)
        self.store = store
        self.outbox = outbox if outbox is not None else Outbox()
        """What the running events cause outside the database, released after the commit."""
        self.batch_size = 64
        """Most events run in one batch (1: one transaction per event, the old behaviour)."""
        self.batch_window = 0.005
        """No event joins a batch that has been running this long (seconds)."""
        self.batches = 0
        self.batched_events = 0
        """Counters for benchmarks: batches committed and the events they held."""
        self.retry_first = 0.1
        self.retry_max = 5.0
        """Back-off of database retries: first delay, doubling up to this (seconds)."""
        self.retries = 0
        """Database retries so far (tests, benchmarks)."""
        self._pending: deque[_Item] = deque()
        """Events to run before the queue: retried ones, then those that arrived while
        backing off."""
        self._retry_at: float | None = None
        self._delay = 0.0
        self._episode: str | None = None
        self._retried: set[int] = set()
        """Ids of the items queued again (their commit ends an episode)."""

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

    def after(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` once, ``delay`` seconds from now."""
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), None, fn))

    def on_rollback(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` if the running event is rolled back (it failed, or its batch
        did not commit): undo what it changed in memory outside the database, e.g. a
        "probe in flight" mark whose driver work is then never issued. Outside an event
        (nothing to roll back), nothing is registered (:meth:`Outbox.on_rollback`)."""
        self.outbox.on_rollback(fn, *args)

    # -- idle tracking (tests, benchmarks, shutdown) ------------------------
    @property
    def idle(self) -> bool:
        with self._busy_lock:
            return self._busy == 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    # -- the store's questions ----------------------------------------------
    def _transient(self, exc: BaseException) -> bool:
        return self.store is not None and self.store.is_transient(exc)

    def _errors(self) -> int:
        return self.store.errors_seen() if self.store is not None else 0

    # -- loop --------------------------------------------------------------
    def _next_timeout(self) -> float | None:
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - time.monotonic())

    def _execute(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """Run one event in its own transaction, then release its outbox."""
        store, outbox = self.store, self.outbox
        if store is not None:
            store.begin()
        outbox.open()
        ok = False
        keep_lines = False
        try:
            if store is None:
                result = fn(*args)
            else:
                with store.transaction():
                    result = fn(*args)
            ok = True
        except BaseException as exc:
            keep_lines = not self._transient(exc)  # failed for good: its lines stay
            raise
        finally:
            if store is not None:
                try:
                    store.end(ok)
                except Exception:
                    log.exception("dispatcher store end failed")
            outbox.close(ok, keep_lines=keep_lines)
        return result

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, seq, period, fn = heapq.heappop(self._timers)
            errors = self._errors()
            try:
                self._execute(fn, ())
            except Exception as exc:
                if self._transient(exc):
                    self._failed(exc)  # memory is reloaded; the next period runs it again
                else:
                    log.exception("timer %r failed", fn)
            else:
                if self._errors() != errors:
                    self._failed(None)
            if period is not None:
                heapq.heappush(self._timers, (time.monotonic() + period, seq, period, fn))

    def _done(self, count: int = 1) -> None:
        with self._idle:
            self._busy -= count
            if self._busy == 0:
                self._idle.notify_all()

    def _run_one(self, item: _Item) -> None:
        """Run one event alone (its own transaction), as every event ran before group commit."""
        fn, args, future = item
        retry = False
        try:
            if future is None:
                errors = self._errors()
                try:
                    self._execute(fn, args)
                except Exception as exc:
                    if not self._transient(exc):
                        raise
                    retry = True
                    self._failed(exc)
                    self._refuse_waiting(self._refusal(exc))
                else:
                    if self._errors() != errors:
                        retry = True
                        self._failed(None)
            elif future.set_running_or_notify_cancel():
                try:
                    self.outbox.after_lines(future.set_result, self._execute(fn, args))
                except BaseException as exc:  # handed to the caller
                    if self._transient(exc):
                        self._failed(exc)
                    future.set_exception(exc)
        except Exception:
            log.exception("dispatcher event %r failed", fn)
        finally:
            if retry:
                self._pending.appendleft(item)  # still counted busy: it has not run
                self._retried.add(id(item))
            elif id(item) in self._retried:
                self._retried.discard(id(item))
                self._recovered()
            else:
                self._done()

    def _run_batch(self, first: _Item) -> Any:
        """Run ``first`` and the events queued behind it in one transaction (group commit).

        Returns the item that ended the batch without running (``_STOP``), or ``None``.
        """
        store, outbox = self.store, self.outbox
        assert store is not None
        t0 = time.monotonic()
        answers: list[tuple[Future[Any], Any]] = []
        taken: list[_Item] = [first]
        ran = 0
        carry: Any = None
        store.begin()
        outbox.open()
        ok = False
        bare = store.bare()
        try:
            with store.transaction():
                item: _Item | None = first
                alone = True  # nothing written before it in the transaction
                while item is not None:
                    ran += 1
                    alone = self._batch_event(item, store, answers, bare=bare and alone)
                    item = None
                    if ran < self.batch_size and time.monotonic() - t0 < self.batch_window:
                        try:
                            nxt = (
                                self._pending.popleft()
                                if self._pending
                                else self._queue.get_nowait()
                            )
                        except queue.Empty:
                            break
                        if nxt is not _STOP:
                            item = nxt
                            taken.append(nxt)
                        else:
                            carry = nxt
            ok = True
        except BaseException as exc:  # the commit failed: no event of the batch happened
            retry = isinstance(exc, _Retry) or self._transient(exc)
            cause = exc.cause if isinstance(exc, _Retry) else exc
            if not retry:
                log.exception("dispatcher batch of %d events failed to commit", ran)
            else:
                self._failed(cause)
            failure: BaseException = exc
            if retry:
                failure = self._refusal(cause)
            again: list[_Item] = []
            for item in taken:
                future = item[2]
                if future is None:
                    again.append(item)
                elif not future.done():
                    future.set_exception(failure)
            if retry:
                if carry is not None:
                    self._pending.appendleft(carry)
                    carry = None
                self._pending.extendleft(reversed(again))
                self._retried.update(id(item) for item in again)
                taken = [item for item in taken if item[2] is not None]
                if again:
                    self._refuse_waiting(failure)
            answers = []
        finally:
            if ok and self._retried:
                if any(id(item) in self._retried for item in taken):
                    self._recovered()
                self._retried.difference_update(id(item) for item in taken)
            try:
                store.end(ok)
            except Exception:
                log.exception("dispatcher store end failed")
            outbox.close(ok)
            if answers:  # once the batch's vm.log lines are written
                outbox.after_lines(_answer, answers)
            self.batches += 1
            self.batched_events += ran
            self._done(len(taken))
        return carry

    def _batch_event(
        self,
        item: _Item,
        store: Store,
        answers: list[tuple[Future[Any], Any]],
        *,
        bare: bool = False,
    ) -> bool:
        """One event of a batch in its own nested transaction; a failure rolls back only it.

        ``bare``: nothing was written before it in the transaction, so it runs without
        a SAVEPOINT (two statements fewer; batches of one event are the rule when a few
        synchronous clients drive the engine) and a failure rolls back the transaction,
        begun again for the events after it. Returns whether nothing it wrote is in the
        transaction (it was cancelled, or run bare and rolled back): the next event may
        run bare too.
        """
        fn, args, future = item
        if future is not None and not future.set_running_or_notify_cancel():
            return bare
        memory = store.mark()
        mark: Mark = self.outbox.mark()
        errors = store.errors_seen()
        try:
            if bare:
                result = fn(*args)
            else:
                with store.savepoint():
                    result = fn(*args)
            if store.errors_seen() != errors:  # caught by the event's code: fail it all the same
                raise _Retry(None)
        except BaseException as exc:
            retry = isinstance(exc, _Retry) or store.is_transient(exc)
            # an event retried writes its vm.log lines with the attempt that commits
            self.outbox.undo(mark, keep_lines=not retry)
            store.undo(memory, exc)
            if isinstance(exc, _Retry):
                raise
            if retry:
                raise _Retry(exc) from exc
            if future is not None:
                future.set_exception(exc)
            elif isinstance(exc, Exception):
                log.exception("dispatcher event %r failed", fn)
            else:
                raise
            if bare:  # its writes go with the transaction (a failure here fails the batch)
                store.restart()
            return bare
        if future is not None:
            answers.append((future, result))
        return False

    # -- database failures ---------------------------------------------------------
    def _refusal(self, cause: BaseException | None) -> DatabaseFailure:
        """What a caller is answered when the database failed under its event: the API's
        ``[false, "database error, nothing changed: <first failure>"]``."""
        shown = cause if cause is None or self.store is None else self.store.first_failure(cause)
        failure = DatabaseFailure(f"database error, nothing changed: {shown}")
        failure.__cause__ = cause
        return failure

    def _refuse_waiting(self, failure: BaseException) -> None:
        """Answer ``failure`` to every caller waiting behind an event being retried.

        A retried event (a driver's answer, a timer's work: nobody waits for it) runs again
        first, and keeps failing while the database does; the calls queued behind it (API
        requests) would wait for the database as long as it takes — a client's timeout, not
        an answer. They get the refusal an event of theirs would have got ("database error,
        nothing changed"); events without a caller stay queued, in order.
        """
        kept: deque[_Item] = deque()
        refused = 0
        for item in self._pending:
            future = item[2] if item is not _STOP else None
            if future is None:
                kept.append(item)
            elif future.set_running_or_notify_cancel():
                future.set_exception(failure)
                refused += 1
            else:
                refused += 1  # cancelled by its caller meanwhile
        if refused:
            self._pending = kept
            self._done(refused)

    def _failed(self, cause: BaseException | None) -> None:
        """A database failure: back off before the next event (retried ones first)."""
        self.retries += 1
        self._delay = (
            self.retry_first if self._episode is None else min(self._delay * 2, self.retry_max)
        )
        self._retry_at = time.monotonic() + self._delay
        if self._episode is None:
            self._episode = str(cause) if cause is not None else "an error the event caught"
            log.error(
                "Database error (%s): events are rolled back and retried "
                "(back-off %.1f s doubling to %.0f s) until the database accepts them",
                self._episode,
                self.retry_first,
                self.retry_max,
            )

    def _back_off(self) -> bool:
        """Wait out the back-off, keeping what arrives; then :meth:`Store.recover`.

        Returns False when asked to stop while waiting.
        """
        while self._retry_at is not None:
            left = self._retry_at - time.monotonic()
            if left > 0:
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    continue
                if item is _STOP:
                    return False
                self._pending.append(item)
                continue
            self._retry_at = None
            if self.store is not None:
                try:
                    self.store.recover()
                except Exception as exc:
                    if not self._transient(exc):
                        raise
                    self._failed(exc)
        return True

    def _recovered(self) -> None:
        """An event retried after a database failure committed: log the episode's end."""
        if self._episode is not None and self._retry_at is None:
            log.info("Database available again after %d retries (%s)", self.retries, self._episode)
            self._episode = None

    def _run(self) -> None:
        carry: Any = None
        while True:
            if self._retry_at is not None:
                if carry is not None:
                    self._pending.appendleft(carry)
                    carry = None
                try:
                    if not self._back_off():
                        break
                except Exception:
                    log.exception("dispatcher recovery failed")
            if carry is not None:
                item, carry = carry, None
            elif self._pending:
                item = self._pending.popleft()
            else:
                try:
                    item = self._queue.get(timeout=self._next_timeout())
                except queue.Empty:
                    self._run_timers()
                    continue
            if item is _STOP:
                break
            if self.store is not None and self.batch_size > 1:
                carry = self._run_batch(item)
            else:
                self._run_one(item)

            if self._timers and self._timers[0][0] <= time.monotonic():
                self._run_timers()
