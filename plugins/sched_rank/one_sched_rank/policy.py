"""One scheduling cycle: match → capacity → rank → dispatch (§3.5-§3.9).

The result is exactly 1.4's per-VM algorithm (:func:`.reference.schedule`),
computed faster:

* VMs are grouped by (REQUIREMENTS, RANK, cpu demand, memory demand). In 1.4
  every VM is matched and ranked against the same start-of-cycle snapshot,
  before any dispatch, so all VMs of a group have the same candidates in the
  same order; they are computed once per group.
* Expressions are parsed once per distinct text (:mod:`.expr` caches), and
  each distinct REQUIREMENTS / RANK is evaluated once per host per cycle on
  pre-resolved :class:`~.expr.HostVars` records.
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

from one_core.placement import HostSnapshot, PendingVM, Placement
from one_sched_rank import cnum
from one_sched_rank.expr import HostVars, Rank, Requirements, compile_rank, compile_requirements

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
    failed_requirements: list[int] = field(default_factory=list)
    failed_capacity: list[int] = field(default_factory=list)
    cursor: int = 0
    listing: str | None = None


@dataclass
class Cycle:
    """Everything computed before dispatch."""

    vms: list[PendingVM]
    hosts: list[HostSnapshot]
    groups: dict[tuple[str, str, int, int], Group]
    group_of: list[Group]


class _Log:
    """Writes 1.4's module-tagged lines through ``ctx.log``."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger

    def __call__(self, module: str, level: int, message: str) -> None:
        if self.logger.isEnabledFor(level):
            self.logger.log(level, message, extra={"one_module": module})


def _vm_exprs(vm: PendingVM) -> tuple[str, str, int, int]:
    tmpl = vm.template
    reqs = vm.requirements or tmpl.get("REQUIREMENTS", "")
    rank = vm.rank or tmpl.get("RANK", "")
    cpu, mem = cnum.vm_demand(vm.cpu or tmpl.get("CPU"), vm.memory or tmpl.get("MEMORY"))
    return reqs, rank, cpu, mem


def format_priority(p: float) -> str:
    """C++ ``ostream << float`` (default ``%g``, 6 significant digits)."""
    return "%g" % p


def plan(ctx: Any, pending: list[PendingVM], hosts: list[HostSnapshot]) -> Cycle:
    """Match, filter and rank every pending VM; log as 1.4 did."""
    log = _Log(ctx.log)
    vms = sorted(pending, key=lambda v: v.vid)
    hosts = sorted(hosts, key=lambda h: h.hid)
    log("HOST", logging.DEBUG, "Discovered Hosts (enabled):" + "".join(f" {h.hid}" for h in hosts))
    log("VM", logging.DEBUG, "Pending virtual machines :" + "".join(f" {v.vid}" for v in vms))

    records: list[HostVars] | None = None
    n = len(hosts)
    host_cpu = [cnum.host_cpu_capacity(h.free_cpu) for h in hosts]
    free_mem = [h.free_mem for h in hosts]
    avail_cpu = [h.max_cpu - h.cpu_usage for h in hosts]
    avail_mem = [h.max_mem - h.mem_usage for h in hosts]
    disk_ok = [h.max_disk - h.disk_usage >= 0 for h in hosts]
    req_cache: dict[str, list[bool]] = {}
    rank_cache: dict[str, dict[int, int]] = {}
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
            if reqs_text and req.error is None:
                matched = req_cache.get(reqs_text)
                if matched is None:
                    if records is None:
                        records = [HostVars(h.template) for h in hosts]
                    fn = req.matches
                    matched = [fn(r) for r in records]
                    req_cache[reqs_text] = matched
            elif reqs_text:
                matched = [False] * n
            else:
                matched = [True] * n
            cands = []
            for i in range(n):
                if not matched[i]:
                    group.failed_requirements.append(i)
                elif (
                    mem <= free_mem[i]
                    and cpu <= host_cpu[i]
                    and avail_cpu[i] >= cpu
                    and avail_mem[i] >= mem
                    and disk_ok[i]
                ):
                    cands.append(i)
                else:
                    group.failed_capacity.append(i)
            if rank_text and cands:
                values = rank_cache.setdefault(rank_text, {})
                if records is None:
                    records = [HostVars(h.template) for h in hosts]
                ranks = []
                for i in cands:
                    v = values.get(i)
                    if v is None:
                        v = values[i] = rank.rank(records[i])
                    ranks.append(v)
            else:
                ranks = [0] * len(cands)
            floats = [cnum.f32(float(r)) for r in ranks]
            top = max((abs(f) for f in floats), default=0.0)
            prios = [cnum.f32(f / top) for f in floats] if top else [0.0] * len(floats)
            order = sorted(range(len(cands)), key=lambda k: (prios[k], hosts[cands[k]].hid),
                           reverse=True)
            group.candidates = [cands[k] for k in order]
            group.priorities = [prios[k] for k in order]
            groups[key] = group
        group_of.append(group)

        if group.requirements.error is not None and hosts:
            log("HOST", logging.ERROR, f"Error evaluating expresion: {group.requirements.text}"
                f", error: {group.requirements.error}")
        if not group.rank.text:
            log("RANK", logging.WARNING, "No rank defined for VM")
        elif group.rank.error is not None and group.candidates:
            log("RANK", logging.ERROR, f"Computing host rank, expression: {group.rank.text}"
                f", error: {group.rank.error}")

    cycle = Cycle(vms, hosts, groups, group_of)
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
            lines = [
                f"\t{format_priority(group.priorities[k])}\t{cycle.hosts[group.candidates[k]].hid}\n"
                for k in range(shown)
            ]
            if shown < count:
                lines.append(f"\t... {count - shown} more hosts\n")
            group.listing = "".join(lines)
        parts.append(f"Virtual Machine: {vm.vid}\n")
        parts.append(group.listing)
    return "".join(parts)


def _ids(cycle: Cycle, indices: list[int], most: int = 10) -> str:
    hids = [str(cycle.hosts[i].hid) for i in indices[:most]]
    more = f" and {len(indices) - most} more" if len(indices) > most else ""
    return ", ".join(hids) + more


def unplaced_reason(cycle: Cycle, group: Group, had_candidates: bool) -> str:
    """Why a VM stays PENDING this cycle (for its vm.log)."""
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
    if group.failed_requirements:
        parts.append(f"REQUIREMENTS not met by host(s) {_ids(cycle, group.failed_requirements)}")
    if group.failed_capacity:
        parts.append(
            f"not enough free capacity for CPU={group.cpu} MEMORY={group.mem}KB on host(s) "
            f"{_ids(cycle, group.failed_capacity)}"
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
