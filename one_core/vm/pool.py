"""The VM pool: allocation, persistence, and the documents of the info calls.

Writes (:meth:`VMPool.allocate`, :meth:`VMPool.update`, the history methods)
are made by the engine's dispatcher thread only; the read methods
(:meth:`VMPool.info_xml`, :meth:`VMPool.pool_xml`, :meth:`VMPool.load`) read
the database and may run on any thread.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import peewee

from one_core import db
from one_core.db.vm_models import HistoryRow, VMRow
from one_core.engine.outbox import Outbox
from one_core.leases import LeaseError
from one_core.placement import PendingVM
from one_core.rpc.codec import EscapedBytes
from one_core.template import Template, TemplateSyntaxError
from one_core.vm import listing, xml
from one_core.vm.model import History, VirtualMachine
from one_core.vm.ports import (
    ContextResolver,
    HookPort,
    LeasePort,
    NoHooks,
    NoLeases,
)
from one_core.vm.states import LcmState, VmState
from one_core.vm_context import resolve_context, take_context

log = logging.getLogger("one.vm")


class AllocateError(Exception):
    """``one.vm.allocate`` failed; ``code`` is 1.4's rc (−2 parse, −1 insert)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


CACHE_SIZE = 1024
"""VMs kept loaded between events, the most recently used: the ones changing now. An
allocation does not load its VM (it waits, PENDING, for the scheduler: the scheduler
reads templates from their rows); the first event on it does, and the VM stays loaded
until DONE or until 1,024 other VMs were used since. Every other VM is only its database
row, with its stored listing entry (about 0.8 KiB each loaded for a small template: at
most ~1 MiB however large the pool; 10,000 VMs allocated and never scheduled take none)."""

PARSE_ERROR = "Error parsing VM template"
INSERT_ERROR = "Error inserting VM in the database, check oned.log"


def _history_from_row(row: HistoryRow | dict[str, Any]) -> History:
    def get(key: str) -> Any:
        return row.get(key) if isinstance(row, dict) else getattr(row, key)

    return History(
        vid=get("vid"),
        seq=get("seq"),
        host_name=get("host_name"),
        vm_dir=get("vm_dir"),
        hid=get("hid"),
        vm_mad=get("vm_mad"),
        tm_mad=get("tm_mad"),
        stime=get("stime"),
        etime=get("etime"),
        pstime=get("pstime"),
        petime=get("petime"),
        rstime=get("rstime"),
        retime=get("retime"),
        estime=get("estime"),
        eetime=get("eetime"),
        reason=get("reason"),
    )


