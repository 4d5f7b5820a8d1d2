"""OpenNebula VM state changes → libvirt lifecycle events (what the event poller sends)."""

from __future__ import annotations

import pytest
from one_libvirt import events
from one_libvirt.domains import Vm

INIT, PENDING, HOLD, ACTIVE, STOPPED, SUSPENDED, DONE, FAILED = range(8)
LCM_INIT, PROLOG, BOOT, RUNNING, MIGRATE, SAVE_STOP, SAVE_SUSPEND = range(7)
PROLOG_RESUME, EPILOG_STOP, SHUTDOWN, FAILURE = 9, 10, 12, 14


def vm(state: int, lcm: int = 0) -> Vm:
    return Vm(7, "web", state, lcm, 0)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, vm(HOLD), (events.DEFINED, 0)),
        (None, vm(PENDING), None),  # not started until it runs
        (None, vm(ACTIVE, RUNNING), (events.STARTED, events.STARTED_BOOTED)),
        (vm(PENDING), vm(ACTIVE, BOOT), None),
        (vm(ACTIVE, BOOT), vm(ACTIVE, RUNNING), (events.STARTED, events.STARTED_BOOTED)),
        (vm(ACTIVE, RUNNING), vm(SUSPENDED), (events.SUSPENDED, 0)),
        (vm(ACTIVE, RUNNING), vm(ACTIVE, SAVE_STOP), (events.SUSPENDED, 0)),
        (vm(SUSPENDED), vm(ACTIVE, RUNNING), (events.RESUMED, 0)),
        (vm(ACTIVE, EPILOG_STOP), vm(STOPPED), (events.STOPPED, events.STOPPED_SAVED)),
        (vm(ACTIVE, RUNNING), vm(STOPPED), (events.STOPPED, events.STOPPED_SAVED)),
        (vm(ACTIVE, RUNNING), vm(FAILED), (events.STOPPED, events.STOPPED_FAILED)),
        (vm(ACTIVE, RUNNING), vm(DONE), (events.STOPPED, events.STOPPED_SHUTDOWN)),
        (vm(ACTIVE, RUNNING), None, (events.STOPPED, events.STOPPED_SHUTDOWN)),
        (vm(HOLD), vm(DONE), (events.UNDEFINED, 0)),
        (vm(STOPPED), vm(PENDING), None),
        (vm(ACTIVE, PROLOG_RESUME), vm(ACTIVE, RUNNING), (events.STARTED, 0)),
        (vm(ACTIVE, SHUTDOWN), vm(ACTIVE, RUNNING), None),  # the shutdown failed
        (vm(ACTIVE, RUNNING), vm(ACTIVE, FAILURE), (events.CRASHED, 0)),
        (vm(ACTIVE, RUNNING), vm(ACTIVE, RUNNING), None),
        (vm(ACTIVE, RUNNING), vm(ACTIVE, MIGRATE), None),
        (vm(DONE), vm(DONE), None),
    ],
)
def test_lifecycle_event(old: Vm | None, new: Vm | None, expected: tuple[int, int] | None) -> None:
    assert events.lifecycle_event(old, new) == expected


def test_resume_of_a_stopped_vm_is_started_restored() -> None:
    """STOPPED → RUNNING in one poll (PROLOG_RESUME/BOOT missed): a restore."""
    assert events.lifecycle_event(vm(STOPPED), vm(ACTIVE, RUNNING)) == (
        events.STARTED,
        events.STARTED_RESTORED,
    )
