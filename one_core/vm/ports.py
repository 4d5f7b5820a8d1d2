"""What the VM pool and the engine need from the other pools and services.

Each port is a small protocol with a working default, so the engine runs
(and is tested) on its own; oned plugs in the real implementations: H3's
host pool, H4's network leases, H7's hooks and context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from one_core.template import Template
    from one_core.vm.model import Requirements, VirtualMachine

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


class LeaseError(Exception):
    """A NIC could not be leased (unknown network, no free address, not allowed)."""


# ---------------------------------------------------------------------------
# defaults
# ---------------------------------------------------------------------------


class DbHosts:
    """Hosts read from and counted in H3's ``host_pool`` table.

    Capacity changes are single ``UPDATE ... SET x = x + ?`` statements, so
    they never overwrite the monitoring columns H3's IM writes.
    """

    def host_info(self, hid: int) -> HostInfo | None:
        from one_core.db.models import HostRow

        row = HostRow.get_or_none(HostRow.oid == hid)
        if row is None:
            return None
        return HostInfo(hid=row.oid, name=row.host_name, vm_mad=row.vm_mad, tm_mad=row.tm_mad)

    def _change(self, hid: int, req: Requirements, sign: int) -> None:
        from one_core import db
        from one_core.db.models import HostRow

        with db.writer():
            HostRow.update(
                cpu_usage=HostRow.cpu_usage + sign * req.cpu,
                mem_usage=HostRow.mem_usage + sign * req.mem,
                disk_usage=HostRow.disk_usage + sign * req.disk,
                running_vms=HostRow.running_vms + sign,
            ).where(HostRow.oid == hid).execute()

    def add_capacity(self, hid: int, req: Requirements) -> None:
        self._change(hid, req, 1)

    def del_capacity(self, hid: int, req: Requirements) -> None:
        self._change(hid, req, -1)


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


def keep_context(vm: VirtualMachine, context: dict[str, str]) -> dict[str, str] | None:
    """Store the CONTEXT unresolved (used when no resolver is plugged in)."""
    return dict(context)
