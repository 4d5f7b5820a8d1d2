"""The VM state machine: one table for spec §1 (DM, LCM, driver callbacks, delete) and recovery.

Every VM state change the engine makes is a row of :data:`TABLE`::

    (state, lcm_state, event) [when guards]  ->  new state, new lcm_state,
        history effect, capacity, driver actions, vm.log message, next event

:mod:`one_core.engine.machine` applies a row, always in the same order:

1. ``note`` is written to vm.log (recovery rows also write it to oned.log);
2. the history effect: :class:`Stamp` sets times (and a reason) on the VM or on the
   cur/prev record *as they were when the event arrived*, and writes the record;
   :class:`NewRecord` appends a record (it comes last);
3. the capacity changes (:class:`Cap`) on the arrival cur/prev host;
4. the new ``(state, lcm_state)`` is set and the VM updated (UPDATE hooks run);
5. the actions, in order (driver calls are issued after the event's commit);
6. ``log`` is written to vm.log;
7. ``then``, the next event, is applied to the VM (DM callbacks, ``failure_action``).

When no row matches, :data:`MISSES` says what happens (an RPC error, a log line, or nothing).
The start-up recovery rules of ``docs/recovery.md`` are rows of the same table, keyed on the
events :attr:`Event.RECOVER` and ``PROBE_*`` (the result of the hypervisor poll recovery asks).

``python -m one_core.engine.transitions --markdown`` renders ``docs/state-machine.md``
(:mod:`one_core.engine.statedoc`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from one_core.vm.states import IGNORE_REPLIES, LcmState, Reason, VmState

if TYPE_CHECKING:
    from one_core.vm.model import VirtualMachine

S = VmState
L = LcmState


class Event(Enum):
    """What happens to a VM. ``value`` is ``(section, vm.log module, name)``."""

    # §1.2 user operations (RPC -> DM)
    DEPLOY = ("1.2", "DiM", "deploy")
    MIGRATE = ("1.2", "DiM", "migrate")
    LIVE_MIGRATE = ("1.2", "DiM", "live_migrate")
    SHUTDOWN = ("1.2", "DiM", "shutdown")
    HOLD = ("1.2", "DiM", "hold")
    RELEASE = ("1.2", "DiM", "release")
    STOP = ("1.2", "DiM", "stop")
    CANCEL = ("1.2", "DiM", "cancel")
    SUSPEND = ("1.2", "DiM", "suspend")
    RESUME = ("1.2", "DiM", "resume")
    RESTART = ("1.2", "DiM", "restart")
    FINALIZE = ("1.2", "DiM", "finalize")
    # §1.3, §1.7 LCM actions triggered by the DM
    LCM_DEPLOY = ("1.3", "LCM", "deploy")
    LCM_SUSPEND = ("1.3", "LCM", "suspend")
    LCM_STOP = ("1.3", "LCM", "stop")
    LCM_MIGRATE = ("1.3", "LCM", "migrate")
    LCM_LIVE_MIGRATE = ("1.3", "LCM", "live_migrate")
    LCM_SHUTDOWN = ("1.3", "LCM", "shutdown")
    LCM_CANCEL = ("1.3", "LCM", "cancel")
    LCM_RESTORE = ("1.3", "LCM", "restore")
    LCM_RESTART = ("1.3", "LCM", "restart")
    LCM_DELETE = ("1.7", "LCM", "delete")
    # §1.4 LCM callbacks (driver replies, internal failures)
    SAVE_SUCCESS = ("1.4", "LCM", "save_success")
    SAVE_FAILURE = ("1.4", "LCM", "save_failure")
    DEPLOY_SUCCESS = ("1.4", "LCM", "deploy_success")
    DEPLOY_FAILURE = ("1.4", "LCM", "deploy_failure")
    SHUTDOWN_SUCCESS = ("1.4", "LCM", "shutdown_success")
    SHUTDOWN_FAILURE = ("1.4", "LCM", "shutdown_failure")
    CANCEL_SUCCESS = ("1.4", "LCM", "cancel_success")
    CANCEL_FAILURE = ("1.4", "LCM", "cancel_failure")
    PROLOG_SUCCESS = ("1.4", "LCM", "prolog_success")
    PROLOG_FAILURE = ("1.4", "LCM", "prolog_failure")
    EPILOG_SUCCESS = ("1.4", "LCM", "epilog_success")
    EPILOG_FAILURE = ("1.4", "LCM", "epilog_failure")
    MONITOR_FAILURE = ("1.4", "LCM", "monitor_failure")
    MONITOR_SUSPEND = ("1.4", "LCM", "monitor_suspend")
    MONITOR_DONE = ("1.4", "LCM", "monitor_done")
    FAILURE = ("1.4", "LCM", "failure")
    # §1.5 DM callbacks (final states)
    SUSPEND_SUCCESS = ("1.5", "DiM", "suspend_success")
    STOP_SUCCESS = ("1.5", "DiM", "stop_success")
    DONE = ("1.5", "DiM", "done")
    FAILED = ("1.5", "DiM", "failed")
    # §1.6 the STATE letter of a poll
    POLL_ACTIVE = ("1.6", "VMM", "poll a")
    POLL_PAUSED = ("1.6", "VMM", "poll p")
    POLL_ERROR = ("1.6", "VMM", "poll e")
    POLL_GONE = ("1.6", "VMM", "poll d")
    # docs/recovery.md: start-up reconciliation and its hypervisor poll
    RECOVER = ("recovery", "LCM", "recover")
    PROBE_ACTIVE = ("recovery", "LCM", "probe a")
    PROBE_GONE = ("recovery", "LCM", "probe d")
    PROBE_PAUSED = ("recovery", "LCM", "probe p")
    PROBE_OTHER = ("recovery", "LCM", "probe other")

    @property
    def section(self) -> str:
        return self.value[0]

    @property
    def module(self) -> str:
        """The vm.log module of the row's messages."""
        return self.value[1]

    @property
    def verb(self) -> str:
        return self.value[2]

    @property
    def recovery(self) -> bool:
        return self.section == "recovery"


