"""Python client of the 1.4 XML-RPC API (one method per ``one.*`` call).

Credentials and endpoint as 1.4's Ruby OCA (``spec/xmlrpc-api.md`` §2.5):

* secret: the ``secret`` argument (``"user:plainpassword"``), else the file
  named by ``$ONE_AUTH`` (set, non-empty, a regular file), else
  ``$HOME/.one/one_auth``; the session sent is ``user:sha1_hex(password)``.
  ``session=`` passes a ready session string unchanged.
* endpoint: the ``endpoint`` argument, else ``$ONE_XMLRPC``, else
  ``http://localhost:2633/RPC2``; a comma-separated list names the oned of an
  HA group (docs/ha.md): a refused connection or a follower's "not the leader"
  answer moves the call to the next one. An ``https://`` endpoint is verified against
  the system's CAs, or the PEM file named by ``ca_file`` / ``$ONE_CA`` (e.g.
  oned's own self-signed ``TLS_CERT``).

Results: ``*.allocate`` return the new id, ``*.info`` return the parsed XML
document (an :class:`xml.etree.ElementTree.Element`; ``Client(raw=True)``
returns the XML text instead), void calls return None. ``[false, msg]``
raises :class:`OneCallError` (``str()`` is the server's message), an XML-RPC
fault raises :class:`OneFault`, a transport problem :class:`OneTransportError`.

Connections are kept alive and reused per thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import select
import ssl
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from one_core.errors import MessageError
from one_core.rpc.codec import encode_call, parse_response, safe_fromstring

DEFAULT_ENDPOINT = "http://localhost:2633/RPC2"


class OneClientError(MessageError):
    """Base of the client's errors; ``message`` is the text to show."""


class OneAuthError(OneClientError):
    """Credentials file missing (``ONE_AUTH file not present``) or malformed."""


class OneCallError(OneClientError):
    """The server answered ``[false, msg]`` (``msg`` is None for a bare ``[false]``)."""

    def __init__(self, message: str | None, method: str = ""):
        super().__init__(message if message is not None else "")
        self.server_message = message
        self.method = method


class OneFault(OneClientError):
    """The server answered an XML-RPC fault."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class OneTransportError(OneClientError):
    """HTTP or socket failure; ``refused``: the connection was refused (nothing was sent)."""

    refused = False


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


def session_from_secret(secret: str) -> str:
    """``"user:plain"`` → ``"user:sha1(plain)"`` (OCA's ``/^(.+?):(.+)$/``)."""
    if not re.search(r".+:.+", secret):
        raise OneAuthError("Authorization file malformed")
    match = re.search(r"^(.+?):(.+)$", secret, re.M)
    if match is None:
        raise OneAuthError("Authorization file malformed")
    return f"{match.group(1)}:{sha1_hex(match.group(2))}"


def read_one_auth(env: dict[str, str] | None = None) -> str:
    """The text of the credentials file the OCA would read."""
    env = dict(os.environ if env is None else env)
    one_auth = env.get("ONE_AUTH", "")
    path = Path(one_auth) if one_auth and Path(one_auth).is_file() else None
    if path is None:
        path = Path(env.get("HOME", "")) / ".one" / "one_auth"
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        raise OneAuthError("ONE_AUTH file not present") from None


def split_endpoints(text: str) -> list[str]:
    """``"http://a:2633/RPC2, http://b:2633/RPC2"`` → the endpoints, in order."""
    endpoints = [part.strip() for part in text.split(",") if part.strip()]
    return endpoints or [DEFAULT_ENDPOINT]


def _not_leader(data: bytes) -> bool:
    """The response is ``[false, "not the leader: ..."]`` (an HA follower's refusal)."""
    if b"not the leader" not in data:
        return False
    try:
        ok, value = parse_response(data)
    except Exception:
        return False
    return (
        ok
        and isinstance(value, list)
        and len(value) > 1
        and value[0] is False
        and str(value[1]).startswith("not the leader")
    )


def _only_tls_records(sock: Any) -> bool:
    """A readable TLS socket may hold only protocol records (TLS 1.3 session tickets):
    True when reading finds no data and no end of file (the connection is alive)."""
    if not isinstance(sock, ssl.SSLSocket):
        return False
    timeout = sock.gettimeout()
    try:
        sock.setblocking(False)
        sock.recv(1)
    except ssl.SSLWantReadError:
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)
    return False  # data nobody asked for, or end of file: do not reuse it


