"""Virtual-network lease logic of 1.4, without any storage.

Specified in ``spec/templates-scheduler-vnets-cli.md`` §4.3–§4.5 (1.4 sources
src/vnm/Leases.cc, RangedLeases.cc, FixedLeases.cc):

* IPs are 32-bit integers, MACs 48-bit integers (1.4's ``PREFIX`` half in the
  top 16 bits, ``SUFFIX`` in the low 32). :func:`parse_ip` / :func:`parse_mac`
  reproduce 1.4's stream-extraction parsing (3 dots / 5 colons, groups not
  range-checked, overflow carries into the next group); :func:`ip_str` /
  :func:`mac_str` give the rendered forms (dotted decimal, lower-case hex).
* A generated MAC is ``MAC_PREFIX`` followed by the four IP bytes
  (:func:`mac_for_ip`).
* :class:`RangedLeases` — ``NETWORK_ADDRESS`` + size; next-fit automatic
  leases with 1.4's cursor; only used leases exist.
* :class:`FixedLeases` — the ``LEASES`` list; round-robin next-fit over the
  leases in IP order; every lease exists, free or used.

Both keep free slots in a :class:`FreeBitmap`, so an automatic lease finds
the next free address without walking the used ones (a /16 is 65 534 leases).

Lease failures raise :class:`LeaseError`. 1.4 gave them no message (the VM
only logged ``Could not get network lease for VM``); ours say why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from socket import inet_ntoa

from one_core.cnum import INT_MAX, stream_int
from one_core.errors import OneError

RANGED = 0
"""``network_pool.type`` / ``<TYPE>`` of a ranged network."""
FIXED = 1
"""``network_pool.type`` / ``<TYPE>`` of a fixed network."""

DEFAULT_MAC_PREFIX = 0x0001
"""``00:01``: used when oned.conf's MAC_PREFIX is malformed (§4.3)."""
DEFAULT_NETWORK_SIZE = 254
"""oned.conf ``NETWORK_SIZE`` default."""
CLASS_SIZES: Mapping[str, int] = {"B": 65534, "C": 254}
"""``NETWORK_SIZE`` class letters (exact, case-sensitive)."""

MAX_NETWORK_SIZE = INT_MAX - 1
"""Largest size kept: stream extraction stores ``INT_MAX`` for a number beyond the C
``int`` range (and fails), so ``INT_MAX`` and above mean "too large"."""

_U32 = 0xFFFFFFFF
_NUM = {
    10: re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)"),
    16: re.compile(r"[ \t\n\v\f\r]*([+-]?)(?:0[xX])?([0-9a-fA-F]+)"),
}


class LeaseError(OneError):
    """A lease could not be taken (the VM allocation that asked for it fails)."""


# --------------------------------------------------------------------------------------------
# IP / MAC conversion (src/vnm/Leases.cc Lease::ip_to_number, mac_to_number, *_to_string)
# --------------------------------------------------------------------------------------------


def _extract(text: str, pos: int, base: int) -> tuple[int, int] | None:
    """``iss >> (hex|dec) >> unsigned`` at ``pos``: (value mod 2**32, end) or None.

    A minus sign wraps like ``strtoul``; values above 32 bits, or no digits at
    all, are failures (1.4's result there depended on the C++ library).
    """
    m = _NUM[base].match(text, pos)
    if m is None:
        return None
    value = int(m.group(2), base)
    if value > _U32:
        return None
    if m.group(1) == "-":
        value = (-value) & _U32
    return value, m.end()


def _groups(text: str, sep: str, count: int, base: int) -> list[int] | None:
    """Split on ``sep`` (exactly ``count - 1`` of them) and read each group as 1.4 did.

    Groups before the last must be a number with optional surrounding blanks;
    the last group is read up to its first non-digit (1.4 ignored the rest:
    ``10.0.0.1abc`` is ``10.0.0.1``).
    """
    parts = text.split(sep)
    if len(parts) != count:
        return None
    out = []
    for i, part in enumerate(parts):
        got = _extract(part, 0, base)
        if got is None:
            return None
        value, end = got
        if i < count - 1 and part[end:].strip():
            return None
        out.append(value)
    return out


def parse_ip(text: str) -> int | None:
    """Dotted IPv4 → 32-bit int, or None when 1.4 would reject it.

    Exactly three ``.``; groups are decimal and **not range-checked**: as in
    1.4 each group is added after shifting by 8 bits, so ``10.0.0.300`` is
    ``10.0.1.44``.
    """
    groups = _groups(text, ".", 4, 10)
    if groups is None:
        return None
    value = 0
    for g in groups:
        value = ((value << 8) + g) & _U32
    return value


def ip_str(ip: int) -> str:
    """32-bit int → dotted decimal."""
    return inet_ntoa((ip & _U32).to_bytes(4, "big"))