class Action(Enum):
    """What a row makes the engine do besides the state change (in order)."""

    VMM_DEPLOY = "VMM DEPLOY"
    VMM_RESTORE = "VMM RESTORE"
    VMM_SAVE = "VMM SAVE"
    VMM_SHUTDOWN = "VMM SHUTDOWN"
    VMM_CANCEL = "VMM CANCEL"
    VMM_CANCEL_PREVIOUS = "VMM CANCEL_PREVIOUS"
    VMM_MIGRATE = "VMM MIGRATE"
    VMM_POLL = "VMM POLL"
    VMM_DRIVER_CANCEL = "VMM DRIVER_CANCEL"
    TM_PROLOG = "TM PROLOG"
    TM_PROLOG_MIGR = "TM PROLOG_MIGR"
    TM_PROLOG_RESUME = "TM PROLOG_RESUME"
    TM_EPILOG = "TM EPILOG"
    TM_EPILOG_STOP = "TM EPILOG_STOP"
    TM_EPILOG_DELETE = "TM EPILOG_DELETE"
    TM_EPILOG_DELETE_PREVIOUS = "TM EPILOG_DELETE_PREVIOUS"
    TM_DRIVER_CANCEL = "TM DRIVER_CANCEL"
    RECOVER_POLL = "VMM POLL (recovery probe)"
    """Recovery asks the hypervisor; its answer comes back as a ``PROBE_*`` event."""
    MARK_POLLED = "last_poll = now"
    NOTIFY_PENDING = "wake the scheduler"
    RELEASE_LEASES = "release leases"
    FORGET = "drop from the cache"

    @property
    def driver(self) -> bool:
        """A call to a VMM or TM driver (or the cancel of queued ones)."""
        return self.value.startswith(("VMM ", "TM "))


class Guard(Enum):
    """A condition a row needs besides the key (checked in row order)."""

    HAS_HISTORY = "cur record exists"
    NO_HISTORY = "no cur record"
    RESUMING = "prev.reason == STOP_RESUME"
    NEVER_STARTED = "cur.stime == 0"
    SAVED = "cur.reason == STOP_RESUME"
    NO_DEPLOY_ID = "deploy id empty"
    HAS_DEPLOY_ID = "deploy id set"
    RESTORING = "pending action RESTORE"

    def holds(self, vm: VirtualMachine) -> bool:
        cur, prev = vm.history, vm.previous
        if self is Guard.HAS_HISTORY:
            return cur is not None
        if self is Guard.NO_HISTORY:
            return cur is None
        if self is Guard.RESUMING:
            return prev is not None and prev.reason == Reason.STOP_RESUME
        if self is Guard.NEVER_STARTED:
            return cur is not None and cur.stime == 0
        if self is Guard.SAVED:
            return cur is not None and cur.reason == Reason.STOP_RESUME
        if self is Guard.NO_DEPLOY_ID:
            return not vm.deploy_id
        if self is Guard.HAS_DEPLOY_ID:
            return bool(vm.deploy_id)
        return vm.pending_action == "RESTORE"


class Rec(Enum):
    """Which record a history or capacity effect touches (as it was when the event arrived)."""

    VM = "vm"
    CUR = "cur"
    PREV = "prev"


@dataclass(frozen=True, slots=True)
class Stamp:
    """``<record>.<times> = now`` (and ``<record>.reason = reason``), then write the record."""

    record: Rec
    times: tuple[str, ...]
    reason: Reason | None = None

    def __str__(self) -> str:
        text = " = ".join(f"{self.record.value}.{t}" for t in self.times) + " = now"
        if self.reason is not None:
            text += f", {self.record.value}.reason = {self.reason.name}"
        return text


