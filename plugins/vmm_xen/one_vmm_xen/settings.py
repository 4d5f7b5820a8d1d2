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

from one_core.errors import DriverError

if TYPE_CHECKING:
    from one_core.context import DriverContext

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


@functools.cache
def packaged_defaults() -> dict[str, Any]:
    """The shipped ``vmm_xen.conf`` as a defaults dict (first value of each name)."""
    from one_core.template import Template

    values: dict[str, Any] = {}
    for name, value in Template.parse_file(PACKAGED_DEFAULTS).attributes:
        values.setdefault(name.upper(), value)
    return values


def defaults_of(ctx: DriverContext) -> Mapping[str, Any]:
    """The defaults in force: the configured file's, else (VMM only) the packaged one's."""
    if ctx.defaults:
        return {str(k).upper(): v for k, v in ctx.defaults.items()}
    return packaged_defaults() if ctx.role == "vmm" else {}


def lookup(mapping: Mapping[str, Any], key: str) -> str | None:
    """The single (text) value of ``key`` in ``mapping``, case-insensitively, stripped."""
    for k, v in mapping.items():
        if str(k).upper() == key and isinstance(v, str):
            return v.strip()
    return None


def _number(text: str, key: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DriverError(f"Xen driver setting {key} is not a number: {text!r}") from None


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
    def from_context(cls, ctx: DriverContext) -> XenSettings:
        """Read the section, then the defaults file, then :data:`DEFAULTS`."""
        sources = (ctx.config, defaults_of(ctx))

        def get(key: str, *aliases: str) -> str:
            for name in (key, *aliases):
                for source in sources:
                    found = lookup(source, name)
                    if found is not None:
                        return found
            return DEFAULTS.get(key, "")

        tool = (get("XEN_TOOL") or "xm").lower()
        if tool not in TOOLS:
            raise DriverError(f"Xen driver setting XEN_TOOL must be xm or xl, not {tool!r}")
        alias = "XM_PATH" if tool == "xm" else "XL_PATH"
        command_timeout = _number(get("COMMAND_TIMEOUT") or "0", "COMMAND_TIMEOUT")
        return cls(
            tool=tool,
            tool_path=get("XEN_PATH", alias) or f"/usr/sbin/{tool}",
            xentop_path=get("XENTOP_PATH") or DEFAULTS["XENTOP_PATH"],
            sudo=tuple(get("SUDO").split()),
            shutdown_timeout=_number(get("SHUTDOWN_TIMEOUT") or "0", "SHUTDOWN_TIMEOUT"),
            shutdown_poll=max(_number(get("SHUTDOWN_POLL") or "1", "SHUTDOWN_POLL"), 0.1),
            poll_delay=max(_number(get("POLL_DELAY") or "1", "POLL_DELAY"), 0.1),
            command_timeout=command_timeout if command_timeout > 0 else None,
        )

    def tool_command(self, *args: str) -> list[str]:
        """``[sudo] <xm|xl> ARGS`` as an argument list."""
        return [*self.sudo, self.tool_path, *args]

    def xentop_command(self) -> list[str]:
        """``[sudo] xentop -b -i 2 -d <delay>``: two samples, the second with real CPU(%)."""
        return [*self.sudo, self.xentop_path, "-b", "-i", "2", "-d", f"{self.poll_delay:g}"]


def settings(ctx: DriverContext) -> XenSettings:
    """The driver's settings, read once per context."""
    found = ctx.state.get("xen_settings")
    if found is None:
        found = ctx.state["xen_settings"] = XenSettings.from_context(ctx)
    return found
