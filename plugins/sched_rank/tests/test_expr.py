"""REQUIREMENTS / RANK: spec §2.6 examples, quirks and error messages."""

from __future__ import annotations

import pytest
from one_sched_rank.expr import (
    HostVars,
    compile_rank,
    compile_requirements,
    evaluate_rank,
    evaluate_requirements,
)
from one_sched_rank.lexer import lex

from one_core import cnum

HOST = {
    "ARCH": "x86_64",
    "TOTALCPU": "400",
    "FREECPU": "395.5",
    "FREEMEMORY": "1024",
    "CPUSPEED": "2000",
    "HOSTNAME": "node01.example.com",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ('arch = "x86*"', True),
        ("FREECPU > 395", False),
        ("FREECPU = 395", True),
        ("FREECPU > 395.4", True),
        ('NOPE != "*"', False),
        ("NOPE = 0", True),
        ("NOPE = 0.0", False),
        ("!TOTALCPU > 100", False),
    ],
)
def test_verified_requirements(text: str, expected: bool) -> None:
    assert evaluate_requirements(text, HOST) == (expected, None)


def test_verified_requirements_syntax_error() -> None:
    ok, err = evaluate_requirements('TOTALCPU > 100 && ARCH="x86_64"', HOST)
    assert ok is False
    assert (
        err
        == "syntax error, unexpected '&', expecting '!' or STRING or '(' at line 1, columns 16:17"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FREECPU", 395),
        ("FREEMEMORY / 3", 341),
        ("- FREECPU", -395),
        ("NOPE + 1", 1),
        ('"FREECPU" * 2', 791),
    ],
)
def test_verified_rank(text: str, expected: int) -> None:
    assert evaluate_rank(text, HOST) == (expected, None)


@pytest.mark.parametrize(
    ("host", "text", "expected"),
    [
        ({"A": "1", "B": "0"}, "A = 1 | B = 0 & A = 0", False),
        ({"A": "1", "B": "0"}, "A = 1 | (B = 0 & A = 0)", True),
        ({"A": "1", "B": "0"}, "! A = 1 & B = 0", False),
        ({"A": "1", "B": "0"}, "! A = 0 & B = 0", True),
        ({"A": "1", "B": "0"}, "!!A = 1", True),
        ({"A": "1"}, "A ! = 1", False),
        ({"A": "1"}, "A != 2", True),
        ({"ARCH": "x86_64"}, "ARCH = x86_64", True),
        ({"X": "0.1"}, "X = 0.1", False),
        ({"X": "0.1"}, "X > 0.1", False),
        ({"X": "0.1"}, "X < 0.1", True),
        ({"X": ""}, "X != 1.0", False),
        ({"X": "12abc"}, "X = 12", True),
        ({"X": "abc"}, "X = 0", True),
        ({}, "NOPE > -1", True),
        ({"X": "99999999999"}, "X = 2147483647", True),  # saturates (one_core.cnum)
        ({"T": "400"}, "T > 100.", True),
        ({"H": "node01.example.com"}, 'H = "node0?.*"', True),
        ({"H": "node01.example.com"}, 'H = "NODE*"', False),
        ({"H": "node01.example.com"}, 'H = "[mn]ode*"', True),
        ({"H": "a/b"}, 'H = "*"', True),
        ({"H": ".x"}, 'H = "?x"', True),
        ({"H": "abc"}, 'H = "[!a]bc"', False),
        ({"H": "*"}, 'H = "\\*"', True),
        ({"H": "x"}, 'H = "\\*"', False),
        ({"H": "x"}, 'H = ""', False),
        ({"H": "x"}, 'H != ""', True),
        ({"H": "x"}, '"" = 0', True),
        ({"H": "x"}, 'H = "[x"', False),
        ({"H": "[x"}, 'H = "[x"', True),
        ({"H": "a\nb"}, 'H = "a?b"', True),
        ({"host": "x"}, "HOST = x", True),
    ],
)
def test_requirements_semantics(host: dict, text: str, expected: bool) -> None:
    ok, err = evaluate_requirements(text, host)
    assert err is None
    assert ok is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "TOTALCPU >= 400",
            "syntax error, unexpected '=', expecting INTEGER or FLOAT at line 1, columns 10:11",
        ),
        (
            "400 = TOTALCPU",
            "syntax error, unexpected INTEGER, expecting $end at line 1, columns 0:3",
        ),
        (
            'T > "100"',
            "syntax error, unexpected STRING, expecting INTEGER or FLOAT at line 1, columns 4:9",
        ),
        (
            "HOSTNAME = node-1",
            "syntax error, unexpected INTEGER, expecting $end at line 1, columns 15:17",
        ),
        ("1a = 3", "syntax error, unexpected INTEGER, expecting $end at line 1, columns 0:1"),
        (
            "A",
            "syntax error, unexpected $end, expecting '!' or '=' or '>' or '<' at line 1, columns 0:1",
        ),
        ("A !", "syntax error, unexpected $end, expecting '=' at line 1, columns 2:3"),
        (
            "A = ",
            "syntax error, unexpected $end, expecting INTEGER or STRING or FLOAT at line 1, columns 3:4",
        ),
        (
            "A = 1 &",
            "syntax error, unexpected $end, expecting '!' or STRING or '(' at line 1, columns 6:7",
        ),
        (
            "(A = 1",
            "syntax error, unexpected $end, expecting '&' or '|' or ')' at line 1, columns 5:6",
        ),
        (
            "(A = 1 B",
            "syntax error, unexpected STRING, expecting '&' or '|' or ')' at line 1, columns 7:8",
        ),
        ("A = 1 )", "syntax error, unexpected ')', expecting $end at line 1, columns 6:7"),
        ("A = 1 * 2", "syntax error, unexpected $undefined, expecting $end at line 1, columns 6:7"),
        (
            "A = 1 &&",
            "syntax error, unexpected '&', expecting '!' or STRING or '(' at line 1, columns 7:8",
        ),
        (
            "A = 1\n& ,B",
            "syntax error, unexpected $end, expecting '!' or '=' or '>' or '<' at line 2, columns 9:10",
        ),
        (
            "A = 1 |\n|",
            "syntax error, unexpected '|', expecting '!' or STRING or '(' at line 2, columns 8:9",
        ),
    ],
)
def test_requirements_errors(text: str, message: str) -> None:
    req = compile_requirements(text)
    assert req.error == message
    assert req.matches(HostVars({"A": "1"})) is False


