"""Response documents: COMPUTE, NETWORK, DISK and their pools (spec cloud-apis §5.4, §5.8, §5.9)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from one_cloudkit.images import ImageRecord

from one_occi.xmlbody import document, element, empty, pool

DM_STATES = ("INIT", "PENDING", "HOLD", "ACTIVE", "STOPPED", "SUSPENDED", "DONE", "FAILED")


def dm_state(vm: Element) -> str:
    try:
        return DM_STATES[int(vm.findtext("STATE") or "")]
    except (ValueError, IndexError):
        return "UNKNOWN"


def _t(el: Element, tag: str) -> str:
    return (el.findtext(tag) or "").strip()


def compute(vm: Element, base: str) -> bytes:
    """The COMPUTE of a ``one.vm.info`` document."""
    lines = [element("ID", _t(vm, "ID")), element("NAME", _t(vm, "NAME"))]
    lines.append(element("STATE", dm_state(vm)))
    template = vm.find("TEMPLATE")
    disks = template.findall("DISK") if template is not None else []
    nics = template.findall("NIC") if template is not None else []
    if disks:
        lines.append("<STORAGE>")
        for disk in disks:
            kind = _t(disk, "TYPE").lower()
            if kind == "swap":
                attrs = [("type", "swap"), ("size", _t(disk, "SIZE")), ("dev", _t(disk, "TARGET"))]
            elif kind == "fs":
                attrs = [
                    ("type", "fs"),
                    ("size", _t(disk, "SIZE")),
                    ("format", _t(disk, "FORMAT")),
                    ("dev", _t(disk, "TARGET")),
                ]
            else:
                attrs = [
                    ("type", "disk"),
                    ("href", f"{base}/storage/{_t(disk, 'IMAGE_ID')}"),
                    ("dev", _t(disk, "TARGET")),
                ]
            lines.append("    " + empty("DISK", attrs))
        lines.append("</STORAGE>")
    if nics:
        lines.append("<NETWORK>")
        for nic in nics:
            attrs = [("href", f"{base}/network/{_t(nic, 'VNID')}")]
            if _t(nic, "IP"):
                attrs.append(("ip", _t(nic, "IP")))
            lines.append("    " + empty("NIC", attrs))
        lines.append("</NETWORK>")
    if template is not None and template.find("INSTANCE_TYPE") is not None:
        lines.append(element("INSTANCE_TYPE", _t(template, "INSTANCE_TYPE")))
    return document("COMPUTE", lines)


def compute_pool(ids: list[int], base: str) -> bytes:
    return pool("COMPUTES", "COMPUTE", [f"{base}/compute/{i}" for i in ids])


def network(vn: Element) -> bytes:
    """The NETWORK of a ``one.vn.info`` document (empty ADDRESS/SIZE when absent, §7 #38)."""
    return document(
        "NETWORK",
        [
            element("ID", _t(vn, "ID")),
            element("NAME", _t(vn, "NAME")),
            element("ADDRESS", _t(vn, "TEMPLATE/NETWORK_ADDRESS")),
            element("SIZE", _t(vn, "TEMPLATE/NETWORK_SIZE")),
        ],
    )


def network_pool(ids: list[int], base: str) -> bytes:
    """1.4's shape: root ``NETWORK``, children ``NIC`` (§7 #35)."""
    return pool("NETWORK", "NIC", [f"{base}/network/{i}" for i in ids])


def disk(image: ImageRecord) -> bytes:
    return document(
        "DISK",
        [
            element("ID", image.id),
            element("NAME", image.name or ""),
            element("SIZE", (image.size or 0) // 1048576),
            element("URL", image.description or ""),
        ],
    )


def storage_pool(images: list[ImageRecord], base: str) -> bytes:
    return pool("STORAGE", "DISK", [f"{base}/storage/{i.id}" for i in images])
