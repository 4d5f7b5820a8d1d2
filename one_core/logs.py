"""1.4's log format: ``<ctime> [<MODULE>][<E|W|I|D>]: <message>``.

Used for ``oned.log``, each VM's ``vm.log`` and ``sched.log``
(``spec/lifecycle-and-drivers.md`` §2.3, §9.2).
"""

from __future__ import annotations

import logging
import os
import threading
import time

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

    Thread-safe; files are opened per write so that a deleted VM directory is
    simply re-created (1.4 behaved the same).
    """

    def __init__(self, var_dir: str):
        self.var_dir = var_dir
        self._lock = threading.Lock()

    def path(self, vid: int) -> str:
        return os.path.join(self.var_dir, str(vid), "vm.log")

    def __call__(self, vid: int, module: str, level: str, message: str) -> None:
        path = self.path(vid)
        line = format_line(module, level, message)
        with self._lock:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
