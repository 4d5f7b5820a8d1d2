"""Helpers of the modern-dialect tests."""

from __future__ import annotations

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
