"""Fixtures of the modern-dialect tests: a real oned, pyone clients on ``/RPC2/modern``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from one_core.testing.oned import DRIVER_SECTIONS_SCHED, OnedProcess

from .helpers import connect


@pytest.fixture
def sched_oned(oned_factory: Callable[..., OnedProcess]) -> OnedProcess:
    """oned with dummy drivers, the in-daemon scheduler and 1 s host monitoring."""
    return oned_factory(sections=DRIVER_SECTIONS_SCHED, HOST_MONITORING_INTERVAL=1)


@pytest.fixture
def one(oned: OnedProcess) -> Any:
    """pyone as oneadmin on an oned without scheduler (VMs stay PENDING)."""
    return connect(oned)