@pytest.mark.parametrize(
    ("text", "expected", "error"),
    [
        ("2 + 3 * 4", 14, None),
        ("10 - 2 - 3", 5, None),
        ("100 / 10 / 5", 2, None),
        ("- 2 * 3 + 1", -5, None),
        ("7 / 2", 3, None),
        ("0 - 7 / 2", -3, None),
        ("1/0", cnum.INT_MIN, None),
        ("0/0", cnum.INT_MIN, None),
        ("2147483647", cnum.INT_MIN, None),
        ("16777217", 16777216, None),
        ("", 0, None),
        (
            "FREECPU-5",
            395,
            "syntax error, unexpected INTEGER, expecting $end at line 1, columns 7:9",
        ),
        ("FREECPU - 5", 390, None),
        ("2 + 3 4", 5, "syntax error, unexpected INTEGER, expecting $end at line 1, columns 6:7"),
        (
            "FREECPU > 3",
            395,
            "syntax error, unexpected $undefined, expecting $end at line 1, columns 8:9",
        ),
        ("1.5e3", 1, "syntax error, unexpected STRING, expecting $end at line 1, columns 3:5"),
        ("(1 2)", 0, "syntax error, unexpected INTEGER at line 1, columns 3:4"),
        ("1 +", 0, "syntax error, unexpected $end at line 1, columns 2:3"),
        ("* 2", 0, "syntax error, unexpected '*', expecting $end at line 1, columns 0:1"),
        (
            "1 + (2 * 3) )",
            7,
            "syntax error, unexpected ')', expecting $end at line 1, columns 12:13",
        ),
        ("CPUSPEED / 7 * 3", 857, None),
        ("2 * - 3 * 4", -24, None),
        ("- - 5", 5, None),
        ("-5", -5, None),
        ("FREECPU * 0.5", 197, None),
    ],
)
def test_rank(text: str, expected: int, error: str | None) -> None:
    assert evaluate_rank(text, HOST) == (expected, error)


def test_rank_float32_arithmetic() -> None:
    # 16777216 + 1 is not representable in a 32-bit float.
    assert evaluate_rank("16777216 + 1", {})[0] == 16777216
    assert evaluate_rank("X + 1", {"X": "16777216"})[0] == 16777216
    assert evaluate_rank("X", {"X": "12abc"})[0] == 12
    assert evaluate_rank("X", {"X": "abc"})[0] == 0


