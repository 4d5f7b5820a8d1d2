"""The ``xen`` driver over a real sshd, with recording stand-ins for sudo, xm, xl and xentop."""

from __future__ import annotations

import ast
import os
import pathlib

import pytest

from one_core.errors import DriverError
from one_core.records import VMRecord
from one_core.template import Template
from one_core.template.serialize import format_value

TEMPLATE = """
CPU = 0.5
MEMORY = 256
OS = [ KERNEL = /boot/vmlinuz, ROOT = xvda1 ]
DISK = [ TARGET = xvda ]
NIC = [ MAC = "00:03:0a:00:00:07", BRIDGE = xenbr0 ]
"""


def deploy(world, template: str = TEMPLATE, vid: int = 7) -> tuple[str, str, str]:
    """Render and deploy VM ``vid``; return (deploy id, config text, local deployment file)."""
    record = VMRecord(
        vid=vid,
        uid=0,
        name="vm",
        template=Template.parse(template),
        host="node1",
        vm_dir=str(world.root / "vms"),
        seq=0,
    )
    text = world.driver.call("vmm_deployment_file", vm=record)
    local = world.root / "var" / str(vid) / "deployment.0"
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(text)
    deploy_id = world.call("vmm_deploy", vid=vid, deployment_file=str(local), deployment=text)
    return deploy_id, text, str(local)


def tool_calls(world) -> list[list[str]]:
    return [c["argv"] for c in world.host.calls() if c["prog"] in ("xm", "xl")]


# -- deploy -------------------------------------------------------------------------------


def test_deploy_with_xm(world) -> None:
    deploy_id, text, _ = deploy(world)
    assert deploy_id == "one-7"
    remote = str(world.root / "vms" / "7" / "images" / "deployment.0")
    assert pathlib.Path(remote).read_text() == text  # the file on the "host"
    create, credits = [c for c in world.host.calls() if c["prog"] == "xm"]
    assert create["argv"] == ["create", remote]
    assert create["config"] == text  # what xm was given
    assert credits["argv"] == ["sched-credit", "-d", "one-7", "-w", "128"]  # 0.5 x CREDIT 256
    sudo = world.host.calls("sudo")
    assert [c["argv"] for c in sudo] == [
        [str(world.host.bin / "xm"), "create", remote],
        [str(world.host.bin / "xm"), "sched-credit", "-d", "one-7", "-w", "128"],
    ]
    assert world.host.domains() == {"one-7": "-b----"}


def test_deploy_with_xl_uses_the_config_name(xl_world) -> None:
    deploy_id, _, _ = deploy(xl_world, vid=9)
    assert deploy_id == "one-9"
    assert [c["prog"] for c in xl_world.host.calls() if c["prog"] != "sudo"] == ["xl", "xl"]
    assert tool_calls(xl_world)[1] == ["sched-credit", "-d", "one-9", "-w", "128"]


def test_deploy_reads_the_file_when_no_text_is_given(world) -> None:
    _, text, local = deploy(world)
    world.host.set_domains({})
    assert world.call("vmm_deploy", deployment_file=local, deployment="") == "one-7"
    assert world.host.calls("xm")[-2]["config"] == text


def test_deploy_without_a_file_fails_like_1_4(world) -> None:
    missing = str(world.root / "var" / "7" / "deployment.3")
    with pytest.raises(DriverError, match=r"^Can not open deployment file .*deployment\.3$"):
        world.call("vmm_deploy", deployment_file=missing, deployment="")
    assert world.host.calls() == []


def test_create_failure_carries_stderr(world) -> None:
    world.host.setting("fail", "create")
    with pytest.raises(DriverError, match="simulated create failure") as info:
        deploy(world)
    assert info.value.exit_code == 1


def test_credit_failure_only_warns(world) -> None:
    world.host.setting("fail", "sched-credit")
    deploy_id, _, _ = deploy(world)
    assert deploy_id == "one-7"
    assert any(
        level == "W" and "Could not set the CPU credits of one-7" in message
        for _, level, message in world.vm_log
    )


def test_without_sudo(make) -> None:
    world = make(SUDO="")
    deploy(world)
    assert world.host.calls("sudo") == []
    assert tool_calls(world)[0][0] == "create"


# -- shutdown / cancel --------------------------------------------------------------------


def test_shutdown_until_gone(world) -> None:
    world.host.set_domains({"one-7": "-b----"})
    world.call("vmm_shutdown", deploy_id="one-7")
    assert tool_calls(world) == [["shutdown", "one-7"], ["list", "one-7"]]
    assert world.host.domains() == {}


def test_shutdown_listed_as_shut_down_is_destroyed(world) -> None:
    world.host.set_domains({"one-7": "-b----"})
    world.host.setting("shutdown", "listed")
    world.call("vmm_shutdown", deploy_id="one-7")
    assert tool_calls(world) == [["shutdown", "one-7"], ["list", "one-7"], ["destroy", "one-7"]]
    assert world.host.domains() == {}


def test_shutdown_times_out(make) -> None:
    world = make(SHUTDOWN_TIMEOUT="0.3")
    world.host.set_domains({"one-7": "-b----"})
    world.host.setting("shutdown", "ignore")
    with pytest.raises(DriverError, match="Timeout reached: domain one-7 still running"):
        world.call("vmm_shutdown", deploy_id="one-7")
    assert world.host.domains() == {"one-7": "-b----"}


def test_shutdown_of_an_unknown_domain_fails(world) -> None:
    with pytest.raises(DriverError, match="does not exist"):
        world.call("vmm_shutdown", deploy_id="one-7")