class VMPool:
    """VMs in the database plus the dispatcher's cache of loaded ones."""

    def __init__(
        self,
        *,
        leases: LeasePort | None = None,
        hooks: HookPort | None = None,
        resolve_context: ContextResolver | None = None,
        vm_log: Callable[[int, str, str, str], None] | None = None,
        outbox: Outbox | None = None,
    ):
        self.outbox = outbox if outbox is not None else Outbox()
        """Work held until the running dispatcher event commits (the engine's dispatcher
        uses this one; outside an event, after-commit work runs at once)."""
        self.leases: LeasePort = leases or NoLeases()
        self.hooks: HookPort = hooks or NoHooks()
        self.resolve_context: ContextResolver = resolve_context or self._default_resolver()
        self.vm_log = vm_log
        self._cache: OrderedDict[int, VirtualMachine] = OrderedDict()
        """The loaded VMs, least recently used first, at most :attr:`cache_size` of them
        between events (:meth:`get`); the others are read again when needed."""
        self._cache_lock = threading.Lock()
        self.cache_size = CACHE_SIZE
        self.touched: set[int] = set()
        """VMs :meth:`get` handed out since the engine last cleared it (the VMs an event
        may have changed in memory: :meth:`invalidate` them when it is rolled back)."""
        last = VMRow.select(peewee.fn.MAX(VMRow.oid)).scalar()
        self._next_oid = 0 if last is None else int(last) + 1
        self._committed_below = self._next_oid
        """Every VM with a lower id was committed (or its allocation rolled back and
        forgotten): a cached one of them is in the database as memory has it."""

    def _default_resolver(self) -> ContextResolver:
        """:func:`one_core.vm_context.resolve_context` (``$NAME``, ``$<vid>.VAR``...)."""

        def lookup(vid: int) -> Template | None:
            other = self.get(vid)
            return None if other is None else other.template

        def resolve(vm: VirtualMachine, context: dict[str, str]) -> dict[str, str] | None:
            return resolve_context(context, vm.template, lookup, oned_log=log)

        return resolve

    # ------------------------------------------------------------------
    # allocation (dispatcher thread)
    # ------------------------------------------------------------------
    def allocate(self, uid: int, text: str, *, on_hold: bool = False) -> int:
        """Create a VM from template text; return its id (§4.1, §8.1)."""
        try:
            template = Template.parse(text + "\n")
        except TemplateSyntaxError as exc:
            log.error("Error parsing VM template: %s", exc)
            raise AllocateError(-2, PARSE_ERROR) from exc
        context = take_context(template)
        oid = self._next_oid
        template.add("VMID", str(oid))
        names = [v for v in template.values("NAME") if isinstance(v, str)]
        if not any(names):
            template.add("NAME", f"one-{oid}")
        name = next((n for n in names if n), f"one-{oid}")
        try:
            self.leases.acquire(oid, uid, template)
        except LeaseError as exc:
            log.error("VM %s: %s", oid, exc)
            raise AllocateError(-1, INSERT_ERROR) from exc
        now = int(time.time())
        vm = VirtualMachine(
            oid=oid,
            uid=uid,
            name=name,
            template=template,
            state=VmState.HOLD if on_hold else VmState.PENDING,
            lcm_state=LcmState.LCM_INIT,
            stime=now,
        )
        try:
            values = self._row_values(vm, with_template=True)
            values["template_id"] = oid
            with self._one_write():  # a failure raises out of the event: it rolls back
                self._insert_row(values)
        except Exception as exc:
            log.exception("VM %s insert failed", oid)
            self.leases.release(oid, template)
            raise AllocateError(-1, INSERT_ERROR) from exc
        self._next_oid = oid + 1
        self.outbox.on_rollback(self._unallocate, oid, template)
        self.outbox.after_commit(self._allocated, oid)
        if context is not None:
            resolved = self.resolve_context(vm, context)
            if resolved is not None:
                vm.template.add("CONTEXT", resolved)
                self.write(vm, with_template=True)
        self.hooks.on_create(vm)
        return oid

    def _allocated(self, oid: int) -> None:
        """The event that allocated VM ``oid`` committed (allocations commit in id order)."""
        self._committed_below = max(self._committed_below, oid + 1)

    def _unallocate(self, oid: int, template: Template) -> None:
        """The event that allocated VM ``oid`` was rolled back: its leases go back and
        memory forgets it."""
        self.forget(oid)
        self.leases.release(oid, template)

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    def load(self, oid: int) -> VirtualMachine | None:
        """Read VM ``oid`` from the database (any thread; not cached).

        Two cached statements on the raw cursor: a cold load (after a restart, every
        deploy) no longer pays for peewee's query building and model instances.
        """
        from one_core.db.base import database

        cols = ("oid", "template", *self._ROW_COLUMNS)
        found = database.execute_sql(self._sql("load"), (oid,)).fetchone()
        if found is None:
            return None
        row = dict(zip(cols, found, strict=True))
        vm = VirtualMachine(
            oid=row["oid"],
            uid=row["uid"],
            name=row["name"],
            template=Template.parse(row["template"]) if row["template"] else Template(),
            state=row["state"],
            lcm_state=row["lcm_state"],
            stime=row["stime"],
            etime=row["etime"],
            last_poll=row["last_poll"],
            deploy_id=row["deploy_id"],
            memory=row["memory"],
            cpu=row["cpu"],
            net_tx=row["net_tx"],
            net_rx=row["net_rx"],
            pending_action=row["pending_action"],
        )
        last_seq = row["last_seq"]
        if last_seq >= 0:
            records = database.execute_sql(self._sql("load-history"), (oid, last_seq - 1))
            by_seq = {
                rec[1]: _history_from_row(dict(zip(self._HIST_COLUMNS_ALL, rec, strict=True)))
                for rec in records.fetchall()
            }
            vm.history = by_seq.get(last_seq)
            vm.previous = by_seq.get(last_seq - 1)
        return vm

    def get(self, oid: int) -> VirtualMachine | None:
        """The dispatcher's object for VM ``oid``: the cached one, else loaded (:meth:`load`)
        and kept while it is among the :attr:`cache_size` most recently used."""
        self.touched.add(oid)
        with self._cache_lock:
            vm = self._cache.get(oid)
            if vm is not None:
                self._cache.move_to_end(oid)
                if len(self._cache) > self.cache_size:
                    self._trim()
                return vm
        vm = self.load(oid)
        if vm is not None:
            self._keep(oid, vm)
        return vm

    def _keep(self, oid: int, vm: VirtualMachine) -> None:
        """Cache ``vm`` as the most recently used."""
        with self._cache_lock:
            self._cache[oid] = vm
            self._cache.move_to_end(oid)
            if len(self._cache) > self.cache_size:
                self._trim()

    def _trim(self) -> None:
        """Drop the least recently used VMs beyond :attr:`cache_size`, except the VMs of
        the running event (:attr:`touched`: its changes in memory are still to be written
        or rolled back) and the one just used (caller holds the cache lock)."""
        cache, touched = self._cache, self.touched
        excess = len(cache) - self.cache_size
        newest = next(reversed(cache))
        for k in list(itertools.islice(cache, excess + len(touched))):
            if excess <= 0:
                break
            if k != newest and k not in touched:
                del cache[k]
                excess -= 1

    def cached(self) -> int:
        """How many VMs are held in memory now."""
        return len(self._cache)

    def forget(self, oid: int) -> None:
        """Drop a VM from the cache (after DONE: it will not change again)."""
        with self._cache_lock:
            self._cache.pop(oid, None)

    def invalidate(self, oids: set[int] | None = None) -> None:
        """Drop VMs ``oids`` (default: all) from the cache: their next :meth:`get` reads
        the database again (an event that changed them was rolled back)."""
        with self._cache_lock:
            if oids is None:
                self._cache.clear()
            else:
                for oid in oids:
                    self._cache.pop(oid, None)

    # ------------------------------------------------------------------
    # writes (dispatcher thread)
    # ------------------------------------------------------------------
    @staticmethod
    def _row_values(vm: VirtualMachine, *, with_template: bool) -> dict[str, Any]:
        values: dict[str, Any] = {
            "oid": vm.oid,
            "uid": vm.uid,
            "name": vm.name,
            "last_poll": vm.last_poll,
            "state": int(vm.state),
            "lcm_state": int(vm.lcm_state),
            "stime": vm.stime,
            "etime": vm.etime,
            "deploy_id": vm.deploy_id,
            "memory": vm.memory,
            "cpu": vm.cpu,
            "net_tx": vm.net_tx,
            "net_rx": vm.net_rx,
            "pending_action": vm.pending_action,
            "last_seq": vm.history.seq if vm.history else -1,
        }
        values["pool_xml"], values["owner_name"] = VMPool._entry(vm)
        if with_template:
            values["template"] = vm.template.to_text()
            values["template_xml"] = vm.template.to_xml()
        return values

    @staticmethod
    def _entry(vm: VirtualMachine) -> tuple[str, str | None]:
        """``(pool_xml, owner_name)`` of ``vm`` as held in memory (:mod:`.listing`)."""
        owner = listing.owner_name(vm.uid)
        return listing.entry_of(vm, owner), owner

    _ROW_COLUMNS = (
        "uid", "name", "last_poll", "state", "lcm_state", "stime", "etime", "deploy_id",
        "memory", "cpu", "net_tx", "net_rx", "pending_action", "last_seq",
    )  # fmt: skip
    _HIST_COLUMNS_ALL = (
        "vid", "seq", "host_name", "vm_dir", "hid", "vm_mad", "tm_mad", "stime", "etime",
        "pstime", "petime", "rstime", "retime", "estime", "eetime", "reason",
    )  # fmt: skip
    _sql_cache: dict[tuple[str, str], str] = {}
    """Built statements by (the database's parameter mark, kind): SQLite and
    PostgreSQL spell the marks differently and a process may use both."""

    @classmethod
    def _sql(cls, kind: str) -> str:
        """Statements built once (peewee's query builder is the hot path otherwise)."""
        from one_core.db.base import database

        p = database.param
        sql = cls._sql_cache.get((p, kind))
        if sql is None:
            if kind == "load":
                names = ", ".join(("oid", "template", *cls._ROW_COLUMNS))
                sql = f"SELECT {names} FROM vm_pool WHERE oid = {p}"
            elif kind == "fragment":
                sql = f"UPDATE vm_pool SET pool_xml = {p}, owner_name = {p} WHERE oid = {p}"
            elif kind == "load-history":
                names = ", ".join(cls._HIST_COLUMNS_ALL)
                sql = f"SELECT {names} FROM history WHERE vid = {p} AND seq >= {p} ORDER BY seq"
            elif kind in ("row", "row+template"):
                cols = [*cls._ROW_COLUMNS, "pool_xml", "owner_name"] + (
                    ["template", "template_xml"] if kind == "row+template" else []
                )
                sets = ", ".join(f"{c} = {p}" for c in cols)
                sql = f"UPDATE vm_pool SET {sets} WHERE oid = {p}"
            else:  # history upsert
                cols = list(cls._HIST_COLUMNS_ALL)
                updates = ", ".join(f"{c} = excluded.{c}" for c in cols[2:])
                sql = (
                    f"INSERT INTO history ({', '.join(cols)}) VALUES ({', '.join([p] * len(cols))})"
                    f" ON CONFLICT (vid, seq) DO UPDATE SET {updates}"
                )
            cls._sql_cache[(p, kind)] = sql
        return sql

    @classmethod
    def _insert_row(cls, values: dict[str, Any]) -> None:
        """``INSERT`` one ``vm_pool`` row (statement built once per column set)."""
        from one_core.db.base import database

        cols = tuple(values)
        key = (database.param, "insert:" + ",".join(cols))
        sql = cls._sql_cache.get(key)
        if sql is None:
            marks = ", ".join([database.param] * len(cols))
            sql = f"INSERT INTO vm_pool ({', '.join(cols)}) VALUES ({marks})"
            cls._sql_cache[key] = sql
        database.execute_sql(sql, tuple(values.values()))

    @staticmethod
    def _execute(sql: str, params: tuple[Any, ...]) -> None:
        """Run one write: inside the engine's event transaction as is, else in its own."""
        from one_core.db.base import database

        if database.in_transaction():
            database.execute_sql(sql, params)
        else:
            with db.writer():
                database.execute_sql(sql, params)

    @staticmethod
    @contextlib.contextmanager
    def _one_write() -> Iterator[None]:
        """Statements that must commit together: the engine's event transaction as is,
        else a transaction of their own."""
        from one_core.db.base import database

        if database.in_transaction():
            yield
        else:
            with db.writer():
                yield

    def write(self, vm: VirtualMachine, *, with_template: bool = False) -> None:
        """Write the ``vm_pool`` row (no hooks)."""
        params: list[Any] = [
            vm.uid,
            vm.name,
            vm.last_poll,
            int(vm.state),
            int(vm.lcm_state),
            vm.stime,
            vm.etime,
            vm.deploy_id,
            vm.memory,
            vm.cpu,
            vm.net_tx,
            vm.net_rx,
            vm.pending_action,
            vm.history.seq if vm.history else -1,
            *self._entry(vm),
        ]
        if with_template:
            params += [vm.template.to_text(), vm.template.to_xml()]
        params.append(vm.oid)
        self._execute(self._sql("row+template" if with_template else "row"), tuple(params))

    def update(self, vm: VirtualMachine, *, with_template: bool = False) -> None:
        """1.4's ``vmpool->update``: write the row, then run the UPDATE hooks."""
        self.write(vm, with_template=with_template)
        self.hooks.on_update(vm)

    def release_leases(self, vm: VirtualMachine) -> None:
        """Give back the VM's network leases once the current event committed."""
        self.outbox.after_commit(self.leases.release, vm.oid, vm.template)

    def update_history(self, vm: VirtualMachine, *, entry: bool = True) -> None:
        """Write the current record, and the VM's listing entry that shows it (:mod:`.listing`).

        ``entry=False``: the caller writes the VM row (which holds the entry) later in
        the same transaction; only the record is written now.
        """
        if vm.history is not None:
            with self._one_write():
                self._write_history(vm.history)
                if entry:
                    self._execute(self._sql("fragment"), (*self._entry(vm), vm.oid))

    def update_previous_history(self, vm: VirtualMachine) -> None:
        if vm.previous is not None:
            self._write_history(vm.previous)

    def insert_history(self, vm: VirtualMachine, record: History, *, row: bool = True) -> None:
        """Append ``record`` as the VM's current record and write it with the row's ``last_seq``.

        ``row=False``: the caller writes the VM row (its ``last_seq`` and entry) later in
        the same transaction; only the record is written now.
        """
        vm.add_history(record)
        with self._one_write():
            self._write_history(record)
            if row:
                self.write(vm)

    def write_record(self, record: History) -> None:
        """Write one history record as it is (the row's ``last_seq`` is the caller's)."""
        self._write_history(record)

    def _write_history(self, record: History) -> None:
        if record.seq < 0:
            return
        r = record
        self._execute(
            self._sql("history"),
            (
                r.vid, r.seq, r.host_name, r.vm_dir, r.hid, r.vm_mad, r.tm_mad, r.stime,
                r.etime, r.pstime, r.petime, r.rstime, r.retime, r.estime, r.eetime,
                int(r.reason),
            ),
        )  # fmt: skip

    # ------------------------------------------------------------------
    # queries (any thread)
    # ------------------------------------------------------------------
    def exists(self, oid: int) -> bool:
        return VMRow.select(VMRow.oid).where(VMRow.oid == oid).exists()

    def owner(self, oid: int) -> int | None:
        """The owner of VM ``oid`` as committed (None: no such VM), from memory when the
        VM is loaded: a VM's owner never changes (1.4 has no chown; the modern API
        refuses ``one.vm.chown``) and VMs are never deleted, so a committed VM's cached
        ``uid`` is its row's. A VM whose allocation has not committed yet is read from
        the database like any other (it is not there yet)."""
        from one_core.db.base import database

        if oid < self._committed_below:
            with self._cache_lock:
                vm = self._cache.get(oid)  # a peek: not a use (the LRU order is the dispatcher's)
            if vm is not None:
                return vm.uid
        row = database.execute_sql(
            f"SELECT uid FROM vm_pool WHERE oid = {database.param}", (oid,)
        ).fetchone()
        return None if row is None else row[0]

    def state_of(self, oid: int) -> tuple[int, int] | None:
        """``(state, lcm_state)`` as committed."""
        row = VMRow.select(VMRow.state, VMRow.lcm_state).where(VMRow.oid == oid).first()
        return None if row is None else (row.state, row.lcm_state)

    def ids_where(self, *conditions: Any) -> list[int]:
        query = VMRow.select(VMRow.oid)
        for cond in conditions:
            query = query.where(cond)
        return [r.oid for r in query.order_by(VMRow.oid)]

    _INFO_SQL = (
        "SELECT v.oid, v.uid, v.name, v.last_poll, v.state, v.lcm_state, v.stime, v.etime,"
        " v.deploy_id, v.memory, v.cpu, v.net_tx, v.net_rx, v.template_xml,"
        " h.seq, h.host_name, h.hid, h.stime, h.etime, h.pstime, h.petime, h.rstime, h.retime,"
        " h.estime, h.eetime, h.reason"
        " FROM vm_pool v LEFT JOIN history h ON h.vid = v.oid AND h.seq = v.last_seq"
        " WHERE v.oid = {p}"
    )

    def info_xml(self, oid: int) -> str | None:
        """``one.vm.info``'s document, or None for an unknown VM (one query, no row objects)."""
        from one_core.db.base import database

        r = database.execute_sql(self._INFO_SQL.format(p=database.param), (oid,)).fetchone()
        if r is None:
            return None
        esc = xml.escape
        head = (
            f"<VM><ID>{r[0]}</ID><UID>{r[1]}</UID><NAME>{esc(r[2])}</NAME>"
            f"<LAST_POLL>{r[3]}</LAST_POLL><STATE>{r[4]}</STATE><LCM_STATE>{r[5]}</LCM_STATE>"
            f"<STIME>{r[6]}</STIME><ETIME>{r[7]}</ETIME><DEPLOY_ID>{esc(r[8])}</DEPLOY_ID>"
            f"<MEMORY>{r[9]}</MEMORY><CPU>{r[10]}</CPU><NET_TX>{r[11]}</NET_TX>"
            f"<NET_RX>{r[12]}</NET_RX>{r[13]}"
        )
        if r[14] is None:
            return head + "</VM>"
        return (
            f"{head}<HISTORY><SEQ>{r[14]}</SEQ><HOSTNAME>{esc(r[15])}</HOSTNAME><HID>{r[16]}</HID>"
            f"<STIME>{r[17]}</STIME><ETIME>{r[18]}</ETIME><PSTIME>{r[19]}</PSTIME>"
            f"<PETIME>{r[20]}</PETIME><RSTIME>{r[21]}</RSTIME><RETIME>{r[22]}</RETIME>"
            f"<ESTIME>{r[23]}</ESTIME><EETIME>{r[24]}</EETIME><REASON>{r[25]}</REASON>"
            "</HISTORY></VM>"
        )

    def pool_xml(self, uid_filter: int | None, *, rpc_escaped: bool = False) -> str | EscapedBytes:
        """``one.vmpool.info``'s document: the stored entries joined in SQL (:mod:`.listing`).

        ``rpc_escaped``: UTF-8 bytes as they go into the XML-RPC ``<string>`` (an
        :class:`~one_core.rpc.codec.EscapedBytes`, written as is by the codec), which is
        how the entries are stored; otherwise the plain document as text.
        """
        data = listing.document(uid_filter)
        return data if rpc_escaped else listing.unescape(bytes(data).decode())

    def pending(self) -> list[PendingVM]:
        """PENDING VMs for the scheduler, oldest first."""
        out = []
        for row in (
            VMRow.select(VMRow.oid, VMRow.uid, VMRow.template)
            .where(VMRow.state == int(VmState.PENDING))
            .order_by(VMRow.oid)
        ):
            cached = self._cache.get(row.oid)  # PENDING templates do not change: safe to read
            if cached is not None:
                values = cached.template.single_values()
            else:
                values = Template.parse(row.template).single_values() if row.template else {}
            out.append(
                PendingVM(
                    vid=row.oid,
                    uid=row.uid,
                    template=values,
                    requirements=values.get("REQUIREMENTS", ""),
                    rank=values.get("RANK", ""),
                    cpu=values.get("CPU", ""),
                    memory=values.get("MEMORY", ""),
                )
            )
        return out
