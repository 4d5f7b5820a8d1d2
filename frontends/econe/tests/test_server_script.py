"""``econe-server {start|stop}`` (spec cloud-apis §1.6): messages, pid file, exit codes."""

from __future__ import annotations

import os

from one_core.testing.cloud import check_server_script, free_port


def test_start_stop_usage(tmp_path):
    port = free_port()
    loc = tmp_path / "one"
    (loc / "etc" / "ec2query_templates").mkdir(parents=True)
    (loc / "etc" / "econe.conf").write_text(
        f"PASSWORD=onepass\nSERVER=127.0.0.1\nPORT={port}\nDATABASE={loc}/var/econe.db\nIMAGE_DIR={loc}/images\n"
    )
    env = dict(os.environ, ONE_LOCATION=str(loc), ONE_XMLRPC="http://127.0.0.1:1/RPC2")

    def images_tmp_made() -> None:
        assert (loc / "images" / "tmp").is_dir()

    check_server_script("econe", loc, "econe.conf", env, port, images_tmp_made)
