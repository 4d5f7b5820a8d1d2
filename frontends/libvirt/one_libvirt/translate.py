"""Domain XML ⇄ OpenNebula VM templates (the reference guide's subset, §3.1, widened to what
virt-install and virt-manager write).

Mapped, both ways::

    <domain type='...'>                 (type is not used; dumpxml writes 'one')
      <name>              NAME
      <uuid>              identifies the domain a redefinition replaces; else not used
      <memory unit=...>   MEMORY (MiB, rounded up; default unit KiB)
      <vcpu>              VCPU and CPU
      <os> type (hvm|linux), kernel, initrd, root, cmdline, boot@dev
                          OS = [KERNEL, INITRD, ROOT, KERNEL_CMD, BOOT]
      <features> acpi, pae
                          FEATURES = [ACPI = yes, PAE = yes]
      <devices>
        <disk type='file|block' device='disk|cdrom|floppy'> source@file|@dev, target@dev,
              readonly
                          DISK = [SOURCE, TARGET, TYPE (cdrom, floppy, block), READONLY]
        <interface type='bridge'> source@bridge, target@dev, mac@address, model@type
                          NIC = [BRIDGE, TARGET, MAC, MODEL]
        <interface type='network'> source@network, model@type
                          NIC = [NETWORK, MODEL]
        <graphics type='vnc|sdl'> @listen, @port, @passwd
                          GRAPHICS = [TYPE, LISTEN, PORT, PASSWD]
        <input type='mouse|tablet' bus='usb|ps2'>
                          INPUT = [TYPE, BUS]

Accepted and ignored, each with a logged note (:data:`IGNORED`): what has no meaning for an
OpenNebula VM (the hypervisor, clock, power management and life-cycle policies, and devices
the 1.4 drivers always provide or never provide). Anything else raises
:class:`UnsupportedXML` naming the element or attribute.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement, indent, tostring

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from one_core.api import Template
from one_libvirt.errors import BadXML, UnsupportedXML

log = logging.getLogger("one_libvirt.translate")

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
    "boot": "BOOT",
}
_BOOT_DEVICES = {"hd", "fd", "cdrom", "network"}

IGNORED: dict[str, str] = {
    "domain/title": "a description only",
    "domain/description": "a description only",
    "domain/metadata": "application metadata is not kept",
    "domain/currentMemory": "an OpenNebula VM always gets its whole MEMORY",
    "domain/cpu": "CPU model and topology are the host's",
    "domain/clock": "the hypervisor driver sets the clock",
    "domain/on_poweroff": "OpenNebula's life cycle decides what follows a power-off",
    "domain/on_reboot": "OpenNebula's life cycle decides what follows a reboot",
    "domain/on_crash": "OpenNebula's life cycle decides what follows a crash",
    "domain/pm": "no guest power management in OpenNebula 1.4",
    "domain/seclabel": "the host's security driver decides",
    "domain/os/loader": "the hypervisor's default firmware is used",
    "domain/os/nvram": "the hypervisor's default firmware is used",
    "domain/os/bootmenu": "not configurable in OpenNebula 1.4",
    "domain/os/smbios": "not configurable in OpenNebula 1.4",
    "domain/features/*": "only acpi and pae exist in OpenNebula 1.4",
    "domain/devices/emulator": "the hypervisor driver chooses the emulator",
    "domain/devices/controller": "the hypervisor adds the controllers it needs",
    "domain/devices/console": "the hypervisor driver provides the console",
    "domain/devices/serial": "the hypervisor driver provides the console",
    "domain/devices/channel": "no guest agent channels in OpenNebula 1.4",
    "domain/devices/video": "the hypervisor's default video card is used",
    "domain/devices/sound": "no sound devices in OpenNebula 1.4",
    "domain/devices/memballoon": "no memory balloon in OpenNebula 1.4",
    "domain/devices/rng": "no random number device in OpenNebula 1.4",
    "domain/devices/redirdev": "no USB redirection in OpenNebula 1.4",
    "domain/devices/watchdog": "no watchdog in OpenNebula 1.4",
    "domain/devices/graphics[@type='spice']": "OpenNebula 1.4 knows vnc and sdl only",
    "domain/devices/input[@type='keyboard']": "the hypervisor always provides a keyboard",
    "domain/devices/disk/driver": "the image format is the transfer driver's business",
    "domain/devices/disk/target@bus": "the hypervisor driver chooses the bus from TARGET",
    "domain/devices/disk/address": "the hypervisor driver places devices",
    "domain/devices/disk/alias": "device aliases are not kept",
    "domain/devices/disk/boot": "boot order is OS/BOOT",
    "domain/devices/disk/serial": "disk serials are not kept",
    "domain/devices/disk/shareable": "sharing is the transfer driver's business",
    "domain/devices/interface[@type='network']/mac": (
        "OpenNebula derives a network NIC's MAC from the leased IP"
    ),
    "domain/devices/interface/address": "the hypervisor driver places devices",
    "domain/devices/interface/alias": "device aliases are not kept",
    "domain/devices/interface/boot": "boot order is OS/BOOT",
    "domain/devices/interface/link": "links are always up",
    "domain/devices/interface/driver": "the hypervisor driver chooses the NIC backend",
}
"""What is accepted and dropped, and why (the note logged when a definition carries it)."""

_IGNORED_DEVICES = {
    tag.rsplit("/", 1)[1]
    for tag in IGNORED
    if tag.startswith("domain/devices/") and tag.count("/") == 2 and "[" not in tag
}
_IGNORED_TOP = {tag.split("/")[1] for tag in IGNORED if tag.count("/") == 1}


class _Notes:
    """The ignored parts of one definition, logged once the name is known."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def ignore(self, path: str, key: str | None = None) -> None:
        self.items.append(f"<{path}> ignored: {IGNORED[key or path]}")

    def log(self, name: str) -> None:
        for note in self.items:
            log.info("domain '%s': %s", name, note)


