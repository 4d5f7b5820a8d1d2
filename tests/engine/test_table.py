"""The transition table (one_core/engine/transitions.py) against spec §1 and the real engine.

* :data:`SPEC` is written by hand from spec ``lifecycle-and-drivers.md`` §1 and
  ``docs/recovery.md``, independently of the table: every entry must be covered by a row
  (deleting a row makes :func:`test_table_covers_the_spec` fail);
* :func:`test_row_on_the_engine` is generated from the table: for every row it puts a VM
  in the row's state on the real engine (dummy drivers, SQLite), holds its driver queue,
  fires the event and checks the state it settles in, the driver calls queued, the history
  records, the host counters and the vm.log lines against a model of the row;
* ``docs/state-machine.md`` must be what the table renders.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from one_core.engine.statedoc import markdown
from one_core.engine.transitions import (
    TABLE,
    Action,
    Event,
    Guard,
    NewRecord,
    Rec,
    Stamp,
    Transition,
    final,
    find,
    rows_for,
)
from one_core.vm.model import HISTORY_TIMES, History, VirtualMachine
from one_core.vm.states import LcmState, Reason, VmState

from .conftest import Env

S, L, E, A = VmState, LcmState, Event, Action
DOC = Path(__file__).resolve().parents[2] / "docs" / "state-machine.md"

# ---------------------------------------------------------------------------
# spec §1, written out (state, lcm, event) -> settled (state, lcm) [, driver actions]
# ---------------------------------------------------------------------------

_DONE, _FAILED, _RUN = (S.DONE, L.LCM_INIT), (S.FAILED, L.LCM_INIT), (S.ACTIVE, L.RUNNING)
_SUSP, _STOPPED = (S.SUSPENDED, L.LCM_INIT), (S.STOPPED, L.LCM_INIT)


def _a(lcm: LcmState) -> tuple[VmState, LcmState]:
    return (S.ACTIVE, lcm)


SPEC: list[tuple[tuple[VmState, LcmState], Event, tuple[VmState, LcmState], tuple | None]] = [
    # §1.2 user operations
    ((S.PENDING, L.LCM_INIT), E.DEPLOY, _a(L.PROLOG), None),
    (_RUN, E.MIGRATE, _a(L.SAVE_MIGRATE), None),
    (_RUN, E.LIVE_MIGRATE, _a(L.MIGRATE), None),
    (_RUN, E.SHUTDOWN, _a(L.SHUTDOWN), None),
    ((S.PENDING, L.LCM_INIT), E.HOLD, (S.HOLD, L.LCM_INIT), None),
    ((S.HOLD, L.LCM_INIT), E.RELEASE, (S.PENDING, L.LCM_INIT), None),
    (_RUN, E.STOP, _a(L.SAVE_STOP), None),
    (_RUN, E.CANCEL, _a(L.CANCEL), None),
    (_RUN, E.SUSPEND, _a(L.SAVE_SUSPEND), None),
    (_STOPPED, E.RESUME, (S.PENDING, L.LCM_INIT), None),
    (_SUSP, E.RESUME, _a(L.BOOT), None),
    (_a(L.UNKNOWN), E.RESTART, _a(L.BOOT), None),
    (_a(L.BOOT), E.RESTART, _a(L.BOOT), None),
    # §1.7 finalize
    *[
        ((s, L.LCM_INIT), E.FINALIZE, _DONE, None)
        for s in (S.INIT, S.PENDING, S.HOLD, S.STOPPED, S.FAILED)
    ],
    (_SUSP, E.FINALIZE, _DONE, (A.TM_EPILOG_DELETE,)),
    (_RUN, E.FINALIZE, _DONE, None),
    # §1.3 LCM actions
    (_a(L.LCM_INIT), E.LCM_DEPLOY, _a(L.PROLOG), (A.TM_PROLOG,)),
    (_RUN, E.LCM_SUSPEND, _a(L.SAVE_SUSPEND), (A.VMM_SAVE,)),
    (_RUN, E.LCM_STOP, _a(L.SAVE_STOP), (A.VMM_SAVE,)),
    (_RUN, E.LCM_MIGRATE, _a(L.SAVE_MIGRATE), (A.VMM_SAVE,)),
    (_RUN, E.LCM_LIVE_MIGRATE, _a(L.MIGRATE), (A.VMM_MIGRATE,)),
    (_RUN, E.LCM_SHUTDOWN, _a(L.SHUTDOWN), (A.VMM_SHUTDOWN,)),
    (_RUN, E.LCM_CANCEL, _a(L.CANCEL), (A.VMM_CANCEL,)),
    (_a(L.LCM_INIT), E.LCM_RESTORE, _a(L.BOOT), (A.VMM_RESTORE,)),
    (_a(L.UNKNOWN), E.LCM_RESTART, _a(L.BOOT), (A.VMM_DEPLOY,)),
    (_a(L.BOOT), E.LCM_RESTART, _a(L.BOOT), (A.VMM_DEPLOY,)),
    # §1.7 delete_action, one line per LCM state
    *[
        (_a(s), E.LCM_DELETE, _DONE, None)
        for s in LcmState
        if s not in (L.LCM_INIT, L.DELETE, L.FAILURE)
    ],
    # §1.4 callbacks
    (_a(L.SAVE_MIGRATE), E.SAVE_SUCCESS, _a(L.PROLOG_MIGRATE), (A.TM_PROLOG_MIGR,)),
    (_a(L.SAVE_SUSPEND), E.SAVE_SUCCESS, _SUSP, None),
    (_a(L.SAVE_STOP), E.SAVE_SUCCESS, _a(L.EPILOG_STOP), (A.TM_EPILOG_STOP,)),
    (_a(L.SAVE_MIGRATE), E.SAVE_FAILURE, _RUN, (A.VMM_POLL,)),
    (_a(L.SAVE_SUSPEND), E.SAVE_FAILURE, _RUN, (A.VMM_POLL,)),
    (_a(L.SAVE_STOP), E.SAVE_FAILURE, _RUN, (A.VMM_POLL,)),
    (_a(L.MIGRATE), E.DEPLOY_SUCCESS, _RUN, ()),
    (_a(L.BOOT), E.DEPLOY_SUCCESS, _RUN, ()),
    (_a(L.PROLOG), E.DEPLOY_SUCCESS, _RUN, ()),  # quirk 4
    (_a(L.MIGRATE), E.DEPLOY_FAILURE, _RUN, (A.VMM_POLL,)),
    (_a(L.BOOT), E.DEPLOY_FAILURE, _FAILED, None),
    (_a(L.SHUTDOWN), E.SHUTDOWN_SUCCESS, _a(L.EPILOG), (A.TM_EPILOG,)),
    (_a(L.SHUTDOWN), E.SHUTDOWN_FAILURE, _RUN, (A.VMM_POLL,)),
    (_a(L.CANCEL), E.CANCEL_SUCCESS, _DONE, ()),
    (_a(L.CANCEL), E.CANCEL_FAILURE, _RUN, (A.VMM_POLL,)),
    (_a(L.PROLOG), E.PROLOG_SUCCESS, _a(L.BOOT), (A.VMM_DEPLOY,)),
    (_a(L.PROLOG_MIGRATE), E.PROLOG_SUCCESS, _a(L.BOOT), (A.VMM_RESTORE,)),
    (_a(L.PROLOG_RESUME), E.PROLOG_SUCCESS, _a(L.BOOT), (A.VMM_RESTORE,)),
    *[(_a(s), E.PROLOG_FAILURE, _FAILED, None) for s in (L.PROLOG, L.PROLOG_MIGRATE)],
    (_a(L.PROLOG_RESUME), E.PROLOG_FAILURE, _FAILED, None),
    (_a(L.EPILOG_STOP), E.EPILOG_SUCCESS, _STOPPED, ()),
    (_a(L.EPILOG), E.EPILOG_SUCCESS, _DONE, ()),
    (_a(L.EPILOG_STOP), E.EPILOG_FAILURE, _FAILED, None),
    (_a(L.EPILOG), E.EPILOG_FAILURE, _FAILED, None),
    (_RUN, E.MONITOR_FAILURE, _FAILED, None),
    (_RUN, E.MONITOR_SUSPEND, _SUSP, ()),
    (_RUN, E.MONITOR_DONE, _a(L.UNKNOWN), ()),
    (_a(L.BOOT), E.FAILURE, _FAILED, (A.TM_EPILOG_DELETE,)),
    # §1.5 DM callbacks
    (_a(L.SAVE_SUSPEND), E.SUSPEND_SUCCESS, _SUSP, ()),
    (_a(L.EPILOG_STOP), E.STOP_SUCCESS, _STOPPED, ()),
    (_a(L.EPILOG), E.DONE, _DONE, None),
    (_a(L.FAILURE), E.FAILED, _FAILED, ()),
    # §1.6 poll STATE letters
    (_a(L.UNKNOWN), E.POLL_ACTIVE, _RUN, ()),
    (_RUN, E.POLL_PAUSED, _SUSP, None),
    (_a(L.UNKNOWN), E.POLL_PAUSED, _SUSP, None),
    (_RUN, E.POLL_ERROR, _FAILED, None),
    (_a(L.UNKNOWN), E.POLL_ERROR, _FAILED, None),
    (_RUN, E.POLL_GONE, _a(L.UNKNOWN), None),
    # docs/recovery.md
    (_a(L.LCM_INIT), E.RECOVER, _a(L.PROLOG), (A.TM_PROLOG,)),  # cur.stime == 0
    (_a(L.LCM_INIT), E.RECOVER, _a(L.BOOT), (A.VMM_RESTORE,)),  # reason STOP_RESUME
    (_a(L.LCM_INIT), E.RECOVER, _FAILED, None),  # anything else
    (_RUN, E.RECOVER, _RUN, (A.MARK_POLLED, A.VMM_POLL)),
    (_a(L.UNKNOWN), E.RECOVER, _a(L.UNKNOWN), (A.MARK_POLLED, A.VMM_POLL)),
    (_a(L.PROLOG), E.RECOVER, _a(L.PROLOG), (A.TM_PROLOG,)),
    (_a(L.PROLOG_RESUME), E.RECOVER, _a(L.PROLOG_RESUME), (A.TM_PROLOG_RESUME,)),
    (_a(L.PROLOG_MIGRATE), E.RECOVER, _a(L.PROLOG_MIGRATE), (A.TM_PROLOG_MIGR,)),
    (_a(L.BOOT), E.RECOVER, _a(L.BOOT), (A.VMM_DEPLOY,)),  # no deploy id
    (_a(L.BOOT), E.RECOVER, _a(L.BOOT), (A.VMM_RESTORE,)),  # no deploy id, was restoring
    (_a(L.BOOT), E.RECOVER, _a(L.BOOT), (A.RECOVER_POLL,)),
    *[
        (_a(s), E.RECOVER, _a(s), (A.RECOVER_POLL,))
        for s in (L.SHUTDOWN, L.SAVE_STOP, L.SAVE_SUSPEND, L.SAVE_MIGRATE, L.MIGRATE)
    ],
    (_a(L.CANCEL), E.RECOVER, _a(L.CANCEL), (A.VMM_CANCEL,)),
    (_a(L.EPILOG), E.RECOVER, _a(L.EPILOG), (A.TM_EPILOG,)),
    (_a(L.EPILOG_STOP), E.RECOVER, _a(L.EPILOG_STOP), (A.TM_EPILOG_STOP,)),
    (_a(L.FAILURE), E.RECOVER, _FAILED, (A.TM_EPILOG_DELETE,)),
    (_a(L.DELETE), E.RECOVER, _DONE, (A.VMM_CANCEL, A.TM_EPILOG_DELETE)),
    (_a(L.DELETE), E.RECOVER, _DONE, (A.TM_EPILOG_DELETE,)),
    (_a(L.BOOT), E.PROBE_ACTIVE, _RUN, ()),
    (_a(L.BOOT), E.PROBE_GONE, _a(L.BOOT), (A.VMM_DEPLOY,)),
    (_a(L.BOOT), E.PROBE_OTHER, _a(L.BOOT), (A.VMM_RESTORE,)),
    (_a(L.SHUTDOWN), E.PROBE_GONE, _a(L.EPILOG), (A.TM_EPILOG,)),
    (_a(L.SHUTDOWN), E.PROBE_ACTIVE, _a(L.SHUTDOWN), (A.VMM_SHUTDOWN,)),
    (_a(L.SAVE_STOP), E.PROBE_PAUSED, _a(L.EPILOG_STOP), (A.TM_EPILOG_STOP,)),
    (_a(L.SAVE_SUSPEND), E.PROBE_GONE, _SUSP, ()),
    (_a(L.SAVE_MIGRATE), E.PROBE_OTHER, _a(L.SAVE_MIGRATE), (A.VMM_SAVE,)),
    (_a(L.MIGRATE), E.PROBE_ACTIVE, _RUN, ()),
    (_a(L.MIGRATE), E.PROBE_GONE, _RUN, (A.VMM_POLL,)),
]


def _spec_id(entry: tuple) -> str:
    (state, lcm), event, end, _ = entry
    settled = end[1] if end[0] == S.ACTIVE else end[0]
    return f"{state.name}/{lcm.name}-{event.name}->{settled.name}"


@pytest.mark.parametrize("entry", SPEC, ids=[_spec_id(e) for e in SPEC])
def test_table_covers_the_spec(entry):
    (state, lcm), event, end, actions = entry
    rows = rows_for(state, lcm, event)
    assert rows, f"no row for {state.name}/{lcm.name} {event.name}"
    outcomes = [o for row in rows for o in _outcomes(row, state, lcm)]
    ends = [(s, c) for s, c, _ in outcomes]
    assert end in ends, f"{state.name}/{lcm.name} {event.name} ends in {ends}, not {end}"
    if actions is not None:
        assert (*end, actions) in outcomes, outcomes


BOOKKEEPING = (A.RELEASE_LEASES, A.FORGET, A.NOTIFY_PENDING)


def _outcomes(
    row: Transition, state: VmState, lcm: LcmState
) -> list[tuple[VmState, LcmState, tuple[Action, ...]]]:
    """Every (settled state, lcm, calls made) ``row`` and the rows it chains to can give."""
    state = row.to_state if row.to_state is not None else state
    lcm = row.to_lcm if row.to_lcm is not None else lcm
    calls = tuple(a for a in row.actions if a not in BOOKKEEPING)
    if row.then is None:
        return [(state, lcm, calls)]
    return [
        (s, c, calls + more)
        for nxt in rows_for(state, lcm, row.then)
        for s, c, more in _outcomes(nxt, state, lcm)
    ]


# ---------------------------------------------------------------------------
# the table's own consistency
# ---------------------------------------------------------------------------


def test_events_are_distinct_members():
    assert len({e.value for e in Event}) == len(Event) == len(Event.__members__)


def test_new_records_come_last():
    """The machine writes stamps through the VM's cur/prev: a new record must follow them."""
    for row in TABLE:
        kinds = [isinstance(op, NewRecord) for op in row.history]
        assert kinds == sorted(kinds), row


