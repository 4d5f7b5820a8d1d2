"""Helpers of the modern-dialect tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyone

from one_core.rpc.modern import PATH
from one_core.testing.oned import ONEADMIN_PASSWORD, OnedProcess

VM_TEMPLATE = 'NAME = "{name}"\nCPU = 1\nMEMORY = 64\n'


def endpoint(oned: OnedProcess) -> str:
    """The modern dialect's URL on ``oned``."""
    return f"http://127.0.0.1:{oned.port}{PATH}"


def connect(oned: OnedProcess, session: str = f"oneadmin:{ONEADMIN_PASSWORD}") -> Any:
    """A pyone client of the modern dialect."""
    return pyone.OneServer(endpoint(oned), session=session, timeout=30)


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
