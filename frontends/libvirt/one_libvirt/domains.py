"""libvirt domain semantics on top of OpenNebula VMs.

* A domain is a VM that is not DONE. Its id is the VM id while the domain is
  active (PENDING, ACTIVE, SUSPENDED), -1 otherwise; its UUID is derived from
  the VM id (:func:`vm_uuid`), so every lookup maps back to a VM id.
* ``create`` = ``one.vm.allocate`` (the scheduler places it); ``define`` =
  allocate + ``hold``; ``start`` = ``release`` (HOLD) or ``resume`` (STOPPED);
  ``shutdown``/``suspend`` = the same actions; ``resume`` = ``resume`` (SUSPENDED,
  STOPPED); ``destroy`` = ``cancel`` when RUNNING, else ``finalize``;
  ``undefine`` = ``finalize`` of an inactive domain. A FAILED VM cannot run again.
* Redefining an existing domain (``virsh edit``): OpenNebula 1.4 cannot change a
  VM's template, so a domain on HOLD (defined, never started) is replaced by a new
  VM with the new definition (new id and UUID); any other domain accepts only a
  definition that changes nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from one_core.api import HostState, LcmState, VmState
from one_libvirt import translate
from one_libvirt.errors import LibvirtError
from one_libvirt.oned import Oned
from one_libvirt.protocol import ErrCode, WireDomain
from one_libvirt.states import Mapped, map_state

UUID_PREFIX = bytes.fromhex("4f4e4500000040008000")
"""First 10 bytes of every domain UUID; the last 6 are the VM id (big-endian)."""


def vm_uuid(vid: int) -> bytes:
    return UUID_PREFIX + vid.to_bytes(6, "big")


def uuid_vid(uuid: bytes) -> int | None:
    if len(uuid) != 16 or not uuid.startswith(UUID_PREFIX):
        return None
    return int.from_bytes(uuid[10:], "big")


def uuid_string(uuid: bytes) -> str:
    h = uuid.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _int(el: Element, tag: str) -> int:
    text = el.findtext(tag) or "0"
    try:
        return int(text)
    except ValueError:
        return 0


@dataclass(frozen=True)
class Vm:
    """A VM as seen by libvirt clients."""

    id: int
    name: str
    state: int
    lcm_state: int
    memory_kb: int
    """Monitored memory (1.4's VM MEMORY, KB)."""

    @classmethod
    def from_element(cls, el: Element) -> Vm:
        return cls(
            _int(el, "ID"),
            el.findtext("NAME") or "",
            _int(el, "STATE"),
            _int(el, "LCM_STATE"),
            _int(el, "MEMORY"),
        )

    @property
    def mapped(self) -> Mapped:
        return map_state(self.state, self.lcm_state)

    @property
    def uuid(self) -> bytes:
        return vm_uuid(self.id)

    def wire(self) -> WireDomain:
        return WireDomain(self.name, self.uuid, self.id if self.mapped.active else -1)


def _no_domain(what: str) -> LibvirtError:
    return LibvirtError(ErrCode.NO_DOMAIN, f"Domain not found: {what}")


class Domains:
    """The domain operations one connection performs, as its OpenNebula user."""

    _name_lock = threading.Lock()
    """Serializes name checks + allocate so two clients cannot create the same name."""

    def __init__(self, oned: Oned):
        self.oned = oned

    # -- lookups ---------------------------------------------------------------

    def all(self) -> list[Vm]:
        vms = [Vm.from_element(el) for el in self.oned.pool()]
        return sorted((v for v in vms if v.state != VmState.DONE), key=lambda v: v.id)

    def get(self, vid: int) -> Vm:
        try:
            el = self.oned.info(vid)
        except LibvirtError:
            raise _no_domain(f"no domain with matching id {vid}") from None
        vm = Vm.from_element(el)
        if vm.state == VmState.DONE:
            raise _no_domain(f"no domain with matching id {vid}")
        return vm

    def by_id(self, dom_id: int) -> Vm:
        if dom_id < 0:
            raise _no_domain(f"no domain with matching id {dom_id}")
        return self.get(dom_id)

    def by_name(self, name: str) -> Vm:
        for vm in self.all():
            if vm.name == name:
                return vm
        raise _no_domain(f"no domain with matching name '{name}'")

    def by_uuid(self, uuid: bytes) -> Vm:
        vid = uuid_vid(uuid)
        if vid is None:
            raise _no_domain(f"no domain with matching uuid '{uuid_string(uuid)}'")
        return self.get(vid)

    def resolve(self, dom: WireDomain) -> Vm:
        """The VM behind a domain handle the client sends back (by uuid, then name)."""
        vid = uuid_vid(dom.uuid)
        if vid is not None:
            return self.get(vid)
        return self.by_name(dom.name)

    # -- life cycle ------------------------------------------------------------

    def _allocate(self, tmpl: translate.Template, replacing: int | None = None) -> int:
        name = tmpl.get("NAME")
        with self._name_lock:
            for vm in self.all():
                if vm.name == name and vm.id != replacing:
                    raise LibvirtError(
                        ErrCode.DOM_EXIST,
                        f"operation failed: domain '{name}' already exists with id {vm.id}",
                    )
            return self.oned.allocate(tmpl.to_text())

    def create_xml(self, xml: str) -> Vm:
        return self.get(self._allocate(translate.domain_to_template(xml)))

    def _existing(self, xml: str, name: str) -> Vm | None:
        """The domain a definition redefines: the one of its UUID, else the one of its name."""
        uuid = translate.domain_uuid(xml)
        vid = uuid_vid(uuid) if uuid is not None else None
        if vid is not None:
            try:
                return self.get(vid)
            except LibvirtError:
                pass
        for vm in self.all():
            if vm.name == name:
                return vm
        return None

    def define_xml(self, xml: str) -> Vm:
        """Define a new domain, or redefine an existing one (see the module docstring)."""
        tmpl = translate.domain_to_template(xml)
        old = self._existing(xml, tmpl.get("NAME") or "")
        if old is None:
            return self._define(tmpl)
        if translate.same_definition(tmpl, translate.domain_to_template(self.xml(old))):
            return self.get(old.id)
        if old.state != VmState.HOLD:
            raise LibvirtError(
                ErrCode.OPERATION_INVALID,
                f"Requested operation is not valid: domain '{old.name}' cannot be redefined: "
                "OpenNebula cannot change the template of a VM that has been started "
                f"(it is {VmState(old.state).name}); only a defined domain that never ran "
                "can be edited",
            )
        new = self._define(tmpl, replacing=old.id)
        self.oned.action("finalize", old.id)
        return new

    def _define(self, tmpl: translate.Template, replacing: int | None = None) -> Vm:
        vid = self._allocate(tmpl, replacing)
        try:
            self.oned.action("hold", vid)
        except LibvirtError as exc:
            self.oned.action("finalize", vid)
            raise LibvirtError(
                ErrCode.OPERATION_FAILED, f"could not keep the new VM {vid} on hold: {exc}"
            ) from None
        return self.get(vid)

    def set_memory(self, vm: Vm, kib: int) -> Vm:
        """virDomainSetMemory: only a domain on HOLD can change (it is redefined)."""
        if kib <= 0:
            raise LibvirtError(ErrCode.INVALID_ARG, "invalid argument: memory must be positive")
        if vm.state != VmState.HOLD:
            raise LibvirtError(
                ErrCode.OPERATION_INVALID,
                "Requested operation is not valid: the memory of an OpenNebula VM is fixed "
                "once it has been started (OpenNebula 1.4 has no memory balloon); only a "
                "defined domain that never ran can change it",
            )
        tmpl = translate.domain_to_template(self.xml(vm))
        tmpl.set("MEMORY", str(max(1, -(-kib // 1024))))
        if translate.same_definition(tmpl, translate.domain_to_template(self.xml(vm))):
            return vm
        new = self._define(tmpl, replacing=vm.id)
        self.oned.action("finalize", vm.id)
        return new

    def _not_failed(self, vm: Vm) -> None:
        if vm.state == VmState.FAILED:
            raise LibvirtError(
                ErrCode.OPERATION_INVALID,
                f"Requested operation is not valid: domain '{vm.name}' is FAILED in "
                "OpenNebula and cannot run again; undefine it and define it anew",
            )

    def start(self, vm: Vm) -> Vm:
        """virDomainCreate: ``release`` a VM on HOLD, ``resume`` a STOPPED (saved) one."""
        self._not_failed(vm)
        if vm.state == VmState.HOLD:
            self.oned.action("release", vm.id)
        elif vm.state == VmState.STOPPED:
            self.oned.action("resume", vm.id)
        else:
            raise LibvirtError(
                ErrCode.OPERATION_INVALID,
                "Requested operation is not valid: domain is already running",
            )
        return self.get(vm.id)

    def _require_active(self, vm: Vm) -> None:
        if not vm.mapped.active:
            raise LibvirtError(
                ErrCode.OPERATION_INVALID, "Requested operation is not valid: domain is not running"
            )

    def shutdown(self, vm: Vm) -> None:
        self._require_active(vm)
        self.oned.action("shutdown", vm.id)

    def suspend(self, vm: Vm) -> None:
        self._require_active(vm)
        self.oned.action("suspend", vm.id)

    def resume(self, vm: Vm) -> None:
        """``resume`` a SUSPENDED or STOPPED (saved) VM; oned refuses other active states."""
        self._not_failed(vm)
        if vm.state != VmState.STOPPED:
            self._require_active(vm)
        self.oned.action("resume", vm.id)

    def destroy(self, vm: Vm) -> None:
        self._require_active(vm)
        if vm.state == VmState.ACTIVE and vm.lcm_state == LcmState.RUNNING:
            self.oned.action("cancel", vm.id)
        else:
            self.oned.action("finalize", vm.id)

    def undefine(self, vm: Vm) -> None:
        if vm.mapped.active:
            raise LibvirtError(
                ErrCode.OPERATION_INVALID,
                "Requested operation is not valid: cannot undefine an active domain "
                "(an OpenNebula VM is gone once it stops)",
            )
        self.oned.action("finalize", vm.id)

    # -- information -----------------------------------------------------------

    def details(self, vm: Vm) -> tuple[Vm, Element | None]:
        """The VM (fresh) and its TEMPLATE element."""
        el = self.oned.info(vm.id)
        return Vm.from_element(el), el.find("TEMPLATE")

    def info(self, vm: Vm) -> tuple[int, int, int, int, int]:
        """virDomainInfo: state, maxMem (KiB), memory (KiB), nrVirtCpu, cpuTime (ns)."""
        fresh, template = self.details(vm)
        max_mem = translate.template_int(template, "MEMORY") * 1024
        mapped = fresh.mapped
        if not mapped.active:
            memory = 0
        elif fresh.memory_kb > 0:
            memory = fresh.memory_kb
        else:
            memory = max_mem
        return int(mapped.state), max_mem, memory, translate.template_vcpus(template), 0

    def xml(self, vm: Vm) -> str:
        fresh, template = self.details(vm)
        wire = fresh.wire()
        return translate.domain_xml(fresh.name, uuid_string(fresh.uuid), wire.id, template)

    def vcpus(self, vm: Vm) -> int:
        return translate.template_vcpus(self.details(vm)[1])

    def max_memory(self, vm: Vm) -> int:
        return translate.template_int(self.details(vm)[1], "MEMORY") * 1024


def host_int(el: Element, tag: str) -> int:
    """An integer field of a HOST element (0 when missing or not a number)."""
    return _int(el, tag)


def node_totals(hosts: list[Element]) -> tuple[int, int]:
    """The cloud as one node: (memory KiB, CPUs) summed over the enabled hosts."""
    memory = cpus = 0
    for host in hosts:
        if _int(host, "STATE") == HostState.DISABLED:
            continue
        memory += _int(host, "HOST_SHARE/MAX_MEM")
        cpus += _int(host, "HOST_SHARE/MAX_CPU") // 100
    return memory, max(1, cpus)
