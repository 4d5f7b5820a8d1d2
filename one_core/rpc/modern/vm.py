"""``one.vm.*``, ``one.vmpool.info`` and ``one.vmpool.infoextended`` of the modern dialect.

Every change goes through the engine exactly as the 1.4 methods do
(:mod:`one_core.rpc.vm_methods`); today's action names are mapped onto the
1.4 life cycle by :func:`engine_action`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from one_core.engine.errors import EngineError
from one_core.rpc.modern import errors, vm_query
from one_core.rpc.modern.api import Call, api, unsupported
from one_core.rpc.modern.documents import vm_xml
from one_core.rpc.modern.errors import ApiError, not_supported
from one_core.template import Template, TemplateSyntaxError
from one_core.vm.pool import AllocateError
from one_core.vm.states import LcmState, VmState

if TYPE_CHECKING:
    from one_core.engine.core import Engine
    from one_core.vm.pool import VMPool

SAME = ("hold", "release", "stop", "suspend", "resume")
"""Actions with the same name and meaning in 1.4."""

MAPPED = {
    "poweroff": "suspend",
    "poweroff-hard": "suspend",
    "undeploy": "stop",
    "undeploy-hard": "stop",
}
"""Today's names for 1.4 actions: poweroff keeps the VM on its host (1.4 suspend),
undeploy sends it back to the front-end (1.4 stop); ``resume`` undoes both."""

NO_LIFECYCLE = (
    "reboot", "reboot-hard", "resched", "unresched", "delete", "delete-recreate", "recover",
)  # fmt: skip
"""Today's actions 1.4 has no life cycle for."""

LIFECYCLE_ATTRIBUTES = frozenset(
    {"NAME", "VMID", "CPU", "VCPU", "MEMORY", "NIC", "DISK", "CONTEXT", "OS", "GRAPHICS",
     "RAW", "INPUT", "FEATURES", "REQUIREMENTS", "RANK"}
)  # fmt: skip
"""Attributes ``one.vm.update`` may not change: the 1.4 life cycle reads them."""


def _engine(call: Call) -> Engine:
    return call.core.need_engine()


def engine_action(action: str, state: int, lcm_state: int) -> str:
    """The 1.4 action that performs today's ``action`` on a VM in ``(state, lcm_state)``.

    ``terminate``: a graceful shutdown of a RUNNING VM, else 1.4's finalize (any
    state); ``terminate-hard``: cancel a RUNNING VM, else finalize.

    :raises ApiError: ACTION for a name with no 1.4 life cycle or an unknown name.
    """
    running = state == VmState.ACTIVE and lcm_state == LcmState.RUNNING
    if action == "terminate":
        return "shutdown" if running else "finalize"
    if action == "terminate-hard":
        return "cancel" if running else "finalize"
    if action in SAME:
        return action
    if action in MAPPED:
        return MAPPED[action]
    if action in NO_LIFECYCLE:
        raise not_supported(f'Action "{action}"', errors.ACTION)
    raise ApiError(errors.ACTION, f'Unknown action "{action}".')


def _owned(call: Call, vid: int, op: str) -> int:
    """The owner of VM ``vid`` after checking the caller may do ``op`` on it."""
    owner = _engine(call).pool.owner(vid)
    if owner is None:
        raise call.missing("virtual machine", vid)
    call.authorize(op, "VM", vid, owner)
    return owner


def _host_exists(call: Call, hid: int) -> None:
    if call.core.hosts.get(hid) is None:
        raise call.missing("host", hid)


def _only_default_datastore(ds: int) -> None:
    if ds not in (-1, 0):
        raise not_supported("Choosing a datastore", errors.ACTION)


def _engine_call(what: str, fn: Callable[..., object], *args: object) -> None:
    try:
        fn(*args)
    except EngineError as exc:
        raise ApiError(errors.ACTION, f"Error performing {what}: {exc.message}") from None


@api("one.vm.allocate", "A:ss", "Allocates a new virtual machine", optional="b")
def vm_allocate(call: Call, template: str, hold: bool = False) -> int:
    try:
        return _engine(call).allocate(call.uid, template, on_hold=hold)
    except AllocateError as exc:
        raise ApiError(errors.ALLOCATE, exc.message) from None


@api("one.vm.info", "A:si", "Returns virtual machine instance information", optional="b")
def vm_info(call: Call, vid: int, decrypt: bool = False) -> str:
    found = vm_query.one(vid)
    if found is None:
        raise call.missing("virtual machine", vid)
    vm, histories = found
    call.authorize("USE", "VM", vid, vm["uid"])
    return vm_xml(vm, histories)


@api("one.vm.action", "A:ssi", "Performs an action on a virtual machine")
def vm_action(call: Call, action: str, vid: int) -> int:
    _owned(call, vid, "MANAGE")
    engine = _engine(call)
    state = engine.pool.state_of(vid)
    if state is None:
        raise call.missing("virtual machine", vid)
    name = engine_action(action, *state)
    _engine_call(f'action "{action}"', engine.action, name, vid)
    return vid


