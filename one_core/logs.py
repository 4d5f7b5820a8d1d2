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
from typing import TextIO

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
    open (each line is flushed at once, so readers see it as before); a file
    whose directory was deleted meanwhile (link count 0) is reopened, so a
    deleted VM directory is simply re-created (1.4 behaved the same).
    """

    def __init__(self, var_dir: str, max_open: int = 64):
        self.var_dir = var_dir
        self.max_open = max(1, max_open)
        self._lock = threading.Lock()
        self._open: OrderedDict[int, TextIO] = OrderedDict()

    def path(self, vid: int) -> str:
        return os.path.join(self.var_dir, str(vid), "vm.log")

    def _handle(self, vid: int) -> TextIO:
        fh = self._open.get(vid)
        if fh is not None:
            try:
                if os.fstat(fh.fileno()).st_nlink > 0:
                    self._open.move_to_end(vid)
                    return fh
            except OSError:
                pass
            self._drop(vid)
        path = self.path(vid)
        try:  # the directory usually exists: one open() instead of mkdir + open
            fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open on purpose
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._open[vid] = fh
        while len(self._open) > self.max_open:
            self._drop(next(iter(self._open)))
        return fh

    def _drop(self, vid: int) -> None:
        fh = self._open.pop(vid, None)
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.close()

    def __call__(self, vid: int, module: str, level: str, message: str) -> None:
        line = format_line(module, level, message)
        with self._lock:
            fh = self._handle(vid)
            try:
                fh.write(line)
                fh.flush()
            except (OSError, ValueError):
                self._drop(vid)
                raise

    def write_many(self, vid: int, entries: list[tuple[str, str, str]]) -> None:
        """Append ``(module, level, message)`` lines to one VM's log in one write.

        A VM whose file is not among the open ones is appended to with one
        ``open``/``write``/``close`` of the raw file, without taking a place among the
        open files (a burst of events over more VMs than ``max_open`` would otherwise
        reopen each file as a text stream every time).
        """
        text = "".join(format_line(module, level, message) for module, level, message in entries)
        with self._lock:
            fh = self._open.get(vid)
            if fh is not None:
                try:
                    if os.fstat(fh.fileno()).st_nlink > 0:
                        self._open.move_to_end(vid)
                        fh.write(text)
                        fh.flush()
                        return
                except (OSError, ValueError):
                    pass
                self._drop(vid)
        data = text.encode("utf-8")
        path = self.path(vid)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            fd = os.open(path, flags, 0o666)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, flags, 0o666)
        try:
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)

    def close(self) -> None:
        """Close every open file (they are reopened on the next line)."""
        with self._lock:
            for vid in list(self._open):
                self._drop(vid)