def default_endpoint(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    return env.get("ONE_XMLRPC") or DEFAULT_ENDPOINT


class Client:
    """A connection to oned."""

    def __init__(
        self,
        secret: str | None = None,
        endpoint: str | None = None,
        *,
        session: str | None = None,
        raw: bool = False,
        timeout: float = 60.0,
        ca_file: str | None = None,
        failover_timeout: float = 30.0,
    ):
        if session is None:
            session = session_from_secret(secret if secret is not None else read_one_auth())
        self.session = session
        self.endpoints = split_endpoints(endpoint or default_endpoint())
        """Every endpoint given (``ONE_XMLRPC="http://a:2633/RPC2,http://b:2633/RPC2"``)."""
        self.endpoint = self.endpoints[0]
        self.raw = raw
        self.timeout = timeout
        self.failover_timeout = failover_timeout
        self._current = 0
        self._local = threading.local()
        self._ssl: ssl.SSLContext | None = None
        if any(e.startswith("https://") for e in self.endpoints):
            ca = ca_file or os.environ.get("ONE_CA") or None
            try:
                self._ssl = ssl.create_default_context(cafile=ca)
            except (OSError, ssl.SSLError) as exc:
                raise OneTransportError(f"Cannot read the CA file {ca}: {exc}") from None

    # -- transport -----------------------------------------------------------

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        index = self._current
        if conn is not None and getattr(self._local, "index", index) != index:
            conn.close()
            conn = None
        if conn is None:
            url = urllib.parse.urlsplit(self.endpoints[index])
            https = url.scheme == "https"
            host = url.hostname or "localhost"
            port = url.port or (443 if https else 80)
            if https:
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self._ssl
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            self._local.conn = conn
            self._local.index = index
            self._local.path = url.path or "/RPC2"
        return conn

    def _drop_if_closed(self) -> None:
        """Close this thread's kept-alive connection if the server has closed it (its
        socket reads as ready: end of file or a reset; a server sends nothing unasked)."""
        conn = getattr(self._local, "conn", None)
        sock = getattr(conn, "sock", None)
        if sock is None:
            return
        try:
            ready, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            ready = [sock]
        if ready and not _only_tls_records(sock):
            self.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def post(self, body: bytes) -> bytes:
        """POST one XML-RPC body, return the response body.

        With several endpoints, the next one is tried when an endpoint refuses the
        connection (the call was not sent) or answers ``[false, "not the leader: ..."]``
        (a follower of an HA group, docs/ha.md), round after round for up to
        ``failover_timeout`` seconds; any other failure is raised at once, not retried
        (the call may have run).
        """
        if len(self.endpoints) == 1:
            return self._post_one(body)
        deadline = time.monotonic() + self.failover_timeout
        while True:
            for _ in self.endpoints:
                try:
                    data = self._post_one(body)
                except OneTransportError as exc:
                    if not exc.refused or time.monotonic() > deadline:
                        raise
                    self._next_endpoint()
                    continue
                if not _not_leader(data) or time.monotonic() > deadline:
                    return data
                self._next_endpoint()
            time.sleep(0.1)

    def _next_endpoint(self) -> None:
        self.close()
        self._current = (self._current + 1) % len(self.endpoints)
        self.endpoint = self.endpoints[self._current]

    def _post_one(self, body: bytes) -> bytes:
        """POST to the current endpoint.

        One endpoint: retried once on a stale keep-alive connection (as always). Several
        (an HA group): a connection the server has closed is replaced *before* sending,
        and a failure after sending is raised, never retried: the call may have run.
        """
        several = len(self.endpoints) > 1
        for attempt in (0, 1):
            if several:
                self._drop_if_closed()
            conn = self._conn()
            try:
                conn.request(
                    "POST", self._local.path, body=body, headers={"Content-Type": "text/xml"}
                )
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                if (
                    attempt == 0
                    and not several
                    and isinstance(
                        exc,
                        (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError),
                    )
                ):
                    continue
                error = OneTransportError(_transport_message(exc))
                error.refused = isinstance(exc, ConnectionRefusedError)
                raise error from None
            if resp.status != 200:
                self.close()
                raise OneTransportError(f"HTTP-Error: {resp.status} {resp.reason}")
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return data
        raise OneTransportError("connection lost")  # pragma: no cover

    def call_raw(self, method: str, *params: Any) -> Any:
        """Call ``method`` with exactly ``params`` (no session added); return the value."""
        try:
            body = encode_call(method, list(params))
        except UnicodeEncodeError:  # e.g. a Latin-1 file read with surrogateescape
            raise OneCallError(_not_utf8(params), method) from None
        ok, value = parse_response(self.post(body))
        if not ok:
            code, message = value
            raise OneFault(code, message)
        return value

    def call(self, method: str, *params: Any) -> Any:
        """Call ``one.<method>`` style: session first; return element 1 of ``[true, x]``."""
        result = self.call_raw(method, self.session, *params)
        if not isinstance(result, list) or not result:
            raise OneCallError("Unexpected response", method)
        if result[0] is not True:
            raise OneCallError(result[1] if len(result) > 1 else None, method)
        return result[1] if len(result) > 1 else None

    def _doc(self, method: str, *params: Any) -> Element | str:
        text = self.call(method, *params)
        if self.raw:
            return text
        return safe_fromstring(text.encode("utf-8"))

    # -- virtual machines ------------------------------------------------------

    def vm_allocate(self, template: str) -> int:
        return self.call("one.vm.allocate", template)

    def vm_deploy(self, vid: int, hid: int) -> None:
        self.call("one.vm.deploy", vid, hid)

    def vm_action(self, action: str, vid: int) -> None:
        self.call("one.vm.action", action, vid)

    def vm_migrate(self, vid: int, hid: int, live: bool = False) -> None:
        self.call("one.vm.migrate", vid, hid, bool(live))

    def vm_info(self, vid: int) -> Element | str:
        return self._doc("one.vm.info", vid)

    def vmpool_info(self, filter_flag: int = -2) -> Element | str:
        return self._doc("one.vmpool.info", filter_flag)

    # -- hosts ---------------------------------------------------------------

    def host_allocate(self, name: str, im_mad: str, vmm_mad: str, tm_mad: str) -> int:
        return self.call("one.host.allocate", name, im_mad, vmm_mad, tm_mad)

    def host_info(self, hid: int) -> Element | str:
        return self._doc("one.host.info", hid)

    def host_delete(self, hid: int) -> None:
        self.call("one.host.delete", hid)

    def host_enable(self, hid: int, enable: bool = True) -> None:
        self.call("one.host.enable", hid, bool(enable))

    def hostpool_info(self) -> Element | str:
        return self._doc("one.hostpool.info")

    # -- virtual networks --------------------------------------------------------

    def vn_allocate(self, template: str) -> int:
        return self.call("one.vn.allocate", template)

    def vn_info(self, nid: int) -> Element | str:
        return self._doc("one.vn.info", nid)

    def vn_delete(self, nid: int) -> None:
        self.call("one.vn.delete", nid)

    def vnpool_info(self, filter_flag: int = -2) -> Element | str:
        return self._doc("one.vnpool.info", filter_flag)

    # -- users ---------------------------------------------------------------

    def user_allocate(self, name: str, password: str, *, hashed: bool = False) -> int:
        """Create a user; the password is sent as ``sha1_hex(password)`` unless ``hashed``."""
        return self.call("one.user.allocate", name, password if hashed else sha1_hex(password))

    def user_info(self, uid: int) -> Element | str:
        return self._doc("one.user.info", uid)

    def user_delete(self, uid: int) -> None:
        self.call("one.user.delete", uid)

    def userpool_info(self) -> Element | str:
        return self._doc("one.userpool.info")

    # -- introspection ---------------------------------------------------------

    def list_methods(self) -> list[str]:
        return self.call_raw("system.listMethods")


def _not_utf8(params: tuple[Any, ...]) -> str:
    """The message for a parameter that cannot be sent as UTF-8 (names the byte and line)."""
    for value in params:
        if not isinstance(value, str):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = ord(value[exc.start]) & 0xFF
            line = value.count("\n", 0, exc.start) + 1
            return (
                f"Text is not valid UTF-8 (byte 0x{byte:02x} on line {line}); convert it to UTF-8"
            )
    return "Text is not valid UTF-8; convert it to UTF-8"


def _transport_message(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused - connect(2)"
    if isinstance(exc, TimeoutError):
        return "execution expired"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message}): set ONE_CA to oned's CA file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
