"""Start-up recovery (docs/recovery.md): a VM left in each transitional state by a crash."""

from __future__ import annotations

import pytest

from one_core.vm.states import LcmState, Reason, VmState

from .conftest import crash_and_restart
from .held_states import HELD


def lcm_init_after_deploy(env):
    vid = env.allocate()

    def dm_step_only():
        dm = env.engine.dm
        vm = env.engine.pool.get(vid)
        env.engine.pool.insert_history(vm, dm._new_record(vm, env.node1))
        vm.state = VmState.ACTIVE
        env.engine.pool.update(vm)

    env.on_dispatcher(dm_step_only)
    return vid, []


def lcm_init_after_resume(env):
    vid = env.running_vm()
    env.act("suspend", vid)

    def dm_step_only():
        vm = env.engine.pool.get(vid)
        vm.state = VmState.ACTIVE
        env.engine.pool.update(vm)

    env.on_dispatcher(dm_step_only)
    return vid, []


def forced(lcm):
    def setup(env):
        vid = env.running_vm()

        def force():
            vm = env.engine.pool.get(vid)
            vm.lcm_state = lcm
            env.engine.pool.update(vm)

        env.on_dispatcher(force)
        return vid, []

    return setup


def boot_after_restart_domain_gone(env):
    vid = env.running_vm()
    env.on_dispatcher(env.engine.vmm.poll_result, env.engine.pool.get(vid), {"STATE": "d"})
    env.set_domain(vid, None)
    g = env.gate(vid)
    env.engine.action("restart", vid)
    return vid, [g]


def gone(env, vid):
    env.set_domain(vid, None)


def saved(env, vid):
    env.set_domain(vid, "saved node1")


CASES = {
    # name: (setup, mutate-before-restart, rule, (state, lcm), host of the last record)
    "LCM_INIT deploy": (lcm_init_after_deploy, None, "deploy", ("ACTIVE", "RUNNING"), "node1"),
    "LCM_INIT restore": (lcm_init_after_resume, None, "restore", ("ACTIVE", "RUNNING"), "node1"),
    "PROLOG": (
        HELD["PROLOG"],
        None,
        "prolog",
        ("ACTIVE", "RUNNING"),
        "node1",
    ),
    "BOOT": (HELD["BOOT"], None, "deploy", ("ACTIVE", "RUNNING"), "node1"),
    "BOOT domain gone": (
        boot_after_restart_domain_gone,
        None,
        "probe",
        ("ACTIVE", "RUNNING"),
        "node1",
    ),
    "SHUTDOWN": (
        HELD["SHUTDOWN"],
        None,
        "probe",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "SHUTDOWN done": (
        HELD["SHUTDOWN"],
        gone,
        "probe",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "CANCEL": (
        HELD["CANCEL"],
        None,
        "cancel",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "SAVE_STOP": (
        HELD["SAVE_STOP"],
        None,
        "probe",
        ("STOPPED", "LCM_INIT"),
        "node1",
    ),
    "SAVE_STOP saved": (
        HELD["SAVE_STOP"],
        saved,
        "probe",
        ("STOPPED", "LCM_INIT"),
        "node1",
    ),
    "SAVE_SUSPEND": (
        HELD["SAVE_SUSPEND"],
        None,
        "probe",
        ("SUSPENDED", "LCM_INIT"),
        "node1",
    ),
    "SAVE_MIGRATE": (
        HELD["SAVE_MIGRATE"],
        None,
        "probe",
        ("ACTIVE", "RUNNING"),
        "node2",
    ),
    "MIGRATE": (
        HELD["MIGRATE"],
        None,
        "probe",
        ("ACTIVE", "RUNNING"),
        "node2",
    ),
    "MIGRATE never happened": (
        HELD["MIGRATE"],
        gone,
        "probe",
        ("ACTIVE", "UNKNOWN"),
        "node1",
    ),
    "PROLOG_MIGRATE": (
        HELD["PROLOG_MIGRATE"],
        None,
        "prolog_migr",
        ("ACTIVE", "RUNNING"),
        "node2",
    ),
    "PROLOG_RESUME": (HELD["PROLOG_RESUME"], None, "prolog_resume", ("ACTIVE", "RUNNING"), "node2"),
    "EPILOG": (
        HELD["EPILOG"],
        None,
        "epilog",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "EPILOG_STOP": (
        HELD["EPILOG_STOP"],
        None,
        "epilog_stop",
        ("STOPPED", "LCM_INIT"),
        "node1",
    ),
    "FAILURE": (forced(LcmState.FAILURE), None, "failed", ("FAILED", "LCM_INIT"), "node1"),
    "DELETE": (forced(LcmState.DELETE), None, "done", ("DONE", "LCM_INIT"), "node1"),
    "RUNNING": (lambda env: (env.running_vm(), []), None, "poll", ("ACTIVE", "RUNNING"), "node1"),
    "UNKNOWN": (forced(LcmState.UNKNOWN), None, "poll", ("ACTIVE", "RUNNING"), "node1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_recovery(env, case):
    setup, mutate, rule, end, host = CASES[case]
    vid, gates = setup(env)
    if mutate is not None:
        mutate(env, vid)
    from one_core.engine.recovery import recover

    engine = crash_and_restart(env, gates)
    env.settle()
    assert env.states(vid) == end, env.log(vid)
    assert env.vm(vid).history.host_name == host
    # recovery is idempotent: a second start finds nothing left to do for this VM
    applied = engine.dispatcher.call(recover, engine)
    env.settle()
    assert applied.get(vid) in (None, "poll"), applied
    assert rule  # documented rule name (docs/recovery.md)


def test_recovered_capacity_is_consistent(env):
    a, b = env.running_vm(), env.running_vm()
    gates = [env.gate(a), env.gate(b)]
    env.engine.migrate(a, env.node2, False)
    env.engine.action("shutdown", b)
    crash_and_restart(env, gates)
    env.settle()
    assert env.states(a) == ("ACTIVE", "RUNNING") and env.states(b) == ("DONE", "LCM_INIT")
    assert env.share(env.node1)["running_vms"] == 0
    assert env.share(env.node2)["running_vms"] == 1
    assert env.vm(a).previous.reason == Reason.USER


def test_recovery_runs_in_chunks_with_events_in_between(env, monkeypatch):
    """Start-up recovery is one event per chunk of VMs, each queueing the next: an event
    posted meanwhile (an API call) runs after the current chunk, not after all of them."""
    from one_core.engine import recovery

    vids = [env.running_vm() for _ in range(3)]
    chunks: list[list[int]] = []
    real = recovery.recover

    def recording(engine, ids=None):
        chunks.append(list(ids or []))
        return real(engine, ids)

    monkeypatch.setattr(recovery, "recover", recording)
    seen_by_api_call: list[int] = []

    def start_recovery_then_an_api_call():
        recovery.recover_in_chunks(env.engine, 1)
        env.engine.dispatcher.post(lambda: seen_by_api_call.append(len(chunks)))

    env.on_dispatcher(start_recovery_then_an_api_call)
    env.settle()
    assert chunks == [[vid] for vid in vids]
    assert seen_by_api_call == [1]
    assert all(env.states(vid) == ("ACTIVE", "RUNNING") for vid in vids)
