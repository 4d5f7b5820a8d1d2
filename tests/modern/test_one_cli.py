"""The ``one`` command of opennebula-cli (PyPI) against a real oned, as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from one_core.testing.cloud import wait_until
from one_core.testing.oned import ONEADMIN_PASSWORD, OnedProcess

from .helpers import endpoint
from .one_cli_env import one_cli_python


class OneCli:
    """Runs ``python -m opennebula_cli --output json ...`` against one oned."""

    def __init__(self, oned: OnedProcess, home: Path, auth: str):
        self.python = one_cli_python()
        self.env = dict(os.environ)
        self.env.update(
            ONE_XMLRPC=endpoint(oned),
            ONE_AUTH=auth,
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            NO_COLOR="1",
        )
        self.cwd = home

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), "-m", "opennebula_cli", "--output", "json", "--no-pager", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def __call__(self, *args: str) -> Any:
        done = self.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return json.loads(done.stdout)


@pytest.fixture
def cli(sched_oned: OnedProcess, tmp_path: Path) -> OneCli:
    return OneCli(sched_oned, tmp_path, f"oneadmin:{ONEADMIN_PASSWORD}")


def test_one_cli_hosts_and_vms(cli: OneCli, tmp_path: Path) -> None:
    assert cli("vm", "list") == []
    assert cli("host", "create", "host01", "-i", "im_dummy", "-v", "vmm_dummy")["id"] == 0
    hosts = cli("host", "list")
    assert [(h["id"], h["name"], h["cluster"]) for h in hosts] == [(0, "host01", "default")]

    template = tmp_path / "vm.tpl"
    template.write_text('NAME = "clivm"\nCPU = 1\nMEMORY = 64\n')
    assert cli("vm", "create", str(template))["id"] == 0
    running = wait_until(
        lambda: [v for v in cli("vm", "list") if v["lcm_state"] == "RUNNING"], what="VM 0 RUNNING"
    )
    assert [(v["id"], v["name"], v["state"]) for v in running] == [(0, "clivm", "ACTIVE")]
    shown = cli("vm", "show", "0")
    assert (shown["name"], shown["state_id"], shown["template"]["MEMORY"]) == ("clivm", 3, "64")

    assert cli("vm", "terminate", "0")[0]["action"] == "terminate"
    wait_until(lambda: cli("vm", "list") == [], what="VM 0 gone from the list")
    assert cli("vm", "show", "0")["state"] == "DONE"


def test_one_cli_wrong_password(sched_oned: OnedProcess, tmp_path: Path) -> None:
    done = OneCli(sched_oned, tmp_path, "oneadmin:nope").run("vm", "list")
    assert done.returncode != 0
    assert "couldn't be authenticated" in done.stdout + done.stderr
