"""The information manager: periodic host monitoring (``spec/lifecycle-and-drivers.md`` §6.4).

Every timer tick (``MANAGER_TIMER`` seconds, capped at the monitoring interval)
each host is looked at:

* MONITORING for 600 s or more since ``last_mon_time`` → INIT (not monitored this tick);
* neither MONITORING nor DISABLED, ``now − last_mon_time ≥ HOST_MONITORING_INTERVAL``
  and no probe in flight → ``Monitoring host <name> (<hid>)``, state MONITORING and
  the IM driver's ``im_monitor`` is called on the driver executor; no IM
  driver of that name → ``Could not find information driver <name>``, ERROR.

One mechanism (docs/architecture.md §4): the tick is a dispatcher timer, every
host state change is written on the dispatcher (the single writer), the probe
runs on the driver executor (``DRIVER_HOST_THREADS`` per host like any driver
call) and its answer comes back to the dispatcher as an event.

A probe's answer goes to :meth:`one_core.pools.host.HostPool.monitor_result`
(replace-mode template, share, MONITORED / ERROR, ``last_mon_time``).
Never more than one probe per host is in flight. A probe runs under the IM
driver's timeout (``TIMEOUT_MONITOR`` / ``TIMEOUT`` in its ``IM_MAD`` section,
default 120 s): on expiry its child process is killed, the probe abandoned and
the host goes to ERROR (``Error monitoring host <hid> : ... timed out``).

Difference from 1.4 (docs/decisions/core.md): 1.4 looked only at the 10
hosts with the oldest ``last_mon_time`` per tick (so 1,000 hosts could not be
monitored within an interval, and >10 disabled hosts starved the rest); we
consider every host on every tick.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from one_core.deadlines import action_timeout
from one_core.engine.work import Work
from one_core.pools.host import HostPool
from one_core.vm.states import HostState

log = logging.getLogger("one.InM")

MONITORING_TIMEOUT = 600
"""A host MONITORING for this long goes back to INIT."""

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
        self._stopped = True
        self._timer_added = False
        self._mark = 0.0

    # -- service -----------------------------------------------------------

    def start(self) -> None:
        """Register the monitoring timer on the dispatcher."""
        self._stopped = False
        if not self._timer_added:
            self._timer_added = True
            self.work.every(self.timer, self._on_timer)

    def stop(self) -> None:
        """No more ticks; probes in flight end (or time out) on the driver executor."""
        self._stopped = True

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

    def _tick(self, now: float) -> int:
        started = 0
        for h in self.hosts.hosts():
            age = now - h.last_mon_time
            if h.state == HostState.MONITORING:
                if age >= MONITORING_TIMEOUT:
                    self.hosts.set_state(h.oid, HostState.INIT)
                continue
            if h.state == HostState.DISABLED or age < self.interval:
                continue
            if h.oid in self._inflight:
                continue
            if self._monitor(h.oid):
                started += 1
        return started

    def _monitor(self, hid: int) -> bool:
        h = self.hosts.get(hid)
        if h is None or hid in self._inflight:
            return False
        log.info("Monitoring host %s (%s)", h.name, hid)
        driver = None
        if self.drivers is not None:
            try:
                driver = self.drivers.get("im", h.im_mad)
            except Exception:
                driver = None
        if driver is None:
            log.error("Could not find information driver %s", h.im_mad)
            self.hosts.set_state(hid, HostState.ERROR)
            return False
        self._inflight.add(hid)
        self.work.dispatcher.on_rollback(self._inflight.discard, hid)  # never issued then
        self.hosts.start_monitoring(hid)
        section = getattr(getattr(driver, "spec", None), "section", {})
        self.work.run(
            ("host", hid), "MONITOR", lambda: _probe(driver, hid, h.name), self._answer(hid),
            host=h.name, timeout=action_timeout("im", section, "MONITOR"),
            what=f"monitoring of host {h.name}",
        )  # fmt: skip
        return True

    def _answer(self, hid: int) -> Any:
        def done(attrs: Any, error: Any) -> None:
            """On the dispatcher: apply the probe's answer (None: failure)."""
            self._inflight.discard(hid)
            if error is not None:
                log.error("Error monitoring host %s : %s", hid, error)
                attrs = None
            if not self.hosts.monitor_result(hid, attrs):
                log.error("Could not get host %s", hid)

        return done


def _probe(driver: Any, hid: int, name: str) -> Any:
    """On a driver thread: ``im_monitor`` (under the IM driver's timeout, kept by the
    executor's watchdog); None on failure."""
    try:
        attrs = driver.call("im_monitor", hid=hid, host=name)
        if attrs is None:
            raise ValueError(f"Could not monitor host {name}.")
        return attrs
    except Exception as exc:
        log.error("Error monitoring host %s : %s", hid, exc)
        return None
