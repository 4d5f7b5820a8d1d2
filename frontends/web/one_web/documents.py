"""oned's XML documents (modern dialect) as plain dicts for the templates.

Only what the pages show is read; every value stays text or int, and the
templates escape all of it (Jinja2 autoescape).
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from one_core.api import HostState, LcmState, VmState

LCM_NAMES: dict[int, str] = {int(s): s.name for s in LcmState}
LCM_NAMES[23] = "DELETE"  # the modern dialect shows 1.4's DELETE (15) as CLEANUP_DELETE (23)
VM_NAMES: dict[int, str] = {int(s): s.name for s in VmState}
HOST_NAMES: dict[int, str] = {int(s): s.name for s in HostState}


def _int(el: Element | None, path: str, default: int = 0) -> int:
    text = el.findtext(path) if el is not None else None
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def _text(el: Element | None, path: str) -> str:
    return (el.findtext(path) if el is not None else None) or ""


def attributes(el: Element | None) -> list[tuple[str, Any]]:
    """A ``TEMPLATE`` as ``[(name, value)]``; a vector value is a list of ``(name, value)``."""
    if el is None:
        return []
    out: list[tuple[str, Any]] = []
    for child in el:
        if len(child):
            out.append((child.tag, [(c.tag, c.text or "") for c in child]))
        else:
            out.append((child.tag, child.text or ""))
    return out


def vm_state_text(state: int, lcm: int) -> str:
    """``RUNNING`` for an ACTIVE VM (its LCM state), else the VM state (``PENDING``)."""
    if state == VmState.ACTIVE:
        return LCM_NAMES.get(lcm, str(lcm))
    return VM_NAMES.get(state, str(state))


def vm(el: Element) -> dict[str, Any]:
    """A ``VM``."""
    state, lcm = _int(el, "STATE"), _int(el, "LCM_STATE")
    template = el.find("TEMPLATE")
    histories = [
        {
            "seq": _int(h, "SEQ"),
            "host": _text(h, "HOSTNAME"),
            "hid": _int(h, "HID", -1),
            "stime": _int(h, "STIME"),
            "etime": _int(h, "ETIME"),
            "pstime": _int(h, "PSTIME"),
            "petime": _int(h, "PETIME"),
            "rstime": _int(h, "RSTIME"),
            "retime": _int(h, "RETIME"),
            "estime": _int(h, "ESTIME"),
            "eetime": _int(h, "EETIME"),
        }
        for h in el.findall("HISTORY_RECORDS/HISTORY")
    ]
    nics = template.findall("NIC") if template is not None else []
    return {
        "id": _int(el, "ID"),
        "name": _text(el, "NAME"),
        "uid": _int(el, "UID"),
        "uname": _text(el, "UNAME"),
        "state": state,
        "lcm_state": lcm,
        "state_text": vm_state_text(state, lcm),
        "stime": _int(el, "STIME"),
        "etime": _int(el, "ETIME"),
        "cpu": _text(template, "CPU"),
        "memory": _text(template, "MEMORY"),
        "ips": [_text(n, "IP") for n in nics if _text(n, "IP")],
        "host": histories[-1]["host"] if histories else "",
        "hid": histories[-1]["hid"] if histories else -1,
        "histories": histories,
        "template": attributes(template),
        "used_cpu": _text(el, "MONITORING/CPU"),
        "used_memory": _text(el, "MONITORING/MEMORY"),
    }


def vms(pool: Element) -> list[dict[str, Any]]:
    return [vm(v) for v in pool.findall("VM")]


def host(el: Element) -> dict[str, Any]:
    """A ``HOST``: share (``max_cpu`` ... in 1.4 units: CPU % ×100 per core, memory KiB)."""
    state = _int(el, "STATE")
    return {
        "id": _int(el, "ID"),
        "name": _text(el, "NAME"),
        "state": state,
        "state_text": HOST_NAMES.get(state, str(state)),
        "im_mad": _text(el, "IM_MAD"),
        "vm_mad": _text(el, "VM_MAD"),
        "max_cpu": _int(el, "HOST_SHARE/MAX_CPU"),
        "cpu_usage": _int(el, "HOST_SHARE/CPU_USAGE"),
        "max_mem": _int(el, "HOST_SHARE/MAX_MEM"),
        "mem_usage": _int(el, "HOST_SHARE/MEM_USAGE"),
        "running_vms": _int(el, "HOST_SHARE/RUNNING_VMS"),
        "used_cpu": _int(el, "MONITORING/CAPACITY/USED_CPU"),
        "used_mem": _int(el, "MONITORING/CAPACITY/USED_MEMORY"),
        "last_mon_time": _int(el, "MONITORING/TIMESTAMP"),
        "vms": [int(v.text or 0) for v in el.findall("VMS/ID")],
        "template": attributes(el.find("TEMPLATE")),
    }


def hosts(pool: Element) -> list[dict[str, Any]]:
    return [host(h) for h in pool.findall("HOST")]


def vnet(el: Element) -> dict[str, Any]:
    """A ``VNET`` with its used leases (``ip``, ``mac``, ``vm``) and its address count."""
    leases = [
        {"ip": _text(x, "IP"), "mac": _text(x, "MAC"), "vm": _int(x, "VM", -1)}
        for x in el.findall("AR_POOL/AR/LEASES/LEASE")
    ]
    return {
        "id": _int(el, "ID"),
        "name": _text(el, "NAME"),
        "uid": _int(el, "UID"),
        "uname": _text(el, "UNAME"),
        "bridge": _text(el, "BRIDGE"),
        "type": _text(el, "TEMPLATE/TYPE"),
        "size": sum(_int(a, "SIZE") for a in el.findall("AR_POOL/AR")),
        "used": _int(el, "USED_LEASES"),
        "leases": leases,
        "template": attributes(el.find("TEMPLATE")),
    }


def vnets(pool: Element) -> list[dict[str, Any]]:
    return [vnet(n) for n in pool.findall("VNET")]


def users(pool: Element) -> list[dict[str, Any]]:
    return [
        {
            "id": _int(u, "ID"),
            "name": _text(u, "NAME"),
            "enabled": _int(u, "ENABLED", 1) == 1,
            "group": _text(u, "GNAME"),
        }
        for u in pool.findall("USER")
    ]


def monitoring(doc: Element) -> list[dict[str, int]]:
    """``one.host.monitoring`` / ``one.hostpool.monitoring`` records, oldest first."""
    out = []
    for m in doc.findall("MONITORING"):
        row = {"time": _int(m, "TIMESTAMP"), "hid": _int(m, "ID")}
        capacity = m.find("CAPACITY")
        if capacity is not None:
            row.update({c.tag.lower(): int(c.text or 0) for c in capacity})
        out.append(row)
    return out
