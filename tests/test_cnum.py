"""One reading of numbers for every 1.4 ``atoi`` / ``istream >> int`` (one_core.cnum).

Each use site reads a number the same way: the host shares, a VM's monitoring
counters, a network's NETWORK_SIZE, template integers, the rank scheduler's
variables, mm_sched's options and the KVM ``<memory>``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from one_core import cnum
from one_core.leases import network_size
from one_core.template import Template

INT_MAX, INT_MIN = 2**31 - 1, -(2**31)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("395.5", 395),
        (" 12abc", 12),
        (" \t12abc", 12),
        ("+7", 7),
        ("-7", -7),
        ("007", 7),
        ("abc", 0),
        ("", 0),
        (None, 0),
        ("- 3", 0),
        ("0x10", 0),
        ("2147483647", INT_MAX),
        ("2147483648", INT_MAX),
        ("99999999999", INT_MAX),
        ("-2147483648", INT_MIN),
        ("-99999999999", INT_MIN),
        ("\u0663", 0),  # ARABIC-INDIC DIGIT THREE: int() reads 3, C++ did not
        ("1\u0663", 1),
        ("\u00a012", 0),  # NO-BREAK SPACE is not C white space
        ("\uff11\uff12", 0),  # FULLWIDTH DIGITS
    ],
)
def test_stream_int(text: str | None, value: int) -> None:
    assert cnum.stream_int(text) == value


def test_stream_int_or_none_tells_a_failed_extraction() -> None:
    assert cnum.stream_int_or_none("12.7") == 12
    assert cnum.stream_int_or_none("x") is None
    assert cnum.stream_int_or_none("\u0663") is None
    assert cnum.stream_int_or_none("") is None
    assert cnum.stream_int_or_none("99999999999") == INT_MAX


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12),
        ("  -3xyz", -3),
        ("", 0),
        (None, 0),
        ("abc", 0),
        ("2147483648", INT_MIN),  # (int) of the long 2**31
        ("99999999999", 1215752191),  # its low 32 bits
        ("99999999999999999999", -1),  # strtol clamps to LONG_MAX first
        ("-99999999999999999999", 0),  # LONG_MIN's low 32 bits
        ("\u0663", 0),
    ],
)
def test_atoi(text: str | None, value: int) -> None:
    assert cnum.atoi(text) == value


@pytest.mark.parametrize(
    ("read", "text", "value"),
    [
        # istream >> double
        (cnum.stream_double, "0.5cpu", 0.5),
        (cnum.stream_double, "1e3", 1000.0),
        (cnum.stream_double, "1e", 0.0),  # a dangling exponent fails the whole extraction
        (cnum.stream_double, "\u0663.5", 0.0),
        (cnum.stream_double, "", 0.0),
        (cnum.stream_double, None, 0.0),
        # glibc atof: the longest numeric prefix (the rank scheduler's variables)
        (cnum.atof, "1e", 1.0),  # strtod stops before the dangling exponent
        (cnum.atof, "1.5", 1.5),
        (cnum.atof, "12abc", 12.0),
        (cnum.atof, "abc", 0.0),
        (cnum.atof, " -2e2x", -200.0),
        (cnum.atof, "0x10", 16.0),
        (cnum.atof, "inf", float("inf")),
        (cnum.atof, ".5", 0.5),
        (cnum.atof, "5.", 5.0),
    ],
)
def test_float_readers(read: Callable[[str | None], float], text: str | None, value: float) -> None:
    assert read(text) == value


def test_stream_float_is_the_double_rounded_to_32_bits() -> None:
    assert cnum.stream_float("0.1") == cnum.f32(0.1) != 0.1
    assert cnum.stream_float("1e") == 0.0


@pytest.mark.parametrize(
    ("text", "value"),
    [("99999999999", INT_MAX), ("\u0663", 0), ("-99999999999", INT_MIN), ("12.5", 12)],
)
def test_template_integers_use_stream_int(text: str, value: int) -> None:
    t = Template()
    t.add("N", text)
    assert t.get_int("N") == value


def test_network_size_reads_like_stream_int() -> None:
    assert network_size("100abc") == 100
    assert network_size("\u0663", default=254) == 254  # 0: the default applies
    assert network_size("99999999999", default=254) == 254  # saturated: too large
    assert network_size("2147483646", default=254) == 2147483646


def test_vm_demand_reads_memory_by_stream_extraction() -> None:
    assert cnum.vm_demand("1", "\u0663") == (0, 0)
    assert cnum.vm_demand("1", "99999999999") == (100, cnum.wrap_int32(INT_MAX * 1024))
