"""A recorder of the file system calls code makes through :mod:`os` and ``open()``.

Issue 19: each system call of oned's threads releases and re-takes the GIL, so the
files of a VM are written with ``os.open``/``os.write``/``os.close`` (no buffered
``open()``: its fstat, isatty ioctl and lseeks) and their directory is made only when
missing. Tests install a :class:`FileCalls` to check which calls a write makes.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from typing import Any

import pytest

WATCHED = ("open", "mkdir", "makedirs", "stat", "listdir", "scandir", "replace", "unlink")
"""The :mod:`os` functions recorded (as ``os.<name>``), besides ``open()`` (as ``open``)."""


class FileCalls:
    """Records ``(call, path)`` of every watched call while the test runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str]] = []
        for name in WATCHED:
            monkeypatch.setattr(os, name, self._recording(f"os.{name}", getattr(os, name)))
        monkeypatch.setattr(builtins, "open", self._recording("open", builtins.open))

    def _recording(self, label: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(path, str | bytes | os.PathLike):
                self.calls.append((label, os.fsdecode(path)))
            return real(path, *args, **kwargs)

        return call

    def on(self, path: Any) -> list[str]:
        """The calls made on ``path``, in order."""
        wanted = os.fsdecode(path)
        return [label for label, called in self.calls if called == wanted]

    def under(self, directory: Any) -> list[tuple[str, str]]:
        """The calls made on ``directory`` or anything inside it."""
        top = os.fsdecode(directory)
        return [(label, p) for label, p in self.calls if p == top or p.startswith(top + os.sep)]
