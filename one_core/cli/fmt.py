"""Value formatting shared by the tools: state names, short states, times (spec §6.5, §6.6).

The 1.4 tools print raw numbers for memory and CPU (no unit conversion), so there is nothing
to format there; times and states are the only conversions.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from one_core.vm.states import HostState, LcmState, VmState

VM_STATES = tuple(s.name for s in VmState)
LCM_STATES = tuple(s.name for s in LcmState)
HOST_STATES = tuple(s.name for s in HostState)

VM_SHORT = ("init", "pend", "hold", "actv", "stop", "susp", "done", "fail")
LCM_SHORT = (
    "", "prol", "boot", "runn", "migr", "save", "save", "save", "migr", "prol", "epil", "epil",
    "shut", "shut", "fail", "dele", "unkn",
)  # fmt: skip
HOST_SHORT = ("on", "on", "on", "err", "off")
REASON_SHORT = ("none", "erro", "stop", "user", "canc")


def to_i(value: str | None) -> int:
    """Ruby's ``String#to_i``: leading integer, 0 when there is none."""
    if not value:
        return 0
    value = value.strip()
    sign, digits = 1, ""
    if value[:1] in "+-":
        sign = -1 if value[0] == "-" else 1
        value = value[1:]
    for char in value:
        if not char.isdigit():
            break
        digits += char
    return sign * int(digits) if digits else 0


def pick(names: tuple[str, ...], index: int) -> str:
    """``names[index]`` or ``""`` out of range (Ruby arrays return nil there)."""
    return names[index] if 0 <= index < len(names) else ""


def vm_short_state(state: str, lcm_state: str) -> str:
    """``onevm list`` STAT: the VM state, or the LCM state for ACTIVE VMs."""
    vm_state = to_i(state)
    if vm_state == 3:
        return pick(LCM_SHORT, to_i(lcm_state))
    return pick(VM_SHORT, vm_state)


def host_short_state(state: str) -> str:
    """``onehost list`` STAT."""
    return pick(HOST_SHORT, to_i(state))


def now() -> int:
    """Current epoch seconds (``ONE_CLI_NOW`` overrides it, for reproducible output)."""
    fixed = os.environ.get("ONE_CLI_NOW", "")
    return int(fixed) if fixed.lstrip("-").isdigit() else int(time.time())


def running_time(stime: str, etime: str) -> str:
    """``str_running_time``: ``"%02d %02d:%02d:%02d"`` of (ETIME or now) - STIME.

    The value is taken as a UTC date after the epoch, so days wrap yearly (1.4 behaviour).
    """
    end = now() if to_i(etime) == 0 else to_i(etime)
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=end - to_i(stime))
    yday = moment.timetuple().tm_yday
    return f"{yday - 1:02d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"


def local_time(epoch: str | int) -> str:
    """``Time.at(t).strftime("%m/%d %H:%M:%S")`` in local time."""
    seconds = to_i(epoch) if isinstance(epoch, str) else epoch
    return time.strftime("%m/%d %H:%M:%S", time.localtime(seconds))
