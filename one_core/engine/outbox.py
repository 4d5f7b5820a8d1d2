"""The outbox of the dispatcher's running events: "commit, then issue" in one object.

While an event runs (on the dispatcher thread, inside its transaction), everything it
causes outside the database is *appended* to the :class:`Outbox` instead of being done:

* driver calls (:meth:`Outbox.add_call`, by the driver executor's ``submit``);
* work to run after the commit (:meth:`Outbox.after_commit`: lease releases, VM
  hooks, scheduler wake-ups);
* the event's ``vm.log`` lines (:meth:`Outbox.add_line`);
* what to undo in memory if the event is rolled back (:meth:`Outbox.on_rollback`).

The dispatcher, which owns the outbox, opens it before a batch of events, takes a
:meth:`~Outbox.mark` before each event, drops what a failed event appended
(:meth:`~Outbox.undo`) and closes it after the batch's one commit
(:meth:`~Outbox.close`): committed, the lines are written (grouped by VM), the driver
calls are issued and the after-commit work runs, in that order; rolled back, they are
dropped and the rollback callbacks run. Outside an event nothing is held: driver calls
start and after-commit work runs at once.

With a :class:`~one_core.engine.linewriter.LineWriter` (:meth:`Outbox.write_in_background`,
the engine's), the lines are queued to its thread instead of written on the dispatcher;
the calls are issued with the lines' ticket (:attr:`Outbox.ticket`) and wait for it
(:meth:`Outbox.wait_lines`) before they start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from one_core.engine.linewriter import Line, LineWriter, VMLog, write_lines

__all__ = ["CallSink", "Mark", "Outbox", "VMLog"]

log = logging.getLogger("one.engine")


class CallSink(Protocol):
    """Where held driver calls go once their event ended (the driver executor)."""

    def issue(self, calls: list[Any]) -> None:
        """The event committed: start ``calls`` (in order)."""

    def drop(self, calls: list[Any]) -> None:
        """The event was rolled back: ``calls`` will never start."""


@dataclass(frozen=True)
class Mark:
    """How much the outbox held when an event of a batch started."""

    calls: int
    after: int
    rollback: int
    lines: int


_Fn = tuple[Callable[..., Any], tuple[Any, ...]]


class Outbox:
    """Driver calls, after-commit work, vm.log lines and rollback callbacks of the
    running event (or batch of events); see the module docstring."""

    def __init__(self) -> None:
        self._owner: int | None = None
        """Thread id of the dispatcher while an event runs (None: no event)."""
        self._calls: list[tuple[CallSink, Any]] = []
        self._after: list[_Fn] = []
        self._rollback: list[_Fn] = []
        self._lines: list[Line] = []
        self._writer: LineWriter | None = None

    # -- appending (the code an event runs) ----------------------------------------
    @property
    def active(self) -> bool:
        """An event is running on this thread: what it causes is held."""
        return self._owner is not None and self._owner == threading.get_ident()

    def add_call(self, sink: CallSink, call: Any) -> bool:
        """Hold a driver call until the event commits; False (not held): no event runs
        on this thread, the caller starts it now."""
        if not self.active:
            return False
        self._calls.append((sink, call))
        return True

    def take_calls(self, sink: CallSink, which: Callable[[Any], bool]) -> list[Any]:
        """Remove and return the held calls of ``sink`` that ``which`` selects (1.4's
        ``DRIVER_CANCEL`` of a VM's queued work, even work queued in this event)."""
        taken = [call for s, call in self._calls if s is sink and which(call)]
        if taken:
            self._calls = [(s, c) for s, c in self._calls if s is not sink or not which(c)]
        return taken

    def after_commit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` once the event committed (outside an event: now)."""
        if self.active:
            self._after.append((fn, args))
        else:
            fn(*args)

    def on_rollback(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` if the event is rolled back (outside an event: ignored)."""
        if self.active:
            self._rollback.append((fn, args))

    def add_line(self, write: VMLog, vid: int, module: str, level: str, message: str) -> bool:
        """Hold a vm.log line until the event commits; False: no event, write it now."""
        if not self.active:
            return False
        self._lines.append((write, vid, module, level, message))
        return True

    # -- the lines' thread -----------------------------------------------------------
    def write_in_background(self, writer: LineWriter | None = None) -> LineWriter:
        """From now on, committed lines are written by ``writer`` (default: a new one)."""
        self._writer = writer if writer is not None else LineWriter()
        return self._writer

    @property
    def ticket(self) -> int:
        """The ticket of every line released so far (0: lines are written at once)."""
        return self._writer.ticket if self._writer is not None else 0

    def wait_lines(self, ticket: int, timeout: float | None = None) -> bool:
        """Block until the lines released up to ``ticket`` are written (a driver call
        issued with it, before it starts)."""
        if self._writer is None or not ticket:
            return True
        return self._writer.wait(ticket, timeout)

    def after_lines(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` once the lines released so far are written (answers to the
        callers of a batch); now if there are none waiting."""
        if self._writer is None:
            fn(*args)
        else:
            self._writer.then(fn, *args)

    def flush_lines(self, timeout: float | None = None) -> bool:
        """Block until the lines released so far are written."""
        return self._writer.flush(timeout) if self._writer is not None else True

    def stop_lines(self) -> None:
        """Write the lines still queued; later ones are written at once."""
        if self._writer is not None:
            self._writer.stop()

    # -- the dispatcher's side -------------------------------------------------------
    def open(self) -> None:
        """A batch (or a lone event) starts on this thread."""
        self._owner = threading.get_ident()

    def mark(self) -> Mark:
        """Before each event of a batch: what :meth:`undo` keeps."""
        return Mark(len(self._calls), len(self._after), len(self._rollback), len(self._lines))

    def undo(self, mark: Mark, *, keep_lines: bool = False) -> None:
        """An event failed and its SAVEPOINT was rolled back: run its rollback callbacks,
        drop its driver calls and after-commit work, and its vm.log lines unless
        ``keep_lines`` (an event that failed for good, not one retried)."""
        self._run_rollbacks(self._rollback[mark.rollback :])
        del self._rollback[mark.rollback :]
        self._drop(self._calls[mark.calls :])
        del self._calls[mark.calls :]
        del self._after[mark.after :]
        if not keep_lines:
            del self._lines[mark.lines :]

    def close(self, committed: bool, *, keep_lines: bool = False) -> None:
        """The batch ended. Committed: write the lines, issue the calls, run the
        after-commit work. Rolled back: run the rollback callbacks and drop the rest
        (the lines too unless ``keep_lines``)."""
        self._owner = None
        calls, self._calls = self._calls, []
        after, self._after = self._after, []
        rollback, self._rollback = self._rollback, []
        lines, self._lines = self._lines, []
        if not committed:
            self._run_rollbacks(rollback)
            self._drop(calls)
            if keep_lines:
                self._write(lines)
            return
        self._write(lines)
        self._issue(calls)
        for fn, args in after:
            try:
                fn(*args)
            except Exception:
                log.exception("after-commit work %r failed", fn)

    # -- internals -------------------------------------------------------------------
    @staticmethod
    def _run_rollbacks(todo: list[_Fn]) -> None:
        for fn, args in reversed(todo):
            try:
                fn(*args)
            except Exception:
                log.exception("rollback callback %r failed", fn)

    @staticmethod
    def _by_sink(calls: list[tuple[CallSink, Any]]) -> dict[int, tuple[CallSink, list[Any]]]:
        groups: dict[int, tuple[CallSink, list[Any]]] = {}
        for sink, call in calls:
            groups.setdefault(id(sink), (sink, []))[1].append(call)
        return groups

    def _issue(self, calls: list[tuple[CallSink, Any]]) -> None:
        for sink, group in self._by_sink(calls).values():
            sink.issue(group)

    def _drop(self, calls: list[tuple[CallSink, Any]]) -> None:
        for sink, group in self._by_sink(calls).values():
            sink.drop(group)

    def _write(self, lines: list[Line]) -> None:
        """Committed lines: queued to the writer thread, or written here (by VM)."""
        if self._writer is not None:
            self._writer.put(lines)
        else:
            write_lines(lines)
