"""Property tests: the compiled/grouped fast paths equal the plain reference."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from one_sched_rank import reference
from one_sched_rank.expr import HostTable, HostVars, compile_rank, compile_requirements
from one_sched_rank.pattern import compile_pattern
from one_sched_rank.policy import dispatch, plan

from one_core.context import DriverContext
from one_core.placement import HostSnapshot, PendingVM

NAMES = ["A", "b", "Cpu", "ARCH", "NOPE", "x_1"]
VALUES = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.sampled_from(
        [
            "0.1",
            "395.5",
            "-2.5",
            "12abc",
            "abc",
            "",
            "x86_64",
            "1e3",
            " 7",
            "nan",
            "16777217",
            "2147483648",
            "0",
            "-0",
            "a*b",
            "[x]",
        ]
    ),
    st.text(alphabet="ab*?[]!-.0123", max_size=5),
)
HOSTS = st.dictionaries(st.sampled_from([n.upper() for n in NAMES]), VALUES, max_size=6)

PATTERN_ALPHABET = "ab*?[]!^-\\:"
PATTERNS = st.text(alphabet=PATTERN_ALPHABET, max_size=7) | st.sampled_from(
    ["[[:alpha:]]*", "[[:digit:]]?", "[!a-b]*", "[]a]", "[a-]", "[b-a]", "[[:nope:]]", "a\\", "\\*"]
)


@settings(max_examples=400, deadline=None)
@given(PATTERNS, st.text(alphabet="ab-][*?:\\1", max_size=6))
def test_fnmatch_regex_equals_backtracking(pattern: str, value: str) -> None:
    assert compile_pattern(pattern)(value) == reference.fnmatch(pattern, value)


def _quote(s: str) -> str:
    return '"' + s.replace('"', "") + '"'


NAME_TOKENS = st.sampled_from(NAMES + [n.lower() for n in NAMES] + ['"arch"', '"NOPE"', '""'])
INTS = st.integers(-3000, 3000).map(str)
FLOATS = st.sampled_from(["0.1", "395.5", "-2.5", "0.0", "12.0", "1000.25"])
STRINGS = st.one_of(PATTERNS.map(_quote), st.sampled_from(["x86_64", "abc", '""']))


def comparisons() -> st.SearchStrategy[str]:
    eq = st.tuples(
        NAME_TOKENS, st.sampled_from(["=", "!=", "! ="]), st.one_of(INTS, FLOATS, STRINGS)
    )
    rel = st.tuples(NAME_TOKENS, st.sampled_from([">", "<"]), st.one_of(INTS, FLOATS))
    return st.one_of(eq, rel).map(lambda t: f"{t[0]} {t[1]} {t[2]}")


def expressions(
    atoms: st.SearchStrategy[str], operators: list[str], prefix: str, max_leaves: int
) -> st.SearchStrategy[str]:
    """Expressions over ``atoms``: binary ``operators``, the ``prefix`` operator, parentheses."""
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(operators), inner).map("".join),
            inner.map(lambda e: prefix + e),
            inner.map(lambda e: f"({e})"),
        ),
        max_leaves=max_leaves,
    )


def soup(tokens: list[str]) -> st.SearchStrategy[str]:
    """Up to 8 of ``tokens`` in any order: mostly not an expression at all."""
    return st.lists(st.sampled_from(tokens), max_size=8).map(" ".join)


REQ_EXPR = expressions(comparisons(), ["&", "|", " & ", "|!"], "!", max_leaves=6)
REQ_SOUP = soup(["A", "=", "!", "&", "|", "(", ")", "1", "0.5", '"x*"', ">", "<", "-", "*", "."])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REQ_EXPR | REQ_SOUP, HOSTS)
def test_requirements_compiled_equals_reference(text: str, host: dict) -> None:
    req = compile_requirements(text)
    got = (req.matches(HostVars(host)) if req.error is None else False, req.error)
    assert got == reference.eval_requirements(text, host)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REQ_EXPR | REQ_SOUP, st.lists(HOSTS, max_size=6))
def test_requirements_mask_equals_per_host(text: str, hosts: list[dict]) -> None:
    req = compile_requirements(text)
    table = HostTable([HostVars(h) for h in hosts])
    expected = [req.matches(r) if req.error is None else False for r in table.records]
    assert table.indices(req.mask(table)) == [i for i, ok in enumerate(expected) if ok]


RANK_ATOMS = st.one_of(
    NAME_TOKENS,
    st.integers(-100, 100000).map(str),
    FLOATS,
    st.sampled_from(["16777217", "2147483647", "0"]),
)
RANK_EXPR = expressions(RANK_ATOMS, [" + ", " - ", " * ", " / "], "- ", max_leaves=7)
RANK_SOUP = soup(["A", "+", "-", "*", "/", "(", ")", "3", "-2", "0.5", ">", "b", "."])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RANK_EXPR | RANK_SOUP, HOSTS)
def test_rank_compiled_equals_reference(text: str, host: dict) -> None:
    rk = compile_rank(text)
    assert (rk.rank(HostVars(host)), rk.error) == reference.eval_rank(text, host)


# ---------------------------------------------------------------------------
# whole cycles
# ---------------------------------------------------------------------------

HOST_REQS = [
    "",
    'HYPERVISOR = "kvm*"',
    "CPU > 50",
    'CPU > 50 & HYPERVISOR = "kvm*"',
    "FREECPU > 100 | ! HYPERVISOR = xen",
    "A =",
    "TOTALCPU > 300",
]
RANKS = ["", "FREECPU", "- FREECPU", "CPU", "FREEMEMORY / 1000", "1", "CPU - 50", "FREECPU-5", "X"]


@st.composite
def snapshots(draw: st.DrawFn) -> HostSnapshot:
    hid = draw(st.integers(0, 30))
    max_cpu = draw(st.sampled_from([0, 100, 200, 400]))
    max_mem = draw(st.sampled_from([0, 1024, 4096, 1048576]))
    free_cpu = draw(st.integers(-10, max_cpu + 10))
    template = {
        "HYPERVISOR": draw(st.sampled_from(["kvm", "xen", "kvm-x", ""])),
        "CPU": str(draw(st.integers(0, 100))),
        "FREECPU": str(free_cpu),
        "TOTALCPU": str(max_cpu),
        "FREEMEMORY": str(draw(st.integers(0, max_mem))),
        "X": str(
            draw(st.sampled_from([-1000000007, 1000000007]) | st.integers(513867700, 513867800))
        ),
    }
    return HostSnapshot(
        hid=hid,
        name=f"h{hid}",
        template=template,
        max_cpu=max_cpu,
        max_mem=max_mem,
        cpu_usage=draw(st.integers(0, max_cpu + 50)),
        mem_usage=draw(st.integers(0, max_mem)),
        free_cpu=free_cpu,
        free_mem=draw(st.integers(-5, max_mem)),
    )


@st.composite
def pending_vms(draw: st.DrawFn) -> PendingVM:
    vid = draw(st.integers(0, 60))
    cpu = draw(st.sampled_from(["", "0.5", "1", "2", "-1", "0"]))
    mem = draw(st.sampled_from(["", "0", "1", "4", "512", "-1"]))
    template = {
        "CPU": cpu,
        "MEMORY": mem,
        "REQUIREMENTS": draw(st.sampled_from(HOST_REQS)),
        "RANK": draw(st.sampled_from(RANKS)),
    }
    return PendingVM(vid=vid, uid=0, template=template)


def _ctx() -> DriverContext:
    logger = logging.getLogger("test.sched_rank.prop")
    logger.setLevel(logging.CRITICAL)
    return DriverContext(role="sched", name="rank", log=logger, vm_log_func=lambda *a: None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(snapshots(), max_size=8, unique_by=lambda h: h.hid),
    st.lists(pending_vms(), max_size=14, unique_by=lambda v: v.vid),
)
def test_cycle_equals_per_vm_reference(hosts: list[HostSnapshot], vms: list[PendingVM]) -> None:
    ctx = _ctx()
    cycle = plan(ctx, vms, hosts)
    placements = [(p.vid, p.hid) for p in dispatch(ctx, cycle)]
    expected, candidates = reference.schedule(vms, hosts)
    assert placements == expected
    for vm, group in zip(cycle.vms, cycle.group_of, strict=True):
        got = [
            (cycle.hosts[i].hid, p) for i, p in zip(group.candidates, group.priorities, strict=True)
        ]
        assert got == [(c.hid, c.priority) for c in candidates[vm.vid]]


@st.composite
def crowded_vms(draw: st.DrawFn) -> PendingVM:
    """Few distinct groups, so several VMs share candidates and hosts fill up."""
    vid = draw(st.integers(0, 60))
    template = {
        "CPU": draw(st.sampled_from(["1", "2", "-1"])),
        "MEMORY": draw(st.sampled_from(["1", "2"])),
        "REQUIREMENTS": draw(st.sampled_from(["", "CPU > 50"])),
        "RANK": draw(st.sampled_from(["FREECPU", "", "X"])),
    }
    return PendingVM(vid=vid, uid=0, template=template)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(snapshots(), min_size=1, max_size=5, unique_by=lambda h: h.hid),
    st.lists(crowded_vms(), min_size=2, max_size=20, unique_by=lambda v: v.vid),
)
def test_crowded_cycle_equals_per_vm_reference(
    hosts: list[HostSnapshot], vms: list[PendingVM]
) -> None:
    ctx = _ctx()
    placements = [(p.vid, p.hid) for p in dispatch(ctx, plan(ctx, vms, hosts))]
    assert placements == reference.schedule(vms, hosts)[0]
