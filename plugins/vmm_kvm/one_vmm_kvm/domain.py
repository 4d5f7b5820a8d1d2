"""The KVM deployment file: a libvirt domain XML (spec §5.2, 1.4's ``LibVirtDriver.cc``).

Same elements, order and rules as 1.4; built as an lxml tree, so template
values are XML-escaped (1.4 wrote them verbatim, spec §10 #22), then indented
with TABs as 1.4's file was. Attribute values are serialised with double
quotes, where 1.4 wrote single ones: the same XML.

Two settings make the KVM-specific bits switchable: the domain type (1.4
always wrote ``kvm``; ``qemu`` runs guests under TCG on hosts without usable
``/dev/kvm``) and the emulator path (1.4: ``/usr/bin/kvm``; ``none`` omits the
element so libvirt picks the default emulator of the domain type).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from one_core.api import DriverError, cnum

if TYPE_CHECKING:
    from one_core.api import VMRecord

WarnFunc = Callable[[str], None]

_RAW_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


class _Values:
    """Template lookups with 1.4's fallback to the defaults file (``get_default``)."""

    def __init__(self, vm: VMRecord, defaults: Mapping[str, Any]):
        self.template = vm.template
        self.defaults = {str(k).upper(): v for k, v in defaults.items()}

    def single(self, name: str) -> str:
        value = self.template.get(name)
        if not value:
            default = self.defaults.get(name)
            value = default if isinstance(default, str) else ""
        return value

    def first_vector(self, name: str) -> dict[str, str] | None:
        values = self.template.values(name)
        return values[0] if values and isinstance(values[0], dict) else None

    def sub(self, vector: Mapping[str, str] | None, name: str, key: str) -> str:
        """``vector[key]``, else the defaults file's ``name[key]``."""
        value = (vector or {}).get(key, "")
        if not value:
            default = self.defaults.get(name)
            if isinstance(default, dict):
                value = default.get(key, "")
        return value


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    for key, value in attrs.items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def _os(root: etree._Element, v: _Values) -> None:
    os_vec = v.first_vector("OS")
    kernel = v.sub(os_vec, "OS", "KERNEL")
    initrd = v.sub(os_vec, "OS", "INITRD")
    root_dev = v.sub(os_vec, "OS", "ROOT")
    kernel_cmd = v.sub(os_vec, "OS", "KERNEL_CMD")
    bootloader = v.sub(os_vec, "OS", "BOOTLOADER")
    boot = v.sub(os_vec, "OS", "BOOT")

    os_el = _el(root, "os")
    _el(os_el, "type", "hvm")
    if kernel:
        _el(os_el, "kernel", kernel)
        if initrd:
            _el(os_el, "initrd", initrd)
        cmdline = f"root=/dev/{root_dev} " if root_dev else ""
        cmdline += kernel_cmd
        if cmdline:
            _el(os_el, "cmdline", cmdline)
    elif bootloader:
        _el(os_el, "bootloader", bootloader)
    if not boot:
        raise DriverError("No BOOT device defined and no default provided.")
    _el(os_el, "boot", dev=boot)


def _disks(devices: etree._Element, vm: VMRecord) -> int:
    """Write every DISK; return how many DISK attributes there are (the context's index)."""
    disks = vm.template.values("DISK")
    for index, disk in enumerate(disks):
        if not isinstance(disk, dict):
            continue
        kind = disk.get("TYPE", "").upper()
        target = disk.get("TARGET", "")
        readonly = disk.get("READONLY", "").upper() == "YES"
        bus = disk.get("BUS", "")
        path = vm.disk_path(index)
        if kind == "BLOCK":
            disk_el = _el(devices, "disk", type="block", device="disk")
            _el(disk_el, "source", dev=path)
        else:
            disk_el = _el(devices, "disk", type="file", device="disk")
            _el(disk_el, "source", file=path)
        if not target:
            raise DriverError("Wrong target value in DISK.")
        if bus:
            _el(disk_el, "target", dev=target, bus=bus)
        else:
            _el(disk_el, "target", dev=target)
        if readonly:
            _el(disk_el, "readonly")
    return len(disks)


def _context(devices: etree._Element, vm: VMRecord, n_disks: int, warn: WarnFunc) -> None:
    contexts = vm.template.values("CONTEXT")
    if len(contexts) != 1 or not isinstance(contexts[0], dict):
        return
    target = contexts[0].get("TARGET", "")
    if not target:
        warn("Could not find target device to attach context, will continue without it.")
        return
    disk_el = _el(devices, "disk", type="file", device="cdrom")
    _el(disk_el, "source", file=vm.disk_path(n_disks))
    _el(disk_el, "target", dev=target)
    _el(disk_el, "readonly")