@dataclass(frozen=True, slots=True)
class NewRecord:
    """Append a history record: for the requested host (``host``), or a copy of the
    cur (``cp_history``) or prev (``cp_previous_history``) record, ``times`` set to now."""

    source: str
    times: tuple[str, ...] = ()

    def __str__(self) -> str:
        what = {"host": "for the target host", "cur": "copy of cur", "prev": "copy of prev"}
        text = f"new record {what[self.source]}"
        if self.times:
            text += ", " + " = ".join(f"new.{t}" for t in self.times) + " = now"
        return text


HistoryOp = Stamp | NewRecord


@dataclass(frozen=True, slots=True)
class Cap:
    """Add or remove the VM's requirements on the host of ``record``."""

    op: str  # "add" or "del"
    record: Rec

    def __str__(self) -> str:
        return f"{self.op} {self.record.value} host"


ANY_LCM: tuple[LcmState, ...] = tuple(LcmState)
REPLY_STATES: tuple[LcmState, ...] = tuple(s for s in LcmState if s not in IGNORE_REPLIES)
"""LCM states in which VMM/TM replies are handled (§1.8 drops the others)."""
PROLOG_STATES: tuple[LcmState, ...] = (L.PROLOG, L.PROLOG_MIGRATE, L.PROLOG_RESUME)
EPILOG_STATES: tuple[LcmState, ...] = (L.EPILOG, L.EPILOG_STOP)
SAVE_STATES: tuple[LcmState, ...] = (L.SAVE_STOP, L.SAVE_SUSPEND, L.SAVE_MIGRATE)
NOT_ACTIVE: tuple[VmState, ...] = (S.INIT, S.PENDING, S.HOLD, S.STOPPED)


@dataclass(frozen=True, slots=True)
class Transition:
    """One row: the keys it covers, its guards and what it does (see the module docstring)."""

    states: tuple[VmState, ...]
    lcms: tuple[LcmState, ...]
    events: tuple[Event, ...]
    when: tuple[Guard, ...] = ()
    to_state: VmState | None = None
    to_lcm: LcmState | None = None
    history: tuple[HistoryOp, ...] = ()
    capacity: tuple[Cap, ...] = ()
    actions: tuple[Action, ...] = ()
    note: str = ""
    log: str = ""
    then: Event | None = None
    rule: str = ""
    """Recovery rows: the rule's short name (:func:`one_core.engine.recovery.recover` returns it)."""

    def covered(self) -> Iterator[tuple[VmState, LcmState, Event]]:
        """Every (state, lcm_state, event) key of the row."""
        for state in self.states:
            for lcm in self.lcms:
                for event in self.events:
                    yield state, lcm, event

    def applies(self, vm: VirtualMachine) -> bool:
        return all(guard.holds(vm) for guard in self.when)

    @property
    def changes_state(self) -> bool:
        return self.to_state is not None or self.to_lcm is not None


def _t(
    states: VmState | tuple[VmState, ...],
    lcms: LcmState | tuple[LcmState, ...],
    events: Event | tuple[Event, ...],
    **effects: object,
) -> Transition:
    as_tuple = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
    return Transition(as_tuple(states), as_tuple(lcms), as_tuple(events), **effects)  # type: ignore[arg-type]


E = Event
A = Action
CUR, PREV, VM = Rec.CUR, Rec.PREV, Rec.VM
_ASSUME = "Assuming that the VM is still RUNNING (will poll VM)."
_RECOVER = "Recovering VM in state {lcm} after a restart: "


def _delete(lcms: tuple[LcmState, ...], time: str, actions: tuple[Action, ...]) -> Transition:
    """§1.7 ``delete_action`` in ``lcms``: DELETE, close the record(s), cancel, DM DONE."""
    both = L.MIGRATE in lcms or L.SAVE_MIGRATE in lcms
    return _t(
        S.ACTIVE,
        lcms,
        E.LCM_DELETE,
        to_lcm=L.DELETE,
        history=(Stamp(CUR, ("etime", time), Reason.USER),)
        + ((Stamp(PREV, ("etime", "retime"), Reason.USER),) if both else ()),
        capacity=(Cap("del", CUR),) + ((Cap("del", PREV),) if both else ()),
        actions=actions,
        then=E.DONE,
    )


def _back_to_source(lcm: LcmState, event: Event, log: str) -> Transition:
    """Failed (live) migration: close both records, reopen one on the source host, poll."""
    return _t(
        S.ACTIVE,
        lcm,
        event,
        to_lcm=L.RUNNING,
        history=(
            Stamp(CUR, ("etime",), Reason.ERROR),
            Stamp(PREV, ("etime", "retime"), Reason.USER),
            NewRecord("prev", ("stime", "rstime")),
        ),
        capacity=(Cap("del", CUR),),
        actions=(A.VMM_POLL,),
        log=log,
    )


