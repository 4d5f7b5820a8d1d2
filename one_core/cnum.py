"""The C and C++ number conversions of 1.4: the one place that reads numbers as 1.4 did.

Every module that reproduces a 1.4 ``atoi``, ``atof`` or ``istream >> int``
uses these functions (templates, host shares, VM monitoring, network sizes,
the rank scheduler, mm_sched's options, the KVM deployment file).

One behaviour for every caller (glibc and libstdc++ on x86-64; the spec
describes "modern libstdc++", ``spec/templates-scheduler-vnets-cli.md`` §1.4):

* only ASCII: white space is C's ``isspace`` (`` \t\n\v\f\r``) and digits
  are ``0``-``9``; Python would accept Unicode digits (``int("٣")`` is 3) and
  Unicode spaces, 1.4 stopped at them (``"٣"`` reads as 0);
* stream extraction (:func:`stream_int`): no leading number gives 0, a value
  outside ``int`` saturates to ``INT_MAX``/``INT_MIN`` (libstdc++ since C++11
  stores the limit and sets failbit);
* ``atoi`` (:func:`atoi`): ``(int) strtol(text, NULL, 10)`` — ``strtol`` clamps
  to the 64-bit ``long`` range and the cast keeps the low 32 bits
  (``"99999999999"`` gives 1215752191, ``"2147483648"`` gives ``INT_MIN``).

See also §2.2-§2.3 (the REQUIREMENTS/RANK lexer) and §3.5 (matching).
"""

from __future__ import annotations

import ctypes
import math
import re

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
_LONG_MIN = -(2**63)
_LONG_MAX = 2**63 - 1


def wrap_int32(value: int) -> int:
    """Two's-complement wrap of a Python int to a C ``int``."""
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value & 0x80000000 else value


C_SPACE = " \t\n\v\f\r"
"""C's ``isspace`` in the "C" locale."""

_LEADING_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def atoi(text: str | None) -> int:
    """C ``atoi``: ``(int) strtol(text, NULL, 10)``; 0 when no number leads.

    ``strtol`` clamps to the 64-bit ``long`` range; the cast to ``int`` keeps
    the low 32 bits.
    """
    if not text:
        return 0
    m = _LEADING_INT.match(text)
    if m is None:
        return 0
    value = max(_LONG_MIN, min(_LONG_MAX, int(m.group(1))))
    return wrap_int32(value)


def stream_int_or_none(text: str | None) -> int | None:
    """``istringstream(text) >> int`` that tells a failed extraction: None then.

    Leading white space is skipped, a sign and digits are read and the rest is
    ignored (``395.5`` → 395, ``12abc`` → 12). A number outside the ``int``
    range saturates to ``INT_MAX``/``INT_MIN``.
    """
    if not text:
        return None
    m = _LEADING_INT.match(text)
    if m is None:
        return None
    value = int(m.group(1))
    return INT_MAX if value > INT_MAX else INT_MIN if value < INT_MIN else value


def stream_int(text: str | None) -> int:
    """``istringstream(text) >> int`` (see :func:`stream_int_or_none`); 0 on failure.

    A missing or empty value, or one that does not start with a number, gives 0.
    """
    value = stream_int_or_none(text)
    return 0 if value is None else value


_ATOF = re.compile(
    r"[ \t\n\v\f\r]*("
    r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
    r")"
)


def atof(text: str | None) -> float:
    """glibc ``atof``/``strtod``: the longest numeric prefix, else 0.0.

    Accepts decimal and hexadecimal floats with exponents, ``inf``,
    ``infinity`` and ``nan``; values that overflow give ±inf.
    """
    if not text:
        return 0.0
    m = _ATOF.match(text)
    if m is None:
        return 0.0
    number = m.group(1)
    low = number.lower().lstrip("+-")
    if low.startswith("0x"):
        sign = -1.0 if number.startswith("-") else 1.0
        body = low[2:]
        if "p" not in body:
            body += "p0"
        try:
            return sign * float.fromhex("0x" + body)
        except OverflowError:
            return sign * math.inf
    if low.startswith("nan"):
        return math.nan
    if low.startswith("inf"):
        return -math.inf if number.startswith("-") else math.inf
    return float(number)


def f32(value: float) -> float:
    """Round a double to a C ``float`` (32-bit), as a Python float.

    Values beyond the float range become ±inf, as the x86 conversion does.
    """
    return ctypes.c_float(value).value


_STREAM_FLOAT = re.compile(r"[ \t\n\v\f\r]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_DANGLING_EXPONENT = re.compile(r"[eE][+-]?(?![0-9])")


def stream_double(text: str | None) -> float:
    """C++ ``istringstream >> double``: ``"0.5cpu"`` → 0.5, garbage → 0.0.

    As in libstdc++, an exponent marker without digits (``"1e"``, ``"2E+x"``)
    makes the whole extraction fail (0.0).
    """
    if not text:
        return 0.0
    m = _STREAM_FLOAT.match(text)
    if m is None:
        return 0.0
    if _DANGLING_EXPONENT.match(text, m.end()) and "e" not in m.group(1).lower():
        return 0.0
    return float(m.group(1))


def stream_float(text: str | None) -> float:
    """``istringstream(text) >> float`` (the VM's ``CPU``), as a 32-bit value.

    Read as :func:`stream_double`, then rounded to a C ``float``. A string
    that does not start with a number leaves the variable uninitialised in
    1.4 (undefined); we use 0.
    """
    return f32(stream_double(text))


def float_to_int(value: float) -> int:
    """C ``(int)`` of a float on x86: truncation toward zero; NaN and values
    outside the ``int`` range give ``INT_MIN`` (the "integer indefinite")."""
    if value != value or value >= 2147483648.0 or value <= -2147483649.0:
        return INT_MIN
    return int(value)


def vm_demand(cpu: str | None, memory: str | None) -> tuple[int, int]:
    """A VM's (cpu, mem) demand, ``VirtualMachine::get_requirements``.

    ``MEMORY`` is read as an int (stream extraction), ``CPU`` as a string. If
    MEMORY is 0 or CPU is missing/empty, the demand is (0, 0). Otherwise
    ``cpu = (int)(fcpu * 100)`` in 32-bit float and ``mem = MEMORY * 1024``
    (wrapping like a C ``int``).
    """
    mem = stream_int(memory)
    if mem == 0 or not cpu:
        return 0, 0
    return float_to_int(f32(stream_float(cpu) * 100.0)), wrap_int32(mem * 1024)


def host_cpu_capacity(free_cpu: int) -> int:
    """``SchedulerHost::get_capacity``'s free CPU, with the threshold quirk.

    The 0.9 threshold is truncated to the int 0, so whenever ``free_cpu >= 0``
    it is rounded up to a multiple of 100: ``(int) ceil((float)cpu / 100.0) * 100``.
    """
    if free_cpu >= 0:
        return wrap_int32(math.ceil(f32(float(free_cpu)) / 100.0) * 100)
    return free_cpu
