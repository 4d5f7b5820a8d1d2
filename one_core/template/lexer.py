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

Token = tuple[str, str, int, int]
"""(kind, text, start, end): ``text`` is the token's value (quotes removed for
a quoted STRING, not yet unescaped); start/end are character offsets."""


def tokenize(text: str) -> Iterator[Token]:
    """Yield the significant tokens of ``text``, ending with ``$end``.

    The ``$end`` token carries the span of the last lexed item (significant or not),
    which is the location Bison reports for an unexpected ``$end``; for empty input
    it is ``0:0``, Bison's initial location.
    """
    pos = 0
    item = 0
    n = len(text)
    initial_match = _INITIAL.match
    value_match = _VALUE.match
    in_value = False
    while pos < n:
        if in_value:
            if text[pos] == '"':
                q = _QUOTED.match(text, pos)
                b = _BARE.match(text, pos)
                if q is not None and q.end() >= b.end():  # type: ignore[union-attr]
                    end = q.end()
                    item = pos
                    in_value = False
                    yield (STRING, text[pos + 1 : end - 1], pos, end)
                    pos = end
                    continue
            m = value_match(text, pos)
            kind = m.lastgroup  # type: ignore[union-attr]
            end = m.end()  # type: ignore[union-attr]
            item = pos
            if kind == "other":
                pos = end
                continue
            in_value = False
            yield (kind, text[pos:end], pos, end)  # type: ignore[misc]
            pos = end
        else:
            m = initial_match(text, pos)
            kind = m.lastgroup  # type: ignore[union-attr]
            end = m.end()  # type: ignore[union-attr]
            item = pos
            if kind == "skip" or kind == "ws" or kind == "other":
                pos = end
                continue
            if kind == "EQUAL":
                in_value = True
            yield (kind, text[pos:end], pos, end)  # type: ignore[misc]
            pos = end
    yield (END, "", item, n)
