"""The probe scripts shipped in this package, and the parsing of their output."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

PROBES: tuple[str, ...] = ("architecture.sh", "name.sh", "cpu.sh", "kvm.sh")
"""The probes, in the order they run (1.4's im_kvm.conf order)."""

CHECKSUM_FILE = ".checksum"
"""Name of the file, in the remote directory, holding the uploaded bundle's checksum."""

_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")


@dataclass(frozen=True)
class Bundle:
    """The probe scripts: ``{name: content}`` and their combined checksum."""

    scripts: dict[str, bytes]
    checksum: str


def bundle() -> Bundle:
    """Read the shipped probes (package data ``one_im_kvm/probes/*.sh``)."""
    folder = resources.files("one_im_kvm") / "probes"
    scripts = {name: (folder / name).read_bytes() for name in PROBES}
    digest = hashlib.sha256()
    for name in PROBES:
        digest.update(name.encode() + b"\0" + scripts[name] + b"\0")
    return Bundle(scripts, digest.hexdigest())


def _value(text: str) -> str | int | float:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    return text


def parse(output: str) -> dict[str, str | int | float]:
    """``NAME=VALUE`` lines → ``{NAME: value}``.

    Lines are stripped; empty lines and lines without ``=`` are ignored.
    Names are upper-cased. A value in double quotes loses them (as 1.4's
    template parser did with ``MODELNAME="..."``); integers and decimals
    become numbers, anything else stays text. A later line wins.
    """
    result: dict[str, str | int | float] = {}
    for raw in output.splitlines():
        line = raw.strip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        result[name.upper()] = _value(value.strip())
    return result
