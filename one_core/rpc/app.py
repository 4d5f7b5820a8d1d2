"""The WSGI application serving XML-RPC on ``/RPC2``, and :class:`RpcServer` around it.

HTTP behaviour follows xmlrpc-c's Abyss server (``spec/xmlrpc-api.md`` §1.1):
only ``POST /RPC2`` (the 1.4 wire) and ``POST /RPC2/modern`` (today's dialect,
:mod:`one_core.rpc.modern`; other paths 404, other methods 405), ``Content-Type``
must be ``text/xml`` (400), ``Content-Length`` required (411), bodies over
``max_body`` (512 KiB, xmlrpc-c's default) get fault −509 (xmlrpc-c's
``XMLRPC_LIMIT_EXCEEDED_ERROR``; 1.4 answered HTTP 500) — the HTTP server,
:mod:`one_core.rpc.httpd`, does not read such a body and closes the connection.
Responses: 200, ``Content-Type: text/xml; charset=utf-8``, exact length.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from one_core.rpc.codec import (
    FAULT_LIMIT,
    LimitError,
    RequestError,
    encode_fault,
    encode_response_parts,
    parse_call,
)
from one_core.rpc.registry import (
    FAULT_INTERNAL,
    FAULT_PARSE,
    REGISTRY,
    Fault,
    Registry,
    dispatch,
)
from one_core.rpc.security import set_client

if TYPE_CHECKING:
    from one_core.daemon.core import Core

log = logging.getLogger("one.rpc")

MAX_BODY = 512 * 1024
"""xmlrpc-c's ``XMLRPC_XML_SIZE_LIMIT_DEFAULT``."""

_STATUS = {
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    400: "400 Bad Request",
    411: "411 Length Required",
    500: "500 Internal Server Error",
}


class RpcApp:
    """WSGI callable: ``RpcApp(core)``."""

    def __init__(
        self,
        core: Core,
        registry: Registry = REGISTRY,
        max_body: int = MAX_BODY,
        dialects: dict[str, Registry] | None = None,
    ):
        self.core = core
        self.registry = registry
        if dialects is None:
            from one_core.rpc.modern import routes

            dialects = routes()
        self.routes: dict[str, Registry] = {**dialects, "/RPC2": registry}
        """Path → registry: ``/RPC2`` the 1.4 wire, the others further dialects."""
        self.max_body = max_body
        self.requests = 0
        self._count_lock = threading.Lock()
        self.refuse: Callable[[str], str | None] | None = None
        """HA follower (docs/ha.md): ``refuse(method)`` → why this node does not run it."""

    def _error(self, start_response: Callable[..., Any], code: int) -> list[bytes]:
        body = _STATUS[code].encode() + b"\n"
        start_response(
            _STATUS[code],
            [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        set_client(environ.get("REMOTE_ADDR"))  # for strict mode's login guard
        registry = self.routes.get(environ.get("PATH_INFO", ""))
        if registry is None:
            return self._error(start_response, 404)
        if environ.get("REQUEST_METHOD") != "POST":
            return self._error(start_response, 405)
        ctype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if ctype != "text/xml":
            return self._error(start_response, 400)
        clen = environ.get("CONTENT_LENGTH")
        if not clen:
            return self._error(start_response, 411)
        try:
            length = int(clen)
        except ValueError:
            return self._error(start_response, 400)
        if length < 1:
            return self._error(start_response, 400)
        out: list[bytes | memoryview]
        if length > self.max_body:
            out = [
                encode_fault(
                    FAULT_LIMIT,
                    f"Request of {length} bytes exceeds the limit of {self.max_body} bytes",
                )
            ]
        else:
            out = self.handle_parts(environ["wsgi.input"].read(length), registry)
        size = sum(len(part) for part in out)
        start_response(
            "200 OK",
            [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(size))],
        )
        return out  # type: ignore[return-value]  # bytes-like parts, written as they are

    def handle(self, body: bytes, registry: Registry | None = None) -> bytes:
        """One XML-RPC request body → response body (never raises); ``registry``: the
        dialect's (default: the 1.4 one)."""
        return b"".join(self.handle_parts(body, registry))

    def handle_parts(
        self, body: bytes, registry: Registry | None = None
    ) -> list[bytes | memoryview]:
        """:meth:`handle`, the response in the parts it is sent in (a large listing is
        never joined into one buffer: :func:`~one_core.rpc.codec.encode_response_parts`)."""
        try:
            name, params = parse_call(body)
        except LimitError as exc:
            return [encode_fault(FAULT_LIMIT, str(exc))]
        except RequestError as exc:
            return [encode_fault(FAULT_PARSE, str(exc))]
        refuse = self.refuse
        why = refuse(name) if refuse is not None else None
        if why is not None:
            return encode_response_parts(self._refusal(name, why, registry))
        try:
            return encode_response_parts(
                dispatch(registry or self.registry, self.core, name, params)
            )
        except Fault as f:
            return [encode_fault(f.code, f.message)]
        except Exception as exc:  # e.g. a value that cannot be encoded: still an answer
            log.exception("Call %s failed", name)
            return [encode_fault(FAULT_INTERNAL, f"Internal error: {type(exc).__name__}")]

    def _refusal(self, name: str, why: str, registry: Registry | None) -> list[Any]:
        """``[false, why]`` on the 1.4 wire; ``[false, "[name] why", ACTION]`` in the modern one."""
        if registry is None or registry is self.registry:
            return [False, why]
        from one_core.rpc.modern.errors import ACTION

        return [False, f"[{name}] {why}", ACTION]


class RpcServer:
    """Serves :class:`RpcApp` on ``host:port`` in background threads.

    ``backend``: ``"uvicorn"`` (default, :mod:`one_core.rpc.httpd`: asyncio +
    httptools, ``threads`` worker threads run the calls) or ``"waitress"``.
    The environment variable ``ONE_RPC_SERVER`` overrides the default.
    ``certfile``/``keyfile``: serve HTTPS (uvicorn only).
    """

    def __init__(
        self,
        app: RpcApp,
        port: int,
        host: str = "0.0.0.0",
        threads: int = 8,
        backend: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
    ):
        self.app = app
        self.backend = backend or os.environ.get("ONE_RPC_SERVER") or "uvicorn"
        self._thread: threading.Thread | None = None
        if self.backend == "waitress":
            if certfile:
                raise ValueError("TLS needs the uvicorn RPC server backend")
            from waitress.server import create_server

            self.server: Any = create_server(
                app,
                host=host,
                port=port,
                threads=max(1, threads),
                channel_timeout=15,
                connection_limit=256,
                max_request_body_size=16 * 1024 * 1024,
                clear_untrusted_proxy_headers=True,
                ident="OpenNebula-py",
            )
            self.port: int = self.server.effective_port
        elif self.backend == "uvicorn":
            from one_core.rpc.httpd import UvicornHTTPServer

            self.server = UvicornHTTPServer(
                app, port, host, threads=threads, certfile=certfile, keyfile=keyfile
            )
            self.port = self.server.port

        else:
            raise ValueError(f"unknown RPC server backend {self.backend!r}")

    def start(self) -> None:
        if self.backend == "waitress":
            self._thread = threading.Thread(target=self.server.run, name="rpc-server", daemon=True)
            self._thread.start()
        else:
            self.server.start()

    def stop(self) -> None:
        if self.backend == "waitress":
            self.server.close()
            task_dispatcher = getattr(self.server, "task_dispatcher", None)
            if task_dispatcher is not None:
                task_dispatcher.shutdown(timeout=5)
            if self._thread is not None:
                self._thread.join(timeout=5)
        else:
            self.server.stop()
