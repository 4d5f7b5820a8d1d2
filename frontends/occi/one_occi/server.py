"""``occi-server {start|stop|run}`` (spec cloud-apis §1.6); see :mod:`one_cloudkit.server`."""

from __future__ import annotations

from one_cloudkit.server import SLACK, cloud_server_script

from one_occi.config import OcciConfig

__all__ = ["SCRIPT", "SLACK", "cli", "main", "serve"]


SCRIPT = cloud_server_script("occi-server", "one_occi.server", OcciConfig, "one_occi.app:OcciApp")
serve = SCRIPT.serve
"""``serve(config, *, threads=8)``: the OCCI API on SERVER:PORT until interrupted."""
main = SCRIPT.main
cli = SCRIPT.cli

if __name__ == "__main__":
    cli()
