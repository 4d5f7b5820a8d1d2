"""The host pool: hosts, their share and monitored template, HOST / HOST_POOL documents.

Behaviour: ``spec/xmlrpc-api.md`` §5, §8.3, §9.3-9.4 and
``spec/lifecycle-and-drivers.md`` §6.4. Hosts live in memory, written through
to ``host_pool``; each host keeps its pool entry rendered (rebuilt on every change)
and escaped for XML-RPC (on the first listing after a change), so ``one.hostpool.info``
joins ready bytes; the info body (with the TEMPLATE) is rendered when read.

Other components change hosts only through this pool:

* the information manager: :meth:`HostPool.start_monitoring_many`,
  :meth:`HostPool.monitor_results` (many answers in one write, parsed beforehand by
  :func:`monitor_attrs`), :meth:`HostPool.set_state`;
* the VM engine (capacity reserved by VMs, ``spec/lifecycle-and-drivers.md`` §1.11):
  :meth:`HostPool.add_capacity` / :meth:`HostPool.del_capacity`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from one_core.cnum import stream_int
from one_core.db import monitoring_models
from one_core.db.models import SHARE_FIELDS, HostRow
from one_core.pools import IdCounter, fast_insert, fast_update, pool_write, xml_text
from one_core.rpc.codec import EscapedBytes, escape
from one_core.vm.states import HostState

MONITOR_SHARE: tuple[tuple[str, str], ...] = (
    ("max_cpu", "TOTALCPU"),
    ("max_mem", "TOTALMEMORY"),
    ("free_cpu", "FREECPU"),
    ("free_mem", "FREEMEMORY"),
    ("used_cpu", "USEDCPU"),
    ("used_mem", "USEDMEMORY"),
)
"""Share column ← host template attribute, read after each successful monitoring."""

TemplateValue = str | dict[str, str]


def _render_template(template: Mapping[str, TemplateValue]) -> str:
    parts = ["<TEMPLATE>"]
    for name in sorted(template):
        value = template[name]
        if isinstance(value, dict):
            inner = "".join(f"<{k}>{xml_text(value[k])}</{k}>" for k in sorted(value))
            parts.append(f"<{name}>{inner}</{name}>")
        else:
            parts.append(f"<{name}>{xml_text(value)}</{name}>")
    parts.append("</TEMPLATE>")
    return "".join(parts)


@dataclass(slots=True)
class Host:
    """One host. Treat as read-only outside :class:`HostPool`."""

    oid: int
    name: str
    im_mad: str
    vm_mad: str
    tm_mad: str
    state: HostState = HostState.INIT
    last_mon_time: int = 0
    share: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SHARE_FIELDS, 0))
    template: dict[str, TemplateValue] = field(default_factory=dict)
    pool_xml: str = ""
    _info: tuple[str, dict[str, TemplateValue], str] | None = None
    _escaped: tuple[str, bytes] | None = None

    def render(self) -> None:
        """Rebuild the cached pool entry; the info body is rebuilt when next read."""
        s = self.share
        self.pool_xml = (
            f"<HOST><ID>{self.oid}</ID><NAME>{xml_text(self.name)}</NAME>"
            f"<STATE>{int(self.state)}</STATE><IM_MAD>{xml_text(self.im_mad)}</IM_MAD>"
            f"<VM_MAD>{xml_text(self.vm_mad)}</VM_MAD><TM_MAD>{xml_text(self.tm_mad)}</TM_MAD>"
            f"<LAST_MON_TIME>{self.last_mon_time}</LAST_MON_TIME><HOST_SHARE><HID>{self.oid}</HID>"
            + _SHARE_XML.format(*[s[f] for f in SHARE_FIELDS])
            + "</HOST_SHARE></HOST>"
        )

    def escaped_entry(self) -> bytes:
        """The pool entry escaped for an XML-RPC ``<string>`` (UTF-8), cached until the
        entry changes."""
        entry, cached = self.pool_xml, self._escaped
        if cached is not None and cached[0] is entry:
            return cached[1]
        data = escape(entry).encode()
        self._escaped = (entry, data)
        return data

    @property
    def info_xml(self) -> str:
        """The ``one.host.info`` body: the pool entry with the TEMPLATE, rendered on first
        read after a change (a monitoring result does not render it). The template is
        replaced, never changed in place, so a reader on another thread sees a whole one;
        the cache is keyed by the identity of the entry and template it was built from."""
        entry, template, cached = self.pool_xml, self.template, self._info
        if cached is not None and cached[0] is entry and cached[1] is template:
            return cached[2]
        body = entry[: -len("</HOST>")] + _render_template(template) + "</HOST>"
        self._info = (entry, template, body)
        return body


_SHARE_XML = "".join(f"<{f.upper()}>{{}}</{f.upper()}>" for f in SHARE_FIELDS)
"""The HOST_SHARE columns after HID, ``str.format`` slots in :data:`SHARE_FIELDS` order."""


def _host_from_row(row: Any) -> Host:
    """The :class:`Host` a ``host_pool`` row holds (not yet rendered)."""
    return Host(
        row.oid,
        row.host_name,
        row.im_mad,
        row.vm_mad,
        row.tm_mad,
        HostState(row.state),
        row.last_mon_time,
        {f: getattr(row, f) for f in SHARE_FIELDS},
        {k: v for k, v in json.loads(row.template or "[]")},
    )


class HostPool:
    """All hosts, in memory and in ``host_pool``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._hosts: dict[int, Host] = {}
        self._pool_xml: str | None = None
        self._pool_escaped: EscapedBytes | None = None
        self.history_retention = monitoring_models.DEFAULT_RETENTION
        """Seconds of monitoring history kept (oned.conf ``MONITORING_HISTORY``; 0: none)."""
        for row in HostRow.select().order_by(HostRow.oid):
            h = _host_from_row(row)
            h.render()
            self._hosts[h.oid] = h
        self._ids = IdCounter(max(self._hosts) if self._hosts else None)

    def reload(self) -> None:
        """Read every host back from ``host_pool`` (state, share, template): after a
        rolled-back write the memory must not stay ahead of the database."""
        rows = list(HostRow.select().order_by(HostRow.oid))
        with self._lock:
            hosts: dict[int, Host] = {}
            for row in rows:
                h = _host_from_row(row)
                old = self._hosts.get(h.oid)
                if old is not None:  # keep the object others may hold
                    old.state, old.last_mon_time = h.state, h.last_mon_time
                    old.share, old.template = h.share, h.template
                    h = old
                h.render()
                hosts[h.oid] = h
            self._hosts.clear()
            self._hosts.update(hosts)
            self._pool_xml = self._pool_escaped = None

    # -- queries -------------------------------------------------------------

    def get(self, hid: int) -> Host | None:
        return self._hosts.get(hid)

    def __len__(self) -> int:
        return len(self._hosts)

    def hosts(self) -> list[Host]:
        """All hosts by ascending id."""
        return list(self._hosts.values())

    def by_name(self, name: str) -> Host | None:
        """The first host (lowest id) with that name."""
        for h in self._hosts.values():
            if h.name == name:
                return h
        return None

    def info_xml(self, hid: int) -> str | None:
        h = self._hosts.get(hid)
        return None if h is None else h.info_xml

    def pool_escaped(self) -> EscapedBytes:
        """:meth:`pool_xml` as it goes into the XML-RPC ``<string>``: each host's entry
        escaped once per change of that host (a listing of 10,000 hosts while they are
        monitored re-escapes the changed entries, not 8 MB)."""
        cached = self._pool_escaped
        if cached is None:
            with self._lock:
                cached = EscapedBytes(
                    b"&lt;HOST_POOL&gt;",
                    *[h.escaped_entry() for h in self._hosts.values()],
                    b"&lt;/HOST_POOL&gt;",
                )
                self._pool_escaped = cached
        return cached

    def pool_xml(self) -> str:
        """Body of ``one.hostpool.info`` (ascending ids, no TEMPLATE)."""
        cached = self._pool_xml
        if cached is None:
            with self._lock:
                cached = (
                    "<HOST_POOL>"
                    + "".join(h.pool_xml for h in self._hosts.values())
                    + "</HOST_POOL>"
                )
                self._pool_xml = cached
        return cached

    # -- changes -------------------------------------------------------------

    def _save(self, h: Host, **cols: Any) -> None:
        """Write ``cols`` of host ``h`` (caller holds the writer), re-render."""
        if cols:
            fast_update(HostRow, h.oid, cols)
        h.render()
        self._pool_xml = self._pool_escaped = None

    def allocate(self, name: str, im_mad: str, vm_mad: str, tm_mad: str) -> int:
        """New host in INIT with ``last_mon_time = now``; returns its id (duplicates allowed)."""
        with pool_write(self._lock):
            hid = self._ids.take()
            now = int(time.time())
            try:
                fast_insert(
                    HostRow,
                    {
                        "oid": hid,
                        "host_name": name,
                        "state": int(HostState.INIT),
                        "im_mad": im_mad,
                        "vm_mad": vm_mad,
                        "tm_mad": tm_mad,
                        "last_mon_time": now,
                        **dict.fromkeys(SHARE_FIELDS, 0),
                        "template": "[]",
                    },
                )
            except Exception:
                self._ids.give_back(hid)
                raise
            h = Host(hid, name, im_mad, vm_mad, tm_mad, HostState.INIT, now)
            h.render()
            self._hosts[hid] = h
            self._pool_xml = self._pool_escaped = None
            return hid

    def delete(self, hid: int) -> None:
        """Remove the host (VMs on it are not checked, S3)."""
        with pool_write(self._lock):
            HostRow.delete().where(HostRow.oid == hid).execute()
            monitoring_models.forget(hid)
            self._hosts.pop(hid, None)
            self._pool_xml = self._pool_escaped = None

    def enable(self, hid: int, enable: bool) -> None:
        """``true`` → INIT (whatever the state), ``false`` → DISABLED."""
        self.set_state(hid, HostState.INIT if enable else HostState.DISABLED)

    def set_state(self, hid: int, state: HostState) -> None:
        with pool_write(self._lock):
            h = self._hosts[hid]
            h.state = state
            self._save(h, state=int(state))

    def start_monitoring(self, hid: int) -> bool:
        """State → MONITORING unless DISABLED/MONITORING; returns whether it changed."""
        return bool(self.start_monitoring_many([hid]))

    def start_monitoring_many(self, hids: Iterable[int]) -> list[int]:
        """:meth:`start_monitoring` of each host in one write; the hosts that changed."""
        changed: list[int] = []
        with pool_write(self._lock):
            for hid in hids:
                h = self._hosts.get(hid)
                if h is None or h.state in (HostState.MONITORING, HostState.DISABLED):
                    continue
                fast_update(HostRow, hid, {"state": int(HostState.MONITORING)})
                h.state = HostState.MONITORING
                h.render()
                changed.append(hid)
            if changed:
                self._pool_xml = self._pool_escaped = None
        return changed

    def monitor_result(
        self, hid: int, attrs: Mapping[str, Any] | None, now: int | None = None
    ) -> bool:
        """Apply a monitoring reply (§6.4); ``attrs`` None means failure.

        Success: replace-mode update of the template, share read from the
        whole template, ``last_mon_time = now``, state MONITORED, a row of
        monitoring history (:mod:`one_core.db.monitoring_models`). Failure:
        ``last_mon_time = now``, state ERROR. A DISABLED host keeps its state.
        Returns False when the host no longer exists.
        """
        parsed = None if attrs is None else monitor_attrs(attrs)
        return not self.monitor_results({hid: parsed}, now)

    def monitor_results(
        self, results: Mapping[int, Mapping[str, TemplateValue] | None], now: int | None = None
    ) -> list[int]:
        """:meth:`monitor_result` of many hosts in one write, with attributes already
        parsed by :func:`monitor_attrs` (on the driver thread that probed); returns the
        hosts that no longer exist."""
        when = int(time.time()) if now is None else now
        missing: list[int] = []
        history: list[tuple[int, Mapping[str, int]]] = []
        with pool_write(self._lock):
            for hid, attrs in results.items():
                h = self._hosts.get(hid)
                if h is None:
                    missing.append(hid)
                    continue
                cols: dict[str, Any] = {}
                if attrs is not None:
                    template = dict(h.template)  # replaced, never changed in place
                    template.update(attrs)
                    share = dict(h.share)
                    for col, attr in MONITOR_SHARE:
                        value = template.get(attr, "")
                        share[col] = cols[col] = stream_int(value) if isinstance(value, str) else 0
                    cols["template"] = json.dumps(list(template.items()))
                cols["last_mon_time"] = when
                state = h.state
                if state != HostState.DISABLED:
                    state = HostState.MONITORED if attrs is not None else HostState.ERROR
                    cols["state"] = int(state)
                fast_update(HostRow, hid, cols)
                if attrs is not None:
                    h.template, h.share = template, share
                    history.append((hid, share))
                h.last_mon_time, h.state = when, state
                h.render()
            if len(missing) < len(results):
                self._pool_xml = self._pool_escaped = None
            monitoring_models.record_many(history, when, self.history_retention)
        return missing

    def add_capacity(self, hid: int, cpu: int, mem: int, disk: int = 0) -> None:
        """Reserve capacity for a VM placed on the host (``CPU×100``, ``MEMORY×1024``)."""
        self._capacity(hid, cpu, mem, disk, 1)

    def del_capacity(self, hid: int, cpu: int, mem: int, disk: int = 0) -> None:
        """Release what :meth:`add_capacity` reserved."""
        self._capacity(hid, -cpu, -mem, -disk, -1)

    def _capacity(self, hid: int, cpu: int, mem: int, disk: int, vms: int) -> None:
        with pool_write(self._lock):
            h = self._hosts.get(hid)
            if h is None:
                return
            s = h.share
            s["cpu_usage"] += cpu
            s["mem_usage"] += mem
            s["disk_usage"] += disk
            s["running_vms"] += vms
            self._save(
                h,
                cpu_usage=s["cpu_usage"],
                mem_usage=s["mem_usage"],
                disk_usage=s["disk_usage"],
                running_vms=s["running_vms"],
            )


def monitor_attrs(attrs: Mapping[str, Any]) -> dict[str, TemplateValue]:
    """An IM driver's answer as template attributes: names upper-cased, values the text
    1.4 would have stored, a mapping a vector attribute (decision "IM answers are dicts")."""
    out: dict[str, TemplateValue] = {}
    for key, value in attrs.items():
        if isinstance(value, Mapping):
            out[str(key).upper()] = {str(k).upper(): str(v) for k, v in value.items()}
        else:
            out[str(key).upper()] = _text(value)
    return out


def _text(value: Any) -> str:
    """A monitored value as the text 1.4 would have stored."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
