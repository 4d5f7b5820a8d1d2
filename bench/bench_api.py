"""Benchmarks of the XML-RPC API and host monitoring against a real oned.

Goals (docs/decisions/core.md):

* ``one.host.allocate`` ≥ 1,000/s sequential (one keep-alive connection);
* ``one.hostpool.info`` with 100 hosts ≤ 3 ms, with 1,000 hosts ≤ 30 ms;
* a cheap authenticated call (``one.user.info`` of uid 0) ≥ 2,000 req/s with 4 clients
  (4 processes, one keep-alive connection each);
* 1,000 hosts monitored (dummy IM driver) within one 60 s interval.

Run: ``.venv/bin/python bench/bench_api.py`` (``--quick`` for smaller counts).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_vm import rss_mb  # noqa: E402

from one_core.rpc.codec import encode_call, parse_response  # noqa: E402


def result(key: str, value: float, unit: str) -> None:
    """A machine-readable line for bench/run_all.py."""
    print(f"RESULT {key} {value:.4g} {unit}", flush=True)


SESSION = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Oned:
    def __init__(self, interval: int = 3600, timer: int = 1, rpc_threads: int = 8):
        self.dir = tempfile.mkdtemp(prefix="one-bench-")
        self.port = free_port()
        os.makedirs(f"{self.dir}/etc")
        os.makedirs(f"{self.dir}/var")
        with open(f"{self.dir}/one_auth", "w") as fh:
            fh.write("oneadmin:onepass\n")
        with open(f"{self.dir}/etc/oned.conf", "w") as fh:
            fh.write(
                f"PORT = {self.port}\nHOST_MONITORING_INTERVAL = {interval}\n"
                f"VM_POLLING_INTERVAL = 3600\nMANAGER_TIMER = {timer}\nDEBUG_LEVEL = 1\n"
                f"RPC_THREADS = {rpc_threads}\nDRIVER_THREADS = 16\n"
                'IM_MAD = [ name = "im_dummy", driver = "dummy" ]\n'
                'VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]\n'
                'TM_MAD = [ name = "tm_dummy", driver = "dummy" ]\n'
            )
        env = dict(os.environ, ONE_LOCATION=self.dir, ONE_AUTH=f"{self.dir}/one_auth")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "one_core.daemon", "-f"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("oned did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


class Conn:
    def __init__(self, port: int):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, *params):
        body = encode_call(method, [SESSION, *params])
        self.c.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        resp = self.c.getresponse()
        data = resp.read()
        return parse_response(data)[1]

    def post(self, body: bytes) -> bytes:
        self.c.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        return self.c.getresponse().read()


def bench_allocate(conn: Conn, n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        ok = conn.call("one.host.allocate", f"node{i}", "im_dummy", "vmm_dummy", "tm_dummy")
        assert ok[0] is True
    return n / (time.perf_counter() - t)


def bench_pool(conn: Conn, reps: int) -> tuple[float, int]:
    body = encode_call("one.hostpool.info", [SESSION])
    conn.post(body)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        data = conn.post(body)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, len(data)


def _cheap_worker(port: int, n: int, q: multiprocessing.Queue[tuple[int, float]]) -> None:
    conn = Conn(port)
    body = encode_call("one.user.info", [SESSION, 0])
    conn.post(body)
    t = time.perf_counter()
    for _ in range(n):
        conn.post(body)
    q.put((n, time.perf_counter() - t))


def bench_cheap(port: int, clients: int, n: int) -> float:
    q: multiprocessing.Queue[tuple[int, float]] = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_cheap_worker, args=(port, n, q)) for _ in range(clients)
    ]
    t = time.perf_counter()
    for p in procs:
        p.start()
    results = [q.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t
    del results
    return clients * n / wall


def bench_monitoring(n_hosts: int, interval: int) -> float:
    oned = Oned(interval=interval, timer=1)
    try:
        conn = Conn(oned.port)
        for i in range(n_hosts):
            conn.call("one.host.allocate", f"m{i}", "im_dummy", "vmm_dummy", "tm_dummy")
        t0 = time.time()
        # first round starts when the hosts are `interval` old; measure until all are MONITORED
        while True:
            doc = conn.call("one.hostpool.info")[1]
            states = re.findall(r"<STATE>(\d)</STATE>", doc)
            if states.count("2") == n_hosts:
                break
            if time.time() - t0 > interval + 120:
                raise RuntimeError(f"not all monitored: {states.count('2')}/{n_hosts}")
            time.sleep(0.25)
        return time.time() - t0 - interval
    finally:
        oned.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_alloc = 1000 if args.quick else 3000
    oned = Oned()
    try:
        conn = Conn(oned.port)
        time.sleep(1)
        rss, _ = rss_mb(oned.proc.pid)
        print(f"oned RSS idle                               : {rss:8.1f} MiB (goal <= 60)")
        result("api.rss_idle", rss, "MiB")
        rate = bench_allocate(conn, 100)
        print(f"one.host.allocate sequential (100 hosts)   : {rate:8.0f} /s   (goal >= 1000/s)")
        ms, size = bench_pool(conn, 200)
        print(
            f"one.hostpool.info 100 hosts                 : {ms:8.2f} ms  ({size} bytes, goal <= 3 ms)"
        )
        result("api.hostpool_100", ms, "ms")
        rate = bench_allocate(conn, 900)
        ms, size = bench_pool(conn, 50)
        print(
            f"one.hostpool.info 1000 hosts                : {ms:8.2f} ms  ({size} bytes, goal <= 30 ms)"
        )
        result("api.hostpool_1000", ms, "ms")
        rss, _ = rss_mb(oned.proc.pid)
        print(f"oned RSS with 1000 hosts                    : {rss:8.1f} MiB (goal <= 80)")
        result("api.rss_1000_hosts", rss, "MiB")
        rate = bench_allocate(conn, n_alloc)
        print(
            f"one.host.allocate sequential ({n_alloc} more)    : {rate:8.0f} /s   (goal >= 1000/s)"
        )
        result("api.host_allocate", rate, "/s")
        for clients in (1, 4):
            rate = bench_cheap(oned.port, clients, 1500 if args.quick else 4000)
            print(
                f"one.user.info (auth'd), {clients} client(s)         : {rate:8.0f} req/s (goal >= 2000 with 4)"
            )
            result(f"api.cheap_{clients}", rate, "req/s")
    finally:
        oned.stop()
    n = 1000
    secs = bench_monitoring(n, 5)
    print(
        f"monitoring round, {n} hosts, dummy IM        : {secs:8.2f} s after the interval (goal < 60 s)"
    )
    result("api.monitor_1000", secs, "s")


if __name__ == "__main__":
    main()
