"""The dispatcher's and the RPC side's SQL statements per VM: what a deploy, a batch of
one event, an owner check and a VM without NICs cost — and that the work saved does not
change what is committed (a failed first event of a batch still rolls back alone).

The statements are counted with SQLite's trace callback on the connection of the thread
that runs them, so the counting tests run on SQLite only."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from one_core.db.base import database
from one_core.db.vm_models import HistoryRow, VMRow
from one_core.engine.errors import EngineError
from one_core.pools.vnet import VNetPool
from one_core.vm import listing

from .queueing import block, caller_of


def _kind(sql: str) -> str:
    """``"SAVEPOINT"``, ``"UPDATE vm_pool"``, ``"INSERT history"``... of one statement."""
    words = sql.replace('"', " ").split()
    verb = words[0].upper() if words else "?"
    table = {"UPDATE": 1, "INSERT": 2, "DELETE": 2}.get(verb)
    if table is not None and len(words) > table:
        return f"{verb} {words[table]}"
    upper = [w.upper() for w in words]
    if verb == "SELECT" and "FROM" in upper:
        return f"SELECT {words[upper.index('FROM') + 1]}"
    return verb


@contextmanager
def traced(dispatcher: object = None) -> Iterator[Counter[str]]:
    """Count the statements of this thread's connection (or of the dispatcher's thread's,
    given the engine's dispatcher) while the block runs."""
    counts: Counter[str] = Counter()

    def trace(enable: bool) -> None:
        database.connection().set_trace_callback(
            (lambda sql: counts.update([_kind(sql)])) if enable else None
        )

    call = getattr(dispatcher, "call", None) or (lambda fn, *args: fn(*args))
    call(trace, True)
    try:
        yield counts
    finally:
        call(trace, False)


def _one_batch(env) -> None:
    """Called by the first event queued behind :func:`block`: the events queued with it
    join its batch."""
    env.engine.dispatcher.batch_window = 30.0


@pytest.mark.one_db("sqlite")
def test_a_batch_of_one_event_runs_without_a_savepoint(env, db_backend):
    vid = env.allocate()
    with traced(env.engine.dispatcher) as counts:
        env.engine.dispatcher.call(lambda: env.pool.write(env.pool.get(vid)))
    assert counts["UPDATE vm_pool"] == 1
    assert counts["SAVEPOINT"] == 0 and counts["RELEASE"] == 0


@pytest.mark.one_db("sqlite")
def test_a_deploy_writes_the_record_and_the_row_once_each(env, db_backend):
    vid = env.allocate()
    with traced(env.engine.dispatcher) as counts:
        env.engine.dispatcher.call(env.engine.dm.deploy, vid, env.node1)
    # the DEPLOY row adds the record, its LCM_DEPLOY row stamps it and changes the
    # state: the record and the VM row (its last_seq and listing entry) written once each
    assert counts["UPDATE vm_pool"] == 1
    assert counts["INSERT history"] == 1
    env.settle()
    assert env.states(vid) == ("ACTIVE", "RUNNING")
    row = VMRow.get(VMRow.oid == vid)
    record = HistoryRow.get((HistoryRow.vid == vid) & (HistoryRow.seq == row.last_seq))
    assert row.last_seq == 0 and record.pstime > 0 and record.stime > 0
    vm = env.pool.load(vid)
    assert vm is not None
    assert row.pool_xml == listing.entry_of(vm, listing.owner_name(vm.uid))


@pytest.mark.one_db("sqlite")
def test_owner_of_a_loaded_vm_is_read_from_memory(env, db_backend):
    vid = env.allocate(uid=7)
    env.on_dispatcher(env.pool.get, vid)  # loaded by an event (an allocation does not load)
    with traced() as counts:
        assert env.pool.owner(vid) == 7
    assert counts["SELECT vm_pool"] == 0
    env.pool.forget(vid)  # not loaded: the row says
    with traced() as counts:
        assert env.pool.owner(vid) == 7
    assert counts["SELECT vm_pool"] == 1
    assert env.pool.owner(10_000) is None


