"""The OpenNebula template of ``POST /compute`` (spec cloud-apis §5.5, §5.7).

1.4's ERB templates looped over the parsed COMPUTE. Ours keep the loops in
Python: this module turns a validated request into the lines ``NAME``,
``DISK``, ``NIC`` and ``INSTANCE_TYPE``, and the instance-type file places
them with ``<%= occi[:name] %>``, ``<%= occi[:disks] %>``,
``<%= occi[:nics] %>`` and ``<%= occi[:instance_type] %>`` (also available:
``<%= @config[:key] %>``). For ordinary values the text is 1.4's.

Every client value is written as a plain token when it is one and quoted
(``"`` escaped as ``\\"``, the only escape of the template language)
otherwise, so no request value can add attributes (§7 #33). Values the
language cannot carry (control characters, a trailing backslash, which
would escape the closing quote) raise :class:`UnsafeValue`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from one_cloudkit.erb import render_file

_PLAIN = re.compile(r"^[A-Za-z0-9_./:@+-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeValue(ValueError):
    """A request value the template language cannot carry."""

    def __init__(self, text: str):
        super().__init__(f"Invalid value in the OCCI XML: {text!r}")
        self.text = text


def quoted(text: object) -> str:
    """``"text"`` with ``"`` escaped; :class:`UnsafeValue` if it cannot be carried."""
    s = str(text)
    if not s or _CONTROL.search(s) or s.endswith("\\"):
        raise UnsafeValue(s)
    return '"' + s.replace('"', '\\"') + '"'


def value(text: object) -> str:
    """``text`` as a template value: bare if a plain token, else quoted."""
    s = str(text)
    if _PLAIN.match(s):
        return s
    return quoted(s)


@dataclass
class Disk:
    """One STORAGE child: ``kind`` is ``disk``, ``swap`` or ``fs``."""

    kind: str
    dev: str | None = None
    size: str | None = None
    format: str | None = None
    image_id: int | None = None
    source: str | None = None


@dataclass
class Nic:
    network_id: int
    network_name: str
    ip: str | None = None


@dataclass
class ComputeRequest:
    """A validated ``POST /compute`` body."""

    name: str | None
    instance_type: str
    disks: list[Disk] = field(default_factory=list)
    nics: list[Nic] = field(default_factory=list)


_DISK_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "swap": (("size", "size"), ("target", "dev")),
    "fs": (("target", "dev"), ("size", "size")),
    "disk": (("target", "dev"), ("source", "source")),
}
"""Per DISK type, the keys 1.4 wrote when given, in its order, with the :class:`Disk` field of each."""


def disk_line(disk: Disk, fs_format: str) -> str:
    """1.4's DISK vector for one STORAGE child."""
    kind = disk.kind if disk.kind in ("swap", "fs") else "disk"
    parts = [f'type = "{kind}"']
    for key, field_name in _DISK_KEYS[kind]:
        given = getattr(disk, field_name)
        if given:
            parts.append(f"{key}={value(given)}")
    if kind == "fs":
        parts.append(f"format={value(disk.format or fs_format or 'ext3')}")
    elif kind == "disk" and disk.image_id is not None:
        parts.append(f"image_id={disk.image_id}")
    return "DISK = [ " + ", ".join(parts) + " ]"


def nic_line(nic: Nic) -> str:
    parts = []
    if nic.ip:
        parts.append(f"IP={value(nic.ip)}")
    parts.append(f"NETWORK={quoted(nic.network_name)}")
    parts.append(f"NETWORK_ID={nic.network_id}")
    return "NIC = [ " + ", ".join(parts) + " ]"


def variables(request: ComputeRequest, fs_format: str) -> dict[str, Any]:
    """The ``occi`` mapping the instance-type templates see."""
    return {
        "name": f"NAME   = {quoted(request.name)}" if request.name else "",
        "disks": "\n".join(disk_line(d, fs_format) for d in request.disks),
        "nics": "\n".join(nic_line(n) for n in request.nics),
        "instance_type": f"INSTANCE_TYPE = {value(request.instance_type)}",
    }


def render(template: Path, request: ComputeRequest, fs_format: str, config: dict[str, Any]) -> str:
    """The OpenNebula template text for ``request`` with the type's ``template`` file."""
    return render_file(
        template, {"occi": variables(request, fs_format), "@config": config, "vm_info": {}}
    )
