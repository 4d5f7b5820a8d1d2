"""The driver executor's timeouts, per-host limit and close (issue 17), on a real dispatcher."""

from __future__ import annotations

import threading
import time

from one_core.engine.dispatcher import Dispatcher
from one_core.engine.executor import DriverExecutor, TaskInfo, action_timeout, on_expiry


def _executor(threads: int, infos: dict[int, TaskInfo], per_host: int = 2) -> DriverExecutor:
    dispatcher = Dispatcher()
    dispatcher.start()
    return DriverExecutor(
        dispatcher,
        threads,
        describe=lambda vid, label: infos.get(vid, TaskInfo()),
        per_host=per_host,
    )


def test_action_timeout_from_section_then_role_default():
    assert action_timeout("vmm", {"TIMEOUT_DEPLOY": "3"}, "deploy") == 3.0
    assert action_timeout("vmm", {"TIMEOUT": "7"}, "DEPLOY") == 7.0
    assert action_timeout("vmm", {}, "DEPLOY") == 600.0
    assert action_timeout("vmm", {}, "POLL") == 60.0
    assert action_timeout("tm", {"TIMEOUT": "0"}, "PROLOG") is None  # 0: no limit
    assert action_timeout("im", {"TIMEOUT_MONITOR": "oops"}, "MONITOR") == 120.0


def test_timeout_fails_the_action_and_runs_expiry_callbacks():
    ex = _executor(2, {1: TaskInfo(host="h", timeout=0.3)})
    killed = threading.Event()
    results: list[tuple[object, object]] = []

    def hang() -> None:
        on_expiry(killed.set)
        time.sleep(30)

    t0 = time.monotonic()
    ex.submit(1, "DEPLOY", hang, lambda r, e: results.append((r, e)))
    assert ex.wait_idle(5)
    assert ex.dispatcher.wait_idle(5)
    assert time.monotonic() - t0 < 3
    assert killed.is_set()
    ((result, error),) = results
    assert result is None and "deploy of VM 1 timed out after 0.3 s" in str(error)


def test_an_expired_call_gives_its_thread_back_to_the_pool():
    """One driver thread, stuck in a call that ignores its kill: once the watchdog
    expired it, the next work runs on a thread that takes its place."""
    ex = _executor(1, {1: TaskInfo(host="h", timeout=0.2)})
    release = threading.Event()
    results: dict[int, object] = {}
    ex.submit(1, "DEPLOY", lambda: release.wait(30), lambda r, e: results.setdefault(1, e))
    ex.submit(2, "DEPLOY", lambda: "second", lambda r, e: results.setdefault(2, r))
    assert ex.wait_idle(5), "the second call waited for the stuck one"
    assert ex.dispatcher.wait_idle(5)
    assert "timed out after 0.2 s" in str(results[1]) and results[2] == "second"
    release.set()  # the stuck call returns late: its result is dropped, its thread retires
    time.sleep(0.2)
    ex.submit(3, "POLL", lambda: "third", lambda r, e: results.setdefault(3, r))
    assert ex.wait_idle(5) and ex.dispatcher.wait_idle(5)
    assert results == {1: results[1], 2: "second", 3: "third"}
    assert ex._pool.size == 1


def test_a_sick_host_cannot_take_every_thread():
    infos = {vid: TaskInfo(host="sick") for vid in range(10)}
    infos.update({vid: TaskInfo(host="fine") for vid in range(10, 13)})
    ex = _executor(4, infos, per_host=2)
    release = threading.Event()
    running: dict[str, int] = {"sick": 0, "max_sick": 0}
    lock = threading.Lock()
    done: list[int] = []

    def sick() -> None:
        with lock:
            running["sick"] += 1
            running["max_sick"] = max(running["max_sick"], running["sick"])
        release.wait(10)
        with lock:
            running["sick"] -= 1

    for vid in range(10):
        ex.submit(vid, "DEPLOY", sick, lambda r, e: None)
    t0 = time.monotonic()
    for vid in range(10, 13):
        ex.submit(vid, "DEPLOY", lambda: None, lambda r, e, vid=vid: done.append(vid))
    deadline = time.monotonic() + 3
    while len(done) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(done) == [10, 11, 12] and time.monotonic() - t0 < 3
    assert running["max_sick"] == 2
    release.set()
    assert ex.wait_idle(10)


def test_close_drops_work_not_started():
    ex = _executor(1, {}, per_host=1)
    gate = threading.Event()
    ran: list[int] = []
    ex.submit(1, "POLL", lambda: gate.wait(5), lambda r, e: None)
    for vid in range(2, 20):
        ex.submit(vid, "POLL", lambda vid=vid: ran.append(vid), lambda r, e: None)
    ex.close()
    gate.set()
    assert ex.wait_idle(5)
    assert ran == []
    ex.submit(30, "POLL", lambda: ran.append(30), lambda r, e: None)  # refused after close
    time.sleep(0.2)
    assert ran == [] and ex.idle


def test_expiry_kills_a_driver_kit_command(tmp_path):
    """A command run through the driver kit registers its kill: a timed-out call's
    child process does not live on."""
    import pytest
    from one_driverkit.remote import LocalHost

    from one_core.deadlines import TimedCall
    from one_core.errors import DriverError

    marker = tmp_path / "pid"
    script = f"echo $$ > {marker}; exec sleep 30"
    with pytest.raises(DriverError, match="timed out after 0.5 s"):
        TimedCall(lambda: LocalHost().run(["sh", "-c", script]), 0.5).run("test command")
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split()[2] == "Z":
                    break  # killed, waiting to be reaped
        except (FileNotFoundError, ProcessLookupError):  # gone (reaped meanwhile)
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"process {pid} still running")
