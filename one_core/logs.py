"""1.4's log format: ``<ctime> [<MODULE>][<E|W|I|D>]: <message>``.

Used for ``oned.log``, each VM's ``vm.log`` and ``sched.log``
(``spec/lifecycle-and-drivers.md`` §2.3, §9.2).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict

from one_core.vm.paths import APPEND, open_creating_dir, write_fd

LEVEL_LETTERS = {"E": logging.ERROR, "W": logging.WARNING, "I": logging.INFO, "D": logging.DEBUG}
"""1.4's level letters and the :mod:`logging` level of each."""

DEBUG_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
"""oned.conf ``DEBUG_LEVEL`` → :mod:`logging` level; out-of-range values mean ERROR."""


def ctime(timestamp: float | None = None) -> str:
    """C's ``ctime()`` without the newline: ``Thu Dec 17 10:00:00 2009``."""
    return time.ctime(time.time() if timestamp is None else timestamp)


def format_line(module: str, level: str, message: str, timestamp: float | None = None) -> str:
    """One log line in 1.4's format, newline included."""
    return f"{ctime(timestamp)} [{module}][{level}]: {message}\n"


class OneFormatter(logging.Formatter):
    """A :mod:`logging` formatter writing 1.4's line format.

    The module comes from the record's ``one_module`` extra (default: the last
    dotted part of the logger name, upper-cased).
    """

    _letters = {v: k for k, v in LEVEL_LETTERS.items()}

    def format(self, record: logging.LogRecord) -> str:
        module = getattr(record, "one_module", None) or record.name.rsplit(".", 1)[-1].upper()
        letter = self._letters.get(record.levelno, "E" if record.levelno > logging.ERROR else "D")
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return f"{ctime(record.created)} [{module}][{letter}]: {message}"


class VMLogWriter:
    """Appends lines to ``<var_dir>/<vid>/vm.log``, creating the directory.

    Thread-safe. The files of the ``max_open`` most recently written VMs stay
    open (raw descriptors opened ``O_APPEND``: a line is in the file when the call
    returns, readers see it as before); a file whose directory was deleted meanwhile
    (link count 0) is reopened, so a deleted VM directory is simply re-created (1.4
    behaved the same). A write to an open file is an ``fstat`` and a ``write``; to
    another, an ``open`` and a ``write`` (and a ``close`` when it leaves the open ones).
    """

    def __init__(self, var_dir: str, max_open: int = 64):
        self.var_dir = var_dir
        self.max_open = max(1, max_open)
        self._lock = threading.Lock()
        self._open: OrderedDict[int, int] = OrderedDict()
        """vid → open descriptor of its vm.log, least recently written first."""

    def path(self, vid: int) -> str:
        return os.path.join(self.var_dir, str(vid), "vm.log")

    def _fd(self, vid: int) -> int:
        """The open descriptor of VM ``vid``'s vm.log (opened if needed); lock held."""
        fd = self._open.get(vid)
        if fd is not None:
            try:
                if os.fstat(fd).st_nlink > 0:
                    self._open.move_to_end(vid)
                    return fd
            except OSError:
                pass
            self._drop(vid)
        fd = open_creating_dir(self.path(vid), APPEND)
        self._open[vid] = fd
        while len(self._open) > self.max_open:
            self._drop(next(iter(self._open)))
        return fd

    def _drop(self, vid: int) -> None:
        fd = self._open.pop(vid, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __call__(self, vid: int, module: str, level: str, message: str) -> None:
        self._append(vid, format_line(module, level, message))

    def write_many(self, vid: int, entries: list[tuple[str, str, str]]) -> None:
        """Append ``(module, level, message)`` lines to one VM's log in one write."""
        text = "".join(format_line(module, level, message) for module, level, message in entries)
        self._append(vid, text)

    def _append(self, vid: int, text: str) -> None:
        data = text.encode("utf-8")
        with self._lock:
            fd = self._fd(vid)
            try:
                write_fd(fd, data)
            except OSError:
                self._drop(vid)
                raise

    def close(self) -> None:
        """Close every open file (they are reopened on the next line)."""
        with self._lock:
            for vid in list(self._open):
                self._drop(vid)
