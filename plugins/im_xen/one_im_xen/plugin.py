"""The ``xen`` information driver: 1.4's ``one_im_ssh`` with the ``im_xen`` probes.

Configuration (oned.conf ``IM_MAD`` section, all optional)::

    IM_MAD = [ name = "im_xen", executable = "one_im_ssh", arguments = "im_xen/im_xen.conf",
               xen_tool = "xm",                 # "xl" for the libxl toolstack
               xen_path = "/usr/sbin/xm",       # default /usr/sbin/<xen_tool>
               xentop_path = "/usr/sbin/xentop",
               sudo = "sudo",                   # "" runs xm/xl and xentop without sudo
               poll_delay = "1",                # seconds between the two xentop samples
               command_timeout = "60",          # seconds per command, 0 = no limit
               ssh_user = "oneadmin", ssh_port = "22", ssh_key = "~/.ssh/id_rsa" ]

Nothing is uploaded to the hosts: ``im_monitor`` runs three commands over
SSH as argument lists (``ctx.remote(host)``, or a pool of this driver's own
from the ``SSH_*`` keys) and reads their output on the front-end
(:mod:`one_im_xen.probe`):

* ``sh -c`` :data:`~one_im_xen.probe.HOST_SCRIPT` → ARCH, HOSTNAME, MODELNAME;
* ``[sudo] xm info`` (or ``xl info``) → TOTALCPU, CPUSPEED, TOTALMEMORY,
  FREEMEMORY, USEDMEMORY;
* ``[sudo] xentop -b -i 2 -d <poll_delay>`` → USEDCPU, NETTX, NETRX; then
  FREECPU and HYPERVISOR=xen.

As in 1.4, a failing command contributes nothing; when none reports
anything, :class:`~one_core.api.DriverError` says
``Could not monitor host <host>.`` with each command's standard error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from one_driverkit.settings import cached
from one_vmm_xen.settings import XenSettings

from one_core.api import DriverError, hookimpl
from one_im_xen import probe

if TYPE_CHECKING:
    from one_core.api import DriverContext

DEFAULT_TIMEOUT = 60.0


def settings(ctx: DriverContext) -> XenSettings:
    """The driver's settings (read once per context); commands time out after 60 s by default."""
    return cached(
        ctx,
        "xen_settings",
        lambda: XenSettings.from_context(ctx, {"COMMAND_TIMEOUT": f"{DEFAULT_TIMEOUT:g}"}),
    )


def commands(s: XenSettings) -> list[tuple[str, list[str], Callable[[str], dict]]]:
    """The probes: (name, argv, reader of their standard output)."""
    return [
        ("host", ["sh", "-c", probe.HOST_SCRIPT], probe.host_attributes),
        (f"{s.tool} info", s.tool_command("info"), probe.info_attributes),
        ("xentop", s.xentop_command(), probe.xentop_attributes),
    ]


@hookimpl
def im_monitor(ctx: DriverContext, hid: int, host: str) -> dict[str, str | int | float]:
    """Run the probes on ``host`` and return what they report (see the module)."""
    s = settings(ctx)
    handle = ctx.remote(host)
    parts: list[dict] = []
    failures: list[str] = []
    for name, argv, read in commands(s):
        try:
            answer = handle.run(argv, timeout=s.command_timeout, check=False)
        except DriverError as exc:  # connection lost, timeout
            failures.append(f"{name}: {exc}")
            continue
        if answer.exit_code != 0:
            detail = " ".join(answer.stderr.split()) or f"exit code {answer.exit_code}"
            failures.append(f"{name}: {detail}")
            ctx.log.warning("probe %s failed on %s: %s", name, host, detail)
            continue
        parts.append(read(answer.stdout))
    result = probe.combine(parts)
    if not result:
        raise DriverError(
            f"Could not monitor host {host}." + (f" {'; '.join(failures)}" if failures else ""),
            stderr="\n".join(failures),
        )
    return result
