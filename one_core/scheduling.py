"""The in-daemon scheduler: calls the ``one.sched`` driver and deploys its placements.

oned component (``one_core.scheduling:setup``), active when oned.conf's
``SCHED`` section says ``mode = "internal"`` (the default). A cycle runs every
``interval`` seconds (``0``: only when woken) and shortly after a VM becomes
PENDING (:meth:`SchedulerService.wake`, called by the engine when a VM is
allocated, released or resumed from STOPPED).

A cycle: snapshot the PENDING VMs and the eligible hosts (not DISABLED nor
ERROR, ascending id) on the dispatcher, ask the driver's ``sched_place`` for
placements on the driver executor (a slow driver never stalls the
dispatcher), then deploy them on the dispatcher — the single writer — in
batches. The interval is a dispatcher timer; the scheduler has no thread of
its own (docs/architecture.md §4). Each
placement is re-checked there against the live host share (1.4's
``HostShare::test``) and the live VM state, so VMs that arrived or hosts that
filled up while the driver was thinking can never over-commit a host: the
engine adds a VM's capacity to its host in the same event that deploys it.
With ``mode = "external"`` nothing here runs; ``mm_sched`` does the same over
XML-RPC.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from one_core.errors import OneError
from one_core.placement import HostSnapshot, Placement
from one_core.vm.states import HostState, VmState

if TYPE_CHECKING:
    from one_core.daemon.core import Core
    from one_core.drivers import LoadedDriver
    from one_core.engine.core import Engine
    from one_core.pools.host import Host, HostPool

log = logging.getLogger("one.SCHED")

UNPLACEABLE = (HostState.DISABLED, HostState.ERROR)
"""Host states a VM is never placed on."""

PENDING = int(VmState.PENDING)

BATCH = 200
"""Placements deployed per dispatcher event."""


def host_snapshot(host: Host) -> HostSnapshot:
    """A :class:`HostSnapshot` of a host of :class:`one_core.pools.host.HostPool`."""
    share = host.share
    template = {k: v for k, v in host.template.items() if isinstance(v, str)}
    return HostSnapshot(
        hid=host.oid,
        name=host.name,
        template=template,
        max_cpu=share["max_cpu"],
        max_mem=share["max_mem"],
        max_disk=share["max_disk"],
        cpu_usage=share["cpu_usage"],
        mem_usage=share["mem_usage"],
        disk_usage=share["disk_usage"],
        free_cpu=share["free_cpu"],
        free_mem=share["free_mem"],
        free_disk=share["free_disk"],
        running_vms=share["running_vms"],
    )


def fits(share: dict[str, int], cpu: int, mem: int, disk: int) -> bool:
    """1.4's ``HostShare::test``: the VM still fits in what is not allotted."""
    return (
        share["max_cpu"] - share["cpu_usage"] >= cpu
        and share["max_mem"] - share["mem_usage"] >= mem
        and share["max_disk"] - share["disk_usage"] >= disk
    )