def _check_attrs(el: Element, where: str, allowed: set[str]) -> None:
    for name in el.attrib:
        if name not in allowed:
            raise UnsupportedXML(f"unsupported attribute '{name}' of <{el.tag}> ({where})")


def _unsupported_element(
    tag: str, where: str, supported: str, ignored: Iterable[str]
) -> UnsupportedXML:
    """The error for an element ``<tag>`` that ``where`` neither supports nor ignores."""
    return UnsupportedXML(
        f"unsupported element <{tag}> in {where} "
        f"(supported: {supported}; ignored: {', '.join(sorted(ignored))})"
    )


def _no_children(el: Element, where: str) -> None:
    for child in el:
        raise UnsupportedXML(f"unsupported element <{child.tag}> in {where}")


def _text(el: Element) -> str:
    return (el.text or "").strip()


def _size_mib(el: Element, where: str) -> int:
    _check_attrs(el, where, {"unit"})
    _no_children(el, where)
    unit = el.get("unit", "KiB").lower()
    if unit not in _UNITS:
        raise UnsupportedXML(f"unsupported memory unit '{el.get('unit')}'")
    text = _text(el)
    if not text.isdigit():
        raise BadXML(f"invalid memory value '{text}' in <{el.tag}>")
    return max(1, math.ceil(int(text) * _UNITS[unit] / 1024**2))


def _vcpu(el: Element, notes: _Notes) -> int:
    _check_attrs(el, "domain/vcpu", {"placement", "current", "cpuset"})
    _no_children(el, "domain/vcpu")
    if el.get("placement", "static") not in ("static", "auto"):
        raise BadXML(f"invalid vcpu placement '{el.get('placement')}'")
    for attr in ("placement", "current", "cpuset"):
        if attr in el.attrib:
            notes.items.append(f"<vcpu {attr}=...> ignored: the scheduler places the VM")
    text = _text(el)
    if not text.isdigit() or int(text) < 1:
        raise BadXML(f"invalid vcpu value '{text}' in <vcpu>")
    return int(text)


def _os(el: Element, tmpl: Template, notes: _Notes) -> None:
    _check_attrs(el, "domain/os", set())
    os_vector: dict[str, str] = {}
    for child in el:
        where = f"domain/os/{child.tag}"
        if where in IGNORED:
            notes.ignore(where)
            continue
        if child.tag not in _OS_CHILDREN:
            raise UnsupportedXML(
                f"unsupported element <{child.tag}> in domain/os "
                "(supported: type, kernel, initrd, root, cmdline, boot)"
            )
        _no_children(child, where)
        if child.tag == "type":
            _check_attrs(child, where, {"arch", "machine"})
            value = _text(child)
            if value not in ("hvm", "linux"):
                raise UnsupportedXML(f"unsupported os type '{value}' (supported: hvm, linux)")
            if child.attrib:
                notes.items.append("<os/type arch/machine> ignored: the host's are used")
            continue
        if child.tag == "boot":
            _check_attrs(child, where, {"dev"})
            dev = child.get("dev", "")
            if dev not in _BOOT_DEVICES:
                raise UnsupportedXML(f"unsupported boot device '{dev}' (supported: hd, fd, ...)")
            if "BOOT" in os_vector:
                notes.items.append(f"<os/boot dev='{dev}'> ignored: one boot device only")
            else:
                os_vector["BOOT"] = dev
            continue
        _check_attrs(child, where, set())
        value = _text(child)
        if value:
            os_vector[_OS_CHILDREN[child.tag]] = value  # type: ignore[index]
    if os_vector:
        tmpl.add("OS", os_vector)


