"""libvirt RPC framing and the REMOTE program's procedure numbers.

Numbers and layouts follow libvirt's ``src/rpc/virnetprotocol.x`` (the
packet header) and ``src/remote/remote_protocol.x`` (program REMOTE); they
were checked against Debian's virsh 9.0 and libvirt-python talking to this
server (see ``docs/libvirt.md``).

A packet is ``uint length`` (whole packet, the 4 bytes included) then the
24-byte header ``prog vers proc type serial status`` then the XDR payload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from one_libvirt.xdr import Packer, Unpacker

REMOTE_PROGRAM = 0x20008086
REMOTE_PROTOCOL_VERSION = 1
KEEPALIVE_PROGRAM = 0x6B656570  # "keep"

LEN_SIZE = 4
HEADER_SIZE = 24
MESSAGE_MAX = 4 * 1024 * 1024
"""Largest packet accepted (libvirt's own limit is larger; 4 MiB is plenty for domain XML)."""

UUID_LEN = 16
DOMAIN_LIST_MAX = 16384
AUTH_TYPE_LIST_MAX = 20
VCPUINFO_MAX = 16384
CPUMAPS_MAX = 8388608
CPUMAP_MAX = 2048


class MsgType(IntEnum):
    CALL = 0
    REPLY = 1
    MESSAGE = 2
    STREAM = 3
    CALL_WITH_FDS = 4
    REPLY_WITH_FDS = 5


class Status(IntEnum):
    OK = 0
    ERROR = 1
    CONTINUE = 2


class Proc(IntEnum):
    """Procedures of program REMOTE this server implements."""

    CONNECT_OPEN = 1
    CONNECT_CLOSE = 2
    CONNECT_GET_TYPE = 3
    CONNECT_GET_VERSION = 4
    CONNECT_GET_MAX_VCPUS = 5
    NODE_GET_INFO = 6
    CONNECT_GET_CAPABILITIES = 7
    DOMAIN_CREATE = 9
    DOMAIN_CREATE_XML = 10
    DOMAIN_DEFINE_XML = 11
    DOMAIN_DESTROY = 12
    DOMAIN_GET_XML_DESC = 14
    DOMAIN_GET_AUTOSTART = 15
    DOMAIN_GET_INFO = 16
    DOMAIN_GET_MAX_MEMORY = 17
    DOMAIN_GET_MAX_VCPUS = 18
    DOMAIN_GET_OS_TYPE = 19
    DOMAIN_GET_VCPUS = 20
    CONNECT_LIST_DEFINED_DOMAINS = 21
    DOMAIN_LOOKUP_BY_ID = 22
    DOMAIN_LOOKUP_BY_NAME = 23
    DOMAIN_LOOKUP_BY_UUID = 24
    CONNECT_NUM_OF_DEFINED_DOMAINS = 25
    DOMAIN_RESUME = 28
    DOMAIN_SET_MEMORY = 31
    DOMAIN_SHUTDOWN = 33
    DOMAIN_SUSPEND = 34
    DOMAIN_UNDEFINE = 35
    CONNECT_LIST_DOMAINS = 37
    CONNECT_LIST_DEFINED_NETWORKS = 36
    CONNECT_LIST_NETWORKS = 38
    NETWORK_GET_XML_DESC = 43
    NETWORK_GET_AUTOSTART = 44
    NETWORK_GET_BRIDGE_NAME = 45
    NETWORK_LOOKUP_BY_NAME = 46
    NETWORK_LOOKUP_BY_UUID = 47
    CONNECT_NUM_OF_DEFINED_NETWORKS = 50
    CONNECT_NUM_OF_DOMAINS = 51
    CONNECT_NUM_OF_NETWORKS = 52
    CONNECT_GET_HOSTNAME = 59
    CONNECT_SUPPORTS_FEATURE = 60
    AUTH_LIST = 66
    AUTH_SASL_INIT = 67
    AUTH_SASL_START = 68
    AUTH_SASL_STEP = 69
    NODE_GET_CELLS_FREE_MEMORY = 101
    NODE_GET_FREE_MEMORY = 102
    DOMAIN_EVENT_LIFECYCLE = 107
    CONNECT_GET_URI = 110
    CONNECT_IS_SECURE = 149
    DOMAIN_IS_ACTIVE = 150
    DOMAIN_IS_PERSISTENT = 151
    NETWORK_IS_ACTIVE = 152
    NETWORK_IS_PERSISTENT = 153
    CONNECT_GET_LIB_VERSION = 157
    CONNECT_DOMAIN_EVENT_REGISTER_ANY = 167
    CONNECT_DOMAIN_EVENT_DEREGISTER_ANY = 168
    DOMAIN_HAS_MANAGED_SAVE_IMAGE = 183
    DOMAIN_CREATE_WITH_FLAGS = 196
    DOMAIN_GET_VCPUS_FLAGS = 200
    DOMAIN_IS_UPDATED = 202
    DOMAIN_SET_MEMORY_FLAGS = 204
    DOMAIN_GET_STATE = 212
    NODE_GET_CPU_STATS = 227
    NODE_GET_MEMORY_STATS = 228
    DOMAIN_UNDEFINE_FLAGS = 231
    DOMAIN_DESTROY_FLAGS = 234
    DOMAIN_SHUTDOWN_FLAGS = 258
    CONNECT_LIST_ALL_DOMAINS = 273
    CONNECT_LIST_ALL_NETWORKS = 283
    NODE_GET_CPU_MAP = 293
    CONNECT_GET_ALL_DOMAIN_STATS = 344
    DOMAIN_DEFINE_XML_FLAGS = 350
    DOMAIN_INTERFACE_ADDRESSES = 353


class AuthType(IntEnum):
    NONE = 0
    SASL = 1
    POLKIT = 2


class ErrCode(IntEnum):
    """virErrorNumber values used in replies."""

    INTERNAL_ERROR = 1
    NO_SUPPORT = 3
    INVALID_ARG = 8
    OPERATION_FAILED = 9
    XML_ERROR = 27
    DOM_EXIST = 28
    OPERATION_DENIED = 29
    NO_NETWORK = 43
    RPC = 39
    NO_DOMAIN = 42
    AUTH_FAILED = 45
    OPERATION_INVALID = 55
    CONFIG_UNSUPPORTED = 67
    OPERATION_UNSUPPORTED = 84


class ErrDomain(IntEnum):
    """virErrorDomain values used in replies."""

    RPC = 7
    REMOTE = 13
    ONE = 27


ERR_LEVEL_ERROR = 2


@dataclass(frozen=True)
class Header:
    prog: int
    vers: int
    proc: int
    type: int
    serial: int
    status: int

    _FMT = ">IIiiII"

    def pack(self) -> bytes:
        return struct.pack(
            self._FMT, self.prog, self.vers, self.proc, self.type, self.serial, self.status
        )

    @classmethod
    def unpack(cls, data: bytes) -> Header:
        return cls(*struct.unpack(cls._FMT, data[:HEADER_SIZE]))

    def reply(self, status: Status) -> Header:
        """The header of the reply to this call."""
        return Header(self.prog, self.vers, self.proc, MsgType.REPLY, self.serial, status)


def frame(header: Header, payload: bytes) -> bytes:
    """A whole packet: length word, header, payload."""
    return struct.pack(">I", LEN_SIZE + HEADER_SIZE + len(payload)) + header.pack() + payload


@dataclass(frozen=True)
class WireDomain:
    """``remote_nonnull_domain``: name, 16-byte uuid, id (-1 when inactive)."""

    name: str
    uuid: bytes
    id: int

    def pack(self, p: Packer) -> Packer:
        p.string(self.name)
        p.fixed_opaque(self.uuid, UUID_LEN)
        return p.int(self.id)

    @classmethod
    def unpack(cls, u: Unpacker) -> WireDomain:
        name = u.string()
        uuid = u.fixed_opaque(UUID_LEN)
        return cls(name, uuid, u.int())


def pack_error(code: int, message: str, domain: int = ErrDomain.ONE) -> bytes:
    """``remote_error``: code, domain, message, level, dom, str1-3, int1-2, net."""
    p = Packer()
    p.int(int(code)).int(int(domain)).optional_string(message).int(ERR_LEVEL_ERROR)
    p.int(0)  # dom: NULL
    p.optional_string(message).optional_string(None).optional_string(None)
    p.int(0).int(0)
    p.int(0)  # net: NULL
    return p.bytes()
