"""``one-libvirtd``'s network side: framing, dispatch, error replies.

One thread per connection (``socketserver``), on TCP and/or a UNIX socket.
Every failure of a call becomes a REPLY with status ERROR and a
``remote_error`` body; only a packet whose length word is unusable (shorter
than a header, larger than :data:`MESSAGE_MAX`) or a truncated packet ends the
connection, as libvirtd does. The server itself keeps serving in every case.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from one_libvirt import (  # noqa: F401  (register their procedures)
    domain_calls,
    event_calls,
    network_calls,
    node_calls,
    sasl,
    stats_calls,
)
from one_libvirt.domains import Domains
from one_libvirt.errors import LibvirtError
from one_libvirt.events import EventHub
from one_libvirt.handlers import (
    AUTH_PROCS,
    BEFORE_OPEN,
    HANDLERS,
    Session,
    authentication_required,
)
from one_libvirt.procnames import api_name
from one_libvirt.protocol import (
    HEADER_SIZE,
    KEEPALIVE_PROGRAM,
    LEN_SIZE,
    MESSAGE_MAX,
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    ErrCode,
    ErrDomain,
    Header,
    MsgType,
    Status,
    frame,
    pack_error,
)
from one_libvirt.xdr import Unpacker, XdrError

log = logging.getLogger("one_libvirt")

HEADER_WAIT = 2.0
"""Seconds to wait for the header of an oversized packet before closing."""

ServerT = TypeVar("ServerT", bound=socketserver.BaseServer)
"""Any listener; :meth:`Servers.add` gives back the one it got, with its own type."""

SessionFactory = Callable[[bool], Session]
"""Builds the state of a new connection; the argument is "the transport is local (UNIX)"."""


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """``n`` bytes, or None if the peer closed first."""
    chunks = []
    while n:
        try:
            chunk = sock.recv(min(n, 65536))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def no_support(proc: int) -> LibvirtError:
    """libvirt's error for an API the connection driver does not implement."""
    name = api_name(proc)
    if name is None:
        return LibvirtError(ErrCode.NO_SUPPORT, f"unknown procedure: {proc}", ErrDomain.RPC)
    return LibvirtError(
        ErrCode.NO_SUPPORT, f"this function is not supported by the connection driver: {name}"
    )


def dispatch(session: Session, header: Header, payload: bytes) -> tuple[Status, bytes]:
    """Run one CALL of program REMOTE; never raises."""
    handler = HANDLERS.get(header.proc)
    try:
        if handler is None:
            raise no_support(header.proc)
        if not session.authenticated and header.proc not in AUTH_PROCS:
            raise authentication_required()
        if not session.opened and header.proc not in BEFORE_OPEN:
            raise LibvirtError(ErrCode.RPC, "connection not open", ErrDomain.RPC)
        return Status.OK, handler(session, Unpacker(payload))
    except LibvirtError as exc:
        return Status.ERROR, pack_error(exc.code, exc.message, exc.domain)
    except XdrError as exc:
        msg = f"malformed arguments of procedure {header.proc}: {exc}"
        return Status.ERROR, pack_error(ErrCode.RPC, msg, ErrDomain.RPC)
    except Exception as exc:  # a bug must not take the connection down
        log.exception("procedure %s failed", header.proc)
        return Status.ERROR, pack_error(ErrCode.INTERNAL_ERROR, f"internal error: {exc}")


