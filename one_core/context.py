"""What a driver is given: :class:`DriverContext`."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from one_core.errors import DriverError

VMLogFunc = Callable[[int, str, str, str], None]
"""``(vid, module, level letter, message)`` → appends to that VM's vm.log."""


def _no_vm_log(vid: int, module: str, level: str, message: str) -> None:
    logging.getLogger("one.vm").log(logging.INFO, "VM %s [%s][%s]: %s", vid, module, level, message)


LOG_MODULES = {"im": "InM", "vmm": "VMM", "tm": "TM", "hm": "HKM", "sched": "SCHED"}
"""1.4's log module of each driver role."""


def log_module(role: str) -> str:
    """The log module of ``role`` (``VMM``, ``TM``, ``InM``, ``HKM``, ``SCHED``)."""
    return LOG_MODULES.get(role, role.upper())


@dataclass
class DriverContext:
    """Everything a driver may need from the core, passed as ``ctx`` to every hook.

    :ivar role: ``im``, ``vmm``, ``tm``, ``hm`` or ``sched``.
    :ivar name: the driver's name in oned.conf (``kvm``, ``ssh``...): what
        ``onehost create`` refers to.
    :ivar driver: the entry-point name the driver was loaded as.
    :ivar config: the driver's oned.conf section (upper-case keys, text values).
    :ivar defaults: the driver's defaults file (``DEFAULT`` of a ``VM_MAD``):
        single attributes as text, vector attributes as dicts; empty without one.
    :ivar log: a logger writing to oned.log under the role's module name.
    :ivar var_dir: oned's var directory on the front-end (1.4's ``VAR``).
    :ivar vm_dir: ``VM_DIR`` of oned.conf: where VM directories live on the hosts.
    :ivar front: the front-end's host name, as used in transfer locations.
    :ivar state: a dict the driver may keep its own state in.
    """

    role: str
    name: str
    driver: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("one.driver"))
    var_dir: str = "."
    vm_dir: str = "."
    front: str = field(default_factory=lambda: socket.gethostname()[:79])
    vm_log_func: VMLogFunc = field(default=_no_vm_log, repr=False)
    remote_factory: Callable[[str], Any] | None = field(default=None, repr=False)
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def module(self) -> str:
        """1.4's log module of this role (``VMM``, ``TM``, ``InM``, ``HKM``, ``SCHED``)."""
        return log_module(self.role)

    def vm_log(self, vid: int, message: str, level: str = "I") -> None:
        """Append ``message`` to VM ``vid``'s log (``$VAR/<vid>/vm.log``).

        ``level`` is one of 1.4's letters ``E``, ``W``, ``I``, ``D``.
        """
        self.vm_log_func(vid, self.module, level, message)

    def remote(self, host: str) -> Any:
        """A connection to ``host`` for running commands there (SSH drivers).

        Returns oned's pooled handle for the host (``one_driverkit.remote.RemoteHost``:
        ``run(argv)``, ``pipe``, ``put``, ``get``), connected with this driver's
        ``SSH_USER``/``SSH_PORT``/``SSH_KEY``/``SSH_TIMEOUT``; oned closes it at
        shutdown. Raises :class:`~one_core.errors.DriverError` when no
        remote-execution pool is installed (``one-driverkit``) or this context
        was made without a ``remote_factory`` (a unit test's own context).
        """
        if self.remote_factory is None:
            raise DriverError(
                f"{self.role} driver {self.name}: no remote execution in this context"
            )
        return self.remote_factory(host)
