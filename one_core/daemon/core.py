"""The :class:`Core`: what oned is made of, handed to RPC methods and plug-in components.

Components (vnet pool, VM engine, scheduler) are listed by :func:`components`
with plain imports, so a missing module stops oned at start-up with an
``ImportError`` naming it (never a silent skip). oned calls each as
``setup(core)`` after the DB, the user/host pools and the drivers exist and
before the API port opens, in list order. A setup function may

* fill its attribute of the core: ``core.vnet = VNetPool(...)``;
* register services: ``core.add_service(obj)`` — ``obj.start()`` is called
  (in registration order) just before the API opens, ``obj.stop()`` (reverse
  order) at shutdown, after the API closed;
* run recovery right away (it is called before the API opens).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from one_core.config import OnedConfig
    from one_core.daemon import Locations
    from one_core.drivers import DriverSet
    from one_core.engine.core import Engine
    from one_core.im_manager import InformationManager
    from one_core.logs import VMLogWriter
    from one_core.pools.host import HostPool
    from one_core.pools.user import UserPool
    from one_core.pools.vnet import VNetPool
    from one_core.pools.writes import PoolWrites
    from one_core.scheduling import SchedulerService
    from one_core.vm.pool import VMPool

log = logging.getLogger("one.ONE")

Component = Callable[["Core"], None]
"""A component's ``setup(core)``."""


def components() -> list[Component]:
    """oned's components, in the order their ``setup(core)`` runs.

    Plain imports: a component whose module is missing raises ``ImportError``
    (oned turns it into a start-up error naming the module).
    """
    # ``import pkg.mod``, not ``from pkg import mod``: the error then names the missing module
    import one_core.engine
    import one_core.pools.vnet
    import one_core.scheduling

    return [one_core.pools.vnet.setup, one_core.engine.setup, one_core.scheduling.setup]


class Service(Protocol):
    """Something oned starts before the API opens and stops at shutdown."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class MissingComponent(RuntimeError):
    """A part of the core was asked for before the component that builds it ran."""


@dataclass
class Core:
    """oned's state: configuration, drivers, pools and services.

    The pools and services that components add start as None; the typed
    accessors (:meth:`need_vnet`, :meth:`need_engine`...) raise
    :class:`MissingComponent` when a component has not set them.

    :ivar cfg: the loaded oned.conf.
    :ivar users: the user pool.
    :ivar hosts: the host pool.
    :ivar drivers: every configured driver (None when none are loaded).
    :ivar locations: oned's directories (None outside a daemon).
    :ivar vm_log: the one writer of every VM's vm.log.
    :ivar vnet: the virtual network pool (component ``one_core.pools.vnet``).
    :ivar vm: the VM pool (component ``one_core.engine``).
    :ivar engine: the VM engine (component ``one_core.engine``).
    :ivar scheduler: the in-daemon scheduler (``one_core.scheduling``; None
        with an external ``mm_sched``).
    :ivar im: the host monitoring manager.
    :ivar services: started in order, stopped in reverse order.
    :ivar writes: the one write path of hosts, users and networks (on the
        engine's dispatcher, :mod:`one_core.pools.writes`).
    """

    users: UserPool
    hosts: HostPool
    cfg: OnedConfig
    drivers: DriverSet | None = None
    locations: Locations | None = None
    vm_log: VMLogWriter | None = None
    vnet: VNetPool | None = None
    vm: VMPool | None = None
    engine: Engine | None = None
    scheduler: SchedulerService | None = None
    im: InformationManager | None = None
    services: list[Service] = field(default_factory=list)
    writes: PoolWrites = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from one_core.pools.writes import PoolWrites

        self.writes = PoolWrites(self)

    def need_vnet(self) -> VNetPool:
        """The vnet pool; :class:`MissingComponent` if it was not set up."""
        if self.vnet is None:
            raise MissingComponent("the virtual network pool is not set up")
        return self.vnet

    def need_engine(self) -> Engine:
        """The VM engine; :class:`MissingComponent` if it was not set up."""
        if self.engine is None:
            raise MissingComponent("the VM engine is not set up")
        return self.engine

    def add_service(self, service: Service) -> None:
        """Register an object with ``start()``/``stop()``."""
        self.services.append(service)

    def run_components(self, setups: list[Component] | None = None) -> None:
        """Call every component's ``setup(core)`` (default: :func:`components`)."""
        for setup in components() if setups is None else setups:
            setup(self)

    def start_services(self) -> None:
        for s in self.services:
            s.start()

    def stop_services(self) -> None:
        for s in reversed(self.services):
            try:
                s.stop()
            except Exception:
                log.exception("Error stopping %r", s)
