"""``virsh`` command lines and the reading of their output (spec §5.5, 1.4's ``one_vmm_kvm.rb``).

Every command is an argument list (``[virsh, "-c", uri, action, ...]``), never a
shell string: domain names, paths and URIs reach virsh as single arguments.
"""

from __future__ import annotations

import re

from one_vmm_kvm.settings import KvmSettings

_CREATED = re.compile(r"Domain\s+'?(?P<name>[^'\s]+)'?\s+created from")
_NOT_FOUND = re.compile(r"failed to get domain|Domain not found|no domain with matching", re.I)
_NOT_RUNNING = re.compile(r"domain is not running", re.I)

STATES: dict[str, str] = {
    "running": "a",
    "idle": "a",
    "blocked": "a",
    "in shutdown": "a",
    "shutdown": "a",
    "dying": "a",
    "paused": "p",
    "crashed": "e",
}
"""``virsh dominfo`` ``State:`` → poll STATE (1.4's map, plus today's spellings
``idle`` = blocked and ``in shutdown`` = shutdown). Anything else is ``-``."""


def command(settings: KvmSettings, *args: str) -> list[str]:
    """``virsh -c <uri> ARGS`` as an argument list."""
    return [settings.virsh, "-c", settings.libvirt_uri, *args]


def migrate_uri(settings: KvmSettings, dest_host: str) -> str:
    """The destination libvirt URI of a live migration (``{host}`` replaced)."""
    return settings.migrate_uri.replace("{host}", dest_host)


def created_domain(stdout: str) -> str | None:
    """The domain name in ``virsh create`` output (``Domain 'one-5' created from …``)."""
    match = _CREATED.search(stdout)
    return match.group("name") if match else None


def is_not_found(stderr: str) -> bool:
    """Whether virsh failed because the domain does not exist."""
    return bool(_NOT_FOUND.search(stderr))


def is_not_running(stderr: str) -> bool:
    """Whether virsh failed because the domain exists but is not running (destroy)."""
    return bool(_NOT_RUNNING.search(stderr))


def parse_dominfo(stdout: str) -> dict[str, str]:
    """Poll attributes from ``virsh dominfo`` output: ``USEDMEMORY`` (KB) and ``STATE``.

    As 1.4: each line is split at its first ``:``; ``Used memory`` gives the
    integer part of its value, ``State`` maps through :data:`STATES`. No
    USEDCPU, NETTX or NETRX (1.4's KVM driver reported none).
    """
    info: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Used memory":
            digits = re.match(r"\d+", value)
            if digits:
                info["USEDMEMORY"] = digits.group(0)
        elif key == "State":
            info["STATE"] = STATES.get(value.lower(), "-")
    return info
