"""Reading what ``xm``/``xl`` print, and what the deployment file tells the deploy.

The command lines themselves are built by
:meth:`one_vmm_xen.settings.XenSettings.tool_command` as argument lists.
"""

from __future__ import annotations

import re

_STARTED = re.compile(r"Started domain\s+'?(?P<name>[^'\s]+)'?")
_NAME = re.compile(r"^name\s*=\s*'(?P<name>[^'\\]+)'\s*$", re.M)
_CREDITS = re.compile(r"^#O CPU_CREDITS\s*=\s*(?P<credits>-?[\d.]+)\s*$", re.M)
_NOT_FOUND = re.compile(
    r"does not exist|invalid domain identifier|not a valid domain|no such domain", re.I
)


def started_domain(stdout: str) -> str | None:
    """The domain name in ``xm create`` output (``Started domain one-5``)."""
    match = _STARTED.search(stdout)
    return match.group("name") if match else None


def config_name(config: str) -> str | None:
    """The ``name = '...'`` of a deployment file (a plain name only, as this driver writes)."""
    match = _NAME.search(config)
    return match.group("name") if match else None


def config_credits(config: str) -> int | None:
    """The ``#O CPU_CREDITS = N`` comment of a deployment file (1.4's scheduler weight)."""
    match = _CREDITS.search(config)
    if not match:
        return None
    try:
        return int(float(match.group("credits")))
    except ValueError:
        return None


def is_not_found(stderr: str) -> bool:
    """Whether xm/xl failed because the domain does not exist."""
    return bool(_NOT_FOUND.search(stderr))


def list_state(stdout: str, name: str) -> str | None:
    """The State column of ``name`` in ``xm list``/``xl list`` output, ``None`` if absent.

    ``Name  ID  Mem VCPUs  State  Time(s)``: the state is the fifth column.
    """
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[0] == name:
            return fields[4]
    return None