def _features(el: Element, tmpl: Template, notes: _Notes) -> None:
    _check_attrs(el, "domain/features", set())
    features: dict[str, str] = {}
    for child in el:
        if child.tag in ("acpi", "pae") and not child.attrib and len(child) == 0:
            features[child.tag.upper()] = "yes"
        else:
            notes.ignore(f"domain/features/{child.tag}", "domain/features/*")
    if features:
        tmpl.add("FEATURES", features)


def _children_by_tag(
    el: Element, where: str, allowed: dict[str, set[str]], notes: _Notes, *prefixes: str
) -> dict[str, Element]:
    """The children of a device: each allowed tag at most once, with the allowed attributes;
    the tags listed in :data:`IGNORED` under one of ``prefixes`` are dropped with a note."""
    found: dict[str, Element] = {}
    for child in el:
        key = next((f"{p}/{child.tag}" for p in prefixes if f"{p}/{child.tag}" in IGNORED), None)
        if key is not None:
            notes.ignore(f"{where}/{child.tag}", key)
            continue
        if child.tag not in allowed:
            names = ", ".join(allowed)
            raise UnsupportedXML(
                f"unsupported element <{child.tag}> in {where} (supported: {names})"
            )
        _check_attrs(child, f"{where}/{child.tag}", allowed[child.tag])
        _no_children(child, f"{where}/{child.tag}")
        if child.tag in found:
            raise UnsupportedXML(f"more than one <{child.tag}> in {where}")
        found[child.tag] = child
    return found


def _required(found: dict[str, Element], tag: str, attr: str, where: str) -> str:
    el = found.get(tag)
    value = None if el is None else el.get(attr)
    if not value:
        raise BadXML(f"missing <{tag} {attr}='...'/> in {where}")
    return value


_DISK_TYPES = {"cdrom": "cdrom", "floppy": "floppy"}


def _disk(el: Element, notes: _Notes) -> dict[str, str]:
    where = "domain/devices/disk"
    _check_attrs(el, where, {"type", "device"})
    kind = el.get("type", "file")
    if kind not in ("file", "block"):
        raise UnsupportedXML(f"unsupported disk type '{kind}' (supported: file, block)")
    device = el.get("device", "disk")
    if device not in ("disk", "cdrom", "floppy"):
        raise UnsupportedXML(f"unsupported disk device '{device}' (supported: disk, cdrom, floppy)")
    source_attr = "file" if kind == "file" else "dev"
    found = _children_by_tag(
        el,
        where,
        {"source": {source_attr}, "target": {"dev", "bus"}, "readonly": set()},
        notes,
        where,
    )
    disk = {"SOURCE": _required(found, "source", source_attr, where)}
    target = found.get("target")
    if target is not None:
        if target.get("dev"):
            disk["TARGET"] = target.get("dev", "")
        if "bus" in target.attrib:
            notes.ignore(f"{where}/target bus='{target.get('bus')}'", f"{where}/target@bus")
    if device in _DISK_TYPES:
        disk["TYPE"] = _DISK_TYPES[device]
    elif kind == "block":
        disk["TYPE"] = "block"
    if "readonly" in found:
        disk["READONLY"] = "yes"
    return disk


def _interface(el: Element, notes: _Notes) -> dict[str, str]:
    where = "domain/devices/interface"
    _check_attrs(el, where, {"type"})
    kind = el.get("type")
    if kind == "bridge":
        found = _children_by_tag(
            el,
            f"{where}[@type='bridge']",
            {"source": {"bridge"}, "target": {"dev"}, "mac": {"address"}, "model": {"type"}},
            notes,
            where,
        )
        nic = {"BRIDGE": _required(found, "source", "bridge", where)}
        for tag, attr, key in (("target", "dev", "TARGET"), ("mac", "address", "MAC")):
            if tag in found:
                nic[key] = _required(found, tag, attr, where)
    elif kind == "network":
        scoped = f"{where}[@type='network']"
        found = _children_by_tag(
            el, scoped, {"source": {"network"}, "model": {"type"}}, notes, scoped, where
        )
        nic = {"NETWORK": _required(found, "source", "network", scoped)}
    else:
        raise UnsupportedXML(f"unsupported interface type '{kind}' (supported: bridge, network)")
    if "model" in found:
        nic["MODEL"] = _required(found, "model", "type", where)
    return nic