TABLE: tuple[Transition, ...] = (
    # -- §1.2 user operations ---------------------------------------------------
    _t(S.PENDING, ANY_LCM, E.DEPLOY, history=(NewRecord("host"),), to_state=S.ACTIVE,
       log="New VM state is ACTIVE.", then=E.LCM_DEPLOY),
    _t(S.ACTIVE, L.RUNNING, E.MIGRATE, when=(Guard.HAS_HISTORY,), history=(NewRecord("host"),),
       then=E.LCM_MIGRATE),
    _t(S.ACTIVE, L.RUNNING, E.LIVE_MIGRATE, when=(Guard.HAS_HISTORY,),
       history=(NewRecord("host"),), then=E.LCM_LIVE_MIGRATE),
    _t(S.ACTIVE, L.RUNNING, E.SHUTDOWN, then=E.LCM_SHUTDOWN),
    _t(S.PENDING, ANY_LCM, E.HOLD, to_state=S.HOLD, log="New VM state is HOLD."),
    _t(S.HOLD, ANY_LCM, E.RELEASE, to_state=S.PENDING, actions=(A.NOTIFY_PENDING,),
       log="New VM state is PENDING."),
    _t(S.ACTIVE, L.RUNNING, E.STOP, then=E.LCM_STOP),
    _t(S.ACTIVE, L.RUNNING, E.CANCEL, then=E.LCM_CANCEL),
    _t(S.ACTIVE, L.RUNNING, E.SUSPEND, then=E.LCM_SUSPEND),
    _t(S.STOPPED, ANY_LCM, E.RESUME, to_state=S.PENDING, actions=(A.NOTIFY_PENDING,),
       log="New VM state is PENDING."),
    _t(S.SUSPENDED, ANY_LCM, E.RESUME, to_state=S.ACTIVE, log="New VM state is ACTIVE.",
       then=E.LCM_RESTORE),
    _t(S.ACTIVE, (L.UNKNOWN, L.BOOT), E.RESTART, then=E.LCM_RESTART),
    # §1.7 finalize
    _t(S.ACTIVE, ANY_LCM, E.FINALIZE, then=E.LCM_DELETE),
    _t(S.SUSPENDED, ANY_LCM, E.FINALIZE, history=(Stamp(VM, ("etime",)),), to_state=S.DONE,
       to_lcm=L.LCM_INIT, actions=(A.TM_EPILOG_DELETE, A.RELEASE_LEASES, A.FORGET),
       log="New VM state is DONE."),
    _t(NOT_ACTIVE, ANY_LCM, E.FINALIZE, history=(Stamp(VM, ("etime",)),), to_state=S.DONE,
       to_lcm=L.LCM_INIT, actions=(A.RELEASE_LEASES, A.FORGET), log="New VM state is DONE."),
    _t(S.FAILED, ANY_LCM, E.FINALIZE, to_state=S.DONE, to_lcm=L.LCM_INIT,
       actions=(A.RELEASE_LEASES, A.FORGET), log="New VM state is DONE."),
    # -- §1.3 LCM actions -----------------------------------------------------------
    _t(S.ACTIVE, ANY_LCM, E.LCM_DEPLOY, when=(Guard.HAS_HISTORY, Guard.RESUMING),
       to_lcm=L.PROLOG_RESUME, history=(Stamp(CUR, ("stime", "pstime")),),
       capacity=(Cap("add", CUR),), actions=(A.TM_PROLOG_RESUME,),
       log="New VM state is PROLOG."),
    _t(S.ACTIVE, ANY_LCM, E.LCM_DEPLOY, when=(Guard.HAS_HISTORY,), to_lcm=L.PROLOG,
       history=(Stamp(CUR, ("stime", "pstime")),), capacity=(Cap("add", CUR),),
       actions=(A.TM_PROLOG,), log="New VM state is PROLOG."),
    _t(S.ACTIVE, L.RUNNING, E.LCM_SUSPEND, to_lcm=L.SAVE_SUSPEND, actions=(A.VMM_SAVE,),
       log="New VM state is SAVE_SUSPEND"),
    _t(S.ACTIVE, L.RUNNING, E.LCM_STOP, to_lcm=L.SAVE_STOP, actions=(A.VMM_SAVE,),
       log="New VM state is SAVE_STOP"),
    _t(S.ACTIVE, L.RUNNING, E.LCM_MIGRATE, when=(Guard.HAS_HISTORY,), to_lcm=L.SAVE_MIGRATE,
       history=(Stamp(CUR, ("stime",)),), capacity=(Cap("add", CUR),), actions=(A.VMM_SAVE,),
       log="New VM state is SAVE_MIGRATE"),
    _t(S.ACTIVE, L.RUNNING, E.LCM_LIVE_MIGRATE, when=(Guard.HAS_HISTORY,), to_lcm=L.MIGRATE,
       history=(Stamp(CUR, ("stime",)),), capacity=(Cap("add", CUR),),
       actions=(A.VMM_MIGRATE,), log="New VM state is MIGRATE"),
    _t(S.ACTIVE, L.RUNNING, E.LCM_SHUTDOWN, to_lcm=L.SHUTDOWN, actions=(A.VMM_SHUTDOWN,),
       log="New VM state is SHUTDOWN"),
    _t(S.ACTIVE, L.RUNNING, E.LCM_CANCEL, to_lcm=L.CANCEL, actions=(A.VMM_CANCEL,),
       log="New state is CANCEL"),
    _t(S.ACTIVE, ANY_LCM, E.LCM_RESTORE, when=(Guard.HAS_HISTORY,), note="Restoring VM",
       to_lcm=L.BOOT, history=(NewRecord("cur", ("stime", "rstime")),),
       capacity=(Cap("add", CUR),), actions=(A.VMM_RESTORE,), log="New state is BOOT"),
    _t(S.ACTIVE, L.UNKNOWN, E.LCM_RESTART, to_lcm=L.BOOT, actions=(A.VMM_DEPLOY,),
       log="New VM state is BOOT"),
    _t(S.ACTIVE, L.BOOT, E.LCM_RESTART, actions=(A.VMM_DEPLOY,),
       log="Sending BOOT command to VM again"),
    # -- §1.7 delete_action (LCM_INIT, DELETE, FAILURE: nothing, quirk 7) -------------
    _delete((L.PROLOG, L.PROLOG_RESUME), "petime", (A.TM_DRIVER_CANCEL, A.TM_EPILOG_DELETE)),
    _delete(
        (L.BOOT, L.RUNNING, L.UNKNOWN, L.SHUTDOWN, L.CANCEL, L.SAVE_STOP, L.SAVE_SUSPEND),
        "retime",
        (A.VMM_DRIVER_CANCEL, A.VMM_CANCEL, A.TM_EPILOG_DELETE),
    ),
    _delete((L.MIGRATE,), "retime",
            (A.VMM_DRIVER_CANCEL, A.VMM_CANCEL, A.VMM_CANCEL_PREVIOUS, A.TM_EPILOG_DELETE)),
    _delete((L.SAVE_MIGRATE,), "retime",
            (A.VMM_DRIVER_CANCEL, A.VMM_CANCEL_PREVIOUS, A.TM_EPILOG_DELETE_PREVIOUS)),
    _delete((L.PROLOG_MIGRATE,), "petime",
            (A.TM_DRIVER_CANCEL, A.TM_EPILOG_DELETE, A.TM_EPILOG_DELETE_PREVIOUS)),
    _delete(EPILOG_STATES, "eetime", (A.TM_DRIVER_CANCEL, A.TM_EPILOG_DELETE)),
    # -- §1.4 callbacks -------------------------------------------------------------
    _t(S.ACTIVE, L.SAVE_MIGRATE, E.SAVE_SUCCESS, to_lcm=L.PROLOG_MIGRATE,
       history=(Stamp(PREV, ("etime", "retime"), Reason.USER), Stamp(CUR, ("pstime",))),
       capacity=(Cap("del", PREV),), actions=(A.TM_PROLOG_MIGR,),
       log="New VM state is PROLOG_MIGRATE"),
    _t(S.ACTIVE, L.SAVE_SUSPEND, E.SAVE_SUCCESS,
       history=(Stamp(CUR, ("retime", "etime"), Reason.STOP_RESUME),),
       capacity=(Cap("del", CUR),), then=E.SUSPEND_SUCCESS),
    _t(S.ACTIVE, L.SAVE_STOP, E.SAVE_SUCCESS, to_lcm=L.EPILOG_STOP,
       history=(Stamp(CUR, ("estime", "retime"), Reason.STOP_RESUME),),
       actions=(A.TM_EPILOG_STOP,), log="New VM state is EPILOG_STOP"),
    _back_to_source(L.SAVE_MIGRATE, E.SAVE_FAILURE,
                    f"Fail to save VM state while migrating. {_ASSUME}"),
    _t(S.ACTIVE, (L.SAVE_SUSPEND, L.SAVE_STOP), E.SAVE_FAILURE, to_lcm=L.RUNNING,
       actions=(A.VMM_POLL,), log=f"Fail to save VM state. {_ASSUME}"),
    _t(S.ACTIVE, L.MIGRATE, E.DEPLOY_SUCCESS, to_lcm=L.RUNNING,
       history=(Stamp(CUR, ("rstime",)), Stamp(PREV, ("etime", "retime"), Reason.USER)),
       capacity=(Cap("del", PREV),), log="New VM state is RUNNING"),
    _t(S.ACTIVE, tuple(s for s in REPLY_STATES if s != L.MIGRATE), E.DEPLOY_SUCCESS,
       to_lcm=L.RUNNING, log="New VM state is RUNNING"),  # quirk 4: no state check
    _back_to_source(L.MIGRATE, E.DEPLOY_FAILURE, f"Fail to life migrate VM. {_ASSUME}"),
    _t(S.ACTIVE, L.BOOT, E.DEPLOY_FAILURE, history=(Stamp(CUR, ("retime",)),),
       then=E.FAILURE),
    _t(S.ACTIVE, REPLY_STATES, E.SHUTDOWN_SUCCESS, to_lcm=L.EPILOG,
       history=(Stamp(CUR, ("estime", "retime")),), actions=(A.TM_EPILOG,),
       log="New VM state is EPILOG"),
    _t(S.ACTIVE, REPLY_STATES, E.SHUTDOWN_FAILURE, to_lcm=L.RUNNING, actions=(A.VMM_POLL,),
       log=f"Fail to shutdown VM. {_ASSUME}"),
    _t(S.ACTIVE, REPLY_STATES, E.CANCEL_SUCCESS,
       history=(Stamp(CUR, ("etime",), Reason.CANCEL),), capacity=(Cap("del", CUR),),
       then=E.DONE),  # quirk 5: no epilog
    _t(S.ACTIVE, REPLY_STATES, E.CANCEL_FAILURE, to_lcm=L.RUNNING, actions=(A.VMM_POLL,),
       log=f"Fail to cancel VM. {_ASSUME}"),
    _t(S.ACTIVE, L.PROLOG, E.PROLOG_SUCCESS, to_lcm=L.BOOT,
       history=(Stamp(CUR, ("petime", "rstime")),), actions=(A.VMM_DEPLOY,),
       log="New VM state is BOOT"),
    _t(S.ACTIVE, (L.PROLOG_MIGRATE, L.PROLOG_RESUME), E.PROLOG_SUCCESS, to_lcm=L.BOOT,
       history=(Stamp(CUR, ("petime", "rstime")),), actions=(A.VMM_RESTORE,),
       log="New VM state is BOOT"),
    _t(S.ACTIVE, PROLOG_STATES, E.PROLOG_FAILURE, history=(Stamp(CUR, ("petime",)),),
       then=E.FAILURE),
    _t(S.ACTIVE, L.EPILOG_STOP, E.EPILOG_SUCCESS, history=(Stamp(CUR, ("eetime", "etime")),),
       capacity=(Cap("del", CUR),), then=E.STOP_SUCCESS),
    _t(S.ACTIVE, L.EPILOG, E.EPILOG_SUCCESS, history=(Stamp(CUR, ("eetime", "etime")),),
       capacity=(Cap("del", CUR),), then=E.DONE),
    _t(S.ACTIVE, EPILOG_STATES, E.EPILOG_FAILURE, history=(Stamp(CUR, ("eetime",)),),
       then=E.FAILURE),
    _t(S.ACTIVE, (L.RUNNING, L.UNKNOWN), E.MONITOR_FAILURE, history=(Stamp(CUR, ("retime",)),),
       then=E.FAILURE),
    _t(S.ACTIVE, (L.RUNNING, L.UNKNOWN), E.MONITOR_SUSPEND,
       history=(Stamp(CUR, ("retime", "etime"), Reason.STOP_RESUME),),
       capacity=(Cap("del", CUR),), log="VM is suspended.", then=E.SUSPEND_SUCCESS),
    _t(S.ACTIVE, L.RUNNING, E.MONITOR_DONE, to_lcm=L.UNKNOWN, log="New VM state is UNKNOWN"),
    # failure_action
    _t(S.ACTIVE, ANY_LCM, E.FAILURE, to_lcm=L.FAILURE,
       history=(Stamp(CUR, ("etime",), Reason.ERROR),), capacity=(Cap("del", CUR),),
       actions=(A.TM_EPILOG_DELETE,), then=E.FAILED),
    # -- §1.5 DM callbacks --------------------------------------------------------
    _t(S.ACTIVE, ANY_LCM, E.SUSPEND_SUCCESS, to_state=S.SUSPENDED, to_lcm=L.LCM_INIT,
       log="New VM state is SUSPENDED"),
    _t(S.ACTIVE, ANY_LCM, E.STOP_SUCCESS, to_state=S.STOPPED, to_lcm=L.LCM_INIT,
       log="New VM state is STOPPED"),
    _t(S.ACTIVE, ANY_LCM, E.DONE, history=(Stamp(VM, ("etime",)),), to_state=S.DONE,
       to_lcm=L.LCM_INIT, actions=(A.RELEASE_LEASES, A.FORGET), log="New VM state is DONE"),
    _t(tuple(VmState), ANY_LCM, E.FAILED, history=(Stamp(VM, ("etime",)),),
       to_state=S.FAILED, to_lcm=L.LCM_INIT, log="New VM state is FAILED"),
    # -- §1.6 poll results (RUNNING 'a': nothing; UNKNOWN 'd': nothing) ---------------
    _t(S.ACTIVE, L.UNKNOWN, E.POLL_ACTIVE, to_lcm=L.RUNNING,
       log="VM was now found, new state is RUNNING"),
    _t(S.ACTIVE, (L.RUNNING, L.UNKNOWN), E.POLL_PAUSED, then=E.MONITOR_SUSPEND),
    _t(S.ACTIVE, (L.RUNNING, L.UNKNOWN), E.POLL_ERROR, then=E.MONITOR_FAILURE),
    _t(S.ACTIVE, L.RUNNING, E.POLL_GONE,
       note="VM running but it was not found. Restart and delete actions available or try "
       "to recover it manually", then=E.MONITOR_DONE),
    # -- docs/recovery.md: one rule per state ------------------------------------------
    _t(S.ACTIVE, ANY_LCM, E.RECOVER, when=(Guard.NO_HISTORY,),
       note=_RECOVER + "no history, the VM fails", then=E.FAILED, rule="failed"),
    _t(S.ACTIVE, L.LCM_INIT, E.RECOVER, when=(Guard.NEVER_STARTED,),
       note=_RECOVER + "deploy again", then=E.LCM_DEPLOY, rule="deploy"),
    _t(S.ACTIVE, L.LCM_INIT, E.RECOVER, when=(Guard.SAVED,), note=_RECOVER + "restore again",
       then=E.LCM_RESTORE, rule="restore"),
    _t(S.ACTIVE, L.LCM_INIT, E.RECOVER, note=_RECOVER + "unknown step, the VM fails",
       then=E.FAILURE, rule="failed"),
    _t(S.ACTIVE, (L.RUNNING, L.UNKNOWN), E.RECOVER, actions=(A.MARK_POLLED, A.VMM_POLL),
       rule="poll"),
    _t(S.ACTIVE, L.PROLOG, E.RECOVER, note=_RECOVER + "prolog again",
       actions=(A.TM_PROLOG,), rule="prolog"),
    _t(S.ACTIVE, L.PROLOG_RESUME, E.RECOVER, note=_RECOVER + "resume transfer again",
       actions=(A.TM_PROLOG_RESUME,), rule="prolog_resume"),
    _t(S.ACTIVE, L.PROLOG_MIGRATE, E.RECOVER, note=_RECOVER + "migration transfer again",
       actions=(A.TM_PROLOG_MIGR,), rule="prolog_migr"),
    _t(S.ACTIVE, L.EPILOG, E.RECOVER, note=_RECOVER + "epilog again", actions=(A.TM_EPILOG,),
       rule="epilog"),
    _t(S.ACTIVE, L.EPILOG_STOP, E.RECOVER, note=_RECOVER + "stop transfer again",
       actions=(A.TM_EPILOG_STOP,), rule="epilog_stop"),
    _t(S.ACTIVE, L.CANCEL, E.RECOVER, note=_RECOVER + "cancel again", actions=(A.VMM_CANCEL,),
       rule="cancel"),
    _t(S.ACTIVE, L.FAILURE, E.RECOVER, note=_RECOVER + "finish the failure",
       actions=(A.TM_EPILOG_DELETE,), then=E.FAILED, rule="failed"),
    _t(S.ACTIVE, L.DELETE, E.RECOVER, when=(Guard.HAS_DEPLOY_ID,),
       note=_RECOVER + "finish the delete", actions=(A.VMM_CANCEL, A.TM_EPILOG_DELETE),
       then=E.DONE, rule="done"),
    _t(S.ACTIVE, L.DELETE, E.RECOVER, note=_RECOVER + "finish the delete",
       actions=(A.TM_EPILOG_DELETE,), then=E.DONE, rule="done"),
    _t(S.ACTIVE, L.BOOT, E.RECOVER, when=(Guard.NO_DEPLOY_ID, Guard.RESTORING),
       note=_RECOVER + "boot again", actions=(A.VMM_RESTORE,), rule="deploy"),
    _t(S.ACTIVE, L.BOOT, E.RECOVER, when=(Guard.NO_DEPLOY_ID,), note=_RECOVER + "boot again",
       actions=(A.VMM_DEPLOY,), rule="deploy"),
    _t(S.ACTIVE, (L.BOOT, L.SHUTDOWN, *SAVE_STATES, L.MIGRATE), E.RECOVER,
       note=_RECOVER + "polling the VM to decide", actions=(A.RECOVER_POLL,), rule="probe"),
    # what the probe found
    _t(S.ACTIVE, L.BOOT, E.PROBE_ACTIVE, note=_RECOVER + "the VM runs", then=E.DEPLOY_SUCCESS),
    _t(S.ACTIVE, L.BOOT, (E.PROBE_GONE, E.PROBE_PAUSED, E.PROBE_OTHER),
       when=(Guard.RESTORING,), actions=(A.VMM_RESTORE,)),
    _t(S.ACTIVE, L.BOOT, (E.PROBE_GONE, E.PROBE_PAUSED, E.PROBE_OTHER),
       actions=(A.VMM_DEPLOY,)),
    _t(S.ACTIVE, L.SHUTDOWN, E.PROBE_GONE, note=_RECOVER + "the VM is gone",
       then=E.SHUTDOWN_SUCCESS),
    _t(S.ACTIVE, L.SHUTDOWN, (E.PROBE_ACTIVE, E.PROBE_PAUSED, E.PROBE_OTHER),
       actions=(A.VMM_SHUTDOWN,)),
    _t(S.ACTIVE, SAVE_STATES, (E.PROBE_GONE, E.PROBE_PAUSED), note=_RECOVER + "the VM is saved",
       then=E.SAVE_SUCCESS),
    _t(S.ACTIVE, SAVE_STATES, (E.PROBE_ACTIVE, E.PROBE_OTHER), actions=(A.VMM_SAVE,)),
    _t(S.ACTIVE, L.MIGRATE, E.PROBE_ACTIVE, note=_RECOVER + "the VM runs on the target",
       then=E.DEPLOY_SUCCESS),
    _t(S.ACTIVE, L.MIGRATE, (E.PROBE_GONE, E.PROBE_PAUSED, E.PROBE_OTHER),
       then=E.DEPLOY_FAILURE),
)  # fmt: skip
"""The state machine. Rows of one key are tried in order; the first whose guards hold wins."""


