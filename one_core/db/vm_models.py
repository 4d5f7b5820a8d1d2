"""Tables of the VM pool: ``vm_pool`` and ``history`` (``spec/lifecycle-and-drivers.md`` §9.3).

Differences from 1.4, on purpose (docs/decisions/lifecycle.md):

* the VM template is kept in ``vm_pool`` itself, as its template text
  (``template``, re-parsed on load) and its rendered ``<TEMPLATE>`` XML
  (``template_xml``, served by ``one.vm.info`` without parsing), instead of
  1.4's ``vm_attributes`` rows; ``template_id`` is kept (= oid) for 1.4 tooling;
* ``pending_action`` names the driver action in flight, committed with the
  state change that issued it, so start-up recovery knows what to redo
  (``docs/recovery.md``).
"""

from __future__ import annotations

import peewee

from one_core.db import register_models
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


register_models(VMRow, HistoryRow)
