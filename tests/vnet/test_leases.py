"""Pure lease logic: spec/templates-scheduler-vnets-cli.md §4.1, §4.3–§4.5."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from one_core.leases import (
    DEFAULT_MAC_PREFIX,
    FixedLeases,
    FreeBitmap,
    Lease,
    LeaseError,
    RangedLeases,
    ip_str,
    mac_for_ip,
    mac_str,
    network_bits,
    network_size,
    parse_ip,
    parse_mac,
    parse_mac_prefix,
)

# -- IP / MAC conversion ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("192.168.0.5", "192.168.0.5"),
        ("010.000.0.1", "10.0.0.1"),
        ("10.0.0.300", "10.0.1.44"),  # groups are not range-checked: 300 carries
        ("0.0.0.256", "0.0.1.0"),
        (" 10. 0 .0.1", "10.0.0.1"),  # stream extraction skips blanks
        ("10.0.0.1abc", "10.0.0.1"),  # the rest of the last group is ignored
        ("255.255.255.255", "255.255.255.255"),
    ],
)
def test_parse_ip(text: str, expected: str) -> None:
    ip = parse_ip(text)
    assert ip is not None
    assert ip_str(ip) == expected


@pytest.mark.parametrize(
    "text", ["", "10.0.0", "10.0.0.1.2", "10..0.1", "a.b.c.d", "10.0.0.", "10.0x.0.1", "1 2.0.0.1"]
)
def test_parse_ip_rejects(text: str) -> None:
    assert parse_ip(text) is None


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_ip_round_trip(ip: int) -> None:
    assert parse_ip(ip_str(ip)) == ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50:20:20:20:20:20", "50:20:20:20:20:20"),
        ("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"),  # rendered lower-case
        ("5:2:2:2:2:2", "05:02:02:02:02:02"),
        ("00:01:02:03:04:1ff", "00:01:02:03:05:ff"),  # oversized group carries
    ],
)
def test_parse_mac(text: str, expected: str) -> None:
    mac = parse_mac(text)
    assert mac is not None
    assert mac_str(mac) == expected


@pytest.mark.parametrize(
    "text", ["", "50:20:20:20:20", "50:20:20:20:20:20:20", "zz:20:20:20:20:20"]
)
def test_parse_mac_rejects(text: str) -> None:
    assert parse_mac(text) is None


def test_generated_mac_examples() -> None:
    """§4.3: prefix 00:03 with 10.0.0.1 and 192.168.0.5."""
    prefix, ok = parse_mac_prefix("00:03")
    assert (prefix, ok) == (0x0003, True)
    assert mac_str(mac_for_ip(prefix, parse_ip("10.0.0.1"))) == "00:03:0a:00:00:01"
    assert mac_str(mac_for_ip(prefix, parse_ip("192.168.0.5"))) == "00:03:c0:a8:00:05"


@pytest.mark.parametrize("text", ["0003", "00:03:04", "zz:01", "", ":"])
def test_bad_mac_prefix_uses_default(text: str) -> None:
    assert parse_mac_prefix(text) == (DEFAULT_MAC_PREFIX, False)
    assert DEFAULT_MAC_PREFIX == 0x0001


def test_mac_prefix_other_values() -> None:
    assert parse_mac_prefix("a:b") == (0x0A0B, True)
    assert parse_mac_prefix("FF:fe") == (0xFFFE, True)
    assert parse_mac_prefix(0x0203) == (0x0203, True)


# -- sizes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("B", 65534),
        ("C", 254),
        ("250", 250),
        ("100abc", 100),
        (" 7", 7),
        ("", 99),  # missing
        ("A", 99),
        ("c", 99),  # class letters are case-sensitive
        ("b", 99),
        ("0", 99),
        ("abc", 99),
        ("-5", 99),  # decision: negative means default
        ("99999999999", 99),  # decision: too large for IPv4 means default
    ],
)
def test_network_size(value: str, expected: int) -> None:
    assert network_size(value, default=99) == expected


def test_network_bits() -> None:
    assert network_bits(250) == 8
    assert network_bits(254) == 8
    assert network_bits(255) == 9
    assert network_bits(100) == 7
    assert network_bits(65534) == 16
    assert network_bits(1) == 2
    # 1.4 computed ceil(log(N+2)/log(2)) in floating point: off by one here
    assert network_bits(2**29 - 2) == 30


# -- free bitmap -----------------------------------------------------------------------------


def test_free_bitmap_next_free_wraps() -> None:
    fb = FreeBitmap(10, used=[0, 1, 2, 8])
    assert fb.next_free(0) == 3
    assert fb.next_free(7) == 7
    fb.take(7)
    assert fb.next_free(7) == 9
    fb.take(9)
    assert fb.next_free(8) == 3  # wraps
    assert fb.free_count() == 4
    for s in (3, 4, 5, 6):
        fb.take(s)
    assert fb.next_free(0) is None
    fb.give(1)
    assert fb.next_free(5) == 1


# -- RANGED ----------------------------------------------------------------------------------


def ranged(address: str, size: int, prefix: int = 3) -> RangedLeases:
    return RangedLeases.from_address(address, size, prefix)


@pytest.mark.parametrize(
    ("address", "size", "first", "last"),
    [
        ("10.0.0.0", 250, "10.0.0.1", "10.0.0.250"),
        ("192.168.0.0", 254, "192.168.0.1", "192.168.0.254"),
        ("10.0.0.200", 100, "10.0.0.129", "10.0.0.228"),  # /25, host bits cleared
    ],
)
def test_ranged_examples(address: str, size: int, first: str, last: str) -> None:
    r = ranged(address, size)
    got = [r.get(vid).ip_text for vid in range(size)]
    assert got[0] == first
    assert got[-1] == last
    assert len(set(got)) == size
    with pytest.raises(LeaseError):
        r.get(999)


def test_ranged_lease_fields() -> None:
    r = ranged("10.0.0.0", 250)
    lease = r.get(7)
    assert (lease.ip_text, lease.mac_text, lease.vid, lease.used) == (
        "10.0.0.1",
        "00:03:0a:00:00:01",
        7,
        True,
    )
    assert lease.to_xml() == (
        "<LEASE><IP>10.0.0.1</IP><MAC>00:03:0a:00:00:01</MAC><USED>1</USED><VID>7</VID></LEASE>"
    )
    assert r.used_count() == 1


def test_ranged_next_fit_after_release() -> None:
    """A freed address comes back only after the cursor wraps (§4.4)."""
    r = ranged("10.0.0.0", 4)
    assert [r.get(v).ip_text for v in range(3)] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    r.release(parse_ip("10.0.0.1"))
    assert r.get(10).ip_text == "10.0.0.4"
    assert r.get(11).ip_text == "10.0.0.1"  # wrapped
    with pytest.raises(LeaseError):
        r.get(12)


def test_ranged_cursor_restarts_on_reload() -> None:
    r = ranged("10.0.0.0", 4)
    for v in range(3):
        r.get(v)
    r.release(parse_ip("10.0.0.1"))
    reloaded = RangedLeases(r.network, r.size, r.mac_prefix, list(r))
    assert reloaded.get(10).ip_text == "10.0.0.1"


def test_ranged_failed_get_moves_cursor_by_size_plus_two() -> None:
    r = ranged("10.0.0.0", 5)
    for v in range(5):
        r.get(v)
    assert r.cursor == 4
    with pytest.raises(LeaseError):
        r.get(9)
    assert r.cursor == (4 + 5 + 2) % 5  # 1
    r.release(parse_ip("10.0.0.1"))  # offset 0
    r.release(parse_ip("10.0.0.3"))  # offset 2
    assert r.get(10).ip_text == "10.0.0.3"  # search starts at offset 1


def test_ranged_set() -> None:
    r = ranged("10.0.0.0", 250)
    assert r.set(1, "10.0.0.7").mac_text == "00:03:0a:00:00:07"
    # the range 1..N is not checked: network, broadcast and > N inside the mask
    assert r.set(2, "10.0.0.0").ip_text == "10.0.0.0"
    assert r.set(3, "10.0.0.255").ip_text == "10.0.0.255"
    assert r.set(4, "10.0.0.252").ip_text == "10.0.0.252"
    assert r.used_count() == 4
    assert [x.ip_text for x in r] == ["10.0.0.0", "10.0.0.7", "10.0.0.252", "10.0.0.255"]
    # automatic leases skip the requested one
    assert [r.get(v).ip_text for v in range(7)][-1] == "10.0.0.8"


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("10.0.0", "Malformed IP"),
        ("garbage", "Malformed IP"),
        ("10.0.1.1", "does not belong"),
        ("192.168.0.1", "does not belong"),
        ("10.0.0.5", "already in use"),
    ],
)
def test_ranged_set_errors(ip: str, reason: str) -> None:
    r = ranged("10.0.0.0", 250)
    r.set(1, "10.0.0.5")
    with pytest.raises(LeaseError, match=reason):
        r.set(2, ip)
    assert r.used_count() == 1


def test_ranged_release_unknown_is_noop() -> None:
    r = ranged("10.0.0.0", 250)
    assert r.release(parse_ip("10.0.0.9")) is None


@pytest.mark.parametrize("address", ["", "10.0.0", "x"])
def test_ranged_bad_address(address: str) -> None:
    with pytest.raises(LeaseError):
        ranged(address, 10)


def test_ranged_slash16_full() -> None:
    r = ranged("172.16.0.0", 65534)
    ips = [r.get(v).ip for v in range(65534)]
    assert ip_str(ips[0]) == "172.16.0.1"
    assert ip_str(ips[-1]) == "172.16.255.254"
    with pytest.raises(LeaseError):
        r.get(0)
    r.release(parse_ip("172.16.128.1"))
    assert r.get(1).ip_text == "172.16.128.1"


# -- FIXED -----------------------------------------------------------------------------------

PUBLIC_NET = [
    {"IP": "130.10.0.1", "MAC": "50:20:20:20:20:20"},
    {"IP": "130.10.0.2"},
    {"IP": "130.10.0.3"},
    {"IP": "130.10.0.4"},
]


def fixed(entries: list, prefix: int = 3) -> FixedLeases:
    leases, errors = FixedLeases.parse_template_leases(entries, prefix)
    assert errors == []
    return FixedLeases(prefix, leases)


def test_fixed_public_net_example() -> None:
    f = fixed(PUBLIC_NET)
    assert [(x.ip_text, x.mac_text, x.used, x.vid) for x in f][::3] == [
        ("130.10.0.1", "50:20:20:20:20:20", False, -1),
        ("130.10.0.4", "00:03:82:0a:00:04", False, -1),
    ]
    assert f.get(1).ip_text == "130.10.0.1"
    assert f.get(2).ip_text == "130.10.0.2"
    assert f.used_count() == 2


def test_fixed_round_robin() -> None:
    f = fixed(PUBLIC_NET)
    for v in range(3):
        f.get(v)
    f.release(parse_ip("130.10.0.1"))
    assert f.get(3).ip_text == "130.10.0.4"  # cursor moves on, no reuse yet
    assert f.get(4).ip_text == "130.10.0.1"  # wrapped
    with pytest.raises(LeaseError, match="No free leases"):
        f.get(5)


def test_fixed_order_is_numeric_ip() -> None:
    f = fixed([{"IP": "10.0.0.10"}, {"IP": "10.0.0.9"}, {"IP": "9.0.0.1"}])
    assert [x.ip_text for x in f] == ["9.0.0.1", "10.0.0.9", "10.0.0.10"]
    assert f.get(0).ip_text == "9.0.0.1"


def test_fixed_set_does_not_move_cursor() -> None:
    f = fixed(PUBLIC_NET)
    assert f.set(1, "130.10.0.3").vid == 1
    assert f.get(2).ip_text == "130.10.0.1"
    assert f.get(3).ip_text == "130.10.0.2"
    assert f.get(4).ip_text == "130.10.0.4"


@pytest.mark.parametrize(
    ("ip", "reason"),
    [("130.10.0.9", "not a lease"), ("130.10.0.1", "already in use"), ("bad", "Malformed")],
)
def test_fixed_set_errors(ip: str, reason: str) -> None:
    f = fixed(PUBLIC_NET)
    f.set(1, "130.10.0.1")
    with pytest.raises(LeaseError, match=reason):
        f.set(2, ip)


def test_fixed_empty_network() -> None:
    f = fixed([])
    with pytest.raises(LeaseError):
        f.get(1)


def test_fixed_release() -> None:
    f = fixed(PUBLIC_NET)
    lease = f.set(1, "130.10.0.2")
    assert f.release(lease.ip) is lease
    assert (lease.used, lease.vid) == (False, -1)
    assert f.release(lease.ip) is None  # already free
    assert f.release(parse_ip("1.1.1.1")) is None


def test_fixed_template_errors_and_duplicates() -> None:
    entries = [
        {"IP": "130.10.0.1", "MAC": "50:20:20:20:20:20"},
        "130.10.0.7",  # non-vector: ignored
        {"IP": "bogus"},
        {"IP": "130.10.0.2", "MAC": "zz"},
        {"MAC": "50:20:20:20:20:21"},  # no IP
        {"IP": "130.10.0.1", "MAC": "50:20:20:20:20:99"},  # duplicate IP: first wins
        {"IP": "130.10.0.3"},
    ]
    leases, errors = FixedLeases.parse_template_leases(entries, 3)
    assert errors == [
        "Error inserting lease, IP = bogus",
        "Error inserting lease, MAC = zz",
        "Error inserting lease, IP = ",
    ]
    assert [(x.ip_text, x.mac_text) for x in leases] == [
        ("130.10.0.1", "50:20:20:20:20:20"),
        ("130.10.0.3", "00:03:82:0a:00:03"),
    ]


def test_fixed_reload_keeps_used() -> None:
    f = FixedLeases(3, [Lease(1, 11, 5, True), Lease(2, 12), Lease(3, 13)])
    assert f.used_count() == 1
    assert f.get(6).ip == 2


def test_free_bitmap_across_chunks() -> None:
    """Chunk boundaries (the bitmap is two-level) behave like one flat bitmap."""
    n = FreeBitmap.CHUNK * 3 + 5
    fb = FreeBitmap(n, used=range(n - 1))  # only the very last slot is free
    assert fb.free_count() == 1
    assert fb.next_free(0) == n - 1
    assert fb.next_free(n - 1) == n - 1
    fb.give(FreeBitmap.CHUNK)  # first slot of chunk 1
    assert fb.next_free(FreeBitmap.CHUNK + 1) == n - 1
    assert fb.next_free(n - 1) == n - 1
    fb.take(n - 1)
    assert fb.next_free(n - 1) == FreeBitmap.CHUNK  # wraps over empty chunks
    assert fb.next_free(3) == FreeBitmap.CHUNK
    fb.take(FreeBitmap.CHUNK)
    fb.take(FreeBitmap.CHUNK)  # taking a used slot changes nothing
    assert fb.next_free(0) is None and fb.free_count() == 0
    fb.give(5)
    fb.give(5)
    assert fb.free_count() == 1 and fb.next_free(FreeBitmap.CHUNK * 2) == 5


@given(
    st.integers(min_value=1, max_value=9000),
    st.lists(st.integers(min_value=0, max_value=8999), max_size=60),
    st.integers(min_value=0, max_value=8999),
)
def test_free_bitmap_matches_flat_scan(n: int, used: list[int], start: int) -> None:
    start %= n
    used_set = {u % n for u in used}
    fb = FreeBitmap(n, used_set)
    expected = next(((start + i) % n for i in range(n) if (start + i) % n not in used_set), None)
    assert fb.next_free(start) == expected
    assert fb.free_count() == n - len(used_set)
