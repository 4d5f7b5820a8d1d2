"""vm.log lines of committed dispatcher batches, written on a thread of their own.

Writing a batch's ``vm.log`` lines (an ``open``/``write`` per VM, the VM's directory
the first time) was a fifth to two fifths of the dispatcher's time. The dispatcher's
:class:`~one_core.engine.outbox.Outbox` hands them to a :class:`LineWriter` after the
commit and goes on with the next batch; the order that matters is kept with *tickets*:

* each :meth:`LineWriter.put` returns a ticket, and the driver calls of that batch are
  issued with it: the driver executor runs a call only once :meth:`LineWriter.wait` of
  its ticket returned, so the line announcing a driver action is in ``vm.log`` before
  the action starts (and before anything the driver writes to that ``vm.log``);
* :meth:`LineWriter.then` runs work after every line queued so far (the answers to
  the batch's callers: a caller sees its VM's lines written, as before);
* lines are written in the order they were queued, each VM's lines of consecutive
  batches together (one ``write`` per VM).

Once :meth:`LineWriter.stop` ran (the engine stopped), lines are written at once.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("one.engine")

VMLog = Callable[[int, str, str, str], None]
"""``(vid, module, level letter, message)`` → the VM's ``vm.log``."""

Line = tuple[VMLog, int, str, str, str]
"""A held line: the writer, then ``(vid, module, level, message)``."""

_Item = list[Line] | tuple[Callable[..., Any], tuple[Any, ...]]


def write_lines(lines: list[Line]) -> None:
    """Each VM's lines together and in order: one write when the writer can
    (``write_many(vid, [(module, level, message), ...])``), else line by line."""
    if not lines:
        return
    by_vm: dict[tuple[int, int], tuple[VMLog, list[tuple[str, str, str]]]] = {}
    for write, vid, module, level, message in lines:
        by_vm.setdefault((id(write), vid), (write, []))[1].append((module, level, message))
    for (_, vid), (write, entries) in by_vm.items():
        try:
            many = getattr(write, "write_many", None)
            if many is not None:
                many(vid, entries)
            else:
                for module, level, message in entries:
                    write(vid, module, level, message)
        except Exception:
            log.exception("cannot write vm.log of VM %s", vid)


class LineWriter:
    """One thread (started with the first line) writing queued vm.log lines in order;
    see the module docstring."""

    def __init__(self, name: str = "one-vmlog") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._written = threading.Condition(self._lock)
        self._queue: deque[_Item] = deque()
        self._queued = 0
        self._done = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._waiters = 0
        self._sleeping = False
        """The thread waits for work (only then is it woken: a notify costs a switch)."""

    @property
    def ticket(self) -> int:
        """The ticket of everything queued so far (for :meth:`wait`)."""
        return self._queued

    @property
    def pending(self) -> bool:
        """Something queued is not written yet."""
        return self._done < self._queued

    def put(self, lines: list[Line]) -> int:
        """Queue a batch's lines; returns their ticket."""
        if not lines:
            return self._queued
        return self._put(lines)

    def then(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` once every line queued so far is written (now if none is
        waiting), on the writer thread."""
        if not self.pending:
            fn(*args)
        else:
            self._put((fn, args))

    def wait(self, ticket: int, timeout: float | None = None) -> bool:
        """Block until the lines of ``ticket`` are written; False: ``timeout`` passed."""
        if self._done >= ticket:
            return True
        with self._written:
            self._waiters += 1
            try:
                return self._written.wait_for(lambda: self._done >= ticket, timeout)
            finally:
                self._waiters -= 1

    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything queued so far is written."""
        return self.wait(self._queued, timeout)

    def stop(self, timeout: float | None = 10.0) -> None:
        """Write what is queued, end the thread; later lines are written at once."""
        with self._lock:
            self._stopped = True
            thread = self._thread
            self._work.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- internals -------------------------------------------------------------------
    def _put(self, item: _Item) -> int:
        with self._lock:
            if not self._stopped:
                self._queue.append(item)
                self._queued += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._thread.start()
                if self._sleeping:
                    self._work.notify()
                return self._queued
        self._handle([item])  # stopped: written here and now
        return self._queued

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopped:
                    self._sleeping = True
                    self._work.wait()
                    self._sleeping = False
                if not self._queue:
                    return
                items = list(self._queue)
                self._queue.clear()
            self._handle(items)
            with self._lock:
                self._done += len(items)
                if self._waiters:
                    self._written.notify_all()

    @staticmethod
    def _handle(items: list[_Item]) -> None:
        """Write the lines of consecutive batches together; run work in its place."""
        lines: list[Line] = []
        for item in items:
            if isinstance(item, list):
                lines.extend(item)
                continue
            write_lines(lines)
            lines = []
            fn, args = item
            try:
                fn(*args)
            except Exception:
                log.exception("work after vm.log lines %r failed", fn)
        write_lines(lines)
