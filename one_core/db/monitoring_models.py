"""Host monitoring history: one row per successful host monitoring, kept for a while.

``MONITORING_HISTORY = <seconds>`` in oned.conf (default one day, ``0`` keeps none)
bounds the table: every new row of a host deletes that host's rows older than the
retention. Written by :meth:`one_core.pools.host.HostPool.monitor_result` inside its
write transaction; read by ``one.host.monitoring`` / ``one.hostpool.monitoring``
(:mod:`one_core.rpc.monitoring_methods`). The web dashboard plots it (docs/web.md).

Columns are the host share after the monitoring: what the probe reported
(``max_*``, ``free_*``, ``used_*``) and what VMs reserve (``cpu_usage``,
``mem_usage``, ``running_vms``). CPU in percent (100 per core), memory in KiB, as 1.4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import peewee

from one_core.db import register_models
from one_core.db.base import BaseModel

DEFAULT_RETENTION = 86400
"""Seconds of history kept when oned.conf has no ``MONITORING_HISTORY``."""

HISTORY_FIELDS: tuple[str, ...] = (
    "max_cpu",
    "max_mem",
    "free_cpu",
    "free_mem",
    "used_cpu",
    "used_mem",
    "cpu_usage",
    "mem_usage",
    "running_vms",
)
"""Share columns copied into each history row (names as in ``host_pool``)."""


class HostMonitoringRow(BaseModel):
    """``host_monitoring``: one host's share at one monitoring time."""

    hid = peewee.IntegerField()
    last_mon_time = peewee.BigIntegerField()
    max_cpu = peewee.BigIntegerField(default=0)
    max_mem = peewee.BigIntegerField(default=0)
    free_cpu = peewee.BigIntegerField(default=0)
    free_mem = peewee.BigIntegerField(default=0)
    used_cpu = peewee.BigIntegerField(default=0)
    used_mem = peewee.BigIntegerField(default=0)
    cpu_usage = peewee.BigIntegerField(default=0)
    mem_usage = peewee.BigIntegerField(default=0)
    running_vms = peewee.IntegerField(default=0)

    class Meta:
        table_name = "host_monitoring"
        indexes = ((("hid", "last_mon_time"), False), (("last_mon_time",), False))


@dataclass(frozen=True, slots=True)
class Sample:
    """One history row as read back."""

    hid: int
    time: int
    values: Mapping[str, int]


def record(hid: int, when: int, share: Mapping[str, int], retention: int) -> None:
    """Store ``share`` of host ``hid`` at ``when``; drop its rows older than ``retention``.

    The caller holds the database writer (:func:`one_core.db.writer`). ``retention``
    0 (or less) stores nothing.
    """
    if retention <= 0:
        return
    row = {f: int(share.get(f, 0)) for f in HISTORY_FIELDS}
    HostMonitoringRow.insert(hid=hid, last_mon_time=when, **row).execute()
    HostMonitoringRow.delete().where(
        (HostMonitoringRow.hid == hid) & (HostMonitoringRow.last_mon_time < when - retention)
    ).execute()


def forget(hid: int) -> None:
    """Delete the history of a deleted host (caller holds the writer)."""
    HostMonitoringRow.delete().where(HostMonitoringRow.hid == hid).execute()


def samples(hid: int | None = None, since: int = 0) -> list[Sample]:
    """History rows at or after ``since`` (of host ``hid``, or of every host), oldest first."""
    query = HostMonitoringRow.select().where(HostMonitoringRow.last_mon_time >= since)
    if hid is not None:
        query = query.where(HostMonitoringRow.hid == hid)
    query = query.order_by(HostMonitoringRow.last_mon_time, HostMonitoringRow.hid)
    return [
        Sample(r.hid, r.last_mon_time, {f: getattr(r, f) for f in HISTORY_FIELDS})
        for r in query.iterator()
    ]


register_models(HostMonitoringRow)
