"""Independent oracles for the template lexer and parser (test helpers).

* :func:`flex_tokens` applies the flex rules of spec §1.2 literally: at each position
  every rule's longest match is computed by brute force, the longest wins and ties go
  to the rule listed first.  Slow, obviously right.
* :func:`lark_parser` is the grammar of ``one_core/template/grammar.lark`` run by lark's
  LALR parser on our tokens.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lark import Lark, Token
from lark.lexer import Lexer

import one_core.template

_INITIAL_RULES = [
    (1, re.compile(r"[ \t]*#[^\n]*\n"), None),
    (2, re.compile(r"[ \t\n]+"), None),
    (3, re.compile(r"[A-Za-z0-9_]+"), "VARIABLE"),
    (4, re.compile(r"[ \t]*=[ \t]*"), "EQUAL"),
    (5, re.compile(r"[ \t]*=[ \t]*\n"), "EQUAL_EMPTY"),
    (6, re.compile(r"[ \t\n]*,[ \t\n]*"), "COMMA"),
    (7, re.compile(r"[ \t\n]*\][ \t\n]*"), "CBRACKET"),
]
_VALUE_RULES = [
    (8, re.compile(r"[ \t]*\[[ \t\n]*"), "OBRACKET"),
    (9, re.compile(r'"(?:[^"]|\\")+"', re.DOTALL), "QUOTED"),
    (10, re.compile(r"[^=#\[\] \t\n,]+"), "STRING"),
]


def _longest(rule: re.Pattern[str], text: str, pos: int) -> int:
    for end in range(len(text), pos, -1):
        if rule.fullmatch(text, pos, end):
            return end - pos
    return 0


def flex_tokens(text: str) -> list[tuple[str, str, int, int]]:
    """The significant tokens of ``text`` and a final ``$end`` (kind, value, start, end)."""
    tokens = []
    pos = 0
    value_state = False
    item = 0
    while pos < len(text):
        rules = _VALUE_RULES if value_state else _INITIAL_RULES
        best_len, best_kind = 0, "other"
        for _number, rule, kind in rules:  # listed in rule order: ties keep the first
            length = _longest(rule, text, pos)
            if length > best_len:
                best_len, best_kind = length, kind
        if best_len == 0:  # rule 11: one character, skipped, state unchanged
            best_len, best_kind = 1, "other"
        end = pos + best_len
        item = pos
        if best_kind == "QUOTED":
            tokens.append(("STRING", text[pos + 1 : end - 1], pos, end))
            value_state = False
        elif best_kind in ("STRING", "OBRACKET"):
            tokens.append((best_kind, text[pos:end], pos, end))
            value_state = False
        elif best_kind == "EQUAL":
            tokens.append((best_kind, text[pos:end], pos, end))
            value_state = True
        elif best_kind not in (None, "other"):
            tokens.append((best_kind, text[pos:end], pos, end))
        pos = end
    tokens.append(("$end", "", item, len(text)))
    return tokens


class _TokenListLexer(Lexer):
    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, data):  # type: ignore[override]
        yield from data


@cache
def lark_parser() -> Lark:
    grammar = Path(one_core.template.__file__).with_name("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", lexer=_TokenListLexer)


def lark_run(tokens: list[tuple[str, str, int, int]]):
    """Feed ``tokens`` to lark.

    Returns ``("ok", attributes)`` or ``("error", unexpected_kind, expected_set)``.
    """
    ip = lark_parser().parse_interactive([])
    for kind, value, _start, _end in tokens:
        accepts = ip.accepts()
        name = "$END" if kind == "$end" else kind
        if name not in accepts:
            return ("error", kind, {"$end" if a == "$END" else a for a in accepts})
        if kind == "$end":
            tree = ip.feed_eof()
            break
        ip.feed_token(Token(kind, value))
    attributes = []
    for attr in tree.children:
        name = attr.children[0].value.upper()
        if attr.data == "single":
            attributes.append((name, attr.children[2].value.replace('\\"', '"')))
        elif attr.data == "empty":
            attributes.append((name, ""))
        else:
            vector: dict[str, str] = {}
            for pair in attr.children[3].children:
                if isinstance(pair, Token):
                    continue
                key = pair.children[0].value.upper()
                vector.setdefault(key, pair.children[2].value.replace('\\"', '"'))
            attributes.append((name, vector))
    return ("ok", attributes)
