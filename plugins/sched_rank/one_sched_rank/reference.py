"""Straightforward reference implementations, used to check the fast paths.

* :func:`eval_requirements` / :func:`eval_rank` walk the parse tree for one
  host, looking variables up in the raw template each time and matching
  wildcards with a direct backtracking :func:`fnmatch` (no regex).
* :func:`schedule` is 1.4's per-VM algorithm written plainly: for each VM,
  for each host, evaluate, check capacity, rank, sort, then dispatch with
  reservations — no grouping, no caches, no cursors.

Nothing here is used by the scheduler itself.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lark import Tree

from one_core.api import HostSnapshot, PendingVM, cnum
from one_sched_rank.grammars import parse_tokens
from one_sched_rank.lexer import lex

CLASS_TESTS = {
    "alpha": lambda c: c.isascii() and c.isalpha(),
    "digit": lambda c: "0" <= c <= "9",
    "alnum": lambda c: c.isascii() and c.isalnum(),
    "upper": lambda c: "A" <= c <= "Z",
    "lower": lambda c: "a" <= c <= "z",
    "space": lambda c: c in " \t\n\r\f\v",
    "blank": lambda c: c in " \t",
    "punct": lambda c: c.isascii() and 33 <= ord(c) <= 126 and not c.isalnum(),
    "print": lambda c: 32 <= ord(c) <= 126,
    "graph": lambda c: 33 <= ord(c) <= 126,
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127,
    "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}


def _class_test(name: str, c: str) -> bool | None:
    test = CLASS_TESTS.get(name)
    if test is None:
        return None
    return bool(test(c))


def _bracket(p: str, i: int, c: str) -> tuple[bool, int] | None:
    """Match ``c`` against the bracket at ``p[i] == '['``: (matched, next) or
    None when unterminated; an unknown class makes ``matched`` None-like
    (returned as (False, -1))."""
    n = len(p)
    j = i + 1
    negate = j < n and p[j] in "!^"
    if negate:
        j += 1
    matched = False
    bad = False
    first = True
    while True:
        if j >= n:
            return None
        ch = p[j]
        if ch == "]" and not first:
            j += 1
            break
        first = False
        if ch == "[" and j + 1 < n and p[j + 1] in ":=.":
            kind = p[j + 1]
            end = p.find(kind + "]", j + 2)
            if end < 0:
                return None
            name = p[j + 2 : end]
            j = end + 2
            if kind == ":":
                res = _class_test(name, c)
                if res is None:
                    bad = True
                elif res:
                    matched = True
            elif c == name:
                matched = True
            continue
        if ch == "\\":
            j += 1
            if j >= n:
                return None
            ch = p[j]
        j += 1
        if j + 1 < n and p[j] == "-" and p[j + 1] != "]":
            hi = p[j + 1]
            j += 2
            if hi == "\\":
                if j >= n:
                    return None
                hi = p[j]
                j += 1
            if ord(ch) <= ord(c) <= ord(hi):
                matched = True
            continue
        if ch == c:
            matched = True
    if bad:
        return False, -1
    return (not matched if negate else matched), j


def fnmatch(pattern: str, value: str) -> bool:
    """POSIX ``fnmatch(pattern, value, 0) == 0`` by plain backtracking."""

    def go(pi: int, vi: int) -> bool:
        while pi < len(pattern):
            c = pattern[pi]
            if c == "*":
                while pi < len(pattern) and pattern[pi] == "*":
                    pi += 1
                return any(go(pi, k) for k in range(vi, len(value) + 1))
            if vi >= len(value):
                return False
            if c == "?":
                pi += 1
                vi += 1
                continue
            if c == "[":
                res = _bracket(pattern, pi, value[vi])
                if res is not None:
                    ok, nxt = res
                    if nxt < 0 or not ok:
                        return False
                    pi = nxt
                    vi += 1
                    continue
                # unterminated: a literal '['
            if c == "\\":
                pi += 1
                if pi >= len(pattern):
                    return False
                c = pattern[pi]
            if value[vi] != c:
                return False
            pi += 1
            vi += 1
        return vi == len(value)

    if pattern.endswith("\\") and (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 1:
        return False
    return go(0, 0)


def _lookup(template: Mapping[str, str], name: str) -> str | None:
    wanted = name.upper()
    for key, value in template.items():
        if key.upper() == wanted:
            return value if value else None
    return None


_COMPARE = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "lt": operator.lt}
"""The numeric comparisons of REQUIREMENTS, by rule name."""


def _req(node: Tree, t: Mapping[str, str]) -> bool:
    op = node.data
    ch: list[Any] = node.children  # the grammar fixes each node's shape
    if op == "and_":
        left = _req(ch[0], t)
        right = _req(ch[2], t)
        return left and right
    if op == "or_":
        left = _req(ch[0], t)
        right = _req(ch[2], t)
        return left or right
    if op == "not_":
        return not _req(ch[1], t)
    if op == "paren":
        return _req(ch[1], t)
    val = _lookup(t, str(ch[0].value))
    lit = ch[-1]
    if lit.type == "INTEGER":
        return _COMPARE[op](cnum.stream_int(val), lit.value)
    if lit.type == "FLOAT":
        if val is None:
            return False
        return _COMPARE[op](cnum.atof(val), lit.value)
    if val is None:
        return False
    hit = fnmatch(lit.value, val)
    return hit if op == "eq" else not hit


def _div(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.inf if (x > 0) == (math.copysign(1.0, y) > 0) else -math.inf


def _rank(node: Tree, t: Mapping[str, str]) -> float:
    op = node.data
    ch: list[Any] = node.children  # the grammar fixes each node's shape
    if op == "var":
        val = _lookup(t, str(ch[0].value))
        return 0.0 if val is None else cnum.f32(cnum.atof(val))
    if op in ("int_", "float_"):
        return cnum.f32(float(ch[0].value))
    if op == "paren":
        return _rank(ch[1], t)
    if op == "neg":
        return -_rank(ch[1], t)
    if op == "mul_neg":
        return cnum.f32(_rank(ch[0], t) * -_rank(ch[3], t))
    if op == "div_neg":
        return cnum.f32(_div(_rank(ch[0], t), -_rank(ch[3], t)))
    a, b = _rank(ch[0], t), _rank(ch[2], t)
    if op == "add":
        return cnum.f32(a + b)
    if op == "sub":
        return cnum.f32(a - b)
    if op == "mul":
        return cnum.f32(a * b)
    return cnum.f32(_div(a, b))


def eval_requirements(text: str, template: Mapping[str, str]) -> tuple[bool, str | None]:
    """(matches, syntax error) of REQUIREMENTS ``text`` on one host template."""
    lexed = lex(text)
    res = parse_tokens("requirements", lexed)
    if res.error is not None:
        return False, res.error.message
    tree = res.parsed()
    if not tree.children:
        return True, None
    return _req(tree.children[0], template), None


def eval_rank(text: str, template: Mapping[str, str]) -> tuple[int, str | None]:
    """(rank, syntax error) of RANK ``text`` on one host template."""
    lexed = lex(text)
    res = parse_tokens("rank", lexed)
    if res.error is not None:
        if res.error.prefix:
            sub = parse_tokens("rank", lexed, res.error.prefix).parsed()
            return cnum.float_to_int(_rank(sub.children[0], template)), res.error.message
        return 0, res.error.message
    tree = res.parsed()
    if not tree.children:
        return 0, None
    return cnum.float_to_int(_rank(tree.children[0], template)), None


@dataclass
class RefCandidate:
    hid: int
    priority: float


def schedule(
    pending: list[PendingVM], hosts: list[HostSnapshot]
) -> tuple[list[tuple[int, int]], dict[int, list[RefCandidate]]]:
    """1.4's cycle, per VM: returns the placements ``(vid, hid)`` in dispatch
    order and each VM's candidates, highest priority first."""
    usage = {h.hid: [h.cpu_usage, h.mem_usage, h.disk_usage] for h in hosts}
    ordered_vms = sorted(pending, key=lambda v: v.vid)
    ordered_hosts = sorted(hosts, key=lambda h: h.hid)
    candidates: dict[int, list[RefCandidate]] = {}
    for vm in ordered_vms:
        reqs = vm.requirements or vm.template.get("REQUIREMENTS", "")
        rank_text = vm.rank or vm.template.get("RANK", "")
        cpu, mem = cnum.vm_demand(
            vm.cpu or vm.template.get("CPU"), vm.memory or vm.template.get("MEMORY")
        )
        hids = []
        for h in ordered_hosts:
            if reqs:
                ok, _ = eval_requirements(reqs, h.template)
                if not ok:
                    continue
            host_cpu = cnum.host_cpu_capacity(h.free_cpu)
            if (
                mem <= h.free_mem
                and cpu <= host_cpu
                and (
                    h.max_cpu - h.cpu_usage >= cpu
                    and h.max_mem - h.mem_usage >= mem
                    and h.max_disk - h.disk_usage >= 0
                )
            ):
                hids.append(h)
        ranks = []
        for h in hids:
            ranks.append(eval_rank(rank_text, h.template)[0] if rank_text else 0)
        floats = [cnum.f32(float(r)) for r in ranks]
        top = 0.0
        for f in floats:
            if abs(f) > top:
                top = abs(f)
        prios = [0.0 if top == 0 else cnum.f32(f / top) for f in floats]
        cands = [RefCandidate(h.hid, p) for h, p in zip(hids, prios, strict=True)]
        cands.sort(key=lambda c: (c.priority, c.hid), reverse=True)
        candidates[vm.vid] = cands
    placements = []
    for vm in ordered_vms:
        cpu, mem = cnum.vm_demand(
            vm.cpu or vm.template.get("CPU"), vm.memory or vm.template.get("MEMORY")
        )
        for c in candidates[vm.vid]:
            u = usage[c.hid]
            h = next(x for x in hosts if x.hid == c.hid)
            if h.max_cpu - u[0] >= cpu and h.max_mem - u[1] >= mem and h.max_disk - u[2] >= 0:
                u[0] += cpu
                u[1] += mem
                placements.append((vm.vid, c.hid))
                break
    return placements, candidates