def _device_type(
    el: Element, where: str, notes: _Notes, *, ignored: str, supported: tuple[str, ...]
) -> str | None:
    """The ``type`` of the device ``el`` at ``where``: ``None`` (and a note) when it is
    ``ignored``; UnsupportedXML unless it is one of ``supported``.
    """
    kind = el.get("type")
    if kind == ignored:
        notes.ignore(f"{where}[@type='{ignored}']")
        return None
    if kind not in supported:
        device = where.rsplit("/", 1)[-1]
        raise UnsupportedXML(
            f"unsupported {device} type '{kind}' (supported: {', '.join(supported)})"
        )
    return kind


def _graphics(el: Element, notes: _Notes) -> dict[str, str] | None:
    where = "domain/devices/graphics"
    kind = _device_type(el, where, notes, ignored="spice", supported=("vnc", "sdl"))
    if kind is None:
        return None
    _check_attrs(el, where, {"type", "port", "autoport", "listen", "passwd", "keymap"})
    graphics = {"TYPE": kind}
    if "keymap" in el.attrib:
        notes.items.append(f"<{where} keymap=...> ignored: not in OpenNebula 1.4")
    listen = el.get("listen")
    for child in el:
        if child.tag == "listen" and child.get("type", "address") == "address":
            listen = listen or child.get("address")
        else:
            notes.items.append(f"<{where}/{child.tag}> ignored: not in OpenNebula 1.4")
    if listen:
        graphics["LISTEN"] = listen
    port = el.get("port", "-1")
    if port.lstrip("-").isdigit() and int(port) >= 0:
        graphics["PORT"] = port
    if el.get("passwd"):
        graphics["PASSWD"] = el.get("passwd", "")
    return graphics


def _input(el: Element, notes: _Notes) -> dict[str, str] | None:
    where = "domain/devices/input"
    _check_attrs(el, where, {"type", "bus"})
    kind = _device_type(el, where, notes, ignored="keyboard", supported=("mouse", "tablet"))
    if kind is None:
        return None
    for child in el:
        notes.items.append(f"<{where}/{child.tag}> ignored: the hypervisor driver places devices")
    device = {"TYPE": kind}
    if el.get("bus"):
        if el.get("bus") not in ("usb", "ps2"):
            raise UnsupportedXML(f"unsupported input bus '{el.get('bus')}' (supported: usb, ps2)")
        device["BUS"] = el.get("bus", "")
    return device


def _devices(el: Element, tmpl_parts: dict[str, list[dict[str, str]]], notes: _Notes) -> None:
    _check_attrs(el, "domain/devices", set())
    for dev in el:
        if dev.tag == "disk":
            tmpl_parts["DISK"].append(_disk(dev, notes))
        elif dev.tag == "interface":
            tmpl_parts["NIC"].append(_interface(dev, notes))
        elif dev.tag == "graphics":
            graphics = _graphics(dev, notes)
            if graphics is not None:
                tmpl_parts["GRAPHICS"].append(graphics)
        elif dev.tag == "input":
            device = _input(dev, notes)
            if device is not None:
                tmpl_parts["INPUT"].append(device)
        elif dev.tag in _IGNORED_DEVICES:
            notes.ignore(f"domain/devices/{dev.tag}")
        else:
            raise _unsupported_element(
                dev.tag, "domain/devices", "disk, interface, graphics, input", _IGNORED_DEVICES
            )
    if len(tmpl_parts["GRAPHICS"]) > 1:
        raise UnsupportedXML("more than one <graphics> in domain/devices")


def _parse(xml: str | bytes) -> Element:
    try:
        root = DET.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    except DefusedXmlException as exc:
        raise BadXML(f"forbidden XML construct: {type(exc).__name__}") from None
    except Exception as exc:  # xml.etree.ElementTree.ParseError and friends
        raise BadXML(f"malformed domain XML: {exc}") from None
    if root.tag != "domain":
        raise BadXML(f"expected a <domain> document, got <{root.tag}>")
    return root


