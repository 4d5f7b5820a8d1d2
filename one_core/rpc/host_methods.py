"""``one.host.*`` and ``one.hostpool.info`` (``spec/xmlrpc-api.md`` §5)."""

from __future__ import annotations

from typing import Any

from one_core.rpc.registry import Request, method, ok


@method("one.host.allocate", "A:sssss", "Allocates a host in the pool")
def host_allocate(rq: Request, hostname: str, im_mad: str, vmm_mad: str, tm_mad: str) -> list[Any]:
    if rq.authenticate() != 0:
        return rq.fail("User not authorized to add new hosts")
    try:
        hid = rq.core.writes.host_allocate(hostname, im_mad, vmm_mad, tm_mad)
    except Exception:  # decision R3: DB failure is an error, not [true, -1]
        return rq.fail(
            f"Can not allocate host {hostname} in the HostPool, returned error code [-1]"
        )
    return ok(hid)


@method("one.host.info", "A:si", "Returns host information")
def host_info(rq: Request, hid: int) -> list[Any]:
    if rq.authenticate() == -1:
        return rq.fail("User not authenticated, HostInfo call aborted.")
    body = rq.core.hosts.info_xml(hid)
    if body is None:
        return rq.fail(f"Error getting host with HID = {hid}")
    return ok(body)


@method("one.host.delete", "A:si", "Deletes a host from the pool")
def host_delete(rq: Request, hid: int) -> list[Any]:
    if rq.authenticate() != 0:
        return rq.fail("User not authorized to delete hosts")
    hosts = rq.core.hosts
    if hosts.get(hid) is None:
        return rq.fail(f"Error getting host with HID = {hid}")
    try:
        rq.core.writes.host_delete(hid)
    except Exception:
        return [False]  # R2: bare [false] when the SQL delete fails
    return ok()


@method("one.host.enable", "A:sib", "Enables or disables a host")
def host_enable(rq: Request, hid: int, enable: bool) -> list[Any]:
    if rq.authenticate() != 0:
        return rq.fail("Only oneadmin can enable hosts")
    hosts = rq.core.hosts
    if hosts.get(hid) is None:
        return rq.fail(f"Error getting host with HID = {hid}")
    rq.core.writes.host_enable(hid, enable)
    return ok()


@method("one.hostpool.info", "A:s", "Returns the host pool information")
def hostpool_info(rq: Request) -> list[Any]:
    if rq.authenticate() == -1:
        return rq.fail("User not authenticated, RequestManagerHostPoolInfo aborted.")
    return ok(rq.core.hosts.pool_escaped())
