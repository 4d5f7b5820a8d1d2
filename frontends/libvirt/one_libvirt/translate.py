"""Domain XML (the reference guide's subset, §3.1) ⇄ OpenNebula VM templates.

Supported, both ways::

    <domain type='...'>                 (type is not used; dumpxml writes 'one')
      <name>              NAME
      <uuid>              accepted and ignored (the uuid is derived from the VM id)
      <memory unit=...>   MEMORY (MiB, rounded up; default unit KiB)
      <vcpu>              VCPU and CPU
      <os> type (hvm|linux), kernel, initrd, root, cmdline
                          OS = [KERNEL, INITRD, ROOT, KERNEL_CMD]
      <devices>
        <disk type='file' device='disk'> source@file, target@dev
                          DISK = [SOURCE, TARGET]
        <interface type='bridge'> source@bridge, target@dev, mac@address
                          NIC = [BRIDGE, TARGET, MAC]
        <interface type='network'> source@network
                          NIC = [NETWORK]

Anything else raises :class:`UnsupportedXML` naming the element or attribute.
"""

from __future__ import annotations

import math
from xml.etree.ElementTree import Element, SubElement, indent, tostring

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from one_core.api import Template
from one_libvirt.errors import BadXML, UnsupportedXML

_UNITS = {
    "b": 1,
    "bytes": 1,
    "k": 1024,
    "kib": 1024,
    "kb": 1000,
    "m": 1024**2,
    "mib": 1024**2,
    "mb": 1000**2,
    "g": 1024**3,
    "gib": 1024**3,
    "gb": 1000**3,
}
_OS_CHILDREN = {
    "type": None,
    "kernel": "KERNEL",
    "initrd": "INITRD",
    "root": "ROOT",
    "cmdline": "KERNEL_CMD",
}


def _path(el: Element, parent: str) -> str:
    return f"{parent}/{el.tag}" if parent else el.tag


def _check_attrs(el: Element, where: str, allowed: set[str]) -> None:
    for name in el.attrib:
        if name not in allowed:
            raise UnsupportedXML(f"unsupported attribute '{name}' of <{el.tag}> ({where})")


def _no_children(el: Element, where: str) -> None:
    for child in el:
        raise UnsupportedXML(f"unsupported element <{child.tag}> in {where}")


def _text(el: Element) -> str:
    return (el.text or "").strip()


def _memory_mib(el: Element) -> int:
    _check_attrs(el, "domain/memory", {"unit"})
    _no_children(el, "domain/memory")
    unit = el.get("unit", "KiB").lower()
    if unit not in _UNITS:
        raise UnsupportedXML(f"unsupported memory unit '{el.get('unit')}'")
    text = _text(el)
    if not text.isdigit():
        raise BadXML(f"invalid memory value '{text}' in <memory>")
    return max(1, math.ceil(int(text) * _UNITS[unit] / 1024**2))


def _os(el: Element, tmpl: Template) -> None:
    _check_attrs(el, "domain/os", set())
    os_vector: dict[str, str] = {}
    for child in el:
        if child.tag not in _OS_CHILDREN:
            raise UnsupportedXML(
                f"unsupported element <{child.tag}> in domain/os "
                "(supported: type, kernel, initrd, root, cmdline)"
            )
        _check_attrs(child, f"domain/os/{child.tag}", set())
        _no_children(child, f"domain/os/{child.tag}")
        value = _text(child)
        if child.tag == "type":
            if value not in ("hvm", "linux"):
                raise UnsupportedXML(f"unsupported os type '{value}' (supported: hvm, linux)")
            continue
        if value:
            os_vector[_OS_CHILDREN[child.tag]] = value  # type: ignore[index]
    if os_vector:
        tmpl.add("OS", os_vector)


