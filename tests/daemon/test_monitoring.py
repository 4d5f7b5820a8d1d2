"""Host monitoring (spec lifecycle §6.4): in-process manager and through a real oned."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from one_core import db
from one_core.db import monitoring_models
from one_core.engine.dispatcher import Dispatcher
from one_core.engine.executor import DriverExecutor
from one_core.engine.store import DatabaseStore
from one_core.engine.work import Work
from one_core.errors import DriverError
from one_core.im_manager import MIN_PER_STEP, STEP, InformationManager
from one_core.pools.host import HostPool, monitor_attrs
from one_core.vm.states import HostState

S = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()


# ---------------------------------------------------------------------------
# in-process: the manager with fake drivers on a real SQLite file
# ---------------------------------------------------------------------------


class FakeDriver:
    def __init__(self, answer=None, fail=False, gate=None):
        self.calls: list[tuple[int, str]] = []
        self.threads: list[str] = []
        self.answer = answer or {"TOTALCPU": 400, "FREECPU": "187.5", "TOTALMEMORY": 1024}
        self.fail = fail
        self.gate = gate
        self.lock = threading.Lock()
        self.concurrent: dict[int, int] = {}
        self.max_concurrent_per_host = 0

    def call(self, hook, hid, host):
        assert hook == "im_monitor"
        with self.lock:
            self.calls.append((hid, host))
            self.threads.append(threading.current_thread().name)
            self.concurrent[hid] = self.concurrent.get(hid, 0) + 1
            self.max_concurrent_per_host = max(self.max_concurrent_per_host, self.concurrent[hid])
        try:
            if self.gate is not None:
                self.gate.wait(10)
            if self.fail:
                raise DriverError(f"Could not monitor host {host}.")
            return dict(self.answer)
        finally:
            with self.lock:
                self.concurrent[hid] -= 1


class FakeDrivers:
    def __init__(self, **drivers):
        self.drivers = drivers

    def get(self, role, name):
        assert role == "im"
        return self.drivers[name]


@pytest.fixture
def hosts(tmp_path):
    db.connect({}, var_dir=str(tmp_path))
    yield HostPool()
    db.close()


@pytest.fixture
def work():
    """The engine's mechanism: a running dispatcher (one transaction per event) and a
    driver executor of 16 threads."""
    dispatcher = Dispatcher(store=DatabaseStore())
    executor = DriverExecutor(dispatcher, threads=16)
    dispatcher.start()
    yield Work(dispatcher, executor)
    executor.shutdown(wait=False)
    dispatcher.stop()


def manager(work, hosts, drivers, interval):
    return InformationManager(hosts, drivers, work, interval=interval)


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return False


def test_success_updates_template_share_state(hosts, work):
    drv = FakeDriver()
    hid = hosts.allocate("n1", "im", "vmm", "tm")
    im = manager(work, hosts, FakeDrivers(im=drv), 0)
    now = time.time() + 1
    assert im.tick(now) == 1
    # the state flips in memory before the same write renders the host's XML: wait for both
    assert wait_for(
        lambda: (
            hosts.get(hid).state == HostState.MONITORED and "<FREECPU>" in hosts.get(hid).info_xml
        )
    )
    assert drv.threads[0].startswith(
        "one-driver"
    )  # the engine's driver executor, no pool of its own
    h = hosts.get(hid)
    assert h.share["max_cpu"] == 400 and h.share["free_cpu"] == 187 and h.share["max_mem"] == 1024
    assert h.share["used_cpu"] == 0  # not reported: 0
    assert (
        "<TEMPLATE><FREECPU>187.5</FREECPU><TOTALCPU>400</TOTALCPU><TOTALMEMORY>1024</TOTALMEMORY></TEMPLATE>"
        in h.info_xml
    )
    # replace mode: a later answer overwrites, attributes never disappear
    drv.answer = {"FREECPU": 100, "NEW": "x"}
    im.tick(time.time() + 1)
    assert wait_for(lambda: hosts.get(hid).template.get("NEW") == "x" and im.inflight() == 0)
    h = hosts.get(hid)
    assert h.template["TOTALCPU"] == "400" and h.template["FREECPU"] == "100"
    assert h.share["free_cpu"] == 100 and h.share["max_cpu"] == 400
    im.stop()
    assert work.dispatcher.wait_idle(10)  # the event that applied it has committed
    # persisted
    again = HostPool().get(hid)
    assert (
        again.template == h.template
        and again.share == h.share
        and again.state == HostState.MONITORED
    )


def test_failure_sets_error_and_time(hosts, work):
    hid = hosts.allocate("n1", "im", "vmm", "tm")
    t0 = hosts.get(hid).last_mon_time
    im = manager(work, hosts, FakeDrivers(im=FakeDriver(fail=True)), 0)
    im.tick(time.time() + 5)
    assert wait_for(lambda: hosts.get(hid).state == HostState.ERROR)
    assert hosts.get(hid).last_mon_time >= t0
    im.stop()


def test_unknown_driver_is_error(hosts, work):
    hid = hosts.allocate("n1", "im_nope", "vmm", "tm")
    im = manager(work, hosts, FakeDrivers(), 0)
    assert im.tick(time.time() + 1) == 0
    assert hosts.get(hid).state == HostState.ERROR
    im.stop()


def test_interval_disabled_and_monitoring_timeout(hosts, work):
    drv = FakeDriver()
    a = hosts.allocate("a", "im", "v", "t")
    b = hosts.allocate("b", "im", "v", "t")
    hosts.enable(b, False)
    im = manager(work, hosts, FakeDrivers(im=drv), 60)
    now = time.time()
    assert im.tick(now) == 0  # new hosts wait one interval
    assert im.tick(now + 61) == 1  # the disabled one is skipped
    assert wait_for(lambda: im.inflight() == 0)
    assert [c[0] for c in drv.calls] == [a]
    assert hosts.get(b).state == HostState.DISABLED
    # a host stuck in MONITORING for 600 s goes back to INIT, and is not probed in that tick
    hosts.set_state(a, HostState.MONITORING)
    assert im.tick(hosts.get(a).last_mon_time + 600) == 0
    assert hosts.get(a).state == HostState.INIT
    im.stop()


def test_one_probe_in_flight_per_host_and_1000_hosts_per_tick(hosts, work):
    gate = threading.Event()
    drv = FakeDriver(gate=gate)
    for i in range(1000):
        hosts.allocate(f"h{i}", "im", "v", "t")
    im = manager(work, hosts, FakeDrivers(im=drv), 0)
    now = time.time() + 1
    assert im.tick(now) == 1000
    assert im.tick(now) == 0  # every host already has a probe in flight (and is MONITORING)
    # enabling resets MONITORING to INIT (S12), still no second probe while one is in flight
    hosts.enable(5, True)
    assert im.tick(now) == 0
    gate.set()
    assert wait_for(lambda: im.inflight() == 0, 60)
    assert len(drv.calls) == 1000 and drv.max_concurrent_per_host == 1
    assert all(h.state == HostState.MONITORED for h in hosts.hosts())
    im.stop()


def test_due_hosts_start_in_slices_and_all_get_monitored(hosts, work):
    """300 due hosts, interval 60 s: a slice is max(10, 300 × 2 × 0.05 / 60) = 10 hosts;
    the tick starts one slice, the steps every 0.05 s start the rest."""
    drv = FakeDriver()
    for i in range(300):
        hosts.allocate(f"h{i}", "im", "v", "t")
    im = manager(work, hosts, FakeDrivers(im=drv), 60)
    assert im.slice() == MIN_PER_STEP == 10
    now = time.time() + 61
    t0 = time.monotonic()
    assert im.tick(now) == 10
    assert im.tick(now) == 10  # queued hosts are not queued twice: the next slice
    assert wait_for(lambda: all(h.state == HostState.MONITORED for h in hosts.hosts()), 30)
    # 280 hosts in slices of 10, one per 0.05 s step: not in one burst
    assert time.monotonic() - t0 >= 27 * STEP
    assert sorted(hid for hid, _ in drv.calls) == list(range(300))
    assert drv.max_concurrent_per_host == 1
    im.stop()
    # the answers were written in few events: each host has one history row
    assert work.dispatcher.wait_idle(10)
    rows = monitoring_models.samples()
    assert sorted(r.hid for r in rows) == list(range(300))


def test_pauses_between_slices_take_no_driver_thread(hosts, work, monkeypatch):
    """The pause between two slices is a one-shot dispatcher timer: the driver executor
    runs the probes and nothing else (a sleeping task held one of its threads)."""
    labels: list[str] = []
    submit = work.executor.submit

    def recording(key, label, *args, **kwargs):
        labels.append(label)
        return submit(key, label, *args, **kwargs)

    monkeypatch.setattr(work.executor, "submit", recording)
    drv = FakeDriver()
    for i in range(40):
        hosts.allocate(f"h{i}", "im", "v", "t")
    im = manager(work, hosts, FakeDrivers(im=drv), 60)
    assert im.tick(time.time() + 61) == 10
    assert wait_for(lambda: all(h.state == HostState.MONITORED for h in hosts.hosts()), 30)
    im.stop()
    assert labels == ["MONITOR"] * 40


def test_a_one_shot_timer_runs_once(hosts, work):  # hosts: the database the events use
    ran: list[float] = []
    work.after(0.05, lambda: ran.append(time.monotonic()))
    assert wait_for(lambda: ran, 5)
    time.sleep(0.2)
    assert len(ran) == 1


def test_monitor_results_writes_many_and_names_missing(hosts):
    a = hosts.allocate("a", "im", "v", "t")
    b = hosts.allocate("b", "im", "v", "t")
    hosts.enable(b, False)
    missing = hosts.monitor_results(
        {a: monitor_attrs({"totalcpu": 400, "Net": {"rx": 1}}), b: None, 99: None}, now=42
    )
    assert missing == [99]
    ha, hb = hosts.get(a), hosts.get(b)
    assert (ha.state, ha.last_mon_time, ha.share["max_cpu"]) == (HostState.MONITORED, 42, 400)
    assert ha.template == {"TOTALCPU": "400", "NET": {"RX": "1"}}
    assert "<NET><RX>1</RX></NET><TOTALCPU>400</TOTALCPU>" in ha.info_xml
    assert (hb.state, hb.last_mon_time) == (HostState.DISABLED, 42)  # failure keeps DISABLED
    again = HostPool()
    assert again.get(a).template == ha.template and again.get(b).last_mon_time == 42
    assert [(r.hid, r.time) for r in monitoring_models.samples()] == [(a, 42)]


def test_disable_while_probe_in_flight_keeps_disabled(hosts, work):
    gate = threading.Event()
    hid = hosts.allocate("n1", "im", "vmm", "tm")
    im = manager(work, hosts, FakeDrivers(im=FakeDriver(gate=gate)), 0)
    im.tick(time.time() + 1)
    hosts.enable(hid, False)
    gate.set()
    assert wait_for(lambda: im.inflight() == 0)
    assert hosts.get(hid).state == HostState.DISABLED
    assert hosts.get(hid).share["max_cpu"] == 400  # data updated, state kept
    im.stop()


# ---------------------------------------------------------------------------
# through oned with the dummy IM driver
# ---------------------------------------------------------------------------


def test_oned_monitors_hosts_with_dummy_driver(oned_factory):
    o = oned_factory(HOST_MONITORING_INTERVAL=1, MANAGER_TIMER=1)
    hid = o.call("one.host.allocate", S, "node1", "im_dummy", "vmm_dummy", "tm_dummy")[1]
    bad = o.call("one.host.allocate", S, "node2", "im_missing", "vmm_dummy", "tm_dummy")[1]
    (o.var / "dummy_hosts").mkdir(exist_ok=True)
    (o.var / "dummy_hosts" / "node3").write_text('FAIL = "yes"\n')
    failing = o.call("one.host.allocate", S, "node3", "im_dummy", "vmm_dummy", "tm_dummy")[1]

    def body(h):
        return o.call("one.host.info", S, h)[1]

    assert wait_for(lambda: "<STATE>2</STATE>" in body(hid), 15)
    b = body(hid)
    assert "<MAX_CPU>800</MAX_CPU>" in b and "<MAX_MEM>16777216</MAX_MEM>" in b
    assert "<HOSTNAME>node1</HOSTNAME>" in b and "<HYPERVISOR>dummy</HYPERVISOR>" in b
    assert wait_for(lambda: "<STATE>3</STATE>" in body(bad), 15)
    assert wait_for(lambda: "<STATE>3</STATE>" in body(failing), 15)
    o.stop()
    log = o.log()
    assert "[InM][I]: Monitoring host node1 (0)" in log
    assert "[InM][E]: Could not find information driver im_missing" in log
    assert f"[InM][E]: Error monitoring host {failing} : " in log