def test_cancel_and_cancel_again(world) -> None:
    world.host.set_domains({"one-7": "-b----"})
    world.call("vmm_cancel", deploy_id="one-7")
    world.call("vmm_cancel", deploy_id="one-7")  # already gone: success
    assert tool_calls(world) == [["destroy", "one-7"], ["destroy", "one-7"]]


def test_cancel_of_a_gone_domain_with_xl(xl_world) -> None:
    xl_world.call("vmm_cancel", deploy_id="one-7")
    assert tool_calls(xl_world) == [["destroy", "one-7"]]


def test_cancel_other_failure_raises(world) -> None:
    world.host.setting("fail", "destroy")
    with pytest.raises(DriverError, match="destroy one-7 failed: Error: simulated destroy"):
        world.call("vmm_cancel", deploy_id="one-7")


# -- save / restore / migrate -----------------------------------------------------------------


def test_save_restore(world) -> None:
    world.host.set_domains({"one-7": "-b----"})
    checkpoint = str(world.root / "checkpoint")
    world.call("vmm_save", deploy_id="one-7", checkpoint=checkpoint)
    assert world.host.domains() == {}
    assert world.call("vmm_restore", deploy_id="one-7", checkpoint=checkpoint) is None
    assert world.host.domains() == {"one-7": "-b----"}
    assert tool_calls(world) == [["save", "one-7", checkpoint], ["restore", checkpoint]]


def test_save_failure(world) -> None:
    world.host.set_domains({"one-7": "-b----"})
    world.host.setting("fail", "save")
    with pytest.raises(DriverError, match="simulated save failure"):
        world.call("vmm_save", deploy_id="one-7", checkpoint="/nonexistent/checkpoint")


def test_migrate_xm_is_live(world) -> None:
    world.host.set_domains({"one-7": "-b----"})
    world.call("vmm_migrate", deploy_id="one-7", dest_host="node2")
    assert tool_calls(world) == [["migrate", "-l", "one-7", "node2"]]


def test_migrate_xl(xl_world) -> None:
    xl_world.host.set_domains({"one-7": "-b----"})
    xl_world.call("vmm_migrate", deploy_id="one-7", dest_host="node2")
    assert tool_calls(xl_world) == [["migrate", "one-7", "node2"]]


# -- poll -------------------------------------------------------------------------------------


def test_poll_running_paused_and_gone(world) -> None:
    world.host.set_domains({"one-7": "-b----", "one-8": "--p---"})
    assert world.call("vmm_poll", deploy_id="one-7") == {
        "USEDMEMORY": "524288",
        "USEDCPU": "1.5",
        "NETTX": "10",
        "NETRX": "20",
        "STATE": "a",
    }
    assert world.call("vmm_poll", vid=8, deploy_id="one-8")["STATE"] == "p"
    assert world.call("vmm_poll", vid=9, deploy_id="one-9") == {"STATE": "d"}
    assert world.host.calls("xentop")[0]["argv"] == ["-b", "-i", "2", "-d", "0.1"]


def test_poll_failure_raises(world) -> None:
    world.host.setting("fail", "xentop")
    with pytest.raises(DriverError, match="xentop: failed to initialise"):
        world.call("vmm_poll", deploy_id="one-7")


# -- shell metacharacters ------------------------------------------------------------------------


HOSTILE = "x'; touch pwned-q; echo '\"$(touch pwned-d)`touch pwned-b`;touch pwned-s\n|&<>*"


def test_hostile_template_values_reach_xm_as_data(world, monkeypatch) -> None:
    monkeypatch.chdir(world.root)
    value = format_value(HOSTILE)
    template = (
        f"MEMORY = 64\nOS = [ KERNEL = {value}, KERNEL_CMD = {value}, ROOT = {value} ]\n"
        "DISK = [ TARGET = xvda ]\n"
        f"RAW = [ TYPE = kvm, DATA = {value} ]\nNAME = {value}\n"
    )
    deploy_id, text, _ = deploy(world, template)
    assert deploy_id == "one-7"
    given = world.host.calls("xm")[0]["config"]
    assert given == text
    values = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(given).body}
    assert values["kernel"] == HOSTILE
    assert values["extra"] == HOSTILE
    assert values["root"] == "/dev/" + HOSTILE
    for where in (world.root, world.host.bin, pathlib.Path(os.path.expanduser("~"))):
        assert not list(where.glob("pwned*"))


def test_hostile_deploy_id_and_paths_are_single_arguments(world, monkeypatch) -> None:
    monkeypatch.chdir(world.root)
    evil = "one-7; touch pwned-1 $(touch pwned-2)"
    world.call("vmm_cancel", deploy_id=evil)
    world.call("vmm_poll", deploy_id=evil)
    checkpoint = str(world.root / "ck; touch pwned-3")
    world.host.set_domains({evil: "-b----"})
    world.call("vmm_save", deploy_id=evil, checkpoint=checkpoint)
    world.call("vmm_restore", deploy_id=evil, checkpoint=checkpoint)
    world.call("vmm_migrate", deploy_id=evil, dest_host="node2 && touch pwned-4")
    assert tool_calls(world) == [
        ["destroy", evil],
        ["save", evil, checkpoint],
        ["restore", checkpoint],
        ["migrate", "-l", evil, "node2 && touch pwned-4"],
    ]
    for where in (world.root, world.host.bin, pathlib.Path(os.path.expanduser("~"))):
        assert not list(where.glob("pwned*"))
