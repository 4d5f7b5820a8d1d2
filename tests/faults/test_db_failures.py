"""Database failures in the middle of state changes (issue 17, case 3).

A real engine (real database, host pool, dummy VMM/TM, the rank scheduler) meets
``database is locked`` (another connection holding ``BEGIN EXCLUSIVE`` longer than the
busy timeout), a full disk (the database driver answering every write with its
disk-full error) and a dropped PostgreSQL connection (``pg_terminate_backend``) in
the middle of each kind of transition: an RPC action (shutdown), a driver success
callback (deploy → RUNNING) and a scheduler deploy. Once the fault clears, every VM is
in the state the database says, memory agrees with the database (VMs and host
shares), the next action works, and PENDING VMs are scheduled.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from one_core import db
from one_core.db.models import SHARE_FIELDS, HostRow
from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.engine.core import Engine, EngineConfig
from one_core.errors import DatabaseFailure
from one_core.logs import VMLogWriter
from one_core.pools.host import HostPool
from one_core.scheduling import SchedulerService
from one_core.testing.databases import parametrize_databases
from one_core.vm.pool import VMPool
from one_core.vm.ports import PoolHosts
from one_core.vm.states import LcmState, VmState
from tests.faults.helpers import scheduled_sqlite_sections, vm_state, wait_for

pytest_generate_tests = parametrize_databases

VM = 'NAME = "f"\nCPU = 0.5\nMEMORY = 64\n'
KINDS = ("action", "driver", "scheduler")
FAULT_SECONDS = 2.0
"""How long a lock or a full disk lasts (20× the test's busy timeout)."""


class World:
    """The engine under test, its one host and the scheduler (started by the test)."""

    def __init__(self, var: Path, engine: Engine, hosts: HostPool, hid: int, sched: Any):
        self.var, self.engine, self.hosts, self.hid = var, engine, hosts, hid
        self.scheduler = SchedulerService(engine=engine, hosts=hosts, driver=sched, interval=0)
        engine.pending_listeners.append(self.scheduler.wake)

    def read(self, fn: Callable[[], Any], timeout: float = 20) -> Any:
        """A read from the test's thread (its own connection may have been dropped too)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return fn()
            except Exception as exc:
                if not db.is_transient(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def state(self, vid: int) -> tuple[str, str]:
        vm = self.read(lambda: self.engine.pool.load(vid))
        return VmState(vm.state).name, LcmState(vm.lcm_state).name

    def wait(self, vids: list[int], state: tuple[str, str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for vid in vids:
            while self.state(vid) != state:
                assert time.monotonic() < deadline, (vid, self.state(vid), self.log(vid))
                time.sleep(0.05)

    def log(self, vid: int) -> str:
        path = self.var / str(vid) / "vm.log"
        return path.read_text() if path.exists() else ""

    def allocate(self, n: int) -> list[int]:
        return [self.engine.allocate(0, VM) for _ in range(n)]

    def delay_deploy(self, vids: list[int], seconds: float) -> None:
        for vid in vids:
            (self.var / str(vid)).mkdir(parents=True, exist_ok=True)
            (self.var / str(vid) / "dummy_delay_deploy").write_text(str(seconds))

    def check_memory_matches_database(self) -> None:
        """What the engine holds (cached VMs, host share) is what the database says."""

        def compare() -> list[str]:
            wrong = []
            for vid, vm in list(self.engine.pool._cache.items()):
                stored = self.engine.pool.load(vid)
                if stored is None or (stored.state, stored.lcm_state) != (vm.state, vm.lcm_state):
                    wrong.append(f"VM {vid}: memory {vm.state}/{vm.lcm_state}, db {stored}")
            row = HostRow.get_by_id(self.hid)
            host = self.hosts.get(self.hid)
            assert host is not None
            for name in SHARE_FIELDS:
                if getattr(row, name) != host.share[name]:
                    wrong.append(f"host {name}: memory {host.share[name]}, db {getattr(row, name)}")
            return wrong

        assert self.read(lambda: self.engine.dispatcher.call(compare)) == []


@pytest.fixture
def world(tmp_path: Path, db_options: dict[str, Any]) -> Iterator[World]:
    var = tmp_path / "var"
    var.mkdir(exist_ok=True)
    options = dict(db_options)
    if options["backend"] == "sqlite":
        options["busy_timeout"] = 100  # a lock held longer fails the write at once
    db.close()
    db.connect(options, var_dir=str(var))
    hosts = HostPool()
    hid = hosts.allocate("node1", "im_dummy", "vmm_dummy", "tm_dummy")
    capacity = {"TOTALCPU": "800", "FREECPU": "800", "USEDCPU": "0"}
    capacity |= {"TOTALMEMORY": "16777216", "FREEMEMORY": "16777216", "USEDMEMORY": "0"}
    hosts.monitor_result(hid, {"HYPERVISOR": "dummy", **capacity})
    drivers = load_drivers_from_specs(
        [
            DriverSpec(role="vmm", name="vmm_dummy", driver="dummy"),
            DriverSpec(role="tm", name="tm_dummy", driver="dummy"),
            DriverSpec(role="sched", name="rank", driver="rank"),
        ],
        var_dir=str(var),
        vm_log_func=VMLogWriter(str(var)),
    )
    config = EngineConfig(
        var_dir=str(var), front="front", vm_polling_interval=3600, manager_timer=3600
    )
    engine = Engine(pool=VMPool(), drivers=drivers, hosts=PoolHosts(hosts), cfg=config)
    engine.start(recover=False, timers=False)
    w = World(var, engine, hosts, hid, drivers.get("sched", "rank"))
    try:
        yield w
    finally:
        w.scheduler.stop()
        engine.stop(5)
        db.close()


# -- the faults ------------------------------------------------------------------------


class Locked:
    """Another process's ``BEGIN EXCLUSIVE`` on the SQLite file, held until :meth:`stop`."""

    def __init__(self, world: World, options: dict[str, Any]):
        self.path = options["path"]
        self._release = threading.Event()
        self._held = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            self._held.set()
            self._release.wait(60)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def start(self) -> None:
        self._thread.start()
        assert self._held.wait(30), "could not take the exclusive lock"

    def stop(self) -> None:
        self._release.set()
        self._thread.join(30)


class _FullCursor:
    """A cursor of the real connection whose writes fail as on a full disk."""

    def __init__(self, cursor: Any, error: Callable[[], Exception], on: threading.Event):
        self._cursor, self._error, self._on = cursor, error, on

    def execute(self, sql: str, params: Any = ()) -> Any:
        if self._on.is_set() and sql.lstrip().split(None, 1)[0].upper() in (
            "INSERT",
            "UPDATE",
            "DELETE",
        ):
            raise self._error()
        return self._cursor.execute(sql, params)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class Full:
    """The disk is full: every write the database driver is given fails with its own
    disk-full error (SQLite ``SQLITE_FULL``, PostgreSQL ``DiskFull``) until :meth:`stop`."""

    def __init__(self, world: World, options: dict[str, Any]):
        if options["backend"] == "sqlite":
            self.error: Callable[[], Exception] = lambda: sqlite3.OperationalError(
                "database or disk is full"
            )
        else:
            import psycopg2.errors

            self.error = lambda: psycopg2.errors.DiskFull(
                'could not extend file "base/16384/16385": No space left on device'
            )
        self.on = threading.Event()
        self.dbobj = db.database.obj
        real = self.dbobj.cursor
        self.dbobj.cursor = lambda *a, **k: _FullCursor(real(*a, **k), self.error, self.on)

    def start(self) -> None:
        self.on.set()

    def stop(self) -> None:
        self.on.clear()


class Dropped:
    """PostgreSQL terminates every connection of the engine's database (an admin, a
    server restart, a network cut): the next statement on each fails."""

    def __init__(self, world: World, options: dict[str, Any]):
        self.options = options

    def start(self) -> None:
        import psycopg2

        o = self.options
        conn = psycopg2.connect(host=o["host"], port=o["port"], user=o["user"], dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (o["name"],),
                )
                assert cur.rowcount > 0, "no connection of the engine to drop"
        finally:
            conn.close()

    def stop(self) -> None:
        pass


@contextlib.contextmanager
def fault_during(fault: Any, seconds: float) -> Iterator[None]:
    fault.start()
    try:
        yield
        time.sleep(seconds)
    finally:
        fault.stop()


# -- the transitions -------------------------------------------------------------------


def _running(world: World, n: int) -> list[int]:
    vids = world.allocate(n)
    for vid in vids:
        world.engine.deploy(vid, world.hid)
    world.wait(vids, ("ACTIVE", "RUNNING"))
    assert world.engine.wait_idle(30)
    return vids


def _shutdown_all(world: World, vids: list[int]) -> None:
    """The next action works on every VM, which ends DONE with the host's share given back."""
    for vid in vids:
        world.engine.action("shutdown", vid)
    world.wait(vids, ("DONE", "LCM_INIT"))
    assert world.engine.wait_idle(30)
    host = world.hosts.get(world.hid)
    assert host is not None and host.share["running_vms"] == 0 and host.share["cpu_usage"] == 0


def run_transition(world: World, fault: Any, kind: str, seconds: float) -> None:
    """``kind`` of transition while ``fault`` lasts; then check the aftermath."""
    retries = world.engine.dispatcher.retries
    if kind == "action":  # an RPC action: refused with the cause, nothing changed
        vids = _running(world, 3)
        with fault_during(fault, seconds):
            with pytest.raises(DatabaseFailure):
                world.engine.action("shutdown", vids[0])
            assert world.state(vids[0]) == ("ACTIVE", "RUNNING")  # as the API says
    elif kind == "driver":  # deploy success callbacks arrive during the fault
        vids = world.allocate(4)
        world.delay_deploy(vids, 0.5)
        for vid in vids:
            world.engine.deploy(vid, world.hid)
        with fault_during(fault, seconds):
            pass
        world.wait(vids, ("ACTIVE", "RUNNING"))
    else:  # the scheduler deploys PENDING VMs during the fault
        vids = world.allocate(6)
        with fault_during(fault, seconds):
            world.scheduler.start()
        world.wait(vids, ("ACTIVE", "RUNNING"))
        assert world.read(world.engine.pool.pending) == []
    assert world.engine.dispatcher.retries > retries, "the fault never hit the engine"
    assert world.engine.wait_idle(30)
    world.check_memory_matches_database()
    _shutdown_all(world, vids)
    world.check_memory_matches_database()


@pytest.mark.one_db("sqlite")
@pytest.mark.parametrize("kind", KINDS)
def test_database_locked_longer_than_busy_timeout(
    world: World, db_options: dict[str, Any], kind: str
) -> None:
    run_transition(world, Locked(world, db_options), kind, FAULT_SECONDS)


@pytest.mark.parametrize("kind", KINDS)
def test_disk_full(world: World, db_options: dict[str, Any], kind: str) -> None:
    run_transition(world, Full(world, db_options), kind, FAULT_SECONDS)


@pytest.mark.one_db("postgresql")
@pytest.mark.parametrize("kind", KINDS)
def test_postgresql_connection_dropped(world: World, db_options: dict[str, Any], kind: str) -> None:
    run_transition(world, Dropped(world, db_options), kind, 1.0)


def test_call_behind_a_failing_driver_answer_is_refused(
    world: World, db_options: dict[str, Any]
) -> None:
    """While a driver's answer keeps failing (the disk is full), an API call queued behind
    it is refused within a back-off ("database error, nothing changed"), not held until
    the database recovers; the answer is applied once it does."""
    deployed, waiting = world.allocate(2)
    world.delay_deploy([deployed], 0.3)
    retries = world.engine.dispatcher.retries
    fault = Full(world, db_options)
    world.engine.deploy(deployed, world.hid)
    fault.start()  # the driver's answers arrive during the fault and are retried
    calls = concurrent.futures.ThreadPoolExecutor(1)
    try:
        assert wait_for(lambda: world.engine.dispatcher.retries > retries, 10)
        held = calls.submit(world.engine.action, "hold", waiting)
        bound = world.engine.dispatcher.retry_max + 5
        with pytest.raises(
            DatabaseFailure, match="database error, nothing changed: .*(full|space)"
        ):
            held.result(timeout=bound)  # the old dispatcher held it for the whole fault
    finally:
        fault.stop()
        calls.shutdown(wait=True)
    world.wait([deployed], ("ACTIVE", "RUNNING"))
    assert world.state(waiting) == ("PENDING", "LCM_INIT")
    assert world.engine.wait_idle(30)
    world.check_memory_matches_database()


def test_failure_episode_is_logged_once_with_its_cause(
    world: World, db_options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    fault = Full(world, db_options)
    vids = world.allocate(3)
    world.delay_deploy(vids, 0.3)
    with caplog.at_level("INFO", logger="one.engine"):
        for vid in vids:
            world.engine.deploy(vid, world.hid)
        with fault_during(fault, 1.5):
            pass
        world.wait(vids, ("ACTIVE", "RUNNING"))
        assert world.engine.wait_idle(30)
    started = [r for r in caplog.records if r.getMessage().startswith("Database error (")]
    ended = [r for r in caplog.records if r.getMessage().startswith("Database available again")]
    assert len(started) == 1 and len(ended) == 1, [r.getMessage() for r in caplog.records]
    assert "full" in started[0].getMessage().lower() or "space" in started[0].getMessage()


# -- the reproduction against a real oned --------------------------------------

LOCKED_SECTIONS = scheduled_sqlite_sections(delay_deploy=5)


@pytest.mark.one_db("sqlite")
def test_oned_vms_in_boot_survive_an_exclusive_lock(oned_factory: Any, db_backend: str) -> None:
    """Issue 17 case 3: 10 VMs in BOOT while another process holds ``BEGIN EXCLUSIVE``
    longer than the busy timeout; all reach RUNNING and shut down once it is released."""
    active, done, boot, running = 3, 6, 2, 3
    oned = oned_factory(sections=LOCKED_SECTIONS, HOST_MONITORING_INTERVAL=1)
    assert oned.call("one.host.allocate", oned.session, "h", "im_dummy", "vmm_dummy", "tm_dummy")[0]
    vids = []
    for _ in range(10):
        ok, vid = oned.call("one.vm.allocate", oned.session, VM)[:2]  # 16 fit on the host
        assert ok is True, vid
        vids.append(vid)
    # deploys in flight (the per-host limit runs a few at a time: the others wait in BOOT)
    assert wait_for(lambda: sum(vm_state(oned, v) == (active, boot) for v in vids) >= 2, 30), [
        vm_state(oned, v) for v in vids
    ]
    locked = Locked(None, {"path": str(oned.var / "one.db")})  # type: ignore[arg-type]
    with fault_during(locked, 8):  # the deploys end (5 s) while it is held
        refused = oned.call("one.vm.action", oned.session, "shutdown", vids[0])
        assert refused[0] is False  # told, and nothing changed
    assert wait_for(lambda: all(vm_state(oned, v) == (active, running) for v in vids), 30), (
        [vm_state(oned, v) for v in vids],
        oned.log()[-4000:],
    )
    for vid in vids:
        assert oned.call("one.vm.action", oned.session, "shutdown", vid)[0] is True
    assert wait_for(lambda: all(vm_state(oned, v)[0] == done for v in vids), 30)
    log = oned.log()
    assert "Database error (database is locked)" in log
    assert "Database available again" in log
