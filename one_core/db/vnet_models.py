"""Tables of the virtual network pool: ``network_pool`` and ``leases``.

1.4 layout (``spec/lifecycle-and-drivers.md`` §9.3): ``network_pool(oid, uid,
name PRIMARY KEY, type, bridge)``, ``vn_template`` rows, ``leases(oid, ip,
mac_prefix, mac_suffix, vid, used)`` with key ``(oid, ip)``.

Differences, on purpose (docs/decisions/vnets.md):

* the template is one text column of ``network_pool`` (re-parsed on load)
  instead of ``vn_template`` rows;
* ``oid`` is the primary key and ``name`` is UNIQUE (1.4's ``INSERT OR REPLACE``
  on the name is done explicitly by the pool, decision S5);
* a RANGED network's masked address and size are stored at creation, so a
  later change of oned.conf ``NETWORK_SIZE`` does not resize it;
* a lease's MAC is one 48-bit ``mac`` column (1.4 split it in two).
"""

from __future__ import annotations

import peewee

from one_core.db import register_models
from one_core.db.base import BaseModel


class VNetRow(BaseModel):
    """``network_pool``: one row per virtual network."""

    oid = peewee.IntegerField(primary_key=True)
    uid = peewee.IntegerField(index=True)
    name = peewee.TextField(unique=True)
    type = peewee.IntegerField()  # 0 RANGED, 1 FIXED
    bridge = peewee.TextField(default="")
    template = peewee.TextField(default="")
    network_address = peewee.BigIntegerField(default=0)  # RANGED: masked address
    size = peewee.BigIntegerField(default=0)  # RANGED: N; FIXED: number of LEASES entries

    class Meta:
        table_name = "network_pool"


class LeaseRow(BaseModel):
    """``leases``: RANGED networks keep used leases only, FIXED networks every lease."""

    oid = peewee.IntegerField()
    ip = peewee.BigIntegerField()
    mac = peewee.BigIntegerField()
    vid = peewee.IntegerField(default=-1)
    used = peewee.IntegerField(default=0)

    class Meta:
        table_name = "leases"
        primary_key = peewee.CompositeKey("oid", "ip")
        indexes = ((("oid", "used"), False), (("vid",), False))


register_models(VNetRow, LeaseRow)
