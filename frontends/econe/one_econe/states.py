"""OpenNebula VM state → EC2 instance state (spec cloud-apis §3.10, §7 #12)."""

from __future__ import annotations

from one_core.api import short_status
from one_econe.views import PENDING, RUNNING, SHUTTING_DOWN, TERMINATED, Ec2State

ONE_STATES: dict[str, Ec2State] = {
    "init": PENDING,
    "pend": PENDING,
    "hold": PENDING,
    "stop": PENDING,
    "susp": PENDING,
    "done": TERMINATED,
    "fail": TERMINATED,
    "prol": PENDING,  # 1.4: undefined :pend → 500 (fixed, §7 #12)
    "boot": RUNNING,
    "runn": RUNNING,
    "migr": RUNNING,
    "save": PENDING,  # 1.4: undefined :pend → 500 (fixed)
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


def ec2_state(state: int, lcm_state: int) -> Ec2State:
    return ONE_STATES.get(vm_short(state, lcm_state), PENDING)
