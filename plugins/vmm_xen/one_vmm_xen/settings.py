"""The Xen drivers' settings and defaults (shared by ``vmm_xen`` and ``im_xen``).

A setting comes from the driver's oned.conf section, else from a single
attribute of the same name in its defaults file (``DEFAULT`` of a ``VM_MAD``),
else from the values below (1.4's ``vmm_xenrc``)::

    VM_MAD = [ name = "xen", executable = "one_vmm_xen", default = "vmm_xen/vmm_xen.conf",
               type = "xen",
               xen_tool = "xm",               # "xl" for the libxl toolstack (Xen >= 4.1)
               xen_path = "/usr/sbin/xm",     # default /usr/sbin/<xen_tool>; 1.4's XM_PATH also read
               xentop_path = "/usr/sbin/xentop",
               sudo = "sudo",                 # "" runs the tools without sudo
               shutdown_timeout = "300",      # seconds; 0 waits forever as 1.4 did
               shutdown_poll = "1",           # seconds between "xm list D" checks
               poll_delay = "1",              # seconds between the two xentop samples
               command_timeout = "0",         # seconds per remote command, 0 = no limit
               ssh_user = "oneadmin", ssh_port = "22", ssh_key = "~/.ssh/id_rsa" ]

Without a ``DEFAULT`` file the VMM driver uses the one shipped in this
package, ``vmm_xen.conf`` (``CREDIT = 256``, as 1.4 shipped).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from one_driverkit.settings import DriverSettings, cached, defaults_in_force, load_defaults_file

from one_core.api import DriverError

if TYPE_CHECKING:
    from one_core.api import DriverContext

PACKAGED_DEFAULTS = os.path.join(os.path.dirname(__file__), "vmm_xen.conf")

TOOLS = ("xm", "xl")
"""The toolstacks this driver drives."""

DEFAULTS: dict[str, str] = {
    "XEN_TOOL": "xm",
    "XENTOP_PATH": "/usr/sbin/xentop",
    "SUDO": "sudo",
    "SHUTDOWN_TIMEOUT": "300",
    "SHUTDOWN_POLL": "1",
    "POLL_DELAY": "1",
    "COMMAND_TIMEOUT": "0",
}


packaged_defaults = functools.partial(load_defaults_file, PACKAGED_DEFAULTS)
"""The shipped ``vmm_xen.conf`` as a defaults dict (first value of each name)."""


def _packaged(ctx: DriverContext) -> str | None:
    return PACKAGED_DEFAULTS if ctx.role == "vmm" else None


def defaults_of(ctx: DriverContext) -> Mapping[str, Any]:
    """The defaults in force: the configured file's, else (VMM only) the packaged one's."""
    return defaults_in_force(ctx, _packaged(ctx))


@dataclass(frozen=True)
class XenSettings:
    """The effective settings of one driver instance (see the module docstring)."""

    tool: str = "xm"
    tool_path: str = "/usr/sbin/xm"
    xentop_path: str = DEFAULTS["XENTOP_PATH"]
    sudo: tuple[str, ...] = ("sudo",)
    shutdown_timeout: float = 300.0
    shutdown_poll: float = 1.0
    poll_delay: float = 1.0
    command_timeout: float | None = None

    @classmethod
    def from_context(
        cls, ctx: DriverContext, builtin: Mapping[str, str] | None = None
    ) -> XenSettings:
        """Read the section, then the defaults file, then :data:`DEFAULTS`.

        ``builtin`` overrides some of :data:`DEFAULTS` (the IM driver's own timeout).
        """
        s = DriverSettings(ctx, {**DEFAULTS, **(builtin or {})}, _packaged(ctx), label="Xen")
        tool = (s.get("XEN_TOOL") or "xm").lower()
        if tool not in TOOLS:
            raise DriverError(f"Xen driver setting XEN_TOOL must be xm or xl, not {tool!r}")
        alias = "XM_PATH" if tool == "xm" else "XL_PATH"
        return cls(
            tool=tool,
            tool_path=s.get("XEN_PATH", alias) or f"/usr/sbin/{tool}",
            xentop_path=s.get("XENTOP_PATH") or DEFAULTS["XENTOP_PATH"],
            sudo=tuple(s.get("SUDO").split()),
            shutdown_timeout=s.number("SHUTDOWN_TIMEOUT", blank=0.0),
            shutdown_poll=s.number("SHUTDOWN_POLL", minimum=0.1),
            poll_delay=s.number("POLL_DELAY", minimum=0.1),
            command_timeout=s.limit("COMMAND_TIMEOUT"),
        )

    def tool_command(self, *args: str) -> list[str]:
        """``[sudo] <xm|xl> ARGS`` as an argument list."""
        return [*self.sudo, self.tool_path, *args]

    def xentop_command(self) -> list[str]:
        """``[sudo] xentop -b -i 2 -d <delay>``: two samples, the second with real CPU(%)."""
        return [*self.sudo, self.xentop_path, "-b", "-i", "2", "-d", f"{self.poll_delay:g}"]


def settings(ctx: DriverContext) -> XenSettings:
    """The driver's settings, read once per context."""
    return cached(ctx, "xen_settings", lambda: XenSettings.from_context(ctx))