@dataclass(frozen=True, slots=True)
class Miss:
    """What happens when no row matches: ``target`` is ``rpc`` (the request is refused with
    ``text``; ``code`` -2 also writes ``text`` to oned.log), ``vm.log``, ``oned.log`` or
    ``""`` (ignored)."""

    target: str
    text: str = ""
    code: int = -1


def _dm_miss(op: str) -> Miss:
    return Miss("rpc", f"Could not {op} VM {{vid}}, wrong state.", code=-2)


MISSES: dict[Event, Miss] = {
    **{
        e: _dm_miss(e.verb)
        for e in (E.SHUTDOWN, E.HOLD, E.RELEASE, E.STOP, E.CANCEL, E.SUSPEND, E.RESUME, E.RESTART)
    },
    E.DEPLOY: Miss("rpc", "Can not deploy VM {vid}, wrong state"),
    E.MIGRATE: Miss("rpc", "Can not migrate VM {vid}, wrong state"),
    E.LIVE_MIGRATE: Miss("rpc", "Can not migrate VM {vid}, wrong state"),
    **{
        e: Miss("vm.log", f"{e.verb}_action, VM in a wrong state.")
        for e in Event
        if e.section == "1.3"
    },
    **{
        e: Miss("vm.log", f"{e.verb}_action, VM in a wrong state")
        for e in (E.SAVE_SUCCESS, E.PROLOG_SUCCESS, E.EPILOG_SUCCESS)
    },
    **{
        e: Miss("oned.log", f"{e.verb} action received but VM {{vid}} not in ACTIVE state")
        for e in (E.SUSPEND_SUCCESS, E.STOP_SUCCESS, E.DONE)
    },
}
"""Events whose unmatched keys do more than nothing (FINALIZE of DONE, LCM DELETE in
LCM_INIT/DELETE/FAILURE, replies in other states... are silently ignored)."""


