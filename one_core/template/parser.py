"""The template parser: 1.4's Bison grammar (src/template/template_syntax.y) as a state machine.

Grammar (spec §1.3)::

    template  : attribute | template attribute ;
    attribute : VARIABLE EQUAL STRING
              | VARIABLE EQUAL OBRACKET array_val CBRACKET
              | VARIABLE EQUAL_EMPTY ;
    array_val : VARIABLE EQUAL STRING | array_val COMMA VARIABLE EQUAL STRING ;

The LALR automaton of this grammar has exactly one "expecting" context per state
below (Bison's default reductions are folded in), so the error messages are those
of Bison 2.3 with ``YYERROR_VERBOSE``.  ``one_core/template/grammar.lark`` is the
same grammar for lark; the tests drive lark's LALR parser with our tokens to check
that this machine accepts the same token streams and expects the same tokens.

Between attributes a single regex (``lexer.FAST_SINGLE``) takes a whole
``NAME = value`` at once when that is unambiguous; everything else goes token by
token through :func:`one_core.template.lexer.scan`.  The parser keeps no global
state, so unlike 1.4 (one global mutex) any number of threads may parse at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.template.errors import TemplateSyntaxError
from one_core.template.lexer import (
    CBRACKET,
    COMMA,
    END,
    EQUAL,
    EQUAL_EMPTY,
    FAST_SINGLE,
    OBRACKET,
    STRING,
    VARIABLE,
    scan,
)

if TYPE_CHECKING:
    from one_core.template.model import Template

# Parser states and what each one accepts (in Bison token order).
_START, _NAME, _EQUAL, _VEC, _SUBNAME, _SUBEQUAL, _SUBVALUE, _DONE = range(8)
EXPECTED: dict[int, tuple[str, ...]] = {
    _START: (VARIABLE,),
    _NAME: (EQUAL, EQUAL_EMPTY),
    _EQUAL: (OBRACKET, STRING),
    _VEC: (VARIABLE,),
    _SUBNAME: (EQUAL,),
    _SUBEQUAL: (STRING,),
    _SUBVALUE: (COMMA, CBRACKET),
    _DONE: (END, VARIABLE),
}


def unescape(value: str) -> str:
    """1.4's ``unescape``: every ``\\"`` becomes ``"``, left to right; nothing else."""
    return value.replace('\\"', '"') if '\\"' in value else value


def _byte_offset(text: str, index: int) -> int:
    """flex counts bytes: the UTF-8 length of ``text[:index]``."""
    if text.isascii():
        return index
    return len(text[:index].encode("utf-8", "surrogateescape"))


def syntax_error(
    text: str, kind: str, start: int, end: int, state: int, template: Template | None
) -> TemplateSyntaxError:
    """Build 1.4's message for an unexpected token ``kind`` at ``text[start:end]``."""
    expected = EXPECTED[state]
    message = f"syntax error, unexpected {kind}"
    if 0 < len(expected) <= 4:
        message += ", expecting " + " or ".join(expected)
    line = 1 + text.count("\n", 0, end)
    c1 = _byte_offset(text, start)
    c2 = _byte_offset(text, end)
    return TemplateSyntaxError(
        f"{message} at line {line}, columns {c1}:{c2}",
        line=line,
        first_column=c1,
        last_column=c2,
        unexpected=kind,
        expected=expected,
        template=template,
    )


def parse_into(template: Template, text: str, lines: list[int] | None = None) -> None:
    """Parse ``text`` and add its attributes to ``template`` (in its own mode).

    Raises :class:`TemplateSyntaxError`; attributes parsed before the error stay in
    ``template`` (1.4 is not transactional) and the error carries it too.  When
    ``lines`` is given, the 1-based line of each top-level attribute name is appended
    to it (used by the oned.conf loader to point at bad settings).
    """
    add = template._add_parsed
    fast = FAST_SINGLE.match
    state = _START
    name = ""
    key = ""
    vector: dict[str, str] = {}
    pos = 0
    item = 0
    in_value = False
    while True:
        if state in (_DONE, _START):
            m = fast(text, pos)
            if m is not None:
                bare = m.group(2)
                if bare is not None:
                    add(m.group(1), unescape(bare))
                    item = m.start(2)
                else:
                    add(m.group(1), unescape(m.group(3)))
                    item = m.start(3) - 1
                if lines is not None:
                    lines.append(1 + text.count("\n", 0, m.start(1)))
                pos = m.end()
                state = _DONE
                continue
        kind, value, start, end, in_value, item = scan(text, pos, in_value, item)
        pos = end
        if state in (_DONE, _START):
            if kind == VARIABLE:
                name = value
                state = _NAME
                if lines is not None:
                    lines.append(1 + text.count("\n", 0, start))
                continue
            if kind == END and state == _DONE:
                return
        elif state == _NAME:
            if kind == EQUAL:
                state = _EQUAL
                continue
            if kind == EQUAL_EMPTY:
                add(name, "")
                state = _DONE
                continue
        elif state == _EQUAL:
            if kind == STRING:
                add(name, unescape(value))
                state = _DONE
                continue
            if kind == OBRACKET:
                vector = {}
                state = _VEC
                continue
        elif state == _VEC:
            if kind == VARIABLE:
                key = value.upper()
                state = _SUBNAME
                continue
        elif state == _SUBNAME:
            if kind == EQUAL:
                state = _SUBEQUAL
                continue
        elif state == _SUBEQUAL:
            if kind == STRING:
                if key not in vector:  # map::insert: the first one wins
                    vector[key] = unescape(value)
                state = _SUBVALUE
                continue
        elif state == _SUBVALUE:
            if kind == COMMA:
                state = _VEC
                continue
            if kind == CBRACKET:
                add(name, vector)
                state = _DONE
                continue
        raise syntax_error(text, kind, start, end, state, template)
