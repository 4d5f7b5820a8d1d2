"""``one.vn.allocate``, ``one.vn.info``, ``one.vn.delete`` and ``one.vnpool.info``.

``spec/xmlrpc-api.md`` §6 (messages byte-for-byte) over the pool of
:mod:`one_core.pools.vnet` (``rq.core.vnet``). 1.4 had no ``one.vn.publish``:
networks owned by oneadmin (uid 0) are the public ones.
"""

from __future__ import annotations

from typing import Any

import peewee

from one_core.pools.vnet import VNetAllocateError, VNetPool
from one_core.rpc.registry import Request, method, ok
from one_core.rpc.security import strict


def _pool(rq: Request) -> VNetPool:
    return rq.core.need_vnet()


@method("one.vn.allocate", "A:ss", "Creates a virtual network")
def vn_allocate(rq: Request, template: str) -> list[Any]:
    """§6.1. Decision A2: the password is checked (1.4 only looked the name up)."""
    if ":" not in rq.session:
        return rq.fail("Session information malformed, cannot allocate VirtualNetwork")
    uid = rq.authenticate()
    if uid < 0:
        return rq.fail("User not recognized, cannot allocate VirtualNetwork")
    try:
        nid = rq.core.writes.vnet_allocate(uid, template)
    except VNetAllocateError:
        return rq.fail("Error allocating VN with template: \n" + template)
    return ok(nid)


@method("one.vn.info", "A:si", "Returns virtual network information")
def vn_info(rq: Request, nid: int) -> list[Any]:
    """§6.2: any authenticated user may read any network."""
    if rq.authenticate() == -1:
        return rq.fail("User not authenticated, VirtualNetworkInfo call aborted.")
    body = _pool(rq).info_xml(nid)
    if body is None:
        return rq.fail(f"Error getting Virtual Network with NID = {nid}")
    return ok(body)


@method("one.vn.delete", "A:si", "Deletes a virtual network")
def vn_delete(rq: Request, nid: int) -> list[Any]:
    """§6.3: existence first, then OWNER; leases in use are not checked; ``[rc == 0]``."""
    if strict(rq.core) and rq.authenticate() == -1:  # 1.4 told anyone what exists first
        return rq.fail("User not authenticated, aborting RequestManagerVirtualNetworkDelete call.")
    pool = _pool(rq)
    net = pool.get(nid)
    if net is None:
        return rq.fail(f"Error getting Virtual Network with NID = {nid}")
    uid = rq.authenticate()
    if uid != 0 and uid != net.uid:
        return rq.fail("User cannot delete VN")
    return [rq.core.writes.vnet_delete(nid)]


@method("one.vnpool.info", "A:si", "Returns the virtual network pool information")
def vnpool_info(rq: Request, flag: int) -> list[Any]:
    """§6.4: flag ≤ −2 all networks, −1 the caller's, ≥ 0 that uid's."""
    uid = rq.authenticate()
    if uid == -1:
        return rq.fail("User not authenticated, NetworkPoolInfo call aborted.")
    if flag <= -2:
        who: int | None = None
    elif flag == -1:
        who = uid
    else:
        who = flag
    try:
        return ok(_pool(rq).pool_xml(who))
    except peewee.DatabaseError:  # a DB failure while reading user names
        return rq.fail("Error getting virtual network pool")