def test_every_active_state_has_a_recovery_rule():
    vm = VirtualMachine(oid=1, uid=0, name="x", template=None, state=S.ACTIVE)  # type: ignore[arg-type]
    vm.history = History(1, 0, "h", "/d", 0, "vmm", "tm")
    for lcm in LcmState:
        vm.lcm_state = lcm
        assert find(vm, Event.RECOVER) is not None, lcm


def test_chained_events_have_rows():
    for row in TABLE:
        if row.then is None:
            continue
        for state, lcm, _ in row.covered():
            s = row.to_state if row.to_state is not None else state
            c = row.to_lcm if row.to_lcm is not None else lcm
            if row.then is E.LCM_DELETE and c in (L.LCM_INIT, L.DELETE, L.FAILURE):
                continue  # quirk 7: the LCM does nothing, the RPC still succeeds
            assert rows_for(s, c, row.then), (row, state, lcm)


def test_state_machine_doc_is_current():
    """Regenerate with ``python -m one_core.engine.transitions --markdown > docs/state-machine.md``."""
    assert DOC.read_text(encoding="utf-8") == markdown()


# ---------------------------------------------------------------------------
# every row on the real engine
# ---------------------------------------------------------------------------

STAMP = 2_000_000_000
"""The engine clock during the event: every time a row sets is exactly this."""

