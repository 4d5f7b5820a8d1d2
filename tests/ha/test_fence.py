"""The fencing rules of :class:`one_core.ha.fence.Fence` on a controlled clock."""

from __future__ import annotations

import threading

from one_core.ha.calls import is_read_call, refusal
from one_core.ha.fence import MARGIN, Fence


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_valid_for_a_lease_after_the_last_confirmation_start() -> None:
    clock, ended = Clock(), []
    fence = Fence(3, clock=clock, on_expiry=lambda: ended.append(clock.now))
    assert not fence.valid  # never acquired: no driver action
    fence.acquired(99.5, others_valid_for=0)
    assert fence.valid and fence.start_at == 100.0 + MARGIN
    clock.now = 102.4
    fence.confirmed(102.0)  # the query started at 102.0
    clock.now = 104.9
    assert fence.valid
    clock.now = 105.0  # 102.0 + 3
    assert not fence.valid
    assert not fence.gate()
    fence.lost("test")
    assert ended == [105.0] and not fence.valid


def test_new_leader_waits_out_the_others() -> None:
    clock = Clock()
    whole = Fence(3, clock=clock, on_expiry=lambda: None)
    whole.acquired(100.0)  # unknown: a whole lease
    assert whole.start_at == 103.0 + MARGIN
    part = Fence(3, clock=clock, on_expiry=lambda: None)
    part.acquired(100.0, others_valid_for=1.25)
    assert part.start_at == 101.25 + MARGIN
    capped = Fence(3, clock=clock, on_expiry=lambda: None)
    capped.acquired(100.0, others_valid_for=10)
    assert capped.start_at == 103.0 + MARGIN


def test_gate_sleeps_until_the_start() -> None:
    fence = Fence(1, on_expiry=lambda: None)
    fence.acquired(fence.clock(), others_valid_for=0.3)
    start = fence.clock()
    assert fence.gate()
    assert fence.clock() - start >= 0.3 + MARGIN - 0.01


def test_watchdog_ends_an_unconfirmed_leader() -> None:
    ended = threading.Event()
    fence = Fence(0.5, on_expiry=ended.set)
    fence.acquired(fence.clock(), others_valid_for=0)
    fence.watch(period=0.01)
    assert not ended.wait(0.3)
    assert ended.wait(2)  # no confirmation for a lease
    fence.stop()


def test_read_calls_and_refusal() -> None:
    for name in ("one.vm.info", "one.vmpool.info", "one.hostpool.info", "system.listMethods"):
        assert is_read_call(name), name
    for name in ("one.vm.allocate", "one.vm.action", "system.multicall", "system.shutdown"):
        assert not is_read_call(name), name
    assert refusal("a", "http://a/RPC2") == "not the leader: a at http://a/RPC2"
    assert refusal(None, None) == "not the leader: no leader elected yet"
