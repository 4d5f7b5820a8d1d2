"""Hostile and unlucky HTTP clients against a real oned (issue 17, cases 2, 4 and 6)."""

from __future__ import annotations

import contextlib
import socket
import statistics
import threading
import time

import pytest

from one_core.client import OneCallError
from one_core.rpc.codec import encode_call, parse_response
from tests.faults.helpers import VM_TEMPLATE, call_on, read_response, request_bytes, tcp_states


def test_connection_answers_after_rejected_calls(oned):
    """A call the engine rejects leaves the keep-alive connection usable, and an idle
    connection is closed (never left unanswered) after the keep-alive timeout."""
    with socket.create_connection(("127.0.0.1", oned.port), timeout=30) as s:
        ok, vid = call_on(s, "one.vm.allocate", oned.session, VM_TEMPLATE)[:2]
        assert ok is True
        assert call_on(s, "one.vm.action", oned.session, "hold", vid)[0] is True
        second = call_on(s, "one.vm.action", oned.session, "hold", vid)
        assert second[0] is False  # rejected: wrong state
        assert call_on(s, "one.vm.info", oned.session, vid)[0] is True
        client = oned.client()  # the project's own client, as the repro
        with pytest.raises(OneCallError):
            client.vm_action("hold", vid)
        time.sleep(16)  # past the keep-alive timeout: the server must have closed it
        t0 = time.monotonic()
        assert client.vm_info(vid) is not None  # reconnects at once, no 60 s "execution expired"
        assert time.monotonic() - t0 < 5
        client.close()
        s.settimeout(5)
        try:
            s.sendall(request_bytes(encode_call("one.vm.info", [oned.session, vid])))
            status, _, body = read_response(s)
        except (ConnectionResetError, BrokenPipeError):
            status, body = 0, b""
        # either an answer or a clean close: never silence
        assert status in (0, 200)
        if status == 200:
            assert parse_response(body)[1][0] is True
    assert "08" not in tcp_states(oned.port)


def test_no_close_wait_after_2000_failing_calls(oned):
    bad = encode_call("one.vm.action", [oned.session, "hold", 99999])
    garbage = b"<methodCall><methodName>one.vm.info</methodName><params>"
    for i in range(2000):
        with socket.create_connection(("127.0.0.1", oned.port), timeout=30) as s:
            body = garbage if i % 4 == 3 else bad
            s.sendall(request_bytes(body, keep_alive=i % 2 == 0))
            status, _, reply = read_response(s)
            assert status == 200
            assert b"<boolean>0</boolean>" in reply or b"faultCode" in reply
    time.sleep(1)
    states = tcp_states(oned.port)
    assert states.count("08") == 0, states


def test_slow_clients_do_not_slow_legitimate_ones(oned):
    """256 connections trickling a header line every second; a legitimate client's p99
    latency stays under 50 ms."""
    stop = threading.Event()
    socks = []
    for _ in range(256):
        s = socket.create_connection(("127.0.0.1", oned.port), timeout=30)
        s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)

    def trickle() -> None:
        n = 0
        while not stop.wait(1.0):
            n += 1
            for s in socks:
                with contextlib.suppress(OSError):
                    s.sendall(f"X-Slow-{n}: y\r\n".encode())

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        body = encode_call("one.user.info", [oned.session, 0])
        times = []
        with socket.create_connection(("127.0.0.1", oned.port), timeout=30) as c:
            for _ in range(20):  # warm-up
                c.sendall(request_bytes(body))
                read_response(c)
            for _ in range(300):
                t0 = time.perf_counter()
                c.sendall(request_bytes(body))
                status, _, reply = read_response(c)
                times.append(time.perf_counter() - t0)
                assert status == 200 and b"<boolean>1</boolean>" in reply
                time.sleep(0.005)
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        assert p99 < 0.050, f"p99 {p99 * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f}"
    finally:
        stop.set()
        for s in socks:
            s.close()


def test_whole_request_deadline_closes_trickling_connection(oned):
    """A request that has not arrived complete 15 s after its first byte is dropped
    even though a header line comes every 2 s."""
    with socket.create_connection(("127.0.0.1", oned.port), timeout=30) as s:
        s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        closed_after = None
        for n in range(15):
            time.sleep(2)
            try:
                s.sendall(f"X-Slow-{n}: y\r\n".encode())
                s.settimeout(0.01)
                if s.recv(1) == b"":
                    closed_after = time.monotonic() - t0
                    break
            except TimeoutError:
                continue
            except OSError:
                closed_after = time.monotonic() - t0
                break
        assert closed_after is not None and closed_after < 20


def test_deeply_nested_values_get_a_fault(oned):
    depth = 600
    nested = "<value><array><data>" * depth + "</data></array></value>" * depth
    body = (
        "<?xml version='1.0'?><methodCall><methodName>one.vm.info</methodName><params>"
        f"<param><value>{oned.session}</value></param><param>{nested}</param>"
        "</params></methodCall>"
    ).encode()
    with socket.create_connection(("127.0.0.1", oned.port), timeout=30) as s:
        s.sendall(request_bytes(body))
        status, _, reply = read_response(s)
        assert status == 200
        assert parse_response(reply) == (
            False,
            (-509, "Arrays and structs nested more than 64 levels deep"),
        )
        # the connection is still served
        assert call_on(s, "one.user.info", oned.session, 0)[0] is True


def test_large_and_non_utf8_bodies_get_clear_faults(oned):
    big = encode_call("one.vm.allocate", [oned.session, "A = " + "x" * (600 * 1024)])
    status, body, _ = oned.post(big)
    assert status == 200
    ok, (code, message) = parse_response(body)
    assert (ok, code) == (False, -509) and "exceeds the limit of 524288 bytes" in message
    latin1 = (
        b"<?xml version='1.0'?><methodCall><methodName>one.vm.allocate</methodName>"
        b"<params><param><value>" + oned.session.encode() + b"</value></param>"
        b'<param><value>NAME = "caf\xe9"</value></param></params></methodCall>'
    )
    status, body, _ = oned.post(latin1)
    assert status == 200
    ok, (code, message) = parse_response(body)
    assert (ok, code) == (False, -503) and "not valid XML" in message
    assert oned.call("one.vmpool.info", oned.session, -2)[1].count("<VM>") == 0


def test_non_utf8_template_file_gets_a_clear_cli_error(oned, tmp_path):
    import os
    import subprocess
    import sys

    template = tmp_path / "latin1.one"
    template.write_bytes(b'NAME = "caf\xe9"\nMEMORY = 64\nCPU = 1\n')
    env = dict(os.environ, ONE_XMLRPC=oned.url, ONE_AUTH=str(oned.auth_file))
    proc = subprocess.run(
        [sys.executable, "-m", "one_core.cli.onevm", "create", str(template)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "UTF-8" in out and "Traceback" not in out and "\\udce9" not in out, out
