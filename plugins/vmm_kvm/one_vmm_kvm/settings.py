"""The KVM driver's settings and defaults.

Settings come from the driver's ``VM_MAD`` section of oned.conf, else from a
single attribute of the same name in its defaults file, else from the values
below (1.4's ``vmm_kvmrc`` and ``LibVirtDriver.cc``)::

    VM_MAD = [ name = "vmm_kvm", executable = "one_vmm_kvm", default = "vmm_kvm/vmm_kvm.conf",
               type = "kvm",
               libvirt_uri = "qemu:///system",      # 1.4: LIBVIRT_DEFAULT_URI in vmm_kvmrc
               domain_type = "kvm",                  # "qemu" for TCG hosts (no usable /dev/kvm)
               emulator = "/usr/bin/kvm",            # "none" omits <emulator>: libvirt chooses
               shutdown_timeout = "300",             # seconds; 0 waits forever as 1.4 did
               shutdown_poll = "2",                  # seconds between virsh dominfo checks
               migrate_uri = "qemu+ssh://{host}/system",
               virsh = "virsh",
               command_timeout = "0",                # seconds per virsh command, 0 = no limit
               domain_prefix = "one-",               # domain name = prefix + VM id (1.4: one-)
               ssh_user = "oneadmin", ssh_port = "22", ssh_key = "~/.ssh/id_rsa" ]

``DOMAIN_PREFIX`` names the libvirt domains (``<prefix><vid>``): two oned (or a
test run and anything else) sharing one libvirtd keep apart with different
prefixes. It must start with a letter and hold only letters, digits and
``_ . + -`` (a name of digits would read as a domain id; ``/`` is refused by
libvirt); anything else stops the driver at start-up.

The defaults file (``DEFAULT``) holds template attributes used when a VM
template lacks them (spec §5.1). Without one, the driver uses the file shipped
in this package, ``vmm_kvm.conf`` (``OS=[BOOT=hd]``, ``FEATURES=[PAE=no,
ACPI=yes]``, as 1.4 shipped).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from one_driverkit.settings import DriverSettings, defaults_in_force, load_defaults_file

from one_core.api import DriverError

if TYPE_CHECKING:
    from one_core.api import DriverContext

PACKAGED_DEFAULTS = os.path.join(os.path.dirname(__file__), "vmm_kvm.conf")

DEFAULTS: dict[str, str] = {
    "LIBVIRT_URI": "qemu:///system",
    "DOMAIN_TYPE": "kvm",
    "EMULATOR": "/usr/bin/kvm",
    "SHUTDOWN_TIMEOUT": "300",
    "SHUTDOWN_POLL": "2",
    "MIGRATE_URI": "qemu+ssh://{host}/system",
    "VIRSH": "virsh",
    "COMMAND_TIMEOUT": "0",
    "DOMAIN_PREFIX": "one-",
}

DOMAIN_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_.+-]{0,63}")
"""A valid ``DOMAIN_PREFIX``: a letter first, then at most 63 of ``[A-Za-z0-9_.+-]``."""


packaged_defaults = functools.partial(load_defaults_file, PACKAGED_DEFAULTS)
"""The shipped ``vmm_kvm.conf`` as a defaults dict (first value of each name)."""


defaults_of = functools.partial(defaults_in_force, packaged=PACKAGED_DEFAULTS)
"""The defaults in force: the configured file's, else the packaged one's. (``defaults_of(ctx)``)"""


def _domain_prefix(value: str) -> str:
    """The validated domain-name prefix (a :class:`DriverError` names a bad one)."""
    if not DOMAIN_PREFIX.fullmatch(value):
        raise DriverError(
            f"KVM driver setting DOMAIN_PREFIX is not a valid domain name prefix: {value!r} "
            "(a letter, then letters, digits, '_', '.', '+' or '-')"
        )
    return value


def _emulator(value: str) -> str:
    """The emulator path; ``none`` (or 1.4's literal ``""``) means no ``<emulator>`` element."""
    return "" if value.lower() in ("", "none", '""', "''") else value


@dataclass(frozen=True)
class KvmSettings:
    """The effective settings of one driver instance (see the module docstring)."""

    libvirt_uri: str = DEFAULTS["LIBVIRT_URI"]
    domain_type: str = DEFAULTS["DOMAIN_TYPE"]
    emulator: str = DEFAULTS["EMULATOR"]
    shutdown_timeout: float = float(DEFAULTS["SHUTDOWN_TIMEOUT"])
    shutdown_poll: float = float(DEFAULTS["SHUTDOWN_POLL"])
    migrate_uri: str = DEFAULTS["MIGRATE_URI"]
    virsh: str = DEFAULTS["VIRSH"]
    command_timeout: float | None = None
    domain_prefix: str = DEFAULTS["DOMAIN_PREFIX"]

    @classmethod
    def from_context(cls, ctx: DriverContext) -> KvmSettings:
        """Read the section, then the defaults file, then :data:`DEFAULTS`."""
        s = DriverSettings(ctx, DEFAULTS, PACKAGED_DEFAULTS, label="KVM")
        return cls(
            # LIBVIRT_DEFAULT_URI: 1.4's variable name
            libvirt_uri=s.get("LIBVIRT_URI", "LIBVIRT_DEFAULT_URI") or DEFAULTS["LIBVIRT_URI"],
            domain_type=s.get("DOMAIN_TYPE") or DEFAULTS["DOMAIN_TYPE"],
            emulator=_emulator(s.get("EMULATOR")),
            shutdown_timeout=s.number("SHUTDOWN_TIMEOUT", blank=0.0),
            shutdown_poll=s.number("SHUTDOWN_POLL", minimum=0.1),
            migrate_uri=s.get("MIGRATE_URI") or DEFAULTS["MIGRATE_URI"],
            virsh=s.get("VIRSH") or DEFAULTS["VIRSH"],
            command_timeout=s.limit("COMMAND_TIMEOUT"),
            domain_prefix=_domain_prefix(s.get("DOMAIN_PREFIX")),
        )
