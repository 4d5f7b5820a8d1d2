"""The VM pool: allocation, persistence, and the documents of the info calls.

Writes (:meth:`VMPool.allocate`, :meth:`VMPool.update`, the history methods)
are made by the engine's dispatcher thread only; the read methods
(:meth:`VMPool.info_xml`, :meth:`VMPool.pool_xml`, :meth:`VMPool.load`) read
the database and may run on any thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import peewee

from one_core import db
from one_core.db.vm_models import HistoryRow, VMRow
from one_core.placement import PendingVM
from one_core.template import Template, TemplateSyntaxError
from one_core.vm import xml
from one_core.vm.model import History, VirtualMachine
from one_core.vm.ports import (
    ContextResolver,
    HookPort,
    LeaseError,
    LeasePort,
    NoHooks,
    NoLeases,
    keep_context,
)
from one_core.vm.states import LcmState, VmState

try:
    from one_core.context_iso import take_context
except ImportError:  # pragma: no cover - H7's module not installed

    def take_context(template: Any) -> dict[str, str] | None:
        removed = template.remove("CONTEXT")
        if not removed or not isinstance(removed[0], dict):
            return None
        return {str(k).upper(): str(v) for k, v in removed[0].items()}

log = logging.getLogger("one.vm")


class AllocateError(Exception):
    """``one.vm.allocate`` failed; ``code`` is 1.4's rc (−2 parse, −1 insert)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


PARSE_ERROR = "Error parsing VM template"
INSERT_ERROR = "Error inserting VM in the database, check oned.log"


