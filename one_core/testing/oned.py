"""A real ``oned`` subprocess on a free port, for tests (fixtures in :mod:`.plugin`).

* ``oned`` — a fresh daemon (subprocess ``python -m one_core.daemon -f``) in a
  fresh ``ONE_LOCATION`` with the dummy drivers (``im_dummy``, ``vmm_dummy``,
  ``tm_dummy``), oneadmin password ``onepass``. Monitoring is slow by default
  (``HOST_MONITORING_INTERVAL = 3600``) so host states are deterministic.
* ``oned_factory(**conf)`` — start more daemons / custom oned.conf keys
  (``oned_factory(HOST_MONITORING_INTERVAL=1, MANAGER_TIMER=1)``).
* ``client`` — :class:`one_core.client.Client` as oneadmin on ``oned``;
  ``raw_client`` the same returning XML text.
* ``db`` — the database of both: SQLite in ``<location>/var/one.db`` by default;
  in test directories that run on both databases (see :mod:`.databases`) a fresh
  PostgreSQL database of the session's throwaway server (:mod:`.postgres`).
* :class:`OnedProcess` has ``post(body) -> (status, bytes)``, ``call(method, *params)``
  (raw response value), ``session``, ``stop()``, ``kill9()``, ``restart()``, ``log()``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from one_core.testing.process import stop_process

ONEADMIN_PASSWORD = "onepass"
ONEADMIN_SESSION = "oneadmin:" + hashlib.sha1(ONEADMIN_PASSWORD.encode()).hexdigest()

BASE_CONF: dict[str, Any] = {
    "HOST_MONITORING_INTERVAL": 3600,
    "VM_POLLING_INTERVAL": 3600,
    "MANAGER_TIMER": 1,
    "DEBUG_LEVEL": 3,
    "NETWORK_SIZE": 254,
    "MAC_PREFIX": '"00:03"',
}

DRIVER_SECTIONS = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy" ]
SCHED  = [ name = "rank", mode = "external" ]
"""
"""Dummy drivers; no in-daemon scheduler, so VMs stay PENDING until a test deploys them
(tests of the scheduler pass ``sections=DRIVER_SECTIONS_SCHED``)."""

DRIVER_SECTIONS_SCHED = DRIVER_SECTIONS.replace(
    'mode = "external" ]', 'mode = "internal", interval = 1 ]'
)


