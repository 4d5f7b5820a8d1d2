"""Information (monitoring) drivers: entry-point group ``one.im``.

1.4 equivalent: ``IM_MAD`` (``one_im_ssh`` running the probes of ``im_kvm`` or
``im_xen`` on each host, ``one_im_ec2``). Protocol reference:
``spec/lifecycle-and-drivers.md`` §3.6 and §6.

The information manager calls :func:`im_monitor` for each enabled host every
``HOST_MONITORING_INTERVAL`` seconds, on the driver thread pool, with never
more than one call in flight per host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.hookspecs import hookspec

if TYPE_CHECKING:
    from one_core.context import DriverContext

REQUIRED: tuple[str, ...] = ("im_monitor",)
OPTIONAL: tuple[str, ...] = ()

# ---------------------------------------------------------------------------
# monitoring
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def im_monitor(ctx: DriverContext, hid: int, host: str) -> dict[str, str | int | float]:
    """Probe one host and return what it reports.

    Called with the host's id and name (the name given to ``onehost create``,
    which is also the address the driver connects to).

    :param ctx: the driver's context.
    :param hid: the host id.
    :param host: the host name.
    :return: the monitoring attributes, ``{NAME: value}``. The core upper-cases
        the names and stores each value as text in the host template, replacing
        older values of the same name (1.4's replace mode); attributes missing
        from a later answer keep their old value. The core reads these names
        into the host share (``spec/lifecycle-and-drivers.md`` §6.4):

        ``TOTALCPU``, ``FREECPU``, ``USEDCPU`` (percent x cores, 400 is four
        cores), ``TOTALMEMORY``, ``FREEMEMORY``, ``USEDMEMORY`` (KB), and by
        convention also ``HYPERVISOR``, ``CPUSPEED``, ``NETTX``, ``NETRX``,
        ``HOSTNAME``, ``ARCH``, ``MODELNAME``. Any other attribute is kept in
        the host template, where REQUIREMENTS and RANK expressions can use it.

    Raise :class:`~one_core.errors.DriverError` when the host cannot be
    monitored; the core logs the message and puts the host in ERROR state
    until a later probe succeeds.
    """
