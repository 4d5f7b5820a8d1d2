"""The ``ec2`` information driver: capacity from configured instance limits (spec §6.3).

Nothing is asked of EC2, as in 1.4: an EC2 "host" offers the capacity of the
instances the site may run there, set in the ``IM_MAD`` section (1.4 read
them from ``im_ec2.conf``; the shipped values are the defaults)::

    IM_MAD = [ name = "im_ec2", executable = "one_im_ec2",
               small_instances = "5",          # m1.small:  1.7 GB, 1 CPU
               large_instances = "0",          # m1.large:  7.5 GB, 4 CPU
               extralarge_instances = "0" ]    # m1.xlarge: 15 GB,  8 CPU

With S, L and X those numbers (empty counts as 0)::

    TOTALMEMORY = FREEMEMORY = 1048576 × (1.7·S + 7.5·L + 15·X)   # KB, a float: 8912896.0
    TOTALCPU    = FREECPU    = 100·S + 400·L + 800·X

plus ``HOSTNAME=<host>``, ``HYPERVISOR=ec2`` and ``CPUSPEED=1000``. The core
keeps the host's used share from the VMs it placed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from one_core.api import DriverError, hookimpl

if TYPE_CHECKING:
    from one_core.api import DriverContext

INSTANCE_TYPES: dict[str, tuple[float, int]] = {
    "SMALL_INSTANCES": (1.7, 100),
    "LARGE_INSTANCES": (7.5, 400),
    "EXTRALARGE_INSTANCES": (15.0, 800),
}
"""Limit key → (GB of memory, CPU percent) of one instance (1.4's ``one_im_ec2.rb``)."""

SHIPPED = {"SMALL_INSTANCES": "5", "LARGE_INSTANCES": "", "EXTRALARGE_INSTANCES": ""}
"""1.4's ``im_ec2.conf``."""


def limits(config: Mapping[str, Any]) -> dict[str, int]:
    """The instance limits of a driver section (shipped values where a key is absent)."""
    section = {str(k).upper(): str(v).strip() for k, v in config.items()}
    found = {}
    for key in INSTANCE_TYPES:
        text = section.get(key, SHIPPED[key])
        try:
            found[key] = int(text) if text else 0
        except ValueError:
            raise DriverError(f"EC2 IM setting {key} is not a whole number: {text!r}") from None
        if found[key] < 0:
            raise DriverError(f"EC2 IM setting {key} is negative: {text!r}")
    return found


def capacity(counts: dict[str, int]) -> tuple[float, int]:
    """(memory in KB as 1.4's float, CPU percent) of the configured instances."""
    gigabytes = sum(INSTANCE_TYPES[key][0] * n for key, n in counts.items())
    cpu = sum(INSTANCE_TYPES[key][1] * n for key, n in counts.items())
    return 1048576 * gigabytes, cpu


@hookimpl
def im_monitor(ctx: DriverContext, hid: int, host: str) -> dict[str, str | int | float]:
    """The configured capacity of ``host`` (see the module)."""
    memory, cpu = capacity(limits(ctx.config))
    return {
        "HOSTNAME": host,
        "HYPERVISOR": "ec2",
        "TOTALMEMORY": memory,
        "TOTALCPU": cpu,
        "CPUSPEED": 1000,
        "FREEMEMORY": memory,
        "FREECPU": cpu,
    }
