"""One scheduling cycle: match → capacity → rank → dispatch (§3.5-§3.9).

The result is exactly 1.4's per-VM algorithm (:func:`.reference.schedule`),
computed faster:

* VMs are grouped by (REQUIREMENTS, RANK, cpu demand, memory demand). In 1.4
  every VM is matched and ranked against the same start-of-cycle snapshot,
  before any dispatch, so all VMs of a group have the same candidates in the
  same order; they are computed once per group.
* Expressions are parsed once per distinct text (:mod:`.expr` caches).
  REQUIREMENTS are evaluated on all hosts at once as bit masks, each distinct
  comparison once per cycle (:class:`~.expr.HostTable`); capacity likewise
  once per distinct demand; each distinct RANK once per host per cycle, on
  pre-resolved :class:`~.expr.HostVars` records, giving one host order per
  RANK from which each group's candidate order is filtered.
* Dispatch keeps, per group, a cursor into the candidate list: within a cycle
  a host's allocation only grows (as long as no demand is negative), so a
  host that could not take a VM of a group cannot take a later one of the
  same group either. With a negative demand somewhere, every walk restarts
  from the top, as in 1.4.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from one_core.api import HostSnapshot, PendingVM, Placement, cnum
from one_sched_rank.expr import (
    HostTable,
    HostVars,
    Rank,
    Requirements,
    compile_rank,
    compile_requirements,
)

DEFAULT_LOG_CANDIDATES = 20
"""Candidate lines per VM in the "Select hosts" block unless ``LOG_CANDIDATES``
is set in the SCHED section (``-1``: all, as 1.4)."""

STATE_KEY = "sched_rank.unplaced"
"""``ctx.state`` key remembering the last reason logged to each VM's log."""


@dataclass
class Group:
    """VMs that share REQUIREMENTS, RANK and demand, with their candidates."""

    requirements: Requirements
    rank: Rank
    cpu: int
    mem: int
    candidates: list[int] = field(default_factory=list)
    """host indices, highest priority first (ties: higher host id first)."""
    priorities: list[float] = field(default_factory=list)
    req_mask: int = 0
    """hosts that meet REQUIREMENTS (bit per host index)."""
    cap_mask: int = 0
    """hosts with room for the demand at the start of the cycle."""
    cursor: int = 0
    listing: str | None = None
    reasons: dict[bool, str] = field(default_factory=dict)


@dataclass
class Cycle:
    """Everything computed before dispatch."""

    vms: list[PendingVM]
    hosts: list[HostSnapshot]
    table: HostTable
    groups: dict[tuple[str, str, int, int], Group]
    group_of: list[Group]


@dataclass
class _RankOrder:
    """One RANK over all hosts: each host's rank as a C float, and the hosts
    sorted by (that value, host id), descending."""

    values: list[float]
    order: list[int]
    position: list[int]
    scaled: dict[float, list[float]] = field(default_factory=dict)


class _Log:
    """Writes 1.4's module-tagged lines through ``ctx.log``."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger

    def __call__(self, module: str, level: int, message: str) -> None:
        if self.logger.isEnabledFor(level):
            self.logger.log(level, message, extra={"one_module": module})


def _text(value: object) -> str:
    if value is None or isinstance(value, (dict, list, tuple)):
        return ""
    return value if isinstance(value, str) else str(value)


def _vm_exprs(vm: PendingVM) -> tuple[str, str, int, int]:
    """(REQUIREMENTS, RANK, cpu demand, memory demand) of a VM: the record's
    fields, or else the template's attributes."""
    tmpl = vm.template
    reqs = _text(vm.requirements) or _text(tmpl.get("REQUIREMENTS"))
    rank = _text(vm.rank) or _text(tmpl.get("RANK"))
    cpu = _text(vm.cpu) or _text(tmpl.get("CPU"))
    mem = _text(vm.memory) or _text(tmpl.get("MEMORY"))
    return (reqs, rank, *cnum.vm_demand(cpu, mem))


def format_priority(p: float) -> str:
    """C++ ``ostream << float`` (default ``%g``, 6 significant digits)."""
    return f"{p:g}"


def _rank_order(rank: Rank, records: list[HostVars]) -> _RankOrder:
    values = [cnum.f32(float(rank.rank(r))) for r in records]
    order = sorted(range(len(values)), key=lambda i: (values[i], i), reverse=True)
    position = [0] * len(order)
    for pos, i in enumerate(order):
        position[i] = pos
    return _RankOrder(values, order, position)


