"""The virtual network pool: networks, their leases, XML documents and the NIC lease API.

Behaviour of ``spec/templates-scheduler-vnets-cli.md`` §4 and
``spec/xmlrpc-api.md`` §6, §9.5–§9.6. Every network (with its leases) is
loaded at start-up and kept in memory; every change is written through to the
DB inside :func:`one_core.db.writer` (the process-wide write lock plus one
transaction), so memory and DB change together or not at all. Readers
(``one.vn.info``, ``one.vnpool.info``) take only the pool's own lock: they never
wait for the dispatcher's transaction.

Lease API for the VM pool (``one.vm.allocate`` and the release points of
§4.7)::

    pool = core.vnet                                   # VNetPool
    nics = pool.acquire_nics(template.vectors("NIC"), vid, uid)   # all or nothing
    # -> new list: NICs with NETWORK rewritten to BRIDGE/IP/MAC/[MODEL]/NETWORK/VNID,
    #    other NICs unchanged; raises LeaseError (nothing held) on any failure
    pool.release_nics(nics, vid)                       # at DONE / finalize / failed insert

Both may run inside the caller's own ``db.writer()`` block. If the caller's
transaction fails after :meth:`VNetPool.acquire_nics` returned, it must call
:meth:`VNetPool.release_nics` with the returned NICs (that also frees the
leases held in memory).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import peewee

from one_core import db
from one_core.cnum import stream_int
from one_core.db.vnet_models import LeaseRow, VNetRow
from one_core.errors import OneError
from one_core.leases import (
    DEFAULT_NETWORK_SIZE,
    FIXED,
    RANGED,
    FixedLeases,
    Lease,
    LeaseError,
    Leases,
    RangedLeases,
    network_size,
    parse_ip,
    parse_mac_prefix,
)
from one_core.pools import IdCounter, xml_text
from one_core.template import Template, TemplateSyntaxError

if TYPE_CHECKING:
    from one_core.daemon.core import Core

log = logging.getLogger("one.VNM")
_VNM = {"one_module": "VNM"}

__all__ = ["LeaseError", "VNetAllocateError", "VNetPool", "VirtualNetwork", "setup"]


class VNetAllocateError(OneError):
    """``one.vn.allocate`` failed; ``str()`` is the reason (for oned.log)."""


# --------------------------------------------------------------------------------------------
# One network
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class VirtualNetwork:
    """A network as the pool keeps it in memory."""

    oid: int
    uid: int
    name: str
    type: int
    bridge: str
    template: Template
    leases: Leases
    size: int = 0
    _head: str | None = field(default=None, repr=False)
    _leases_xml: str | None = field(default=None, repr=False)

    def changed(self) -> None:
        """Forget the cached ``<LEASES>`` rendering (call after every lease change)."""
        self._leases_xml = None

    def can_be_used_by(self, uid: int) -> bool:
        """§4.6 step 3: own networks, oneadmin's networks, and everything for oneadmin."""
        return uid == self.uid or self.uid == 0 or uid == 0

    def head_xml(self) -> str:
        """``<ID/><UID/>`` … shared start of both documents (without USERNAME)."""
        return f"<ID>{self.oid}</ID><UID>{self.uid}</UID>"

    def to_xml(self) -> str:
        """Body of ``one.vn.info`` (§9.5): ID, UID, NAME, TYPE, BRIDGE, TEMPLATE, LEASES."""
        if self._head is None:
            self._head = (
                f"<VNET>{self.head_xml()}<NAME>{xml_text(self.name)}</NAME>"
                f"<TYPE>{self.type}</TYPE><BRIDGE>{xml_text(self.bridge)}</BRIDGE>"
                f"{self.template.to_xml()}"
            )
        if self._leases_xml is None:
            self._leases_xml = "".join(lease.to_xml() for lease in self.leases)
        return f"{self._head}<LEASES>{self._leases_xml}</LEASES></VNET>"

    def pool_xml(self, username: str) -> str:
        """One ``<VNET>`` of ``one.vnpool.info`` (§9.6)."""
        return (
            f"<VNET>{self.head_xml()}<USERNAME>{xml_text(username)}</USERNAME>"
            f"<NAME>{xml_text(self.name)}</NAME><TYPE>{self.type}</TYPE>"
            f"<BRIDGE>{xml_text(self.bridge)}</BRIDGE>"
            f"<TOTAL_LEASES>{self.leases.used_count()}</TOTAL_LEASES></VNET>"
        )


def _lease_row(oid: int, lease: Lease) -> dict[str, int]:
    return {
        "oid": oid,
        "ip": lease.ip,
        "mac": lease.mac,
        "vid": lease.vid,
        "used": int(lease.used),
    }


