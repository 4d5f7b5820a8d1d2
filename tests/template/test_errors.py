"""Parse error messages: spec §1.6 (every example and every context), exactly as 1.4."""

from __future__ import annotations

import pytest

from one_core.template import Template, TemplateSyntaxError

# (input, message) -- the spec's table of observed examples, verbatim.
SPEC_EXAMPLES = [
    (
        "# only comment\n",
        "syntax error, unexpected $end, expecting VARIABLE at line 2, columns 0:15",
    ),
    ("A = ", "syntax error, unexpected $end, expecting OBRACKET or STRING at line 1, columns 1:4"),
    ("A = [ ]\n", "syntax error, unexpected CBRACKET, expecting VARIABLE at line 2, columns 6:8"),
    ("A = [ x ]\n", "syntax error, unexpected CBRACKET, expecting EQUAL at line 2, columns 7:10"),
    (
        "A = [x=1,]\n",
        "syntax error, unexpected CBRACKET, expecting VARIABLE at line 2, columns 9:11",
    ),
    (
        "A = x,y\n",
        "syntax error, unexpected COMMA, expecting $end or VARIABLE at line 1, columns 5:6",
    ),
    (
        "A = [ x =\n1 ]\n",
        "syntax error, unexpected EQUAL_EMPTY, expecting EQUAL at line 2, columns 7:10",
    ),
    (
        "A = [ x = 1 y = 2 ]",
        "syntax error, unexpected VARIABLE, expecting COMMA or CBRACKET at line 1, columns 12:13",
    ),
    (
        "NIC-1 = 2\n",
        "syntax error, unexpected VARIABLE, expecting EQUAL or EQUAL_EMPTY at line 1, columns 4:5",
    ),
]

# One input per row of the spec's context table (plus extra cases), with the
# location worked out by hand from the lexer rules.
CONTEXTS = [
    # start of input, empty input: Bison's initial location
    ("", "syntax error, unexpected $end, expecting VARIABLE at line 1, columns 0:0"),
    ("  \n\t\n", "syntax error, unexpected $end, expecting VARIABLE at line 3, columns 0:5"),
    ("= x\n", "syntax error, unexpected EQUAL, expecting VARIABLE at line 1, columns 0:2"),
    # after a top-level name
    (
        "A B\n",
        "syntax error, unexpected VARIABLE, expecting EQUAL or EQUAL_EMPTY at line 1, columns 2:3",
    ),
    ("A\n", "syntax error, unexpected $end, expecting EQUAL or EQUAL_EMPTY at line 2, columns 1:2"),
    # after NAME = (the ']' and newline are skipped by rule 11 in VALUE)
    (
        "A = ]\n",
        "syntax error, unexpected $end, expecting OBRACKET or STRING at line 2, columns 5:6",
    ),
    # after a complete attribute
    (
        "A = 1 ]\n",
        "syntax error, unexpected CBRACKET, expecting $end or VARIABLE at line 2, columns 5:8",
    ),
    (
        "A = [ x = 1 ] = 3\n",
        "syntax error, unexpected EQUAL, expecting $end or VARIABLE at line 1, columns 14:16",
    ),
    # after '[' / after ',' in a vector
    ("A = [ , ]\n", "syntax error, unexpected COMMA, expecting VARIABLE at line 1, columns 6:8"),
    # after a sub-attribute name
    (
        "A = [ x , y = 1 ]\n",
        "syntax error, unexpected COMMA, expecting EQUAL at line 1, columns 7:10",
    ),
    # after a sub-attribute '='
    ("A = [ x = ]\n", "syntax error, unexpected $end, expecting STRING at line 2, columns 11:12"),
    (
        "A = [ x = [ y ]\n",
        "syntax error, unexpected OBRACKET, expecting STRING at line 1, columns 10:12",
    ),
    # after a sub-attribute value
    (
        "A = [ x = 1\n\n",
        "syntax error, unexpected $end, expecting COMMA or CBRACKET at line 3, columns 11:13",
    ),
    # a comment on the last line without a newline is not a comment
    (
        "A = 1\n# c",
        "syntax error, unexpected $end, expecting EQUAL or EQUAL_EMPTY at line 2, columns 8:9",
    ),
    # '#' in VALUE is skipped: A="c", then 'd' is a name
    (
        "A = #c d",
        "syntax error, unexpected $end, expecting EQUAL or EQUAL_EMPTY at line 1, columns 7:8",
    ),
    # "A =" + newline is EQUAL_EMPTY, so the vector on the next line is an error
    (
        "A =\n[ x = 1 ]\n",
        "syntax error, unexpected CBRACKET, expecting $end or VARIABLE at line 3, columns 11:14",
    ),
    # EQUAL_EMPTY inside a vector
    (
        "A = [ x =\n]\n",
        "syntax error, unexpected EQUAL_EMPTY, expecting EQUAL at line 2, columns 7:10",
    ),
    # names: '.' is skipped (echoed by 1.4) but counts toward the columns
    (
        "A.B = 1\n",
        "syntax error, unexpected VARIABLE, expecting EQUAL or EQUAL_EMPTY at line 1, columns 2:3",
    ),
    # a quoted value may span lines; the line is the one at the END of the token
    (
        'A = "x\ny\nz" ]\n',
        "syntax error, unexpected CBRACKET, expecting $end or VARIABLE at line 4, columns 11:14",
    ),
]


@pytest.mark.parametrize(("text", "message"), SPEC_EXAMPLES + CONTEXTS)
def test_message(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse(text)
    assert str(info.value) == message


def test_error_attributes() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse("A = [ x ]\n")
    err = info.value
    assert (err.line, err.first_column, err.last_column) == (2, 7, 10)
    assert err.unexpected == "CBRACKET"
    assert err.expected == ("EQUAL",)


def test_columns_are_cumulative_byte_offsets() -> None:
    # flex counts bytes: 'é' is two bytes in UTF-8, so the offsets after it move by 2.
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse("A = é b\n")
    assert str(info.value) == (
        "syntax error, unexpected $end, expecting EQUAL or EQUAL_EMPTY at line 2, columns 8:9"
    )


def test_columns_never_reset_at_newlines() -> None:
    text = "A = 1\nB = 2\nC = [ ]\n"
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse(text)
    # '[ ' starts at 16, CBRACKET ']\n' is 18:20
    assert str(info.value).endswith("at line 4, columns 18:20")


def test_parse_is_not_transactional() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse("A = 1\nB = [ x = 2 ]\nC = [ ]\n")
    partial = info.value.template
    assert partial is not None
    assert partial.attributes == [("A", "1"), ("B", {"X": "2"})]


def test_parse_file_missing(tmp_path) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse_file(tmp_path / "nope.conf")
    assert str(info.value) == "Error opening template file"


def test_wire_vm_allocate_parse_error() -> None:
    # the template of wire capture 45 (one.vm.allocate answered 'Error parsing VM template');
    # oned appends "\n" to VM templates.
    with pytest.raises(TemplateSyntaxError) as info:
        Template.parse('NAME = "broken\nCPU = [\n' + "\n")
    assert str(info.value) == (
        "syntax error, unexpected $end, expecting VARIABLE at line 4, columns 21:24"
    )
