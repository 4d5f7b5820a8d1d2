"""The hand-written parser against lark's LALR parser on the same grammar.

Same token streams in; both must accept the same inputs with the same attributes, and
fail on the same token expecting the same tokens (Bison's verbose list).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from one_core.template import Template, TemplateSyntaxError
from one_core.template.lexer import tokenize

from .oracle import lark_run

pieces = st.sampled_from(
    ["A", "nic", "x", " ", "\n", "=", " = ", '"q q"', "[", " ]", ",", "v", "1", "\t", "# c\n", "-"]
)
template_like = st.lists(pieces, max_size=16).map("".join)


def _check(text: str) -> None:
    expected = lark_run(list(tokenize(text)))
    try:
        template = Template.parse(text)
    except TemplateSyntaxError as exc:
        assert expected[0] == "error", text
        assert exc.unexpected == expected[1]
        assert set(exc.expected) == expected[2]
    else:
        assert expected == ("ok", template.attributes)


@settings(max_examples=200, deadline=None)
@given(template_like)
def test_same_as_lark(text: str) -> None:
    _check(text)


def test_same_as_lark_on_examples() -> None:
    for text in [
        "A = 1\n",
        "A = [ x = 1, y = 2 ]\n",
        "A = [ x = 1, x = 3 ]\n",
        "A =\nB = [ k = v ]",
        "A = [ ]\n",
        "A = [ x = 1 y = 2 ]",
        "",
    ]:
        _check(text)
