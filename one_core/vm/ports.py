"""What the VM pool and the engine need from the other pools and services.

Each port is a small protocol with a working default, so the engine runs
(and is tested) on its own; oned plugs in the real implementations: the
host pool, network leases, hooks and context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from one_core.leases import LeaseError

if TYPE_CHECKING:
    from one_core.drivers import DriverSet
    from one_core.engine.outbox import Outbox
    from one_core.pools.host import HostPool
    from one_core.pools.vnet import VNetPool
    from one_core.records import VMRecord
    from one_core.template import Template
    from one_core.vm.model import Requirements, VirtualMachine
    from one_core.vm_hooks import HookManager

log = logging.getLogger("one.vm")


@dataclass(frozen=True, slots=True)
class HostInfo:
    """What a history record copies from a host."""

    hid: int
    name: str
    vm_mad: str
    tm_mad: str


class HostPort(Protocol):
    def host_info(self, hid: int) -> HostInfo | None: ...

    def add_capacity(self, hid: int, req: Requirements) -> None: ...

    def del_capacity(self, hid: int, req: Requirements) -> None: ...


class LeasePort(Protocol):
    def acquire(self, vid: int, uid: int, template: Template) -> None:
        """Lease every NIC with a NETWORK, rewriting it; raise :class:`LeaseError`."""

    def release(self, vid: int, template: Template) -> None:
        """Give back the leases of VM ``vid``."""


class HookPort(Protocol):
    def on_create(self, vm: VirtualMachine) -> None: ...

    def on_update(self, vm: VirtualMachine) -> None: ...


ContextResolver = Callable[["VirtualMachine", dict[str, str]], "dict[str, str] | None"]
"""Resolve a CONTEXT vector's variables for a new VM (§8.1); None drops the CONTEXT."""

ContextBuilder = Callable[..., Any]
"""Write ``context.sh`` and the ISO for the prolog; returns the ISO path."""


# ---------------------------------------------------------------------------
# defaults
# ---------------------------------------------------------------------------


class PoolHosts:
    """:class:`~one_core.pools.host.HostPool` seen through :class:`HostPort`."""

    def __init__(self, host_pool: HostPool):
        self.host_pool = host_pool

    def host_info(self, hid: int) -> HostInfo | None:
        host = self.host_pool.get(hid)
        if host is None:
            return None
        return HostInfo(hid=host.oid, name=host.name, vm_mad=host.vm_mad, tm_mad=host.tm_mad)

    def add_capacity(self, hid: int, req: Requirements) -> None:
        if self.host_pool.get(hid) is not None:
            self.host_pool.add_capacity(hid, req.cpu, req.mem, req.disk)

    def del_capacity(self, hid: int, req: Requirements) -> None:
        if self.host_pool.get(hid) is not None:
            self.host_pool.del_capacity(hid, req.cpu, req.mem, req.disk)


class ManagerHooks:
    """:class:`~one_core.vm_hooks.HookManager` seen through :class:`HookPort`.

    Remembers each VM's last committed ``(state, lcm_state)`` so the manager
    fires a state hook only on entering its pair (§1.9).
    """

    def __init__(
        self, manager: HookManager, drivers: DriverSet | None, var_dir: str, outbox: Outbox
    ):
        self.manager = manager
        self.drivers = drivers
        self.var_dir = var_dir
        self.outbox = outbox
        """The engine's: state hooks fire after the update's transaction committed."""
        self._pairs: dict[int, tuple[int, int]] = {}

    def on_create(self, vm: VirtualMachine) -> None:
        self._pairs[vm.oid] = (int(vm.state), int(vm.lcm_state))
        if self.manager.hooks_for("CREATE"):
            self.manager.fire("create", vm.record(self.var_dir), self.drivers)

    def on_update(self, vm: VirtualMachine) -> None:
        from one_core.vm_hooks import event_for

        pair = (int(vm.state), int(vm.lcm_state))
        prev = self._pairs.get(vm.oid)
        self._pairs[vm.oid] = pair
        if prev == pair:
            return
        event = event_for(*pair)
        if event and self.manager.hooks_for(event):
            self.outbox.after_commit(
                self._fire_state,
                vm.record(self.var_dir),
                pair,
                prev,
            )

    def _fire_state(
        self, record: VMRecord, pair: tuple[int, int], prev: tuple[int, int] | None
    ) -> None:
        self.manager.state_changed(
            record,
            self.drivers,
            state=pair[0],
            lcm_state=pair[1],
            prev_state=prev[0] if prev else None,
            prev_lcm_state=prev[1] if prev else None,
        )


class NoLeases:
    """No virtual networks: a NIC naming a NETWORK cannot be leased."""

    def acquire(self, vid: int, uid: int, template: Template) -> None:
        for nic in template.vectors("NIC"):
            if {k.upper(): v for k, v in nic.items()}.get("NETWORK"):
                raise LeaseError("no virtual network pool configured")

    def release(self, vid: int, template: Template) -> None:
        return None


class NoHooks:
    def on_create(self, vm: VirtualMachine) -> None:
        return None

    def on_update(self, vm: VirtualMachine) -> None:
        return None


class VNetLeases:
    """:class:`~one_core.pools.vnet.VNetPool` seen through :class:`LeasePort`."""

    def __init__(self, vnet_pool: VNetPool):
        self.vnet_pool = vnet_pool

    def acquire(self, vid: int, uid: int, template: Template) -> None:
        nics = template.values("NIC")
        if not any(isinstance(n, dict) and n.get("NETWORK") for n in nics):
            return
        leased = self.vnet_pool.acquire_nics(nics, vid, uid)  # LeaseError passes through
        template.remove("NIC")
        for nic in leased:
            template.add("NIC", nic)

    def release(self, vid: int, template: Template) -> None:
        self.vnet_pool.release_nics(template.values("NIC"), vid)
