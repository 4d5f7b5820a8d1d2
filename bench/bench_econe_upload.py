"""Benchmark: a 2 GB UploadImage streams through econe-server with little memory.

Goal (issue 11, docs/econe.md): the server's RSS grows by less than 50 MB while
a 2 GB image is uploaded (waitress spools the body to ``IMAGE_DIR/tmp``, the
app copies it chunk by chunk into the repository; nothing holds the image in
memory).

Starts a real oned (dummy drivers) and a real econe-server, uploads a sparse
file of ``--size`` bytes with the econe-upload client code, samples the
server's RSS (``/proc/<pid>/status``) every 20 ms and prints the figures.
Exit status 1 if the growth reaches ``--limit-mb``.

Run: ``.venv/bin/python bench/bench_econe_upload.py`` (``--size 200M`` for a quick run).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper()
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"econe-server died:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("econe-server did not open its port")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2G", help="upload size (default 2G)")
    parser.add_argument("--limit-mb", type=float, default=50.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    size = _size(args.size)

    spec = importlib.util.spec_from_file_location("_one_conftest", REPO / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)

    from one_econe.tools.common import Credentials14, EC2QueryClient
    from one_econe.tools.upload import upload

    work = Path(tempfile.mkdtemp(prefix="bench-econe-"))
    oned = conftest.OnedProcess(work / "one").start()
    server: subprocess.Popen[bytes] | None = None
    try:
        admin = oned.client()
        admin.user_allocate("bench", "benchpw")
        port = _free_port()
        cfg = work / "econe.conf"
        cfg.write_text(
            f"USER=oneadmin\nPASSWORD=onepass\nSERVER=127.0.0.1\nPORT={port}\n"
            f"DATABASE={work}/econe.db\nIMAGE_DIR={work}/images\n"
        )
        log = work / "econe.log"
        with open(log, "ab") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "one_econe.server", "--config", str(cfg), "run"],
                env=dict(oned.env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_port(port, server, log)

        image = work / "big.img"
        with open(image, "wb") as f:
            f.truncate(size)  # sparse: the client reads zeros without disk I/O

        client = EC2QueryClient(Credentials14("bench", "benchpw"), f"http://127.0.0.1:{port}")
        client.call("DescribeImages")  # warm up: imports, user cache, DB connection
        baseline = _rss_kb(server.pid)
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _rss_kb(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.monotonic()
        image_id = upload(client, image)
        elapsed = time.monotonic() - start
        done.set()
        sampler.join()
        peak = max(peak, _rss_kb(server.pid))
        hwm = _rss_kb(server.pid, "VmHWM")

        stored = work / "images" / image_id
        assert stored.stat().st_size == size, (stored.stat().st_size, size)
        with open(stored, "rb") as stored_file:
            first = stored_file.read(1 << 20)
        assert first == b"\0" * min(size, 1 << 20)
        growth_mb = (peak - baseline) / 1024
        print(f"upload size:          {size / (1 << 20):.0f} MiB (image {image_id})")
        print(f"time:                 {elapsed:.1f} s ({size / (1 << 20) / elapsed:.0f} MiB/s)")
        print(f"server RSS baseline:  {baseline / 1024:.1f} MiB")
        print(f"server RSS peak:      {peak / 1024:.1f} MiB (VmHWM {hwm / 1024:.1f} MiB)")
        print(f"server RSS growth:    {growth_mb:.1f} MiB (limit {args.limit_mb:.0f} MiB)")
        return 0 if growth_mb < args.limit_mb else 1
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(30)
        oned.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