def test_an_allocation_does_not_load_its_vm(env, db_backend):
    """Issue 19: a VM waiting for the scheduler is only its row; the first event on it
    loads it (and it stays loaded while it is among the most recently used)."""
    loaded = env.pool.cached()
    vids = [env.allocate() for _ in range(5)]
    assert env.pool.cached() == loaded
    env.running(vids[0])
    assert env.pool.cached() == loaded + 1
    assert env.states(vids[0]) == ("ACTIVE", "RUNNING")


def test_owner_of_a_vm_whose_allocation_is_not_committed_is_unknown(env, db_backend):
    dispatcher = env.engine.dispatcher
    allocated, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def allocate_then_wait():
        vid = env.pool.allocate(3, 'NAME = "x"\nMEMORY = 64\nCPU = 0.1\n')
        seen.append(vid)
        allocated.set()
        release.wait(30)  # the event (and its transaction) is still running
        return vid

    caller = threading.Thread(target=dispatcher.call, args=(allocate_then_wait,))
    caller.start()
    assert allocated.wait(10)
    try:
        assert env.pool.owner(seen[0]) is None  # as in the database: not there yet
    finally:
        release.set()
        caller.join(30)
    assert env.pool.owner(seen[0]) == 3


def test_the_first_event_of_a_batch_fails_alone(env, db_backend):
    """Run without a SAVEPOINT (SQLite), a failed first event is rolled back with the
    transaction, which begins again for the events queued behind it."""
    vids = [env.allocate() for _ in range(2)]
    dispatcher = env.engine.dispatcher
    errors: list[str] = []
    transactions: list[object] = []

    def failing():
        _one_batch(env)
        transactions.append(database.top_transaction())
        vm = env.pool.load(vids[0])  # not the cached object: only the row changes
        assert vm is not None
        vm.name = "rolled-back"
        env.pool.write(vm)
        raise RuntimeError("first event fails")

    def renaming():
        transactions.append(database.top_transaction())
        vm = env.pool.get(vids[1])
        assert vm is not None
        vm.name = "committed"
        env.pool.write(vm)

    call_failing = caller_of(env, failing, errors)
    gate = block(env, alone=True)
    first = threading.Thread(target=call_failing)
    first.start()
    while dispatcher._queue.qsize() < 1:
        threading.Event().wait(0.01)
    second = threading.Thread(target=dispatcher.call, args=(renaming,))
    second.start()
    while dispatcher._queue.qsize() < 2:
        threading.Event().wait(0.01)
    gate.set()
    first.join(30)
    second.join(30)
    env.settle()
    assert errors == ["first event fails"]
    assert transactions[0] is transactions[1]  # one batch: the failed event came first
    assert VMRow.get(VMRow.oid == vids[0]).name != "rolled-back"
    assert VMRow.get(VMRow.oid == vids[1]).name == "committed"


@pytest.mark.one_db("sqlite")
def test_releasing_no_nic_is_no_transaction(env, db_backend):
    pool = VNetPool("02:00", 254, lambda uid: "oneadmin")
    with traced() as counts:
        assert pool.release_nics([{"NETWORK": "none"}, "x"], 3) == 0
    assert sum(counts.values()) == 0


def test_a_deploy_whose_record_cannot_be_written_fails_as_in_1_4(env, db_backend, monkeypatch):
    """The new record is written by the row DEPLOY passes to: its failure is still the
    insert's ("can not insert history"), and nothing of the deploy is left."""
    vid = env.allocate()

    def broken(*args, **kwargs):
        raise ValueError("history write refused")

    monkeypatch.setattr(env.pool, "_write_history", broken)
    with pytest.raises(EngineError, match=f"Can not deploy VM {vid}, can not insert history"):
        env.engine.deploy(vid, env.node1)
    monkeypatch.undo()
    env.settle()
    assert env.states(vid) == ("PENDING", "LCM_INIT")
    assert VMRow.get(VMRow.oid == vid).last_seq == -1
    assert env.engine.lcm._held is None
    env.engine.deploy(vid, env.node1)  # the VM was read again: it deploys
    env.settle()
    assert env.states(vid) == ("ACTIVE", "RUNNING")
