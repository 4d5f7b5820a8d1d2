"""VM states, LCM states, history reasons (``spec/lifecycle-and-drivers.md`` §1.1, §2.1)
and host states (§6.4, include/Host.h).

Values are 1.4's enum numbers: they are stored in the DB and sent on the wire.
"""

from __future__ import annotations

from enum import IntEnum


class VmState(IntEnum):
    """Dispatch-manager state (``vm_pool.state``)."""

    INIT = 0
    PENDING = 1
    HOLD = 2
    ACTIVE = 3
    STOPPED = 4
    SUSPENDED = 5
    DONE = 6
    FAILED = 7


class LcmState(IntEnum):
    """Life-cycle-manager state (``vm_pool.lcm_state``); meaningful while ACTIVE."""

    LCM_INIT = 0
    PROLOG = 1
    BOOT = 2
    RUNNING = 3
    MIGRATE = 4
    SAVE_STOP = 5
    SAVE_SUSPEND = 6
    SAVE_MIGRATE = 7
    PROLOG_MIGRATE = 8
    PROLOG_RESUME = 9
    EPILOG_STOP = 10
    EPILOG = 11
    SHUTDOWN = 12
    CANCEL = 13
    FAILURE = 14
    DELETE = 15
    UNKNOWN = 16


class HostState(IntEnum):
    """Host state (``host_pool.state``, ``<STATE>`` of ``one.host.info``)."""

    INIT = 0
    MONITORING = 1
    MONITORED = 2
    ERROR = 3
    DISABLED = 4


class Reason(IntEnum):
    """Why a VM left a host (history ``reason``)."""

    NONE = 0
    ERROR = 1
    STOP_RESUME = 2
    USER = 3
    CANCEL = 4


VM_SHORT: dict[VmState, str] = {
    VmState.INIT: "init",
    VmState.PENDING: "pend",
    VmState.HOLD: "hold",
    VmState.ACTIVE: "actv",
    VmState.STOPPED: "stop",
    VmState.SUSPENDED: "susp",
    VmState.DONE: "done",
    VmState.FAILED: "fail",
}
"""``onevm list`` short names of the DM states (ACTIVE shows the LCM one)."""

LCM_SHORT: dict[LcmState, str] = {
    LcmState.LCM_INIT: "",
    LcmState.PROLOG: "prol",
    LcmState.BOOT: "boot",
    LcmState.RUNNING: "runn",
    LcmState.MIGRATE: "migr",
    LcmState.SAVE_STOP: "save",
    LcmState.SAVE_SUSPEND: "save",
    LcmState.SAVE_MIGRATE: "save",
    LcmState.PROLOG_MIGRATE: "migr",
    LcmState.PROLOG_RESUME: "prol",
    LcmState.EPILOG_STOP: "epil",
    LcmState.EPILOG: "epil",
    LcmState.SHUTDOWN: "shut",
    LcmState.CANCEL: "shut",
    LcmState.FAILURE: "fail",
    LcmState.DELETE: "dele",
    LcmState.UNKNOWN: "unkn",
}
"""``onevm list`` short names of the LCM states."""

REASON_SHORT: dict[Reason, str] = {
    Reason.NONE: "none",
    Reason.ERROR: "erro",
    Reason.STOP_RESUME: "stop",
    Reason.USER: "user",
    Reason.CANCEL: "canc",
}

IGNORE_REPLIES: frozenset[LcmState] = frozenset(
    {LcmState.DELETE, LcmState.FAILURE, LcmState.LCM_INIT}
)
"""Driver replies for a VM in one of these LCM states are dropped (§1.8)."""

TRANSITIONAL: frozenset[LcmState] = frozenset(set(LcmState) - {LcmState.RUNNING, LcmState.UNKNOWN})
"""LCM states an ACTIVE VM only passes through: recovery reconciles them at start-up."""


def short_status(state: int, lcm_state: int) -> str:
    """The ``STAT`` column of ``onevm list``."""
    if state == VmState.ACTIVE:
        return LCM_SHORT[LcmState(lcm_state)]
    return VM_SHORT[VmState(state)]
