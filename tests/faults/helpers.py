"""Helpers of the fault-injection suite: raw HTTP, socket states, VM states."""

from __future__ import annotations

import socket
import time
from typing import Any

from one_core.rpc.codec import encode_call, parse_response
from one_core.testing.oned import OnedProcess

VM_TEMPLATE = 'NAME = "f"\nMEMORY = 64\nCPU = 1\n'


def scheduled_sqlite_sections(delay_deploy: int) -> str:
    """oned.conf driver sections of the database-fault reproductions: dummy drivers whose
    deploy takes ``delay_deploy`` seconds, the in-daemon scheduler every second, SQLite
    with a 200 ms busy timeout (so a held lock or a full disk shows at once)."""
    return f"""
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml", DELAY_DEPLOY = "{delay_deploy}" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "internal", interval = 1 ]
DB     = [ BACKEND = "sqlite", BUSY_TIMEOUT = "200" ]
"""


def request_bytes(body: bytes, keep_alive: bool = True) -> bytes:
    """A complete ``POST /RPC2`` HTTP/1.1 request carrying ``body``."""
    conn = "" if keep_alive else "Connection: close\r\n"
    return (
        f"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n{conn}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response from ``sock`` (``Content-Length`` bodies); ``(0, {}, b"")`` on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, {}, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def call_on(sock: socket.socket, method: str, *params: Any) -> Any:
    """An XML-RPC call on an open connection: the response value or ``("FAULT", code, msg)``."""
    sock.sendall(request_bytes(encode_call(method, list(params))))
    status, _, body = read_response(sock)
    assert status == 200, (status, body)
    ok, value = parse_response(body)
    return value if ok else ("FAULT", *value)


def tcp_states(port: int) -> list[str]:
    """States (hex, as in /proc/net/tcp: ``08`` CLOSE_WAIT) of sockets whose local port is ``port``."""
    states = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                states.append(fields[3])
    return states


def vm_state(oned: OnedProcess, vid: int) -> tuple[int, int]:
    """``(STATE, LCM_STATE)`` of a VM as the API reports it."""
    import re

    ok, xml = oned.call("one.vm.info", oned.session, vid)[:2]
    assert ok is True, xml
    state = int(re.search(r"<STATE>(\d+)</STATE>", xml).group(1))
    lcm = int(re.search(r"<LCM_STATE>(\d+)</LCM_STATE>", xml).group(1))
    return state, lcm


def wait_for(predicate: Any, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
