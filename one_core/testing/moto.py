"""A real ``moto_server`` (the AWS API on loopback) and a server that always throttles.

Fixtures (registered by :mod:`.plugin`):

* ``moto_url`` (session) — the URL of a ``moto_server`` on 127.0.0.1, started with
  ``MOTO_ENABLE_AMI_VALIDATION`` and ``MOTO_ENABLE_KEYPAIR_VALIDATION`` so that
  unknown AMIs and key pairs fail as on AWS (moto accepts any by default). Skips
  when ``moto[server]`` is not installed.
* ``ec2`` (session) — a boto3 EC2 client of it (:data:`CREDENTIALS`, ``us-east-1``).
* ``amis`` / ``ami`` (session) — two AMIs moto knows / the first one.
* ``throttling_server`` — an HTTP server answering every call with HTTP 503
  ``RequestLimitExceeded`` (:class:`ThrottlingServer`: ``url``, ``requests``).

boto3 and moto are imported inside the fixtures only.
"""

from __future__ import annotations

import http.server
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from one_core.testing.oned import free_port
from one_core.testing.process import stop_process

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""The credentials moto accepts (environment-variable names → values)."""

THROTTLED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
    b"<Message>Request limit exceeded.</Message></Error></Errors>"
    b"<RequestID>5f3f8a41-7e0b-4c6e-9a7b-0d1b2c3d4e5f</RequestID></Response>"
)
"""The body :func:`throttling_server` answers with."""


def moto_server_program() -> str | None:
    """``moto_server`` beside this Python, else on ``PATH``, else ``None``."""
    beside = pathlib.Path(sys.executable).parent / "moto_server"
    return str(beside) if beside.exists() else shutil.which("moto_server")


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: pathlib.Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start listening") from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a ``moto_server`` on 127.0.0.1 (skips when moto[server] is not installed)."""
    pytest.importorskip("moto", reason="moto[server] not installed (uv pip install 'moto[server]')")
    program = moto_server_program()
    if program is None:
        pytest.skip("moto_server not found (uv pip install 'moto[server]')")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {
        **os.environ,
        "MOTO_ENABLE_AMI_VALIDATION": "true",
        "MOTO_ENABLE_KEYPAIR_VALIDATION": "true",
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [program, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        _wait_listening(proc, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def ec2(moto_url: str) -> Any:
    """A boto3 client of the moto server, to set up and inspect what the driver did."""
    import boto3

    return boto3.client(
        "ec2",
        endpoint_url=moto_url,
        region_name="us-east-1",
        **{k.lower(): v for k, v in CREDENTIALS.items()},
    )


@pytest.fixture(scope="session")
def amis(ec2: Any) -> list[str]:
    """Two AMIs moto knows."""
    return [image["ImageId"] for image in ec2.describe_images(Owners=["amazon"])["Images"][:2]]


@pytest.fixture(scope="session")
def ami(amis: list[str]) -> str:
    """An AMI moto knows."""
    return amis[0]


@dataclass
class ThrottlingServer:
    """Where the throttling server listens and the request bodies it got."""

    url: str
    requests: list[str]


@pytest.fixture
def throttling_server() -> Iterator[ThrottlingServer]:
    """An HTTP server on 127.0.0.1 answering every EC2 call with HTTP 503 RequestLimitExceeded."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            seen.append(body)
            self.send_response(503)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(THROTTLED)))
            self.end_headers()
            self.wfile.write(THROTTLED)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ThrottlingServer(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
