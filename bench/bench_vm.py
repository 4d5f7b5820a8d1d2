"""VM life-cycle benchmarks against a real oned (dummy drivers) over XML-RPC (issue 5).

    uv run python bench/bench_vm.py [--quick] [--disk]

Measures, with the issue's template ``NAME="perf" CPU=0.1 MEMORY=64`` (``--disk``
adds a DISK, so each prolog/epilog issues TM commands):

* ``one.vm.allocate`` with 1 client and 4 concurrent clients (threads, one
  keep-alive connection each, ``xmlrpc.client`` as a 1.4 Ruby/Python client would);
* ``one.vmpool.info`` with 1,000 and 10,000 VMs (raw HTTP time; the time
  ``xmlrpc.client`` needs to parse the answer is printed beside it);
* ``one.vm.info`` (raw keep-alive HTTP client, and through ``xmlrpc.client``);
* allocate + deploy → LCM RUNNING (polling ``one.vm.info``), with a near-empty
  pool and with 10,000 VMs in it;
* 1,000 VMs create → running → shutdown → done with 4 clients;
* oned's RSS idle, with 10,000 VMs, and its peak (``VmHWM``).

Each figure is also printed as ``RESULT <key> <value> <unit>`` for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import xmlrpc.client
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from one_core.rpc.codec import encode_call, parse_response  # noqa: E402
from one_core.testing.oned import OnedProcess  # noqa: E402

TEMPLATE = 'NAME="perf"\nCPU=0.1\nMEMORY=64\n'
DISK_TEMPLATE = TEMPLATE + 'DISK=[SOURCE="/images/a.img", TARGET=hda]\n'
STATE = re.compile(r"<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>")
POOL_ENTRY = re.compile(r"<VM><ID>(\d+)</ID>.*?<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>")


def result(key: str, value: float, unit: str) -> None:
    print(f"RESULT {key} {value:.4g} {unit}", flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all threads): steadier than wall time
    on a loaded machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """``(VmRSS, VmHWM)`` of ``pid`` in MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


class Http:
    """A keep-alive HTTP client posting pre-encoded calls to one path (no xmlrpc.client)."""

    def __init__(self, port: int, path: str = "/RPC2", timeout: float = 120):
        self.port, self.path = port, path
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, body: bytes) -> bytes:
        for attempt in (0, 1):  # the server closes a keep-alive connection after 30 requests
            try:
                self.c.request("POST", self.path, body, {"Content-Type": "text/xml"})
                return self.c.getresponse().read()
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                if attempt:
                    raise
        raise AssertionError

    def median_ms(self, body: bytes, repeat: int) -> tuple[float, int]:
        """Median milliseconds of ``repeat`` posts of ``body`` and the answer's size."""
        size = len(self.post(body))  # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            self.post(body)
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000, size


class Raw(Http):
    """:class:`Http` to one oned, with its session at hand."""

    def __init__(self, one: OnedProcess):
        super().__init__(one.port, timeout=60)
        self.one = one

    def doc(self, body: bytes) -> str:
        """The response's XML document, unescaped just enough for the regexes here."""
        return self.post(body).decode().replace("&lt;", "<").replace("&gt;", ">")

    def call(self, method: str, *params: object) -> Any:
        """The decoded answer of ``method`` (``[ok, value, ...]``; ``Any``: its shape is the
        method's)."""
        return parse_response(self.post(encode_call(method, [self.one.session, *params])))[1]


class RpcProxy(Protocol):
    """An ``xmlrpc.client.ServerProxy`` as the benchmarks use it: ``p.one.vm.allocate(...)``.

    typeshed types every call's result as the union of all XML-RPC values, so unpacking
    ``ok, vid = ...`` would not type-check; oned's answers have one shape per method
    (``[ok, value, ...]``), so here each attribute, and hence each call's result, is ``Any``.
    """

    def __getattr__(self, name: str) -> Any: ...


def proxy(one: OnedProcess) -> RpcProxy:
    """An ``xmlrpc.client`` proxy to ``one`` (the benchmarks' only one: see :class:`RpcProxy`)."""
    return xmlrpc.client.ServerProxy(one.url)


