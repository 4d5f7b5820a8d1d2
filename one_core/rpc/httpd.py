"""oned's HTTP server: uvicorn (httptools; uvloop when installed) in front of the WSGI XML-RPC app.

Why (docs/decisions.md, "HTTP layer"): the event loop holds every connection
for the price of a few KiB, so slow or idle clients never occupy a thread;
only complete requests reach the worker threads (``threads`` of them, each with
its own reused database connection). What it guarantees against hostile clients:

* **whole-request deadline**: a request must arrive complete (request line,
  headers and body) within ``request_timeout`` seconds of its first byte, and
  a new connection must send its first request within the same time, or the
  connection is closed — trickling one header line every few seconds buys nothing;
* **keep-alive that always answers or closes**: idle keep-alive connections
  are closed after ``KEEPALIVE_TIMEOUT`` seconds; a call that takes longer
  than ``call_timeout`` is answered with fault −500 and the connection closed;
* **connection limit**: past ``max_connections`` open connections, requests
  get ``503`` (uvicorn's ``limit_concurrency``);
* **body limit**: a ``Content-Length`` above the app's ``max_body`` is answered
  with the app's XML-RPC fault (−509); bodies over ``DRAIN_FACTOR`` times the
  limit are not read at all and the connection is closed after the fault;
* optional TLS (``certfile`` / ``keyfile``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def _uvicorn_without_cli() -> None:
    """Let ``import uvicorn.<part>`` skip the package's ``__init__`` until a name of it is used.

    uvicorn's ``__init__`` imports ``uvicorn.main``, its command line: click and the
    multiprocessing supervisors, 2.5 MiB of an idle oned that uses neither (issue 15).
    The package is put in ``sys.modules`` created from its spec but not run; the first
    attribute looked up on it that it lacks (``uvicorn.run``, ``uvicorn.main``, … in
    any other code of the process) runs the real ``__init__`` then, so nothing else sees
    a difference.
    """
    if "uvicorn" in sys.modules:
        return
    spec = importlib.util.find_spec("uvicorn")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not installed as a package: the import below fails as it would have
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def __getattr__(name: str) -> Any:  # PEP 562: only names the package lacks get here
        if name.startswith("__") or "__getattr__" not in package.__dict__:
            raise AttributeError(name)
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__dict__["__getattr__"] = __getattr__
    sys.modules["uvicorn"] = package


_uvicorn_without_cli()

from uvicorn.config import Config  # noqa: E402 - after _uvicorn_without_cli
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import Server  # noqa: E402

from one_core.rpc.codec import encode_fault  # noqa: E402

if "__getattr__" in vars(sys.modules["uvicorn"]):  # not run yet: the names its own modules
    vars(sys.modules["uvicorn"]).update(Config=Config, Server=Server)  # import from it

log = logging.getLogger("one.ReM")

KEEPALIVE_TIMEOUT = 15
"""Seconds an idle keep-alive connection stays open (Abyss's default)."""
REQUEST_TIMEOUT = 15.0
"""Seconds a whole request may take to arrive, from its first byte."""
CALL_TIMEOUT = 120.0
"""Seconds a call may run before the client is answered with a fault."""
FAULT_TIMEOUT = -500
DRAIN_FACTOR = 4
"""Bodies up to this many times the limit are read (and dropped) before the fault."""
UVICORN_SETTINGS: dict[str, Any] = {
    "loop": "auto",  # uvloop when installed (it is a dependency), else asyncio
    "ws": "none",  # XML-RPC only: no WebSocket upgrade
    "lifespan": "off",
    "interface": "asgi3",
    "log_config": None,  # oned's logging is set up by the daemon, not by uvicorn
    "log_level": "warning",
    "access_log": False,  # a line per call would drown oned.log
    "server_header": False,  # Abyss (1.4) sent no uvicorn banner; neither do we
    "date_header": False,
    "proxy_headers": False,  # never trust X-Forwarded-For: login back-off keys on the peer
    "timeout_keep_alive": KEEPALIVE_TIMEOUT,
    "timeout_graceful_shutdown": 1,  # calls in progress get 1 s at stop
}
"""The uvicorn settings that never change (the per-server ones are passed beside them)."""


class _DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a whole-request deadline.

    The deadline is armed when the connection opens and when a request's first
    byte arrives, and disarmed once the request is complete (the app then runs
    under ``call_timeout``); when it fires the connection is closed.
    """

    request_timeout = REQUEST_TIMEOUT
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


class WsgiBridge:
    """An ASGI app running a WSGI app on a thread pool, one complete request at a time."""

    def __init__(
        self,
        wsgi: Callable[..., Any],
        threads: int,
        server_name: str,
        max_body: int,
        call_timeout: float = CALL_TIMEOUT,
    ):
        self.wsgi = wsgi
        self.server_name = server_name.encode()
        self.max_body = max_body
        self.call_timeout = call_timeout
        self.pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="rpc")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        clen = headers.get("content-length", "")
        try:
            length = int(clen) if clen else 0
        except ValueError:
            length = -1
        close = False
        body = b""
        if 0 <= length <= DRAIN_FACTOR * self.max_body:
            # over max_body: read and dropped, so that the client can read the fault
            keep = length <= self.max_body
            chunks = []
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                if keep:
                    chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
        else:
            close = True  # body left unread: this connection cannot be reused
        environ = {
            "REQUEST_METHOD": scope["method"],
            "PATH_INFO": scope["path"],
            "CONTENT_TYPE": headers.get("content-type", ""),
            "CONTENT_LENGTH": clen,
            "wsgi.input": io.BytesIO(body),
            "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
            "REMOTE_ADDR": (scope.get("client") or ("", 0))[0],
            "wsgi.url_scheme": scope.get("scheme", "http"),
        }
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, _run_wsgi, self.wsgi, environ)
        expired: list[bool] = []
        timer = loop.call_later(self.call_timeout, _expire, future, expired)
        try:
            status, out_headers, payload = await future
        except asyncio.CancelledError:
            if not expired:
                raise  # the server is shutting down
            log.error("Call took more than %.0f s; answered with a fault", self.call_timeout)
            status, out_headers = 200, [(b"content-type", b"text/xml; charset=utf-8")]
            payload = [encode_fault(FAULT_TIMEOUT, "Request timed out")]
            close = True
        finally:
            timer.cancel()
        if status >= 400:
            close = True
        out_headers = [h for h in out_headers if h[0].lower() != b"content-length"]
        out_headers.append((b"content-length", str(sum(len(p) for p in payload)).encode()))
        out_headers.append((b"server", self.server_name))
        if close:
            out_headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        last = len(payload) - 1
        for i, part in enumerate(payload):  # a listing's parts: never joined (docs/decisions.md)
            await send({"type": "http.response.body", "body": part, "more_body": i < last})


def _expire(future: asyncio.Future[Any], expired: list[bool]) -> None:
    """The call took longer than ``call_timeout``: stop waiting for it (a cheaper
    ``asyncio.wait_for``; the worker thread finishes on its own)."""
    expired.append(True)
    future.cancel()


def _run_wsgi(
    wsgi: Callable[..., Any], environ: dict[str, Any]
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    """Run the WSGI app; ``(status, headers, the body in the parts the app returned)``."""
    status: list[str] = []
    headers: list[tuple[bytes, bytes]] = []

    def start_response(line: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> None:
        status[:] = [line]
        headers[:] = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in hdrs]

    try:
        payload = [part for part in wsgi(environ, start_response) if part] or [b""]
    except Exception:
        log.exception("HTTP request failed")
        return 500, [(b"content-type", b"text/plain")], [b"500 Internal Server Error\n"]
    return int(status[0].split(" ", 1)[0]), headers, payload


class UvicornHTTPServer:
    """Serve a WSGI ``app`` on ``host:port`` from a background thread; :meth:`start` / :meth:`stop`.

    The socket is bound in the constructor (``OSError`` if the port is taken) and
    listens from :meth:`start` on.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        port: int,
        host: str = "0.0.0.0",
        threads: int = 8,
        max_connections: int = 1024,
        server_name: str = "OpenNebula-py",
        certfile: str | None = None,
        keyfile: str | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        call_timeout: float = CALL_TIMEOUT,
    ):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
        self.sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))  # listen() in start(): no connection before that
        except OSError:
            self.sock.close()
            raise
        self.port: int = self.sock.getsockname()[1]
        self.bridge = WsgiBridge(
            app,
            threads,
            server_name,
            max_body=int(getattr(app, "max_body", 512 * 1024)),
            call_timeout=call_timeout,
        )
        protocol = type("_Protocol", (_DeadlineProtocol,), {"request_timeout": request_timeout})
        config = Config(
            self.bridge,
            http=protocol,
            limit_concurrency=max_connections,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            ssl_cert_reqs=ssl.CERT_NONE,
            **UVICORN_SETTINGS,
        )
        self.server = Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Accept connections from now on (queued until the event loop runs)."""
        self.sock.listen(1024)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="rpc-http", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop listening, close connections (calls in progress get up to 1 s), join."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self.server.force_exit = True
                self._thread.join(1.0)
        self.sock.close()
        self.bridge.pool.shutdown(wait=False, cancel_futures=True)
