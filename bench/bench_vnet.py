"""Benchmark virtual-network leases and documents for a /16 (not a test).

    uv run python bench/bench_vnet.py            # full run
    uv run python bench/bench_vnet.py --quick    # fewer DB-backed leases

Measures, on a real SQLite file (WAL, as oned uses it):

1. pure lease logic (:mod:`one_core.leases`): 65 534 automatic leases of a
   RANGED ``NETWORK_SIZE = B`` network, then the worst case of 1.4's next-fit
   scan (network full except the address just behind the cursor), compared
   with the linear scan 1.4 did;
2. :meth:`VNetPool.acquire_nics` (one DB transaction per VM, as
   ``one.vm.allocate`` does) — ``--db-leases`` of them;
3. ``one.vnpool.info`` body (:meth:`VNetPool.pool_xml`) with the /16 full
   and 200 other networks; ``one.vn.info`` body of the full /16;
4. start-up: loading the pool (65 534 lease rows) from the DB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

from one_core import db
from one_core.db.vnet_models import LeaseRow
from one_core.leases import LeaseError, RangedLeases, parse_ip
from one_core.pools.vnet import VNetPool

SLASH16 = (
    'NAME = "big"\nTYPE = RANGED\nBRIDGE = br0\nNETWORK_SIZE = B\nNETWORK_ADDRESS = 172.16.0.0\n'
)


T = TypeVar("T")


def timed(func: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``func()`` took, and what it returned."""
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def per_op(seconds: float, n: int) -> str:
    return f"{seconds * 1e6 / n:8.1f} µs/op"


def bench_pure() -> None:
    print("== pure lease logic (one_core.leases), /16 = 65534 addresses")
    r = RangedLeases.from_address("172.16.0.0", 65534, 3)
    t, _ = timed(lambda: [r.get(v) for v in range(65534)])
    print(f"  65534 automatic leases      {t:7.3f} s  {per_op(t, 65534)}")
    with contextlib.suppress(LeaseError):
        r.get(0)
    # worst case for a next-fit scan: only the address just behind the cursor is free
    samples = []
    for _ in range(200):
        behind = r.network + ((r.cursor - 1) % r.size) + 1
        r.release(behind)
        t, lease = timed(lambda: r.get(1))
        assert lease.ip == behind
        samples.append(t)
    print(
        f"  worst-case get (1 free, behind cursor) median {statistics.median(samples) * 1e6:8.1f} µs"
    )
    behind = r.network + ((r.cursor - 1) % r.size) + 1
    r.release(behind)
    used = {lease.ip for lease in r}

    def linear() -> int:  # what 1.4's loop did: check() each address from the cursor
        for i in range(r.size + 2):
            ip = r.network + ((r.cursor + i) % r.size) + 1
            if ip not in used:
                return ip
        return -1

    t, found = timed(linear)
    assert found == behind
    print(f"  same case, 1.4 linear scan  {t * 1e6:8.1f} µs")
    r.get(1)
    samples = []
    for i in range(2000):
        ip = r.network + 1 + (i * 7919) % r.size
        r.release(ip)
        t, _ = timed(lambda: r.get(2))
        samples.append(t)
    print(f"  release+get, scattered      median {statistics.median(samples) * 1e6:8.1f} µs")
    t, _ = timed(lambda: [parse_ip("172.16.200.3") for _ in range(10000)])
    print(f"  parse_ip                    {per_op(t, 10000)}")


def bench_slash8() -> None:
    print("== pure lease logic, /8 = 16777214 addresses (NETWORK_SIZE = 16777214)")
    t, r = timed(lambda: RangedLeases.from_address("10.0.0.0", 16777214, 3))
    print(f"  create                      {t * 1e3:8.1f} ms")
    t, _ = timed(lambda: [r.get(v) for v in range(100000)])
    print(f"  100000 automatic leases     {t:7.3f} s  {per_op(t, 100000)}")
    # cursor at the top, one free address at the bottom: a wrap-around search over 16M
    r.cursor = r.size - 1
    r.set(1, "10.255.255.254")
    r.release(r.network + 1)
    t, lease = timed(lambda: r.get(2))
    print(f"  get wrapping to the bottom  {t * 1e6:8.1f} µs  ({lease.ip_text})")


def bench_pool(path: str, db_leases: int) -> None:
    print(f"== VNetPool on SQLite ({path})")
    db.connect({"backend": "sqlite", "path": path})
    pool = VNetPool("00:03", 254, lambda uid: "oneadmin")
    big = pool.allocate(0, SLASH16)
    for i in range(200):
        pool.allocate(0, f'NAME = "net{i}"\nTYPE = RANGED\nNETWORK_ADDRESS = 10.{i}.0.0\n')

    nic = [{"NETWORK": "big"}]
    t, _ = timed(lambda: [pool.acquire_nics(nic, vid, 0) for vid in range(db_leases)])
    print(f"  {db_leases} acquire_nics (1 txn each) {t:7.3f} s  {per_op(t, db_leases)}")
    # fill the rest in one transaction (as fast as possible) to reach a full /16
    rest = 65534 - db_leases

    def fill() -> None:
        with db.writer():
            for vid in range(rest):
                pool.acquire_nics(nic, db_leases + vid, 0)

    t, _ = timed(fill)
    print(f"  {rest} more in one txn         {t:7.3f} s  {per_op(t, max(rest, 1))}")
    assert LeaseRow.select().where(LeaseRow.oid == big).count() == 65534

    samples = [timed(pool.pool_xml)[0] for _ in range(20)]
    print(
        f"  one.vnpool.info body (201 nets, /16 full) median {statistics.median(samples) * 1e3:7.2f} ms"
    )
    samples = []
    for _ in range(5):
        net = pool.get(big)
        assert net is not None  # allocated above, never deleted
        net.changed()
        samples.append(timed(lambda: pool.info_xml(big))[0])
    body = pool.info_xml(big)
    assert body is not None  # the network exists
    print(
        f"  one.vn.info body of the /16  median {statistics.median(samples) * 1e3:7.2f} ms"
        f"  ({len(body) / 1e6:.1f} MB), rendered"
    )
    samples = [timed(lambda: pool.info_xml(big))[0] for _ in range(20)]
    print(
        f"  one.vn.info body of the /16  median {statistics.median(samples) * 1e3:7.2f} ms, cached"
    )
    t, again = timed(lambda: VNetPool("00:03", 254, lambda uid: "oneadmin"))
    print(f"  pool load at start-up (65534 lease rows) {t:7.3f} s")
    released = [{"VNID": str(big), "IP": f"172.16.{i // 256}.{i % 256 or 1}"} for i in range(1000)]
    t, n = timed(lambda: again.release_nics(released))
    print(f"  release_nics of {n} NICs (1 txn)  {t * 1e3:7.2f} ms")
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 DB-backed leases instead of 5000")
    ap.add_argument("--db-leases", type=int, default=None)
    args = ap.parse_args()
    n = args.db_leases or (200 if args.quick else 5000)
    bench_pure()
    bench_slash8()
    with tempfile.TemporaryDirectory() as tmp:
        bench_pool(os.path.join(tmp, "one.db"), n)


if __name__ == "__main__":
    main()