def parse_mac(text: str) -> int | None:
    """``xx:xx:xx:xx:xx:xx`` (exactly five ``:``, hex groups) → 48-bit int, or None.

    Like 1.4 the groups are not range-checked: the first two form the 16-bit
    prefix ``(g0 << 8) + g1`` and the last four the 32-bit suffix, each group
    shifted in by 8 bits, so an oversized group carries into its neighbour.
    """
    groups = _groups(text, ":", 6, 16)
    if groups is None:
        return None
    prefix = ((groups[0] << 8) + groups[1]) & 0xFFFF
    suffix = 0
    for g in groups[2:]:
        suffix = ((suffix << 8) + g) & _U32
    return (prefix << 32) | suffix


def mac_str(mac: int) -> str:
    """48-bit int → lower-case ``xx:xx:xx:xx:xx:xx``."""
    return (mac & 0xFFFFFFFFFFFF).to_bytes(6, "big").hex(":")


def parse_mac_prefix(text: str | int | None) -> tuple[int, bool]:
    """oned.conf ``MAC_PREFIX`` → ``(prefix, ok)``.

    ``"00:03"`` gives ``(0x0003, True)``. Anything without exactly one ``:``
    or with non-hex sides gives ``(0x0001, False)``; the caller logs
    ``Wrong MAC prefix format, using default`` (``[VNM][E]``). An int is taken
    as the prefix itself.
    """
    if isinstance(text, int):
        return text & 0xFFFF, True
    if text is None:
        return DEFAULT_MAC_PREFIX, True
    groups = _groups(text, ":", 2, 16)
    if groups is None:
        return DEFAULT_MAC_PREFIX, False
    return ((groups[0] << 8) + groups[1]) & 0xFFFF, True


def mac_for_ip(prefix: int, ip: int) -> int:
    """The MAC 1.4 generates for ``ip``: ``prefix_hi:prefix_lo:ip_b1:ip_b2:ip_b3:ip_b4``."""
    return ((prefix & 0xFFFF) << 32) | (ip & _U32)


# --------------------------------------------------------------------------------------------
# Sizes (src/vnm/VirtualNetwork.cc insert, src/vnm/RangedLeases.cc constructor)
# --------------------------------------------------------------------------------------------


def network_size(value: str, default: int = DEFAULT_NETWORK_SIZE) -> int:
    """Number of assignable addresses of a RANGED network from its ``NETWORK_SIZE``.

    ``B`` → 65534, ``C`` → 254, otherwise the leading integer (``100abc`` →
    100). A result of 0 (missing, ``A``, ``c``, garbage) means ``default``.
    Decision (1.4 left it undefined): negative sizes, and sizes beyond the C ``int``
    range (which :func:`~one_core.cnum.stream_int` saturates to ``INT_MAX``), also
    mean ``default``.
    """
    if value in CLASS_SIZES:
        return CLASS_SIZES[value]
    size = stream_int(value)
    if size <= 0 or size > MAX_NETWORK_SIZE:
        return default
    return size


def network_bits(size: int) -> int:
    """Host bits of a ranged network of ``size`` addresses: ``ceil(log(N+2)/log(2))``.

    Computed with floating point exactly as 1.4 did; it equals the exact
    ``ceil(log2(N+2))`` except for N = 2**29-2 and 2**31-2.
    """
    return min(32, math.ceil(math.log(size + 2) / math.log(2)))


def network_mask(size: int) -> int:
    """Net mask of a ranged network of ``size`` addresses."""
    return (_U32 << network_bits(size)) & _U32


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Lease:
    """One lease. ``vid`` is -1 and ``used`` False when free (FIXED only)."""

    ip: int
    mac: int
    vid: int = -1
    used: bool = False

    @property
    def ip_text(self) -> str:
        return ip_str(self.ip)

    @property
    def mac_text(self) -> str:
        return mac_str(self.mac)

    def to_xml(self) -> str:
        """``<LEASE><IP/><MAC/><USED/><VID/></LEASE>`` (src/vnm/Leases.cc)."""
        return (
            f"<LEASE><IP>{ip_str(self.ip)}</IP><MAC>{mac_str(self.mac)}</MAC>"
            f"<USED>{int(self.used)}</USED><VID>{self.vid}</VID></LEASE>"
        )


