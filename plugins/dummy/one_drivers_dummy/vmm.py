"""``dummy`` virtualization driver: a pretend hypervisor.

Domains are files under ``$VAR/dummy_vmm/`` (or the section's ``DOMAINS``
directory, which several oned of an HA group share as they share real hosts)
(``dummy-<vid>``, as 1.4's dummy named them, holding
``running <host>`` or ``saved <host>``), so they outlive an oned restart as
real domains do, which is what recovery needs. Every action succeeds after
the configured delay unless a failure is injected (see
:mod:`one_drivers_dummy.control`). The driver implements every optional
action; it renders no deployment file of its own, so the core hands it the
template as XML (1.4's ``xml`` type), where ``DUMMY_FAIL`` is read.
"""

from __future__ import annotations

import contextlib
import os
import re

from one_core.api import DriverContext, DriverError, hookimpl, write_local
from one_drivers_dummy.control import (
    act,
    read_file,
    record,
    recording,
    remember_template_failures,
)

_FAIL_TAG = re.compile(r"<DUMMY_FAIL>(?:<!\[CDATA\[)?([^<\]]*)", re.IGNORECASE)


def _domain_path(ctx: DriverContext, deploy_id: str) -> str:
    base = str(ctx.config.get("DOMAINS") or "") or os.path.join(ctx.var_dir, "dummy_vmm")
    return os.path.join(base, os.path.basename(deploy_id))


def _write(ctx: DriverContext, deploy_id: str, status: str, host: str) -> None:
    path = _domain_path(ctx, deploy_id)
    tmp = f"{path}.tmp"  # renamed over the domain: a reader never sees half a file
    write_local(tmp, f"{status} {host}\n")
    os.replace(tmp, path)


def domain_status(ctx: DriverContext, deploy_id: str) -> tuple[str, str] | None:
    """``(status, host)`` of a domain, or ``None`` when it does not exist."""
    text = read_file(_domain_path(ctx, deploy_id))
    if text is None:
        return None
    status, _, host = text.strip().partition(" ")
    return status, host


def _require(ctx: DriverContext, deploy_id: str, status: str) -> str:
    found = domain_status(ctx, deploy_id)
    if found is None or found[0] != status:
        raise DriverError(f"domain {deploy_id} is not {status}")
    return found[1]


@hookimpl
def vmm_deploy(ctx: DriverContext, vid: int, host: str, deployment: str) -> str:
    match = _FAIL_TAG.search(deployment or "")
    if match:
        remember_template_failures(ctx, vid, re.split(r"[,\s]+", match.group(1).lower()))
    act(ctx, "deploy", vid)
    deploy_id = f"dummy-{vid}"  # as 1.4's dummy driver
    # whether the domain existed is only recorded: no look-up without a RECORD log
    existed = recording(ctx) and domain_status(ctx, deploy_id) is not None
    _write(ctx, deploy_id, "running", host)
    record(ctx, "deployed", vid, host, "existing" if existed else "new")
    return deploy_id


@hookimpl
def vmm_shutdown(ctx: DriverContext, vid: int, deploy_id: str) -> None:
    act(ctx, "shutdown", vid)
    _require(ctx, deploy_id, "running")
    os.unlink(_domain_path(ctx, deploy_id))


@hookimpl
def vmm_cancel(ctx: DriverContext, vid: int, deploy_id: str) -> None:
    act(ctx, "cancel", vid)
    with contextlib.suppress(FileNotFoundError):  # already gone: cancel is idempotent
        os.unlink(_domain_path(ctx, deploy_id))


def _move(
    ctx: DriverContext, action: str, vid: int, deploy_id: str, was: str, now: str, host: str
) -> None:
    """``action`` on a domain that must be ``was``: it becomes ``now`` on ``host``."""
    act(ctx, action, vid)
    _require(ctx, deploy_id, was)
    _write(ctx, deploy_id, now, host)


@hookimpl
def vmm_save(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    _move(ctx, "save", vid, deploy_id, "running", "saved", host)


@hookimpl
def vmm_restore(ctx: DriverContext, vid: int, host: str, deploy_id: str) -> None:
    _move(ctx, "restore", vid, deploy_id, "saved", "running", host)


@hookimpl
def vmm_migrate(ctx: DriverContext, vid: int, deploy_id: str, dest_host: str) -> None:
    _move(ctx, "migrate", vid, deploy_id, "running", "running", dest_host)


@hookimpl
def vmm_poll(ctx: DriverContext, vid: int, deploy_id: str) -> dict[str, str]:
    act(ctx, "poll", vid)
    found = domain_status(ctx, deploy_id)
    if found is None:
        return {"STATE": "d"}
    state = "a" if found[0] == "running" else "p"
    return {"STATE": state, "USEDMEMORY": "0", "USEDCPU": "0", "NETTX": "0", "NETRX": "0"}
