"""``econe-server {start|stop|run}`` (spec cloud-apis §1.6).

* ``start``: create ``IMAGE_DIR/tmp``, run the server in the background with
  its output in the log file, write the pid file, wait a second; print
  ``econe-server started`` or ``Error executing <server>.`` (exit 1).
* ``stop``: ``kill -INT`` the pid of the pid file, remove it, print
  ``econe-server stopped``; without a pid file ``Couldn't find econe-server
  process pid.`` (exit 1).
* ``run`` (this port's addition): serve in the foreground.
* anything else: ``Usage: econe-server {start|stop}`` on stderr, exit 3.

``-c/--config FILE`` reads another configuration than §1.1's. Files (pid,
log, econe.conf, templates) follow ``ONE_LOCATION`` as in §1.1.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from one_econe.config import ConfigError, EconeConfig, one_location_paths

USAGE = "Usage: econe-server {start|stop}"
SLACK = 1024 * 1024
"""Bytes of multipart framing allowed on top of MAX_UPLOAD at the HTTP layer."""


def serve(config: EconeConfig, *, threads: int = 8) -> None:
    """Serve the EC2 Query API on SERVER:PORT with waitress until interrupted."""
    import waitress

    from one_econe.app import EconeApp

    tmp = Path(config.image_dir) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    # Waitress spools large bodies to temporary files: keep them on IMAGE_DIR's
    # file system, as 1.4's start script did with TMPDIR.
    tempfile.tempdir = str(tmp)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s [%(name)s] %(message)s"
    )
    shown = {k: ("********" if k == "PASSWORD" else v) for k, v in config.values.items()}
    print(f"econe-server configuration: {shown}", flush=True)
    print("Instance types:", flush=True)
    for name, vm_type in config.vm_types.items():
        print(f"  {name}: {config.template_dir / vm_type.get('TEMPLATE', '')}", flush=True)
    app = EconeApp(config)
    limit = (config.max_upload + SLACK) if config.max_upload else 1 << 62
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        waitress.serve(
            app,
            host=config.server,
            port=config.port,
            threads=threads,
            max_request_body_size=limit,
            ident="econe-server",
            clear_untrusted_proxy_headers=True,
        )
    except KeyboardInterrupt:
        pass
    finally:
        app.repo.close()


def _load(config_path: str | None) -> EconeConfig:
    try:
        return EconeConfig.load(config_path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(1)


def start(config_path: str | None) -> int:
    paths = one_location_paths()
    config = _load(config_path)
    (Path(config.image_dir) / "tmp").mkdir(parents=True, exist_ok=True)
    paths["log"].parent.mkdir(parents=True, exist_ok=True)
    paths["pid"].parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "one_econe.server"]
    if config_path:
        cmd += ["--config", config_path]
    cmd.append("run")
    with open(paths["log"], "ab") as log_file:
        proc = subprocess.Popen(
            cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    paths["pid"].write_text(f"{proc.pid}\n")
    time.sleep(1)
    if proc.poll() is not None:
        print(f"Error executing {' '.join(cmd)}.")
        return 1
    print("econe-server started")
    return 0


def stop() -> int:
    pid_file = one_location_paths()["pid"]
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        print("Couldn't find econe-server process pid.")
        return 1
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    pid_file.unlink(missing_ok=True)
    print("econe-server stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    config_path: str | None = None
    if len(args) >= 2 and args[0] in ("-c", "--config"):
        config_path = args[1]
        args = args[2:]
    if len(args) != 1 or args[0] not in ("start", "stop", "run"):
        print(USAGE, file=sys.stderr)
        return 3
    if args[0] == "start":
        return start(config_path)
    if args[0] == "stop":
        return stop()
    serve(_load(config_path))
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
