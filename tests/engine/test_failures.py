"""Driver failures (§1.4, §1.10), invalid actions (§1.2) and capability checks."""

from __future__ import annotations

import pytest

from one_core.engine.errors import ActionError, CapabilityError, EngineError
from one_core.vm.states import Reason


def rdir(env, vid):
    return f"{env.var}/{vid}/images"


def deploy_fails(env, vid: int, hid: int | None = None) -> None:
    """Deploy ``vid`` (on node1 by default) and check it ends FAILED."""
    env.engine.deploy(vid, env.node1 if hid is None else hid)
    env.settle()
    assert env.states(vid) == ("FAILED", "LCM_INIT")


def test_prolog_failure_fails_and_deletes(env):
    vid = env.allocate()
    env.fail(vid, "clone")
    deploy_fails(env, vid)
    h = env.vm(vid).history
    assert h.reason == Reason.ERROR and h.petime and h.etime
    assert env.share(env.node1)["running_vms"] == 0
    assert "Error excuting image transfer script: dummy clone failure injected" in env.log(vid)
    assert "New VM state is FAILED" in env.log(vid)
    assert env.commands(vid) == [
        f"DELETE node1:{rdir(env, vid)}"
    ]  # the failed CLONE is not recorded
    assert env.vm(vid).etime > 0


def test_prolog_without_source_fails(env):
    vid = env.allocate("NAME=x\nDISK=[TARGET=hda]\n")
    deploy_fails(env, vid)
    assert "prolog, undefined source disk image in VM template" in env.log(vid)


def test_swap_without_size_is_skipped_with_warning(env):
    vid = env.allocate("NAME=x\nDISK=[TYPE=swap]\nDISK=[TYPE=fs,SIZE=10]\nDISK=[SOURCE=/a]\n")
    env.running(vid)
    assert env.commands(vid) == [f"CLONE front:/a node1:{rdir(env, vid)}/disk.2"]
    assert "[TM][W]: No size in swap image, skipping" in env.log(vid)
    assert "[TM][W]: No size or format in plain FS image, skipping" in env.log(vid)


def test_deploy_failure_fails(env):
    vid = env.allocate()
    env.fail(vid, "deploy")
    deploy_fails(env, vid)
    h = env.vm(vid).history
    assert h.reason == Reason.ERROR and h.retime
    assert "Error deploying virtual machine: dummy deploy failure injected" in env.log(vid)
    assert env.share(env.node1)["running_vms"] == 0


def test_deploy_failure_from_template_attribute(env):
    vid = env.allocate('NAME=x\nDUMMY_FAIL="deploy"\n')
    deploy_fails(env, vid)


def running_vm_failing(env, driver_op: str) -> int:
    """A VM running on node1 whose next ``driver_op`` driver call fails."""
    vid = env.running_vm()
    env.fail(vid, driver_op)
    return vid


SAVE_FAILED = (
    "Error saving VM state, dummy save failure injected",
    "Fail to save VM state. Assuming that the VM is still RUNNING (will poll VM).",
)


@pytest.mark.parametrize(
    ("driver_op", "action", "messages"),
    [
        pytest.param(
            "shutdown",
            "shutdown",
            (
                "Error shuting down VM, dummy shutdown failure injected",
                "Fail to shutdown VM. Assuming that the VM is still RUNNING (will poll VM).",
            ),
            id="shutdown",
        ),
        pytest.param(
            "cancel",
            "cancel",
            ("Fail to cancel VM. Assuming that the VM is still RUNNING (will poll VM).",),
            id="cancel",
        ),
        pytest.param("save", "stop", SAVE_FAILED, id="stop"),
        pytest.param("save", "suspend", SAVE_FAILED, id="suspend"),
    ],
)
def test_failure_back_to_running(env, driver_op, action, messages):
    vid = running_vm_failing(env, driver_op)
    env.act(action, vid)
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    log = env.log(vid)
    for message in messages:
        assert message in log
    assert env.share(env.node1)["running_vms"] == 1


@pytest.mark.parametrize(
    ("live", "driver_op", "messages"),
    [
        pytest.param(False, "save", ("Fail to save VM state while migrating.",), id="cold"),
        pytest.param(
            True,
            "migrate",
            ("Error live-migrating VM, dummy migrate failure injected", "Fail to life migrate VM."),
            id="live",
        ),
    ],
)
def test_migration_failure_back_to_source(env, live, driver_op, messages):
    vid = running_vm_failing(env, driver_op)
    env.engine.migrate(vid, env.node2, live)
    env.settle()
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    h = env.history(vid)
    assert [(x.seq, x.host_name, x.reason) for x in h] == [
        (0, "node1", Reason.USER),
        (1, "node2", Reason.ERROR),
        (2, "node1", Reason.NONE),
    ]
    assert h[2].stime and h[2].rstime
    assert env.share(env.node1)["running_vms"] == 1  # quirk 10: source kept its count
    assert env.share(env.node2)["running_vms"] == 0
    log = env.log(vid)
    for message in messages:
        assert message in log


