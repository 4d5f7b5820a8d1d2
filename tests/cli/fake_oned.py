"""A scripted XML-RPC server standing in for oned in the CLI tests.

It listens on a real loopback socket and answers ``one.*`` calls from a table of canned
responses (built from the 1.4 wire captures and transcripts). Every call is recorded with its
parameters, so tests can check what the tools sent (types included: ``int`` vs ``str``).
"""

from __future__ import annotations

import threading
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

Responder = Callable[..., Any]


class _Quiet(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


class FakeOned:
    """``responses[method]`` is a list answer, or a callable ``f(session, *params)``."""

    def __init__(self) -> None:
        self.responses: dict[str, Any] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.server = SimpleXMLRPCServer(
            ("127.0.0.1", 0), requestHandler=_Quiet, allow_none=False, logRequests=False
        )
        self.server.register_instance(self)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/RPC2"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> Any:
        self.calls.append((method, params))
        if method not in self.responses:
            raise xmlrpc.client.Fault(-506, f"Method '{method}' not defined")
        answer = self.responses[method]
        if callable(answer):
            return answer(*params)
        return answer

    def start(self) -> FakeOned:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def called(self, method: str) -> list[tuple[Any, ...]]:
        """Parameters (session excluded) of every call of ``method``."""
        return [params[1:] for name, params in self.calls if name == method]
