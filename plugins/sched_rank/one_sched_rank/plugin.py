"""The ``rank`` scheduler driver (entry point ``rank`` in ``one.sched``).

Implements :func:`one_core.hookspecs.sched.sched_place` with 1.4's
match-making policy (:mod:`.policy`). Configuration: the ``SCHED`` section of
oned.conf, passed as ``ctx.config``; the only key read here is
``LOG_CANDIDATES`` (candidate lines per VM in the "Select hosts" log block,
default 20, ``-1`` for all as in 1.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.api import hookimpl
from one_sched_rank.policy import schedule

if TYPE_CHECKING:
    from one_core.api import DriverContext, HostSnapshot, PendingVM, Placement


@hookimpl
def sched_place(
    ctx: DriverContext, pending: list[PendingVM], hosts: list[HostSnapshot]
) -> list[Placement]:
    """Place pending VMs on hosts as 1.4's ``mm_sched`` did (see :mod:`.policy`).

    The hosts' capacity figures are not modified (reservations are kept in
    local copies). A VM whose expressions are wrong is logged and left out.
    """
    return schedule(ctx, pending, hosts)
