"""VM life-cycle benchmarks against a real oned (dummy drivers) over XML-RPC.

    uv run python bench/bench_vm.py [--quick]

Prints: allocate rate with 1 and 4 clients; one.vmpool.info with 1,000 and
10,000 VMs; one.vm.info; allocate+deploy→RUNNING latency; 1,000 VMs
create→running→shutdown→done with 4 clients.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
import xmlrpc.client
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import OnedProcess  # noqa: E402

TEMPLATE = 'NAME=bench\nCPU=0.01\nMEMORY=1\nDISK=[SOURCE="/images/a.img", TARGET=hda]\n'
STATE = re.compile(r"<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>")


def proxy(one: OnedProcess) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(one.url)


def allocate_many(one: OnedProcess, n: int, clients: int) -> tuple[float, list[int]]:
    per = n // clients
    ids: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        p = proxy(one)
        mine = []
        for _ in range(per):
            ok, vid = p.one.vm.allocate(one.session, TEMPLATE)
            assert ok, vid
            mine.append(vid)
        with lock:
            ids.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, ids


def state(p: xmlrpc.client.ServerProxy, session: str, vid: int) -> tuple[int, int]:
    ok, body = p.one.vm.info(session, vid)
    m = STATE.search(body)
    return int(m.group(1)), int(m.group(2))


POOL_ENTRY = re.compile(r"<VM><ID>(\d+)</ID>.*?<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>")


def wait_all(one: OnedProcess, vids: list[int], pair: tuple[int, int], timeout: float = 600) -> None:
    """Wait with one ``one.vmpool.info`` per round (DONE VMs leave the listing)."""
    p = proxy(one)
    deadline = time.monotonic() + timeout
    pending = set(vids)
    while pending:
        ok, body = p.one.vmpool.info(one.session, -2)
        listed = {int(m.group(1)): (int(m.group(2)), int(m.group(3))) for m in POOL_ENTRY.finditer(body)}
        pending = {v for v in pending if listed.get(v, (6, 0)) != pair}
        if pending:
            assert time.monotonic() < deadline, f"{len(pending)} VMs not in {pair}"
            time.sleep(0.05)


def timeit(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def pool_raw(one: OnedProcess) -> None:
    """``one.vmpool.info`` over HTTP without parsing the answer (server + transfer time)."""
    from one_core.rpc.codec import encode_call

    status, body, _ = one.post(encode_call("one.vmpool.info", [one.session, -2]))
    assert status == 200


def report_pool(one: OnedProcess, p: xmlrpc.client.ServerProxy, count: int, repeat: int) -> None:
    med, worst = timeit(lambda: pool_raw(one), repeat)
    med2, _ = timeit(lambda: p.one.vmpool.info(one.session, -2), repeat)
    print(
        f"vmpool.info, {count:>5} VMs: median {med * 1000:7.1f} ms, max {worst * 1000:7.1f} ms "
        f"(raw HTTP; {med2 * 1000:.0f} ms with xmlrpc.client parsing the answer)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        one = OnedProcess(Path(tmp) / "one", {"VM_POLLING_INTERVAL": 3600, "MANAGER_TIMER": 30})
        one.start()
        try:
            run(one, scale)
        finally:
            one.stop()


def run(one: OnedProcess, scale: int) -> None:
    p = proxy(one)
    s = one.session
    assert p.one.host.allocate(s, "node1", "im_dummy", "vmm_dummy", "tm_dummy")[0]

    n = 1000 // scale
    dt, _ = allocate_many(one, n, 1)
    print(f"allocate, 1 client:   {n / dt:8.0f} VMs/s  ({n} VMs in {dt:.2f} s)")
    report_pool(one, p, n, 5)
    dt, _ = allocate_many(one, n, 4)
    print(f"allocate, 4 clients:  {n / dt:8.0f} VMs/s  ({n} VMs in {dt:.2f} s)")

    med, worst = timeit(lambda: p.one.vm.info(s, 0), 50)
    print(f"vm.info:                 median {med * 1000:7.2f} ms, max {worst * 1000:7.2f} ms")

    # allocate + deploy -> RUNNING latency
    lat = []
    for _ in range(20):
        t0 = time.perf_counter()
        ok, vid = p.one.vm.allocate(s, TEMPLATE)
        assert p.one.vm.deploy(s, vid, 0) == [True]
        while state(p, s, vid) != (3, 3):
            time.sleep(0.001)
        lat.append(time.perf_counter() - t0)
    print(
        f"allocate+deploy->RUNNING: median {statistics.median(lat) * 1000:6.1f} ms, "
        f"max {max(lat) * 1000:6.1f} ms (20 VMs)"
    )

    # full life cycle, 4 clients
    m = 1000 // scale
    t0 = time.perf_counter()
    _, vids = allocate_many(one, m, 4)

    def deployer(part: list[int]) -> None:
        q = proxy(one)
        for vid in part:
            assert q.one.vm.deploy(s, vid, 0) == [True]

    parts = [vids[i::4] for i in range(4)]
    threads = [threading.Thread(target=deployer, args=(part,)) for part in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_all(one, vids, (3, 3))
    t_running = time.perf_counter() - t0

    def shutter(part: list[int]) -> None:
        q = proxy(one)
        for vid in part:
            assert q.one.vm.action(s, "shutdown", vid) == [True]

    threads = [threading.Thread(target=shutter, args=(part,)) for part in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_all(one, vids, (6, 0))
    t_done = time.perf_counter() - t0
    print(
        f"{m} VMs create->running->shutdown->done, 4 clients: running after {t_running:.1f} s, "
        f"done after {t_done:.1f} s ({m / t_done:.0f} VMs/s end to end)"
    )

    # pool listing at 10,000 VMs (allocated, pending)
    big = 10000 // scale
    ok, body = p.one.vmpool.info(s, -2)
    have = body.count("<VM>")
    if have < big:
        allocate_many(one, ((big - have) // 4) * 4, 4)
    ok, body = p.one.vmpool.info(s, -2)
    count = body.count("<VM>")
    report_pool(one, p, count, 3)


if __name__ == "__main__":
    main()
