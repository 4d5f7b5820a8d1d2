"""The REMOTE procedures of domain events: register / deregister (the old, non-callback
variants: the server does not announce ``VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK``, so the
client library multiplexes its callbacks over one registration per event id)."""

from __future__ import annotations

from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session, handles
from one_libvirt.protocol import ErrCode, Proc
from one_libvirt.xdr import Unpacker

EVENT_ID_LAST = 27
"""virDomainEventID values 0..26 exist in libvirt 9.0."""


def _event_id(u: Unpacker) -> int:
    event_id = u.int()
    u.done()
    if not 0 <= event_id < EVENT_ID_LAST:
        raise LibvirtError(ErrCode.INVALID_ARG, f"unsupported event ID {event_id}")
    return event_id


@handles(Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY)
def register_any(s: Session, u: Unpacker) -> bytes:
    """Every event id may be registered; only LIFECYCLE ever fires (nothing in OpenNebula 1.4
    produces reboot, balloon, device, ... events)."""
    event_id = _event_id(u)
    if s.events is None:
        raise LibvirtError(ErrCode.NO_SUPPORT, "domain events are not available")
    s.event_ids.add(event_id)
    s.events.register(s)
    return b""


@handles(Proc.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY)
def deregister_any(s: Session, u: Unpacker) -> bytes:
    event_id = _event_id(u)
    if event_id not in s.event_ids:
        raise LibvirtError(ErrCode.INTERNAL_ERROR, f"no callback registered for event {event_id}")
    s.event_ids.discard(event_id)
    if not s.event_ids and s.events is not None:
        s.events.unregister(s)
    return b""
