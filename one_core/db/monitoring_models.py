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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import peewee

from one_core.db import register_models
from one_core.db.base import BaseModel, database

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
    record_many([(hid, share)], when, retention)


CHUNK = 80
"""Rows per INSERT / hosts per DELETE statement (well under SQLite's 999 parameters)."""


def record_many(shares: Sequence[tuple[int, Mapping[str, int]]], when: int, retention: int) -> None:
    """:func:`record` of many hosts monitored at the same ``when``: a few statements of
    up to :data:`CHUNK` hosts each instead of two per host."""
    if retention <= 0 or not shares:
        return
    p, qc = database.obj.param, database.obj.quote

    def q(name: str) -> str:
        return f"{qc[0]}{name}{qc[1]}"

    table = q(HostMonitoringRow._meta.table_name)
    cols = ("hid", "last_mon_time", *HISTORY_FIELDS)
    one_row = f"({', '.join(p for _ in cols)})"
    for start in range(0, len(shares), CHUNK):
        part = shares[start : start + CHUNK]
        values: list[int] = []
        for hid, share in part:
            values += (hid, when, *[int(share.get(f, 0)) for f in HISTORY_FIELDS])
        database.execute_sql(
            f"INSERT INTO {table} ({', '.join(q(c) for c in cols)}) VALUES "
            + ", ".join(one_row for _ in part),
            values,
        )
        database.execute_sql(
            f"DELETE FROM {table} WHERE {q('last_mon_time')} < {p} "
            f"AND {q('hid')} IN ({', '.join(p for _ in part)})",
            [when - retention, *[hid for hid, _ in part]],
        )


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
