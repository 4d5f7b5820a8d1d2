"""The information manager: periodic host monitoring (``spec/lifecycle-and-drivers.md`` §6.4).

Every timer tick (``MANAGER_TIMER`` seconds, capped at the monitoring interval)
each host is looked at:

* MONITORING for 600 s or more since ``last_mon_time`` → INIT (not monitored this tick);
* neither MONITORING nor DISABLED, ``now − last_mon_time ≥ HOST_MONITORING_INTERVAL``
  and no probe in flight → ``Monitoring host <name> (<hid>)``, state MONITORING and
  the IM driver's ``im_monitor`` is called on a bounded thread pool; no IM
  driver of that name → ``Could not find information driver <name>``, ERROR.

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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from one_core.deadlines import TimedCall, action_timeout
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
        interval: int = 300,
        timer: int = 30,
        threads: int = 16,
    ):
        self.hosts = hosts
        self.drivers = drivers
        self.interval = max(0, int(interval))
        self.timer = max(0.05, min(float(timer), float(self.interval) or 1.0))
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="im")
        self._inflight: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mark = 0.0

    # -- service -----------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="im-timer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)  # a hung probe must not hold oned

    def _loop(self) -> None:
        while not self._stop.wait(self.timer):
            try:
                self.tick()
            except Exception:
                log.exception("Monitoring timer failed")
            self._mark += self.timer
            if self._mark >= MARK_PERIOD:
                self._mark = 0.0
                log.info("--Mark--")

    # -- work ----------------------------------------------------------------

    def inflight(self) -> int:
        """Number of probes currently running or queued."""
        with self._lock:
            return len(self._inflight)

    def tick(self, now: float | None = None) -> int:
        """One timer action; returns the number of probes started."""
        now = time.time() if now is None else now
        started = 0
        for h in self.hosts.hosts():
            age = now - h.last_mon_time
            if h.state == HostState.MONITORING:
                if age >= MONITORING_TIMEOUT:
                    self.hosts.set_state(h.oid, HostState.INIT)
                continue
            if h.state == HostState.DISABLED or age < self.interval:
                continue
            with self._lock:
                if h.oid in self._inflight:
                    continue
            if self.monitor(h.oid):
                started += 1
        return started

    def monitor(self, hid: int) -> bool:
        """Send one probe now (if the host exists and has none in flight)."""
        h = self.hosts.get(hid)
        if h is None:
            return False
        with self._lock:
            if hid in self._inflight:
                return False
            self._inflight.add(hid)
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
            with self._lock:
                self._inflight.discard(hid)
            return False
        self.hosts.start_monitoring(hid)
        try:
            self._pool.submit(self._probe, driver, hid, h.name)
        except RuntimeError:  # shutting down
            with self._lock:
                self._inflight.discard(hid)
            return False
        return True

    def _probe(self, driver: Any, hid: int, name: str) -> None:
        try:
            try:
                section = getattr(getattr(driver, "spec", None), "section", {})
                timeout = action_timeout("im", section, "MONITOR")
                probe = lambda: driver.call("im_monitor", hid=hid, host=name)  # noqa: E731
                if timeout:
                    attrs = TimedCall(probe, timeout).run(f"monitoring of host {name}")
                else:
                    attrs = probe()
                if attrs is None:
                    raise ValueError(f"Could not monitor host {name}.")
            except Exception as exc:
                log.error("Error monitoring host %s : %s", hid, exc)
                attrs = None
            if not self.hosts.monitor_result(hid, attrs):
                log.error("Could not get host %s", hid)
        finally:
            with self._lock:
                self._inflight.discard(hid)
