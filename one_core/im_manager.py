"""The information manager: periodic host monitoring (``spec/lifecycle-and-drivers.md`` §6.4).

Every timer tick (``MANAGER_TIMER`` seconds, capped at the monitoring interval)
each host is looked at:

* MONITORING for 600 s or more since ``last_mon_time`` → INIT (not monitored this tick);
* neither MONITORING nor DISABLED, ``now − last_mon_time ≥ HOST_MONITORING_INTERVAL``
  and no probe in flight or queued → queued as due.

The due hosts are started in slices (:meth:`InformationManager.slice`): the first at
once, the next every :data:`STEP` seconds until none is left, so that 10,000 hosts do
not all become MONITORING, probed and answered in one burst that starves the API's
threads of the GIL (docs/performance.md, "Host monitoring at scale"). Starting a
slice: ``Monitoring host <name> (<hid>)``, state MONITORING for all of them in the
one event, and the IM driver's ``im_monitor`` called on the driver executor for each;
no IM driver of that name → ``Could not find information driver <name>``, ERROR.

One mechanism (docs/architecture.md §4): the tick is a dispatcher timer, every
host state change is written on the dispatcher (the single writer), the probe
runs on the driver executor (``DRIVER_HOST_THREADS`` per host like any driver
call) and its answer comes back to the dispatcher as an event. The pause between
two slices is a one-shot dispatcher timer (:meth:`Work.after`), set only while hosts
are queued: an idle oned has no extra timer, and no driver thread waits.

The driver thread that probed also parses the answer
(:func:`one_core.pools.host.monitor_attrs`); the answers that reached the dispatcher
before it gets to them are written together, one event and one pass of
:meth:`one_core.pools.host.HostPool.monitor_results` (replace-mode template, share,
MONITORED / ERROR, ``last_mon_time``, monitoring history). A host counts as in
flight until its answer is written. Never more than one probe per host is in flight.
A probe runs under the IM driver's timeout (``TIMEOUT_MONITOR`` / ``TIMEOUT`` in its
``IM_MAD`` section, default 120 s): on expiry its child process is killed, the probe
abandoned and the host goes to ERROR (``Error monitoring host <hid> : ... timed out``).

Difference from 1.4 (docs/decisions/core.md): 1.4 looked only at the 10
hosts with the oldest ``last_mon_time`` per tick (so 1,000 hosts could not be
monitored within an interval, and >10 disabled hosts starved the rest); we
consider every host on every tick and start the due ones in slices sized to probe
every host within half the interval.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from functools import partial
from typing import Any

from one_core.deadlines import action_timeout
from one_core.engine.work import Work
from one_core.pools.host import Host, HostPool, monitor_attrs
from one_core.vm.states import HostState

log = logging.getLogger("one.InM")

MONITORING_TIMEOUT = 600
"""A host MONITORING for this long goes back to INIT."""

STEP = 0.05
"""Seconds between two slices of the due hosts (see :meth:`InformationManager.slice`)."""

MIN_PER_STEP = 10
"""A step may always start this many probes (1.4 started 10 per timer tick)."""

SPREAD = 2
"""A step starts ``hosts × SPREAD × STEP / interval`` probes: every host is probed
within 1/SPREAD of the interval, in small slices instead of all at one tick."""

MARK_PERIOD = 600
"""oned.log gets ``--Mark--`` every this many seconds of timer periods."""


class InformationManager:
    """Monitors hosts through their IM drivers. A service: :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        hosts: HostPool,
        drivers: Any,
        work: Work,
        interval: int = 300,
        timer: int = 30,
    ):
        self.hosts = hosts
        self.drivers = drivers
        self.work = work
        self.interval = max(0, int(interval))
        self.timer = max(0.05, min(float(timer), float(self.interval) or 1.0))
        self._inflight: set[int] = set()
        """Hosts with a probe submitted and not answered (dispatcher thread only)."""
        self._queue: deque[int] = deque()
        self._queued: set[int] = set()
        """Due hosts not probed yet, in the order found (dispatcher thread only)."""
        self._pacing = False
        self._pacing_at = 0.0
        """A step is scheduled, since (dispatcher thread only)."""
        self._results: dict[int, Any] | None = None
        """Answers waiting for the :meth:`_apply` event already posted (dispatcher only)."""
        self._stopped = True
        self._halted = False
        """:meth:`stop` was called: no more steps (ticks by hand run without :meth:`start`)."""
        self._timer_added = False
        self._mark = 0.0

    # -- service -----------------------------------------------------------

    def start(self) -> None:
        """Register the monitoring timer on the dispatcher."""
        self._stopped = self._halted = False
        if not self._timer_added:
            self._timer_added = True
            self.work.every(self.timer, self._on_timer)

    def stop(self) -> None:
        """No more ticks; probes in flight end (or time out) on the driver executor."""
        self._stopped = self._halted = True

    def _on_timer(self) -> None:
        if self._stopped:
            return
        self._tick(time.time())
        self._mark += self.timer
        if self._mark >= MARK_PERIOD:
            self._mark = 0.0
            log.info("--Mark--")

    # -- work ----------------------------------------------------------------

    def inflight(self) -> int:
        """Number of probes currently running or queued."""
        return len(self._inflight)

    def tick(self, now: float | None = None) -> int:
        """One timer action (on the dispatcher); returns the number of probes started."""
        return self.work.call(self._tick, time.time() if now is None else now)

    def monitor(self, hid: int) -> bool:
        """Send one probe now (if the host exists and has none in flight)."""
        return self.work.call(self._monitor, hid)

    def slice(self) -> int:
        """Most probes one step starts: every host within 1/:data:`SPREAD` of the
        interval at one step per :data:`STEP` seconds, at least :data:`MIN_PER_STEP`;
        every due host at once with an interval of 0."""
        if self.interval <= 0:
            return max(1, len(self._queue))
        return max(MIN_PER_STEP, math.ceil(len(self.hosts) * SPREAD * STEP / self.interval))

    def _tick(self, now: float) -> int:
        for h in self.hosts.hosts():
            age = now - h.last_mon_time
            if h.state == HostState.MONITORING:
                if age >= MONITORING_TIMEOUT:
                    self.hosts.set_state(h.oid, HostState.INIT)
                continue
            if h.state == HostState.DISABLED or age < self.interval:
                continue
            if h.oid in self._inflight or h.oid in self._queued:
                continue
            self._queue.append(h.oid)
            self._queued.add(h.oid)
        return self._step()

    def _step(self) -> int:
        """Start the next slice of the due hosts; more left: the next step in
        :data:`STEP` seconds (a one-shot timer). Returns the number of probes started."""
        batch: list[Host] = []
        size = self.slice()
        while self._queue and len(batch) < size:
            hid = self._queue.popleft()
            self._queued.discard(hid)
            h = self.hosts.get(hid)
            if h is None or hid in self._inflight:
                continue
            if h.state in (HostState.MONITORING, HostState.DISABLED):
                continue
            batch.append(h)
        started = self._start(batch)
        stale = time.monotonic() - self._pacing_at > 2 * self.timer + 1  # a step lost (HA fence)
        if self._queue and (not self._pacing or stale):
            self._pacing, self._pacing_at = True, time.monotonic()
            self.work.after(STEP, self._paced)
        return started

    def _paced(self) -> None:
        self._pacing = False
        if not self._halted:
            self._step()

    def _monitor(self, hid: int) -> bool:
        h = self.hosts.get(hid)
        if h is None or hid in self._inflight:
            return False
        return self._start([h]) == 1

    def _start(self, due: list[Host]) -> int:
        """MONITORING for every host of ``due`` in one write, then their probes (issued
        once the tick's event committed); returns the number of probes started."""
        found: dict[str, Any] = {}
        ready: list[tuple[Host, Any]] = []
        for h in due:
            log.info("Monitoring host %s (%s)", h.name, h.oid)
            if h.im_mad not in found:
                found[h.im_mad] = self._driver(h.im_mad)
            driver = found[h.im_mad]
            if driver is None:
                log.error("Could not find information driver %s", h.im_mad)
                self.hosts.set_state(h.oid, HostState.ERROR)
                continue
            ready.append((h, driver))
        if not ready:
            return 0
        hids = {h.oid for h, _ in ready}
        self._inflight.update(hids)
        self.work.dispatcher.on_rollback(self._inflight.difference_update, hids)  # never issued
        self.hosts.start_monitoring_many(h.oid for h, _ in ready)
        for h, driver in ready:
            section = getattr(getattr(driver, "spec", None), "section", {})
            self.work.run(
                ("host", h.oid), "MONITOR", partial(_probe, driver, h.oid, h.name),
                self._answer(h.oid), host=h.name,
                timeout=action_timeout("im", section, "MONITOR"),
                what=f"monitoring of host {h.name}",
            )  # fmt: skip
        return len(ready)

    def _driver(self, name: str) -> Any:
        """The IM driver called ``name``, or None."""
        if self.drivers is None:
            return None
        try:
            return self.drivers.get("im", name)
        except Exception:
            return None

    def _answer(self, hid: int) -> Any:
        def done(attrs: Any, error: Any) -> None:
            """On the dispatcher: queue the probe's answer (None: failure) for
            :meth:`_apply`, one event for every answer that arrived before it runs."""
            if error is not None:
                log.error("Error monitoring host %s : %s", hid, error)
                attrs = None
            batch = self._results
            if batch is None:
                batch = self._results = {}
                self.work.post(self._apply, batch)
            batch[hid] = attrs

        return done

    def _apply(self, batch: dict[int, Any]) -> None:
        """On the dispatcher: write a batch of answers (one event; retried as a whole
        with the same batch after a database failure)."""
        if self._results is batch:
            self._results = None
        try:
            for hid in self.hosts.monitor_results(batch):
                log.error("Could not get host %s", hid)
        finally:
            self._inflight.difference_update(batch)  # in flight until its answer is written


def _probe(driver: Any, hid: int, name: str) -> Any:
    """On a driver thread: ``im_monitor`` (under the IM driver's timeout, kept by the
    executor's watchdog), its answer parsed into template attributes; None on failure."""
    try:
        attrs = driver.call("im_monitor", hid=hid, host=name)
        if attrs is None:
            raise ValueError(f"Could not monitor host {name}.")
        return monitor_attrs(attrs)
    except Exception as exc:
        log.error("Error monitoring host %s : %s", hid, exc)
        return None