def _rank_candidates(
    table: HostTable, ro: _RankOrder, cand_mask: int
) -> tuple[list[int], list[float]]:
    """Candidates sorted by (priority, host id) descending, with priorities.

    Priorities are ``rank / max|rank|`` in C float, which is monotone in the
    rank, so the order by rank only needs re-sorting by host id inside runs
    whose priorities became equal through rounding.
    """
    n = len(ro.order)
    if cand_mask.bit_count() * 8 < n:
        cands = sorted(table.indices(cand_mask), key=ro.position.__getitem__)
    else:
        flags = bin(cand_mask)[:1:-1]
        size = len(flags)
        cands = [i for i in ro.order if i < size and flags[i] == "1"]
    values = ro.values
    top = max(abs(values[cands[0]]), abs(values[cands[-1]]))
    if top == 0:
        return cands, [0.0] * len(cands)
    scaled = ro.scaled.get(top)
    if scaled is None:
        scaled = ro.scaled[top] = [cnum.f32(v / top) for v in values]
    prios = [scaled[i] for i in cands]
    k, count = 0, len(cands)
    while k < count:
        j = k + 1
        while j < count and prios[j] == prios[k]:
            j += 1
        if j - k > 1:
            cands[k:j] = sorted(cands[k:j], reverse=True)
        k = j
    return cands, prios


def plan(ctx: Any, pending: list[PendingVM], hosts: list[HostSnapshot]) -> Cycle:
    """Match, filter and rank every pending VM; log as 1.4 did."""
    log = _Log(ctx.log)
    vms = sorted(pending, key=lambda v: v.vid)
    hosts = sorted(hosts, key=lambda h: h.hid)
    log("HOST", logging.DEBUG, "Discovered Hosts (enabled):" + "".join(f" {h.hid}" for h in hosts))
    log("VM", logging.DEBUG, "Pending virtual machines :" + "".join(f" {v.vid}" for v in vms))

    table = HostTable([HostVars(h.template) for h in hosts])
    host_cpu = [cnum.host_cpu_capacity(h.free_cpu) for h in hosts]
    free_mem = [h.free_mem for h in hosts]
    avail_cpu = [h.max_cpu - h.cpu_usage for h in hosts]
    avail_mem = [h.max_mem - h.mem_usage for h in hosts]
    disk_ok = [h.max_disk - h.disk_usage >= 0 for h in hosts]
    cap_cache: dict[tuple[int, int], int] = {}
    rank_orders: dict[str, _RankOrder] = {}
    groups: dict[tuple[str, str, int, int], Group] = {}
    group_of: list[Group] = []

    for vm in vms:
        key = _vm_exprs(vm)
        group = groups.get(key)
        if group is None:
            reqs_text, rank_text, cpu, mem = key
            req = compile_requirements(reqs_text)
            rank = compile_rank(rank_text)
            group = Group(req, rank, cpu, mem)
            group.req_mask = req.mask(table) if reqs_text else table.all
            cap = cap_cache.get((cpu, mem))
            if cap is None:
                cap = cap_cache[(cpu, mem)] = table.to_mask(
                    [
                        mem <= free_mem[i]
                        and cpu <= host_cpu[i]
                        and avail_cpu[i] >= cpu
                        and avail_mem[i] >= mem
                        and disk_ok[i]
                        for i in range(len(hosts))
                    ]
                )
            group.cap_mask = cap
            cand_mask = group.req_mask & cap
            if cand_mask and rank_text:
                ro = rank_orders.get(rank_text)
                if ro is None:
                    ro = rank_orders[rank_text] = _rank_order(rank, table.records)
                group.candidates, group.priorities = _rank_candidates(table, ro, cand_mask)
            elif cand_mask:
                group.candidates = table.indices(cand_mask)[::-1]
                group.priorities = [0.0] * len(group.candidates)
            groups[key] = group
        group_of.append(group)

        if group.requirements.error is not None and hosts:
            log(
                "HOST",
                logging.ERROR,
                f"Error evaluating expresion: {group.requirements.text}"
                f", error: {group.requirements.error}",
            )
        if not group.rank.text:
            log("RANK", logging.WARNING, "No rank defined for VM")
        elif group.rank.error is not None and group.candidates:
            log(
                "RANK",
                logging.ERROR,
                f"Computing host rank, expression: {group.rank.text}, error: {group.rank.error}",
            )

    cycle = Cycle(vms, hosts, table, groups, group_of)
    if ctx.log.isEnabledFor(logging.INFO):
        log("SCHED", logging.INFO, select_hosts_block(ctx, cycle))
    return cycle


def _limit(ctx: Any) -> int:
    raw = (getattr(ctx, "config", None) or {}).get("LOG_CANDIDATES")
    if raw is None or str(raw).strip() == "":
        return DEFAULT_LOG_CANDIDATES
    try:
        return int(str(raw).strip())
    except ValueError:
        return DEFAULT_LOG_CANDIDATES


