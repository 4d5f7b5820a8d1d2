"""REQUIREMENTS and RANK: parsed once per distinct text, compiled to closures.

A compiled expression is a closure over a :class:`HostVars` record, which
resolves each host variable once per conversion (text, stream-extracted
``int``, ``atof`` double, 32-bit float) and caches it, so evaluating many
expressions over many hosts never re-parses or re-converts anything.

REQUIREMENTS also compile to a column form, ``Requirements.mask(table)``,
which evaluates each comparison on every host of a :class:`HostTable` at
once and combines the results as bit masks; the scheduler uses it, the
closure form serves single evaluations. Both are tested against
:mod:`.reference`.

Semantics: ``spec/templates-scheduler-vnets-cli.md`` §2.2-§2.5.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, repeat
from typing import Any

from lark import Token, Tree

from one_core.api import cnum
from one_sched_rank.grammars import parse_tokens
from one_sched_rank.lexer import lex
from one_sched_rank.pattern import compile_pattern

# ---------------------------------------------------------------------------
# host record
# ---------------------------------------------------------------------------


class _IntView(dict):
    """``name -> int``: stream extraction of the value, 0 when missing."""

    __slots__ = ("src",)

    def __init__(self, src: Mapping[str, str]):
        super().__init__()
        self.src = src

    def __missing__(self, key: str) -> int:
        value = cnum.stream_int(self.src.get(key))
        self[key] = value
        return value


class _DoubleView(_IntView):
    """``name -> float | None``: ``atof`` of the value, None when missing."""

    __slots__ = ()

    def __missing__(self, key: str) -> float | None:  # type: ignore[override]
        raw = self.src.get(key)
        value = None if raw is None else cnum.atof(raw)
        self[key] = value
        return value


class _Float32View(_IntView):
    """``name -> float``: ``atof`` rounded to a C float, 0.0 when missing."""

    __slots__ = ()

    def __missing__(self, key: str) -> float:  # type: ignore[override]
        raw = self.src.get(key)
        value = 0.0 if raw is None else cnum.f32(cnum.atof(raw))
        self[key] = value
        return value


class HostVars:
    """A host template resolved for expression evaluation.

    Names are upper-cased (lookups are case-insensitive); empty values are
    missing. ``text``, ``ints``, ``doubles`` and ``floats`` give the value in
    each conversion, computed on first use and cached.
    """

    __slots__ = ("text", "ints", "doubles", "floats")

    def __init__(self, template: Mapping[str, object]):
        text: dict[str, str] = {}
        for key, value in template.items():
            if value is None or isinstance(value, (dict, list, tuple)):
                continue  # a vector attribute counts as missing
            value = value if isinstance(value, str) else str(value)
            if value:
                text.setdefault(str(key).upper(), value)
        self.text: dict[str, str] = text
        self.ints = _IntView(text)
        self.doubles = _DoubleView(text)
        self.floats = _Float32View(text)


_BITS = bytes.maketrans(b"01", b"\x00\x01")


class HostTable:
    """All hosts of a cycle, for evaluating a REQUIREMENTS leaf on every host
    at once: a set of hosts is an ``int`` bit mask (bit ``i`` = ``records[i]``).

    Variable columns and leaf results are cached per cycle, so a comparison
    shared by several expressions (``HYPERVISOR = "kvm*"``) is computed once.
    """

    __slots__ = ("records", "bits", "all", "_leaves", "_columns")

    def __init__(self, records: Sequence[HostVars]):
        self.records = list(records)
        self.bits = [1 << i for i in range(len(self.records))]
        self.all = (1 << len(self.records)) - 1
        self._leaves: dict[tuple, int] = {}
        self._columns: dict[tuple[str, str], list] = {}

    def column(self, kind: str, name: str) -> list:
        """Every host's value of ``name`` as ``ints``, ``doubles`` or ``text``."""
        col = self._columns.get((kind, name))
        if col is None:
            if kind == "text":
                col = [r.text.get(name) for r in self.records]
            else:
                col = [getattr(r, kind)[name] for r in self.records]
            self._columns[(kind, name)] = col
        return col

    def to_mask(self, flags: Iterable[bool]) -> int:
        """The mask of the hosts whose flag is true."""
        return sum(compress(self.bits, flags))

    def leaf(self, key: tuple, compute: Callable[[HostTable], Iterable[bool]]) -> int:
        """The mask of the flags ``compute(self)`` gives, cached under ``key``."""
        mask = self._leaves.get(key)
        if mask is None:
            mask = self._leaves[key] = self.to_mask(compute(self))
        return mask

    def indices(self, mask: int) -> list[int]:
        """The host indices in ``mask``, ascending."""
        flags = bin(mask)[:1:-1].encode("ascii").translate(_BITS)
        return list(compress(range(len(flags)), flags))