def allocate_many(one: OnedProcess, n: int, clients: int, tpl: str) -> tuple[float, list[int]]:
    per = n // clients
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def worker() -> None:
        p = proxy(one)
        mine = []
        start.wait()
        for _ in range(per):
            ok, vid = p.one.vm.allocate(one.session, tpl)
            assert ok, vid
            mine.append(vid)
        with lock:
            ids.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, ids


def wait_all(
    one: OnedProcess, vids: list[int], pair: tuple[int, int], timeout: float = 600
) -> None:
    """Wait with one ``one.vmpool.info`` per round (DONE VMs leave the listing)."""
    raw = Raw(one)
    deadline = time.monotonic() + timeout
    pending = set(vids)
    body = encode_call("one.vmpool.info", [one.session, -2])
    while pending:
        doc = raw.doc(body)
        listed = {
            int(m.group(1)): (int(m.group(2)), int(m.group(3))) for m in POOL_ENTRY.finditer(doc)
        }
        pending = {v for v in pending if listed.get(v, (6, 0)) != pair}
        if pending:
            assert time.monotonic() < deadline, f"{len(pending)} VMs not in {pair}"
            time.sleep(0.1)  # each round lists every VM: do not load the 2 shared cores


def timeit(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def report_pool(one: OnedProcess, count: int, repeat: int, key: str) -> None:
    raw = Raw(one)
    body = encode_call("one.vmpool.info", [one.session, -2])
    raw.post(body)
    med, worst = timeit(lambda: raw.post(body), repeat)
    p = proxy(one)
    med2, _ = timeit(lambda: p.one.vmpool.info(one.session, -2), max(3, repeat // 4))
    print(
        f"vmpool.info, {count:>5} VMs: median {med * 1000:7.1f} ms, max {worst * 1000:7.1f} ms "
        f"(raw HTTP; {med2 * 1000:.0f} ms with xmlrpc.client parsing the answer)"
    )
    result(key, med * 1000, "ms")


def deploy_latency(one: OnedProcess, n: int, tpl: str) -> list[float]:
    """allocate + deploy, then poll ``one.vm.info`` until RUNNING (3, 3); seconds each."""
    raw = Raw(one)
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        ok, vid = raw.call("one.vm.allocate", tpl)
        assert ok, vid
        assert raw.call("one.vm.deploy", vid, 0) == [True]
        info = encode_call("one.vm.info", [one.session, vid])
        while True:
            m = STATE.search(raw.doc(info))
            assert m is not None
            if (m.group(1), m.group(2)) == ("3", "3"):
                break
        lat.append(time.perf_counter() - t0)
    return lat


def lifecycle(one: OnedProcess, m: int, tpl: str) -> None:
    """``m`` VMs create → running → shutdown → done with 4 clients (one host, node 0)."""
    s = one.session
    assert one.proc is not None
    cpu0 = cpu_seconds(one.proc.pid)
    t0 = time.perf_counter()
    _, vids = allocate_many(one, m, 4, tpl)

    def in_parallel(fn, parts: list[list[int]]) -> None:
        threads = [threading.Thread(target=fn, args=(part,)) for part in parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def deployer(part: list[int]) -> None:
        q = proxy(one)
        for vid in part:
            assert q.one.vm.deploy(s, vid, 0) == [True]

    def shutter(part: list[int]) -> None:
        q = proxy(one)
        for vid in part:
            assert q.one.vm.action(s, "shutdown", vid) == [True]

    parts = [vids[i::4] for i in range(4)]
    in_parallel(deployer, parts)
    wait_all(one, vids, (3, 3))
    t_running = time.perf_counter() - t0
    in_parallel(shutter, parts)
    wait_all(one, vids, (6, 0))
    t_done = time.perf_counter() - t0
    cpu = cpu_seconds(one.proc.pid) - cpu0
    print(
        f"{m} VMs create->running->shutdown->done, 4 clients: running after {t_running:.1f} s, "
        f"done after {t_done:.1f} s ({m / t_done:.0f} VMs/s end to end; oned CPU {cpu:.1f} s)"
    )
    result("vm.lifecycle_1000", t_done, "s")
    result("vm.lifecycle_1000_cpu", cpu, "s")


def report_deploy_latency(one: OnedProcess, tpl: str, pool: int, key: str) -> None:
    """Median/max allocate+deploy→RUNNING of 50 VMs with ``pool`` VMs in the pool."""
    lat = deploy_latency(one, 50, tpl)
    print(
        f"allocate+deploy->RUNNING: median {statistics.median(lat) * 1000:6.1f} ms, "
        f"max {max(lat) * 1000:6.1f} ms (50 VMs, {pool} in the pool)"
    )
    result(key, statistics.median(lat) * 1000, "ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--disk", action="store_true", help="template with a DISK (TM commands)")
    ap.add_argument(
        "--only", choices=["lifecycle"], help="only the 1,000-VM life cycle (before/after runs)"
    )
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    tpl = DISK_TEMPLATE if args.disk else TEMPLATE
    with tempfile.TemporaryDirectory() as tmp:
        one = OnedProcess(
            Path(tmp) / "one", {"VM_POLLING_INTERVAL": 3600, "MANAGER_TIMER": 30, "DEBUG_LEVEL": 1}
        )
        one.start()
        try:
            if args.only == "lifecycle":
                s = one.session
                assert proxy(one).one.host.allocate(
                    s, "node1", "im_dummy", "vmm_dummy", "tm_dummy"
                )[0]
                lifecycle(one, 1000 // scale, tpl)
            else:
                run(one, scale, tpl)
        finally:
            one.stop()


def run(one: OnedProcess, scale: int, tpl: str) -> None:
    assert one.proc is not None
    pid = one.proc.pid
    p = proxy(one)
    s = one.session
    assert p.one.host.allocate(s, "node1", "im_dummy", "vmm_dummy", "tm_dummy")[0]
    time.sleep(1)
    rss, _ = rss_mb(pid)
    print(f"oned RSS idle (1 host):  {rss:7.1f} MiB")
    result("vm.rss_idle", rss, "MiB")

    n = 1000 // scale
    dt, _ = allocate_many(one, n, 1, tpl)
    print(f"allocate, 1 client:   {n / dt:8.0f} VMs/s  ({n} VMs in {dt:.2f} s)")
    result("vm.allocate_1", n / dt, "/s")
    report_pool(one, n, 50, "vm.pool_1000")
    dt, _ = allocate_many(one, n, 4, tpl)
    print(f"allocate, 4 clients:  {n / dt:8.0f} VMs/s  ({n} VMs in {dt:.2f} s)")
    result("vm.allocate_4", n / dt, "/s")

    raw = Raw(one)
    info = encode_call("one.vm.info", [s, 0])
    raw.post(info)
    med, worst = timeit(lambda: raw.post(info), 500)
    med2, _ = timeit(lambda: p.one.vm.info(s, 0), 200)
    print(
        f"vm.info:                 median {med * 1000:7.2f} ms, max {worst * 1000:7.2f} ms "
        f"(raw HTTP; {med2 * 1000:.2f} ms through xmlrpc.client)"
    )
    result("vm.info", med * 1000, "ms")

    report_deploy_latency(one, tpl, 2 * n, "vm.deploy_latency")

    lifecycle(one, 1000 // scale, tpl)

    # pool of 10,000 live VMs (allocated, pending)
    big = 10000 // scale
    ok, body = p.one.vmpool.info(s, -2)
    have = body.count("<VM>")
    if have < big:
        allocate_many(one, ((big - have + 3) // 4) * 4, 4, tpl)
    ok, body = p.one.vmpool.info(s, -2)
    count = body.count("<VM>")
    report_pool(one, count, 20, "vm.pool_10000")
    med, _ = timeit(lambda: raw.post(info), 500)
    print(f"vm.info, {count} VMs:     median {med * 1000:7.2f} ms")
    result("vm.info_10000", med * 1000, "ms")
    report_deploy_latency(one, tpl, count, "vm.deploy_latency_10000")
    rss, hwm = rss_mb(pid)
    print(f"oned RSS with {count} VMs: {rss:7.1f} MiB (peak {hwm:.1f} MiB)")
    result("vm.rss_10000", rss, "MiB")
    result("vm.rss_peak", hwm, "MiB")


if __name__ == "__main__":
    main()
