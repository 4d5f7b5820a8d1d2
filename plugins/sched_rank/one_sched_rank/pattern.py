"""POSIX ``fnmatch(pattern, value, 0)`` (glibc, C locale) as a compiled regex.

Used by REQUIREMENTS ``NAME = "pattern"`` (§2.2): ``*`` matches any run of
characters (``/`` and leading dots included), ``?`` one character,
``[...]``/``[!...]``/``[^...]`` a bracket expression (ranges in code-point
order, ``[:class:]`` names, ``]`` first is literal), a backslash quotes the
next character, and the match is case-sensitive over the whole value. An
unterminated ``[`` is an ordinary character; a pattern ending in a lone
backslash matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

CLASSES: dict[str, str] = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "0-9A-Za-z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "print": " -~",
    "graph": "!-~",
    "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f",
}
"""The C locale's character classes, as regex class bodies."""

_NEVER = "(?!)"


def _bracket(pattern: str, i: int) -> tuple[str, int] | None:
    """Translate the bracket expression whose ``[`` is at ``pattern[i]``.

    Returns (regex, index after ``]``) or None when it is unterminated.
    """
    n = len(pattern)
    j = i + 1
    negate = False
    if j < n and pattern[j] in "!^":
        negate = True
        j += 1
    parts: list[str] = []
    first = True
    invalid = False
    while True:
        if j >= n:
            return None
        c = pattern[j]
        if c == "]" and not first:
            j += 1
            break
        first = False
        if c == "[" and j + 1 < n and pattern[j + 1] in ":=.":
            kind = pattern[j + 1]
            end = pattern.find(kind + "]", j + 2)
            if end < 0:
                return None
            name = pattern[j + 2 : end]
            j = end + 2
            if kind == ":":
                if name in CLASSES:
                    parts.append(CLASSES[name])
                else:
                    invalid = True
            else:
                parts.append(re.escape(name))
            continue
        if c == "\\":
            j += 1
            if j >= n:
                return None
            c = pattern[j]
        j += 1
        lo = c
        if j + 1 < n and pattern[j] == "-" and pattern[j + 1] != "]":
            hi = pattern[j + 1]
            j += 2
            if hi == "\\":
                if j >= n:
                    return None
                hi = pattern[j]
                j += 1
            if ord(lo) <= ord(hi):
                parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
            continue
        parts.append(re.escape(lo))
    if invalid:
        return _NEVER, j
    if not parts:
        return ("." if negate else _NEVER), j
    return ("[^" if negate else "[") + "".join(parts) + "]", j


def translate(pattern: str) -> str:
    """The regular expression (for ``re.fullmatch`` with DOTALL) of ``pattern``."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        if c == "?":
            out.append(".")
        elif c == "[":
            res = _bracket(pattern, i)
            if res is not None:
                out.append(res[0])
                i = res[1]
                continue
            out.append(re.escape("["))
        elif c == "\\":
            i += 1
            if i >= n:
                return _NEVER
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A predicate ``value -> bool``: does ``fnmatch(pattern, value, 0) == 0``."""
    rx = re.compile(translate(pattern), re.DOTALL)
    match = rx.fullmatch
    return lambda value: match(value) is not None