def test_restore_failure_fails(env):
    vid = env.running_vm()
    env.act("suspend", vid)
    env.fail(vid, "restore")
    env.act("resume", vid)
    assert env.states(vid) == ("FAILED", "LCM_INIT")
    assert "Error restoring VM, dummy restore failure injected" in env.log(vid)
    assert env.share(env.node1)["running_vms"] == 0


@pytest.mark.parametrize(
    ("driver_op", "action", "message"),
    [
        ("delete", "shutdown", "You may need to manually clean node1:"),
        ("mv", "stop", "Error excuting image transfer script: dummy mv failure injected"),
    ],
)
def test_epilog_failure_fails(env, driver_op, action, message):
    vid = running_vm_failing(env, driver_op)
    env.act(action, vid)
    assert env.states(vid) == ("FAILED", "LCM_INIT")
    h = env.vm(vid).history
    assert h.eetime and h.reason == Reason.ERROR
    assert env.share(env.node1)["running_vms"] == 0
    assert message in env.log(vid)


def test_resume_transfer_failure_fails(env):
    vid = env.running_vm()
    env.act("stop", vid)
    env.engine.action("resume", vid)
    env.fail(vid, "mv")
    deploy_fails(env, vid)


def test_poll_failure_only_logs(env):
    vid = running_vm_failing(env, "poll")
    env.poll_now()
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    assert "Error monitoring VM, dummy poll failure injected" in env.log(vid)


@pytest.mark.parametrize(
    ("vmm", "tm", "message"),
    [
        ("vmm_nope", "tm_dummy", "deploy_action, driver vmm_nope not loaded"),
        ("vmm_dummy", "tm_nope", "prolog, driver tm_nope not loaded"),
    ],
)
def test_missing_driver_fails_deploy(env, vmm, tm, message):
    hid = env.hosts.allocate("ghost", "im_dummy", vmm, tm)
    vid = env.allocate()
    deploy_fails(env, vid, hid)
    assert message in env.log(vid)


# -- invalid requests ------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["shutdown", "stop", "cancel", "suspend", "restart", "resume", "release"]
)
def test_wrong_state_on_pending(env, action):
    vid = env.allocate()
    with pytest.raises(ActionError) as exc:
        env.engine.action(action, vid)
    assert exc.value.code == -2 and exc.value.message == "Wrong state to perform action"
    assert env.states(vid) == ("PENDING", "LCM_INIT")


@pytest.mark.parametrize("action", ["hold", "release", "resume", "restart"])
def test_wrong_state_on_running(env, action):
    vid = env.running_vm()
    with pytest.raises(ActionError) as exc:
        env.engine.action(action, vid)
    assert exc.value.code == -2
    assert env.states(vid) == ("ACTIVE", "RUNNING")


@pytest.mark.parametrize("action", ["delete", "deploy", "livemigrate", "SHUTDOWN", ""])
def test_unknown_action(env, action):
    vid = env.allocate()
    with pytest.raises(ActionError) as exc:
        env.engine.action(action, vid)
    assert (exc.value.code, exc.value.message) == (-3, "Unknown action")


def test_action_unknown_vm(env):
    with pytest.raises(ActionError) as exc:
        env.engine.action("hold", 99)
    assert (exc.value.code, exc.value.message) == (-1, "Virtual machine does not exist")


def test_deploy_errors(env):
    vid = env.allocate()
    with pytest.raises(EngineError, match="^The host 99 does not exists$"):
        env.engine.deploy(vid, 99)
    with pytest.raises(EngineError, match="^The virtual machine 42 does not exists$"):
        env.engine.deploy(42, env.node1)
    env.running(vid)
    with pytest.raises(EngineError, match=f"^Can not deploy VM {vid}, wrong state$"):
        env.engine.deploy(vid, env.node1)


def test_migrate_errors(env):
    vid = env.allocate()
    with pytest.raises(EngineError, match=f"^Can not migrate VM {vid}, wrong state$"):
        env.engine.migrate(vid, env.node2, False)
    with pytest.raises(EngineError, match="^The host 99 does not exists$"):
        env.engine.migrate(vid, 99, True)
    assert env.vm(vid).history is None


# -- capabilities ------------------------------------------------------------------


@pytest.mark.parametrize("action", ["stop", "suspend"])
def test_driver_without_save_refuses_before_state_change(env, action):
    vid = env.allocate()
    env.running(vid, env.nosave)
    with pytest.raises(CapabilityError, match="^driver vmm_nosave cannot save$"):
        env.engine.action(action, vid)
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    assert env.vm(vid).deploy_id == f"i-{vid}"


def test_driver_without_migrate_refuses(env):
    vid = env.allocate()
    env.running(vid, env.nosave)
    with pytest.raises(CapabilityError, match="cannot migrate"):
        env.engine.migrate(vid, env.node1, True)
    with pytest.raises(CapabilityError):
        env.engine.migrate(vid, env.nosave, False)
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    assert env.vm(vid).history.seq == 0


def test_nosave_driver_shutdown_works(env):
    vid = env.allocate()
    env.running(vid, env.nosave)
    env.act("shutdown", vid)
    assert env.states(vid) == ("DONE", "LCM_INIT")
