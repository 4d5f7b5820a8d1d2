"""Engine-level fixtures: a real database, real host pool, dummy drivers, no RPC.

Every test here runs on SQLite and on PostgreSQL (``db_backend``, see
:mod:`one_core.testing.databases`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from one_core import db
from one_core.context import DriverContext
from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs, make_plugin_manager
from one_core.engine.core import Engine, EngineConfig
from one_core.hookspecs import hookimpl
from one_core.logs import VMLogWriter
from one_core.pools.host import HostPool
from one_core.testing.databases import parametrize_databases as pytest_generate_tests  # noqa: F401
from one_core.vm.model import VirtualMachine
from one_core.vm.pool import VMPool
from one_core.vm.ports import PoolHosts

MINIMAL = (
    'NAME = "vm"\nCPU = 0.5\nMEMORY = 128\nDISK = [ SOURCE = "/images/a.img", TARGET = "hda" ]\n'
)


class NoSaveVMM:
    """A VMM with only the required hooks (1.4's EC2 driver: no save/restore/migrate)."""

    @hookimpl
    def vmm_deploy(self, vid: int) -> str:
        return f"i-{vid}"

    @hookimpl
    def vmm_shutdown(self, vid: int) -> None:
        return None

    @hookimpl
    def vmm_cancel(self, vid: int) -> None:
        return None

    @hookimpl
    def vmm_poll(self, vid: int) -> dict[str, str]:
        return {"STATE": "a"}


@dataclass
class Env:
    var: Path
    engine: Engine
    hosts: HostPool
    drivers: Any
    node1: int
    node2: int
    nosave: int

    @property
    def pool(self) -> VMPool:
        return self.engine.pool

    def allocate(self, text: str = MINIMAL, uid: int = 0) -> int:
        return self.engine.allocate(uid, text)

    def settle(self) -> None:
        assert self.engine.wait_idle(30), "engine did not settle"

    def vm(self, vid: int) -> VirtualMachine:
        vm = self.pool.load(vid)
        assert vm is not None
        return vm

    def states(self, vid: int) -> tuple[str, str]:
        from one_core.vm.states import LcmState, VmState

        vm = self.vm(vid)
        return VmState(vm.state).name, LcmState(vm.lcm_state).name

    def fail(self, vid: int, *actions: str) -> None:
        path = self.var / str(vid)
        path.mkdir(parents=True, exist_ok=True)
        (path / "dummy_fail").write_text(",".join(actions))

    def delay(self, vid: int, seconds: float) -> None:
        path = self.var / str(vid)
        path.mkdir(parents=True, exist_ok=True)
        (path / "dummy_delay").write_text(str(seconds))

    def clear(self, vid: int) -> None:
        for name in ("dummy_fail", "dummy_delay"):
            p = self.var / str(vid) / name
            if p.exists():
                p.unlink()

    def commands(self, vid: int) -> list[str]:
        tm = self.drivers.get("tm", "tm_dummy")
        return [line for v, line in tm.ctx.state.get("commands", []) if v == vid]

    def reset_commands(self) -> None:
        self.drivers.get("tm", "tm_dummy").ctx.state["commands"] = []

    def log(self, vid: int) -> str:
        p = self.var / str(vid) / "vm.log"
        return p.read_text() if p.exists() else ""

    def running(self, vid: int, hid: int | None = None) -> None:
        self.engine.deploy(vid, self.node1 if hid is None else hid)
        self.settle()
        assert self.states(vid) == ("ACTIVE", "RUNNING"), self.log(vid)

    def running_vm(self, hid: int | None = None) -> int:
        """A new VM, RUNNING on ``hid`` (node1), its transfer commands so far forgotten."""
        vid = self.allocate()
        self.running(vid, hid)
        self.reset_commands()
        return vid

    def act(self, action: str, vid: int) -> None:
        """Request ``action`` (``one.vm.action``) on ``vid`` and wait until the engine settles."""
        self.engine.action(action, vid)
        self.settle()

    def poll_now(self) -> None:
        """Poll every running VM at once (no interval) and wait for the results."""
        self.engine.cfg.vm_polling_interval = 0
        self.engine.poll_all()
        self.settle()

    def share(self, hid: int) -> dict[str, int]:
        host = self.hosts.get(hid)
        assert host is not None
        return dict(host.share)

    def wait_state(self, vid: int, state: str, lcm: str, timeout: float = 20) -> None:
        """Wait until the VM reaches (state, lcm) (a condition, not a duration)."""
        deadline = time.monotonic() + timeout
        while self.states(vid) != (state, lcm):
            assert time.monotonic() < deadline, (self.states(vid), self.log(vid))
            time.sleep(0.01)

    def gate(self, vid: int) -> Gate:
        return Gate(self.engine, vid)

    def history(self, vid: int) -> list[Any]:
        from one_core.db.vm_models import HistoryRow

        return list(HistoryRow.select().where(HistoryRow.vid == vid).order_by(HistoryRow.seq))

    def domain(self, vid: int) -> str | None:
        p = self.var / "dummy_vmm" / f"dummy-{vid}"
        return p.read_text().strip() if p.exists() else None

    def set_domain(self, vid: int, text: str | None) -> None:
        p = self.var / "dummy_vmm" / f"dummy-{vid}"
        if text is None:
            p.unlink(missing_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text + "\n")

    def on_dispatcher(self, fn: Any, *args: Any) -> Any:
        return self.engine.dispatcher.call(fn, *args)


def crash_and_restart(env: Env, gates: list[Gate] | None = None) -> Engine:
    """Simulate oned dying: the dispatcher stops, queued driver work is lost, then a new
    engine on the same database runs start-up recovery."""
    old = env.engine
    old.dispatcher.stop()
    for vid in list(old.executor._queues):
        old.executor.cancel_pending(vid)
    for g in gates or []:
        g.open()
    old.executor.shutdown(wait=True)
    new = make_engine(env.var, env.drivers, env.hosts)
    new.start(recover=True, timers=False)
    env.engine = new
    return new


class Gate:
    """Holds a VM's driver queue: work submitted for the VM after it waits until :meth:`open`."""

    def __init__(self, engine: Engine, vid: int):
        self.event = threading.Event()
        engine.executor.submit(vid, "GATE", lambda: self.event.wait(30), lambda r, e: None)

    def open(self) -> None:
        self.event.set()


def make_drivers(var: str) -> Any:
    vm_log = VMLogWriter(var)
    drivers = load_drivers_from_specs(
        [
            DriverSpec(role="vmm", name="vmm_dummy", driver="dummy"),
            DriverSpec(role="tm", name="tm_dummy", driver="dummy"),
        ],
        var_dir=var,
        vm_log_func=vm_log,
    )
    spec = DriverSpec(role="vmm", name="vmm_nosave", driver="nosave")
    pm = make_plugin_manager("vmm", NoSaveVMM(), "vmm:nosave")
    ctx = DriverContext(role="vmm", name="vmm_nosave", driver="nosave", var_dir=var, vm_dir=var)
    drivers.drivers[("vmm", "vmm_nosave")] = LoadedDriver(spec=spec, pm=pm, ctx=ctx)
    return drivers


def open_db(var: Path, options: dict[str, Any] | None = None) -> None:
    """Connect the database ``options`` (default SQLite in ``<var>/one.db``)."""
    db.close()
    db.connect(options or {"backend": "sqlite", "path": str(var / "one.db")}, var_dir=str(var))


def make_engine(var: Path, drivers: Any, hosts: HostPool, **cfg: Any) -> Engine:
    config = EngineConfig(
        var_dir=str(var),
        front="front",
        vm_polling_interval=cfg.pop("vm_polling_interval", 3600),
        manager_timer=cfg.pop("manager_timer", 3600),
        driver_threads=4,
        **cfg,
    )
    return Engine(pool=VMPool(), drivers=drivers, hosts=PoolHosts(hosts), cfg=config)


@pytest.fixture
def env(tmp_path: Path, db_options: dict[str, Any]) -> Iterator[Env]:
    var = tmp_path / "var"
    var.mkdir()
    open_db(var, db_options)
    hosts = HostPool()
    node1 = hosts.allocate("node1", "im_dummy", "vmm_dummy", "tm_dummy")
    node2 = hosts.allocate("node2", "im_dummy", "vmm_dummy", "tm_dummy")
    nosave = hosts.allocate("ec2", "im_dummy", "vmm_nosave", "tm_dummy")
    drivers = make_drivers(str(var))
    engine = make_engine(var, drivers, hosts)
    engine.start(recover=False, timers=False)
    e = Env(var, engine, hosts, drivers, node1, node2, nosave)
    try:
        yield e
    finally:
        e.engine.stop(5)
        db.close()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("ONE_TEST", "1")
