"""oned component: build the VM pool and the engine (``one_core.engine:setup``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from one_core.drivers import DriverSet
from one_core.engine.core import Engine, EngineConfig
from one_core.logs import VMLogWriter
from one_core.vm.pool import VMPool
from one_core.vm.ports import ManagerHooks, NoHooks, PoolHosts, VNetLeases

if TYPE_CHECKING:
    from one_core.daemon.core import Core

log = logging.getLogger("one.LCM")


class EngineService:
    """Starts the engine (recovery first, then timers) just before the API opens."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()


def _hooks(core: Core, var_dir: str, vm_log: VMLogWriter, engine: Engine) -> ManagerHooks | None:
    """The VM hooks of oned.conf, run on the engine's driver executor (None: no hooks)."""
    entries = core.cfg.vm_hooks
    if not entries:
        return None
    from one_core.vm_hooks import HookManager

    manager = HookManager.from_entries(
        entries,
        vm_log=vm_log,
        oned_log=logging.getLogger("one.HKM"),
        executor=engine.work.executor_for("hook"),
    )
    return ManagerHooks(manager, core.drivers, var_dir, engine.outbox)


def build(core: Core, **overrides: Any) -> Engine:
    """The engine for ``core`` (see :class:`one_core.daemon.core.Core`)."""
    cfg = EngineConfig.from_oned(core.cfg, **overrides)
    vm_log = core.vm_log or VMLogWriter(cfg.var_dir)
    vnet = core.vnet
    pool = VMPool(
        leases=VNetLeases(vnet) if vnet is not None else None,
        hooks=NoHooks(),
        vm_log=vm_log,
    )
    engine = Engine(
        pool=pool,
        drivers=core.drivers if core.drivers is not None else DriverSet(),
        hosts=PoolHosts(core.hosts),
        cfg=cfg,
        log=logging.getLogger("one.LCM"),
        vm_log=vm_log,
    )
    hooks = _hooks(core, cfg.var_dir, vm_log, engine)  # the engine's executor and outbox
    if hooks is not None:
        pool.hooks = hooks
    return engine


def setup(core: Core) -> None:
    """``core.vm`` = the VM pool, ``core.engine`` = the engine (a service)."""
    engine = build(core)
    core.vm = engine.pool
    core.engine = engine
    core.add_service(EngineService(engine))
