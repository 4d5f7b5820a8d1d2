"""The shared REQUIREMENTS/RANK lexer (1.4's src/host/host_parser.l, §2.1).

Longest match, earlier rule on ties:

* one of ``! & | = > < ( ) * + / ^ -`` → that character;
* ``[A-Za-z][0-9A-Za-z_]*`` → STRING (an identifier);
* ``""`` → STRING with a NULL value (1.4 crashes on it; we use ``""``);
* ``"[^"]*"`` → STRING without the quotes (no escapes, may span lines);
* ``-?[0-9]+`` → INTEGER (``cnum.atoi``); ``-?[0-9]+\\.[0-9]+`` → FLOAT (``cnum.atof``, 32-bit);
* blanks/TABs are ignored; any other character (newline, ``.``, ``,`` ...) is skipped.

Every item, skipped ones included, advances the cumulative column counter
used in error messages; the line is flex's ``yylineno`` at the end of the item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lark import Token

from one_core.api import cnum

OPERATORS = {
    "!": "BANG",
    "&": "AMP",
    "|": "BAR",
    "=": "EQ",
    ">": "GT",
    "<": "LT",
    "(": "LPAR",
    ")": "RPAR",
    "*": "STAR",
    "+": "PLUS",
    "/": "SLASH",
    "^": "CARET",
    "-": "MINUS",
}
"""Operator character → terminal name in the Lark grammars."""

_ITEM = re.compile(
    r"(?P<FLOAT>-?[0-9]+\.[0-9]+)"
    r"|(?P<INTEGER>-?[0-9]+)"
    r"|(?P<QSTRING>\"[^\"]*\")"
    r"|(?P<NAME>[A-Za-z][0-9A-Za-z_]*)"
    r"|(?P<BLANK>[ \t]+)"
    r"|(?P<OP>[!&|=><()*+/^\-])"
    r"|(?P<OTHER>[\s\S])"
)


@dataclass(frozen=True, slots=True)
class Lexed:
    """The token stream of one expression.

    ``tokens`` are Lark tokens whose ``value`` is the converted literal
    (``int`` for INTEGER, 32-bit ``float`` for FLOAT, ``str`` for STRING);
    each carries ``start_pos``/``end_pos`` (cumulative columns) and ``line``.
    ``end_line``/``end_col`` locate the last lexed item, where ``$end`` is
    reported.
    """

    tokens: tuple[Token, ...]
    end_line: int
    end_start: int
    end_col: int


def _byte_offsets(text: str) -> list[int] | None:
    """Character index → UTF-8 byte offset (flex counts bytes), or None for ASCII."""
    if text.isascii():
        return None
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + len(ch.encode("utf-8", "surrogatepass")))
    return offsets


def lex(text: str) -> Lexed:
    """Split ``text`` into tokens, following flex's longest-match rules.

    Columns are byte offsets into the UTF-8 text, as flex counted them.
    """
    tokens: list[Token] = []
    offsets = _byte_offsets(text)
    line = 1
    last_start = 0
    last_end = 0
    last_line = 1
    for m in _ITEM.finditer(text):
        kind = m.lastgroup
        raw = m.group()
        start, end = m.start(), m.end()
        if offsets is not None:
            start, end = offsets[start], offsets[end]
        line += raw.count("\n")
        last_start, last_end, last_line = start, end, line
        if kind in ("BLANK", "OTHER"):
            continue
        if kind == "FLOAT":
            tok = Token("FLOAT", cnum.f32(cnum.atof(raw)))
        elif kind == "INTEGER":
            tok = Token("INTEGER", cnum.atoi(raw))
        elif kind == "QSTRING":
            tok = Token("STRING", raw[1:-1])
        elif kind == "NAME":
            tok = Token("STRING", raw)
        else:
            tok = Token(OPERATORS[raw], raw)
        tok.start_pos = start
        tok.end_pos = end
        tok.line = line
        tok.end_line = line
        tok.column = start
        tok.end_column = end
        tokens.append(tok)
    return Lexed(tuple(tokens), last_line, last_start, last_end)
