"""The Xen deployment file: an ``xm``/``xl`` domain configuration (spec §5.3, 1.4's ``XenDriver.cc``).

Both toolstacks read the same subset written here: ``name = 'value'``
assignments and lists of quoted strings. xm executes the file as Python, xl
parses it with libxlu; every value taken from a template goes through
:func:`quote`, whose escapes (``\\\\ \\' \\" \\n \\r \\t``) mean the same in
both, so no value can end its string early or add a line. Other control
characters are refused. Values that become items of a comma-separated
device specification (disk targets, vif and vfb items) may not contain a
comma, which would add items of their own.

``RAW = [ TYPE = "xen", DATA = "..." ]`` is appended verbatim, as in 1.4: it
is the template owner's way to write any configuration line, so it is as
trusted as the rest of the VM template (with xm that is Python run by xm).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from one_core.api import DriverError, cnum

if TYPE_CHECKING:
    from one_core.api import VMRecord

_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}

DEFAULT_DISK_DRIVER = "tap:aio:"
"""1.4's prefix of file-backed disks (``phy:`` for ``TYPE = block``)."""

CONTEXT_WARNING = "Could not find target device to attach context, will continue without it."
GRAPHICS_WARNING = "Not supported graphics type, ignored."


def quote(value: str, mark: str = "'") -> str:
    """``value`` as a quoted string literal of the xm/xl configuration syntax."""
    out = [mark]
    for ch in value:
        escaped = _ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            raise DriverError(f"Invalid control character {ch!r} in value {value!r}")
        else:
            out.append(ch)
    out.append(mark)
    return "".join(out)


def _item(value: str, what: str) -> str:
    """A value that is one item of a comma-separated device specification."""
    if "," in value:
        raise DriverError(f"Wrong value in {what}: {value!r} contains a comma")
    return value


def _vector_value(vector: Mapping[str, str] | None, key: str) -> str:
    if not vector:
        return ""
    value = vector.get(key, "")
    return value if isinstance(value, str) else ""


class _Lookup:
    """Template values with the defaults file as fallback (1.4's ``get_default``)."""

    def __init__(self, vm: VMRecord, defaults: Mapping[str, Any]):
        self.template = vm.template
        self.defaults = {str(k).upper(): v for k, v in defaults.items()}

    def default(self, name: str, sub: str | None = None) -> str:
        value = self.defaults.get(name)
        if sub is None:
            return value.strip() if isinstance(value, str) else ""
        if isinstance(value, Mapping):
            found = value.get(sub, "")
            return found.strip() if isinstance(found, str) else ""
        return ""

    def single(self, name: str) -> str:
        return self.template.get(name) or self.default(name)

    def os(self, sub: str) -> str:
        return _vector_value(self.template.vector("OS"), sub) or self.default("OS", sub)


def _disk_driver(driver: str) -> str:
    return driver if driver.endswith(":") else driver + ":"


def _disk_lines(vm: VMRecord, look: _Lookup, warn: Callable[[str], None]) -> list[str]:
    default_driver = look.default("DISK", "DRIVER")
    default_driver = _disk_driver(default_driver) if default_driver else DEFAULT_DISK_DRIVER
    disks = vm.template.vectors("DISK")
    lines = ["disk = ["]
    for index, disk in enumerate(disks):
        target = _vector_value(disk, "TARGET")
        if not target or "," in target:
            raise DriverError("Wrong target value in DISK.")
        driver = _vector_value(disk, "DRIVER")
        if driver:
            prefix = _disk_driver(driver)
        elif _vector_value(disk, "TYPE").upper() == "BLOCK":
            prefix = "phy:"
        else:
            prefix = default_driver
        mode = "r" if _vector_value(disk, "READONLY").upper() == "YES" else "w"
        spec = f"{_item(prefix, 'DISK/DRIVER')}{vm.disk_path(index)},{target},{mode}"
        lines.append(f"    {quote(spec)},")
    contexts = vm.template.vectors("CONTEXT")
    if len(contexts) == 1:
        target = _vector_value(contexts[0], "TARGET")
        if target:
            spec = f"{default_driver}{vm.disk_path(len(disks))},{_item(target, 'CONTEXT')},r"
            lines.append(f"    {quote(spec)},")
        else:
            warn(CONTEXT_WARNING)
    lines.append("]")
    return lines


