"""The client with several endpoints: it moves on only when the call surely did not
run (connection refused, a follower's refusal), and never sends a call twice."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from one_core.client import Client, OneTransportError
from one_core.rpc.codec import encode_response

DEAD = "http://127.0.0.1:1/RPC2"


class TinyServer:
    """Answers ``[true, n]`` to each request, then closes the connection (without
    saying so) when ``close_after`` is set, or closes it unanswered when ``drop``."""

    def __init__(self, close_after: bool = False, drop: bool = False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/RPC2"
        self.close_after, self.drop = close_after, drop
        self.requests = 0
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                data = b""
                while b"</methodCall>" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests += 1
                if self.drop:
                    continue
                body = encode_response([True, self.requests])
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                if not self.close_after:
                    time.sleep(5)


@pytest.fixture
def servers() -> Iterator[list[TinyServer]]:
    made: list[TinyServer] = []
    yield made
    for s in made:
        s.sock.close()


def test_closed_keepalive_connection_is_replaced_before_sending(
    servers: list[TinyServer],
) -> None:
    srv = TinyServer(close_after=True)
    servers.append(srv)
    client = Client(session="a:b", endpoint=f"{srv.url},{DEAD}")
    assert client.call("one.x.info") == 1
    time.sleep(0.2)  # the server has closed the kept-alive connection by now
    assert client.call("one.x.info") == 2  # a new connection, nothing lost or repeated
    assert (srv.requests, srv.connections) == (2, 2)
    client.close()


def test_a_call_that_may_have_run_is_not_sent_again(servers: list[TinyServer]) -> None:
    srv = TinyServer(drop=True)
    servers.append(srv)
    other = TinyServer()
    servers.append(other)
    client = Client(session="a:b", endpoint=f"{srv.url},{other.url}")
    with pytest.raises(OneTransportError) as info:
        client.call("one.vm.allocate", "NAME=x")
    assert not info.value.refused
    time.sleep(0.1)
    assert srv.requests == 1 and other.requests == 0  # not repeated, not moved on
    client.close()


def test_refused_connections_move_on(servers: list[TinyServer]) -> None:
    srv = TinyServer(close_after=True)
    servers.append(srv)
    client = Client(session="a:b", endpoint=f"{DEAD},{DEAD},{srv.url}")
    assert client.call("one.vm.allocate", "NAME=x") == 1
    assert client.endpoint == srv.url
    client.close()
    nobody = Client(session="a:b", endpoint=f"{DEAD},{DEAD}", failover_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(OneTransportError, match="Connection refused"):
        nobody.call("one.vm.allocate", "NAME=x")
    assert 0.3 <= time.monotonic() - started < 5
