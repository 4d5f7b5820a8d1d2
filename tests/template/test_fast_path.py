"""The parser's whole-attribute fast path gives exactly what token-by-token parsing gives."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

import one_core.template.parser as parser_module
from one_core.template import Template, TemplateSyntaxError

pieces = st.sampled_from(
    [
        "A",
        "b1",
        " ",
        "\t",
        "\n",
        "=",
        " = ",
        '"',
        '\\"',
        "\\",
        "x y",
        "#",
        " # c\n",
        ",",
        "[",
        "]",
        "\r",
        '""',
        "é",
        "-",
    ]
)
texts = st.lists(pieces, max_size=16).map("".join)


def _outcome(text: str) -> tuple:
    try:
        return ("ok", Template.parse(text).attributes)
    except TemplateSyntaxError as exc:
        return ("error", str(exc), exc.template.attributes if exc.template else None)


def _slow_outcome(text: str) -> tuple:
    saved = parser_module.FAST_SINGLE
    parser_module.FAST_SINGLE = re.compile(r"(?!)")  # never matches: token by token
    try:
        return _outcome(text)
    finally:
        parser_module.FAST_SINGLE = saved


@settings(max_examples=300, deadline=None)
@given(texts)
def test_fast_path_is_transparent(text: str) -> None:
    assert _outcome(text) == _slow_outcome(text)


def test_fast_path_cases() -> None:
    for text in [
        'A = "a\\" x"y\n',  # longest quoted match is followed by 'y': rule 9 still wins
        'A = "abc"def\n',  # rule 10 longer
        'A = "a b"c d\n',
        'A = "x\nB = "y"\n',
        'A = "a\\"\n',
        "A = x\nB = [ k = v ]\nC = 1",
        "A = 1\n# c",
        "",
        'A = ""\n',
        "A = é\r\n",
    ]:
        assert _outcome(text) == _slow_outcome(text), text
