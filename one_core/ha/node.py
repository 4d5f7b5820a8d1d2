"""A node of an HA group: a follower answering reads until it takes the lock, then
the leader (docs/ha.md).

The node's thread ticks every ``lease / 6`` seconds:

* follower: heartbeat, refresh the read copy of the pools every second, learn who
  leads (for the refusal text), try the lock. Got it → take over: fence the old
  leader's connections, start confirming (its own thread), then ``take_over()``
  (the daemon builds the leader's core: drivers, engine, recovery, monitoring,
  scheduler — the same code as a start after ``kill -9``);
* leader: the confirming thread checks the lock each tick; a failed check, or no
  check for ``lease`` seconds (watchdog), ends the process (:mod:`.fence`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from one_core.ha.calls import is_read_call, refusal
from one_core.ha.election import Elector
from one_core.ha.fence import Fence

log = logging.getLogger("one.ONE")

REFRESH = 1.0
"""Seconds between refreshes of a follower's read copy of the pools (its lag)."""


class HaNode:
    """The HA life of one oned.

    :param elector: the node's lock connection.
    :param fence: the leader's driver-action gate.
    :param refresh_reader: rebuild the follower's read copy (called every :data:`REFRESH` s).
    :param take_over: build and start the leader's core (runs on the node's thread).
    """

    def __init__(
        self,
        elector: Elector,
        fence: Fence,
        *,
        refresh_reader: Callable[[], Any],
        take_over: Callable[[], Any],
    ):
        self.elector = elector
        self.fence = fence
        self.refresh_reader = refresh_reader
        self.take_over = take_over
        self.interval = max(0.05, fence.lease / 6)
        self.is_leader = False
        self.leader_info: tuple[str, str] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_refresh = 0.0

    # -- what the API asks ---------------------------------------------------------
    def refuse(self, name: str) -> str | None:
        """The refusal of call ``name`` on this node, or None when it answers it."""
        if self.is_leader or is_read_call(name):
            return None
        node, endpoint = self.leader_info or (None, None)
        if node == self.elector.node:  # taking over right now
            node = None
        return refusal(node, endpoint)

    # -- life ---------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.leader_info = self.elector.leader()
        except Exception:
            self.leader_info = None
        self._spawn(self._follow, "ha-follower")

    def stop_follower(self) -> None:
        """oned is stopping: no take-over, no more confirming or watching."""
        self._stop.set()
        self.fence.stop()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2)

    def stop(self) -> None:
        """:meth:`stop_follower`, then end the lock session (frees the lock when leading)."""
        self.stop_follower()
        self.elector.close()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _follow(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                refreshed = False
                if time.monotonic() - self._last_refresh >= REFRESH:
                    self.refresh_reader()
                    self._last_refresh = time.monotonic()
                    refreshed = True
                self.elector.heartbeat(refreshed)
                self.leader_info = self.elector.leader()
                started = self.fence.clock()
                if self.elector.try_acquire():
                    self._lead(started)
                    return
            except Exception as exc:  # database away: keep trying, reads may fail meanwhile
                log.warning("HA: %s: %s", type(exc).__name__, " ".join(str(exc).split()))
                self.elector.close()

    def _lead(self, acquired_at: float) -> None:
        log.info("HA: node %s took the leader lock", self.elector.node)
        try:
            others = self.elector.previous_validity(self.fence.lease)
        except Exception:
            others = None  # not known: wait a whole lease
        self.fence.acquired(acquired_at, others)
        self.fence.watch()
        old = self.elector.fence_old_leader()
        if old:
            log.info("HA: ended the database sessions of the previous leader %s", ", ".join(old))
        self._spawn(self._confirm, "ha-confirm")
        try:
            self.take_over()
        except Exception as exc:
            log.exception("HA: take-over failed")
            self.fence.lost(f"take-over failed: {exc}")
            return
        self.elector.became_leader()
        self.leader_info = (self.elector.node, self.elector.endpoint)
        self.is_leader = True
        wait = max(0.0, self.fence.start_at - self.fence.clock())
        log.info("HA: node %s is the leader (driver actions in %.1f s)", self.elector.node, wait)

    def _confirm(self) -> None:
        while not self._stop.wait(self.interval):
            started = self.fence.clock()
            try:
                held = self.elector.confirm()
            except Exception as exc:
                if self._stop.is_set():
                    return
                self.fence.lost(f"database session lost: {' '.join(str(exc).split())}")
                return
            if not held:
                self.fence.lost("the lock is not held")
                return
            self.fence.confirmed(started)