def test_unary_minus_binds_the_product_chain() -> None:
    # a * -(b * c) differs from (a * -b) * c in 32-bit float rounding.
    host = {"A": "3", "B": "0.1", "C": "16777215"}
    rk = compile_rank("A * - B * C")
    expected = cnum.f32(cnum.f32(3.0) * -cnum.f32(cnum.f32(0.1) * cnum.f32(16777215.0)))
    assert rk.value(HostVars(host)) == expected


def test_expressions_are_parsed_once() -> None:
    compile_requirements.cache_clear()
    a = compile_requirements("CPU > 1")
    b = compile_requirements("CPU > 1")
    assert a is b
    assert compile_requirements.cache_info().misses == 1


def test_lexer_columns_count_skipped_characters() -> None:
    lexed = lex('A.,= "x\ny" & B')
    kinds = [(t.type, t.value, t.start_pos, t.end_pos, t.line) for t in lexed.tokens]
    assert kinds == [
        ("STRING", "A", 0, 1, 1),
        ("EQ", "=", 3, 4, 1),
        ("STRING", "x\ny", 5, 10, 2),
        ("AMP", "&", 11, 12, 2),
        ("STRING", "B", 13, 14, 2),
    ]


def test_lexer_numbers() -> None:
    values = [(t.type, t.value) for t in lex("-5 5. 1.5 -2.25 99999999999").tokens]
    assert values == [
        ("INTEGER", -5),
        ("INTEGER", 5),
        ("FLOAT", 1.5),
        ("FLOAT", -2.25),
        ("INTEGER", cnum.wrap_int32(99999999999)),
    ]


@pytest.mark.parametrize(
    ("cpu", "memory", "demand"),
    [
        ("1", "512", (100, 524288)),
        ("0.5", "128", (50, 131072)),
        ("", "512", (0, 0)),
        (None, "512", (0, 0)),
        ("1", "0", (0, 0)),
        ("1", None, (0, 0)),
        ("2", "abc", (0, 0)),
        ("0.29", "1", (29, 1024)),
        ("0.53", "1", (52, 1024)),
        ("2.1", "1", (209, 1024)),
        ("abc", "1", (0, 1024)),
    ],
)
def test_vm_demand(cpu: str | None, memory: str | None, demand: tuple[int, int]) -> None:
    assert cnum.vm_demand(cpu, memory) == demand


@pytest.mark.parametrize(("free", "cpu"), [(395, 400), (1, 100), (0, 0), (400, 400), (-5, -5)])
def test_host_cpu_rounding_quirk(free: int, cpu: int) -> None:
    assert cnum.host_cpu_capacity(free) == cpu


@pytest.mark.parametrize(
    "text",
    ["!" * 2000 + "A = 1", "(" * 2000 + "A = 1" + ")" * 2000, " & ".join(["A = 1"] * 2000)],
)
def test_very_deep_requirements_are_an_error_not_a_crash(text: str) -> None:
    req = compile_requirements(text)
    assert req.error == "expression too deeply nested (more than 400 levels)"
    assert req.matches(HostVars({"A": "1"})) is False


def test_long_but_shallow_enough_expressions_work() -> None:
    assert evaluate_requirements(" & ".join(["A = 1"] * 300), {"A": "1"}) == (True, None)
    assert evaluate_rank(" + ".join(["A"] * 300), {"A": "1"}) == (300, None)
    deep = compile_rank("- " * 2000 + "1")
    assert (deep.rank(HostVars({})), deep.error) == (
        0,
        "expression too deeply nested (more than 400 levels)",
    )


def test_host_values_that_are_not_text() -> None:
    host = HostVars({"totalcpu": 400, "FREECPU": 395.5, "DISK": {"SIZE": "1"}, "E": ""})
    assert host.text == {"TOTALCPU": "400", "FREECPU": "395.5"}
    assert compile_requirements("TOTALCPU > 399 & FREECPU = 395").matches(host)


def test_columns_count_utf8_bytes_like_flex() -> None:
    req = compile_requirements('H = "é" &&')
    assert req.error == (
        "syntax error, unexpected '&', expecting '!' or STRING or '(' at line 1, columns 10:11"
    )
    assert evaluate_requirements('H = "é*"', {"H": "été"}) == (True, None)
