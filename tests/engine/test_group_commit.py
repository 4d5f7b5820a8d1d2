"""Group commit on the dispatcher: queued events share one transaction, a failing one
rolls back alone (its SAVEPOINT), and nothing it queued is issued."""

from __future__ import annotations

import threading

from one_core.db.vm_models import VMRow

from .queueing import block, caller_of


def _row_name(vid):
    return VMRow.get(VMRow.oid == vid).name


def test_queued_events_commit_together_and_a_failure_rolls_back_alone(env):
    vids = [env.allocate() for _ in range(3)]
    dispatcher = env.engine.dispatcher
    ran = []

    def failing():
        vm = env.pool.load(vids[0])  # not the cached object: only the row changes
        vm.name = "renamed-then-rolled-back"
        env.pool.write(vm)

        def work():
            ran.append("driver work of the failed event")

        env.engine.executor.submit(vids[0], "TEST", work, lambda result, error: None)
        env.engine.defer(ran.append, "deferred of the failed event")
        raise RuntimeError("event failure injected")

    errors = []

    call_failing = caller_of(env, failing, errors)
    gate = block(env)
    before = (dispatcher.batches, dispatcher.batched_events)
    threads = [threading.Thread(target=env.engine.deploy, args=(v, env.node1)) for v in vids[1:]]
    threads.append(threading.Thread(target=call_failing))
    for t in threads:
        t.start()
    while dispatcher._queue.qsize() < len(threads):  # all queued behind the blocker
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join(30)
    env.settle()
    assert errors == ["event failure injected"]
    assert ran == []  # neither its driver work nor its deferred work was issued
    assert _row_name(vids[0]) != "renamed-then-rolled-back"
    assert [env.states(v) for v in vids[1:]] == [("ACTIVE", "RUNNING")] * 2
    batches, events = dispatcher.batches - before[0], dispatcher.batched_events - before[1]
    assert events >= 4 and batches < events  # the queued events shared a transaction
    assert env.engine.executor.idle


def test_batch_size_one_is_one_transaction_per_event(env):
    dispatcher = env.engine.dispatcher
    dispatcher.batch_size = 1
    before = dispatcher.batches
    vid = env.allocate()
    env.engine.deploy(vid, env.node1)
    env.settle()
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    assert dispatcher.batches == before  # every event ran alone


def test_call_returns_after_the_commit(env):
    vid = env.allocate()
    seen = []

    def rename():
        vm = env.pool.get(vid)
        vm.name = "committed"
        env.pool.write(vm)
        return vid

    def reader():  # another thread, its own connection: sees committed rows only
        seen.append(_row_name(vid))

    assert env.engine.dispatcher.call(rename) == vid
    t = threading.Thread(target=reader)
    t.start()
    t.join(10)
    assert seen == ["committed"]
