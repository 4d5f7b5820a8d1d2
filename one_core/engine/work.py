"""Timed and queued work besides VM events: one mechanism for monitoring, scheduling, hooks.

The dispatcher's timers decide *when* (:meth:`Work.every`, :meth:`Work.after`), the driver executor
runs the blocking part (:meth:`Work.run`: a thread of the ``one-driver`` pool, the
per-host limit, one task at a time per key) and its result comes back to the
dispatcher as an event — the path a VM driver call takes. So host monitoring,
the in-daemon scheduler and VM hooks have no thread or pool of their own, and
every write they cause happens on the dispatcher, the single writer.

This is a thin wrapper over the public API of
:class:`~one_core.engine.dispatcher.Dispatcher` and
:class:`~one_core.engine.executor.DriverExecutor`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from one_core.engine.dispatcher import Dispatcher
from one_core.engine.executor import Done, DriverExecutor, Key, TaskInfo

T = TypeVar("T")


class Work:
    """Timers and events on the dispatcher, blocking work on the driver executor."""

    def __init__(self, dispatcher: Dispatcher, executor: DriverExecutor) -> None:
        self.dispatcher = dispatcher
        self.executor = executor

    def every(self, period: float, fn: Callable[[], Any], first: float | None = None) -> None:
        """Run ``fn`` on the dispatcher every ``period`` seconds (first after ``first``).

        Registered from the dispatcher thread when it runs, so its loop takes the new
        timer into account at once.
        """
        d = self.dispatcher
        if d.running and not d.on_thread():
            d.call(d.every, period, fn, first)
        else:
            d.every(period, fn, first)

    def after(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` once on the dispatcher, ``delay`` seconds from now (registered like
        :meth:`every`)."""
        d = self.dispatcher
        if d.running and not d.on_thread():
            d.call(d.after, delay, fn)
        else:
            d.after(delay, fn)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` as a dispatcher event (any thread)."""
        self.dispatcher.post(fn, *args)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` as a dispatcher event and return its result (any thread)."""
        return self.dispatcher.call(fn, *args, timeout=None)

    def run(
        self,
        key: Key,
        label: str,
        fn: Callable[[], Any],
        on_done: Done | None,
        host: str | None = None,
        timeout: float | None = None,
        what: str = "",
    ) -> None:
        """Run the blocking ``fn`` on the executor (one at a time per ``key``, within the
        per-host limit of ``host``, failed with a ``DriverError`` after ``timeout``
        seconds, ``what`` naming the call); ``on_done(result, error)`` then runs on the
        dispatcher.
        Inside a dispatcher event, it starts only once the event committed."""
        self.executor.submit(key, label, fn, on_done, info=TaskInfo(host, timeout, what))

    def executor_for(self, kind: str) -> Executor:
        """A :class:`concurrent.futures.Executor` whose ``submit(fn, vid, ...)`` runs on
        the driver executor, one at a time per ``(kind, vid)`` (VM hooks)."""
        return _KeyedExecutor(self, kind)


class _KeyedExecutor(Executor):
    """``submit(fn, vid, *args)`` → :meth:`Work.run` keyed ``(kind, vid)``; a Future back."""

    def __init__(self, work: Work, kind: str) -> None:
        self.work = work
        self.kind = kind

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        vid = next((a for a in args if isinstance(a, int) and not isinstance(a, bool)), 0)

        def job() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

        self.work.run((self.kind, vid), self.kind.upper(), job, None)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to stop: the driver executor belongs to the engine."""
