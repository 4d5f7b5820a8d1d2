"""Raw-socket tests of one-libvirtd: handshake, error replies, hostile packets.

Each bad packet must get a libvirt error reply (status ERROR, a remote_error)
or a clean close, and the server must keep serving that client (after an error
reply) and new clients (always).
"""

from __future__ import annotations

import contextlib
import socket
import stat
import struct
from pathlib import Path
from typing import Any

import pytest
from one_libvirt.domains import Domains
from one_libvirt.errors import LibvirtError
from one_libvirt.handlers import Session
from one_libvirt.oned import ClientOned
from one_libvirt.protocol import (
    KEEPALIVE_PROGRAM,
    REMOTE_PROGRAM,
    ErrCode,
    Header,
    MsgType,
    Proc,
    Status,
    frame,
)
from one_libvirt.server import Servers, TCPServer, UnixServer, session_factory_for
from one_libvirt.xdr import Packer, Unpacker

from one_core.client import Client

from .conftest import PASSWORD, Daemon  # type: ignore[import-not-found]


class Raw:
    """A bare protocol client."""

    def __init__(self, address: tuple[str, int] | str):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(address)
        self.serial = 0

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(
        self,
        proc: int,
        payload: bytes = b"",
        prog: int = REMOTE_PROGRAM,
        vers: int = 1,
        type_: int = MsgType.CALL,
    ) -> int:
        self.serial += 1
        self.send_raw(frame(Header(prog, vers, proc, type_, self.serial, Status.OK), payload))
        return self.serial

    def _exact(self, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def recv(self) -> tuple[Header, bytes] | None:
        raw = self._exact(4)
        if raw is None:
            return None
        (length,) = struct.unpack(">I", raw)
        body = self._exact(length - 4)
        assert body is not None
        return Header.unpack(body[:24]), body[24:]

    def call(self, proc: int, payload: bytes = b"") -> tuple[Header, bytes]:
        serial = self.send(proc, payload)
        reply = self.recv()
        assert reply is not None, "connection closed"
        header, body = reply
        assert header.serial == serial and header.proc == proc and header.type == MsgType.REPLY
        return header, body

    def closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return True

    def open(self) -> None:
        header, _ = self.call(Proc.AUTH_LIST)
        assert header.status == Status.OK
        header, body = self.call(
            Proc.CONNECT_OPEN, Packer().optional_string("one:///").uint(0).bytes()
        )
        assert header.status == Status.OK, error_of(body)


def error_of(body: bytes) -> tuple[int, str | None]:
    u = Unpacker(body)
    code = u.int()
    u.int()
    return code, u.optional_string()


def assert_serving(address: tuple[str, int] | str) -> None:
    """A fresh client completes the handshake and a call."""
    c = Raw(address)
    try:
        c.open()
        header, body = c.call(Proc.CONNECT_GET_TYPE)
        assert header.status == Status.OK
        assert Unpacker(body).string() == "ONE"
    finally:
        c.close()


@pytest.fixture
def addr(libvirtd: Daemon) -> tuple[str, int]:
    return ("127.0.0.1", libvirtd.port)


def test_handshake_as_virsh_sends_it(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    header, body = c.call(Proc.AUTH_LIST)
    assert header.status == Status.OK
    u = Unpacker(body)
    assert [u.int() for _ in range(u.array_length(20))] == [0]  # REMOTE_AUTH_NONE
    header, body = c.call(Proc.CONNECT_SUPPORTS_FEATURE, Packer().int(9).bytes())
    assert header.status == Status.OK and Unpacker(body).int() == 0
    c.open()
    header, body = c.call(Proc.CONNECT_GET_VERSION)
    assert Unpacker(body).uhyper() == 1_004_000
    header, body = c.call(Proc.CONNECT_CLOSE)
    assert header.status == Status.OK
    assert c.closed()


def test_calls_before_open_are_refused(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    header, body = c.call(Proc.CONNECT_NUM_OF_DOMAINS)
    assert header.status == Status.ERROR
    assert error_of(body) == (ErrCode.RPC, "connection not open")
    c.open()
    header, _ = c.call(Proc.CONNECT_NUM_OF_DOMAINS)
    assert header.status == Status.OK


def test_unknown_procedure_gets_no_support_and_connection_lives(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    c.open()
    for proc, api in ((27, "virDomainReboot"), (426, "virDomainGetMessages")):
        header, body = c.call(proc)
        assert header.status == Status.ERROR
        assert error_of(body) == (
            ErrCode.NO_SUPPORT,
            f"this function is not supported by the connection driver: {api}",
        )
    for proc in (99999, -5):  # not a procedure of libvirt 9.0
        header, body = c.call(proc)
        assert header.status == Status.ERROR
        assert error_of(body) == (ErrCode.NO_SUPPORT, f"unknown procedure: {proc}")
    header, _ = c.call(Proc.CONNECT_GET_TYPE)
    assert header.status == Status.OK


@pytest.mark.parametrize(
    ("proc", "payload", "says"),
    [
        (Proc.DOMAIN_LOOKUP_BY_NAME, struct.pack(">I", 0xFFFFFFFF), "exceeds the limit"),
        (Proc.DOMAIN_LOOKUP_BY_NAME, struct.pack(">I", 40) + b"abc", "truncated"),
        (Proc.DOMAIN_LOOKUP_BY_ID, b"\0\0", "truncated"),
        (Proc.DOMAIN_LOOKUP_BY_ID, b"\0" * 8, "trailing"),
        (Proc.DOMAIN_LOOKUP_BY_UUID, b"\0" * 10, "truncated"),
        (Proc.CONNECT_LIST_DOMAINS, struct.pack(">i", -1), "too many domains"),
        (Proc.DOMAIN_CREATE_XML, struct.pack(">I", 2) + b"\xff\xfe\0\0" + b"\0" * 4, "UTF-8"),
        (Proc.DOMAIN_GET_INFO, b"", "truncated"),
    ],
)
def test_malformed_arguments_get_rpc_errors(
    addr: tuple[str, int], proc: int, payload: bytes, says: str
) -> None:
    c = Raw(addr)
    c.open()
    header, body = c.call(proc, payload)
    assert header.status == Status.ERROR
    code, message = error_of(body)
    assert code == ErrCode.RPC and message is not None and says in message
    header, _ = c.call(Proc.CONNECT_NUM_OF_DOMAINS)
    assert header.status == Status.OK


def test_wrong_program_or_version(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    c.send(1, prog=0x12345678)
    header, body = c.recv()  # type: ignore[misc]
    assert header.status == Status.ERROR and "Cannot find program" in (error_of(body)[1] or "")
    c.send(66, vers=2)
    header, _ = c.recv()  # type: ignore[misc]
    assert header.status == Status.ERROR
    c.open()


def test_keepalive_ping_gets_pong(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    c.send(1, prog=KEEPALIVE_PROGRAM, type_=MsgType.MESSAGE)
    header, body = c.recv()  # type: ignore[misc]
    assert (header.prog, header.proc, header.type, body) == (
        KEEPALIVE_PROGRAM,
        2,
        MsgType.MESSAGE,
        b"",
    )


def test_oversized_message_gets_error_then_close(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    c.open()
    header = Header(REMOTE_PROGRAM, 1, Proc.DOMAIN_CREATE_XML, MsgType.CALL, 77, Status.OK)
    c.send_raw(struct.pack(">I", 5 * 1024 * 1024) + header.pack() + b"x" * 1000)
    reply = c.recv()
    assert reply is not None
    rh, body = reply
    assert (rh.serial, rh.status) == (77, Status.ERROR)
    code, message = error_of(body)
    assert code == ErrCode.RPC and "too large" in (message or "")
    assert c.closed()
    assert_serving(addr)


@pytest.mark.parametrize(
    "data",
    [
        struct.pack(">I", 100) + b"\0" * 30,  # truncated packet, then the client goes away
        struct.pack(">I", 8) + b"\0" * 4,  # length shorter than a header
        struct.pack(">I", 0),
        b"\0\0",  # not even a length word
    ],
)
def test_truncated_or_short_packets_close_cleanly(addr: tuple[str, int], data: bytes) -> None:
    c = Raw(addr)
    c.send_raw(data)
    with contextlib.suppress(OSError):  # the server may have hung up already
        c.sock.shutdown(socket.SHUT_WR)
    assert c.closed()
    c.close()
    assert_serving(addr)


def test_garbage_stream_then_new_clients(addr: tuple[str, int]) -> None:
    c = Raw(addr)
    c.send_raw(b"GET / HTTP/1.0\r\n\r\n")  # reads as a 1.1 GB length word
    assert c.closed()  # the server hangs up after waiting briefly for a header
    assert_serving(addr)


def test_unsupported_xml_is_an_error_reply(libvirtd: Daemon, addr: tuple[str, int]) -> None:
    c = Raw(addr)
    c.open()
    xml = "<domain><name>x</name><devices><hostdev mode='subsystem'/></devices></domain>"
    header, body = c.call(Proc.DOMAIN_CREATE_XML, Packer().string(xml).uint(0).bytes())
    assert header.status == Status.ERROR
    code, message = error_of(body)
    assert code == ErrCode.CONFIG_UNSUPPORTED and "<hostdev>" in (message or "")
    assert libvirtd.vm_ids() == []  # nothing reached oned
    header, _ = c.call(Proc.CONNECT_NUM_OF_DOMAINS)
    assert header.status == Status.OK


def test_unix_socket_is_private_and_serves(libvirtd: Daemon) -> None:
    mode = stat.S_IMODE(libvirtd.unix.stat().st_mode)
    assert mode == 0o600
    c = Raw(str(libvirtd.unix))
    c.open()
    header, body = c.call(Proc.CONNECT_IS_SECURE)
    assert Unpacker(body).int() == 1


def test_bad_credentials_fail_connect_open(oned: Any) -> None:
    url = oned.url

    def make_domains() -> Domains:
        return Domains(ClientOned(Client("oneadmin:wrong", endpoint=url)))

    servers = Servers()
    tcp = servers.add(TCPServer(("127.0.0.1", 0), session_factory_for(make_domains)))
    try:
        c = Raw(("127.0.0.1", tcp.server_address[1]))
        header, body = c.call(Proc.CONNECT_OPEN, Packer().optional_string(None).uint(0).bytes())
        assert header.status == Status.ERROR
        code, message = error_of(body)
        assert code == ErrCode.AUTH_FAILED and "authenticat" in (message or "")
    finally:
        servers.shutdown()


def test_stale_unix_socket_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays behind, as after a crash
    servers = Servers()
    servers.add(UnixServer(str(path), session_factory_for(lambda: None)))  # type: ignore[arg-type,return-value]
    try:
        c = Raw(str(path))
        header, body = c.call(Proc.AUTH_LIST)
        assert header.status == Status.OK
    finally:
        servers.shutdown()
    assert not path.exists()


def _sasl_start(c: Raw, data: bytes, mech: str = "PLAIN") -> tuple[Header, bytes]:
    return c.call(
        Proc.AUTH_SASL_START, Packer().string(mech).int(0).char_array(data, 65536).bytes()
    )


def test_sasl_plain_exchange(libvirtd_sasl: Daemon) -> None:
    c = Raw(str(libvirtd_sasl.unix))
    header, body = c.call(Proc.AUTH_LIST)
    u = Unpacker(body)
    assert u.uint() == 1 and u.int() == 1  # REMOTE_AUTH_SASL
    # nothing else before the login
    header, body = c.call(Proc.CONNECT_OPEN, Packer().optional_string(None).uint(0).bytes())
    assert header.status == Status.ERROR and error_of(body) == (
        ErrCode.AUTH_FAILED,
        "authentication required",
    )
    header, body = c.call(Proc.AUTH_SASL_INIT)
    assert Unpacker(body).string() == "PLAIN"
    for bad, says in [
        (b"oneadmin", "malformed"),
        (b"other\0oneadmin\0" + PASSWORD.encode(), "authorization id"),
        (b"\0oneadmin\0wrong", "authentication failed"),
    ]:
        header, body = _sasl_start(c, bad)
        assert header.status == Status.ERROR
        code, message = error_of(body)
        assert code == ErrCode.AUTH_FAILED and says in (message or "")
    header, body = _sasl_start(c, b"\0oneadmin\0" + PASSWORD.encode(), mech="DIGEST-MD5")
    assert header.status == Status.ERROR
    header, body = _sasl_start(c, b"\0oneadmin\0" + PASSWORD.encode())
    assert header.status == Status.OK
    u = Unpacker(body)
    assert (u.int(), u.int(), u.char_array(65536)) == (1, 0, b"")  # complete, no challenge
    c.open()
    header, body = c.call(Proc.CONNECT_NUM_OF_DOMAINS)  # oned answers as the logged-in user
    assert header.status == Status.OK and Unpacker(body).int() == 0


def test_session_domains_before_the_login_is_the_dispatch_error() -> None:
    """A handler reaching ``Session.domains`` before the SASL login gets the error the
    dispatcher sends for such calls (the dispatcher refuses them first)."""
    session = Session(user_domains=None)
    assert not session.authenticated
    with pytest.raises(LibvirtError) as err:
        session.domains.all()
    assert (err.value.code, err.value.message) == (ErrCode.AUTH_FAILED, "authentication required")


def test_sasl_is_not_offered_on_tcp(libvirtd_sasl: Daemon) -> None:
    c = Raw(("127.0.0.1", libvirtd_sasl.port))
    header, body = c.call(Proc.AUTH_LIST)
    u = Unpacker(body)
    assert u.uint() == 1 and u.int() == 0
    header, body = c.call(Proc.AUTH_SASL_INIT)
    assert header.status == Status.ERROR and error_of(body)[0] == ErrCode.AUTH_FAILED
    c.open()
