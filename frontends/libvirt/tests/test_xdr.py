"""XDR packing/unpacking: wire layout, bounds, and round trips."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_libvirt.protocol import (
    REMOTE_PROGRAM,
    Header,
    MsgType,
    Status,
    WireDomain,
    frame,
    pack_error,
)
from one_libvirt.xdr import STRING_MAX, Packer, Unpacker, XdrError


def test_layout_of_basic_types() -> None:
    data = Packer().int(-2).uint(7).hyper(-1).uhyper(2**40).string("abcde").bytes()
    assert data == (struct.pack(">iIqQ", -2, 7, -1, 2**40) + struct.pack(">I", 5) + b"abcde\0\0\0")


def test_optional_string_is_a_pointer() -> None:
    assert Packer().optional_string(None).bytes() == b"\0\0\0\0"
    assert Packer().optional_string("x").bytes() == b"\0\0\0\1\0\0\0\1x\0\0\0"
    u = Unpacker(b"\0\0\0\1\0\0\0\1x\0\0\0\0\0\0\0")
    assert u.optional_string() == "x"
    assert u.optional_string() is None
    u.done()


def test_fixed_opaque_pads_and_checks_size() -> None:
    assert Packer().fixed_opaque(b"\1" * 5, 5).bytes() == b"\1" * 5 + b"\0" * 3
    with pytest.raises(XdrError):
        Packer().fixed_opaque(b"\1", 16)


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.int(2**31),
        lambda p: p.uint(-1),
        lambda p: p.hyper(2**63),
        lambda p: p.uhyper(-1),
        lambda p: p.opaque(b"x" * 9, 8),
    ],
)
def test_packing_out_of_range_raises(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(XdrError):
        call(Packer())


def test_truncated_input_raises() -> None:
    with pytest.raises(XdrError, match="truncated"):
        Unpacker(b"\0\0").int()
    # a string whose declared length runs past the data
    with pytest.raises(XdrError, match="truncated"):
        Unpacker(struct.pack(">I", 100) + b"abc").string()


def test_lengths_are_checked_against_limits_before_reading() -> None:
    huge = struct.pack(">I", 0xFFFFFFFF)
    with pytest.raises(XdrError, match="exceeds the limit"):
        Unpacker(huge).string()
    with pytest.raises(XdrError, match="exceeds the limit"):
        Unpacker(struct.pack(">I", STRING_MAX + 1)).opaque()
    with pytest.raises(XdrError, match="array length"):
        Unpacker(struct.pack(">I", 17)).array_length(16)


def test_bad_boolean_and_utf8_and_trailing_bytes() -> None:
    with pytest.raises(XdrError, match="boolean"):
        Unpacker(struct.pack(">i", 2)).bool()
    with pytest.raises(XdrError, match="UTF-8"):
        Unpacker(struct.pack(">I", 1) + b"\xff\0\0\0").string()
    u = Unpacker(b"\0\0\0\1\0")
    u.int()
    with pytest.raises(XdrError, match="trailing"):
        u.done()


@given(
    st.integers(-(2**31), 2**31 - 1),
    st.integers(0, 2**64 - 1),
    st.text(max_size=50),
    st.binary(max_size=40),
    st.one_of(st.none(), st.text(max_size=10)),
)
def test_round_trip(i: int, uh: int, text: str, blob: bytes, opt: str | None) -> None:
    data = Packer().int(i).uhyper(uh).string(text).opaque(blob).optional_string(opt).bytes()
    assert len(data) % 4 == 0
    u = Unpacker(data)
    assert (u.int(), u.uhyper(), u.string(), u.opaque(), u.optional_string()) == (
        i,
        uh,
        text,
        blob,
        opt,
    )
    u.done()


def test_domain_struct_and_frame() -> None:
    dom = WireDomain("vm01", bytes(range(16)), 3)
    data = dom.pack(Packer()).bytes()
    assert data == struct.pack(">I", 4) + b"vm01" + bytes(range(16)) + struct.pack(">i", 3)
    assert WireDomain.unpack(Unpacker(data)) == dom
    header = Header(REMOTE_PROGRAM, 1, 66, MsgType.CALL, 9, Status.OK)
    packet = frame(header.reply(Status.ERROR), b"xyzw")
    assert struct.unpack(">I", packet[:4])[0] == len(packet) == 4 + 24 + 4
    back = Header.unpack(packet[4:28])
    assert (back.proc, back.type, back.serial, back.status) == (66, MsgType.REPLY, 9, Status.ERROR)


def test_error_struct_layout() -> None:
    u = Unpacker(pack_error(42, "Domain not found: x"))
    assert u.int() == 42  # code
    assert u.int() == 27  # domain VIR_FROM_ONE
    assert u.optional_string() == "Domain not found: x"
    assert u.int() == 2  # level VIR_ERR_ERROR
    assert u.bool() is False  # dom
    assert u.optional_string() == "Domain not found: x"
    assert u.optional_string() is None and u.optional_string() is None
    assert (u.int(), u.int()) == (0, 0)
    assert u.bool() is False  # net
    u.done()


def test_char_array_is_one_unit_per_char() -> None:
    data = Packer().char_array(b"a\xff", 10).bytes()
    assert data == struct.pack(">Iii", 2, 97, -1)
    assert Unpacker(data).char_array(10) == b"a\xff"
    with pytest.raises(XdrError, match="array length"):
        Unpacker(data).char_array(1)
    with pytest.raises(XdrError, match="out of range"):
        Unpacker(struct.pack(">Ii", 1, 300)).char_array(10)


@pytest.mark.parametrize(
    ("method", "low", "high"),
    [
        ("int", -(2**31), 2**31 - 1),
        ("uint", 0, 2**32 - 1),
        ("hyper", -(2**63), 2**63 - 1),
        ("uhyper", 0, 2**64 - 1),
    ],
)
def test_integers_round_trip_at_their_bounds_and_refuse_beyond(
    method: str, low: int, high: int
) -> None:
    for value in (low, high):
        packed = getattr(Packer(), method)(value).bytes()
        assert getattr(Unpacker(packed), method)() == value
    for value in (low - 1, high + 1):
        with pytest.raises(XdrError, match="out of range"):
            getattr(Packer(), method)(value)
