"""The Template API (contract in one_core/template/__init__.py)."""

from __future__ import annotations

import pytest

from one_core.cnum import stream_double as stream_float
from one_core.cnum import stream_int
from one_core.template import Template


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("395", 395),
        ("395.5", 395),
        ("12abc", 12),
        ("  42", 42),
        ("\n\t 7 ", 7),
        ("+5", 5),
        ("-3", -3),
        ("007", 7),
        ("", 0),
        ("abc", 0),
        ("+", 0),
        ("- 3", 0),
        ("0x10", 0),
        ("99999999999", 2**31 - 1),
        ("-99999999999", -(2**31)),
    ],
)
def test_stream_int(value: str, expected: int) -> None:
    assert stream_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.5", 0.5),
        ("1", 1.0),
        (".25x", 0.25),
        ("2.", 2.0),
        ("1e3", 1000.0),
        ("1.5e-1abc", 0.15),
        ("-0.5", -0.5),
        ("1.5.3", 1.5),
        ("1e", 0.0),
        ("2E+x", 0.0),
        ("abc", 0.0),
        ("", 0.0),
        ("inf", 0.0),
    ],
)
def test_stream_float(value: str, expected: float) -> None:
    assert stream_float(value) == pytest.approx(expected)


def test_get_is_case_insensitive_and_first_wins() -> None:
    t = Template.parse("CPU = 1\ncpu = 2\n")
    assert t.get("cpu") == "1"
    assert t.get("Cpu") == "1"
    assert t.get("MISSING") == ""
    assert t.get("MISSING", "d") == "d"


def test_get_of_a_vector_is_default_even_if_a_single_follows() -> None:
    t = Template.parse("A = [ x = 1 ]\nA = 2\n")
    assert t.get("A") == ""
    assert t.get_int("A") == 0
    assert t.values("A") == [{"X": "1"}, "2"]


def test_get_int_and_float() -> None:
    t = Template.parse("MEMORY = 128\nCPU = 0.5\nBAD = x\nE =\n")
    assert t.get_int("MEMORY") == 128
    assert t.get_float("CPU") == 0.5
    assert t.get_int("CPU") == 0
    assert t.get_int("BAD") == 0
    assert t.get_int("E") == 0
    assert t.get_int("NOPE") == 0
    assert t.get_float("NOPE") == 0.0


def test_vectors() -> None:
    t = Template.parse("DISK = [ a = 1 ]\nDISK = 2\nDISK = [ b = 3 ]\n")
    assert t.vector("disk") == {"A": "1"}
    assert t.vectors("DISK") == [{"A": "1"}, {"B": "3"}]
    assert t.vector("NIC") is None
    assert t.vectors("NIC") == []


def test_contains_names_len_iter() -> None:
    t = Template.parse("B = 1\nA = 2\nB = 3\n")
    assert "b" in t and "A" in t and "C" not in t and 3 not in t
    assert t.names() == ["B", "A"]
    assert len(t) == 3
    assert list(t) == [("B", "1"), ("A", "2"), ("B", "3")]


def test_add_upper_cases_and_copies() -> None:
    t = Template()
    vec = {"ip": "1.2.3.4"}
    t.add("nic", vec)
    vec["ip"] = "changed"
    t.add("nic", "x")
    assert t.attributes == [("NIC", {"IP": "1.2.3.4"}), ("NIC", "x")]


def test_add_in_replace_mode_replaces() -> None:
    t = Template(replace_mode=True)
    t.add("a", "1")
    t.add("b", "2")
    t.add("A", "3")
    assert t.attributes == [("A", "3"), ("B", "2")]


def test_set_replaces_all_in_place() -> None:
    t = Template.parse("A = 1\nB = 2\nA = 3\nC = 4\n")
    t.set("a", "9")
    assert t.attributes == [("A", "9"), ("B", "2"), ("C", "4")]
    t.set("D", {"k": "v"})
    assert t.attributes[-1] == ("D", {"K": "v"})


def test_remove() -> None:
    t = Template.parse("CONTEXT = [ a = 1 ]\nX = 1\ncontext = 2\n")
    assert t.remove("Context") == [{"A": "1"}, "2"]
    assert t.attributes == [("X", "1")]
    assert t.remove("CONTEXT") == []


def test_merge() -> None:
    t = Template.parse("A = 1\n")
    t.merge(Template.parse("A = 2\nB = 3\n"))
    assert t.attributes == [("A", "1"), ("A", "2"), ("B", "3")]


def test_single_values() -> None:
    t = Template.parse("A = [ x = 1 ]\nA = 2\nB = 3\nB = 4\nC =\n")
    assert t.single_values() == {"A": "2", "B": "3", "C": ""}


def test_equality_is_ordered_and_copy_is_deep() -> None:
    a = Template.parse("A = 1\nB = [ x = 1, y = 2 ]\n")
    b = Template.parse("A = 1\nB = [ y = 2, x = 1 ]\n")
    assert a == b  # sub-attribute order is not significant
    assert a != Template.parse("B = [ x = 1, y = 2 ]\nA = 1\n")
    c = a.copy()
    assert c == a
    c.vector("B")["X"] = "changed"  # type: ignore[index]
    assert a.vector("B") == {"X": "1", "Y": "2"}
    assert a != "A = 1"


def test_constructor_and_repr() -> None:
    t = Template([("a", "1"), ("v", {"k": "x"})])
    assert t.attributes == [("A", "1"), ("V", {"K": "x"})]
    assert "Template(" in repr(t)
