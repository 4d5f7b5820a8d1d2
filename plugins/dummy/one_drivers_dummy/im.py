"""``dummy`` information driver: reports a fake host.

Every host reports the attributes of :data:`DEFAULT_HOST` (what 1.4's dummy
IM reported), overridden by the
same names in the ``IM_MAD`` section, then by the file
``$VAR/dummy_hosts/<host>`` (template syntax, ``TOTALCPU = 200`` ...), which
lets tests give hosts different figures. ``FAIL = "yes"`` in that file makes
the host fail to monitor.
"""

from __future__ import annotations

import os

from one_core.api import DriverContext, DriverError, hookimpl
from one_drivers_dummy.control import act

DEFAULT_HOST: dict[str, str] = {
    "HYPERVISOR": "dummy",
    "CPUSPEED": "2000",
    "TOTALCPU": "800",
    "USEDCPU": "0",
    "FREECPU": "800",
    "TOTALMEMORY": "16777216",
    "USEDMEMORY": "0",
    "FREEMEMORY": "16777216",
    "NETTX": "0",
    "NETRX": "0",
}

_SECTION_KEYS = {"NAME", "DRIVER", "EXECUTABLE", "ARGUMENTS", "DEFAULT", "TYPE", "FAIL", "DELAY"}


def host_file(ctx: DriverContext, host: str) -> str:
    return os.path.join(ctx.var_dir, "dummy_hosts", host)


@hookimpl
def im_monitor(ctx: DriverContext, hid: int, host: str) -> dict[str, str]:
    act(ctx, "monitor")
    info = dict(DEFAULT_HOST)
    info.update(
        {k: str(v) for k, v in ctx.config.items() if k not in _SECTION_KEYS and isinstance(v, str)}
    )
    info["HOSTNAME"] = host
    path = host_file(ctx, host)
    if os.path.exists(path):
        from one_core.api import Template

        extra = Template.parse_file(path, replace_mode=True).single_values()
        if extra.pop("FAIL", "").lower() == "yes":
            raise DriverError(f"dummy: cannot monitor {host}")
        info.update(extra)
    return info
