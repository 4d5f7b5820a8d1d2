"""Fixtures of the dashboard's tests: ``start_web(oned_url)`` serves one_web on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from one_web.app import create_app
from one_web.settings import Settings

from one_core.testing.oned import free_port


class WebServer:
    """``one_web`` for the oned at ``oned_url`` (its ``/RPC2`` URL); ``url`` once started."""

    def __init__(self, oned_url: str, **settings: object):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(Settings(oned=oned_url + "/modern", **settings))  # type: ignore[arg-type]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 15.0) -> WebServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web dashboard did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def start_web() -> Iterator[Callable[..., WebServer]]:
    """``start_web(oned_url, **settings)``: a started dashboard, stopped after the test."""
    servers: list[WebServer] = []

    def start(oned_url: str, **settings: object) -> WebServer:
        server = WebServer(oned_url, **settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
