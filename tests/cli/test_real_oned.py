"""The tools against the real oned (``oned`` fixture of one_core.testing), on SQLite and PostgreSQL.

Everything is created through the CLIs; outputs are compared with the 1.4 layouts (the time
columns, which depend on the clock, are matched by pattern).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from one_core.testing.databases import parametrize_databases as pytest_generate_tests  # noqa: F401

HEADER_VM = (
    "\x1b[1m\x1b[4m  ID     USER     NAME STAT CPU     MEM        HOSTNAME        TIME\x1b[0m"
)
HEADER_HISTORY = (
    "\x1b[1m\x1b[4m  ID SEQ        HOSTNAME          STIME          ETIME        TIME REASON\x1b[0m"
)
TIME = r"\d\d \d\d:\d\d:\d\d"


@pytest.fixture
def cli(oned, tmp_path):
    env = dict(oned.env, TZ="UTC")

    def run(tool: str, *args: str) -> tuple[int, str]:
        proc = subprocess.run(
            [sys.executable, "-m", f"one_core.cli.{tool}", *args],
            env=env, cwd=tmp_path, capture_output=True, timeout=60,
        )  # fmt: skip
        assert proc.stderr == b""
        return proc.returncode, proc.stdout.decode()

    run.dir = tmp_path  # type: ignore[attr-defined]
    return run


def wait_for(cli, predicate, what: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, out = cli("onevm", "list")
        if predicate(out):
            return out
        time.sleep(0.2)
    raise AssertionError(f"VM never reached {what}: {out!r}")


def test_users_hosts_networks_vms_through_the_clis(cli):
    assert cli("oneuser", "create", "user1", "pass1") == (0, "")
    rc, out = cli("oneuser", "list")
    assert out == (
        "\x1b[1m\x1b[4m  ID USER            PASSWORD                                           "
        "ENABLE\x1b[0m\n"
        "   0 oneadmin        34c629abfcb47856b3d1c0a30798221aefb61605             True\n"
        "   1 user1           f0578f1e7174b1a41c4ea8c6e17f7a8a3b88c92a             True\n"
    )
    assert cli("oneuser", "create", "user1", "x") == (
        255,
        "Error: Existing user, cannot duplicate\n",
    )

    assert cli("onehost", "create", "host01", "im_dummy", "vmm_dummy", "tm_dummy", "-v") == (
        0, "ID: 0\n")  # fmt: skip
    assert cli("onehost", "list")[1] == (
        "\x1b[1m\x1b[4m  ID NAME                      RVM   TCPU   FCPU   ACPU    TMEM    FMEM "
        "STAT\x1b[0m\n   0 host01                      0      0      0    100       0       0   on\n"
    )
    rc, out = cli("onehost", "show", "host01")
    assert rc == 0
    assert out.splitlines()[3] == "STATE                 : INIT                "
    assert cli("onehost", "show", "99") == (255, "Error: Error getting host with HID = 99\n")

    (cli.dir / "private.net").write_text(
        'NAME = "Private LAN"\nTYPE = "RANGED"\nBRIDGE = "eth0"\nNETWORK_SIZE = 250\n'
        'NETWORK_ADDRESS = "10.0.0.0"\n'
    )
    assert cli("onevnet", "create", "private.net") == (0, "")
    assert cli("onevnet", "list")[1] == (
        "\x1b[1m\x1b[4m  ID USER     NAME              TYPE BRIDGE #LEASES\x1b[0m\n"
        "   0 oneadmin Private LAN     Ranged   eth0       0\n"
    )

    (cli.dir / "small.template").write_text(
        'NAME = "small"\nCPU = 1\nMEMORY = 256\nNIC = [ NETWORK = "Private LAN" ]\n'
    )
    assert cli("onevm", "create", "small.template", "-v") == (0, "ID: 0\n")
    rc, out = cli("onevm", "list")
    assert re.fullmatch(
        re.escape(HEADER_VM)
        + rf"\n   0 oneadmin    small pend   0       0                 {TIME}\n",
        out,
    )
    rc, out = cli("onevm", "show", "small")
    lines = out.splitlines()
    assert lines[0] == "\x1b[1m\x1b[4m" + "VIRTUAL MACHINE 0 INFORMATION".ljust(80) + "\x1b[0m"
    assert lines[3] == "STATE          : PENDING             "
    assert lines[7] == "DEPLOY ID:     : -                   "
    assert lines[9] == "\x1b[1m" + "VIRTUAL MACHINE TEMPLATE".ljust(80) + "\x1b[0m"
    assert "NIC=[\n  BRIDGE=eth0,\n  IP=10.0.0.1," in out

    assert cli("onevm", "deploy", "small", "host01", "-v") == (0, "Deploying VM\n")
    wait_for(cli, lambda o: " runn " in o, "RUNNING")
    rc, out = cli("onevm", "history", "0")
    assert re.fullmatch(
        r"History for VM 0\n\n" + re.escape(HEADER_HISTORY)
        + rf"\n   0   0          host01 \d\d/\d\d \d\d:\d\d:\d\d             -- {TIME}   none\n\n",
        out,
    )  # fmt: skip
    rc, out = cli("onevnet", "show", "Private LAN")
    assert out.endswith("\x1b[0m\nLEASE=[ IP=10.0.0.1, MAC=" + out.split("MAC=")[-1])
    assert ", USED=1, VID=0 ]\n" in out

    assert cli("onevm", "shutdown", "0", "-v") == (0, "Shutting down VM\n")
    wait_for(cli, lambda o: o == HEADER_VM + "\n\n", "DONE")
    rc, out = cli("onevm", "show", "0")
    assert "STATE          : DONE                " in out
    assert cli("onevm", "resume", "0") == (255, "Error: Wrong state to perform action\n")
