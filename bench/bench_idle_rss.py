"""Idle oned RSS with the dummy drivers (issue 15: a slim core, goal <= 40 MiB; 1.4: 10 MB).

Two figures, each oned started as the tests start it (dummy IM/VMM/TM, external
scheduler), left idle 5 s, then ``VmRSS`` read from ``/proc/<pid>/status``:

* ``rss.idle_core`` — oned from a fresh virtualenv holding only one-core and
  one-drivers-dummy (non-editable, bytecode compiled at install): what an
  operator who installs the core gets. The goal applies to this one.
* ``rss.idle_dev`` — oned from the project's venv, where every driver, kit and
  dev tool is installed, psycopg2 included (an oned on SQLite does not load it:
  one_core/dbclient.py), measured at its second start: the first writes the bytecode
  that ``uv sync`` does not (``--compile-bytecode`` does it for the other venv). The same
  goal applies.

Run: ``.venv/bin/python bench/bench_idle_rss.py`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDLE_SECONDS = 5.0

DRIVER_SECTIONS = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "external" ]
"""


def result(key: str, value: float, unit: str) -> None:
    """A machine-readable line for bench/run_all.py."""
    print(f"RESULT {key} {value:.4g} {unit}", flush=True)


def _uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def core_venv(directory: Path) -> Path:
    """A fresh venv with one-core and one-drivers-dummy only; returns its python."""
    if directory.exists():
        shutil.rmtree(directory)
    subprocess.run(
        [*_uv(), "venv", "--quiet", "--python", sys.executable, str(directory)], check=True
    )
    python = directory / "bin" / "python"
    subprocess.run(
        [*_uv(), "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python),
         str(ROOT), str(ROOT / "plugins" / "dummy")],
        check=True,
    )  # fmt: skip
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def idle_rss(python: Path, location: Path) -> float:
    """Start oned with ``python`` in ``location``, wait until it listens, idle, read VmRSS (MiB)."""
    port = _free_port()
    (location / "etc").mkdir(parents=True)
    (location / "var").mkdir()
    (location / "etc" / "oned.conf").write_text(
        f"PORT = {port}\nHOST_MONITORING_INTERVAL = 3600\nVM_POLLING_INTERVAL = 3600\n"
        f"MANAGER_TIMER = 1\nDEBUG_LEVEL = 3\n{DRIVER_SECTIONS}"
    )
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")  # bytecode as usual
    env = {k: v for k, v in os.environ.items() if k not in drop}
    (location / "one_auth").write_text("oneadmin:onepass\n")
    env.update(ONE_LOCATION=str(location), ONE_AUTH=str(location / "one_auth"))
    with open(location / "oned.stderr", "wb") as err:
        proc = subprocess.Popen(
            [str(python), "-m", "one_core.daemon", "-f"],
            cwd=str(location),
            env=env,
            stdout=err,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError((location / "oned.stderr").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"oned did not open port {port}") from None
                time.sleep(0.1)
        time.sleep(IDLE_SECONDS)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return kib / 1024
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-dev", action="store_true", help="only the one-core-alone figure")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="one-rss-") as tmp:
        python = core_venv(Path(tmp) / "venv")
        core = idle_rss(python, Path(tmp) / "core")
        load = os.getloadavg()[0]
        print(
            f"oned RSS idle, one-core + dummy drivers only : {core:6.1f} MiB (goal <= 40)"
            f"  load {load:.2f}"
        )
        result("rss.idle_core", core, "MiB")
        if not args.no_dev:
            # a first start writes the bytecode a fresh checkout lacks (uv sync does not
            # compile it): without it every start compiles ~400 modules and the compiler's
            # freed memory stays in the process (50-52 MiB instead of 38)
            idle_rss(Path(sys.executable), Path(tmp) / "warm-up")
            dev = idle_rss(Path(sys.executable), Path(tmp) / "dev")
            load = os.getloadavg()[0]
            print(
                f"oned RSS idle, project venv (everything)     : {dev:6.1f} MiB (goal <= 40)"
                f"  load {load:.2f}"
            )
            result("rss.idle_dev", dev, "MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
