"""Random sequences of requests and injected failures keep the engine's invariants.

After every step (once the engine is idle): each VM is in a stable (state, lcm_state) pair,
and every host's counters equal the sum of the requirements of the ACTIVE VMs whose current
history record is on that host (§1.11).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from one_core.db.vm_models import VMRow
from one_core.engine.dm import ACTIONS
from one_core.engine.errors import EngineError
from one_core.vm.states import LcmState, VmState

STABLE = {
    (VmState.PENDING, LcmState.LCM_INIT),
    (VmState.HOLD, LcmState.LCM_INIT),
    (VmState.STOPPED, LcmState.LCM_INIT),
    (VmState.SUSPENDED, LcmState.LCM_INIT),
    (VmState.DONE, LcmState.LCM_INIT),
    (VmState.FAILED, LcmState.LCM_INIT),
    (VmState.ACTIVE, LcmState.RUNNING),
    (VmState.ACTIVE, LcmState.UNKNOWN),
}

FAILABLE = ["deploy", "shutdown", "cancel", "save", "restore", "migrate", "clone", "mv", "delete"]

step = st.one_of(
    st.tuples(st.just("deploy"), st.sampled_from([0, 1])),
    st.tuples(st.just("migrate"), st.sampled_from([0, 1]), st.booleans()),
    st.tuples(
        st.just("action"),
        st.sampled_from(ACTIONS),
    ),
    st.tuples(st.just("fail"), st.sampled_from(FAILABLE)),
    st.tuples(st.just("clear")),
    st.tuples(st.just("vanish")),
)


def check_invariants(env):
    expected = {env.node1: [0, 0, 0], env.node2: [0, 0, 0]}
    for row in VMRow.select(VMRow.oid, VMRow.state, VMRow.lcm_state):
        pair = (VmState(row.state), LcmState(row.lcm_state))
        assert pair in STABLE, (row.oid, pair, env.log(row.oid))
        if row.state == VmState.ACTIVE:
            vm = env.vm(row.oid)
            req = vm.requirements()
            counts = expected[vm.history.hid]
            counts[0] += req.cpu
            counts[1] += req.mem
            counts[2] += 1
    for hid, (cpu, mem, vms) in expected.items():
        share = env.share(hid)
        assert (share["cpu_usage"], share["mem_usage"], share["running_vms"]) == (cpu, mem, vms)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_random_walk(env, steps):
    vid = env.allocate("NAME=w\nCPU=0.5\nMEMORY=32\nDISK=[SOURCE=/a]\n")
    hosts = [env.node1, env.node2]
    for s in steps:
        try:
            if s[0] == "deploy":
                env.engine.deploy(vid, hosts[s[1]])
            elif s[0] == "migrate":
                env.engine.migrate(vid, hosts[s[1]], s[2])
            elif s[0] == "action":
                env.engine.action(s[1], vid)
            elif s[0] == "fail":
                env.fail(vid, s[1])
            elif s[0] == "clear":
                env.clear(vid)
            elif s[0] == "vanish":
                env.set_domain(vid, None)
                env.poll_now()
        except EngineError:
            pass
        env.settle()
        check_invariants(env)
    env.clear(vid)