def _single_child_attr(
    el: Element, where: str, spec: dict[str, tuple[str, bool]]
) -> dict[str, str]:
    """Read children like ``<source file='x'/>``: spec maps tag -> (attribute, required)."""
    found: dict[str, str] = {}
    for child in el:
        if child.tag not in spec:
            names = ", ".join(spec)
            raise UnsupportedXML(
                f"unsupported element <{child.tag}> in {where} (supported: {names})"
            )
        attr, _ = spec[child.tag]
        _check_attrs(child, f"{where}/{child.tag}", {attr})
        _no_children(child, f"{where}/{child.tag}")
        if child.tag in found:
            raise UnsupportedXML(f"more than one <{child.tag}> in {where}")
        value = child.get(attr)
        if value is None:
            raise BadXML(f"missing attribute '{attr}' of <{child.tag}> in {where}")
        found[child.tag] = value
    for tag, (attr, required) in spec.items():
        if required and tag not in found:
            raise BadXML(f"missing <{tag} {attr}='...'/> in {where}")
    return found


def _disk(el: Element) -> dict[str, str]:
    where = "domain/devices/disk"
    _check_attrs(el, where, {"type", "device"})
    if el.get("type", "file") != "file":
        raise UnsupportedXML(f"unsupported disk type '{el.get('type')}' (supported: file)")
    if el.get("device", "disk") != "disk":
        raise UnsupportedXML(f"unsupported disk device '{el.get('device')}' (supported: disk)")
    for child in el:
        if child.tag == "target" and "bus" in child.attrib:
            raise UnsupportedXML("unsupported attribute 'bus' of <target> (domain/devices/disk)")
    found = _single_child_attr(el, where, {"source": ("file", True), "target": ("dev", False)})
    disk = {"SOURCE": found["source"]}
    if "target" in found:
        disk["TARGET"] = found["target"]
    return disk


def _interface(el: Element) -> dict[str, str]:
    where = "domain/devices/interface"
    _check_attrs(el, where, {"type"})
    kind = el.get("type")
    if kind == "bridge":
        found = _single_child_attr(
            el,
            f"{where}[@type='bridge']",
            {"source": ("bridge", True), "target": ("dev", False), "mac": ("address", False)},
        )
        nic = {"BRIDGE": found["source"]}
        if "target" in found:
            nic["TARGET"] = found["target"]
        if "mac" in found:
            nic["MAC"] = found["mac"]
        return nic
    if kind == "network":
        found = _single_child_attr(el, f"{where}[@type='network']", {"source": ("network", True)})
        return {"NETWORK": found["source"]}
    raise UnsupportedXML(f"unsupported interface type '{kind}' (supported: bridge, network)")


def domain_to_template(xml: str) -> Template:
    """Parse a domain XML document into a VM template; raise on anything unsupported."""
    try:
        root = DET.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    except DefusedXmlException as exc:
        raise BadXML(f"forbidden XML construct: {type(exc).__name__}") from None
    except Exception as exc:  # xml.etree.ElementTree.ParseError and friends
        raise BadXML(f"malformed domain XML: {exc}") from None
    if root.tag != "domain":
        raise BadXML(f"expected a <domain> document, got <{root.tag}>")
    _check_attrs(root, "domain", {"type", "id"})
    tmpl = Template()
    name = None
    memory = None
    vcpu = None
    os_el = None
    disks: list[dict[str, str]] = []
    nics: list[dict[str, str]] = []
    seen: set[str] = set()
    for child in root:
        tag = child.tag
        if tag in seen and tag in ("name", "uuid", "memory", "vcpu", "os", "devices"):
            raise BadXML(f"more than one <{tag}> in domain")
        seen.add(tag)
        if tag == "name":
            _check_attrs(child, "domain/name", set())
            _no_children(child, "domain/name")
            name = _text(child)
        elif tag == "uuid":
            _no_children(child, "domain/uuid")
        elif tag == "memory":
            memory = _memory_mib(child)
        elif tag == "vcpu":
            _check_attrs(child, "domain/vcpu", set())
            _no_children(child, "domain/vcpu")
            text = _text(child)
            if not text.isdigit() or int(text) < 1:
                raise BadXML(f"invalid vcpu value '{text}' in <vcpu>")
            vcpu = int(text)
        elif tag == "os":
            os_el = child
        elif tag == "devices":
            _check_attrs(child, "domain/devices", set())
            for dev in child:
                if dev.tag == "disk":
                    disks.append(_disk(dev))
                elif dev.tag == "interface":
                    nics.append(_interface(dev))
                else:
                    raise UnsupportedXML(
                        f"unsupported element <{dev.tag}> in domain/devices "
                        "(supported: disk, interface)"
                    )
        else:
            raise UnsupportedXML(
                f"unsupported element <{tag}> in domain "
                "(supported: name, uuid, memory, vcpu, os, devices)"
            )
    if not name:
        raise BadXML("missing <name> in domain")
    if any(c in name for c in "\n\r\"'"):
        raise BadXML("invalid domain name")
    tmpl.add("NAME", name)
    if memory is not None:
        tmpl.add("MEMORY", str(memory))
    if vcpu is not None:
        tmpl.add("CPU", str(vcpu))
        tmpl.add("VCPU", str(vcpu))
    if os_el is not None:
        _os(os_el, tmpl)
    for disk in disks:
        tmpl.add("DISK", disk)
    for nic in nics:
        tmpl.add("NIC", nic)
    return tmpl