class FreeBitmap:
    """The free slots ``0 … n-1`` as a two-level bitmap (bit set = free).

    Slots are grouped in chunks of :attr:`CHUNK` bits, each one Python int; a
    summary int has one bit per chunk that still has a free slot. Finding the
    next free slot after a position is a few C-level big-int operations on
    ints of at most :attr:`CHUNK` bits (and one on the summary), whatever the
    number of used slots before it, so it stays fast from a /24 to a /8.
    """

    CHUNK = 4096

    __slots__ = ("n", "_chunks", "_summary", "_free")

    def __init__(self, n: int, used: Iterable[int] = ()):
        self.n = n
        raw = bytearray(b"\xff") * ((n + 7) // 8)
        for slot in used:
            if 0 <= slot < n:
                raw[slot >> 3] &= ~(1 << (slot & 7)) & 0xFF
        step = self.CHUNK // 8
        self._chunks: list[int] = []
        self._summary = 0
        self._free = 0
        for c, start in enumerate(range(0, n, self.CHUNK)):
            width = min(self.CHUNK, n - start)
            bits = int.from_bytes(raw[c * step : c * step + step], "little") & ((1 << width) - 1)
            self._chunks.append(bits)
            if bits:
                self._summary |= 1 << c
                self._free += bits.bit_count()

    def is_free(self, slot: int) -> bool:
        return bool((self._chunks[slot // self.CHUNK] >> (slot % self.CHUNK)) & 1)

    def take(self, slot: int) -> None:
        if 0 <= slot < self.n and self.is_free(slot):
            c = slot // self.CHUNK
            self._chunks[c] &= ~(1 << (slot % self.CHUNK))
            if not self._chunks[c]:
                self._summary &= ~(1 << c)
            self._free -= 1

    def give(self, slot: int) -> None:
        if 0 <= slot < self.n and not self.is_free(slot):
            c = slot // self.CHUNK
            self._chunks[c] |= 1 << (slot % self.CHUNK)
            self._summary |= 1 << c
            self._free += 1

    def free_count(self) -> int:
        return self._free

    def next_free(self, start: int) -> int | None:
        """First free slot at or after ``start``, wrapping around; None when full."""
        summary = self._summary
        if not summary:
            return None
        c = start // self.CHUNK
        high = self._chunks[c] >> (start % self.CHUNK)
        if high:
            return start + _lowest_bit(high)
        later = summary >> (c + 1)
        c = c + 1 + _lowest_bit(later) if later else _lowest_bit(summary)
        return c * self.CHUNK + _lowest_bit(self._chunks[c])


def _lowest_bit(x: int) -> int:
    """Index of the lowest set bit of ``x`` (> 0)."""
    return (x & -x).bit_length() - 1


# --------------------------------------------------------------------------------------------
# RANGED (src/vnm/RangedLeases.cc)
# --------------------------------------------------------------------------------------------


class RangedLeases:
    """Leases of a RANGED network: addresses ``network+1 … network+size``.

    ``cursor`` is 1.4's ``current % size``: it starts at 0 when the network is
    (re)loaded, stays on the address it just returned (next-fit), and a
    failed automatic lease moves it by ``size + 2`` attempts.
    """

    kind = RANGED

    def __init__(self, network: int, size: int, mac_prefix: int, used: Iterable[Lease] = ()):
        self.size = size
        self.mask = network_mask(size)
        self.network = network & self.mask
        self.mac_prefix = mac_prefix
        self.cursor = 0
        self._used: dict[int, Lease] = {}
        for lease in used:
            lease.used = True
            self._used[lease.ip] = lease
        self._free = FreeBitmap(size, (ip - self.network - 1 for ip in self._used))

    @classmethod
    def from_address(cls, address: str, size: int, mac_prefix: int) -> RangedLeases:
        """Build from the template's ``NETWORK_ADDRESS`` text.

        :raises LeaseError: the address is empty or malformed (1.4 crashed or
            used an uninitialised address).
        """
        ip = parse_ip(address) if address else None
        if ip is None:
            raise LeaseError(f"Network address is not defined or malformed: {address!r}")
        return cls(ip, size, mac_prefix)

    # -- queries --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Lease]:
        """The used leases in IP order (``<LEASES>`` of ``one.vn.info``)."""
        return iter(sorted(self._used.values(), key=lambda lease: lease.ip))

    def used_count(self) -> int:
        return len(self._used)

    def lease(self, ip: int) -> Lease | None:
        return self._used.get(ip)

    # -- changes --------------------------------------------------------------------------

    def _add(self, ip: int, vid: int) -> Lease:
        lease = Lease(ip, mac_for_ip(self.mac_prefix, ip), vid, True)
        self._used[ip] = lease
        self._free.take(ip - self.network - 1)
        return lease

    def get(self, vid: int) -> Lease:
        """Automatic lease: the first free address from the cursor on, wrapping."""
        slot = self._free.next_free(self.cursor)
        if slot is None:
            self.cursor = (self.cursor + self.size + 2) % self.size
            raise LeaseError("No free leases in the network")
        self.cursor = slot
        return self._add(self.network + slot + 1, vid)

    def set(self, vid: int, ip_text: str) -> Lease:
        """Requested IP: must parse, be inside the mask and be unused.

        Like 1.4 the range ``1…size`` is not checked: the network address,
        the broadcast address and addresses past ``size`` can be requested.
        """
        ip = parse_ip(ip_text)
        if ip is None:
            raise LeaseError(f"Malformed IP {ip_text}")
        if ip & self.mask != self.network:
            raise LeaseError(f"IP {ip_text} does not belong to the network")
        if ip in self._used:
            raise LeaseError(f"IP {ip_text} is already in use")
        return self._add(ip, vid)

    def release(self, ip: int) -> Lease | None:
        """Free ``ip`` (its row is deleted); None if it was not leased."""
        lease = self._used.pop(ip, None)
        if lease is not None:
            self._free.give(ip - self.network - 1)
        return lease


# --------------------------------------------------------------------------------------------
# FIXED (src/vnm/FixedLeases.cc)
# --------------------------------------------------------------------------------------------


class FixedLeases:
    """Leases of a FIXED network: exactly the declared ``LEASES``.

    ``cursor`` is the index (in IP order) where the next automatic lease
    starts looking; it starts at the first lease after each (re)load and
    moves past every lease handed out (round-robin next-fit). Requested IPs
    do not move it.
    """

    kind = FIXED

    def __init__(self, mac_prefix: int, leases: Iterable[Lease] = ()):
        self.mac_prefix = mac_prefix
        self.cursor = 0
        self._leases: list[Lease] = sorted(leases, key=lambda lease: lease.ip)
        self._index: dict[int, int] = {lease.ip: i for i, lease in enumerate(self._leases)}
        self._free = FreeBitmap(
            len(self._leases), (i for i, lease in enumerate(self._leases) if lease.used)
        )

    @staticmethod
    def parse_template_leases(
        entries: Iterable[str | Mapping[str, str]], mac_prefix: int
    ) -> tuple[list[Lease], list[str]]:
        """The ``LEASES`` attributes of a template → (free leases, error messages).

        Non-vector entries are ignored. An entry with a bad ``IP`` or ``MAC``
        is skipped with the message ``Error inserting lease, IP = <ip>`` /
        ``Error inserting lease, MAC = <mac>``; the network is still created.
        An IP listed twice keeps its first entry (decision: 1.4 kept the first
        in memory and the last in the DB).
        """
        leases: list[Lease] = []
        errors: list[str] = []
        seen: set[int] = set()
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            ip_text = entry.get("IP", "")
            mac_text = entry.get("MAC", "")
            ip = parse_ip(ip_text)
            if ip is None:
                errors.append(f"Error inserting lease, IP = {ip_text}")
                continue
            if mac_text:
                mac = parse_mac(mac_text)
                if mac is None:
                    errors.append(f"Error inserting lease, MAC = {mac_text}")
                    continue
            else:
                mac = mac_for_ip(mac_prefix, ip)
            if ip in seen:
                continue
            seen.add(ip)
            leases.append(Lease(ip, mac))
        return leases, errors

    # -- queries --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Lease]:
        """Every lease in IP order, free ones included."""
        return iter(self._leases)

    def __len__(self) -> int:
        return len(self._leases)

    def used_count(self) -> int:
        return len(self._leases) - self._free.free_count()

    def lease(self, ip: int) -> Lease | None:
        i = self._index.get(ip)
        return None if i is None else self._leases[i]

    # -- changes --------------------------------------------------------------------------

    def _take(self, i: int, vid: int) -> Lease:
        lease = self._leases[i]
        lease.used = True
        lease.vid = vid
        self._free.take(i)
        return lease

    def get(self, vid: int) -> Lease:
        """Automatic lease: the next free lease from the cursor on, wrapping once."""
        if not self._leases:
            raise LeaseError("The network has no leases")
        i = self._free.next_free(self.cursor % len(self._leases))
        if i is None:
            raise LeaseError("No free leases in the network")
        self.cursor = (i + 1) % len(self._leases)
        return self._take(i, vid)

    def set(self, vid: int, ip_text: str) -> Lease:
        """Requested IP: must be one of the leases and unused."""
        ip = parse_ip(ip_text)
        if ip is None:
            raise LeaseError(f"Malformed IP {ip_text}")
        i = self._index.get(ip)
        if i is None:
            raise LeaseError(f"IP {ip_text} is not a lease of the network")
        if self._leases[i].used:
            raise LeaseError(f"IP {ip_text} is already in use")
        return self._take(i, vid)

    def release(self, ip: int) -> Lease | None:
        """Mark ``ip`` free again (``used=0``, ``vid=-1``); None if unknown or already free."""
        i = self._index.get(ip)
        if i is None or not self._leases[i].used:
            return None
        lease = self._leases[i]
        lease.used = False
        lease.vid = -1
        self._free.give(i)
        return lease


Leases = RangedLeases | FixedLeases
"""Either kind of lease set."""
