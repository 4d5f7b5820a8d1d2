"""OpenNebula VM states → libvirt domain states (virDomainState + reason)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from one_core.api import LcmState, VmState


class DomState(IntEnum):
    """virDomainState."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7


@dataclass(frozen=True)
class Mapped:
    state: DomState
    reason: int
    active: bool
    """libvirt "active": has an id, counted by numOfDomains, not by numOfDefinedDomains."""


_LCM: dict[LcmState, tuple[DomState, int]] = {
    LcmState.LCM_INIT: (DomState.BLOCKED, 0),
    LcmState.PROLOG: (DomState.BLOCKED, 0),
    LcmState.BOOT: (DomState.BLOCKED, 0),
    LcmState.RUNNING: (DomState.RUNNING, 1),  # RUNNING_BOOTED
    LcmState.MIGRATE: (DomState.RUNNING, 2),  # RUNNING_MIGRATED
    LcmState.SAVE_STOP: (DomState.PAUSED, 3),  # PAUSED_SAVE
    LcmState.SAVE_SUSPEND: (DomState.PAUSED, 3),
    LcmState.SAVE_MIGRATE: (DomState.PAUSED, 2),  # PAUSED_MIGRATION
    LcmState.PROLOG_MIGRATE: (DomState.PAUSED, 2),
    LcmState.PROLOG_RESUME: (DomState.BLOCKED, 0),
    LcmState.EPILOG_STOP: (DomState.SHUTDOWN, 1),  # SHUTDOWN_USER
    LcmState.EPILOG: (DomState.SHUTDOWN, 1),
    LcmState.SHUTDOWN: (DomState.SHUTDOWN, 1),
    LcmState.CANCEL: (DomState.SHUTDOWN, 1),
    LcmState.FAILURE: (DomState.CRASHED, 0),
    LcmState.DELETE: (DomState.SHUTDOWN, 0),
    LcmState.UNKNOWN: (DomState.NOSTATE, 0),
}


def map_state(state: int, lcm_state: int) -> Mapped:
    """The libvirt view of a VM in ``(state, lcm_state)``.

    PENDING and the ACTIVE states are "active" domains (a created domain has an
    id at once, as ``virsh create`` expects); HOLD, STOPPED, FAILED, DONE and
    INIT are shut off (inactive). PENDING shows as BLOCKED ("blocked on
    resource": waiting for the scheduler).
    """
    try:
        vm_state = VmState(state)
    except ValueError:
        return Mapped(DomState.NOSTATE, 0, False)
    if vm_state == VmState.PENDING:
        return Mapped(DomState.BLOCKED, 0, True)
    if vm_state == VmState.SUSPENDED:
        return Mapped(DomState.PAUSED, 1, True)  # PAUSED_USER
    if vm_state == VmState.ACTIVE:
        try:
            dom, reason = _LCM[LcmState(lcm_state)]
        except ValueError:
            dom, reason = DomState.NOSTATE, 0
        return Mapped(dom, reason, True)
    if vm_state == VmState.STOPPED:
        return Mapped(DomState.SHUTOFF, 5, False)  # SHUTOFF_SAVED
    if vm_state == VmState.FAILED:
        return Mapped(DomState.SHUTOFF, 6, False)  # SHUTOFF_FAILED
    if vm_state == VmState.DONE:
        return Mapped(DomState.SHUTOFF, 1, False)  # SHUTOFF_SHUTDOWN
    return Mapped(DomState.SHUTOFF, 0, False)  # INIT, HOLD