@api("one.vm.deploy", "A:sii", "Deploys a virtual machine", optional="bi")
def vm_deploy(call: Call, vid: int, hid: int, enforce: bool = False, ds: int = -1) -> int:
    _owned(call, vid, "ADMIN")
    _host_exists(call, hid)
    _only_default_datastore(ds)
    _engine_call("deploy", _engine(call).deploy, vid, hid)
    return vid


@api("one.vm.migrate", "A:siib", "Migrates a virtual machine", optional="bii")
def vm_migrate(
    call: Call, vid: int, hid: int, live: bool, enforce: bool = False, ds: int = -1, kind: int = 0
) -> int:
    _owned(call, vid, "ADMIN")
    _host_exists(call, hid)
    _only_default_datastore(ds)
    if kind != 0:
        raise not_supported("Migration with a power-off", errors.ACTION)
    _engine_call("migrate", _engine(call).migrate, vid, hid, live)
    return vid


def _rename(pool: VMPool, vid: int, name: str) -> None:
    vm = pool.get(vid)
    if vm is None:
        raise ApiError(errors.NO_EXISTS, f"Error getting virtual machine [{vid}].")
    vm.name = name
    vm.template.set("NAME", name)
    pool.update(vm, with_template=True)


@api("one.vm.rename", "A:sis", "Renames a virtual machine")
def vm_rename(call: Call, vid: int, name: str) -> int:
    _owned(call, vid, "MANAGE")
    if not name.strip() or any(c in name for c in "\n\r\"'"):
        raise ApiError(errors.ACTION, f"Invalid name {name!r}.")
    engine = _engine(call)
    engine.dispatcher.call(_rename, engine.pool, vid, name)
    return vid


def _update(pool: VMPool, vid: int, attributes: Template) -> None:
    vm = pool.get(vid)
    if vm is None:
        raise ApiError(errors.NO_EXISTS, f"Error getting virtual machine [{vid}].")
    for name, value in attributes:
        vm.template.set(name, value)
    pool.update(vm, with_template=True)


@api("one.vm.update", "A:sis", "Updates a virtual machine's template", optional="i")
def vm_update(call: Call, vid: int, text: str, kind: int = 0) -> int:
    """No USER_TEMPLATE here: the attributes are set in the VM's TEMPLATE (replace and
    merge alike), except those the 1.4 life cycle reads."""
    _owned(call, vid, "MANAGE")
    try:
        attributes = Template.parse(text + "\n")
    except TemplateSyntaxError as exc:
        raise ApiError(errors.ACTION, f"Error parsing template: {exc}") from None
    locked = sorted(set(attributes.names()) & LIFECYCLE_ATTRIBUTES)
    if locked:
        raise not_supported(f"Changing {', '.join(locked)} of a VM", errors.ACTION)
    engine = _engine(call)
    engine.dispatcher.call(_update, engine.pool, vid, attributes)
    return vid


def _pool_document(call: Call, flag: int, start: int, end: int, state: int) -> str:
    if flag < -4:
        raise ApiError(errors.XML_RPC_API, f"Incorrect filter_flag {flag}.")
    if state < vm_query.ANY_STATE or state > max(VmState):
        raise ApiError(errors.XML_RPC_API, f"Incorrect state {state}.")
    if flag == -2 and call.is_admin:
        owner: int | None = None
    elif flag >= 0:
        owner = flag if call.is_admin or flag == call.uid else -1  # -1: nobody's
    else:  # -1 mine and my group's, -3 mine, -4 my group's: no groups, no sharing
        owner = call.uid
    rows = vm_query.pool(vm_query.PoolQuery(owner, state, start, end))
    return "<VM_POOL>" + "".join(vm_xml(v, [h] if h else []) for v, h in rows) + "</VM_POOL>"


@api("one.vmpool.info", "A:siii", "Returns the virtual machine pool", optional="i")
def vmpool_info(call: Call, flag: int, start: int, end: int, state: int = -1) -> str:
    return _pool_document(call, flag, start, end, state)


@api("one.vmpool.infoextended", "A:siii", "Returns the extended VM pool", optional="i")
def vmpool_infoextended(call: Call, flag: int, start: int, end: int, state: int = -1) -> str:
    return _pool_document(call, flag, start, end, state)


unsupported(
    [
        f"one.vm.{m}"
        for m in (
            "attach", "detach", "attachnic", "detachnic", "updatenic", "attachsg", "detachsg",
            "attachpci", "detachpci", "snapshotcreate", "snapshotrevert", "snapshotdelete",
            "resize", "diskresize", "disksaveas", "disksnapshotcreate", "disksnapshotrevert",
            "disksnapshotdelete", "disksnapshotrename", "chown", "chmod", "recover", "lock",
            "unlock", "updateconf", "monitoring", "schedadd", "schedupdate", "scheddelete",
            "backup", "backupcancel", "restore", "exec", "retryexec", "cancelexec",
            "vmgroupadd", "vmgroupdel",
        )
    ],
    "This virtual machine operation",
    errors.ACTION,
)  # fmt: skip
unsupported(
    [f"one.vmpool.{m}" for m in ("monitoring", "accounting", "showback", "calculateshowback")],
    "Virtual machine monitoring and accounting",
)
