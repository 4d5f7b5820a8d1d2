"""HA on PostgreSQL (docs/ha.md): take-over time and the cost on ``one.vm.allocate``.

Goals (issue 21):

* take-over: leader SIGKILL → first successful write on the new leader ≤ 5 s with
  the default lease (3 s);
* ``one.vm.allocate`` throughput of an HA leader (one follower running) within 10 %
  of a single oned on the same PostgreSQL server.

Starts a throwaway PostgreSQL server (``one_core.testing.postgres``) and real oned
processes with the dummy drivers. Run: ``.venv/bin/python bench/bench_ha.py``
(``--quick`` for fewer rounds and calls).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from one_core.testing.oned import ONEADMIN_SESSION, OnedProcess  # noqa: E402
from one_core.testing.postgres import PgServer, start_pg_server  # noqa: E402

VM = "NAME=b\nCPU=0.1\nMEMORY=16\n"


def result(key: str, value: float, unit: str) -> None:
    """A machine-readable line for bench/run_all.py."""
    print(f"RESULT {key} {value:.4g} {unit}", flush=True)


def group(base: Path, server: PgServer, n: int, ha: bool = True) -> list[OnedProcess]:
    """``n`` oned on one fresh database (the first one leads)."""
    db = server.create_database()
    nodes = []
    for i in range(n):
        o = OnedProcess(base / f"node{i}", db=db)
        if ha:
            o.conf_path.write_text(
                o.conf_path.read_text() + f'HA = [ node = "n{i}", endpoint = "{o.url}" ]\n'
            )
        nodes.append(o)
    nodes[0].start()
    wait_write(nodes[0], 30)
    for o in nodes[1:]:
        o.start()
    return nodes


def wait_write(node: OnedProcess, timeout: float) -> float:
    """Seconds until ``one.vm.allocate`` succeeds on ``node``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if node.call("one.vm.allocate", ONEADMIN_SESSION, VM)[0] is True:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no write on {node.url} within {timeout} s")


def takeover(base: Path, server: PgServer, rounds: int) -> list[float]:
    """Leader SIGKILL → first successful write on the follower, ``rounds`` times."""
    times = []
    for r in range(rounds):
        nodes = group(base / f"takeover{r}", server, 2)
        time.sleep(1.5)  # the follower is settled (heartbeat, read copy)
        nodes[0].kill9()
        start = time.monotonic()
        wait_write(nodes[1], 30)
        times.append(time.monotonic() - start)
        nodes[1].stop()
    return times


def throughput(node: OnedProcess, calls: int, clients: int = 4) -> float:
    """``one.vm.allocate`` per second, ``clients`` threads with a keep-alive connection each."""
    per = calls // clients

    def run() -> None:
        c = node.client()
        for _ in range(per):
            c.vm_allocate(VM)
        c.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * clients / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, calls, repeats = (2, 400, 1) if args.quick else (5, 1000, 8)
    with tempfile.TemporaryDirectory(prefix="bench_ha") as tmp:
        base = Path(tmp)
        servers = start_pg_server()
        server = next(servers)
        try:
            times = takeover(base, server, rounds)
            print(f"take-over (SIGKILL -> first write): {[round(t, 2) for t in times]}")
            result("ha_takeover_median_s", statistics.median(times), "s")
            result("ha_takeover_max_s", max(times), "s")
            single = group(base / "single", server, 1, ha=False)
            ha = group(base / "ha", server, 2)
            rates: dict[str, list[float]] = {"single": [], "ha": []}
            for i in range(repeats):  # interleaved, alternating: both see the same load
                order = [("single", single[0]), ("ha", ha[0])]
                for key, node in order if i % 2 == 0 else reversed(order):
                    rates[key].append(throughput(node, calls))
            for o in single + ha:
                o.stop()
            # the best of the repeats: the least disturbed by other load on the machine
            one, two = max(rates["single"]), max(rates["ha"])
            print(f"one.vm.allocate/s single {rates['single']} HA {rates['ha']}")
            result("ha_allocate_single_per_s", one, "/s")
            result("ha_allocate_leader_per_s", two, "/s")
            result("ha_allocate_cost_pct", 100 * (one - two) / one, "%")
        finally:
            for _ in servers:  # stop the server
                pass


if __name__ == "__main__":
    main()
