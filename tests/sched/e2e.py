"""Helpers for the end-to-end scheduler tests: hosts with per-host monitoring, VM states."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from one_core.testing.cloud import wait_until

MONITORED = 2


def write_host_files(var: Path, hosts: dict[str, str]) -> None:
    """The dummy IM's per-host overrides: ``$VAR/dummy_hosts/<name>``."""
    d = var / "dummy_hosts"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in hosts.items():
        (d / name).write_text(text)


def xml(oned: Any, method: str, *params: Any) -> ET.Element:
    value = oned.call(method, oned.session, *params)
    assert isinstance(value, list) and value[0] is True, value
    return ET.fromstring(value[1])


def host_states(oned: Any) -> dict[int, int]:
    doc = xml(oned, "one.hostpool.info")
    return {int(h.findtext("ID")): int(h.findtext("STATE")) for h in doc.iter("HOST")}


def add_monitored_hosts(oned: Any, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        value = oned.call("one.host.allocate", oned.session, name, "im_dummy", "vmm_dummy",
                          "tm_dummy")  # fmt: skip
        assert value[0] is True, value
        ids.append(value[1])
    wait_until(
        lambda: all(host_states(oned).get(i) == MONITORED for i in ids),
        what="hosts monitored",
    )
    return ids


def allocate(oned: Any, template: str) -> int:
    value = oned.call("one.vm.allocate", oned.session, template)
    assert value[0] is True, value
    return value[1]


def vm_states(oned: Any) -> dict[int, tuple[int, int, int | None]]:
    """vid -> (state, lcm_state, hid of the last history record or None)."""
    doc = xml(oned, "one.vmpool.info", -2)
    out = {}
    for vm in doc.iter("VM"):
        hid = vm.findtext("HISTORY/HID")
        out[int(vm.findtext("ID"))] = (
            int(vm.findtext("STATE")),
            int(vm.findtext("LCM_STATE")),
            None if hid is None else int(hid),
        )
    return out


def host_shares(oned: Any) -> dict[int, dict[str, int]]:
    doc = xml(oned, "one.hostpool.info")
    return {
        int(h.findtext("ID")): {c.tag.lower(): int(c.text or 0) for c in h.find("HOST_SHARE")}
        for h in doc.iter("HOST")
    }


def mm_sched_path() -> str:
    path = Path(sys.executable).parent / "mm_sched"
    assert path.exists(), f"console script {path} is not installed"
    return str(path)


@contextmanager
def mm_sched(oned: Any, timer: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``mm_sched -p <port> -t <timer>`` against ``oned`` (same ONE_LOCATION/ONE_AUTH)."""
    proc = subprocess.Popen(
        [mm_sched_path(), "-p", str(oned.port), "-t", str(timer)],
        env=oned.env,
        cwd=str(oned.location),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read(path: Path) -> str:
    return path.read_text(errors="replace") if os.path.exists(path) else ""
