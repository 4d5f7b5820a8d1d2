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

import logging
import sys
import tempfile
from pathlib import Path

from one_core.cloud.server import ServerScript, serve_wsgi
from one_econe.config import EconeConfig, one_location_paths

USAGE = "Usage: econe-server {start|stop}"
SLACK = 1024 * 1024
"""Bytes of multipart framing allowed on top of MAX_UPLOAD at the HTTP layer."""


def serve(config: EconeConfig, *, threads: int = 8) -> None:
    """Serve the EC2 Query API on SERVER:PORT with waitress until interrupted."""
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
    try:
        serve_wsgi(
            app,
            host=config.server,
            port=config.port,
            ident="econe-server",
            max_body=(config.max_upload + SLACK) if config.max_upload else None,
            threads=threads,
        )
    finally:
        app.repo.close()


SCRIPT = ServerScript(
    name="econe-server",
    module="one_econe.server",
    paths=one_location_paths,
    load=lambda path: EconeConfig.load(path),
    serve=serve,
)


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
