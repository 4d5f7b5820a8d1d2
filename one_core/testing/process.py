"""Ending the subprocesses tests start: one rule for "ask, wait, then kill"."""

from __future__ import annotations

import signal
import subprocess
from typing import Any

__all__ = ["stop_process"]


def stop_process(
    proc: subprocess.Popen[Any], timeout: float = 10.0, sig: int = signal.SIGTERM
) -> int:
    """Send ``sig`` to ``proc`` if it still runs, wait up to ``timeout`` s, then kill it.

    Returns its exit status (negative: the signal that ended it).
    """
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
