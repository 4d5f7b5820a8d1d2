"""``one.vm.*`` and ``one.vmpool.info`` (``spec/xmlrpc-api.md`` §4.1-4.6).

The engine (``core.engine``) makes every change on its dispatcher
thread; ``one.vm.info`` and ``one.vmpool.info`` read the database directly.
Failures of deploy/action/migrate are not logged by the RM (1.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from one_core.engine.errors import EngineError
from one_core.rpc.registry import Request, method, ok
from one_core.rpc.security import strict
from one_core.vm.pool import AllocateError

if TYPE_CHECKING:
    from one_core.engine.core import Engine


def _engine(rq: Request) -> Engine:
    return rq.core.need_engine()


def _owner_ok(rq: Request, owner: int) -> bool:
    uid = rq.authenticate()
    return uid == 0 or (uid != -1 and uid == owner)


@method("one.vm.allocate", "A:ss", "Allocates a virtual machine in the pool")
def vm_allocate(rq: Request, template: str) -> list[Any]:
    if rq.authenticate() == -1:
        return rq.fail("User not authenticated, aborting RequestManagerAllocate call.")
    user = rq.core.users.by_name(rq.username)
    if user is None:
        return rq.fail("User not recognized, cannot allocate VirtualMachine")
    try:
        vid = _engine(rq).allocate(user.oid, template)
    except AllocateError as exc:
        return rq.fail(exc.message)
    return ok(vid)


_DENIED = {
    "Deploy": "User not authorized to perform the deploy",
    "Action": "User not authorized to perform operation upon VirtualMachine [{vid}]",
    "Migrate": "User not authorized to perform migration upon this VM",
}
"""1.4's answer when the caller does not own the VM, per request."""


def _vm_request(
    rq: Request, call: str, vid: int, hid: int | None, apply: Callable[[Engine], object]
) -> list[Any]:
    """deploy, action and migrate: 1.4's checks, in 1.4's order and words, then ``apply``.

    The caller is authenticated first only in strict mode (1.4 told anyone what
    exists first); then the host ``hid`` (when given) and the VM must exist and
    the caller must own the VM. Engine errors are not logged by the RM.
    """
    if strict(rq.core) and rq.authenticate() == -1:
        return rq.fail(f"User not authenticated, aborting RequestManager{call} call.")
    engine = _engine(rq)
    if hid is not None and engine.hosts.host_info(hid) is None:
        return rq.fail(f"The host {hid} does not exists")
    owner = engine.pool.owner(vid)
    if owner is None:
        return rq.fail(f"The virtual machine {vid} does not exists")
    if not _owner_ok(rq, owner):
        return rq.fail(_DENIED[call].format(vid=vid))
    try:
        apply(engine)
    except EngineError as exc:
        return rq.fail(exc.message, log_it=False)
    return ok()


@method("one.vm.deploy", "A:sii", "Deploys a virtual machine")
def vm_deploy(rq: Request, vid: int, hid: int) -> list[Any]:
    return _vm_request(rq, "Deploy", vid, hid, lambda engine: engine.deploy(vid, hid))


@method("one.vm.action", "A:ssi", "Performs an action on a virtual machine")
def vm_action(rq: Request, action: str, vid: int) -> list[Any]:
    return _vm_request(rq, "Action", vid, None, lambda engine: engine.action(action, vid))


@method("one.vm.migrate", "A:siib", "Migrates a virtual machine")
def vm_migrate(rq: Request, vid: int, hid: int, live: bool) -> list[Any]:
    return _vm_request(rq, "Migrate", vid, hid, lambda engine: engine.migrate(vid, hid, live))


@method("one.vm.info", "A:si", "Returns virtual machine information")
def vm_info(rq: Request, vid: int) -> list[Any]:
    if strict(rq.core):  # 1.4 (A1) answered any session: docs/security.md
        if rq.authenticate() == -1:
            return rq.fail("User not authenticated, VirtualMachineInfo call aborted.")
        owner = _engine(rq).pool.owner(vid)
        if owner is not None and not _owner_ok(rq, owner):
            return rq.fail(f"User not authorized to get information of VM {vid}")
    body = _engine(rq).pool.info_xml(vid)
    if body is None:
        return rq.fail(f"Error getting vm with VID = {vid}")
    return ok(body)


@method("one.vmpool.info", "A:si", "Returns the virtual machine pool")
def vmpool_info(rq: Request, flag: int) -> list[Any]:
    if rq.authenticate() == -1:
        return rq.fail("User not authenticated, aborting RequestManagerPoolInfo call.")
    uid: int | None
    if flag <= -2:
        uid = None
    elif flag == -1:
        user = rq.core.users.by_name(rq.username)
        if user is None:
            return rq.fail(
                "An error ocurred getting the user from the UserPool, aborting "
                "RequestManagerPoolInfo call"
            )
        uid = user.oid
    else:
        uid = flag
    caller = rq.authenticate()
    if strict(rq.core) and caller != 0 and uid != caller:
        uid = caller  # strict: a user lists only their own VMs (1.4: anyone's, or all)
    try:
        body = _engine(rq).pool.pool_xml(uid, rpc_escaped=True)
    except Exception:
        return rq.fail("Error getting the pool info")
    return ok(body)