def _by_event() -> dict[Event, tuple[Transition, ...]]:
    index: dict[Event, list[Transition]] = {}
    for row in TABLE:
        for event in row.events:
            index.setdefault(event, []).append(row)
    return {event: tuple(rows) for event, rows in index.items()}


BY_EVENT = _by_event()
"""``event`` -> the rows that handle it, in table order."""


def rows_for(state: VmState, lcm: LcmState, event: Event) -> tuple[Transition, ...]:
    """The rows of key ``(state, lcm_state, event)``, in table order."""
    return tuple(row for row in BY_EVENT.get(event, ()) if state in row.states and lcm in row.lcms)


def find(vm: VirtualMachine, event: Event) -> Transition | None:
    """The row ``event`` takes for ``vm`` now, or None (see :data:`MISSES`)."""
    state, lcm = VmState(vm.state), LcmState(vm.lcm_state)
    for row in BY_EVENT.get(event, ()):
        if state in row.states and lcm in row.lcms and (not row.when or row.applies(vm)):
            return row
    return None


def final(row: Transition, state: VmState, lcm: LcmState) -> tuple[VmState, LcmState]:
    """The ``(state, lcm_state)`` a row leads to once its ``then`` chain ran (guards of the
    chained rows assumed to hold as for a VM with history)."""
    state = row.to_state if row.to_state is not None else state
    lcm = row.to_lcm if row.to_lcm is not None else lcm
    if row.then is None:
        return state, lcm
    for nxt in rows_for(state, lcm, row.then):
        if Guard.NO_HISTORY not in nxt.when and Guard.RESUMING not in nxt.when:
            return final(nxt, state, lcm)
    return state, lcm


def main(argv: list[str] | None = None) -> int:
    """``python -m one_core.engine.transitions --markdown``: print ``docs/state-machine.md``."""
    import argparse
    import sys

    from one_core.engine import statedoc

    parser = argparse.ArgumentParser(description="Render the VM transition table.")
    parser.add_argument("--markdown", action="store_true", help="docs/state-machine.md (default)")
    parser.add_argument("--mermaid", action="store_true", help="the Mermaid diagram only")
    args = parser.parse_args(argv)
    sys.stdout.write(statedoc.mermaid() + "\n" if args.mermaid else statedoc.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