class ConnectionHandler(socketserver.BaseRequestHandler):
    """Serves one client connection until it closes."""

    server: _ServerMixin

    def handle(self) -> None:
        sock: socket.socket = self.request
        session = self.server.session_factory(self.server.local)
        self._lock = threading.Lock()

        def send_message(proc: int, payload: bytes) -> bool:
            header = Header(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, proc, MsgType.MESSAGE, 0, 0)
            return self._send(sock, header, payload)

        session.send_message = send_message
        try:
            self._serve(sock, session)
        finally:
            if session.events is not None:
                session.events.unregister(session)

    def _serve(self, sock: socket.socket, session: Session) -> None:
        max_size = self.server.max_message
        while not session.closing:
            raw_len = _recv_exact(sock, LEN_SIZE)
            if raw_len is None:
                return
            (length,) = struct.unpack(">I", raw_len)
            if length < LEN_SIZE + HEADER_SIZE:
                log.info("closing: packet length %d too small", length)
                return
            if length > max_size:
                # Answer with an error if the header follows promptly, then hang up: the
                # rest of an oversized packet is never read.
                sock.settimeout(HEADER_WAIT)
                raw_header = _recv_exact(sock, HEADER_SIZE)
                if raw_header is not None:
                    header = Header.unpack(raw_header)
                    msg = f"packet {length} bytes received from client too large, limit {max_size}"
                    self._send(
                        sock,
                        header.reply(Status.ERROR),
                        pack_error(ErrCode.RPC, msg, ErrDomain.RPC),
                    )
                log.info("closing: packet length %d over the limit", length)
                return
            body = _recv_exact(sock, length - LEN_SIZE)
            if body is None:
                return
            header = Header.unpack(body[:HEADER_SIZE])
            payload = body[HEADER_SIZE:]
            if header.prog == KEEPALIVE_PROGRAM:
                if header.proc == 1:  # PING -> PONG
                    pong = Header(KEEPALIVE_PROGRAM, 1, 2, MsgType.MESSAGE, 0, Status.OK)
                    self._send(sock, pong, b"")
                continue
            if header.type != MsgType.CALL:
                if header.type == MsgType.CALL_WITH_FDS:
                    msg = "file descriptor passing is not supported"
                    self._send(
                        sock,
                        header.reply(Status.ERROR),
                        pack_error(ErrCode.NO_SUPPORT, msg, ErrDomain.RPC),
                    )
                continue  # replies/streams from a client are ignored
            if header.prog != REMOTE_PROGRAM or header.vers != REMOTE_PROTOCOL_VERSION:
                msg = f"Cannot find program {header.prog} version {header.vers}"
                self._send(
                    sock, header.reply(Status.ERROR), pack_error(ErrCode.RPC, msg, ErrDomain.RPC)
                )
                continue
            status, reply = dispatch(session, header, payload)
            log.debug("proc %d serial %d -> %s", header.proc, header.serial, status.name)
            if not self._send(sock, header.reply(status), reply):
                return

    def _send(self, sock: socket.socket, header: Header, payload: bytes) -> bool:
        """One whole packet; replies and event messages never interleave."""
        try:
            with self._lock:
                sock.sendall(frame(header, payload))
            return True
        except OSError:
            return False


class _ServerMixin(socketserver.BaseServer):
    """What both listeners add to a ``socketserver`` server (the handler's ``self.server``)."""

    session_factory: SessionFactory
    local: bool
    max_message: int


class TCPServer(_ServerMixin, socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    local = False

    def __init__(
        self,
        address: tuple[str, int],
        session_factory: SessionFactory,
        max_message: int = MESSAGE_MAX,
    ):
        self.session_factory = session_factory
        self.max_message = max_message
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, ConnectionHandler)


class UnixServer(_ServerMixin, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    local = True

    def __init__(
        self,
        path: str,
        session_factory: SessionFactory,
        max_message: int = MESSAGE_MAX,
        mode: int = 0o600,
    ):
        self.session_factory = session_factory
        self.max_message = max_message
        self.path = path  # the socket file Servers.shutdown removes
        p = Path(path)
        if p.is_socket():
            p.unlink()
        p.parent.mkdir(parents=True, exist_ok=True)
        old = os.umask(0o177)
        try:
            super().__init__(path, ConnectionHandler)
        finally:
            os.umask(old)
        os.chmod(path, mode)


def session_factory_for(
    make_domains: Callable[[], Domains],
    check: bool = True,
    login: Callable[[str, str], Domains] | None = None,
    event_interval: float = 1.0,
) -> SessionFactory:
    """Sessions as the daemon's user (CONNECT_OPEN verifies its credentials with one pool
    call); with ``login``, local (UNIX socket) connections must log in with SASL PLAIN.

    All sessions share one :class:`EventHub`: one poller of oned's VM pool (as the daemon's
    user, every ``event_interval`` seconds while a client is registered for events)."""
    hub = EventHub(lambda: make_domains().oned, event_interval)

    def factory(local: bool) -> Session:
        if login is not None and local:
            return Session(user_domains=None, secure=True, login=login, events=hub)
        domains = make_domains()

        def open_check() -> None:
            try:
                domains.oned.pool()
            except LibvirtError as exc:
                raise LibvirtError(ErrCode.AUTH_FAILED, f"authentication failed: {exc}") from None

        return Session(
            user_domains=domains,
            secure=local,
            open_check=open_check if check else None,
            events=hub,
        )

    return factory


class Servers:
    """The listening sockets of one ``one-libvirtd``, each served by its own thread."""

    def __init__(self) -> None:
        self.servers: list[socketserver.BaseServer] = []
        self.threads: list[threading.Thread] = []

    def add(self, server: ServerT) -> ServerT:
        self.servers.append(server)
        t = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"one-libvirtd-{len(self.threads)}",
            daemon=True,
        )
        t.start()
        self.threads.append(t)
        return server

    def shutdown(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
            if isinstance(server, UnixServer):
                with contextlib.suppress(OSError):
                    os.unlink(server.path)