def _nics(devices: etree._Element, vm: VMRecord) -> None:
    for nic in vm.template.values("NIC"):
        if not isinstance(nic, dict):
            continue
        bridge = nic.get("BRIDGE", "")
        if bridge:
            nic_el = _el(devices, "interface", type="bridge")
            _el(nic_el, "source", bridge=bridge)
        else:
            nic_el = _el(devices, "interface", type="ethernet")
        if nic.get("MAC"):
            _el(nic_el, "mac", address=nic["MAC"])
        if nic.get("TARGET"):
            _el(nic_el, "target", dev=nic["TARGET"])
        if nic.get("SCRIPT"):
            _el(nic_el, "script", path=nic["SCRIPT"])
        if nic.get("MODEL"):
            _el(nic_el, "model", type=nic["MODEL"])


def _graphics_and_input(devices: etree._Element, v: _Values, warn: WarnFunc) -> None:
    graphics = v.first_vector("GRAPHICS")
    if graphics is not None:
        if graphics.get("TYPE", "") in ("vnc", "VNC"):
            attrs = {"type": "vnc"}
            for key, attr in (
                ("LISTEN", "listen"),
                ("PORT", "port"),
                ("PASSWD", "password"),
                ("KEYMAP", "keymap"),
            ):
                if graphics.get(key):
                    attrs[attr] = graphics[key]
            _el(devices, "graphics", **attrs)
        else:
            warn("Not supported graphics type, ignored.")
    input_vec = v.first_vector("INPUT")
    if input_vec is not None and input_vec.get("TYPE"):
        attrs = {"type": input_vec["TYPE"]}
        if input_vec.get("BUS"):
            attrs["bus"] = input_vec["BUS"]
        _el(devices, "input", **attrs)


def _features(root: etree._Element, v: _Values) -> None:
    features = v.first_vector("FEATURES")
    pae = v.sub(features, "FEATURES", "PAE")
    acpi = v.sub(features, "FEATURES", "ACPI")
    if pae == "yes" or acpi == "yes":
        features_el = _el(root, "features")
        if pae == "yes":
            _el(features_el, "pae")
        if acpi == "yes":
            _el(features_el, "acpi")


def _raw(root: etree._Element, vm: VMRecord) -> None:
    for raw in vm.template.values("RAW"):
        if not isinstance(raw, dict) or raw.get("TYPE", "").lower() != "kvm":
            continue
        data = raw.get("DATA", "")
        try:
            wrapper = etree.fromstring(f"<raw>{data}</raw>", _RAW_PARSER)
        except etree.XMLSyntaxError as exc:
            raise DriverError(f"RAW data is not well-formed XML: {exc}") from exc
        if (wrapper.text or "").strip() or any((c.tail or "").strip() for c in wrapper):
            raise DriverError("RAW data is not well-formed XML: text outside elements")
        for child in list(wrapper):
            child.tail = None
            root.append(child)


def render_domain(
    vm: VMRecord,
    defaults: Mapping[str, Any],
    *,
    domain_type: str = "kvm",
    emulator: str = "/usr/bin/kvm",
    domain_prefix: str = "one-",
    warn: WarnFunc | None = None,
) -> str:
    """The libvirt domain XML of ``vm`` (spec §5.2), TAB-indented, ending with a newline.

    :param defaults: the defaults file (``ctx.defaults``-like: single values as
        text, vectors as dicts) consulted when the template lacks a value.
    :param domain_prefix: the domain is named ``<domain_prefix><vid>`` (1.4: ``one-``).
    :param warn: receives 1.4's vm.log warnings (graphics type, context target).
    :raises DriverError: with 1.4's message when MEMORY, the boot device or a
        DISK target is missing, or when a RAW section is not XML.
    """
    warn = warn or (lambda message: None)
    v = _Values(vm, defaults)
    try:
        root = etree.Element("domain", type=domain_type)
        _el(root, "name", f"{domain_prefix}{vm.vid}")
        vcpu = v.single("VCPU")
        if vcpu:
            _el(root, "vcpu", vcpu)
        memory = v.single("MEMORY")
        if not memory:
            raise DriverError("No MEMORY defined and no default provided.")
        _el(root, "memory", str(cnum.wrap_int32(cnum.atoi(memory) * 1024)))
        _os(root, v)
        devices = _el(root, "devices")
        if emulator:
            _el(devices, "emulator", emulator)
        n_disks = _disks(devices, vm)
        _context(devices, vm, n_disks, warn)
        _nics(devices, vm)
        _graphics_and_input(devices, v, warn)
        _features(root, v)
        _raw(root, vm)
    except ValueError as exc:  # lxml refuses control characters and the like
        raise DriverError(f"Cannot write the deployment file: {exc}") from exc
    etree.indent(root, space="\t")
    return etree.tostring(root, encoding="unicode") + "\n"
