"""Hung drivers against a real oned (issue 17, cases 1 and 6): timeouts, per-host limit, stop."""

from __future__ import annotations

import re
import signal
import time

import pytest

from one_core.testing.oned import DRIVER_SECTIONS
from tests.faults.helpers import VM_TEMPLATE, vm_state, wait_for

ACTIVE, FAILED = 3, 7
RUNNING = 3

SLOW_SECTIONS = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
VM_MAD = [ name = "vmm_slow", driver = "dummy", type = "xml", DELAY_DEPLOY = "3600",
           TIMEOUT_DEPLOY = "{timeout}" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "external" ]
"""


def _hosts(oned) -> tuple[int, int]:
    slow = oned.call("one.host.allocate", oned.session, "slow", "im_dummy", "vmm_slow", "tm_dummy")
    fast = oned.call("one.host.allocate", oned.session, "fast", "im_dummy", "vmm_dummy", "tm_dummy")
    assert slow[0] is True and fast[0] is True
    return slow[1], fast[1]


def _deploy(oned, hid: int, n: int) -> list[int]:
    vids = []
    for _ in range(n):
        ok, vid = oned.call("one.vm.allocate", oned.session, VM_TEMPLATE)[:2]
        assert ok is True
        assert oned.call("one.vm.deploy", oned.session, vid, hid) == [True]
        vids.append(vid)
    return vids


def test_hung_host_does_not_stall_the_healthy_one(oned_factory):
    oned = oned_factory(
        sections=SLOW_SECTIONS.format(timeout=4), DRIVER_THREADS=8, DRIVER_HOST_THREADS=2
    )
    slow, fast = _hosts(oned)
    hung = _deploy(oned, slow, 12)  # more than DRIVER_THREADS
    time.sleep(0.5)
    t0 = time.monotonic()
    healthy = _deploy(oned, fast, 5)
    assert wait_for(lambda: all(vm_state(oned, v) == (ACTIVE, RUNNING) for v in healthy), 10)
    assert time.monotonic() - t0 < 10
    # the hung deploys time out (4 s each, 2 at a time) and fail into FAILED
    assert wait_for(lambda: all(vm_state(oned, v)[0] == FAILED for v in hung), 60)
    assert "deploy of VM" in oned.log() and "timed out after 4 s" in oned.log()


def test_sigterm_exits_within_10s_with_hung_driver_calls(oned_factory):
    oned = oned_factory(sections=SLOW_SECTIONS.format(timeout=3600), DRIVER_THREADS=4)
    slow, fast = _hosts(oned)
    _deploy(oned, slow, 6)
    time.sleep(1)
    lock = oned.var / ".lock"
    assert lock.exists()
    t0 = time.monotonic()
    oned.proc.send_signal(signal.SIGTERM)
    oned.proc.wait(12)
    elapsed = time.monotonic() - t0
    oned.proc = None
    oned._stderr.close()
    assert elapsed <= 10, elapsed
    assert "All modules finalized, exiting." in oned.log()
    assert not lock.exists()
    # the next oned recovers the VMs caught in BOOT
    oned.start()
    assert oned.call("one.vmpool.info", oned.session, -2)[0] is True


def test_graceful_stop_does_not_wait_for_queued_polls(oned_factory):
    sections = SLOW_SECTIONS.format(timeout=3600).replace(
        'DELAY_DEPLOY = "3600"', 'DELAY_POLL = "3"'
    )
    oned = oned_factory(sections=sections, DRIVER_THREADS=2, VM_POLLING_INTERVAL=1)
    slow, _ = _hosts(oned)
    vids = _deploy(oned, slow, 12)
    assert wait_for(lambda: all(vm_state(oned, v) == (ACTIVE, RUNNING) for v in vids), 30)
    time.sleep(3)  # polls queue up behind the 2 driver threads
    t0 = time.monotonic()
    assert oned.stop(timeout=15) == 0
    assert time.monotonic() - t0 < 8


def test_second_oned_refused_while_first_holds_the_database(oned_factory):
    first = oned_factory()
    shared = f'DB = [ backend = "sqlite", path = "{first.var / "one.db"}" ]\n'
    second = oned_factory(start=False, sections=shared + DRIVER_SECTIONS)
    with pytest.raises(RuntimeError):
        second.start()
    assert "is used by another oned" in second.stderr()
    assert str(first.var / "one.db") in second.stderr()
    assert first.call("one.user.info", first.session, 0)[0] is True


def test_monitoring_timeout_puts_host_in_error(oned_factory):
    sections = """
IM_MAD = [ name = "im_dummy", driver = "dummy", DELAY_MONITOR = "3600", TIMEOUT_MONITOR = "2" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "external" ]
"""
    oned = oned_factory(sections=sections, HOST_MONITORING_INTERVAL=1, MANAGER_TIMER=1)
    hid = oned.call("one.host.allocate", oned.session, "h", "im_dummy", "vmm_dummy", "tm_dummy")[1]

    def state() -> int:
        xml = oned.call("one.host.info", oned.session, hid)[1]
        return int(re.search(r"<STATE>(\d+)</STATE>", xml).group(1))

    assert wait_for(lambda: state() == 3, 15)  # ERROR
    assert "monitoring of host h timed out after 2 s" in oned.log()


def test_second_oned_refused_on_the_same_postgresql_database(oned_factory, pg_server):
    options = pg_server.create_database()
    try:
        first = oned_factory(db=options)
        second = oned_factory(start=False, db=options)
        with pytest.raises(RuntimeError):
            second.start()
        assert "is used by another oned" in second.stderr()
        assert first.call("one.user.info", first.session, 0)[0] is True
        first.stop()
        second.start()  # the lock went with the first process
        assert second.call("one.user.info", second.session, 0)[0] is True
        second.stop()
    finally:
        pg_server.release_database(options["name"])


@pytest.mark.parametrize("damage", ["garbage", "unreadable"])
def test_corrupt_or_unreadable_database_refused_with_one_line(oned_factory, damage):
    oned = oned_factory(start=False)
    db_file = oned.var / "one.db"
    if damage == "garbage":
        db_file.write_bytes(b"this is not a database" * 500)
    else:
        db_file.mkdir()  # cannot be opened as a file whatever the user
    with pytest.raises(RuntimeError):
        oned.start()
    lines = [ln for ln in oned.stderr().splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert str(db_file) in lines[0] and "Traceback" not in oned.stderr()
    assert "restore it from a backup" in lines[0]
    assert lines[0] in oned.log()


def test_shutdown_timeout_returns_the_vm_to_running(oned_factory):
    sections = SLOW_SECTIONS.format(timeout=3600).replace(
        'DELAY_DEPLOY = "3600"', 'DELAY_SHUTDOWN = "3600", TIMEOUT_SHUTDOWN = "2"'
    )
    oned = oned_factory(sections=sections)
    slow, _ = _hosts(oned)
    (vid,) = _deploy(oned, slow, 1)
    assert wait_for(lambda: vm_state(oned, vid) == (ACTIVE, RUNNING), 20)
    assert oned.call("one.vm.action", oned.session, "shutdown", vid) == [True]
    assert vm_state(oned, vid) != (ACTIVE, RUNNING)
    t0 = time.monotonic()
    assert wait_for(lambda: vm_state(oned, vid) == (ACTIVE, RUNNING), 15)
    assert time.monotonic() - t0 >= 1.5
    vm_log = (oned.var / str(vid) / "vm.log").read_text()
    assert "timed out after 2 s" in vm_log or "timed out after 2 s" in oned.log()
