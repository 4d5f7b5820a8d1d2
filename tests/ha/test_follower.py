"""Followers answer reads and refuse writes naming the leader; clients move on to
the leader; ``onehactl status`` shows the group; the HA section is checked."""

from __future__ import annotations

import time
from typing import Any

import pytest
from click.testing import CliRunner

from one_core.cli.onehactl import main as onehactl
from one_core.client import Client
from one_core.config import OnedConfig
from one_core.errors import ConfigError
from one_core.rpc.modern.errors import ACTION
from one_core.testing.oned import ONEADMIN_SESSION

VM = "NAME=f\nCPU=0.1\nMEMORY=16\n"


def test_follower_reads_and_refuses_writes(ha_cluster: Any) -> None:
    cluster = ha_cluster(2)
    leader, follower = cluster.nodes
    s = leader.session
    assert leader.call("one.host.allocate", s, "h0", "im_dummy", "vmm_dummy", "tm_dummy") == [
        True,
        0,
    ]
    assert leader.call("one.vm.allocate", s, VM) == [True, 0]
    refusal = f"not the leader: node0 at {leader.url}"
    assert follower.call("one.vm.allocate", s, VM) == [False, refusal]
    assert follower.call("one.vm.deploy", s, 0, 0) == [False, refusal]
    assert follower.call("system.multicall", []) == [False, refusal]
    # modern dialect: the same words, its error code
    from one_core.rpc.codec import encode_call, parse_response

    status, body, _ = follower.post(
        encode_call("one.vm.allocate", [s, VM, False]), path="/RPC2/modern"
    )
    assert parse_response(body) == (True, [False, f"[one.vm.allocate] {refusal}", ACTION])
    # reads come from the database (VMs at once, the host pool's copy within a second)
    ok, vm = follower.call("one.vm.info", s, 0)
    assert ok and "<ID>0</ID>" in vm
    deadline = time.monotonic() + 5
    while "<NAME>h0</NAME>" not in follower.call("one.hostpool.info", s)[1]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert follower.call("one.vmpool.info", s, -2)[0]
    # a client given the follower first goes on to the leader
    client = Client(session=ONEADMIN_SESSION, endpoint=f"{follower.url},{leader.url}")
    assert client.vm_allocate(VM) == 1
    assert client.endpoint == leader.url
    client.close()
    # and on a refused connection too; a single endpoint keeps 1.4's error
    dead = "http://127.0.0.1:1/RPC2"
    client = Client(session=ONEADMIN_SESSION, endpoint=f"{dead},{follower.url},{leader.url}")
    assert client.vm_allocate(VM) == 2
    client.close()
    with pytest.raises(Exception, match="Connection refused"):
        Client(session=ONEADMIN_SESSION, endpoint=dead).vm_allocate(VM)


def test_onehactl_status(ha_cluster: Any) -> None:
    cluster = ha_cluster(2)
    time.sleep(1.5)  # a follower heartbeat and refresh
    result = CliRunner().invoke(onehactl, ["status", "--config", str(cluster.nodes[1].conf_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"leader: node0 at {cluster.nodes[0].url} since ")
    node0 = next(line.split() for line in lines if line.startswith("node0"))
    node1 = next(line.split() for line in lines if line.startswith("node1"))
    assert node0[1] == "leader" and node1[1] == "follower"
    assert float(node1[3].rstrip("s")) < 3 and float(node1[4].rstrip("s")) < 3  # heartbeat, lag


def test_onehactl_without_ha(tmp_path: Any) -> None:
    conf = tmp_path / "oned.conf"
    conf.write_text("PORT = 2633\n")
    result = CliRunner().invoke(onehactl, ["status", "--config", str(conf)])
    assert result.exit_code == 1
    assert "needs the PostgreSQL database" in result.output


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('HA = [ node = "a", endpoint = "http://a:2633/RPC2" ]', "needs the PostgreSQL database"),
        ('HA = [ node = "a b", endpoint = "http://a/RPC2" ]', "node 'a b'"),
        ('HA = [ node = "a", endpoint = "a:2633" ]', "is not an http(s):// URL"),
        ('HA = [ node = "a", endpoint = "http://a/RPC2", lease = "x" ]', "is not a number"),
        ('HA = [ node = "a", endpoint = "http://a/RPC2", leese = 3 ]', "unknown key(s) leese"),
    ],
)
def test_ha_section_checked(section: str, problem: str, tmp_path: Any) -> None:
    db = 'DB = [ backend = "postgresql" ]\n' if "postgresql" not in problem.lower() else ""
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        OnedConfig.from_text(f"PORT = 2633\n{db}{section}\n", str(tmp_path))
    assert OnedConfig.from_text("PORT = 2633\n", str(tmp_path)).ha is None
