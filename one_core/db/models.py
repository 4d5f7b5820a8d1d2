"""Tables of the user and host pools.

Column names follow 1.4's (``spec/lifecycle-and-drivers.md`` §9.3,
``spec/templates-scheduler-vnets-cli.md`` §5.1). Differences, on purpose
(docs/decisions/core.md): the host share columns live in ``host_pool`` (1.4
had a separate ``host_shares`` table) and the host template is one text
column holding the monitored attributes as JSON ``[[NAME, value], ...]``
(1.4 had ``host_attributes`` rows).
"""

from __future__ import annotations

import peewee

from one_core.db import register_models
from one_core.db.base import BaseModel


class UserRow(BaseModel):
    """``user_pool``: one row per user."""

    oid = peewee.IntegerField(primary_key=True)
    user_name = peewee.TextField(unique=True)
    password = peewee.TextField()
    enabled = peewee.IntegerField(default=1)

    class Meta:
        table_name = "user_pool"


class HostRow(BaseModel):
    """``host_pool``: one row per host, share counters included."""

    oid = peewee.IntegerField(primary_key=True)
    host_name = peewee.TextField()
    state = peewee.IntegerField(default=0)
    im_mad = peewee.TextField()
    vm_mad = peewee.TextField()
    tm_mad = peewee.TextField()
    last_mon_time = peewee.BigIntegerField(default=0)
    # host share (1.4 table host_shares)
    disk_usage = peewee.BigIntegerField(default=0)
    mem_usage = peewee.BigIntegerField(default=0)
    cpu_usage = peewee.BigIntegerField(default=0)
    max_disk = peewee.BigIntegerField(default=0)
    max_mem = peewee.BigIntegerField(default=0)
    max_cpu = peewee.BigIntegerField(default=0)
    free_disk = peewee.BigIntegerField(default=0)
    free_mem = peewee.BigIntegerField(default=0)
    free_cpu = peewee.BigIntegerField(default=0)
    used_disk = peewee.BigIntegerField(default=0)
    used_mem = peewee.BigIntegerField(default=0)
    used_cpu = peewee.BigIntegerField(default=0)
    running_vms = peewee.IntegerField(default=0)
    template = peewee.TextField(default="[]")

    class Meta:
        table_name = "host_pool"


SHARE_FIELDS: tuple[str, ...] = (
    "disk_usage",
    "mem_usage",
    "cpu_usage",
    "max_disk",
    "max_mem",
    "max_cpu",
    "free_disk",
    "free_mem",
    "free_cpu",
    "used_disk",
    "used_mem",
    "used_cpu",
    "running_vms",
)
"""Host share columns in 1.4's ``HOST_SHARE`` element order (after ``HID``)."""

register_models(UserRow, HostRow)
