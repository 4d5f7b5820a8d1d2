"""``finalize`` of an ACTIVE VM in every LCM state (§1.7), and ignored late replies (§1.8).

Gates hold the VM's driver queue so the VM stays in the state under test;
the queued action is then dropped by the delete's DRIVER_CANCEL.
"""

from __future__ import annotations

import pytest

from one_core.vm.states import Reason

from .held_states import HELD, into_boot


def rdir(env, vid):
    return f"{env.var}/{vid}/images"


def into_unknown(env):
    vid = env.running_vm()
    env.on_dispatcher(env.engine.vmm.poll_result, env.engine.pool.get(vid), {"STATE": "d"})
    return vid, []


SETUPS = {**HELD, "UNKNOWN": into_unknown}

CASES = {
    # LCM state: (transfer commands of the delete, history time set, "prev" if the
    # previous record is closed too)
    "PROLOG": (["DELETE node1:{r}"], "petime", []),
    "BOOT": (["DELETE node1:{r}"], "retime", []),
    "SHUTDOWN": (["DELETE node1:{r}"], "retime", []),
    "CANCEL": (["DELETE node1:{r}"], "retime", []),
    "SAVE_STOP": (["DELETE node1:{r}"], "retime", []),
    "SAVE_SUSPEND": (["DELETE node1:{r}"], "retime", []),
    "SAVE_MIGRATE": (["DELETE node1:{r}"], "retime", ["prev"]),
    "MIGRATE": (["DELETE node2:{r}"], "retime", ["prev"]),
    "PROLOG_MIGRATE": (["DELETE node2:{r}", "DELETE node1:{r}"], "petime", []),
    "PROLOG_RESUME": (["DELETE node2:{r}"], "petime", []),
    "EPILOG": (["DELETE node1:{r}"], "eetime", []),
    "EPILOG_STOP": (["DELETE node1:{r}"], "eetime", []),
    "UNKNOWN": (["DELETE node1:{r}"], "retime", []),
}


@pytest.mark.parametrize("state", list(CASES))
def test_finalize_active(env, state):
    commands, time_field, extra = CASES[state]
    vid, gates = SETUPS[state](env)
    assert env.states(vid) == ("ACTIVE", state)
    env.engine.action("finalize", vid)
    assert env.states(vid) == ("DONE", "LCM_INIT")
    for g in gates:
        g.open()
    env.settle()
    assert env.states(vid) == ("DONE", "LCM_INIT")
    r = rdir(env, vid)
    assert env.commands(vid) == [c.format(r=r) for c in commands]
    vm = env.vm(vid)
    assert vm.history.reason == Reason.USER and vm.history.etime
    assert getattr(vm.history, time_field) > 0
    if "prev" in extra:
        assert vm.previous.reason == Reason.USER and vm.previous.etime and vm.previous.retime
    for hid in (env.node1, env.node2):
        share = env.share(hid)
        assert (share["running_vms"], share["cpu_usage"], share["mem_usage"]) == (0, 0, 0), state
    assert "New VM state is DONE" in env.log(vid)


def test_delete_cancels_domain_of_deploy_in_flight(env):
    """Beyond 1.4 (quirk in §1.7): a CANCEL sent while BOOT still has no deploy id is not lost."""
    vid, gates = into_boot(env)
    env.engine.action("finalize", vid)
    gates[0].open()
    env.settle()
    assert env.domain(vid) is None


def test_deploy_ids_are_kept_only_while_a_deploy_is_in_flight(env):
    """The VMM keeps a running DEPLOY's id for the calls queued behind it, then lets it go."""
    for _ in range(3):
        env.running(env.allocate())
    assert env.engine.vmm._deploy_ids == {}
    vid = env.allocate()
    (env.var / str(vid)).mkdir(parents=True, exist_ok=True)
    (env.var / str(vid) / "dummy_delay_deploy").write_text("1")
    env.engine.deploy(vid, env.node1)
    env.wait_state(vid, "ACTIVE", "BOOT")
    assert set(env.engine.vmm._deploy_ids) == {vid}
    env.engine.action("finalize", vid)  # DONE: forgotten; the CANCEL queued keeps the id
    assert env.engine.vmm._deploy_ids == {}
    env.settle()
    assert env.domain(vid) is None  # the CANCEL used the id the DEPLOY returned
    assert env.engine.vmm._deploy_ids == {}


def test_late_replies_are_ignored(env):
    vid = env.allocate()
    env.engine.action("finalize", vid)
    env.on_dispatcher(env.engine.vmm.reply, vid, "DEPLOY", "one-9", None)
    env.on_dispatcher(env.engine.tm.reply, vid, "prolog", None, None)
    assert env.states(vid) == ("DONE", "LCM_INIT")
    assert env.vm(vid).deploy_id == ""
    assert f"[VMM][W]: Ignored: DEPLOY SUCCESS {vid} one-9" in env.log(vid)
    assert f"[TM][W]: Ignored: TRANSFER SUCCESS {vid} -" in env.log(vid)


def test_late_deploy_success_in_other_state_moves_to_running(env):
    """Quirk 4: DEPLOY_SUCCESS does not check the LCM state."""
    vid = env.running_vm()
    g = env.gate(vid)
    env.engine.action("shutdown", vid)
    env.on_dispatcher(env.engine.vmm.reply, vid, "DEPLOY", f"one-{vid}", None)
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    g.open()
    env.settle()


def test_transfer_reply_in_wrong_state(env):
    vid = env.running_vm()
    env.on_dispatcher(env.engine.tm.reply, vid, "prolog", None, None)
    assert env.states(vid) == ("ACTIVE", "RUNNING")


def test_finalize_between_dm_and_lcm_is_not_lost(env):
    """Quirk 7 cannot happen: the DM and LCM steps run in one dispatcher event."""
    vid = env.allocate()
    g = env.gate(vid)

    def both():
        env.engine.dm.deploy(vid, env.node1)
        env.engine.dm.action("finalize", vid)

    env.on_dispatcher(both)
    assert env.states(vid) == ("DONE", "LCM_INIT")
    g.open()
    env.settle()