LABELS: dict[Action, str] = {
    A.VMM_DEPLOY: "DEPLOY",
    A.VMM_RESTORE: "RESTORE",
    A.VMM_SAVE: "SAVE",
    A.VMM_SHUTDOWN: "SHUTDOWN",
    A.VMM_CANCEL: "CANCEL",
    A.VMM_CANCEL_PREVIOUS: "CANCEL_PREVIOUS",
    A.VMM_MIGRATE: "MIGRATE",
    A.VMM_POLL: "POLL",
    A.TM_PROLOG: "TRANSFER prolog",
    A.TM_PROLOG_MIGR: "TRANSFER migrate",
    A.TM_PROLOG_RESUME: "TRANSFER resume",
    A.TM_EPILOG: "TRANSFER epilog",
    A.TM_EPILOG_STOP: "TRANSFER stop",
    A.TM_EPILOG_DELETE: "TRANSFER delete",
    A.TM_EPILOG_DELETE_PREVIOUS: "TRANSFER delete_prev",
    A.RECOVER_POLL: "RECOVER_POLL",
}
"""The executor label of each driver action (what the engine queues for the VM)."""

CANCELS = (A.VMM_DRIVER_CANCEL, A.TM_DRIVER_CANCEL)
NEEDS_PREV = (L.MIGRATE, L.SAVE_MIGRATE, L.PROLOG_MIGRATE)


