"""The in-daemon scheduler (one_core/scheduling.py) on a real engine, without oned."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from one_core.config import OnedConfig
from one_core.drivers import load_drivers
from one_core.placement import HostSnapshot, PendingVM, Placement
from one_core.scheduling import SchedulerService, fits, host_snapshot, setup
from one_core.testing.cloud import wait_until

from .conftest import SchedEnv


class FakeDriver:
    """A ``sched_place`` driver whose answer a test decides."""

    def __init__(self, place: Any):
        self.place = place
        self.calls: list[tuple[list[PendingVM], list[HostSnapshot]]] = []

    def call(self, name: str, *, pending: list[PendingVM], hosts: list[HostSnapshot]) -> Any:
        assert name == "sched_place"
        self.calls.append((pending, hosts))
        return self.place(pending, hosts)


def service(env: SchedEnv, driver: Any, interval: float = 0) -> SchedulerService:
    return SchedulerService(engine=env.engine, hosts=env.hosts, driver=driver, interval=interval)


def test_fits_is_hostshare_test() -> None:
    share = {"max_cpu": 200, "cpu_usage": 100, "max_mem": 10, "mem_usage": 0}
    share |= {"max_disk": 0, "disk_usage": 0}
    assert fits(share, 100, 10, 0)
    assert not fits(share, 101, 10, 0)
    assert not fits(share, 100, 11, 0)
    assert not fits(share, 0, 0, 1)


def test_snapshot_carries_template_and_share(senv: SchedEnv) -> None:
    hid = senv.add_host("h0", cpu=400, ARCH="x86_64")
    snap = host_snapshot(senv.hosts.get(hid))
    assert (snap.hid, snap.name, snap.max_cpu, snap.free_cpu) == (hid, "h0", 400, 400)
    assert snap.template["ARCH"] == "x86_64"


def test_cycle_with_rank_driver_places_each_vm_by_the_rules(senv: SchedEnv) -> None:
    big = senv.add_host("big", cpu=800, ARCH="x86_64")
    small = senv.add_host("small", cpu=400, ARCH="ppc")
    by_rank = senv.allocate(extra="RANK = FREECPU\n")
    by_req = senv.allocate(extra='REQUIREMENTS = "ARCH = \\"ppc\\""\n')
    no_rank = senv.allocate()
    nowhere = senv.allocate(extra='REQUIREMENTS = "ARCH = \\"sparc\\""\n')
    svc = service(senv, senv.rank_driver())
    placed = svc.cycle()
    senv.settle()
    assert {(p.vid, p.hid) for p in placed} == {(by_rank, big), (by_req, small), (no_rank, small)}
    for vid in (by_rank, by_req, no_rank):
        assert senv.state(vid) == ("ACTIVE", "RUNNING")
    assert senv.hid(by_rank) == big and senv.hid(by_req) == small and senv.hid(no_rank) == small
    assert senv.state(nowhere) == ("PENDING", "LCM_INIT")
    assert "[SCHED][I]: Not scheduled: REQUIREMENTS not met by host(s) 0, 1" in senv.log(nowhere)


def test_stale_placements_never_overcommit_a_host(senv: SchedEnv) -> None:
    hid = senv.add_host("h", cpu=200)  # room for two VMs of CPU = 1
    vids = [senv.allocate() for _ in range(5)]
    driver = FakeDriver(lambda pending, hosts: [Placement(vm.vid, hid) for vm in pending])
    placed = service(senv, driver).cycle()
    senv.settle()
    assert [p.vid for p in placed] == vids[:2]
    share = senv.share(hid)
    assert share["cpu_usage"] == 200 and share["running_vms"] == 2
    assert [senv.state(v)[0] for v in vids[2:]] == ["PENDING"] * 3


def test_host_filled_while_the_driver_was_thinking(senv: SchedEnv) -> None:
    hid = senv.add_host("h", cpu=100)  # room for one VM
    first, second = senv.allocate(), senv.allocate()

    def place(pending: list[PendingVM], hosts: list[HostSnapshot]) -> list[Placement]:
        # meanwhile someone deploys `first` by hand (one.vm.deploy) and fills the host
        senv.engine.deploy(first, hid)
        assert hosts[0].cpu_usage == 0  # the driver still sees the stale snapshot
        return [Placement(first, hid), Placement(second, hid)]

    placed = service(senv, FakeDriver(place)).cycle()
    senv.settle()
    assert placed == []
    assert senv.share(hid)["cpu_usage"] == 100
    assert senv.state(first) == ("ACTIVE", "RUNNING")
    assert senv.state(second)[0] == "PENDING"


def test_vm_held_during_the_cycle_is_not_deployed(senv: SchedEnv) -> None:
    hid = senv.add_host("h")
    vid = senv.allocate()

    def place(pending: list[PendingVM], hosts: list[HostSnapshot]) -> list[Placement]:
        senv.engine.action("hold", vid)
        return [Placement(vid, hid), Placement(999, hid), Placement(vid, 42)]

    assert service(senv, FakeDriver(place)).cycle() == []
    assert senv.state(vid)[0] == "HOLD"
    assert senv.share(hid)["running_vms"] == 0


def test_disabled_and_error_hosts_are_not_offered(senv: SchedEnv) -> None:
    ok = senv.add_host("ok")
    off = senv.add_host("off")
    bad = senv.add_host("bad")
    senv.hosts.enable(off, False)
    senv.hosts.monitor_result(bad, None)
    senv.allocate()
    driver = FakeDriver(lambda pending, hosts: [])
    service(senv, driver).cycle()
    assert [h.hid for h in driver.calls[0][1]] == [ok]


def test_placement_on_a_host_disabled_during_the_cycle_is_dropped(senv: SchedEnv) -> None:
    hid = senv.add_host("h")
    vid = senv.allocate()

    def place(pending: list[PendingVM], hosts: list[HostSnapshot]) -> list[Placement]:
        senv.hosts.enable(hid, False)
        return [Placement(vid, hid)]

    assert service(senv, FakeDriver(place)).cycle() == []
    assert senv.state(vid)[0] == "PENDING"


def test_no_pending_vm_no_driver_call(senv: SchedEnv) -> None:
    senv.add_host("h")
    driver = FakeDriver(lambda pending, hosts: [])
    assert service(senv, driver).cycle() == []
    assert driver.calls == []


def test_vms_arriving_during_cycles_are_placed_without_overcommit(senv: SchedEnv) -> None:
    """Allocations race with running cycles; every VM that fits ends up RUNNING, and no host
    ever holds more than its capacity (checked on every deploy, on the dispatcher)."""
    h0 = senv.add_host("h0", cpu=300)
    h1 = senv.add_host("h1", cpu=300)
    rank = senv.rank_driver()
    over: list[str] = []

    def check(hid: int, *a: Any) -> None:
        s = senv.share(hid)
        if s["cpu_usage"] > s["max_cpu"]:
            over.append(f"host {hid}: {s}")

    add = senv.engine.hosts.add_capacity

    def add_and_check(hid: int, req: Any) -> None:
        add(hid, req)
        check(hid)

    senv.engine.hosts.add_capacity = add_and_check  # type: ignore[method-assign]
    arrivals: list[int] = []

    class Racing:
        def call(self, name: str, **kw: Any) -> Any:
            if len(arrivals) < 6:  # VMs created while the driver is working
                arrivals.extend(senv.allocate() for _ in range(2))
            return rank.call(name, **kw)

    svc = service(senv, Racing(), interval=0)
    senv.engine.pending_listeners.append(svc.wake)
    svc.start()
    try:
        first = [senv.allocate() for _ in range(2)]
        vids = first + arrivals
        wait_until(lambda: len(arrivals) >= 6, what="arrivals")
        vids = first + arrivals
        wait_until(
            lambda: sum(senv.state(v) == ("ACTIVE", "RUNNING") for v in vids) == 6,
            what="six VMs running",
        )
        senv.settle()
    finally:
        svc.stop()
    assert over == []
    assert senv.share(h0)["running_vms"] == 3 and senv.share(h1)["running_vms"] == 3
    assert sorted(senv.state(v)[0] for v in vids).count("PENDING") == 2


def test_a_failing_cycle_does_not_kill_the_loop(senv: SchedEnv) -> None:
    senv.add_host("h")
    rank = senv.rank_driver()
    calls = []

    class Flaky:
        def call(self, name: str, **kw: Any) -> Any:
            calls.append(name)
            if len(calls) == 1:
                raise RuntimeError("driver bug")
            return rank.call(name, **kw)

    svc = service(senv, Flaky(), interval=0.05)
    svc.start()
    try:
        vid = senv.allocate()
        wait_until(lambda: senv.state(vid) == ("ACTIVE", "RUNNING"), what="VM running")
    finally:
        svc.stop()
    assert len(calls) >= 2 and svc.cycles >= 2


def test_wake_runs_a_cycle_without_waiting_for_the_interval(senv: SchedEnv) -> None:
    senv.add_host("h")
    svc = service(senv, senv.rank_driver(), interval=3600)
    senv.engine.pending_listeners.append(svc.wake)
    svc.start()
    try:
        wait_until(lambda: svc.cycles >= 1, what="start-up cycle")
        vid = senv.allocate()
        wait_until(lambda: senv.state(vid)[0] == "ACTIVE", timeout=10, what="woken cycle")
    finally:
        svc.stop()


def _core(env: SchedEnv, text: str) -> SimpleNamespace:
    cfg = OnedConfig.from_text(text, var_dir=str(env.var))
    services: list[Any] = []
    return SimpleNamespace(
        cfg=cfg,
        drivers=load_drivers(cfg),
        hosts=env.hosts,
        engine=env.engine,
        scheduler=None,
        add_service=services.append,
        services=services,
    )


def test_setup_external_mode_runs_no_scheduler(senv: SchedEnv) -> None:
    core = _core(senv, 'SCHED = [ name = "rank", mode = "external" ]\n')
    assert core.drivers.scheduler is None
    setup(core)
    assert core.scheduler is None and core.services == []
    assert senv.engine.pending_listeners == []


def test_setup_internal_mode_starts_the_named_driver(senv: SchedEnv) -> None:
    core = _core(senv, 'SCHED = [ name = "rank", mode = "internal", interval = 7 ]\n')
    setup(core)
    svc = core.scheduler
    assert core.services == [svc] and svc.interval == 7
    assert svc.driver.name == "rank"
    assert senv.engine.pending_listeners == [svc.wake]


def test_stop_while_idle_returns(senv: SchedEnv) -> None:
    svc = service(senv, FakeDriver(lambda p, h: []), interval=0)
    svc.start()
    done = threading.Event()
    threading.Thread(target=lambda: (svc.stop(), done.set())).start()
    assert done.wait(10)


def test_no_deploy_once_the_dispatcher_stopped(senv: SchedEnv) -> None:
    hid = senv.add_host("h")
    vid = senv.allocate()
    svc = service(senv, FakeDriver(lambda p, h: [Placement(vid, hid)]))
    senv.engine.dispatcher.stop()
    assert svc.cycle() == []
    assert senv.state(vid)[0] == "PENDING"