# -- VM → domain XML -----------------------------------------------------------


def _children(template: Element | None, tag: str) -> list[Element]:
    return [] if template is None else template.findall(tag)


def _sub(el: Element | None, tag: str) -> str:
    if el is None:
        return ""
    found = el.find(tag)
    return "" if found is None else (found.text or "").strip()


def template_int(template: Element | None, tag: str, default: int = 0) -> int:
    """An integer single attribute of a TEMPLATE element (1.4 stream reading: ``"2.5"`` → 2)."""
    text = _sub(template, tag)
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else default


def template_vcpus(template: Element | None) -> int:
    """VCPU, else CPU rounded up, else 1."""
    vcpu = template_int(template, "VCPU")
    if vcpu > 0:
        return vcpu
    try:
        cpu = float(_sub(template, "CPU") or 0)
    except ValueError:
        cpu = 0.0
    return max(1, math.ceil(cpu))


def domain_xml(name: str, uuid: str, dom_id: int, template: Element | None) -> str:
    """The domain XML ``virsh dumpxml`` shows for a VM (``template``: vm.info's TEMPLATE)."""
    root = Element("domain", {"type": "one"})
    if dom_id >= 0:
        root.set("id", str(dom_id))
    _add(root, "name", name)
    _add(root, "uuid", uuid)
    _add(root, "memory", str(template_int(template, "MEMORY") * 1024), unit="KiB")
    _add(root, "vcpu", str(template_vcpus(template)))
    os_el = _add(root, "os")
    _add(os_el, "type", "hvm")
    os_vec = template.find("OS") if template is not None else None
    for tag, key in (
        ("kernel", "KERNEL"),
        ("initrd", "INITRD"),
        ("cmdline", "KERNEL_CMD"),
        ("root", "ROOT"),
    ):
        value = _sub(os_vec, key)
        if value:
            _add(os_el, tag, value)
    devices = _add(root, "devices")
    for disk in _children(template, "DISK"):
        d = _add(devices, "disk", type="file", device="disk")
        if _sub(disk, "SOURCE"):
            _add(d, "source", file=_sub(disk, "SOURCE"))
        if _sub(disk, "TARGET"):
            _add(d, "target", dev=_sub(disk, "TARGET"))
    for nic in _children(template, "NIC"):
        network = _sub(nic, "NETWORK")
        if network:
            i = _add(devices, "interface", type="network")
            _add(i, "source", network=network)
        else:
            i = _add(devices, "interface", type="bridge")
            if _sub(nic, "BRIDGE"):
                _add(i, "source", bridge=_sub(nic, "BRIDGE"))
            if _sub(nic, "TARGET"):
                _add(i, "target", dev=_sub(nic, "TARGET"))
        if _sub(nic, "MAC"):
            _add(i, "mac", address=_sub(nic, "MAC"))
    indent(root, space="  ")
    return tostring(root, encoding="unicode") + "\n"


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el
