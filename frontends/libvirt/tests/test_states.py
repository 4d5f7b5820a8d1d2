"""OpenNebula (state, lcm_state) → libvirt (state, reason, active)."""

from __future__ import annotations

import pytest
from one_libvirt import states
from one_libvirt.states import DomState, map_state

from one_core.vm.states import LcmState, VmState


@pytest.mark.parametrize(
    ("state", "lcm", "expected"),
    [
        (VmState.INIT, 0, (DomState.SHUTOFF, 0, False)),
        (VmState.PENDING, 0, (DomState.BLOCKED, 0, True)),
        (VmState.HOLD, 0, (DomState.SHUTOFF, 0, False)),
        (VmState.ACTIVE, LcmState.PROLOG, (DomState.BLOCKED, 0, True)),
        (VmState.ACTIVE, LcmState.BOOT, (DomState.BLOCKED, 0, True)),
        (VmState.ACTIVE, LcmState.RUNNING, (DomState.RUNNING, 1, True)),
        (VmState.ACTIVE, LcmState.MIGRATE, (DomState.RUNNING, 2, True)),
        (VmState.ACTIVE, LcmState.SAVE_SUSPEND, (DomState.PAUSED, 3, True)),
        (VmState.ACTIVE, LcmState.SAVE_MIGRATE, (DomState.PAUSED, 2, True)),
        (VmState.ACTIVE, LcmState.SHUTDOWN, (DomState.SHUTDOWN, 1, True)),
        (VmState.ACTIVE, LcmState.EPILOG, (DomState.SHUTDOWN, 1, True)),
        (VmState.ACTIVE, LcmState.FAILURE, (DomState.CRASHED, 0, True)),
        (VmState.ACTIVE, LcmState.UNKNOWN, (DomState.NOSTATE, 0, True)),
        (VmState.ACTIVE, 99, (DomState.NOSTATE, 0, True)),
        (VmState.STOPPED, 0, (DomState.SHUTOFF, 5, False)),
        (VmState.SUSPENDED, 0, (DomState.PAUSED, 1, True)),
        (VmState.DONE, 0, (DomState.SHUTOFF, 1, False)),
        (VmState.FAILED, 0, (DomState.SHUTOFF, 6, False)),
        (42, 0, (DomState.NOSTATE, 0, False)),
    ],
)
def test_state_mapping(state: int, lcm: int, expected: tuple[DomState, int, bool]) -> None:
    m = map_state(int(state), int(lcm))
    assert (m.state, m.reason, m.active) == expected


def test_every_lcm_state_has_an_explicit_mapping() -> None:
    assert set(LcmState) == set(states._LCM)
