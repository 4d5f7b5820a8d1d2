"""Lark grammars of REQUIREMENTS and RANK, and 1.4's bison error messages.

REQUIREMENTS (src/host/host_requirements.y, §2.2): ``!``, ``&`` and ``|``
share one precedence level and associate to the left, so ``!`` binds only to
the comparison or parenthesised expression right after it and
``a | b & c`` is ``(a | b) & c``. Written without precedence declarations::

    expr  := expr "&" unary | expr "|" unary | unary
    unary := "!" unary | comparison | "(" expr ")"

RANK (src/host/host_rank.y, §2.3): ``* /`` bind tighter than ``+ -``, all
left-associative, and unary ``-`` has the precedence of binary ``-``: its
operand is the whole product chain that follows (``- a * b`` is
``-(a * b)``, ``a * - b * c`` is ``a * -(b * c)``, ``- a + b`` is
``(-a) + b``). Written as::

    sum   := sum "+" uterm | sum "-" uterm | uterm
    uterm := term | "-" uterm | term "*" "-" uterm | term "/" "-" uterm
    term  := term "*" atom | term "/" atom | atom

Both parse a token stream from :mod:`.lexer`. A syntax error is turned into
the message bison 2.3 printed (with its default reductions, see
:func:`bison_message`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedToken
from lark.lexer import Lexer

from one_sched_rank.lexer import Lexed

_DECLARE = (
    "%declare BANG AMP BAR EQ GT LT LPAR RPAR STAR PLUS SLASH CARET MINUS INTEGER FLOAT STRING"
)

REQUIREMENTS_GRAMMAR = (
    r"""
start: expr?
?expr: expr AMP unary -> and_
     | expr BAR unary -> or_
     | unary
?unary: BANG unary -> not_
      | comparison
      | LPAR expr RPAR -> paren
?comparison: STRING EQ value -> eq
           | STRING BANG EQ value -> ne
           | STRING GT number -> gt
           | STRING LT number -> lt
?value: INTEGER | FLOAT | STRING
?number: INTEGER | FLOAT
"""
    + _DECLARE
)

RANK_GRAMMAR = (
    r"""
start: sum?
?sum: sum PLUS uterm -> add
    | sum MINUS uterm -> sub
    | uterm
?uterm: term
      | MINUS uterm -> neg
      | term STAR MINUS uterm -> mul_neg
      | term SLASH MINUS uterm -> div_neg
?term: term STAR atom -> mul
     | term SLASH atom -> div
     | atom
?atom: STRING -> var
     | INTEGER -> int_
     | FLOAT -> float_
     | LPAR sum RPAR -> paren
"""
    + _DECLARE
)


class _TokenFeed(Lexer):
    """A Lark "lexer" that passes through the tokens of :func:`.lexer.lex`."""

    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, data):  # type: ignore[override]  # Lark calls it with our token list
        return iter(data)


_REQ_PARSER = Lark(REQUIREMENTS_GRAMMAR, parser="lalr", lexer=_TokenFeed)
_RANK_PARSER = Lark(RANK_GRAMMAR, parser="lalr", lexer=_TokenFeed)

REQ_NAMES = {
    "$END": "$end",
    "BANG": "'!'",
    "AMP": "'&'",
    "BAR": "'|'",
    "INTEGER": "INTEGER",
    "STRING": "STRING",
    "FLOAT": "FLOAT",
    "EQ": "'='",
    "GT": "'>'",
    "LT": "'<'",
    "LPAR": "'('",
    "RPAR": "')'",
}
"""REQUIREMENTS token display names (host_requirements.cc ``yytname``);
any other token is ``$undefined``."""

RANK_NAMES = {
    "$END": "$end",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "INTEGER": "INTEGER",
    "STRING": "STRING",
    "FLOAT": "FLOAT",
    "LPAR": "'('",
    "RPAR": "')'",
}
"""RANK token display names (host_rank.cc); any other token is ``$undefined``."""


@dataclass(frozen=True, slots=True)
class SyntaxFailure:
    """A syntax error: the message 1.4 logged, and for RANK the token prefix
    whose value 1.4 had already stored when the error hit (or None)."""

    message: str
    prefix: tuple[Token, ...] | None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Either a tree (``tree`` set, ``error`` None) or a failure."""

    tree: Tree | None
    error: SyntaxFailure | None

    def parsed(self) -> Tree:
        """The tree of a successful parse; ValueError when the parse failed."""
        if self.tree is None:
            raise ValueError(f"no parse tree: {self.error}")
        return self.tree


def _location(lexed: Lexed, token: Token) -> str:
    if token.type == "$END":
        return f"at line {lexed.end_line}, columns {lexed.end_start}:{lexed.end_col}"
    return f"at line {token.line}, columns {token.start_pos}:{token.end_pos}"


def _offending_index(lexed: Lexed, token: Token) -> int:
    if token.type == "$END":
        return len(lexed.tokens)
    for i, t in enumerate(lexed.tokens):
        if t is token or t.start_pos == token.start_pos:
            return i
    return len(lexed.tokens)  # pragma: no cover - the token always comes from lexed


def _depth(tokens: tuple[Token, ...]) -> int:
    depth = 0
    for t in tokens:
        if t.type == "LPAR":
            depth += 1
        elif t.type == "RPAR":
            depth -= 1
    return depth


def bison_message(kind: str, lexed: Lexed, err: UnexpectedToken) -> SyntaxFailure:
    """The message bison 2.3 produced for this error, and the RANK prefix.

    Bison performs default reductions before detecting an error, so after a
    complete expression at top level it reduces to ``stmt`` (storing the
    RANK value) and then only ``$end`` is expected; at the first token it
    reduces the empty ``stmt`` the same way. The other contexts (§2.5) are
    recognised from the Lark state's expected terminals.
    """
    token = err.token
    expected = set(err.expected)
    index = _offending_index(lexed, token)
    before = lexed.tokens[:index]
    depth = _depth(before)
    names = REQ_NAMES if kind == "requirements" else RANK_NAMES
    unexpected = names.get(token.type, "$undefined")
    prefix: tuple[Token, ...] | None = None
    if kind == "requirements":
        if not before:
            expecting = "$end"
        elif "AMP" in expected:
            expecting = "$end" if depth == 0 else "'&' or '|' or ')'"
        elif expected == {"BANG", "EQ", "GT", "LT"}:
            expecting = "'!' or '=' or '>' or '<'"
        elif expected == {"EQ"}:
            expecting = "'='"
        elif "STRING" in expected and "INTEGER" in expected:
            expecting = "INTEGER or STRING or FLOAT"
        elif "INTEGER" in expected:
            expecting = "INTEGER or FLOAT"
        else:
            expecting = "'!' or STRING or '('"
    else:
        if not before:
            expecting = "$end"
        elif "PLUS" in expected and depth == 0:
            expecting = "$end"
            prefix = before
        else:
            expecting = ""
    text = f"syntax error, unexpected {unexpected}"
    if expecting:
        text += f", expecting {expecting}"
    return SyntaxFailure(f"{text} {_location(lexed, token)}", prefix)


def parse_tokens(kind: str, lexed: Lexed, tokens: tuple[Token, ...] | None = None) -> ParseResult:
    """Parse ``lexed`` (or just ``tokens``) with the ``kind`` grammar
    (``"requirements"`` or ``"rank"``)."""
    parser = _REQ_PARSER if kind == "requirements" else _RANK_PARSER
    try:
        tree = parser.parse(list(lexed.tokens if tokens is None else tokens))
    except UnexpectedToken as err:
        return ParseResult(None, bison_message(kind, lexed, err))
    return ParseResult(tree, None)