def domain_uuid(xml: str) -> bytes | None:
    """The 16-byte ``<uuid>`` of a domain document, if it has a valid one."""
    text = _parse(xml).findtext("uuid")
    try:
        return bytes.fromhex((text or "").strip().replace("-", "")) if text else None
    except ValueError:
        return None


_SINGLE = ("name", "uuid", "memory", "currentMemory", "vcpu", "os", "features", "devices")


def domain_to_template(xml: str) -> Template:
    """Parse a domain XML document into a VM template; raise on anything unsupported."""
    root = _parse(xml)
    _check_attrs(root, "domain", {"type", "id"})
    tmpl = Template()
    notes = _Notes()
    name = None
    memory = None
    vcpu = None
    os_el = None
    features_el = None
    parts: dict[str, list[dict[str, str]]] = {"DISK": [], "NIC": [], "GRAPHICS": [], "INPUT": []}
    seen: set[str] = set()
    for child in root:
        tag = child.tag
        if tag in seen and tag in _SINGLE:
            raise BadXML(f"more than one <{tag}> in domain")
        seen.add(tag)
        if tag == "name":
            _check_attrs(child, "domain/name", set())
            _no_children(child, "domain/name")
            name = _text(child)
        elif tag == "uuid":
            _no_children(child, "domain/uuid")
        elif tag == "memory":
            memory = _size_mib(child, "domain/memory")
        elif tag == "currentMemory":
            _size_mib(child, "domain/currentMemory")
            notes.ignore("domain/currentMemory")
        elif tag == "vcpu":
            vcpu = _vcpu(child, notes)
        elif tag == "os":
            os_el = child
        elif tag == "features":
            features_el = child
        elif tag == "devices":
            _devices(child, parts, notes)
        elif tag in _IGNORED_TOP:
            notes.ignore(f"domain/{tag}")
        else:
            raise _unsupported_element(
                tag, "domain", "name, uuid, memory, vcpu, os, features, devices", _IGNORED_TOP
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
        _os(os_el, tmpl, notes)
    if features_el is not None:
        _features(features_el, tmpl, notes)
    for key in ("DISK", "NIC", "GRAPHICS", "INPUT"):
        for vector in parts[key]:
            tmpl.add(key, vector)
    notes.log(name)
    return tmpl


def same_definition(a: Template, b: Template) -> bool:
    """Whether two translated definitions describe the same VM."""
    return a.to_text() == b.to_text()


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
    if _sub(os_vec, "BOOT") in _BOOT_DEVICES:
        _add(os_el, "boot", dev=_sub(os_vec, "BOOT"))
    features = template.find("FEATURES") if template is not None else None
    wanted = [tag for tag in ("acpi", "pae") if _sub(features, tag.upper()).lower() == "yes"]
    if wanted:
        features_el = _add(root, "features")
        for tag in wanted:
            _add(features_el, tag)
    devices = _add(root, "devices")
    for disk in _children(template, "DISK"):
        _disk_xml(devices, disk)
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
        if _sub(nic, "MODEL"):
            _add(i, "model", type=_sub(nic, "MODEL"))
    for graphics in _children(template, "GRAPHICS")[:1]:
        kind = _sub(graphics, "TYPE").lower()
        if kind in ("vnc", "sdl"):
            attrs = {"type": kind}
            for attr, key in (("port", "PORT"), ("listen", "LISTEN"), ("passwd", "PASSWD")):
                if _sub(graphics, key):
                    attrs[attr] = _sub(graphics, key)
            _add(devices, "graphics", **attrs)
    for device in _children(template, "INPUT"):
        kind = _sub(device, "TYPE").lower()
        if kind in ("mouse", "tablet"):
            bus = _sub(device, "BUS").lower()
            _add(devices, "input", type=kind, **({"bus": bus} if bus in ("usb", "ps2") else {}))
    indent(root, space="  ")
    return tostring(root, encoding="unicode") + "\n"


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _disk_xml(devices: Element, disk: Element) -> None:
    kind = _sub(disk, "TYPE").lower()
    block = kind == "block"
    device = kind if kind in ("cdrom", "floppy") else "disk"
    d = _add(devices, "disk", type="block" if block else "file", device=device)
    if _sub(disk, "SOURCE"):
        _add(d, "source", **{"dev" if block else "file": _sub(disk, "SOURCE")})
    if _sub(disk, "TARGET"):
        _add(d, "target", dev=_sub(disk, "TARGET"))
    if _sub(disk, "READONLY").lower() == "yes":
        _add(d, "readonly")