def driver_sections(
    im: str = "dummy",
    vmm: str = "dummy",
    tm: str = "dummy",
    sched: str = "rank",
    sched_mode: str = "external",
    vmm_type: str = "xml",
) -> str:
    """oned.conf driver sections selecting drivers by name: ``IM_MAD`` ``im_<im>``,
    ``VM_MAD`` ``vmm_<vmm>``, ``TM_MAD`` ``tm_<tm>`` and the scheduler ``sched``.

    ``driver_sections(vmm="hello")`` is :data:`DRIVER_SECTIONS` with the VMM driver
    ``hello`` (entry point ``one.vmm``) as ``vmm_hello``.
    """
    return (
        f'IM_MAD = [ name = "im_{im}", driver = "{im}" ]\n'
        f'VM_MAD = [ name = "vmm_{vmm}", driver = "{vmm}", type = "{vmm_type}" ]\n'
        f'TM_MAD = [ name = "tm_{tm}", driver = "{tm}" ]\n'
        f'SCHED  = [ name = "{sched}", mode = "{sched_mode}" ]\n'
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_section(db: dict[str, Any] | None) -> str:
    """The oned.conf ``DB = [ ... ]`` section for database options ``db`` ("" for SQLite)."""
    if not db or str(db.get("backend", "sqlite")).lower() == "sqlite":
        return ""
    pairs = ", ".join(f'{key} = "{value}"' for key, value in db.items() if value not in ("", None))
    return f"DB = [ {pairs} ]\n"


def render_conf(
    port: int,
    extra: dict[str, Any] | None = None,
    sections: str = DRIVER_SECTIONS,
    db: dict[str, Any] | None = None,
) -> str:
    """oned.conf text: ``PORT``, :data:`BASE_CONF` updated by ``extra``, ``DB`` and ``sections``."""
    conf = dict(BASE_CONF)
    conf.update(extra or {})
    lines = [f"PORT = {port}"]
    for key, value in conf.items():
        if value is None:
            continue
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n" + db_section(db) + sections


class RpcEndpoint:
    """Raw XML-RPC over HTTP to ``127.0.0.1:<port>`` (``/RPC2``): the ``post`` / ``call`` that
    every test oned (subprocess or in-process) offers.
    """

    port: int

    def post(
        self,
        body: bytes,
        headers: dict[str, str] | None = None,
        method: str = "POST",
        path: str = "/RPC2",
    ) -> tuple[int, bytes, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            hdrs = {"Content-Type": "text/xml"}
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def call(self, method: str, *params: Any) -> Any:
        """Raw call (params exactly as given): the response value, or ``("FAULT", code, msg)``."""
        from one_core.rpc.codec import encode_call, parse_response

        status, body, _ = self.post(encode_call(method, list(params)))
        assert status == 200, (status, body)
        ok, value = parse_response(body)
        return value if ok else ("FAULT", *value)


class OnedProcess(RpcEndpoint):
    """A running oned (subprocess) in its own ONE_LOCATION.

    ``db``: the ``DB`` section's options (``{"backend": "postgresql", "host": ...,
    "name": ...}``); ``None`` is SQLite in ``<location>/var/one.db``.
    """

    def __init__(
        self,
        location: Path,
        conf: dict[str, Any] | None = None,
        sections: str = DRIVER_SECTIONS,
        env: dict[str, str] | None = None,
        db: dict[str, Any] | None = None,
    ):
        self.location = location
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/RPC2"
        self.session = ONEADMIN_SESSION
        self.proc: subprocess.Popen[bytes] | None = None
        (location / "etc").mkdir(parents=True, exist_ok=True)
        (location / "var").mkdir(parents=True, exist_ok=True)
        self.auth_file = location / "one_auth"
        if not self.auth_file.exists():
            self.auth_file.write_text(f"oneadmin:{ONEADMIN_PASSWORD}\n")
        self.conf_path = location / "etc" / "oned.conf"
        self.conf_path.write_text(render_conf(self.port, conf, sections, db))
        self.env = dict(os.environ)
        self.env.update(
            ONE_LOCATION=str(location),
            ONE_AUTH=str(self.auth_file),
            ONE_XMLRPC=self.url,
            PYTHONUNBUFFERED="1",
        )
        self.env.update(env or {})
        self.stderr_path = location / "oned.stderr"

    @property
    def var(self) -> Path:
        return self.location / "var"

    def command(self) -> list[str]:
        """The command line that starts oned (a subclass may wrap it, e.g. in a namespace)."""
        return [sys.executable, "-m", "one_core.daemon", "-f"]

    def start(self, wait: bool = True, timeout: float = 30.0) -> OnedProcess:
        self._stderr = open(self.stderr_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            cwd=str(self.location),
            stdout=self._stderr,
            stderr=self._stderr,
        )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"oned exited with {self.proc.returncode}: {self.stderr()}\n{self.log()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"oned did not open port {self.port}: {self.stderr()}")

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def log(self) -> str:
        try:
            return (self.var / "oned.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        rc = stop_process(self.proc, timeout)
        self.proc = None
        self._stderr.close()
        return rc

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self._stderr.close()

    def restart(self) -> OnedProcess:
        self.stop()
        return self.start()

    # -- talking to it: post/call from RpcEndpoint -------------------------------

    def client(self, secret: str | None = None, raw: bool = False) -> Any:
        from one_core.client import Client

        if secret is None:
            return Client(session=self.session, endpoint=self.url, raw=raw)
        return Client(secret, endpoint=self.url, raw=raw)