# ---------------------------------------------------------------------------
# compiled expressions
# ---------------------------------------------------------------------------

Match = Callable[[HostVars], bool]
Value = Callable[[HostVars], float]


def _never(_: HostVars) -> bool:
    return False


def _zero(_: HostVars) -> float:
    return 0.0


@dataclass(frozen=True, slots=True)
class Requirements:
    """A compiled REQUIREMENTS expression.

    ``error`` is the syntax-error message (then every host fails to match).
    ``matches(host)`` evaluates it on one host; ``mask(table)`` on all the
    hosts of a :class:`HostTable` at once (same result, bit per host).
    """

    text: str
    error: str | None
    matches: Match = field(repr=False)
    mask: Callable[[HostTable], int] = field(repr=False, default=lambda t: 0)
    names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Rank:
    """A compiled RANK expression.

    ``error`` is the syntax-error message; the value is then the one 1.4 had
    already stored (the complete top-level prefix), or 0. ``rank(host)``
    gives the ``int`` rank.
    """

    text: str
    error: str | None
    value: Value = field(repr=False)
    names: frozenset[str] = frozenset()

    def rank(self, host: HostVars) -> int:
        return cnum.float_to_int(self.value(host))


_CMP = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "lt": operator.lt}


def _compile_req(node: Tree | Token, names: set[str]) -> Match:
    if isinstance(node, Token):  # pragma: no cover - grammar never yields a bare token
        raise TypeError(node)
    op = node.data
    ch: list[Any] = node.children  # the grammar fixes each node's shape
    if op == "and_":
        a, b = _compile_req(ch[0], names), _compile_req(ch[2], names)
        return lambda r: a(r) and b(r)
    if op == "or_":
        a, b = _compile_req(ch[0], names), _compile_req(ch[2], names)
        return lambda r: a(r) or b(r)
    if op == "not_":
        a = _compile_req(ch[1], names)
        return lambda r: not a(r)
    if op == "paren":
        return _compile_req(ch[1], names)
    name = str(ch[0].value).upper()
    names.add(name)
    lit = ch[-1]
    cmp = _CMP[op]
    if lit.type == "INTEGER":
        ival = lit.value
        return lambda r: cmp(r.ints[name], ival)
    if lit.type == "FLOAT":
        fval = lit.value

        def float_cmp(r: HostVars) -> bool:
            d = r.doubles[name]
            return d is not None and cmp(d, fval)

        return float_cmp
    pat = compile_pattern(lit.value)
    if op == "eq":

        def str_eq(r: HostVars) -> bool:
            v = r.text.get(name)
            return v is not None and pat(v)

        return str_eq

    def str_ne(r: HostVars) -> bool:
        v = r.text.get(name)
        return v is not None and not pat(v)

    return str_ne


def _leaf_column(node: Tree) -> tuple[tuple, Callable[[HostTable], Iterable[bool]]]:
    """A comparison over a whole column: (cache key, table -> flags)."""
    ch: list[Any] = node.children  # the grammar fixes each node's shape
    op = node.data
    name = str(ch[0].value).upper()
    lit = ch[-1]
    key = (op, name, lit.type, lit.value)
    cmp = _CMP[op]
    if lit.type == "INTEGER":
        ival = lit.value
        return key, lambda t: map(cmp, t.column("ints", name), repeat(ival))
    if lit.type == "FLOAT":
        fval = lit.value
        return key, lambda t: [d is not None and cmp(d, fval) for d in t.column("doubles", name)]
    pat = compile_pattern(lit.value)
    if op == "eq":
        return key, lambda t: [v is not None and pat(v) for v in t.column("text", name)]
    return key, lambda t: [v is not None and not pat(v) for v in t.column("text", name)]


def _compile_req_mask(node: Tree) -> Callable[[HostTable], int]:
    """The column form of :func:`_compile_req`: sets of hosts as bit masks."""
    op = node.data
    ch: list[Any] = node.children  # the grammar fixes each node's shape
    if op in ("and_", "or_"):
        a = _compile_req_mask(ch[0])
        b = _compile_req_mask(ch[2])
        if op == "and_":
            return lambda t: a(t) & b(t)
        return lambda t: a(t) | b(t)
    if op == "not_":
        a = _compile_req_mask(ch[1])
        return lambda t: t.all ^ a(t)
    if op == "paren":
        return _compile_req_mask(ch[1])
    key, compute = _leaf_column(node)
    return lambda t: t.leaf(key, compute)


