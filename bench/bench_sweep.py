"""The scaling sweep of issue 19: how oned's figures grow with the pool (``make bench``).

    uv run python bench/bench_sweep.py                    # full: 1k, 1.5k, 10k, 100k VMs;
                                                          #       10, 100, 1,000, 10,000 hosts
    uv run python bench/bench_sweep.py --max-vms 10000 --max-hosts 1000   # scaled down
    uv run python bench/bench_sweep.py --max-vms 10000 --max-hosts 0 --csv /tmp/s.csv
                                                          # the VM axis to 10,000 only (≈ 20 s)

Two axes, each against a real oned (dummy drivers, ``DEBUG_LEVEL = 1``) over real sockets:

* **VMs** (one oned, 10 hosts, the pool grown step by step to 1,000, 1,500, 10,000 and
  100,000 PENDING VMs with the template ``NAME="perf" CPU=0.1 MEMORY=64``). At each size:
  the allocate rate of the last 1,000 VMs allocated to reach it (4 ``xmlrpc.client``
  threads; at 1,000 the pool was empty), the full ``one.vmpool.info`` (``-2``) on ``/RPC2``
  (server + transfer, raw keep-alive HTTP, median of 5, 3 at 100,000), the first page of
  100 VMs on ``/RPC2/modern`` (``one.vmpool.info(session, -2, 0, -100, -1)``, median of 20),
  oned's RSS and peak (``VmRSS``/``VmHWM``), allocate + deploy → RUNNING (median of 20, polling
  ``one.vm.info``), and the start-up time: SIGTERM, start, until ``one.user.info`` answers
  (pool load + recovery; the VMs are PENDING, none in a transitional state). Then the same
  with a tenth of the pool (10,000 of 100,000) in a transitional state: oned stopped, that
  many PENDING VMs put in BOOT with a deploy id, the action ``DEPLOY`` in flight and a
  history record on host 0 (a copy of a VM the deploy step ran), straight in the database,
  as a crash mid-boot leaves them; start-up until the API answers (recovery fires on each,
  before the port opens), then until all of them are RUNNING again (each one polled
  through the dummy VMM driver: ``recovered_s``).
* **hosts** (a fresh oned per size, ``HOST_MONITORING_INTERVAL = 10``): allocate the hosts,
  then the time until every host is MONITORED, minus the interval ("after the interval"),
  and the p99 latency of ``one.user.info`` (raw HTTP, every 10 ms) while that happens.

Writes ``docs/perf/sweep.csv`` (one row per size, the 1-minute load average in each row)
and prints ``RESULT sweep.<figure>_<size> <value> <unit>`` lines for bench/run_all.py.
``--plot`` then draws the PNGs (bench/plot_sweep.py).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_vm import Http, allocate_many, deploy_latency, proxy, rss_mb  # noqa: E402

from one_core.rpc.codec import encode_call  # noqa: E402
from one_core.testing.oned import ONEADMIN_PASSWORD, OnedProcess  # noqa: E402

TEMPLATE = 'NAME="perf"\nCPU=0.1\nMEMORY=64\n'
VM_SIZES = (1000, 1500, 10000, 100000)
HOST_SIZES = (10, 100, 1000, 10000)
MONITOR_INTERVAL = 10
CSV_PATH = BENCH.parent / "docs" / "perf" / "sweep.csv"
FIELDS = [
    "axis", "vms", "hosts", "load1", "allocate_per_s", "vmpool_info_ms", "vmpool_bytes",
    "first_page_ms", "deploy_running_ms", "rss_mib", "rss_peak_mib", "startup_s",
    "transitional", "startup_transitional_s", "recovered_s", "monitor_after_interval_s",
    "api_p99_ms",
]  # fmt: skip


def result(key: str, value: float, unit: str) -> None:
    print(f"RESULT {key} {value:.4g} {unit}", flush=True)


def load1() -> float:
    return os.getloadavg()[0]


def startup(one: OnedProcess) -> float:
    """SIGTERM, start again; seconds until ``one.user.info`` answers."""
    one.stop()
    body = encode_call("one.user.info", [one.session, 0])
    t0 = time.perf_counter()
    one.start(wait=False)
    deadline = t0 + 600
    while time.perf_counter() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", one.port, timeout=5)
            conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
            if conn.getresponse().status == 200:
                conn.close()
                return time.perf_counter() - t0
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("oned did not answer after a restart")


TRANSITIONAL_SHARE = 10
"""One VM in this many is put in a transitional state for the second start-up."""
RUNNING = b"&lt;STATE&gt;3&lt;/STATE&gt;&lt;LCM_STATE&gt;3&lt;/LCM_STATE&gt;"


def hold_in_boot(db: Path, n: int) -> int:
    """Put ``n`` PENDING VMs in ACTIVE/BOOT with ``DEPLOY`` in flight, in the stopped oned's
    database (the history record is a RUNNING VM's on host 0); returns how many."""
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(history)") if r[1] not in ("vid",)]
        model = con.execute(
            "SELECT h.vid FROM history h JOIN vm_pool v ON v.oid = h.vid AND h.seq = v.last_seq"
            " WHERE v.state = 3 AND v.lcm_state = 3 AND h.hid = 0 LIMIT 1"
        ).fetchone()
        assert model is not None, "no RUNNING VM on host 0 to copy a history record from"
        vids = [
            r[0]
            for r in con.execute(
                "SELECT oid FROM vm_pool WHERE state = 1 ORDER BY oid DESC LIMIT ?", (n,)
            )
        ]
        picked = ", ".join(c if c != "seq" else "0" for c in cols)
        with con:
            for vid in vids:
                con.execute(
                    f"INSERT INTO history (vid, {', '.join(cols)}) SELECT ?, {picked}"
                    " FROM history WHERE vid = ? AND seq = (SELECT last_seq FROM vm_pool"
                    " WHERE oid = ?)",
                    (vid, model[0], model[0]),
                )
            con.executemany(
                "UPDATE vm_pool SET state = 3, lcm_state = 2, last_seq = 0,"
                " deploy_id = 'one-' || oid, pending_action = 'DEPLOY' WHERE oid = ?",
                [(v,) for v in vids],
            )
        return len(vids)
    finally:
        con.close()


def transitional_startup(one: OnedProcess, n: int) -> tuple[int, float, float]:
    """Stop, hold ``n`` PENDING VMs in BOOT, start: ``(held, seconds until the API answers,
    seconds until every VM that should run is RUNNING)``."""
    raw = Http(one.port)
    listing = encode_call("one.vmpool.info", [one.session, -2])
    running = raw.post(listing).count(RUNNING)
    one.stop()
    held = hold_in_boot(one.var / "one.db", n)
    up = startup(one)
    t0 = time.perf_counter() - up
    raw = Http(one.port)
    while raw.post(listing).count(RUNNING) < running + held:
        if time.perf_counter() - t0 > 600:
            raise RuntimeError("the VMs held in BOOT did not all run again")
        time.sleep(0.2)
    return held, up, time.perf_counter() - t0


def vm_axis(base: Path, sizes: list[int], rows: list[dict[str, object]]) -> None:
    one = OnedProcess(base / "vms", {"VM_POLLING_INTERVAL": 3600, "DEBUG_LEVEL": 1}).start()
    try:
        s = one.session
        p = proxy(one)
        for i in range(10):
            assert p.one.host.allocate(s, f"node{i}", "im_dummy", "vmm_dummy", "tm_dummy")[0]
        have = 0
        for size in sizes:
            load = load1()
            fill = size - have - 1000
            if fill > 0:
                allocate_many(one, (fill // 4) * 4, 4, TEMPLATE)
                have += (fill // 4) * 4
            last = size - have
            dt, _ = allocate_many(one, last - last % 4, 4, TEMPLATE)
            rate = (last - last % 4) / dt
            have += last - last % 4
            assert one.proc is not None
            raw = Http(one.port)
            pool_ms, nbytes = raw.median_ms(
                encode_call("one.vmpool.info", [s, -2]), 3 if size >= 50000 else 5
            )
            modern = Http(one.port, "/RPC2/modern")
            page_ms, _ = modern.median_ms(
                encode_call("one.vmpool.info", [f"oneadmin:{ONEADMIN_PASSWORD}", -2, 0, -100, -1]),
                20,
            )
            rss, hwm = rss_mb(one.proc.pid)
            up = startup(one)
            lat = deploy_latency(one, 20, TEMPLATE)
            have += 20
            dep_ms = statistics.median(lat) * 1000
            held, up_tr, recovered = transitional_startup(one, size // TRANSITIONAL_SHARE)
            row = {
                "axis": "vms", "vms": size, "hosts": 10, "load1": round(load, 2),
                "allocate_per_s": round(rate), "vmpool_info_ms": round(pool_ms, 2),
                "vmpool_bytes": nbytes, "first_page_ms": round(page_ms, 3),
                "deploy_running_ms": round(dep_ms, 2), "rss_mib": round(rss, 1),
                "rss_peak_mib": round(hwm, 1), "startup_s": round(up, 3),
                "transitional": held, "startup_transitional_s": round(up_tr, 3),
                "recovered_s": round(recovered, 2),
            }  # fmt: skip
            rows.append(row)
            print(
                f"{size:>7} VMs (load {load:.2f}): allocate {rate:,.0f}/s, vmpool.info "
                f"{pool_ms:.1f} ms ({nbytes:,} B), first page {page_ms:.2f} ms, deploy->RUNNING "
                f"{dep_ms:.1f} ms, RSS {rss:.1f} MiB (peak {hwm:.1f}), start-up {up:.2f} s; "
                f"with {held:,} in BOOT {up_tr:.2f} s, all running again after {recovered:.2f} s",
                flush=True,
            )
            for key, value, unit in (
                ("allocate", rate, "/s"), ("pool", pool_ms, "ms"), ("page", page_ms, "ms"),
                ("deploy", dep_ms, "ms"), ("rss", rss, "MiB"), ("startup", up, "s"),
                ("startup_transitional", up_tr, "s"), ("recovered", recovered, "s"),
            ):  # fmt: skip
                result(f"sweep.{key}_{size}", value, unit)
    finally:
        one.stop()


def api_latencies(port: int, session: str, stop: threading.Event, out: list[float]) -> None:
    conn = Http(port)
    body = encode_call("one.user.info", [session, 0])
    while not stop.is_set():
        t0 = time.perf_counter()
        conn.post(body)
        out.append(time.perf_counter() - t0)
        time.sleep(0.01)


def allocate_hosts(one: OnedProcess, size: int) -> Http:
    """Hosts ``h0`` … with the dummy drivers, over one raw keep-alive connection (returned)."""
    raw = Http(one.port)
    for i in range(size):
        body = encode_call(
            "one.host.allocate", [one.session, f"h{i}", "im_dummy", "vmm_dummy", "tm_dummy"]
        )
        assert b"<boolean>1</boolean>" in raw.post(body)
    return raw


def host_axis(base: Path, sizes: list[int], rows: list[dict[str, object]]) -> None:
    for size in sizes:
        load = load1()
        one = OnedProcess(
            base / f"hosts{size}",
            {"HOST_MONITORING_INTERVAL": MONITOR_INTERVAL, "MANAGER_TIMER": 1, "DEBUG_LEVEL": 1},
        ).start()
        try:
            raw = allocate_hosts(one, size)
            t_end = time.perf_counter()
            stop, lat = threading.Event(), []  # type: ignore[var-annotated]
            probe = threading.Thread(
                target=api_latencies, args=(one.port, one.session, stop, lat), daemon=True
            )
            probe.start()
            listing = encode_call("one.hostpool.info", [one.session])
            try:
                while True:
                    doc = raw.post(listing)
                    if doc.count(b"&lt;STATE&gt;2&lt;/STATE&gt;") >= size:
                        break
                    if time.perf_counter() - t_end > MONITOR_INTERVAL + 300:
                        raise RuntimeError(f"{size} hosts not all monitored")
                    time.sleep(0.5)
            finally:
                stop.set()
                probe.join()
            after = max(0.0, time.perf_counter() - t_end - MONITOR_INTERVAL)
            p99 = (
                statistics.quantiles(lat, n=100)[98] * 1000 if len(lat) >= 100 else max(lat) * 1000
            )
            assert one.proc is not None
            rss, hwm = rss_mb(one.proc.pid)
        finally:
            one.stop()
        rows.append({
            "axis": "hosts", "vms": 0, "hosts": size, "load1": round(load, 2),
            "rss_mib": round(rss, 1), "rss_peak_mib": round(hwm, 1),
            "monitor_after_interval_s": round(after, 2), "api_p99_ms": round(p99, 2),
        })  # fmt: skip
        print(
            f"{size:>7} hosts (load {load:.2f}): all MONITORED {after:.2f} s after the "
            f"{MONITOR_INTERVAL} s interval, one.user.info p99 {p99:.1f} ms "
            f"({len(lat)} calls), RSS {rss:.1f} MiB",
            flush=True,
        )
        result(f"sweep.monitor_{size}", after, "s")
        result(f"sweep.api_p99_{size}", p99, "ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-vms", type=int, default=VM_SIZES[-1], help="largest pool (VM axis)")
    ap.add_argument("--max-hosts", type=int, default=HOST_SIZES[-1], help="largest host count")
    ap.add_argument("--csv", type=Path, default=CSV_PATH)
    ap.add_argument("--plot", action="store_true", help="draw the PNGs next to the CSV")
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        vm_axis(Path(tmp), [n for n in VM_SIZES if n <= args.max_vms], rows)
        host_axis(Path(tmp), [n for n in HOST_SIZES if n <= args.max_hosts], rows)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"sweep: {len(rows)} sizes in {time.monotonic() - t0:.0f} s -> {args.csv}")
    if args.plot:
        from plot_sweep import plot

        for png in plot(args.csv):
            print(f"plot: {png}")


if __name__ == "__main__":
    main()
