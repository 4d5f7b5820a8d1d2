"""Schedulers: entry-point group ``one.sched``.

1.4 equivalent: ``mm_sched``, the REQUIREMENTS/RANK match-maker
(``spec/templates-scheduler-vnets-cli.md`` §2-3). The core calls
:func:`sched_place` every scheduling interval and soon after a VM is
created (in-daemon), or an external process does it over XML-RPC
(``mm_sched``); either way the placements it returns are deployed with the
same checks as ``one.vm.deploy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.hookspecs import hookspec

if TYPE_CHECKING:
    from one_core.context import DriverContext
    from one_core.placement import HostSnapshot, PendingVM, Placement

REQUIRED: tuple[str, ...] = ("sched_place",)
OPTIONAL: tuple[str, ...] = ()

# ---------------------------------------------------------------------------
# placement
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def sched_place(
    ctx: DriverContext, pending: list[PendingVM], hosts: list[HostSnapshot]
) -> list[Placement]:
    """Choose a host for pending VMs.

    :param pending: the VMs in PENDING state, ascending id order.
    :param hosts: the hosts a VM may go to (INIT, MONITORING or MONITORED; not
        DISABLED nor ERROR), ascending id order, each with its monitored
        template and its capacity bookkeeping as of the start of the cycle.
    :return: the placements to dispatch, in the order to dispatch them. A VM
        left out stays PENDING and is offered again next cycle.

    The function must not change its arguments' capacity figures for the
    caller (work on copies), must not block on I/O, and must not raise for a
    bad expression in one VM: log why (``ctx.vm_log(vid, ...)`` and
    ``ctx.log``) and leave that VM out. The core re-checks each placement's
    capacity against the live host before deploying, so a VM that arrived or
    a host that filled up during the cycle can never over-commit a host.
    """
