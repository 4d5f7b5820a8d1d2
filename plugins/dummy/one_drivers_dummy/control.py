"""Delays and failures, injectable per driver section or per VM.

Action names: ``monitor`` (IM); ``deploy``, ``shutdown``, ``cancel``,
``save``, ``restore``, ``migrate``, ``poll`` (VMM); ``clone``, ``ln``,
``mkswap``, ``mkimage``, ``mv``, ``delete``, ``context`` (TM).

* Driver section (oned.conf): ``FAIL = "deploy,save"`` makes those actions
  fail for every VM; ``DELAY = "0.5"`` waits that many seconds before each
  action; ``DELAY_DEPLOY = "2"`` for one action only.
* Per VM, files in the VM's directory ``$VAR/<vid>/`` (tests write them):
  ``dummy_fail`` lists actions that fail (commas or newlines),
  ``dummy_delay`` holds a delay in seconds for every action of the VM, and
  ``dummy_delay_<action>`` (``dummy_delay_mv``) one for that action only.
* Per VM, in the template (seen by the VMM from the deployment file):
  ``DUMMY_FAIL = "shutdown"``.
* ``RECORD = "/path/actions.log"`` (driver section): every action appends a line
  ``<unix time> <pid> <action> <vid> <host> <note>`` when it starts (``O_APPEND``:
  several oned may share the file, e.g. the HA tests, docs/ha.md); the VMM adds
  ``deployed <vid> <host> new|existing`` once a deploy has made its domain.
* Random faults (driver section, for soak runs: ``bench/bench_soak.py``):
  ``FAIL_RATE = "0.05"`` makes each action fail with that probability,
  ``HANG_RATE = "0.02"`` makes it sleep ``HANG`` seconds (default 3600) first;
  ``FAIL_RATE_<ACTION>`` / ``HANG_RATE_<ACTION>`` set one action's rate
  (``FAIL_RATE_POLL = "0"`` spares polls).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterable

from one_core.api import DriverContext, DriverError


def _names(text: str) -> set[str]:
    return {part.strip().lower() for part in re.split(r"[,\s]+", text) if part.strip()}


# The drivers' files are read with os.open/os.read (and written with the core's
# write_local): a buffered open() adds an fstat, an isatty ioctl and lseeks, each a
# system call that hands the GIL to another of oned's threads when they compete (issue 19).

_READ_SIZE = 65536


def read_file(path: str) -> str | None:
    """The text of file ``path``, or None when it cannot be read (missing: one ``openat``)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        chunks = [os.read(fd, _READ_SIZE)]
        while len(chunks[-1]) == _READ_SIZE:  # a short read of a regular file is its end
            chunks.append(os.read(fd, _READ_SIZE))
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8")


def _read(path: str) -> str:
    return read_file(path) or ""


def vm_file(ctx: DriverContext, vid: int, name: str) -> str:
    return os.path.join(ctx.var_dir, str(vid), name)


def failing_actions(ctx: DriverContext, vid: int | None) -> set[str]:
    actions = _names(str(ctx.config.get("FAIL", "")))
    if vid is not None:
        actions |= _names(_read(vm_file(ctx, vid, "dummy_fail")))
        actions |= ctx.state.get("template_fail", {}).get(vid, set())
    return actions


def delay_for(ctx: DriverContext, action: str, vid: int | None) -> float:
    text = ctx.config.get(f"DELAY_{action.upper()}") or ctx.config.get("DELAY") or "0"
    if vid is not None:
        text = (
            _read(vm_file(ctx, vid, f"dummy_delay_{action}")).strip()
            or _read(vm_file(ctx, vid, "dummy_delay")).strip()
            or text
        )
    try:
        return max(0.0, float(text))
    except ValueError:
        return 0.0


def rate_for(ctx: DriverContext, knob: str, action: str) -> float:
    """Probability ``knob`` (``FAIL_RATE``, ``HANG_RATE``) sets for ``action`` (0 if unset)."""
    text = ctx.config.get(f"{knob}_{action.upper()}") or ctx.config.get(knob) or "0"
    try:
        return min(1.0, max(0.0, float(text)))
    except ValueError:
        return 0.0


def _chance(rate: float) -> bool:
    return rate > 0 and random.random() < rate  # noqa: S311 - fault injection, not crypto


def recording(ctx: DriverContext) -> bool:
    """The section names a ``RECORD`` action log."""
    return bool(ctx.config.get("RECORD"))


def record(
    ctx: DriverContext, action: str, vid: int | None, host: str = "", note: str = ""
) -> None:
    """Append one line to the ``RECORD`` action log, if the section names one."""
    if not recording(ctx):
        return
    path = str(ctx.config["RECORD"])
    line = f"{time.time():.6f} {os.getpid()} {action} {vid} {host or '-'} {note or '-'}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def act(ctx: DriverContext, action: str, vid: int | None = None) -> None:
    """Record the action, wait the configured delay, then fail if it is to fail."""
    record(ctx, action, vid)
    delay = delay_for(ctx, action, vid)
    if _chance(rate_for(ctx, "HANG_RATE", action)):
        record(ctx, "hang", vid)
        delay = max(delay, float(ctx.config.get("HANG") or 3600))
    if delay:
        time.sleep(delay)
    if action in failing_actions(ctx, vid):
        raise DriverError(f"dummy {action} failure injected")
    if _chance(rate_for(ctx, "FAIL_RATE", action)):
        record(ctx, "fail", vid)
        raise DriverError(f"dummy {action} random failure injected")


def remember_template_failures(ctx: DriverContext, vid: int, actions: Iterable[str]) -> None:
    ctx.state.setdefault("template_fail", {})[vid] = set(actions)
