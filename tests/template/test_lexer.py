"""The lexer against a literal reading of the flex rules (spec §1.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from one_core.template.lexer import tokenize

from .oracle import flex_tokens

# Characters that matter to some rule, plus a few that fall to rule 11.
ALPHABET = 'Ab1_ \t\n="\\#,[]\r-.é'
texts = st.text(alphabet=ALPHABET, max_size=24)
# Template-looking text: more names, '=' and quotes.
pieces = st.sampled_from(
    ["A", "nic", " ", "\n", "=", " = ", '"', '\\"', "[", "]", ",", "#", "x y", "\r", "\t", '""']
)
template_like = st.lists(pieces, max_size=14).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(texts, template_like))
def test_tokens_match_flex_longest_match(text: str) -> None:
    assert list(tokenize(text)) == flex_tokens(text)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("A = b\n", ["VARIABLE", "EQUAL", "STRING", "$end"]),
        ("A =\n", ["VARIABLE", "EQUAL_EMPTY", "$end"]),
        (
            "A = [ x = 1 ]",
            ["VARIABLE", "EQUAL", "OBRACKET", "VARIABLE", "EQUAL", "STRING", "CBRACKET", "$end"],
        ),
        ("  # c\n", ["$end"]),
        ("A\n= b", ["VARIABLE", "EQUAL", "STRING", "$end"]),
    ],
)
def test_token_kinds(text: str, kinds: list[str]) -> None:
    assert [t[0] for t in tokenize(text)] == kinds


def test_quoted_longest_match_extends_over_escaped_quotes() -> None:
    # rule 9 takes the LAST reachable closing quote
    assert list(tokenize('A = "a\\"b"\n'))[2] == ("STRING", 'a\\"b', 4, 10)
    # a quote preceded by a backslash can close the string too
    assert list(tokenize('A = "a\\"\n'))[2] == ("STRING", "a\\", 4, 8)


def test_rule10_wins_when_longer() -> None:
    assert list(tokenize('A = "abc"def\n'))[2] == ("STRING", '"abc"def', 4, 12)
    assert list(tokenize('A = ""\n'))[2] == ("STRING", '""', 4, 6)
