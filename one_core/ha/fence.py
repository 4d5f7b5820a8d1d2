"""Fencing: a leader issues driver actions only while its lock is confirmed.

Two clocks, one rule (docs/ha.md, "Fencing"):

* the leader confirms its lock every ``lease / 6`` seconds; a confirmation whose
  query started at ``t`` makes it *valid* until ``t + lease``. The gate
  (:meth:`Fence.gate`, asked by the driver executor before every call) says no
  once that time has passed, and the watchdog ends the process then, even when
  the confirming thread hangs on a dead network;
* a node that has just taken the lock issues no driver action before every other
  node's validity has run out (``max(confirmed) + lease`` in the database's clock,
  at most one lease from now) plus ``MARGIN`` (the gate waits).

The old leader's session ended before the new one got the lock, and its last
confirmation started before that end, so every action of the old leader was
issued before the new one may issue its first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("one.ONE")

MARGIN = 0.2
"""Seconds added to the new leader's wait (clock rate differences, scheduling)."""

EXIT_LOST = 75
"""oned's exit status when it lost the leadership (run it under a supervisor that
restarts it: it comes back as a follower)."""


def _exit_lost() -> None:
    logging.shutdown()
    os._exit(EXIT_LOST)


class Fence:
    """The leader's permission to issue driver actions."""

    def __init__(
        self,
        lease: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_expiry: Callable[[], None] = _exit_lost,
    ):
        self.lease = lease
        self.clock = clock
        self.on_expiry = on_expiry
        self._valid_until = 0.0
        self._start_at = float("inf")
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()

    # -- the leader's side ------------------------------------------------------
    def acquired(self, at: float, others_valid_for: float | None = None) -> None:
        """The lock was taken at ``at`` (the clock's time before the query that took it).

        ``others_valid_for``: seconds until any previous leader's validity has run out
        (from the ``ha_node`` table); None: not known, wait a whole lease.
        """
        wait = self.lease if others_valid_for is None else min(self.lease, others_valid_for)
        with self._lock:
            self._start_at = self.clock() + wait + MARGIN
            self._valid_until = at + self.lease

    def confirmed(self, started: float) -> None:
        """A confirmation query that started at ``started`` succeeded."""
        with self._lock:
            self._valid_until = max(self._valid_until, started + self.lease)

    def lost(self, why: str) -> None:
        """The lock is gone: refuse every driver action from now on and end the process."""
        with self._lock:
            self._valid_until = 0.0
        log.error("Lost the leadership (%s): no more driver actions, exiting", why)
        self.on_expiry()

    @property
    def valid(self) -> bool:
        return self.clock() < self._valid_until

    @property
    def start_at(self) -> float:
        """When this leader may issue its first driver action (the clock's time)."""
        return self._start_at

    def gate(self) -> bool:
        """Asked before each driver call: wait out the take-over delay, then True while
        the lock is confirmed. False: the call must not be issued."""
        wait = self._start_at - self.clock()
        if wait > 0:
            time.sleep(wait)
        ok = self.valid
        if not ok:
            log.error("Driver action not issued: the leadership is not confirmed")
        return ok

    # -- watchdog ----------------------------------------------------------------
    def watch(self, period: float = 0.05) -> None:
        """End the process (``on_expiry``) as soon as the validity has run out."""

        def run() -> None:
            while not self._stop.wait(period):
                if not self.valid:
                    log.error("Leadership not confirmed for %.1f s: exiting", self.lease)
                    self.on_expiry()
                    return

        self._watchdog = threading.Thread(target=run, name="ha-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        """oned is stopping normally: no more watching."""
        self._stop.set()
