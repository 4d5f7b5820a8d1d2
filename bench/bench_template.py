"""Template parse-speed benchmark: ``uv run python bench/bench_template.py``."""

from __future__ import annotations

import time
from pathlib import Path

from one_core.template import Template

VM = (Path(__file__).parents[1] / "tests/template/data/vm-example.template").read_text()
"""The 6-attribute VM template example of spec §1.8 (the one ``tests/template`` checks)."""

MONITORING = (
    "HYPERVISOR=kvm,TOTALCPU=800,CPUSPEED=2400,TOTALMEMORY=16777216,USEDMEMORY=1048576,"
    "FREEMEMORY=15728640,FREECPU=750,USEDCPU=50,NETRX=1234,NETTX=5678,"
    'MODELNAME="Intel(R) Xeon(R) CPU E5-2620 0 @ 2.00GHz",HOSTNAME=node01'
)

SMALL = "CPU=1\nMEMORY=512\nNAME=test\n"


def bench(label: str, fn, n: int) -> None:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {n / elapsed:>10.0f} /s  ({elapsed / n * 1e6:.1f} us each)")


if __name__ == "__main__":
    bench("small (3 attrs)", lambda: Template.parse(SMALL), 50000)
    bench("vm.template (6 attrs)", lambda: Template.parse(VM), 20000)
    bench("monitoring (13 attrs)", lambda: Template.parse_monitoring(MONITORING), 20000)
    t = Template.parse(VM)
    bench("to_text vm.template", t.to_text, 50000)
    bench("to_xml vm.template", t.to_xml, 50000)