def _usernames_from_db() -> Callable[[int], str]:
    from one_core.db.models import UserRow

    names = {row.oid: row.user_name for row in UserRow.select(UserRow.oid, UserRow.user_name)}
    return lambda uid: names.get(uid, "")


# --------------------------------------------------------------------------------------------
# The pool
# --------------------------------------------------------------------------------------------


class VNetPool:
    """All virtual networks.

    :param mac_prefix: oned.conf ``MAC_PREFIX`` (``"00:03"``) or its 16-bit value.
        A malformed prefix logs ``Wrong MAC prefix format, using default`` and
        uses ``00:01``, as 1.4.
    :param default_size: oned.conf ``NETWORK_SIZE`` (size of a RANGED network
        whose ``NETWORK_SIZE`` is missing or reads as 0).
    :param name_of: ``uid -> user name`` (``""`` when unknown) for ``USERNAME``
        in the pool document, e.g. ``core.users.name_of``; default: read ``user_pool``.

    The DB (:data:`one_core.db.database`) must be connected.
    """

    def __init__(
        self,
        mac_prefix: str | int | None = "00:01",
        default_size: int = DEFAULT_NETWORK_SIZE,
        name_of: Callable[[int], str] | None = None,
    ):
        prefix, ok = parse_mac_prefix(mac_prefix)
        if not ok:
            log.error("Wrong MAC prefix format, using default", extra=_VNM)
        self.mac_prefix = prefix
        self.default_size = default_size if default_size and default_size > 0 else 254
        self._name_of = name_of
        self._lock = threading.RLock()
        """Guards the networks in memory. A change takes the write lock first
        (``db.writer()``), then this one; a reader takes only this one."""
        self._nets: dict[int, VirtualNetwork] = {}
        self._by_name: dict[str, int] = {}
        self.load()

    # -- loading ------------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)load every network and lease from the DB; cursors start again at 0."""
        with self._lock:
            nets: dict[int, VirtualNetwork] = {}
            rows: dict[int, list[Lease]] = {}
            for lr in LeaseRow.select().tuples().iterator():
                oid, ip, mac, vid, used = lr
                rows.setdefault(oid, []).append(Lease(ip, mac, vid, bool(used)))
            for row in VNetRow.select().order_by(VNetRow.oid):
                nets[row.oid] = self._from_row(row, rows.get(row.oid, []))
            self._nets = nets
            self._by_name = {n.name: n.oid for n in nets.values()}
            last = max(nets) if nets else None
            self._ids = IdCounter(last)

    def _from_row(self, row: VNetRow, leases: list[Lease]) -> VirtualNetwork:
        template = Template.parse(row.template) if row.template else Template()
        lset: Leases
        if row.type == RANGED:
            lset = RangedLeases(row.network_address, row.size, self.mac_prefix, leases)
        else:
            lset = FixedLeases(self.mac_prefix, leases)
        return VirtualNetwork(
            row.oid, row.uid, row.name, row.type, row.bridge, template, lset, row.size
        )

    # -- lookups ------------------------------------------------------------------------------

    def get(self, oid: int) -> VirtualNetwork | None:
        """The network ``oid``, or None."""
        return self._nets.get(oid)

    def get_by_name(self, name: str) -> VirtualNetwork | None:
        """The network named exactly ``name`` (case-sensitive), or None."""
        oid = self._by_name.get(name)
        return None if oid is None else self._nets.get(oid)

    def __len__(self) -> int:
        return len(self._nets)

    def ids(self) -> list[int]:
        return sorted(self._nets)

    # -- allocate / delete --------------------------------------------------------------------

    def allocate(self, uid: int, template_text: str) -> int:
        """``one.vn.allocate``: parse, create, return the new id.

        :raises VNetAllocateError: parse error or a RANGED network without a
            valid ``NETWORK_ADDRESS``; nothing is left behind.
        """
        try:
            template = Template.parse(template_text)
        except TemplateSyntaxError as exc:
            log.error("Error parsing virtual network template: %s", exc, extra=_VNM)
            raise VNetAllocateError(str(exc)) from None
        return self.allocate_template(uid, template)

    def allocate_template(self, uid: int, template: Template) -> int:
        """Create a network from a parsed template (§4.1–§4.2)."""
        name = template.get("NAME")
        bridge = template.get("BRIDGE")
        kind = RANGED if template.get("TYPE") == "RANGED" else FIXED
        errors: list[str] = []
        if kind == RANGED:
            size = network_size(template.get("NETWORK_SIZE"), self.default_size)
            try:
                ranged = RangedLeases.from_address(
                    template.get("NETWORK_ADDRESS"), size, self.mac_prefix
                )
            except LeaseError as exc:
                log.error("%s", exc, extra=_VNM)
                raise VNetAllocateError(str(exc)) from None
            lset: Leases = ranged
            address = ranged.network
        else:
            entries = template.values("LEASES")
            leases, errors = FixedLeases.parse_template_leases(entries, self.mac_prefix)
            lset = FixedLeases(self.mac_prefix, leases)
            size, address = len(entries), 0
        with db.write_lock, self._lock:
            oid = self._ids.take()
            net = VirtualNetwork(oid, uid, name, kind, bridge, template, lset, size)
            try:
                with db.writer():
                    old = self.get_by_name(name)
                    if old is not None:  # decision S5: replace the old network entirely
                        self._drop_rows(old.oid)
                    VNetRow.insert(
                        oid=oid,
                        uid=uid,
                        name=name,
                        type=kind,
                        bridge=bridge,
                        template=template.to_text(),
                        network_address=address,
                        size=size,
                    ).execute()
                    if isinstance(lset, FixedLeases) and len(lset):
                        self._insert_leases(oid, list(lset))
            except peewee.DatabaseError as exc:
                self._ids.give_back(oid)
                log.error("Error inserting virtual network: %s", exc, extra=_VNM)
                raise VNetAllocateError(str(exc)) from exc
            if old is not None:
                self._forget(old)
                log.info(
                    "Virtual network %s replaced network %d of the same name",
                    oid,
                    old.oid,
                    extra=_VNM,
                )
            self._nets[oid] = net
            self._by_name[name] = oid
        for message in errors:
            log.error("%s", message, extra=_VNM)
        return oid

    @staticmethod
    def _insert_leases(oid: int, leases: Sequence[Lease], batch: int = 400) -> None:
        for i in range(0, len(leases), batch):
            LeaseRow.insert_many([_lease_row(oid, x) for x in leases[i : i + batch]]).execute()

    @staticmethod
    def _drop_rows(oid: int) -> None:
        LeaseRow.delete().where(LeaseRow.oid == oid).execute()
        VNetRow.delete().where(VNetRow.oid == oid).execute()

    def _forget(self, net: VirtualNetwork) -> None:
        self._nets.pop(net.oid, None)
        if self._by_name.get(net.name) == net.oid:
            del self._by_name[net.name]

    def delete(self, oid: int) -> bool:
        """``one.vn.delete``: drop the network and all its leases (in use or not, §4.7).

        :returns: False if there is no such network or the DB delete failed
            (``one.vn.delete`` then answers a bare ``[false]``, R2).
        """
        with db.write_lock, self._lock:
            net = self._nets.get(oid)
            if net is None:
                return False
            try:
                with db.writer():
                    self._drop_rows(oid)
            except peewee.DatabaseError as exc:
                log.error("Error deleting virtual network %d: %s", oid, exc, extra=_VNM)
                return False
            self._forget(net)
            return True

    # -- documents ----------------------------------------------------------------------------

    def info_xml(self, oid: int) -> str | None:
        """Body of ``one.vn.info`` or None when the network does not exist."""
        with self._lock:
            net = self._nets.get(oid)
            return None if net is None else net.to_xml()

    def pool_xml(self, uid: int | None = None) -> str:
        """Body of ``one.vnpool.info``: every network, or only ``uid``'s, by ascending id.

        A missing owner gives an empty ``USERNAME`` (decision X3).
        """
        name_of = self._name_of or _usernames_from_db()
        with self._lock:
            nets = [self._nets[k] for k in sorted(self._nets)]
            parts = [n.pool_xml(name_of(n.uid)) for n in nets if uid is None or n.uid == uid]
        return "<VNET_POOL>" + "".join(parts) + "</VNET_POOL>"

    # -- leases for VMs (§4.6, §4.7) -----------------------------------------------------------

    def acquire_nics(
        self, nics: Iterable[Mapping[str, str] | str], vid: int, uid: int
    ) -> list[Any]:
        """Lease every NIC that names a ``NETWORK``; all or nothing.

        :param nics: the VM template's NIC values in template order (vectors;
            a non-vector value is passed through).
        :param vid: the VM id (recorded in each lease). :param uid: the VM owner.
        :returns: a new list, same length and order: a NIC with a non-empty
            ``NETWORK`` becomes exactly ``{BRIDGE, IP, MAC, [MODEL], NETWORK, VNID}``;
            other NICs are returned unchanged.
        :raises LeaseError: unknown network, ownership violation, no free
            lease, bad/foreign/used IP, or a DB failure. Leases taken for
            earlier NICs are released before raising; the DB is unchanged.
        """
        nics = list(nics)
        taken: list[tuple[VirtualNetwork, Lease]] = []
        out: list[Any] = []
        with db.write_lock, self._lock:
            try:
                with db.writer():
                    for nic in nics:
                        if not isinstance(nic, Mapping) or not nic.get("NETWORK"):
                            out.append(nic)
                            continue
                        net, lease = self._lease_one(nic, vid, uid)
                        taken.append((net, lease))
                        out.append(self._rewrite(nic, net, lease))
                        self._store(net, lease)
            except BaseException as exc:
                for net, lease in reversed(taken):
                    net.leases.release(lease.ip)
                    net.changed()
                if isinstance(exc, peewee.DatabaseError):
                    raise LeaseError(f"Error storing network lease: {exc}") from exc
                raise
        return out

    def acquire_nic(self, nic: Mapping[str, str], vid: int, uid: int) -> dict[str, str]:
        """One NIC (see :meth:`acquire_nics`); a NIC without NETWORK is returned as a copy."""
        return dict(self.acquire_nics([nic], vid, uid)[0])

    def _lease_one(
        self, nic: Mapping[str, str], vid: int, uid: int
    ) -> tuple[VirtualNetwork, Lease]:
        name = nic["NETWORK"]
        net = self.get_by_name(name)
        if net is None:
            raise LeaseError(f"Virtual network {name} does not exist")
        if not net.can_be_used_by(uid):
            message = f"Owner {uid} of the VM doesn't have ownership of Virtual Network {net.uid}"
            log.error("%s", message, extra={"one_module": "VMM"})
            raise LeaseError(message)
        ip = nic.get("IP", "")
        try:
            lease = net.leases.set(vid, ip) if ip else net.leases.get(vid)
            net.changed()
        except LeaseError as exc:
            raise LeaseError(f"{exc} (virtual network {name}, id {net.oid})") from None
        return net, lease

    @staticmethod
    def _rewrite(nic: Mapping[str, str], net: VirtualNetwork, lease: Lease) -> dict[str, str]:
        new = {
            "BRIDGE": net.bridge,
            "IP": lease.ip_text,
            "MAC": lease.mac_text,
            "NETWORK": net.name,
            "VNID": str(net.oid),
        }
        model = nic.get("MODEL", "")
        if model:
            new["MODEL"] = model
        return dict(sorted(new.items()))

    @staticmethod
    def _sql(statement: str, params: tuple[int, ...]) -> None:
        """Run a prepared lease statement (``?`` placeholders, adapted to the backend).

        Lease writes are on the VM allocation path: plain SQL avoids peewee's
        per-query compilation (≈0.4 ms).
        """
        database = db.database
        if database.param != "?":
            statement = statement.replace("?", database.param)
        database.execute_sql(statement, params)

    def _store(self, net: VirtualNetwork, lease: Lease) -> None:
        if net.type == RANGED:
            self._sql(
                "INSERT INTO leases (oid, ip, mac, vid, used) VALUES (?, ?, ?, ?, 1)",
                (net.oid, lease.ip, lease.mac, lease.vid),
            )
        else:
            self._sql(
                "UPDATE leases SET vid = ?, used = 1 WHERE oid = ? AND ip = ?",
                (lease.vid, net.oid, lease.ip),
            )

    def release_nics(self, nics: Iterable[Mapping[str, str] | str], vid: int | None = None) -> int:
        """Release the lease of every NIC that has both ``VNID`` and ``IP`` (§4.7).

        A NIC whose network no longer exists, or whose IP is not leased, is
        skipped. When ``vid`` is given, a lease held by another VM is left
        alone (decision: 1.4 freed it). Returns the number of leases freed.
        """
        leased = [
            (nic["VNID"], nic["IP"])
            for nic in nics
            if isinstance(nic, Mapping) and nic.get("VNID") and nic.get("IP")
        ]
        if not leased:  # no lease to give back (a VM without NICs): no transaction either
            return 0
        freed = 0
        with db.writer(), self._lock:
            for vnid, ip_text in leased:
                net = self._nets.get(stream_int(vnid))
                ip = parse_ip(ip_text)
                if net is None or ip is None:
                    continue
                held = net.leases.lease(ip)
                if held is None or not held.used or (vid is not None and held.vid != vid):
                    continue
                net.leases.release(ip)
                net.changed()
                if net.type == RANGED:
                    self._sql("DELETE FROM leases WHERE oid = ? AND ip = ?", (net.oid, ip))
                else:
                    self._sql(
                        "UPDATE leases SET vid = -1, used = 0 WHERE oid = ? AND ip = ?",
                        (net.oid, ip),
                    )
                freed += 1
        return freed

    def release(self, template_nics: Iterable[Mapping[str, str] | str], vid: int) -> int:
        """Alias of :meth:`release_nics` (``release(nics, vid)``)."""
        return self.release_nics(template_nics, vid)


# --------------------------------------------------------------------------------------------
# oned component
# --------------------------------------------------------------------------------------------


def setup(core: Core) -> None:
    """oned component hook: ``core.vnet = VNetPool(...)`` from oned.conf."""
    core.vnet = VNetPool(core.cfg.mac_prefix, core.cfg.network_size, core.users.name_of)
