"""Draw the scaling sweep's PNGs from ``docs/perf/sweep.csv`` (bench/bench_sweep.py).

    uv run python bench/plot_sweep.py [docs/perf/sweep.csv]

Writes ``sweep-vms.png`` (figures against the number of VMs) and ``sweep-hosts.png``
(monitoring against the number of hosts) next to the CSV; each point is labelled
with the load average it was measured at.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

VM_PANELS = [
    ("allocate_per_s", "one.vm.allocate, 4 clients (VMs/s)", None),
    ("vmpool_info_ms", "one.vmpool.info, all VMs (ms)", None),
    ("first_page_ms", "first page of 100 VMs, modern (ms)", 2.0),
    ("deploy_running_ms", "allocate + deploy -> RUNNING (ms)", None),
    ("rss_mib", "oned RSS (MiB)", None),
    ("startup_s", "start-up until the API answers (s)", 5.0),
    ("startup_transitional_s", "same, a tenth of the VMs in BOOT (s)", 5.0),
    ("recovered_s", "start until those VMs run again (s)", None),
]
HOST_PANELS = [
    ("monitor_after_interval_s", "all hosts MONITORED, after the interval (s)", 60.0),
    ("api_p99_ms", "one.user.info p99 during monitoring (ms)", 20.0),
    ("rss_mib", "oned RSS (MiB)", None),
]


def _rows(path: Path, axis: str) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["axis"] == axis]


def _draw(rows: list[dict[str, str]], x: str, panels: list, title: str, out: Path) -> Path:
    cols = min(3, len(panels))
    nrows = (len(panels) + cols - 1) // cols
    fig, grid = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.4 * nrows), squeeze=False)
    xs = [float(r[x]) for r in rows]
    for ax in grid.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (key, label, goal) in zip(grid.flat, panels, strict=False):
        pts = [(xv, float(r[key]), r["load1"]) for xv, r in zip(xs, rows, strict=True) if r[key]]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-")
            for px, py, load in pts:
                ax.annotate(f"load {load}", (px, py), fontsize=7, textcoords="offset points",
                            xytext=(0, 6), ha="center")  # fmt: skip
        if goal is not None:
            ax.axhline(goal, color="red", linestyle="--", linewidth=1, label=f"goal {goal:g}")
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel(x)
        ax.set_title(label, fontsize=9)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot(path: Path) -> list[Path]:
    """Both PNGs for the CSV at ``path``; returns the files written."""
    written = []
    vms = _rows(path, "vms")
    if vms:
        written.append(
            _draw(
                vms,
                "vms",
                VM_PANELS,
                "oned with N VMs, PENDING but the 20 per size deployed (10 dummy hosts)",
                path.with_name("sweep-vms.png"),
            )  # fmt: skip
        )
    hosts = _rows(path, "hosts")
    if hosts:
        written.append(
            _draw(
                hosts,
                "hosts",
                HOST_PANELS,
                "oned with N dummy hosts (interval 10 s)",
                path.with_name("sweep-hosts.png"),
            )  # fmt: skip
        )
    return written


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "docs/perf/sweep.csv"
    )
    for png in plot(target):
        print(png)
