"""Fixtures of the CLI tests: runners for the tools against a real oned, no server, or the
canned server.

``run(tool, *args)`` runs ``python -m one_core.cli.<tool>`` as a subprocess with ``ONE_AUTH``
(``oneadmin:onepass``), ``ONE_XMLRPC``, ``TZ=UTC`` and optionally a fixed clock
(``ONE_CLI_NOW``), and returns a :class:`Result` with the exact stdout.

* ``run`` — against the real ``oned`` fixture (the one_core.testing plugin: dummy drivers, no
  scheduler, slow monitoring); ``run.oned`` is the daemon.
* ``run_offline`` — against nothing (``ONE_XMLRPC`` is a closed port): for what a tool must do
  without asking oned (help, option errors, credentials), which fails if it does ask.
* ``canned`` + ``run_canned`` — the scripted server of fake_oned.py, only for answers a real
  oned never gives (see test_tools.py).
* ``world`` — module-scoped: a real oned holding :func:`build_world`'s users, hosts, networks
  and VMs in several states, for tests that only read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from one_core.testing.cloud import wait_until

sys.path.insert(0, str(Path(__file__).parent))

from fake_oned import FakeOned  # noqa: E402

CLOSED_URL = "http://127.0.0.1:1/RPC2"
"""Nothing listens on port 1: a tool that calls oned gets "Connection refused"."""

ALICE = ("alice", "alicepw")
"""A second user (uid 1 in :func:`build_world`)."""


@dataclass
class Result:
    rc: int
    out: str
    err: str


class Runner:
    """Runs a tool against a server URL with a given credentials file."""

    def __init__(self, url: str, auth_file: Path, cwd: Path, oned: Any = None):
        self.url = url
        self.auth_file = auth_file
        self.cwd = cwd
        self.oned = oned
        self.now: int | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(ONE_AUTH=str(self.auth_file), ONE_XMLRPC=self.url, TZ="UTC")
        env.pop("ONE_CLI_NOW", None)
        if self.now is not None:
            env["ONE_CLI_NOW"] = str(self.now)
        env.update(extra)
        return env

    def __call__(
        self, tool: str, *args: str, now: int | None = None, stdin: str = "", **env: str
    ) -> Result:
        if now is not None:
            self.now = now
        proc = subprocess.run(
            [sys.executable, "-m", f"one_core.cli.{tool}", *args],
            env=self.env(**env),
            cwd=self.cwd,
            input=stdin.encode(),
            capture_output=True,
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "one_auth"
    path.write_text("oneadmin:onepass\n")
    return path


@pytest.fixture
def run(oned: Any, auth_file: Path, tmp_path: Path) -> Runner:
    return Runner(oned.url, auth_file, tmp_path, oned)


@pytest.fixture
def run_offline(auth_file: Path, tmp_path: Path) -> Runner:
    return Runner(CLOSED_URL, auth_file, tmp_path)


@pytest.fixture
def canned() -> Iterator[FakeOned]:
    server = FakeOned().start()
    yield server
    server.stop()


@pytest.fixture
def run_canned(canned: FakeOned, auth_file: Path, tmp_path: Path) -> Runner:
    return Runner(canned.url, auth_file, tmp_path)


# -- a real oned with things in it ------------------------------------------------------------


def vm_state(client: Any, vid: int) -> tuple[int, int, str]:
    """``(STATE, LCM_STATE, HID of the last history record or "")`` of VM ``vid``."""
    el = client.vm_info(vid)
    hids = [h.findtext("HID") or "" for h in el.iter("HISTORY")]
    return int(el.findtext("STATE")), int(el.findtext("LCM_STATE")), (hids or [""])[-1]


def wait_vm(client: Any, vid: int, state: int, lcm: int = 0, hid: int | None = None) -> None:
    def reached() -> bool:
        s, lc, h = vm_state(client, vid)
        return s == state and lc == lcm and (hid is None or h == str(hid))

    wait_until(reached, 60.0, f"VM {vid} in {state}/{lcm} on {hid}")


def deploy(client: Any, vid: int, hid: int) -> None:
    """Place VM ``vid`` on host ``hid`` and wait until it is RUNNING there."""
    client.vm_deploy(vid, hid)
    wait_vm(client, vid, 3, 3, hid)


def allocate(client: Any, name: str, extra: str = "") -> int:
    return client.vm_allocate(f'NAME = "{name}"\nCPU = 1\nMEMORY = 64\n{extra}')


def fill_to(client: Any, vid: int) -> None:
    """Allocate and finalize VMs until the next one gets id ``vid`` (DONE VMs are not listed)."""
    while True:
        filler = allocate(client, "filler")
        client.vm_action("finalize", filler)
        if filler == vid - 1:
            return


def as_user(oned: Any, user: str, password: str) -> Any:
    from one_core.client import Client

    return Client(f"{user}:{password}", endpoint=oned.url)


PRIVATE_LAN = 'NAME = "Private LAN"\nTYPE = RANGED\nBRIDGE = eth0\nNETWORK_ADDRESS = 10.0.0.0\n'
PUBLIC_LAN = 'NAME = "Public LAN"\nTYPE = FIXED\nBRIDGE = eth1\nLEASES = [ IP = 130.10.0.1 ]\n'


def build_world(oned: Any) -> None:
    """oneadmin (0) and alice (1); host ``node1`` (0); networks Private LAN (0) and Public LAN
    (1); VMs ``web1`` (0, RUNNING on node1), ``web2`` (1, PENDING), alice's ``db`` (2, HOLD),
    finalized fillers 3-9, ``web3`` (10, SUSPENDED on node1)."""
    client = oned.client()
    try:
        client.user_allocate(*ALICE)
        hid = client.host_allocate("node1", "im_dummy", "vmm_dummy", "tm_dummy")
        client.vn_allocate(PRIVATE_LAN)
        client.vn_allocate(PUBLIC_LAN)
        deploy(client, allocate(client, "web1"), hid)
        allocate(client, "web2")
        alice = as_user(oned, *ALICE)
        try:
            db = allocate(alice, "db")
        finally:
            alice.close()
        client.vm_action("hold", db)
        fill_to(client, 10)
        web3 = allocate(client, "web3")
        deploy(client, web3, hid)
        client.vm_action("suspend", web3)
        wait_vm(client, web3, 5)
    finally:
        client.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, oned_process_cls: type) -> Iterator[Runner]:
    """A runner on a real oned after :func:`build_world` (read-only tests share it)."""
    base = tmp_path_factory.mktemp("world")
    oned = oned_process_cls(base / "one").start()
    try:
        build_world(oned)
        yield Runner(oned.url, oned.auth_file, base, oned)
    finally:
        oned.stop()