class SchedulerService:
    """Scheduling cycles on the engine's one mechanism of timed and queued work.

    Woken one way, :meth:`wake` — by the interval timer (a dispatcher timer) and by
    the engine when a VM becomes PENDING (``engine.pending_listeners``). A cycle
    starts on the dispatcher (the snapshot), runs ``sched_place`` on the driver
    executor, and deploys the placements back on the dispatcher in batches of
    :data:`BATCH`. Wake-ups during a cycle run one more cycle after it.
    """

    def __init__(
        self, *, engine: Engine, hosts: HostPool, driver: LoadedDriver, interval: float
    ) -> None:
        self.engine = engine
        self.hosts = hosts
        self.driver = driver
        self.interval = interval
        self.cycles = 0
        self.busy = 0.0
        """Seconds spent deploying on the dispatcher (all cycles)."""
        self._stopping = True
        self._timer_added = False
        self._running = False
        """A cycle is between its snapshot and its last deploy batch (dispatcher only)."""
        self._again = False
        """Woken during a cycle: run another one after it (dispatcher only)."""

    # -- service -------------------------------------------------------------
    def start(self) -> None:
        """Register the interval timer and run a first cycle at once, so VMs left
        PENDING by a previous run of oned are placed without waiting an interval."""
        self._stopping = False
        if self.interval > 0 and not self._timer_added:
            self._timer_added = True
            self.engine.work.every(self.interval, self.wake)
        self.wake()

    def stop(self) -> None:
        """No more cycles; placements not deployed yet are dropped (they stay PENDING)."""
        self._stopping = True

    def wake(self) -> None:
        """Run a cycle soon (the interval elapsed, or a VM became PENDING). Any thread."""
        if not self._stopping:
            self.engine.work.post(self._begin)

    # -- a cycle on the dispatcher and the executor ----------------------------
    def _snapshot(self) -> tuple[list[Any], list[HostSnapshot]]:
        pending = self.engine.pool.pending()
        hosts = [
            host_snapshot(h)
            for h in sorted(self.hosts.hosts(), key=lambda h: h.oid)
            if h.state not in UNPLACEABLE
        ]
        return pending, hosts

    def _begin(self) -> None:
        """On the dispatcher: snapshot, then ``sched_place`` on the driver executor."""
        if self._stopping:
            return
        if self._running:
            self._again = True
            return
        self._again = False
        self.cycles += 1
        pending, hosts = self._snapshot()
        if not pending:
            return
        self._running = True
        self.engine.dispatcher.on_rollback(self._not_running)  # sched_place never issued
        place = partial(self.driver.call, "sched_place", pending=pending, hosts=hosts)
        self.engine.work.run(("sched", 0), "SCHED", place, self._placed)

    def _placed(self, placements: list[Placement] | None, error: Exception | None) -> None:
        """On the dispatcher: deploy the placements, a batch per event, then end the cycle."""
        if error is not None:  # a cycle never kills the scheduler
            log.error("scheduling cycle failed: %s", error)
        if error is not None or self._stopping:  # stopping: the VMs stay PENDING
            placements = []
        placements = list(placements or [])
        for start in range(0, len(placements), BATCH):
            self.engine.work.post(self._deploy_batch, placements[start : start + BATCH])
        self.engine.work.post(self._end)

    def _not_running(self) -> None:
        """The event that started a cycle was rolled back: no cycle is running."""
        self._running = False

    def _end(self) -> None:
        self._running = False
        if self._again:
            self._begin()

    # -- one cycle, synchronously (tests, tools) ---------------------------------
    def cycle(self) -> list[Placement]:
        """Place what can be placed now; return the placements that were deployed."""
        self.cycles += 1
        t0 = time.perf_counter()
        pending, hosts = self._snapshot()
        if not pending:
            return []
        t1 = time.perf_counter()
        placements = self.driver.call("sched_place", pending=pending, hosts=hosts) or []
        t2, busy = time.perf_counter(), self.busy
        deployed: list[Placement] = []
        dispatcher = self.engine.dispatcher
        for start in range(0, len(placements), BATCH):
            if not dispatcher.running:
                break  # oned is stopping: never deploy off the dispatcher thread
            batch = placements[start : start + BATCH]
            deployed += dispatcher.call(self._deploy_batch, batch, timeout=None)
        log.debug(
            "Cycle %d: %d pending VMs, %d hosts, %d placed, %d deployed; snapshot %.3f s, "
            "driver %.3f s, deploy %.3f s (%.3f s of it on the dispatcher)",
            self.cycles, len(pending), len(hosts), len(placements), len(deployed),
            t1 - t0, t2 - t1, time.perf_counter() - t2, self.busy - busy,
        )  # fmt: skip
        return deployed

    def _deploy_batch(self, batch: list[Placement]) -> list[Placement]:
        """On the dispatcher: deploy each placement that still fits."""
        t0 = time.perf_counter()
        try:
            return self._deploy_each(batch)
        finally:
            self.busy += time.perf_counter() - t0

    def _deploy_each(self, batch: list[Placement]) -> list[Placement]:
        done = []
        for placement in batch:
            vm = self.engine.pool.get(placement.vid)
            host = self.hosts.get(placement.hid)
            if vm is None or vm.state != PENDING:
                continue  # deleted, held or deployed by hand while the driver was thinking
            if host is None or host.state in UNPLACEABLE:
                log.info("VM %s not dispatched: host %s is gone or disabled", vm.oid, placement.hid)
                continue
            need = vm.requirements()
            if not fits(host.share, need.cpu, need.mem, need.disk):
                log.info(
                    "VM %s not dispatched: host %s has no room left", placement.vid, placement.hid
                )
                continue
            try:
                self.engine.dm.deploy(placement.vid, placement.hid)
            except OneError as exc:
                log.error(
                    "Error deploying virtual machine %s to HID: %s. Reason: %s",
                    placement.vid, placement.hid, exc,
                )  # fmt: skip
                continue
            except Exception as exc:
                log.error("Error deploying virtual machine %s: %s", placement.vid, exc)
                continue
            done.append(placement)  # the driver logged "Dispatching virtual machine ..."
        return done


def setup(core: Core) -> None:
    """oned component: start the in-daemon scheduler when oned.conf asks for it."""
    engine = core.engine
    drivers = core.drivers
    scheduler = drivers.scheduler if drivers is not None else None
    if engine is None or scheduler is None:
        return  # external scheduler (mm_sched), or no engine
    interval = float(core.cfg.sched_interval)
    ctx = scheduler.ctx
    if getattr(ctx.vm_log_func, "__name__", "") == "_no_vm_log":
        # oned loads drivers before the engine exists: send the driver's ctx.vm_log
        # ("why is my VM still PENDING") to the VM's vm.log, as the engine's own lines
        ctx.vm_log_func = engine.vm_log
    service = SchedulerService(engine=engine, hosts=core.hosts, driver=scheduler, interval=interval)
    core.scheduler = service
    engine.pending_listeners.append(service.wake)
    core.add_service(service)
