"""Host monitoring history and a VM's log on the modern dialect (read-only).

1.4 had neither; the web dashboard (docs/web.md) needs both. They are served on
``/RPC2/modern`` only, so the 1.4 path keeps 1.4's exact method list.

* ``one.host.monitoring(session, hid)`` — the host's history (any user, like
  ``one.host.info``);
* ``one.hostpool.monitoring(session, seconds)`` — every host's history of the last
  ``seconds`` (``-1``: all that is kept);
* ``one.vm.log(session, vid)`` — the end of the VM's ``vm.log`` (at most
  :data:`LOG_TAIL` bytes), for its owner and oneadmin only (an extension).

The history document (the history is kept for ``MONITORING_HISTORY`` seconds,
:mod:`one_core.db.monitoring_models`)::

    <MONITORING_DATA><MONITORING><TIMESTAMP>1700000000</TIMESTAMP><ID>0</ID>
      <CAPACITY><MAX_CPU>400</MAX_CPU>...<RUNNING_VMS>1</RUNNING_VMS></CAPACITY>
    </MONITORING>...</MONITORING_DATA>

``CAPACITY`` holds the host share columns of
:data:`~one_core.db.monitoring_models.HISTORY_FIELDS` upper-cased, as in 1.4's ``HOST_SHARE``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from one_core.db import monitoring_models
from one_core.rpc.modern.api import Call, api

LOG_TAIL = 64 * 1024
"""The most of a vm.log one call returns (its end)."""


def history_xml(samples: list[monitoring_models.Sample]) -> str:
    """The ``MONITORING_DATA`` document of ``samples`` (integers only: nothing to escape)."""
    parts = ["<MONITORING_DATA>"]
    for s in samples:
        capacity = "".join(
            f"<{f.upper()}>{int(s.values[f])}</{f.upper()}>"
            for f in monitoring_models.HISTORY_FIELDS
        )
        parts.append(
            f"<MONITORING><TIMESTAMP>{s.time}</TIMESTAMP><ID>{s.hid}</ID>"
            f"<CAPACITY>{capacity}</CAPACITY></MONITORING>"
        )
    parts.append("</MONITORING_DATA>")
    return "".join(parts)


def since(seconds: int, now: float | None = None) -> int:
    """The first timestamp of "the last ``seconds``" (``-1`` or less: everything)."""
    if seconds < 0:
        return 0
    return int(time.time() if now is None else now) - seconds


def vm_log_path(core: Any, vid: int) -> str:
    """Where oned writes VM ``vid``'s log (:class:`one_core.logs.VMLogWriter`)."""
    if core.vm_log is not None:
        return str(core.vm_log.path(vid))
    return os.path.join(core.cfg.var_dir, str(vid), "vm.log")


def read_log_tail(path: str, limit: int = LOG_TAIL) -> str:
    """The last ``limit`` bytes of ``path`` as text ("" when it does not exist yet)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            data = fh.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if len(data) == limit and size > limit:  # started mid-line: drop the partial line
        text = text.partition("\n")[2]
    return text


@api("one.host.monitoring", "A:si", "Returns the monitoring records of a host")
def host_monitoring(call: Call, hid: int) -> str:
    if call.core.hosts.get(hid) is None:
        raise call.missing("host", hid)
    return history_xml(monitoring_models.samples(hid))


@api("one.hostpool.monitoring", "A:si", "Returns the monitoring records of every host")
def hostpool_monitoring(call: Call, seconds: int) -> str:
    return history_xml(monitoring_models.samples(None, since(seconds)))


@api("one.vm.log", "A:si", "Returns the end of a virtual machine's log")
def vm_log(call: Call, vid: int) -> str:
    owner = call.core.need_engine().pool.owner(vid)
    if owner is None:
        raise call.missing("virtual machine", vid)
    call.authorize("USE", "VM", vid, owner)
    return read_log_tail(vm_log_path(call.core, vid))
