"""``occi-server {start|stop|run}`` (spec cloud-apis §1.6); see :mod:`one_core.cloud.server`."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from one_core.cloud.server import ServerScript, serve_wsgi
from one_occi.config import OcciConfig, one_location_paths

SLACK = 1024 * 1024
"""Bytes of multipart framing allowed on top of MAX_UPLOAD at the HTTP layer."""


def serve(config: OcciConfig, *, threads: int = 8) -> None:
    """Serve the OCCI API on SERVER:PORT with waitress until interrupted."""
    from one_occi.app import OcciApp

    tmp = Path(config.image_dir) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(tmp)  # waitress spools big bodies on IMAGE_DIR's file system
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(asctime)s [%(name)s] %(message)s"
    )
    shown = {k: ("********" if k == "PASSWORD" else v) for k, v in config.values.items()}
    print(f"occi-server configuration: {shown}", flush=True)
    print("Instance types:", flush=True)
    for name, vm_type in config.vm_types.items():
        print(f"  {name}: {config.template_dir / vm_type.get('TEMPLATE', '')}", flush=True)
    app = OcciApp(config)
    try:
        serve_wsgi(
            app,
            host=config.server,
            port=config.port,
            ident="occi-server",
            max_body=(config.max_upload + SLACK) if config.max_upload else None,
            threads=threads,
        )
    finally:
        app.repo.close()


SCRIPT = ServerScript(
    name="occi-server",
    module="one_occi.server",
    paths=one_location_paths,
    load=lambda path: OcciConfig.load(path),
    serve=serve,
)


def main(argv: list[str] | None = None) -> int:
    return SCRIPT.main(argv)


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
