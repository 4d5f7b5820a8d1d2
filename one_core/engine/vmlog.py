"""vm.log lines of dispatcher events, written with the commit that makes them true."""

from __future__ import annotations

from one_core.engine.outbox import Outbox, VMLog

__all__ = ["EventVMLog", "VMLog"]


class EventVMLog:
    """Wraps a vm.log writer: a line written by a dispatcher event goes into the
    dispatcher's :class:`~one_core.engine.outbox.Outbox` and is written once the event
    committed (each VM's lines of a batch together, so its ``vm.log`` is opened once; by
    the engine's :class:`~one_core.engine.linewriter.LineWriter` thread);
    the lines of an event rolled back to be retried are dropped (the attempt that
    commits writes them), those of an event that failed for good are kept. Lines from
    other threads (drivers, hooks) are written at once.
    """

    def __init__(self, write: VMLog, outbox: Outbox):
        self.write = write
        self.outbox = outbox

    def __call__(self, vid: int, module: str, level: str, message: str) -> None:
        if not self.outbox.add_line(self.write, vid, module, level, message):
            self.write(vid, module, level, message)

    def __getattr__(self, name: str) -> object:
        return getattr(self.write, name)  # path(), close() of the wrapped writer