def _sources(row: Transition) -> list[tuple[VmState, LcmState]]:
    """Up to three (state, lcm) pairs of the row a VM can really be in."""
    pairs = []
    for state in row.states:
        for lcm in row.lcms:
            if (state == S.ACTIVE) or lcm == L.LCM_INIT:
                pairs.append((state, lcm))
    if len(pairs) <= 3:
        return pairs
    return [pairs[0], pairs[len(pairs) // 2], pairs[-1]]


CASES = [
    pytest.param(n, event, state, lcm, id=f"{n + 1}-{event.name}-{state.name}-{lcm.name}")
    for n, row in enumerate(TABLE)
    for event in row.events
    for state, lcm in _sources(row)
]

_HOLD_GUARD = {
    Guard.RESUMING: lambda vm: setattr(vm.previous, "reason", Reason.STOP_RESUME),
    Guard.NEVER_STARTED: lambda vm: setattr(vm.history, "stime", 0),
    Guard.SAVED: lambda vm: setattr(vm.history, "reason", Reason.STOP_RESUME),
    Guard.NO_DEPLOY_ID: lambda vm: setattr(vm, "deploy_id", ""),
    Guard.RESTORING: lambda vm: setattr(vm, "pending_action", "RESTORE"),
}
_BREAK_GUARD = {
    Guard.RESUMING: lambda vm: setattr(vm.previous, "reason", Reason.NONE),
    Guard.NEVER_STARTED: lambda vm: setattr(vm.history, "stime", 1),
    Guard.SAVED: lambda vm: setattr(vm.history, "reason", Reason.NONE),
    Guard.NO_DEPLOY_ID: lambda vm: setattr(vm, "deploy_id", f"dummy-{vm.oid}"),
    Guard.HAS_DEPLOY_ID: lambda vm: setattr(vm, "deploy_id", ""),
    Guard.RESTORING: lambda vm: setattr(vm, "pending_action", ""),
}


def _place(env: Env, row: Transition, event: Event, state: VmState, lcm: LcmState) -> int:
    """A VM in ``(state, lcm)`` for which ``event`` takes ``row``."""
    vid = env.allocate()
    fresh = Guard.NO_HISTORY in row.when or (event is E.DEPLOY)
    if not fresh and state not in (S.PENDING, S.HOLD, S.INIT):
        env.running(vid)
    if event is E.RELEASE or (state == S.HOLD and not fresh):
        env.engine.action("hold", vid)

    def force() -> None:
        pool = env.engine.pool
        vm = pool.get(vid)
        migrating = lcm in NEEDS_PREV or event in (E.LCM_MIGRATE, E.LCM_LIVE_MIGRATE)
        if vm.history is not None and (migrating or Guard.RESUMING in row.when):
            pool.insert_history(vm, env.engine.dm._new_record(vm, env.node2))
        vm.state, vm.lcm_state = state, lcm
        for guard in row.when:
            if guard in _HOLD_GUARD:
                _HOLD_GUARD[guard](vm)
        for _ in range(4):
            chosen = find(vm, event)
            if chosen is row:
                break
            assert chosen is not None, "no row found: the setup is wrong"
            extra = [g for g in chosen.when if g not in row.when and g in _BREAK_GUARD]
            assert extra, f"cannot steer {event.name} away from {chosen}"
            _BREAK_GUARD[extra[0]](vm)
        assert find(vm, event) is row
        pool.write(vm)
        pool.update_history(vm)
        pool.update_previous_history(vm)

    env.on_dispatcher(force)
    return vid


class Model:
    """What applying the row's chain to a copy of the VM must leave behind."""

    def __init__(self, vm: VirtualMachine, target: History | None):
        self.vm = vm.snapshot()
        self.target = target
        self.records: dict[int, History] = {
            r.seq: self.vm.history if r is vm.history else self.vm.previous
            for r in (vm.history, vm.previous)
            if r is not None
        }
        self.capacity: dict[int, int] = {}
        self.actions: list[Action] = []
        self.logs: list[tuple[str, str]] = []

    def run(self, row: Transition, event: Event) -> None:
        vm = self.vm
        if row.note:
            self.logs.append((event.module, row.note.format(lcm=LcmState(vm.lcm_state).name)))
        cur, prev = vm.history, vm.previous
        for op in row.history:
            if isinstance(op, Stamp):
                rec = vm if op.record is Rec.VM else cur if op.record is Rec.CUR else prev
                if rec is None:
                    continue
                for name in op.times:
                    setattr(rec, name, STAMP)
                if op.reason is not None:
                    rec.reason = op.reason
            else:
                new = self._new(op, cur, prev)
                if new is not None:
                    for name in op.times:
                        setattr(new, name, STAMP)
                    vm.add_history(new)
                    self.records[new.seq] = new
        for cap in row.capacity:
            rec = cur if cap.record is Rec.CUR else prev
            if rec is not None:
                self.capacity[rec.hid] = self.capacity.get(rec.hid, 0) + (
                    1 if cap.op == "add" else -1
                )
        if row.to_state is not None:
            vm.state = row.to_state
        if row.to_lcm is not None:
            vm.lcm_state = row.to_lcm
        self.actions.extend(row.actions)
        if row.log:
            self.logs.append((event.module, row.log))
        if row.then is not None:
            nxt = find(vm, row.then)
            if nxt is not None:
                self.run(nxt, row.then)

    def _new(self, op: NewRecord, cur: History | None, prev: History | None) -> History | None:
        if op.source == "host":
            assert self.target is not None
            return copy.copy(self.target)
        source = cur if op.source == "cur" else prev
        if source is None or cur is None:
            return None
        return source.copy_as(cur.seq + 1)

    def queued(self) -> list[str]:
        """Labels queued behind the gate: the driver actions after the last DRIVER_CANCEL
        (which also drops the sentinel queued before the event)."""
        labels = ["SENTINEL"]
        for action in self.actions:
            if action in CANCELS:
                labels = []
            elif action in LABELS:
                labels.append(LABELS[action])
        return labels


def _fire(env: Env, vid: int, event: Event) -> None:
    engine = env.engine
    if event is E.DEPLOY:
        engine.deploy(vid, env.node2)
    elif event in (E.MIGRATE, E.LIVE_MIGRATE):
        engine.migrate(vid, env.node2, event is E.LIVE_MIGRATE)
    elif event.section == "1.2":
        engine.action(event.verb, vid)
    else:
        env.on_dispatcher(lambda: engine.lcm.fire(engine.pool.get(vid), event))


def _history(env: Env, vid: int) -> dict[int, dict[str, int]]:
    rows = env.history(vid)
    return {
        r.seq: {**{t: getattr(r, t) for t in HISTORY_TIMES}, "reason": r.reason, "hid": r.hid}
        for r in rows
    }


@pytest.mark.one_db("sqlite")  # the table does not depend on the database
@pytest.mark.parametrize(("n", "event", "state", "lcm"), CASES)
def test_row_on_the_engine(env, n, event, state, lcm):
    row = TABLE[n]
    vid = _place(env, row, event, state, lcm)
    engine = env.engine
    before = engine.pool.load(vid)
    history_before = _history(env, vid)
    shares = {h: env.share(h)["running_vms"] for h in (env.node1, env.node2)}
    log_before = env.log(vid)
    target = None
    if event in (E.DEPLOY, E.MIGRATE, E.LIVE_MIGRATE):
        target = env.engine.dm._new_record(before, env.node2)
    model = Model(before, target)
    model.run(row, event)

    gate = env.gate(vid)
    engine.executor.submit(vid, "SENTINEL", lambda: None, lambda r, e: None)
    engine.now = lambda: STAMP  # type: ignore[method-assign]
    try:
        _fire(env, vid, event)
        queued = [t.label for t in engine.executor._queues.get(vid, ())]
    finally:
        del engine.now
        engine.executor.cancel_pending(vid)
        gate.open()
        env.settle()

    after = engine.pool.load(vid)
    # the state it settles in
    assert (S(after.state), L(after.lcm_state)) == (model.vm.state, model.vm.lcm_state)
    assert (model.vm.state, model.vm.lcm_state) == final(row, state, lcm) or row.when
    # the driver actions queued for the VM, in order
    assert queued == model.queued()
    # history: every record as the model says (times set are STAMP, the rest unchanged)
    history_after = _history(env, vid)
    expected = {
        seq: {**{t: getattr(r, t) for t in HISTORY_TIMES}, "reason": r.reason, "hid": r.hid}
        for seq, r in model.records.items()
    }
    assert {seq: history_after[seq] for seq in expected} == expected
    assert set(history_after) == set(history_before) | set(expected)
    assert after.etime == model.vm.etime
    if A.MARK_POLLED in model.actions:
        assert after.last_poll == STAMP
    # host counters
    for hid, count in shares.items():
        assert env.share(hid)["running_vms"] - count == model.capacity.get(hid, 0), hid
    # vm.log
    new_log = env.log(vid)[len(log_before) :]
    for module, text in model.logs:
        assert f"[{module}][I]: {text}" in new_log, (text, new_log)
