"""``one.host.*`` and ``one.hostpool.info`` of the modern dialect (the 1.4 host pool)."""

from __future__ import annotations

from one_core.rpc.modern import errors, vm_query
from one_core.rpc.modern.api import Call, api, unsupported
from one_core.rpc.modern.documents import host_xml
from one_core.rpc.modern.errors import ApiError, not_supported

ENABLED, DISABLED, OFFLINE = 0, 1, 2
"""``one.host.status`` values."""


def default_tm_mad(call: Call) -> str:
    """The transfer driver a new host gets: modern hosts have none (datastores do), 1.4
    hosts need one; the first ``TM_MAD`` of oned.conf."""
    names = call.core.drivers.names("tm") if call.core.drivers is not None else []
    if not names:
        raise ApiError(errors.ALLOCATE, "No TM_MAD is configured in oned.conf.")
    return names[0]


def _existing(call: Call, hid: int) -> None:
    if call.core.hosts.get(hid) is None:
        raise call.missing("host", hid)


@api("one.host.allocate", "A:ssss", "Allocates a new host in the pool", optional="i")
def host_allocate(call: Call, name: str, im_mad: str, vmm_mad: str, cluster: int = -1) -> int:
    call.authorize("CREATE", "HOST", -1)
    if cluster not in (-1, 0):
        raise not_supported("Clusters other than 0 (default)", errors.ALLOCATE)
    if not name.strip():
        raise ApiError(errors.ALLOCATE, "Host name cannot be empty.")
    return call.core.writes.host_allocate(name, im_mad, vmm_mad, default_tm_mad(call))


@api("one.host.info", "A:si", "Returns host information", optional="b")
def host_info(call: Call, hid: int, decrypt: bool = False) -> str:
    host = call.core.hosts.get(hid)
    if host is None:
        raise call.missing("host", hid)
    return host_xml(host, vm_query.vms_by_host().get(hid, []))


@api("one.host.delete", "A:si", "Deletes a host from the pool")
def host_delete(call: Call, hid: int) -> int:
    _existing(call, hid)
    call.authorize("ADMIN", "HOST", hid)
    call.core.writes.host_delete(hid)
    return hid


@api("one.host.status", "A:sii", "Sets the status of the host")
def host_status(call: Call, hid: int, status: int) -> int:
    _existing(call, hid)
    call.authorize("ADMIN", "HOST", hid)
    if status == OFFLINE:
        raise not_supported("The OFFLINE host status", errors.ACTION)
    if status not in (ENABLED, DISABLED):
        raise ApiError(errors.ACTION, f"Wrong status {status}.")
    call.core.writes.host_enable(hid, status == ENABLED)
    return hid


@api("one.hostpool.info", "A:s", "Returns the host pool")
def hostpool_info(call: Call) -> str:
    on_host = vm_query.vms_by_host()
    hosts = sorted(call.core.hosts.hosts(), key=lambda h: h.oid)
    return (
        "<HOST_POOL>" + "".join(host_xml(h, on_host.get(h.oid, [])) for h in hosts) + "</HOST_POOL>"
    )


unsupported(
    ["one.host.update", "one.host.rename"],
    "This host operation",
    errors.ACTION,
)
