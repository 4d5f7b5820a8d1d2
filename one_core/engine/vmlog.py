"""vm.log lines of a dispatcher batch, written after its commit, grouped by VM."""

from __future__ import annotations

import threading
from collections.abc import Callable

VMLog = Callable[[int, str, str, str], None]
"""``(vid, module, level letter, message)`` → the VM's ``vm.log``."""


class BatchedVMLog:
    """Wraps a vm.log writer: between :meth:`hold` and :meth:`flush`, the lines the
    holding thread writes are kept and then written by :meth:`flush`, each VM's lines
    together and in order (other threads, e.g. drivers, write through at once).

    The engine buffers during a dispatcher batch and flushes once the batch committed
    (before its driver work is issued), so a batch of events touching many VMs opens
    each VM's ``vm.log`` once instead of once per line when more VMs are busy than the
    writer keeps files open. Lines are never dropped: a rolled-back event's lines are
    written too, as they were when each line was written at once.
    """

    def __init__(self, write: VMLog):
        self.write = write
        self._holder: int | None = None
        self._lines: dict[int, list[tuple[str, str, str]]] = {}

    def hold(self) -> None:
        """Keep this thread's lines until :meth:`flush`."""
        self._holder = threading.get_ident()

    def __call__(self, vid: int, module: str, level: str, message: str) -> None:
        if self._holder is not None and self._holder == threading.get_ident():
            self._lines.setdefault(vid, []).append((module, level, message))
        else:
            self.write(vid, module, level, message)

    def flush(self) -> None:
        """Write the kept lines and stop keeping them."""
        self._holder = None
        lines, self._lines = self._lines, {}
        for vid, entries in lines.items():
            for module, level, message in entries:
                self.write(vid, module, level, message)

    def __getattr__(self, name: str) -> object:
        return getattr(self.write, name)  # path(), close() of the wrapped writer
