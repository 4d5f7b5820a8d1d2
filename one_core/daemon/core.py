"""The :class:`Core`: what oned is made of, handed to RPC methods and plug-in components.

Components (vnet pool, VM engine...) plug in through
:data:`COMPONENTS`: each entry names a ``module:function`` that oned calls as
``setup(core)`` after the DB, the user/host pools and the drivers exist and
before the API port opens, in list order. A setup function may

* add pools: ``core.pools["vnet"] = VNetPool(...)`` (also reachable as ``core.vnet``);
* register services: ``core.add_service(obj)`` — ``obj.start()`` is called
  (in registration order) just before the API opens, ``obj.stop()`` (reverse
  order) at shutdown, after the API closed;
* run recovery right away (it is called before the API opens).

A component module that does not exist (not written yet) is skipped.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from one_core.pools.host import HostPool
    from one_core.pools.user import UserPool

log = logging.getLogger("one.ONE")

COMPONENTS: list[str] = [
    "one_core.pools.vnet:setup",
    "one_core.engine:setup",
    "one_core.scheduling:setup",
]
"""``module:function`` setup hooks run by oned (missing modules/functions are skipped)."""


class Service(Protocol):
    """Something oned starts before the API opens and stops at shutdown."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Core:
    """oned's state: configuration, drivers, pools and services.

    :ivar cfg: the :class:`one_core.config.OnedConfig` (None in unit tests).
    :ivar drivers: the :class:`one_core.drivers.DriverSet` (None when not loaded).
    :ivar users: the user pool. :ivar hosts: the host pool.
    :ivar pools: further pools by name (``vnet``, ``vm``).
    :ivar services: started in order, stopped in reverse order.
    """

    users: UserPool
    hosts: HostPool
    cfg: Any = None
    drivers: Any = None
    pools: dict[str, Any] = field(default_factory=dict)
    services: list[Any] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        pools = self.__dict__.get("pools", {})
        if name in pools:
            return pools[name]
        raise AttributeError(name)

    def add_service(self, service: Any) -> None:
        """Register an object with ``start()``/``stop()``."""
        self.services.append(service)

    def run_components(self, components: list[str] | None = None) -> list[str]:
        """Call every component's ``setup(core)``; returns those that were skipped."""
        skipped = []
        for entry in COMPONENTS if components is None else components:
            modname, _, funcname = entry.partition(":")
            try:
                module = importlib.import_module(modname)
            except ModuleNotFoundError as exc:
                if exc.name is not None and modname.startswith(exc.name):
                    skipped.append(entry)
                    continue
                raise
            func = getattr(module, funcname or "setup", None)
            if func is None:
                skipped.append(entry)
                continue
            func(self)
        return skipped

    def start_services(self) -> None:
        for s in self.services:
            s.start()

    def stop_services(self) -> None:
        for s in reversed(self.services):
            try:
                s.stop()
            except Exception:
                log.exception("Error stopping %r", s)
