"""A small thread-per-connection HTTP/1.1 server for the WSGI app (xmlrpc-c Abyss style).

Why: waitress hands every request from its I/O thread to a worker thread and
back, which costs more than the XML-RPC call itself (docs/decisions/core.md).
Abyss, 1.4's server, served each connection in its own thread; this does the
same for at most ``max_connections`` connections at once (others wait in the
listen backlog), with keep-alive (15 s idle, 30 requests per connection as
Abyss) and a request read timeout of 15 s.

Only what an XML-RPC endpoint needs: ``Content-Length`` bodies (no chunked
requests: 411), bodies larger than ``max_body`` are refused unread with
``too_large_status`` (500, as Abyss) and the connection is closed. The WSGI app is called with a minimal
environ (``REQUEST_METHOD``, ``PATH_INFO``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``,
``wsgi.input``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("one.ReM")

KEEPALIVE_TIMEOUT = 15.0
KEEPALIVE_MAX = 30
MAX_HEADER = 64 * 1024
WORKER_IDLE = 60.0

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


class _Reject(Exception):
    def __init__(self, status: int):
        self.status = status


class ThreadedHTTPServer:
    """Serve ``app`` on ``host:port``; :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        app: Callable[..., Any],
        port: int,
        host: str = "0.0.0.0",
        max_connections: int = 64,
        max_body: int = 16 * 1024 * 1024,
        server_name: str = "OpenNebula-py",
        too_large_status: int = 500,
    ):
        self.app = app
        self.max_body = max_body
        self.too_large_status = too_large_status
        self.server_name = server_name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(128)
        except OSError:
            self.sock.close()
            raise
        self.port: int = self.sock.getsockname()[1]
        self._slots = threading.BoundedSemaphore(max_connections)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._handoff: queue.SimpleQueue[socket.socket | None] = queue.SimpleQueue()
        self._idle_workers = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="rpc-accept", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with self._lock:
            for c in list(self._conns):
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            idle, self._idle_workers = self._idle_workers, 0
        for _ in range(idle):
            self._handoff.put(None)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            self._slots.acquire()
            try:
                conn, _ = self.sock.accept()
            except OSError:
                self._slots.release()
                if self._stop.is_set():
                    return
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.add(conn)
                if self._idle_workers > 0:
                    self._idle_workers -= 1
                    self._handoff.put(conn)
                    continue
            threading.Thread(
                target=self._worker, args=(conn,), name="rpc-conn", daemon=True
            ).start()

    def _worker(self, conn: socket.socket | None) -> None:
        """Serve ``conn``, then wait for the next connection (threads, and the per-thread
        database connections they opened, are reused; a worker idle for
        ``WORKER_IDLE`` seconds exits)."""
        while conn is not None and not self._stop.is_set():
            self._serve(conn)
            with self._lock:
                if self._stop.is_set():
                    return
                self._idle_workers += 1
            try:
                conn = self._handoff.get(timeout=WORKER_IDLE)
            except queue.Empty:
                with self._lock:
                    if self._idle_workers > 0 and self._handoff.empty():
                        self._idle_workers -= 1
                        return
                conn = self._handoff.get()  # the acceptor counted on this worker

    # -- one connection --------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(KEEPALIVE_TIMEOUT)
            rfile = conn.makefile("rb", buffering=65536)
            for n in range(KEEPALIVE_MAX):
                keep = self._one_request(conn, rfile, last=(n == KEEPALIVE_MAX - 1))
                if not keep:
                    break
        except (OSError, ValueError):
            pass
        except Exception:
            log.exception("HTTP connection failed")
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            finally:
                self._slots.release()

    def _one_request(self, conn: socket.socket, rfile: Any, last: bool) -> bool:
        try:
            line = rfile.readline(MAX_HEADER)
        except TimeoutError:
            return False
        if not line:
            return False
        try:
            method, target, version = line.decode("latin-1").split()
        except ValueError:
            self._send(conn, 400, b"", close=True)
            return False
        headers: dict[str, str] = {}
        size = len(line)
        while True:
            h = rfile.readline(MAX_HEADER)
            size += len(h)
            if not h or size > MAX_HEADER:
                self._send(conn, 400, b"", close=True)
                return False
            if h in (b"\r\n", b"\n"):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        http10 = version == "HTTP/1.0"
        conn_hdr = headers.get("connection", "").lower()
        keep = not last and (
            (not http10 and conn_hdr != "close") or (http10 and conn_hdr == "keep-alive")
        )
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._send(conn, 411, b"", close=True)
            return False
        clen = headers.get("content-length")
        length = 0
        if clen is not None:
            try:
                length = int(clen)
            except ValueError:
                self._send(conn, 400, b"", close=True)
                return False
        if length > self.max_body:
            self._send(conn, self.too_large_status, b"", close=True)
            return False
        try:
            body = rfile.read(length) if length > 0 else b""
        except TimeoutError:
            self._send(conn, 408, b"", close=True)
            return False
        if len(body) < length:
            return False
        path = target.split("?", 1)[0]
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_TYPE": headers.get("content-type", ""),
            "CONTENT_LENGTH": clen or "",
            "wsgi.input": io.BytesIO(body),
            "SERVER_PROTOCOL": version,
        }
        status_line: list[str] = []
        out_headers: list[tuple[str, str]] = []

        def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> None:
            status_line[:] = [status]
            out_headers[:] = hdrs

        chunks = self.app(environ, start_response)
        payload = b"".join(chunks)
        code = int(status_line[0].split(" ", 1)[0])
        self._send(conn, code, payload, close=not keep, headers=out_headers, http10=http10)
        return keep

    def _send(
        self,
        conn: socket.socket,
        code: int,
        payload: bytes,
        close: bool,
        headers: list[tuple[str, str]] | None = None,
        http10: bool = False,
    ) -> None:
        lines = [f"HTTP/1.1 {code} {_REASONS.get(code, 'Error')}"]
        have_len = False
        for k, v in headers or []:
            if k.lower() == "content-length":
                have_len = True
            lines.append(f"{k}: {v}")
        if not have_len:
            lines.append(f"Content-Length: {len(payload)}")
        if close:
            lines.append("Connection: close")
        else:
            lines.append("Connection: Keep-Alive")
            lines.append(f"Keep-Alive: timeout={int(KEEPALIVE_TIMEOUT)}, max={KEEPALIVE_MAX}")
        lines.append(f"Server: {self.server_name}")
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
