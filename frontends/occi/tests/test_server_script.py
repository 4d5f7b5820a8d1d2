"""``occi-server {start|stop}`` (spec cloud-apis §1.6): messages, pid file, exit codes."""

from __future__ import annotations

import requests

from one_core.testing.cloud import check_server_script, free_port


def test_start_stop_usage(stack, tmp_path):
    port = free_port()
    loc = tmp_path / "one"
    (loc / "etc" / "occi_templates").mkdir(parents=True)
    (loc / "etc" / "occi-server.conf").write_text(
        f"PASSWORD=onepass\nSERVER=127.0.0.1\nPORT={port}\n"
        f"DATABASE={loc}/var/occi.db\nIMAGE_DIR={loc}/images\n"
    )
    env = dict(stack.server.env, ONE_LOCATION=str(loc))

    def unauthenticated_refused() -> None:
        resp = requests.get(f"http://127.0.0.1:{port}/compute", auth=("oneadmin", "x"), timeout=30)
        assert resp.status_code == 401

    check_server_script("occi", loc, "occi-server.conf", env, port, unauthenticated_refused)