def c_div(x: float, y: float) -> float:
    """IEEE division as C does it (no exception on a zero divisor)."""
    if y == 0.0:
        if x == 0.0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _compile_rank(node: Tree | Token, names: set[str]) -> Value:
    if isinstance(node, Token):  # pragma: no cover
        raise TypeError(node)
    op = node.data
    ch: list[Any] = node.children  # the grammar fixes each node's shape
    if op == "var":
        name = str(ch[0].value).upper()
        names.add(name)
        return lambda r: r.floats[name]
    if op in ("int_", "float_"):
        const = cnum.f32(float(ch[0].value))
        return lambda r: const
    if op == "paren":
        return _compile_rank(ch[1], names)
    if op == "neg":
        a = _compile_rank(ch[1], names)
        return lambda r: -a(r)
    if op in ("mul_neg", "div_neg"):
        a, b = _compile_rank(ch[0], names), _compile_rank(ch[3], names)
        if op == "mul_neg":
            return lambda r: cnum.f32(a(r) * -b(r))
        return lambda r: cnum.f32(c_div(a(r), -b(r)))
    a, b = _compile_rank(ch[0], names), _compile_rank(ch[2], names)
    if op == "add":
        return lambda r: cnum.f32(a(r) + b(r))
    if op == "sub":
        return lambda r: cnum.f32(a(r) - b(r))
    if op == "mul":
        return lambda r: cnum.f32(a(r) * b(r))
    return lambda r: cnum.f32(c_div(a(r), b(r)))


MAX_DEPTH = 400
"""Deepest expression tree we compile. Deeper ones (hundreds of nested
parentheses or ``!``, or hundreds of terms in one chain) are rejected as an
error instead of exhausting Python's stack; 1.4's bison stack allowed 10000."""

TOO_DEEP = f"expression too deeply nested (more than {MAX_DEPTH} levels)"


def _too_deep(tree: Tree) -> bool:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return False


@lru_cache(maxsize=8192)
def compile_requirements(text: str) -> Requirements:
    """Parse and compile a REQUIREMENTS expression (cached per text)."""
    lexed = lex(text)
    result = parse_tokens("requirements", lexed)
    if result.error is not None:
        return Requirements(text, result.error.message, _never, lambda t: 0)
    tree = result.parsed()
    if not tree.children:
        return Requirements(text, None, lambda r: True, lambda t: t.all)
    if _too_deep(tree):
        return Requirements(text, TOO_DEEP, _never, lambda t: 0)
    names: set[str] = set()
    fn = _compile_req(tree.children[0], names)
    mask = _compile_req_mask(tree.children[0])
    return Requirements(text, None, fn, mask, frozenset(names))


@lru_cache(maxsize=8192)
def compile_rank(text: str) -> Rank:
    """Parse and compile a RANK expression (cached per text)."""
    lexed = lex(text)
    result = parse_tokens("rank", lexed)
    names: set[str] = set()
    if result.error is not None:
        prefix = result.error.prefix
        if prefix:
            sub = parse_tokens("rank", lexed, prefix)
            if sub.tree is not None and sub.tree.children and not _too_deep(sub.tree):
                fn = _compile_rank(sub.tree.children[0], names)
                return Rank(text, result.error.message, fn, frozenset(names))
        return Rank(text, result.error.message, _zero)
    tree = result.parsed()
    if not tree.children:
        return Rank(text, None, _zero)
    if _too_deep(tree):
        return Rank(text, TOO_DEEP, _zero)
    fn = _compile_rank(tree.children[0], names)
    return Rank(text, None, fn, frozenset(names))


def evaluate_requirements(text: str, template: Mapping[str, str]) -> tuple[bool, str | None]:
    """Convenience: (matches, error) of ``text`` on one host template."""
    req = compile_requirements(text)
    return (req.matches(HostVars(template)) if req.error is None else False), req.error


def evaluate_rank(text: str, template: Mapping[str, str]) -> tuple[int, str | None]:
    """Convenience: (rank, error) of ``text`` on one host template."""
    rk = compile_rank(text)
    return rk.rank(HostVars(template)), rk.error
