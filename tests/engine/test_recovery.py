"""Start-up recovery (docs/recovery.md): a VM left in each transitional state by a crash."""

from __future__ import annotations

import pytest

from one_core.vm.states import LcmState, Reason, VmState

from .conftest import crash_and_restart


def _running(env, hid=None):
    vid = env.allocate()
    env.running(vid, hid)
    return vid


def held(op):
    def setup(env):
        vid = _running(env)
        g = env.gate(vid)
        op(env, vid)
        return vid, [g]

    return setup


def two_step(op, state):
    def setup(env):
        vid = _running(env)
        g1 = env.gate(vid)
        op(env, vid)
        g2 = env.gate(vid)
        g1.open()
        env.wait_state(vid, "ACTIVE", state)
        return vid, [g2]

    return setup


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
    vid = _running(env)
    env.engine.action("suspend", vid)
    env.settle()

    def dm_step_only():
        vm = env.engine.pool.get(vid)
        vm.state = VmState.ACTIVE
        env.engine.pool.update(vm)

    env.on_dispatcher(dm_step_only)
    return vid, []


def forced(lcm):
    def setup(env):
        vid = _running(env)

        def force():
            vm = env.engine.pool.get(vid)
            vm.lcm_state = lcm
            env.engine.pool.update(vm)

        env.on_dispatcher(force)
        return vid, []

    return setup


def prolog_resume(env):
    vid = _running(env)
    env.engine.action("stop", vid)
    env.settle()
    env.engine.action("resume", vid)
    g = env.gate(vid)
    env.engine.deploy(vid, env.node2)
    return vid, [g]


def boot_held(env):
    vid = env.allocate()
    g1 = env.gate(vid)
    env.engine.deploy(vid, env.node1)
    g2 = env.gate(vid)
    g1.open()
    env.wait_state(vid, "ACTIVE", "BOOT")
    return vid, [g2]


def boot_after_restart_domain_gone(env):
    vid = _running(env)
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
        lambda env: (lambda vid: (vid, [env.gate(vid)], env.engine.deploy(vid, env.node1))[:2])(
            env.allocate()
        ),
        None,
        "prolog",
        ("ACTIVE", "RUNNING"),
        "node1",
    ),
    "BOOT": (boot_held, None, "deploy", ("ACTIVE", "RUNNING"), "node1"),
    "BOOT domain gone": (
        boot_after_restart_domain_gone,
        None,
        "probe",
        ("ACTIVE", "RUNNING"),
        "node1",
    ),
    "SHUTDOWN": (
        held(lambda e, v: e.engine.action("shutdown", v)),
        None,
        "probe",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "SHUTDOWN done": (
        held(lambda e, v: e.engine.action("shutdown", v)),
        gone,
        "probe",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "CANCEL": (
        held(lambda e, v: e.engine.action("cancel", v)),
        None,
        "cancel",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "SAVE_STOP": (
        held(lambda e, v: e.engine.action("stop", v)),
        None,
        "probe",
        ("STOPPED", "LCM_INIT"),
        "node1",
    ),
    "SAVE_STOP saved": (
        held(lambda e, v: e.engine.action("stop", v)),
        saved,
        "probe",
        ("STOPPED", "LCM_INIT"),
        "node1",
    ),
    "SAVE_SUSPEND": (
        held(lambda e, v: e.engine.action("suspend", v)),
        None,
        "probe",
        ("SUSPENDED", "LCM_INIT"),
        "node1",
    ),
    "SAVE_MIGRATE": (
        held(lambda e, v: e.engine.migrate(v, e.node2, False)),
        None,
        "probe",
        ("ACTIVE", "RUNNING"),
        "node2",
    ),
    "MIGRATE": (
        held(lambda e, v: e.engine.migrate(v, e.node2, True)),
        None,
        "probe",
        ("ACTIVE", "RUNNING"),
        "node2",
    ),
    "MIGRATE never happened": (
        held(lambda e, v: e.engine.migrate(v, e.node2, True)),
        gone,
        "probe",
        ("ACTIVE", "UNKNOWN"),
        "node1",
    ),
    "PROLOG_MIGRATE": (
        two_step(lambda e, v: e.engine.migrate(v, e.node2, False), "PROLOG_MIGRATE"),
        None,
        "prolog_migr",
        ("ACTIVE", "RUNNING"),
        "node2",
    ),
    "PROLOG_RESUME": (prolog_resume, None, "prolog_resume", ("ACTIVE", "RUNNING"), "node2"),
    "EPILOG": (
        two_step(lambda e, v: e.engine.action("shutdown", v), "EPILOG"),
        None,
        "epilog",
        ("DONE", "LCM_INIT"),
        "node1",
    ),
    "EPILOG_STOP": (
        two_step(lambda e, v: e.engine.action("stop", v), "EPILOG_STOP"),
        None,
        "epilog_stop",
        ("STOPPED", "LCM_INIT"),
        "node1",
    ),
    "FAILURE": (forced(LcmState.FAILURE), None, "failed", ("FAILED", "LCM_INIT"), "node1"),
    "DELETE": (forced(LcmState.DELETE), None, "done", ("DONE", "LCM_INIT"), "node1"),
    "RUNNING": (lambda env: (_running(env), []), None, "poll", ("ACTIVE", "RUNNING"), "node1"),
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
    a, b = _running(env), _running(env)
    gates = [env.gate(a), env.gate(b)]
    env.engine.migrate(a, env.node2, False)
    env.engine.action("shutdown", b)
    crash_and_restart(env, gates)
    env.settle()
    assert env.states(a) == ("ACTIVE", "RUNNING") and env.states(b) == ("DONE", "LCM_INIT")
    assert env.share(env.node1)["running_vms"] == 0
    assert env.share(env.node2)["running_vms"] == 1
    assert env.vm(a).previous.reason == Reason.USER
