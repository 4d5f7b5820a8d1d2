"""A real VM engine around one VMM driver under test, for the plugins' engine-level tests.

SQLite in ``<var>/one.db`` (or the database ``db``: the ``db_options`` fixture
runs it on PostgreSQL too), a real host pool with one host, the driver under
test plus the dummy TM, no RPC and no timers (the test calls ``poll_all``)::

    from one_core.testing.engine_harness import EngineWorld, running_engine

    with running_engine(tmp_path / "var", vmm_spec, "node1") as world:
        vid = world.engine.allocate(0, TEMPLATE)
        world.engine.deploy(vid, world.hid)
        world.wait_state(vid, ("ACTIVE", "RUNNING"))

The repository's ``tests/engine/conftest.py`` is the fuller setup of the
engine's own tests (two hosts, dummy VMM).
"""

from __future__ import annotations

import contextlib
import pathlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from one_core import db
from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.engine.core import Engine, EngineConfig
from one_core.logs import VMLogWriter
from one_core.pools.host import HostPool
from one_core.vm.pool import VMPool
from one_core.vm.ports import PoolHosts
from one_core.vm.states import LcmState, VmState


class EngineWorld:
    """The running engine, its var directory and the id of its one host."""

    def __init__(self, engine: Engine, var: pathlib.Path, hid: int):
        self.engine, self.var, self.hid = engine, var, hid

    def settle(self, timeout: float = 60) -> None:
        """Wait until the engine has no work left (a condition, not a duration)."""
        assert self.engine.wait_idle(timeout), "engine did not settle"

    def vm(self, vid: int) -> Any:
        vm = self.engine.pool.load(vid)
        assert vm is not None
        return vm

    def states(self, vid: int) -> tuple[str, str]:
        vm = self.vm(vid)
        return VmState(vm.state).name, LcmState(vm.lcm_state).name

    def log(self, vid: int) -> str:
        path = self.var / str(vid) / "vm.log"
        return path.read_text() if path.exists() else ""

    def wait_state(self, vid: int, state: tuple[str, str], timeout: float = 60) -> None:
        """Wait until VM ``vid`` is in ``(state, lcm_state)``; fail with its log after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.states(vid) != state:
            assert time.monotonic() < deadline, (self.states(vid), self.log(vid))
            time.sleep(0.05)


@contextlib.contextmanager
def engine_on(
    var: pathlib.Path,
    specs: list[DriverSpec],
    *,
    vm_dir: pathlib.Path | None = None,
    remote_factory: Callable[[str], Any] | None = None,
    db_options: Mapping[str, Any] | None = None,
    driver_threads: int = 2,
    vm_polling_interval: int = 0,
) -> Iterator[tuple[Engine, HostPool, Any]]:
    """A started engine with the drivers ``specs``, an empty host pool, no timers.

    Yields ``(engine, hosts, drivers)``. ``var`` is created; the database
    (``db_options``, default SQLite in ``<var>/one.db``) is closed again on exit.
    """
    var.mkdir(parents=True, exist_ok=True)
    db.close()
    db.connect(db_options or {"backend": "sqlite", "path": str(var / "one.db")}, var_dir=str(var))
    drivers = load_drivers_from_specs(
        specs,
        var_dir=str(var),
        vm_dir=str(vm_dir) if vm_dir is not None else None,
        vm_log_func=VMLogWriter(str(var)),
        remote_factory=remote_factory,
    )
    hosts = HostPool()
    config = EngineConfig(
        var_dir=str(var),
        front="front",
        vm_polling_interval=vm_polling_interval,
        manager_timer=3600,
        driver_threads=driver_threads,
        vm_dir=str(vm_dir) if vm_dir is not None else "",
    )
    engine = Engine(pool=VMPool(), drivers=drivers, hosts=PoolHosts(hosts), cfg=config)
    engine.start(recover=False, timers=False)
    try:
        yield engine, hosts, drivers
    finally:
        engine.stop(5)
        db.close()


@contextlib.contextmanager
def running_engine(
    var: pathlib.Path,
    vmm: DriverSpec,
    host: str,
    *,
    im: str = "im_dummy",
    vm_dir: pathlib.Path | None = None,
    remote_factory: Callable[[str], Any] | None = None,
    db_options: Mapping[str, Any] | None = None,
) -> Iterator[EngineWorld]:
    """Start an engine with driver ``vmm`` and the dummy TM, and host ``host`` using them.

    ``var`` is created; the database (``db_options``, default SQLite in
    ``<var>/one.db``) is closed again on exit.
    """
    specs = [vmm, DriverSpec(role="tm", name="tm_dummy", driver="dummy")]
    with engine_on(
        var, specs, vm_dir=vm_dir, remote_factory=remote_factory, db_options=db_options
    ) as (engine, hosts, _drivers):
        hid = hosts.allocate(host, im, vmm.name, "tm_dummy")
        yield EngineWorld(engine, var, hid)
