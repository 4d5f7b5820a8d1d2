"""Domain lifecycle events: oned's VM state changes pushed to registered libvirt clients.

OpenNebula 1.4 has no notification channel, so one poller per server (:class:`EventHub`)
reads oned's VM pool every ``interval`` seconds while at least one client is registered,
compares each VM's ``(STATE, LCM_STATE)`` with the previous poll and turns every change
into a ``VIR_DOMAIN_EVENT_*`` lifecycle event (:func:`lifecycle_event`). The event goes to
each registered client that can see the VM, as a ``REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE``
message (``remote_domain_event_lifecycle_msg``: domain, event, detail).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from one_core.api import VmState
from one_libvirt.domains import Vm
from one_libvirt.errors import LibvirtError
from one_libvirt.oned import Oned
from one_libvirt.protocol import Proc
from one_libvirt.states import DomState
from one_libvirt.xdr import Packer

if TYPE_CHECKING:
    from one_libvirt.handlers import Session

log = logging.getLogger("one_libvirt.events")

EVENT_ID_LIFECYCLE = 0

# virDomainEventType and the details used here
DEFINED, UNDEFINED, STARTED, SUSPENDED, RESUMED, STOPPED = 0, 1, 2, 3, 4, 5
CRASHED = 8
STARTED_BOOTED, STARTED_RESTORED = 0, 2
STOPPED_SHUTDOWN, STOPPED_SAVED, STOPPED_FAILED = 0, 4, 5

Snapshot = dict[int, Vm]


def lifecycle_event(old: Vm | None, new: Vm | None) -> tuple[int, int] | None:
    """The ``(event, detail)`` for a VM going from ``old`` to ``new`` (None: not in the pool).

    Boot phases (PENDING, PROLOG, BOOT) are not "started" yet: STARTED comes when the VM
    reaches RUNNING. A VM that ends (DONE, or gone) gives STOPPED/SHUTDOWN when it was
    active and UNDEFINED when it was a defined (inactive) domain.
    """
    if old is not None and old.state == VmState.DONE:
        old = None
    if new is not None and new.state == VmState.DONE:
        new = None
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        if new.state == VmState.HOLD:
            return DEFINED, 0
        if new.mapped.state == DomState.RUNNING:
            return STARTED, STARTED_BOOTED
        return None
    if new is None:
        return (STOPPED, STOPPED_SHUTDOWN) if old.mapped.active else (UNDEFINED, 0)
    om, nm = old.mapped, new.mapped
    if (old.state, old.lcm_state) == (new.state, new.lcm_state):
        return None
    if om.active and not nm.active:
        if new.state == VmState.STOPPED:
            return STOPPED, STOPPED_SAVED
        if new.state == VmState.FAILED:
            return STOPPED, STOPPED_FAILED
        return STOPPED, STOPPED_SHUTDOWN
    if nm.state == om.state:
        return None
    if nm.state == DomState.RUNNING:
        if om.state == DomState.PAUSED:
            return RESUMED, 0
        if om.state == DomState.SHUTDOWN:  # a shutdown that failed: it kept running
            return None
        return STARTED, STARTED_RESTORED if old.state == VmState.STOPPED else STARTED_BOOTED
    if nm.state == DomState.PAUSED and om.state == DomState.RUNNING:
        return SUSPENDED, 0
    if nm.state == DomState.CRASHED:
        return CRASHED, 0
    return None


def lifecycle_message(vm: Vm, event: int, detail: int) -> bytes:
    """``remote_domain_event_lifecycle_msg``."""
    p = Packer()
    vm.wire().pack(p)
    return p.int(event).int(detail).bytes()


class EventHub:
    """The server's single poller of oned's VM pool and its registered clients."""

    def __init__(self, make_oned: Callable[[], Oned], interval: float = 1.0):
        self._make_oned = make_oned
        self.interval = interval
        self._clients: set[Session] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, session: Session) -> None:
        with self._lock:
            self._clients.add(session)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="one-libvirtd-events", daemon=True
                )
                self._thread.start()

    def unregister(self, session: Session) -> None:
        with self._lock:
            self._clients.discard(session)

    def stop(self) -> None:
        """End the poller (server shutdown)."""
        self._wake.set()

    def _subscribers(self) -> list[Session]:
        with self._lock:
            return [s for s in self._clients if EVENT_ID_LIFECYCLE in s.event_ids]

    def _poll(self, oned: Oned) -> Snapshot:
        return {vm.id: vm for vm in (Vm.from_element(el) for el in oned.pool())}

    def _run(self) -> None:
        oned = self._make_oned()
        try:
            before = self._poll(oned)
        except LibvirtError as exc:
            log.warning("event poller cannot read the VM pool: %s", exc)
            before = {}
        while True:
            self._wake.wait(self.interval)
            with self._lock:
                if not self._clients or self._wake.is_set():
                    self._thread = None
                    return
            try:
                now = self._poll(oned)
            except LibvirtError as exc:
                log.warning("event poller cannot read the VM pool: %s", exc)
                continue
            for vid in sorted(before.keys() | now.keys()):
                change = lifecycle_event(before.get(vid), now.get(vid))
                if change is not None:
                    vm = now.get(vid) or before[vid]
                    self._deliver(vm, *change)
            before = now

    def _deliver(self, vm: Vm, event: int, detail: int) -> None:
        log.debug("domain %s: lifecycle event %d/%d", vm.name, event, detail)
        gone = Vm(vm.id, vm.name, VmState.DONE, 0, 0)
        shown = gone if (event, detail) in ((STOPPED, STOPPED_SHUTDOWN), (UNDEFINED, 0)) else vm
        payload = lifecycle_message(shown, event, detail)
        for session in self._subscribers():
            if not self._visible(session, vm.id):
                continue
            if session.send_message is None or not session.send_message(
                Proc.DOMAIN_EVENT_LIFECYCLE, payload
            ):
                self.unregister(session)

    @staticmethod
    def _visible(session: Session, vid: int) -> bool:
        """Whether the client's own OpenNebula user sees the VM (SASL logins differ)."""
        if session.user_domains is None:
            return False
        try:
            session.user_domains.oned.info(vid)
            return True
        except LibvirtError:
            return False
