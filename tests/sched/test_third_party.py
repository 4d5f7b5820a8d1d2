"""A third-party scheduler distribution (fixture ``tests/fixtures/one-sched-first``, entry point
``first`` in ``one.sched``) built as a wheel, installed, and chosen by name in oned.conf:
``SCHED = [ name = "first" ]`` replaces ``rank``.

The wheel is installed with ``uv pip install --target`` into a directory of its own that the
oned subprocess gets on ``PYTHONPATH`` — what pip does to site-packages, without touching the
project's virtualenv (which other tests share).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from one_core.testing.cloud import wait_until

from .e2e import add_monitored_hosts, allocate, host_shares, vm_states

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "one-sched-first"

DUMMY = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
"""
VM = 'NAME = "big"\nCPU = 4\nMEMORY = 1024\n'
"""Half of a dummy host (TOTALCPU = 800)."""


def _uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{cmd}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def first_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture wheel, built and installed into a site directory of its own."""
    base = tmp_path_factory.mktemp("sched-first")
    wheels, site = base / "wheels", base / "site"
    _run([*_uv(), "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(FIXTURE)])
    (wheel,) = wheels.glob("one_sched_first-*.whl")
    _run([*_uv(), "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)])
    assert (site / "one_sched_first").is_dir()
    return site


def place_three(oned_factory: Callable[..., Any], sched: str, env: dict[str, str]) -> list[int]:
    sections = DUMMY + f'SCHED = [ name = "{sched}", mode = "internal", interval = 1 ]\n'
    oned = oned_factory(sections=sections, env=env, HOST_MONITORING_INTERVAL=1)
    assert f"Loaded sched driver {sched} ({sched})" in oned.log()
    hids = add_monitored_hosts(oned, ["n0", "n1", "n2"])
    vids = [allocate(oned, VM) for _ in range(3)]
    wait_until(lambda: all(vm_states(oned)[v][0] == 3 for v in vids), what="VMs ACTIVE")
    for share in host_shares(oned).values():
        assert share["cpu_usage"] <= share["max_cpu"]
    states = vm_states(oned)
    return [hids.index(states[v][2]) for v in vids]


def test_first_replaces_rank_by_name(oned_factory: Callable[..., Any], first_site: Path) -> None:
    env = {"PYTHONPATH": os.pathsep.join([str(first_site), os.environ.get("PYTHONPATH", "")])}
    # lowest id with room: two halves on host 0, the third on host 1
    assert place_three(oned_factory, "first", env) == [0, 0, 1]


def test_rank_places_the_same_vms_differently(oned_factory: Callable[..., Any]) -> None:
    # rank: equal priorities (no RANK) → highest host id first
    assert place_three(oned_factory, "rank", {}) == [2, 2, 1]


def test_first_is_not_there_without_the_wheel(oned_factory: Callable[..., Any]) -> None:
    sections = DUMMY + 'SCHED = [ name = "first", mode = "internal" ]\n'
    oned = oned_factory(sections=sections, start=False)
    with pytest.raises(RuntimeError, match="first"):
        oned.start()
