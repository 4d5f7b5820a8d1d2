"""Tables of the VM pool: ``vm_pool`` and ``history`` (``spec/lifecycle-and-drivers.md`` §9.3).

Differences from 1.4, on purpose (docs/decisions/lifecycle.md):

* the VM template is kept in ``vm_pool`` itself, as its template text
  (``template``, re-parsed on load) and its rendered ``<TEMPLATE>`` XML
  (``template_xml``, served by ``one.vm.info`` without parsing), instead of
  1.4's ``vm_attributes`` rows; ``template_id`` is kept (= oid) for 1.4 tooling;
* ``pending_action`` names the driver action in flight, committed with the
  state change that issued it, so start-up recovery knows what to redo
  (``docs/recovery.md``);
* ``pool_xml`` keeps the VM's ``<VM>`` entry of ``one.vmpool.info``, rendered and
  escaped as it goes on the wire, written with the row (and with its current history
  record), and ``owner_name`` the owner's name it shows, so that a listing is one
  aggregate of ready text (:mod:`one_core.vm.listing`); schema version 2 added them.
"""

from __future__ import annotations

import peewee

from one_core.db import register_migration, register_models
from one_core.db.base import BaseModel


class VMRow(BaseModel):
    """``vm_pool``: one row per VM (DONE VMs are kept, as in 1.4)."""

    oid = peewee.IntegerField(primary_key=True)
    uid = peewee.IntegerField(index=True)
    name = peewee.TextField()
    last_poll = peewee.BigIntegerField(default=0)
    template_id = peewee.IntegerField(default=0)
    state = peewee.IntegerField(default=1, index=True)
    lcm_state = peewee.IntegerField(default=0)
    stime = peewee.BigIntegerField(default=0)
    etime = peewee.BigIntegerField(default=0)
    deploy_id = peewee.TextField(default="")
    memory = peewee.BigIntegerField(default=0)
    cpu = peewee.BigIntegerField(default=0)
    net_tx = peewee.BigIntegerField(default=0)
    net_rx = peewee.BigIntegerField(default=0)
    template = peewee.TextField(default="")
    template_xml = peewee.TextField(default="<TEMPLATE></TEMPLATE>")
    pending_action = peewee.TextField(default="")
    last_seq = peewee.IntegerField(default=-1)
    pool_xml = peewee.TextField(default="")
    owner_name = peewee.TextField(null=True)

    class Meta:
        table_name = "vm_pool"


class HistoryRow(BaseModel):
    """``history``: one row per stay of a VM on a host, key ``(vid, seq)``."""

    vid = peewee.IntegerField()
    seq = peewee.IntegerField()
    host_name = peewee.TextField(default="")
    vm_dir = peewee.TextField(default="")
    hid = peewee.IntegerField(default=-1)
    vm_mad = peewee.TextField(default="")
    tm_mad = peewee.TextField(default="")
    stime = peewee.BigIntegerField(default=0)
    etime = peewee.BigIntegerField(default=0)
    pstime = peewee.BigIntegerField(default=0)
    petime = peewee.BigIntegerField(default=0)
    rstime = peewee.BigIntegerField(default=0)
    retime = peewee.BigIntegerField(default=0)
    estime = peewee.BigIntegerField(default=0)
    eetime = peewee.BigIntegerField(default=0)
    reason = peewee.IntegerField(default=0)

    class Meta:
        table_name = "history"
        primary_key = peewee.CompositeKey("vid", "seq")


VMRow.add_index(VMRow.index(VMRow.oid, name="vm_pool_live", where=VMRow.state != 6))
"""The VMs that are not DONE, by id: the listings' and pages' default filter (``state <>
6``, a constant in the query) reads them in order without walking the DONE VMs, which
are kept for good (by owner, ``vm_pool_uid`` holds each owner's VMs in id order)."""

register_models(VMRow, HistoryRow)


def _add_pool_xml(database: peewee.Database) -> None:
    """Schema 1 → 2: add ``vm_pool.pool_xml`` and ``owner_name``, render every VM's entry."""
    from one_core.vm import listing

    columns = {c.name for c in database.get_columns("vm_pool")}
    if "pool_xml" not in columns:
        database.execute_sql("ALTER TABLE vm_pool ADD COLUMN pool_xml TEXT NOT NULL DEFAULT ''")
    if "owner_name" not in columns:
        database.execute_sql("ALTER TABLE vm_pool ADD COLUMN owner_name TEXT")
    listing.refresh_all()


register_migration(2, _add_pool_xml)
