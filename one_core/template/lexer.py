"""The template lexer: a transcription of 1.4's flex scanner (src/template/template_parser.l).

Flex semantics reproduced (spec §1.2):

* two exclusive start conditions, INITIAL and VALUE;
* the longest match wins, and on equal length the rule listed first;
* characters no rule matches (flex's default rule 11) are skipped -- 1.4 echoed them
  to stdout, we drop them -- but they still advance the offsets;
* every lexed item, ignored or not, advances the cumulative offset used for error
  columns (``YY_USER_ACTION``).

The alternations below are ordered so that Python's first-alternative-wins matching
gives flex's longest match: for every start position at most one of the INITIAL
alternatives can be longest, and the only real choice in VALUE (a quoted string, rule
9, against a bare word starting with ``"``, rule 10) is decided by comparing lengths.
``tests/template/test_lexer.py`` checks this against a literal longest-match oracle.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Token kinds (Bison's display names).
END = "$end"
EQUAL = "EQUAL"
COMMA = "COMMA"
OBRACKET = "OBRACKET"
CBRACKET = "CBRACKET"
EQUAL_EMPTY = "EQUAL_EMPTY"
STRING = "STRING"
VARIABLE = "VARIABLE"

TOKEN_ORDER = (END, EQUAL, COMMA, OBRACKET, CBRACKET, EQUAL_EMPTY, STRING, VARIABLE)
"""Bison token-number order, used for the ``expecting`` lists."""

# INITIAL state: rule 1 comment, 3 VARIABLE, 5 EQUAL_EMPTY, 4 EQUAL, 6 COMMA,
# 7 CBRACKET, 2 blanks/newlines, 11 any other character.
_INITIAL = re.compile(
    r"(?P<skip>[ \t]*#[^\n]*\n)"
    r"|(?P<VARIABLE>[A-Za-z0-9_]+)"
    r"|(?P<EQUAL_EMPTY>[ \t]*=[ \t]*\n)"
    r"|(?P<EQUAL>[ \t]*=[ \t]*)"
    r"|(?P<COMMA>[ \t\n]*,[ \t\n]*)"
    r"|(?P<CBRACKET>[ \t\n]*\][ \t\n]*)"
    r"|(?P<ws>[ \t\n]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)

# VALUE state: rule 8 OBRACKET, rule 10 bare value, rule 11 any other character.
# Rule 9 (quoted) is tried separately when the value starts with '"'.
_VALUE = re.compile(
    r"(?P<OBRACKET>[ \t]*\[[ \t\n]*)"
    r"|(?P<STRING>[^=#\[\] \t\n,]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)

# Rule 9: '"' ( [^"] | '\"' )+ '"'. Trying '\"' first and backtracking yields the
# longest match (the last closing quote reachable), as flex does.
_QUOTED = re.compile(r'"(?:\\"|[^"])+"', re.DOTALL)
_BARE = re.compile(r"[^=#\[\] \t\n,]+")

# Fast path for the common case, a whole single attribute at a token boundary in
# INITIAL: blanks/newlines (rule 2), a name (rule 3), '=' (rule 4, not 5: the value
# starts on the same line) and a value that is either
#   * a bare word not starting with '"' (rule 10, nothing else can match), or
#   * a quoted string (rule 9) whose longest match ends at an unescaped quote and is
#     followed by a delimiter or the end, so rule 10 cannot be longer.  The atomic
#     group stops at the first quote not preceded by a backslash -- the longest rule-9
#     match -- and cannot backtrack to a shorter one.
# Anything else goes through :func:`scan`, token by token.
FAST_SINGLE = re.compile(
    r"[ \t\n]*([A-Za-z0-9_]+)[ \t]*=[ \t]*"
    r'(?:([^=#\[\] \t\n,"][^=#\[\] \t\n,]*)|"((?>(?:\\"|[^"])+))"(?=[=#\[\] \t\n,]|\Z))'
)

Token = tuple[str, str, int, int]
"""(kind, text, start, end): ``text`` is the token's value (quotes removed for
a quoted STRING, not yet unescaped); start/end are character offsets."""


def scan(text: str, pos: int, in_value: bool, item: int) -> tuple[str, str, int, int, bool, int]:
    """Lex from ``pos`` to the next significant token.

    ``in_value`` is the start condition (VALUE or INITIAL) and ``item`` the start of
    the last lexed item so far.  Returns ``(kind, text, start, end, in_value, item)``
    with the new start condition and last-item start; at the end of input the kind is
    ``$end`` and its span is that of the last lexed item (Bison's location for an
    unexpected ``$end``; ``0:0`` for empty input).
    """
    n = len(text)
    while pos < n:
        if in_value:
            if text[pos] == '"':
                q = _QUOTED.match(text, pos)
                if q is not None:
                    end = q.end()
                    if end >= _BARE.match(text, pos).end():  # type: ignore[union-attr]
                        return (STRING, text[pos + 1 : end - 1], pos, end, False, pos)
            m = _VALUE.match(text, pos)
            kind = m.lastgroup  # type: ignore[union-attr]
            end = m.end()  # type: ignore[union-attr]
            item = pos
            if kind == "other":
                pos = end
                continue
            return (kind, text[pos:end], pos, end, False, pos)  # type: ignore[return-value]
        m = _INITIAL.match(text, pos)
        kind = m.lastgroup  # type: ignore[union-attr]
        end = m.end()  # type: ignore[union-attr]
        item = pos
        if kind in ("skip", "ws", "other"):
            pos = end
            continue
        return (kind, text[pos:end], pos, end, kind == EQUAL, pos)  # type: ignore[return-value]
    return (END, "", item, n, in_value, item)


def tokenize(text: str) -> Iterator[Token]:
    """Yield the significant tokens of ``text``, ending with ``$end`` (see :func:`scan`)."""
    pos = 0
    in_value = False
    item = 0
    while True:
        kind, value, start, end, in_value, item = scan(text, pos, in_value, item)
        yield (kind, value, start, end)
        if kind == END:
            return
        pos = end
