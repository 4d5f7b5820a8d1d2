"""OpenNebula VM state → EC2 instance state (spec cloud-apis §3.10, §7 #12).

Issue 20: STOPPED and SUSPENDED VMs are ``stopped`` (80), and the way there
(``save`` of SAVE_STOP/SAVE_SUSPEND, EPILOG_STOP) is ``stopping`` (64), so
StopInstances/StartInstances read as on AWS; 1.4 showed them as ``pending``.
"""

from __future__ import annotations

from one_core.api import LcmState, VmState, short_status
from one_econe.views import (
    PENDING,
    RUNNING,
    SHUTTING_DOWN,
    STOPPED,
    STOPPING,
    TERMINATED,
    Ec2State,
)

ONE_STATES: dict[str, Ec2State] = {
    "init": PENDING,
    "pend": PENDING,
    "hold": PENDING,
    "stop": STOPPED,
    "susp": STOPPED,
    "done": TERMINATED,
    "fail": TERMINATED,
    "prol": PENDING,  # 1.4: undefined :pend → 500 (fixed, §7 #12)
    "boot": RUNNING,
    "runn": RUNNING,
    "migr": RUNNING,
    "save": STOPPING,  # 1.4: undefined :pend → 500 (fixed); SAVE_MIGRATE below
    "epil": SHUTTING_DOWN,
    "shut": SHUTTING_DOWN,
    "dele": TERMINATED,
    "unkn": TERMINATED,
    "": PENDING,  # ACTIVE/LCM_INIT: 1.4 nil → 500 (fixed)
}


def vm_short(state: int, lcm_state: int) -> str:
    """OCA's short status (the LCM one for ACTIVE VMs); ``""`` if unknown."""
    try:
        return short_status(state, lcm_state)
    except ValueError:
        return ""


_LCM_OVERRIDES: dict[int, Ec2State] = {
    LcmState.SAVE_MIGRATE: RUNNING,
    LcmState.EPILOG_STOP: STOPPING,
}
"""ACTIVE LCM states whose short status says otherwise: SAVE_MIGRATE, EPILOG_STOP."""


def ec2_state(state: int, lcm_state: int) -> Ec2State:
    if state == VmState.ACTIVE and lcm_state in _LCM_OVERRIDES:
        return _LCM_OVERRIDES[lcm_state]
    return ONE_STATES.get(vm_short(state, lcm_state), PENDING)
