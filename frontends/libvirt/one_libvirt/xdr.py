"""XDR (RFC 4506) packing and strict unpacking for libvirt's remote protocol.

Every length read from the wire is checked against the limit the protocol
declares for it (and against the bytes actually left) before anything is
allocated, so a hostile packet raises :class:`XdrError`, never a MemoryError.
"""

from __future__ import annotations

import builtins  # ``builtins.int``: inside Packer/Unpacker, ``int`` names their int method
import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

STRING_MAX = 4194304
"""``REMOTE_STRING_MAX`` of today's remote_protocol.x (4 MiB)."""


class XdrError(ValueError):
    """Malformed or out-of-bounds XDR data."""


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


class Packer:
    """Builds an XDR byte string."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def _integer(self, fmt: str, kind: str, value: int) -> Packer:
        """``value`` packed as ``fmt``; :class:`XdrError` when it does not fit."""
        try:
            self._parts.append(struct.pack(fmt, value))
        except struct.error:
            raise XdrError(f"{kind} out of range: {value}") from None
        return self

    def int(self, value: builtins.int) -> Packer:
        return self._integer(">i", "int", value)

    def uint(self, value: builtins.int) -> Packer:
        return self._integer(">I", "unsigned int", value)

    def hyper(self, value: builtins.int) -> Packer:
        return self._integer(">q", "hyper", value)

    def uhyper(self, value: builtins.int) -> Packer:
        return self._integer(">Q", "unsigned hyper", value)

    def fixed_opaque(self, data: bytes, size: builtins.int) -> Packer:
        if len(data) != size:
            raise XdrError(f"fixed opaque needs {size} bytes, got {len(data)}")
        self._parts.append(data + b"\0" * _pad(size))
        return self

    def opaque(self, data: bytes, maximum: builtins.int = STRING_MAX) -> Packer:
        if len(data) > maximum:
            raise XdrError(f"opaque of {len(data)} bytes exceeds {maximum}")
        self.uint(len(data))
        self._parts.append(data + b"\0" * _pad(len(data)))
        return self

    def char_array(self, data: bytes, maximum: builtins.int) -> Packer:
        """rpcgen's ``char x<N>``: a length, then each char as a 4-byte int."""
        if len(data) > maximum:
            raise XdrError(f"char array of {len(data)} exceeds {maximum}")
        self.uint(len(data))
        self._parts.append(b"".join(struct.pack(">i", b - 256 if b > 127 else b) for b in data))
        return self

    def string(self, text: str, maximum: builtins.int = STRING_MAX) -> Packer:
        return self.opaque(text.encode("utf-8"), maximum)

    def optional_string(self, text: str | None, maximum: builtins.int = STRING_MAX) -> Packer:
        """``remote_string``: a pointer (bool) then the string."""
        if text is None:
            return self.int(0)
        self.int(1)
        return self.string(text, maximum)

    def array(self, items: Sequence[T], pack: Callable[[Packer, T], object]) -> Packer:
        """A variable-length array: the count, then ``pack(self, item)`` for each item."""
        self.uint(len(items))
        for item in items:
            pack(self, item)
        return self

    def bytes(self) -> bytes:
        return b"".join(self._parts)


class Unpacker:
    """Reads an XDR byte string; every read checks bounds."""

    def __init__(self, data: bytes):
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def _take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining:
            raise XdrError(f"truncated: need {n} bytes, {self.remaining} left")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def int(self) -> builtins.int:
        return struct.unpack(">i", self._take(4))[0]

    def uint(self) -> builtins.int:
        return struct.unpack(">I", self._take(4))[0]

    def hyper(self) -> builtins.int:
        return struct.unpack(">q", self._take(8))[0]

    def uhyper(self) -> builtins.int:
        return struct.unpack(">Q", self._take(8))[0]

    def bool(self) -> bool:
        value = self.int()
        if value not in (0, 1):
            raise XdrError(f"bad boolean {value}")
        return bool(value)

    def fixed_opaque(self, size: builtins.int) -> bytes:
        data = self._take(size)
        self._take(_pad(size))
        return data

    def opaque(self, maximum: builtins.int = STRING_MAX) -> bytes:
        n = self.uint()
        if n > maximum:
            raise XdrError(f"length {n} exceeds the limit {maximum}")
        return self.fixed_opaque(n)

    def char_array(self, maximum: builtins.int) -> bytes:
        """rpcgen's ``char x<N>``: a length, then each char as a 4-byte int."""
        n = self.array_length(maximum)
        values = struct.unpack(f">{n}i", self._take(4 * n))
        if any(v < -128 or v > 255 for v in values):
            raise XdrError("char array element out of range")
        return bytes(v & 0xFF for v in values)

    def string(self, maximum: builtins.int = STRING_MAX) -> str:
        data = self.opaque(maximum)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise XdrError(f"string is not UTF-8: {exc}") from None

    def optional_string(self, maximum: builtins.int = STRING_MAX) -> str | None:
        return self.string(maximum) if self.bool() else None

    def array_length(self, maximum: builtins.int) -> builtins.int:
        """Length prefix of a variable-length array, checked against ``maximum``."""
        n = self.uint()
        if n > maximum:
            raise XdrError(f"array length {n} exceeds the limit {maximum}")
        return n

    def done(self) -> None:
        """Require that every byte was consumed (libvirt rejects trailing data)."""
        if self.remaining:
            raise XdrError(f"{self.remaining} unexpected trailing bytes")