def select_hosts_block(ctx: Any, cycle: Cycle) -> str:
    """1.4's "Select hosts" INFO message (one per cycle, even with no VM)."""
    limit = _limit(ctx)
    parts = ["Select hosts\n\tPRI\tHID\n\t-------------------\n"]
    for vm, group in zip(cycle.vms, cycle.group_of, strict=True):
        if group.listing is None:
            count = len(group.candidates)
            shown = count if limit < 0 else min(limit, count)
            hosts = cycle.hosts
            lines = [
                f"\t{format_priority(p)}\t{hosts[i].hid}\n"
                for p, i in zip(group.priorities[:shown], group.candidates[:shown], strict=True)
            ]
            if shown < count:
                lines.append(f"\t... {count - shown} more hosts\n")
            group.listing = "".join(lines)
        parts.append(f"Virtual Machine: {vm.vid}\n")
        parts.append(group.listing)
    return "".join(parts)


def _ids(cycle: Cycle, mask: int, most: int = 10) -> str:
    indices = cycle.table.indices(mask)
    hids = [str(cycle.hosts[i].hid) for i in indices[:most]]
    more = f" and {len(indices) - most} more" if len(indices) > most else ""
    return ", ".join(hids) + more


def unplaced_reason(cycle: Cycle, group: Group, had_candidates: bool) -> str:
    """Why a VM stays PENDING this cycle (for its vm.log)."""
    reason = group.reasons.get(had_candidates)
    if reason is None:
        reason = group.reasons[had_candidates] = _reason(cycle, group, had_candidates)
    return reason


def _reason(cycle: Cycle, group: Group, had_candidates: bool) -> str:
    if not cycle.hosts:
        return "Not scheduled: no enabled host"
    if group.requirements.error is not None:
        return f"Not scheduled: error in REQUIREMENTS ({group.requirements.error})"
    if had_candidates:
        return (
            f"Not scheduled: the {len(group.candidates)} matching host(s) were filled by "
            "VMs dispatched earlier in this cycle"
        )
    parts = []
    failed_req = cycle.table.all & ~group.req_mask
    failed_cap = group.req_mask & ~group.cap_mask
    if failed_req:
        parts.append(f"REQUIREMENTS not met by host(s) {_ids(cycle, failed_req)}")
    if failed_cap:
        parts.append(
            f"not enough free capacity for CPU={group.cpu} MEMORY={group.mem}KB on host(s) "
            f"{_ids(cycle, failed_cap)}"
        )
    return "Not scheduled: " + "; ".join(parts)


def dispatch(ctx: Any, cycle: Cycle) -> Iterator[Placement]:
    """Yield the placements in VM id order, reserving capacity as 1.4 did.

    Each placement is logged (``Dispatching virtual machine <vid> to HID:
    <hid>``) just before it is yielded, so a caller that stops iterating
    (``mm_sched`` on a transport error) leaves the log as 1.4 would. A VM left
    without a host gets the reason in its vm.log when the reason changed
    since the last cycle.
    """
    log = _Log(ctx.log)
    hosts = cycle.hosts
    max_cpu = [h.max_cpu for h in hosts]
    max_mem = [h.max_mem for h in hosts]
    max_disk = [h.max_disk for h in hosts]
    cpu_used = [h.cpu_usage for h in hosts]
    mem_used = [h.mem_usage for h in hosts]
    disk_used = [h.disk_usage for h in hosts]
    monotone = all(g.cpu >= 0 and g.mem >= 0 for g in cycle.groups.values())
    for g in cycle.groups.values():
        g.cursor = 0
    state = getattr(ctx, "state", None)
    previous: dict[int, str] = state.get(STATE_KEY, {}) if state is not None else {}
    current: dict[int, str] = {}
    if state is not None:
        state[STATE_KEY] = current

    for vm, group in zip(cycle.vms, cycle.group_of, strict=True):
        cpu, mem = group.cpu, group.mem
        cands = group.candidates
        pos = group.cursor if monotone else 0
        end = len(cands)
        while pos < end:
            i = cands[pos]
            if (
                max_cpu[i] - cpu_used[i] >= cpu
                and max_mem[i] - mem_used[i] >= mem
                and max_disk[i] - disk_used[i] >= 0
            ):
                break
            pos += 1
        if monotone:
            group.cursor = pos
        if pos < end:
            i = cands[pos]
            cpu_used[i] += cpu
            mem_used[i] += mem
            hid = hosts[i].hid
            log("SCHED", logging.INFO, f"Dispatching virtual machine {vm.vid} to HID: {hid}")
            yield Placement(vm.vid, hid)
            continue
        reason = unplaced_reason(cycle, group, bool(cands))
        current[vm.vid] = reason
        if previous.get(vm.vid) != reason:
            ctx.vm_log(vm.vid, reason, "I")


def schedule(ctx: Any, pending: list[PendingVM], hosts: list[HostSnapshot]) -> list[Placement]:
    """A whole cycle: :func:`plan` then all of :func:`dispatch`."""
    return list(dispatch(ctx, plan(ctx, pending, hosts)))
