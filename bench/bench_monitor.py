"""Host monitoring at scale (issue 19): time to monitor N dummy hosts and the API's latency meanwhile.

    .venv/bin/python bench/bench_monitor.py --hosts 10000            # both modes, one oned each
    .venv/bin/python bench/bench_monitor.py --hosts 10000 --mode quiet --profile out.txt

The set-up is the host axis of ``bench/bench_sweep.py``: a fresh oned (dummy drivers,
``HOST_MONITORING_INTERVAL = 10``, ``MANAGER_TIMER = 1``, ``DEBUG_LEVEL = 1``), N hosts
allocated over one keep-alive connection, then the time until every host is MONITORED
minus the interval ("after the interval"), while one client calls ``one.user.info``
(raw HTTP) every 10 ms. Modes (``both``: quiet then poll):

* ``quiet``: nothing else talks to oned; completion is read from the database file
  (SQLite ``mode=ro`` in this process: it costs oned no GIL time). This is the goal's
  figure: the latency of a cheap API call while monitoring runs.
* ``poll``: as the sweep does, ``one.hostpool.info`` (≈ 8 MB with 10,000 hosts) every
  0.5 s decides completion, so the p99 also includes that listing's competition.

* ``floor``: the hosts are not due (interval 3600 s); the same client over the same
  window (interval + 8 s): the latency this machine gives without monitoring.

Printed per mode: the 1-minute load average, seconds after the interval, oned's CPU
time (user + system) from the last allocation until all are MONITORED, and the p50 /
p99 / max of ``one.user.info`` over two windows: from the last allocation until all are
MONITORED (the sweep's window), and ``busy`` — from the first host MONITORED until the last.
``--profile FILE`` runs ``py-spy record`` on oned during the quiet mode (``--format raw``).
``PYTHONPATH=<other tree>`` measures another checkout (a before/after in the same run).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_sweep import allocate_hosts  # noqa: E402
from bench_vm import Http  # noqa: E402

from one_core.rpc.codec import encode_call  # noqa: E402
from one_core.testing.oned import OnedProcess  # noqa: E402

INTERVAL = 10
MONITORED = 2


def api_latencies(port: int, session: str, stop: threading.Event, out: list[tuple[float, float]]):
    """``(start, seconds)`` of one ``one.user.info`` every 10 ms until ``stop``."""
    conn = Http(port)
    body = encode_call("one.user.info", [session, 0])
    while not stop.is_set():
        t0 = time.perf_counter()
        conn.post(body)
        out.append((t0, time.perf_counter() - t0))
        time.sleep(0.01)


def pct(values: list[float], q: int) -> float:
    """The ``q``-th percentile in ms (max if fewer than 100 values)."""
    if len(values) < 100:
        return max(values, default=0.0) * 1000
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def monitored_in_db(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(
            "SELECT count(*) FROM host_pool WHERE state = ?", (MONITORED,)
        ).fetchone()[0]
    finally:
        con.close()


def run(base: Path, size: int, mode: str, profile: str | None) -> dict[str, float]:
    one = OnedProcess(
        base / f"{mode}{size}",
        {
            "HOST_MONITORING_INTERVAL": 3600 if mode == "floor" else INTERVAL,
            "MANAGER_TIMER": 1,
            "DEBUG_LEVEL": 1,
        },
    ).start()
    spy = None
    try:
        raw = allocate_hosts(one, size)
        t_end = time.perf_counter()
        load = os.getloadavg()[0]
        assert one.proc is not None
        cpu0 = cpu_seconds(one.proc.pid)
        if profile and one.proc is not None:
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(one.proc.pid),
                 "--format", "raw", "--output", profile, "--rate", "200", "--nonblocking"],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        stop, lat = threading.Event(), []  # type: ignore[var-annotated]
        probe = threading.Thread(
            target=api_latencies, args=(one.port, one.session, stop, lat), daemon=True
        )
        probe.start()
        listing = encode_call("one.hostpool.info", [one.session])
        first = None
        try:
            while True:
                if mode == "floor":  # no monitoring: the latency without it, same window
                    done = size if time.perf_counter() - t_end >= INTERVAL + 8 else 0
                elif mode == "poll":
                    done = raw.post(listing).count(b"&lt;STATE&gt;2&lt;/STATE&gt;")
                else:
                    done = monitored_in_db(one.var / "one.db")
                if done and first is None:
                    first = time.perf_counter()
                if done >= size:
                    break
                if time.perf_counter() - t_end > INTERVAL + 300:
                    raise RuntimeError(f"{size} hosts not all monitored ({done})")
                time.sleep(0.5)
        finally:
            t_done = time.perf_counter()
            cpu = cpu_seconds(one.proc.pid) - cpu0
            stop.set()
            probe.join()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait()
    finally:
        one.stop()
    first = first or t_done
    all_lat = [d for _, d in lat]
    busy = [d for t, d in lat if first - 0.5 <= t <= t_done]
    return {
        "load": load,
        "cpu": cpu,
        "after": max(0.0, t_done - t_end - INTERVAL),
        "busy_s": t_done - first,
        "calls": len(all_lat),
        "p50": pct(all_lat, 50),
        "p99": pct(all_lat, 99),
        "max": max(all_lat) * 1000,
        "busy_calls": len(busy),
        "busy_p99": pct(busy, 99),
        "busy_max": max(busy, default=0) * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--mode", choices=("quiet", "poll", "floor", "both"), default="both")
    ap.add_argument("--profile", help="py-spy raw output file (quiet mode)")
    args = ap.parse_args()
    modes = ("quiet", "poll") if args.mode == "both" else (args.mode,)
    tree = os.environ.get("PYTHONPATH", "this tree")
    with tempfile.TemporaryDirectory(prefix="one-bench-mon-") as tmp:
        for mode in modes:
            r = run(Path(tmp), args.hosts, mode, args.profile if mode == "quiet" else None)
            print(
                f"[{tree}] {args.hosts} hosts, {mode:5} (load {r['load']:.2f}): all MONITORED "
                f"{r['after']:.2f} s after the interval (oned CPU {r['cpu']:.1f} s); one.user.info p50 {r['p50']:.1f} ms "
                f"p99 {r['p99']:.1f} ms max {r['max']:.0f} ms ({r['calls']} calls); busy "
                f"{r['busy_s']:.1f} s: p99 {r['busy_p99']:.1f} ms max {r['busy_max']:.0f} ms "
                f"({r['busy_calls']} calls)",
                flush=True,
            )
            print(f"RESULT monitor.{mode}_after_{args.hosts} {r['after']:.4g} s", flush=True)
            print(f"RESULT monitor.{mode}_p99_{args.hosts} {r['p99']:.4g} ms", flush=True)


if __name__ == "__main__":
    main()
