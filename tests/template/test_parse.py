"""Lexing and normalisation rules of spec §1.2-§1.4, one behaviour per case."""

from __future__ import annotations

import pytest

from one_core.template import Template

CASES = [
    # (input, attributes)
    ("A = 1\n", [("A", "1")]),
    ("a = MixedCase\n", [("A", "MixedCase")]),  # names upper-cased, values verbatim
    ('A = "  spaced  out "\n', [("A", "  spaced  out ")]),
    ("A =\n", [("A", "")]),  # EQUAL_EMPTY
    ("A =   \t\n", [("A", "")]),
    ('A = ""\n', [("A", '""')]),  # [QUIRK] "" is the two-character value
    ('A = "abc"def\n', [("A", '"abc"def')]),  # rule 10 is longer
    ('A = "xyz\n', [("A", '"xyz')]),  # unterminated quote
    ('A = "a\\"b"\n', [("A", 'a"b')]),  # \" unescaped
    ('A = a\\"b\n', [("A", 'a"b')]),  # \" unescaped in bare values too
    ('A = "C:\\dir\\n"\n', [("A", "C:\\dir\\n")]),  # other backslashes kept
    ('A = "line1\nline2"\n', [("A", "line1\nline2")]),  # quoted strings span lines
    ("A = 1 # trailing comment\n", [("A", "1")]),
    ("# c\n  # indented comment\nA = 1\n", [("A", "1")]),
    ("A\n= b\n", [("A", "b")]),  # newline between name and '='
    ("A=1 B=2\n", [("A", "1"), ("B", "2")]),  # no newline needed between attributes
    ("A = b c = d\n", [("A", "b"), ("C", "d")]),
    ("1 = 2\n", [("1", "2")]),  # names may start with a digit
    ("A = = b\n", [("A", "b")]),  # '=' and blank in VALUE are skipped (rule 11)
    ("A = 1\r\n", [("A", "1\r")]),  # [QUIRK] CR kept in an unquoted value
    ('B = "x"\r\n', [("B", '"x"\r')]),  # [QUIRK] ... and then quotes are kept too
    ("\r\nA = 1\n", [("A", "1")]),  # CR skipped in INITIAL
    ("A = [ x = 1 ]\r\n", [("A", {"X": "1"})]),
    ("A = [ x = 1, x = 3 ]\n", [("A", {"X": "1"})]),  # first sub-attribute wins
    ("A = [\n  x = 1\n  ,\n  y = 2\n  ]\n", [("A", {"X": "1", "Y": "2"})]),
    ('A = [ k = "a\\"b" ]\n', [("A", {"K": 'a"b'})]),  # unescape inside vectors
    ("A = [k=v]", [("A", {"K": "v"})]),  # no trailing newline needed after a vector
    ("A = 1\nA = 2\n", [("A", "1"), ("A", "2")]),  # duplicates kept (default mode)
    ("A = x...\n", [("A", "x...")]),
    ("A = 1 ... B = 2\n", [("A", "1"), ("B", "2")]),  # '.' skipped in INITIAL
    ("A = é\n", [("A", "é")]),
    ('NIC = [ NETWORK = "Private LAN" ]\n', [("NIC", {"NETWORK": "Private LAN"})]),
]


@pytest.mark.parametrize(("text", "attributes"), CASES)
def test_parse(text: str, attributes: list) -> None:
    assert Template.parse(text).attributes == attributes


def test_replace_mode_keeps_last_value_in_place() -> None:
    t = Template.parse("A = 1\nB = 2\nA = 3\n", replace_mode=True)
    assert t.attributes == [("A", "3"), ("B", "2")]


def test_monitoring_string() -> None:
    t = Template.parse_monitoring("HYPERVISOR=kvm,TOTALCPU=800,FREECPU=750,TOTALCPU=400")
    assert t.attributes == [("HYPERVISOR", "kvm"), ("TOTALCPU", "400"), ("FREECPU", "750")]
    assert t.replace_mode


def test_monitoring_commas_inside_quotes_become_newlines() -> None:
    # 1.4 converts every comma, even inside a quoted model name
    t = Template.parse_monitoring('MODELNAME="Intel, Xeon",CPUSPEED=2000')
    assert t.get("MODELNAME") == "Intel\n Xeon"
    assert t.get_int("CPUSPEED") == 2000


def test_monitoring_into_existing_host_template_overwrites() -> None:
    host = Template(replace_mode=True)
    host.merge(Template.parse_monitoring("FREECPU=800,USEDCPU=0,EXTRA=1"))
    host.merge(Template.parse_monitoring("FREECPU=700,USEDCPU=100"))
    # values overwritten; an attribute missing from later output is never removed
    assert host.attributes == [("FREECPU", "700"), ("USEDCPU", "100"), ("EXTRA", "1")]


def test_vm_template_gets_newline_appended_so_last_comment_works() -> None:
    # VM allocate appends "\n": a final comment then ends with a newline
    assert Template.parse("A = 1\n# last" + "\n").attributes == [("A", "1")]


def test_parse_file(tmp_path) -> None:
    path = tmp_path / "t.template"
    path.write_text("CPU = 1\nMEMORY = 128\n")
    assert Template.parse_file(path).attributes == [("CPU", "1"), ("MEMORY", "128")]
    assert Template.parse_file(str(path), replace_mode=True).replace_mode
