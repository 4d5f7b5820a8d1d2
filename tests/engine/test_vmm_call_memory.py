"""A VMM call waiting or in flight holds the VM's id, not the VM (issue 19: a VM the
cache evicted stays out of memory while its driver call waits)."""

from __future__ import annotations

import gc
import types


def _closures_holding_vm(env, vid: int) -> list[object]:
    """The closure cells that refer to VM ``vid``'s cached object (on the dispatcher)."""

    def holders() -> list[object]:
        vm = env.engine.pool.get(vid)
        gc.collect()
        return [r for r in gc.get_referrers(vm) if isinstance(r, types.CellType)]

    return env.on_dispatcher(holders)


def test_a_queued_shutdown_does_not_keep_the_vm(env):
    vid = env.running_vm()
    gate = env.gate(vid)  # the shutdown's driver call waits behind it
    env.engine.action("shutdown", vid)
    try:
        assert env.engine.executor.in_flight(vid)
        assert _closures_holding_vm(env, vid) == []
    finally:
        gate.open()
        env.settle()
    assert env.states(vid) == ("DONE", "LCM_INIT")