def _history_from_row(row: HistoryRow | dict[str, Any]) -> History:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
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
        vm_log: Any = None,
    ):
        self.leases: LeasePort = leases or NoLeases()
        self.hooks: HookPort = hooks or NoHooks()
        self.resolve_context: ContextResolver = resolve_context or self._default_resolver()
        self.vm_log = vm_log
        self._cache: dict[int, VirtualMachine] = {}
        last = VMRow.select(peewee.fn.MAX(VMRow.oid)).scalar()
        self._next_oid = 0 if last is None else int(last) + 1

    def _default_resolver(self) -> ContextResolver:
        """H7's :func:`one_core.context_iso.resolve_context` (``$NAME``, ``$<vid>.VAR``...)."""
        try:
            from one_core.context_iso import resolve_context
        except ImportError:  # pragma: no cover
            return keep_context

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
            with db.writer():
                VMRow.create(**self._row_values(vm, with_template=True), template_id=oid)
        except Exception as exc:
            log.exception("VM %s insert failed", oid)
            self.leases.release(oid, template)
            raise AllocateError(-1, INSERT_ERROR) from exc
        self._next_oid = oid + 1
        self._cache[oid] = vm
        if context is not None:
            resolved = self.resolve_context(vm, context)
            if resolved is not None:
                vm.template.add("CONTEXT", resolved)
                self.write(vm, with_template=True)
        self.hooks.on_create(vm)
        return oid

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    def load(self, oid: int) -> VirtualMachine | None:
        """Read VM ``oid`` from the database (any thread; not cached)."""
        row = VMRow.get_or_none(VMRow.oid == oid)
        if row is None:
            return None
        vm = VirtualMachine(
            oid=row.oid,
            uid=row.uid,
            name=row.name,
            template=Template.parse(row.template) if row.template else Template(),
            state=row.state,
            lcm_state=row.lcm_state,
            stime=row.stime,
            etime=row.etime,
            last_poll=row.last_poll,
            deploy_id=row.deploy_id,
            memory=row.memory,
            cpu=row.cpu,
            net_tx=row.net_tx,
            net_rx=row.net_rx,
            pending_action=row.pending_action,
        )
        if row.last_seq >= 0:
            records = list(
                HistoryRow.select()
                .where((HistoryRow.vid == oid) & (HistoryRow.seq >= row.last_seq - 1))
                .order_by(HistoryRow.seq)
            )
            by_seq = {r.seq: _history_from_row(r) for r in records}
            vm.history = by_seq.get(row.last_seq)
            vm.previous = by_seq.get(row.last_seq - 1)
        return vm

    def get(self, oid: int) -> VirtualMachine | None:
        """The dispatcher's object for VM ``oid`` (loaded once, then cached)."""
        vm = self._cache.get(oid)
        if vm is None:
            vm = self.load(oid)
            if vm is not None:
                self._cache[oid] = vm
        return vm

    def forget(self, oid: int) -> None:
        """Drop a VM from the cache (after DONE: it will not change again)."""
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
        if with_template:
            values["template"] = vm.template.to_text()
            values["template_xml"] = vm.template.to_xml()
        return values

    def write(self, vm: VirtualMachine, *, with_template: bool = False) -> None:
        """Write the ``vm_pool`` row (no hooks)."""
        values = self._row_values(vm, with_template=with_template)
        oid = values.pop("oid")
        with db.writer():
            VMRow.update(**values).where(VMRow.oid == oid).execute()

    def update(self, vm: VirtualMachine, *, with_template: bool = False) -> None:
        """1.4's ``vmpool->update``: write the row, then run the UPDATE hooks."""
        self.write(vm, with_template=with_template)
        self.hooks.on_update(vm)

    def update_history(self, vm: VirtualMachine) -> None:
        if vm.history is not None:
            self._write_history(vm.history)

    def update_previous_history(self, vm: VirtualMachine) -> None:
        if vm.previous is not None:
            self._write_history(vm.previous)

    def insert_history(self, vm: VirtualMachine, record: History) -> None:
        """Append ``record`` as the VM's current record and write it with the row's ``last_seq``."""
        vm.add_history(record)
        with db.writer():
            self._write_history(record)
            VMRow.update(last_seq=record.seq).where(VMRow.oid == vm.oid).execute()

    @staticmethod
    def _write_history(record: History) -> None:
        if record.seq < 0:
            return
        with db.writer():
            HistoryRow.insert(**record.as_dict()).on_conflict_replace().execute()

    # ------------------------------------------------------------------
    # queries (any thread)
    # ------------------------------------------------------------------
    def exists(self, oid: int) -> bool:
        return VMRow.select(VMRow.oid).where(VMRow.oid == oid).exists()

    def owner(self, oid: int) -> int | None:
        row = VMRow.select(VMRow.uid).where(VMRow.oid == oid).first()
        return None if row is None else row.uid

    def state_of(self, oid: int) -> tuple[int, int] | None:
        """``(state, lcm_state)`` as committed."""
        row = VMRow.select(VMRow.state, VMRow.lcm_state).where(VMRow.oid == oid).first()
        return None if row is None else (row.state, row.lcm_state)

    def ids_where(self, *conditions: Any) -> list[int]:
        query = VMRow.select(VMRow.oid)
        for cond in conditions:
            query = query.where(cond)
        return [r.oid for r in query.order_by(VMRow.oid)]

    def info_xml(self, oid: int) -> str | None:
        """``one.vm.info``'s document, or None for an unknown VM."""
        row = VMRow.select().where(VMRow.oid == oid).dicts().first()
        if row is None:
            return None
        history = None
        if row["last_seq"] >= 0:
            history = (
                HistoryRow.select()
                .where((HistoryRow.vid == oid) & (HistoryRow.seq == row["last_seq"]))
                .dicts()
                .first()
            )
        return xml.vm_xml(row, row["template_xml"], history)

    def pool_rows(self, uid_filter: int | None) -> Iterator[tuple[dict[str, Any], str | None, dict[str, Any] | None]]:
        """Rows of ``one.vmpool.info``: every VM but DONE, of ``uid_filter`` (None: all)."""
        from one_core.db.models import UserRow

        hist = HistoryRow.alias()
        query = (
            VMRow.select(VMRow, UserRow.user_name, hist)
            .join(UserRow, peewee.JOIN.LEFT_OUTER, on=(UserRow.oid == VMRow.uid))
            .switch(VMRow)
            .join(
                hist,
                peewee.JOIN.LEFT_OUTER,
                on=((hist.vid == VMRow.oid) & (hist.seq == VMRow.last_seq)),
            )
            .where(VMRow.state != int(VmState.DONE))
            .order_by(VMRow.oid)
        )
        if uid_filter is not None:
            query = query.where(VMRow.uid == uid_filter)
        for r in query.tuples().iterator():
            yield self._split_pool_tuple(r)

    _VM_COLUMNS = [f.column_name for f in VMRow._meta.sorted_fields]
    _HIST_COLUMNS = [f.column_name for f in HistoryRow._meta.sorted_fields]

    def _split_pool_tuple(self, r: tuple[Any, ...]) -> tuple[dict[str, Any], str | None, dict[str, Any] | None]:
        n = len(self._VM_COLUMNS)
        row = dict(zip(self._VM_COLUMNS, r[:n], strict=True))
        username = r[n]
        hvals = r[n + 1 :]
        history = None
        if hvals and hvals[0] is not None:
            history = dict(zip(self._HIST_COLUMNS, hvals, strict=True))
        return row, username, history

    def pool_xml(self, uid_filter: int | None) -> str:
        """``one.vmpool.info``'s document."""
        parts = ["<VM_POOL>"]
        for row, username, history in self.pool_rows(uid_filter):
            parts.append(xml.pool_entry_xml(row, username, history))
        parts.append("</VM_POOL>")
        return "".join(parts)

    def pending(self) -> list[PendingVM]:
        """PENDING VMs for the scheduler, oldest first."""
        out = []
        for row in (
            VMRow.select(VMRow.oid, VMRow.uid, VMRow.template)
            .where(VMRow.state == int(VmState.PENDING))
            .order_by(VMRow.oid)
        ):
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