def _vif_lines(vm: VMRecord) -> list[str]:
    """One quoted item list per NIC: ``mac=M,bridge=B`` (then ``script=``, ``model=``).

    As 1.4, a bridge without a MAC is written ``' bridge=B'`` with a leading
    space (quirk 24): xm and xl both skip it.
    """
    lines = ["vif = ["]
    for nic in vm.template.vectors("NIC"):
        text = ""
        mac = _vector_value(nic, "MAC")
        if mac:
            text = f"mac={_item(mac, 'NIC/MAC')}"
        bridge = _vector_value(nic, "BRIDGE")
        if bridge:
            text += ("," if mac else " ") + f"bridge={_item(bridge, 'NIC/BRIDGE')}"
        for key, name in (("SCRIPT", "script"), ("MODEL", "model")):
            value = _vector_value(nic, key)
            if value:
                text += ("," if text else "") + f"{name}={_item(value, f'NIC/{key}')}"
        lines.append(f"    {quote(text)},")
    lines.append("]")
    return lines


def vnc_display(port: str) -> str:
    """The VNC display of ``GRAPHICS/PORT``: ``port - 5900`` for a TCP port, else as given."""
    try:
        number = int(port)
    except ValueError:
        raise DriverError(f"Wrong PORT value in GRAPHICS: {port!r}") from None
    if number < 0:
        raise DriverError(f"Wrong PORT value in GRAPHICS: {port!r}")
    return str(number - 5900 if number >= 5900 else number)


def _vfb_line(vm: VMRecord, warn: Callable[[str], None]) -> list[str]:
    graphics = vm.template.vectors("GRAPHICS")
    if not graphics:
        return []
    first = graphics[0]
    if _vector_value(first, "TYPE") not in ("vnc", "VNC"):
        warn(GRAPHICS_WARNING)
        return []
    items = ["type=vnc"]
    listen = _vector_value(first, "LISTEN")
    if listen:
        items.append(f"vnclisten={_item(listen, 'GRAPHICS/LISTEN')}")
    port = _vector_value(first, "PORT")
    if port:
        items += ["vncunused=0", f"vncdisplay={vnc_display(port)}"]
    for key, name in (("PASSWD", "vncpasswd"), ("KEYMAP", "keymap")):
        value = _vector_value(first, key)
        if value:
            items.append(f"{name}={_item(value, f'GRAPHICS/{key}')}")
    return [f"vfb = [{quote(','.join(items))}]"]


def _raw_lines(vm: VMRecord) -> list[str]:
    return [
        _vector_value(raw, "DATA")
        for raw in vm.template.vectors("RAW")
        if _vector_value(raw, "TYPE").lower() == "xen"
    ]


def cpu_credits(vm: VMRecord, defaults: Mapping[str, Any]) -> int:
    """``ceil(CPU × CREDIT)``: CPU of the template (1.0 if unset), CREDIT of the defaults (1.0)."""
    look = _Lookup(vm, defaults)
    credit = look.default("CREDIT")
    cpu = vm.template.get("CPU")
    base = cnum.stream_float(credit) if credit else 1.0
    units = cnum.stream_float(cpu) if cpu else 1.0
    return math.ceil(units * base)


def render_config(
    vm: VMRecord,
    defaults: Mapping[str, Any],
    *,
    warn: Callable[[str], None] = lambda message: None,
) -> str:
    """The xm/xl configuration of ``vm`` (spec §5.3); ``warn`` receives vm.log warnings.

    Raises :class:`DriverError` with 1.4's message when MEMORY, the kernel or
    bootloader, or a disk TARGET is missing, and when a value cannot be
    written safely (see the module docstring).
    """
    look = _Lookup(vm, defaults)
    lines = [f"name = 'one-{int(vm.vid)}'", f"#O CPU_CREDITS = {cpu_credits(vm, defaults)}"]
    memory = look.single("MEMORY")
    if not memory:
        raise DriverError("No memory defined and no default provided.")
    lines.append(f"memory  = {quote(memory)}")
    vcpu = look.single("VCPU")
    if vcpu:
        lines.append(f"vcpus  = {quote(vcpu)}")
    kernel = look.os("KERNEL")
    if kernel:
        lines.append(f"kernel = {quote(kernel)}")
        for sub, key, prefix in (
            ("INITRD", "ramdisk", ""),
            ("ROOT", "root", "/dev/"),
            ("KERNEL_CMD", "extra", ""),
        ):
            value = look.os(sub)
            if value:
                lines.append(f"{key} = {quote(prefix + value)}")
    else:
        bootloader = look.os("BOOTLOADER")
        if not bootloader:
            raise DriverError("No kernel or bootloader defined and no default provided.")
        lines.append(f"bootloader = {quote(bootloader, chr(34))}")
    lines += _disk_lines(vm, look, warn)
    lines += _vif_lines(vm)
    lines += _vfb_line(vm, warn)
    lines += _raw_lines(vm)
    return "\n".join(lines) + "\n"
