"""A scripted XML-RPC server, only for the answers a real oned never gives.

It listens on a real loopback socket and answers ``one.*`` calls from a table of canned
responses. Every call is recorded with its parameters. The CLI tests use the real oned
everywhere else; test_tools.py's docstring lists what is left here and why.
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


def vm_pool_of_pending(count: int, name: str = "x", stime: int = 1795595886) -> str:
    """A ``one.vmpool.info`` document of ``count`` PENDING VMs of oneadmin (pool form)."""
    vms = "".join(
        f"<VM><ID>{vid}</ID><UID>0</UID><USERNAME>oneadmin</USERNAME><NAME>{name}</NAME>"
        f"<LAST_POLL>0</LAST_POLL><STATE>1</STATE><LCM_STATE>0</LCM_STATE><STIME>{stime}</STIME>"
        "<ETIME>0</ETIME><DEPLOY_ID></DEPLOY_ID><MEMORY>0</MEMORY><CPU>0</CPU>"
        "<NET_TX>0</NET_TX><NET_RX>0</NET_RX></VM>"
        for vid in range(count)
    )
    return f"<VM_POOL>{vms}</VM_POOL>"
