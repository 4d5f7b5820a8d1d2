"""What a finished driver call leaves behind in the watchdog (issue 19: oned's memory
with many running VMs): nothing of the call, and no heap entry once a burst ended."""

from __future__ import annotations

import gc
import weakref

from one_core.deadlines import Watchdog
from one_core.engine.dispatcher import Dispatcher
from one_core.engine.executor import DriverExecutor, TaskInfo


class _Payload:
    """Stands for what a driver call's closure holds (the VM's snapshot)."""


def _executor() -> DriverExecutor:
    dispatcher = Dispatcher()
    dispatcher.start()
    executor = DriverExecutor(dispatcher, 2)
    executor.watchdog = Watchdog("test-watchdog")
    return executor


def test_a_finished_call_keeps_nothing_it_captured():
    """The deadline of a call that ended in time is due much later (600 s for a deploy):
    until then it must not keep the task, its closures and what they hold."""
    ex = _executor()
    payload = _Payload()
    alive = weakref.ref(payload)
    results: list[object] = []
    ex.submit(1, "DEPLOY", lambda p=payload: id(p), lambda r, e: results.append(r),
              info=TaskInfo(host="h", timeout=600.0))  # fmt: skip
    del payload
    assert ex.wait_idle(5) and ex.dispatcher.wait_idle(5)
    assert len(results) == 1
    gc.collect()
    assert alive() is None, "a settled deadline kept the finished call's closure"


def test_a_burst_of_calls_leaves_no_heap_behind():
    """Many calls in flight at once, then all settled, no call after them: the heap of
    settled deadlines is compacted by the settles themselves."""
    watchdog = Watchdog("test-watchdog")
    deadlines = [watchdog.watch(600.0, lambda d: None) for _ in range(1000)]
    for deadline in deadlines:
        assert watchdog.settle(deadline)
    assert len(watchdog._heap) <= Watchdog.COMPACT_MIN


def test_a_deadline_not_settled_still_expires():
    watchdog = Watchdog("test-watchdog")
    expired: list[object] = []
    kept = watchdog.watch(600.0, expired.append)
    for deadline in [watchdog.watch(600.0, expired.append) for _ in range(200)]:
        watchdog.settle(deadline)
    late = watchdog.watch(0.05, expired.append)
    import time

    time.sleep(0.5)
    assert expired == [late] and late.expired and not kept.expired
    assert kept in [entry[2] for entry in watchdog._heap]
