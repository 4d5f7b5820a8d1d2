"""Benchmark one scheduling cycle of the ``rank`` scheduler (not a test).

    uv run python bench/bench_sched.py            # 10k x 1k, 100k x 1k, scaling
    uv run python bench/bench_sched.py --quick    # 10k x 1k only

VMs use REQUIREMENTS like ``CPU > 50 & HYPERVISOR = "kvm*"`` (a handful of
variants) and RANK = FREECPU; hosts are kvm/xen mixes with varied free
capacity. Log output goes through a real logging handler (1.4's line format)
into a temporary file, as sched.log would.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time

from one_sched_rank import expr
from one_sched_rank.policy import dispatch, plan

from one_core.context import DriverContext
from one_core.logs import OneFormatter
from one_core.placement import HostSnapshot, PendingVM

REQS = [
    'CPU > 50 & HYPERVISOR = "kvm*"',
    'TOTALCPU > 200 & HYPERVISOR = "kvm*"',
    'FREEMEMORY > 1000000 | HYPERVISOR = "xen"',
    'ARCH = "x86_64" & ! HOSTNAME = "node00*"',
    "",
]


def make_hosts(n: int, rng: random.Random) -> list[HostSnapshot]:
    hosts = []
    for hid in range(n):
        total_cpu = rng.choice([200, 400, 800, 1600])
        free_cpu = rng.randint(0, total_cpu * 10) / 10
        total_mem = rng.choice([4, 8, 16, 32, 64]) * 1048576
        free_mem = rng.randint(0, total_mem)
        tmpl = {
            "HOSTNAME": f"node{hid:05d}",
            "ARCH": "x86_64",
            "HYPERVISOR": rng.choice(["kvm", "kvm", "xen"]),
            "CPU": str(rng.randint(0, 100)),
            "TOTALCPU": str(total_cpu),
            "FREECPU": str(free_cpu),
            "USEDCPU": str(total_cpu - free_cpu),
            "TOTALMEMORY": str(total_mem),
            "FREEMEMORY": str(free_mem),
            "USEDMEMORY": str(total_mem - free_mem),
            "CPUSPEED": "2400",
        }
        hosts.append(
            HostSnapshot(
                hid=hid,
                name=f"node{hid:05d}",
                template=tmpl,
                max_cpu=total_cpu,
                max_mem=total_mem,
                cpu_usage=rng.randint(0, total_cpu // 2),
                mem_usage=rng.randint(0, total_mem // 2),
                free_cpu=int(free_cpu),
                free_mem=free_mem,
            )
        )
    return hosts


def make_vms(n: int, rng: random.Random, distinct: bool = False) -> list[PendingVM]:
    vms = []
    for vid in range(n):
        reqs = f'CPU > {vid} & HYPERVISOR = "kvm*"' if distinct else rng.choice(REQS)
        cpu = rng.choice(["0.5", "1", "2"])
        mem = rng.choice(["256", "512", "1024", "2048"])
        tmpl = {"CPU": cpu, "MEMORY": mem, "REQUIREMENTS": reqs, "RANK": "FREECPU"}
        vms.append(
            PendingVM(
                vid=vid,
                uid=0,
                template=tmpl,
                requirements=reqs,
                rank="FREECPU",
                cpu=cpu,
                memory=mem,
            )
        )
    return vms


def make_ctx(path: str) -> DriverContext:
    logger = logging.getLogger(f"bench.sched.{path}")
    logger.propagate = False
    handler = logging.FileHandler(path)
    handler.setFormatter(OneFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return DriverContext(
        role="sched", name="rank", log=logger, vm_log_func=lambda vid, module, level, message: None
    )


def one_cycle(
    n_vms: int, n_hosts: int, seed: int = 1, distinct: bool = False
) -> tuple[float, float, int]:
    rng = random.Random(seed)
    hosts = make_hosts(n_hosts, rng)
    vms = make_vms(n_vms, rng, distinct)
    expr.compile_requirements.cache_clear()
    expr.compile_rank.cache_clear()
    with tempfile.NamedTemporaryFile(suffix=".log") as fh:
        ctx = make_ctx(fh.name)
        t0 = time.perf_counter()
        cycle = plan(ctx, vms, hosts)
        t1 = time.perf_counter()
        placed = list(dispatch(ctx, cycle))
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(placed)


def report(n_vms: int, n_hosts: int, distinct: bool = False) -> None:
    t_plan, t_disp, placed = one_cycle(n_vms, n_hosts, distinct=distinct)
    print(
        f"{n_vms:>7} VMs x {n_hosts:>5} hosts: plan {t_plan:6.3f}s  dispatch {t_disp:6.3f}s"
        f"  total {t_plan + t_disp:6.3f}s  placed {placed}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    report(10_000, 1_000)
    if args.quick:
        return 0
    report(100_000, 1_000)
    print("scaling with hosts (10k VMs):")
    for n in (100, 1_000, 5_000, 10_000):
        report(10_000, n)
    print("scaling with VMs (1k hosts):")
    for n in (1_000, 10_000, 50_000):
        report(n, 1_000)
    print("worst case, every VM with its own REQUIREMENTS (no grouping possible):")
    for n in (1_000, 10_000):
        report(n, 1_000, distinct=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
