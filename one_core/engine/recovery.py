"""Start-up recovery: reconcile each VM oned left in a transitional state.

1.4 did nothing (quirk 12). The rules, one per LCM state, are the ``RECOVER`` and
``PROBE_*`` rows of :data:`one_core.engine.transitions.TABLE` (documented in
``docs/recovery.md`` and ``docs/state-machine.md``); they rely on every state change
(and the driver action it started, ``vm_pool.pending_action``) being committed before
the action was issued. Recovery runs on the dispatcher: the VMs that are ACTIVE at
start-up are read before any other event, then reconciled in chunks of
:data:`RECOVERY_CHUNK` (one event each), so the API answers from the start and a call
that changes something waits for one chunk, not for the whole recovery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from one_core.engine.transitions import Event
from one_core.errors import DriverError
from one_core.vm.model import VirtualMachine
from one_core.vm.states import VmState

if TYPE_CHECKING:
    from one_core.drivers import LoadedDriver
    from one_core.engine.core import Engine

PROBE_EVENTS: dict[str, Event] = {
    "a": Event.PROBE_ACTIVE,
    "d": Event.PROBE_GONE,
    "p": Event.PROBE_PAUSED,
}
"""The STATE letter the recovery poll found (anything else, or an error: ``PROBE_OTHER``)."""


RECOVERY_CHUNK = 500
"""VMs reconciled per dispatcher event at start-up; API calls that arrive meanwhile run
between two chunks instead of waiting for the whole recovery."""


def recover(engine: Engine, vids: list[int] | None = None) -> dict[int, str]:
    """Reconcile the ACTIVE VMs ``vids`` (default: every ACTIVE VM); return ``{vid: rule
    applied}`` (also logged). A VM no longer ACTIVE when its turn comes is left alone."""
    from one_core.db.vm_models import VMRow

    if vids is None:
        vids = engine.pool.ids_where(VMRow.state == int(VmState.ACTIVE))
    applied: dict[int, str] = {}
    for vid in vids:
        vm = engine.pool.get(vid)
        if vm is None or vm.state != VmState.ACTIVE:
            continue
        row = engine.lcm.fire(vm, Event.RECOVER)
        applied[vid] = row.rule if row is not None else ""
    return applied


def recover_in_chunks(engine: Engine, chunk: int = RECOVERY_CHUNK) -> None:
    """Start-up recovery without holding the API back: on the dispatcher, read which VMs
    are ACTIVE now, then reconcile them ``chunk`` at a time, each chunk its own event that
    queues the next one (so events posted meanwhile, an API call, run in between)."""
    from one_core.db.vm_models import VMRow

    vids = engine.pool.ids_where(VMRow.state == int(VmState.ACTIVE))
    if vids:
        _recover_chunk(engine, vids, 0, chunk)


def _recover_chunk(engine: Engine, vids: list[int], start: int, chunk: int) -> None:
    recover(engine, vids[start : start + chunk])
    if start + chunk < len(vids):
        engine.defer(engine.dispatcher.post, _recover_chunk, engine, vids, start + chunk, chunk)


def probe(engine: Engine, vm: VirtualMachine) -> None:
    """Poll the hypervisor for ``vm``; the answer comes back as a ``PROBE_*`` event."""
    record = vm.history
    driver = engine.vmm.driver(record.vm_mad) if record else None
    vid, host, deploy_id = vm.oid, record.host_name if record else "", vm.deploy_id
    if driver is None:
        engine.dispatcher.post(_decide, engine, vid, None, DriverError("driver not loaded"))
        return

    def work(d: LoadedDriver = driver) -> Any:
        return d.call("vmm_poll", vid=vid, host=host, deploy_id=deploy_id)

    engine.executor.submit(vid, "RECOVER_POLL", work, lambda r, e: _decide(engine, vid, r, e))


def _decide(engine: Engine, vid: int, result: Any, error: DriverError | None) -> None:
    vm = engine.pool.get(vid)
    if vm is None or vm.state != VmState.ACTIVE:
        return
    letter = "" if error is not None else str((result or {}).get("STATE", ""))[:1]
    engine.lcm.fire(vm, PROBE_EVENTS.get(letter, Event.PROBE_OTHER))
