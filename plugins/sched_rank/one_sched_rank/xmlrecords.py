"""XML-RPC documents → scheduler records (``spec/xmlrpc-api.md`` §9).

``one.vmpool.info`` and ``one.hostpool.info`` list the objects *without*
their templates (§9.2, §9.4), so ``mm_sched`` reads the pools to find the
pending VMs and the enabled hosts, then ``one.vm.info`` / ``one.host.info``
for each of those (§9.1, §9.3).

Template rule (§2.2, §3.5): a single attribute is an element without child
elements; the first attribute of a name wins; a vector attribute, or an
empty value, counts as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from one_core.api import HostSnapshot, HostState, PendingVM, VmState

UNPLACEABLE = (HostState.ERROR, HostState.DISABLED)
"""Host states the scheduler skips."""


class RecordError(ValueError):
    """A document that cannot be read."""


@dataclass(frozen=True, slots=True)
class PoolEntry:
    """One object of a pool listing: its id and state."""

    oid: int
    state: int


def _parse(xml: str, root: str) -> Element:
    try:
        doc = fromstring(xml)
    except Exception as exc:  # defusedxml raises several types
        raise RecordError(f"malformed {root} document: {exc}") from exc
    if doc.tag != root:
        raise RecordError(f"expected <{root}>, got <{doc.tag}>")
    return doc


def _int(elem: Element, tag: str, default: int = 0) -> int:
    child = elem.find(tag)
    if child is None or child.text is None or not child.text.strip():
        return default
    try:
        return int(child.text.strip())
    except ValueError as exc:
        raise RecordError(f"<{tag}> is not an integer: {child.text!r}") from exc


def template_singles(elem: Element | None) -> dict[str, str]:
    """The single attributes of a ``<TEMPLATE>`` element (first one of each name)."""
    result: dict[str, str] = {}
    if elem is None:
        return result
    seen: set[str] = set()
    for child in elem:
        name = child.tag.upper()
        if name in seen:
            continue
        seen.add(name)
        if len(child) == 0:
            result[name] = child.text or ""
    return result


def pool_entries(xml: str, root: str, item: str) -> list[PoolEntry]:
    """``(ID, STATE)`` of each ``item`` of a pool document, ascending id."""
    doc = _parse(xml, root)
    entries = [PoolEntry(_int(e, "ID", -1), _int(e, "STATE", -1)) for e in doc.findall(item)]
    return sorted(entries, key=lambda e: e.oid)


def pending_vm_ids(vmpool_xml: str) -> list[int]:
    """Ids of the PENDING VMs in a ``<VM_POOL>`` document."""
    return [e.oid for e in pool_entries(vmpool_xml, "VM_POOL", "VM") if e.state == VmState.PENDING]


def enabled_host_ids(hostpool_xml: str) -> list[int]:
    """Ids of the hosts in a ``<HOST_POOL>`` that are neither ERROR nor DISABLED."""
    return [
        e.oid for e in pool_entries(hostpool_xml, "HOST_POOL", "HOST") if e.state not in UNPLACEABLE
    ]


def vm_state(vm_xml: str) -> int:
    """The STATE of a ``<VM>`` document."""
    return _int(_parse(vm_xml, "VM"), "STATE", -1)


def pending_vm(vm_xml: str) -> PendingVM:
    """A :class:`PendingVM` from a ``one.vm.info`` ``<VM>`` document."""
    doc = _parse(vm_xml, "VM")
    template = template_singles(doc.find("TEMPLATE"))
    return PendingVM(
        vid=_int(doc, "ID", -1),
        uid=_int(doc, "UID", -1),
        template=template,
        requirements=template.get("REQUIREMENTS", ""),
        rank=template.get("RANK", ""),
        cpu=template.get("CPU", ""),
        memory=template.get("MEMORY", ""),
    )


def host_snapshot(host_xml: str) -> HostSnapshot:
    """A :class:`HostSnapshot` from a ``one.host.info`` ``<HOST>`` document
    (or a pool entry, which has no TEMPLATE)."""
    doc = _parse(host_xml, "HOST")
    return host_from_element(doc)


def host_from_element(doc: Element) -> HostSnapshot:
    """A :class:`HostSnapshot` from a parsed ``<HOST>`` element."""
    share = doc.find("HOST_SHARE")
    if share is None:
        share = Element("HOST_SHARE")
    name_el = doc.find("NAME")
    return HostSnapshot(
        hid=_int(doc, "ID", -1),
        name=(name_el.text or "") if name_el is not None else "",
        template=template_singles(doc.find("TEMPLATE")),
        max_cpu=_int(share, "MAX_CPU"),
        max_mem=_int(share, "MAX_MEM"),
        max_disk=_int(share, "MAX_DISK"),
        cpu_usage=_int(share, "CPU_USAGE"),
        mem_usage=_int(share, "MEM_USAGE"),
        disk_usage=_int(share, "DISK_USAGE"),
        free_cpu=_int(share, "FREE_CPU"),
        free_mem=_int(share, "FREE_MEM"),
        free_disk=_int(share, "FREE_DISK"),
        running_vms=_int(share, "RUNNING_VMS"),
    )
