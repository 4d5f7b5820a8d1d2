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

from one_cloudkit.server import SLACK, cloud_server_script

from one_econe.config import EconeConfig

__all__ = ["SCRIPT", "SLACK", "cli", "main", "serve"]

USAGE = "Usage: econe-server {start|stop}"


SCRIPT = cloud_server_script(
    "econe-server", "one_econe.server", EconeConfig, "one_econe.app:EconeApp"
)
serve = SCRIPT.serve
"""``serve(config, *, threads=8)``: the EC2 Query API on SERVER:PORT until interrupted."""
main = SCRIPT.main
cli = SCRIPT.cli

if __name__ == "__main__":
    cli()
