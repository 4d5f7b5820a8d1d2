"""one_core.client: credentials, endpoint, results and errors (spec xmlrpc-api §2.5)."""

from __future__ import annotations

import hashlib

import pytest

from one_core.client import (
    Client,
    OneAuthError,
    OneCallError,
    OneFault,
    OneTransportError,
    default_endpoint,
    read_one_auth,
    session_from_secret,
)


def test_session_from_secret():
    assert session_from_secret("oneadmin:pw") == "oneadmin:" + hashlib.sha1(b"pw").hexdigest()
    assert session_from_secret("u:a:b") == "u:" + hashlib.sha1(b"a:b").hexdigest()
    with pytest.raises(OneAuthError, match="Authorization file malformed"):
        session_from_secret("nocolon")


def test_one_auth_and_endpoint_resolution(tmp_path):
    auth = tmp_path / "auth"
    auth.write_text("user:pass\n")
    assert read_one_auth({"ONE_AUTH": str(auth)}) == "user:pass\n"
    home = tmp_path / "home"
    (home / ".one").mkdir(parents=True)
    (home / ".one" / "one_auth").write_text("h:p")
    # ONE_AUTH unset, empty or not a file → $HOME/.one/one_auth
    assert read_one_auth({"HOME": str(home)}) == "h:p"
    assert read_one_auth({"HOME": str(home), "ONE_AUTH": ""}) == "h:p"
    assert read_one_auth({"HOME": str(home), "ONE_AUTH": str(tmp_path)}) == "h:p"
    with pytest.raises(OneAuthError, match="ONE_AUTH file not present"):
        read_one_auth({"HOME": str(tmp_path / "nowhere")})
    assert default_endpoint({}) == "http://localhost:2633/RPC2"
    assert default_endpoint({"ONE_XMLRPC": "http://x:1/RPC2"}) == "http://x:1/RPC2"


def test_client_from_environment(oned, monkeypatch):
    monkeypatch.setenv("ONE_AUTH", str(oned.auth_file))
    monkeypatch.setenv("ONE_XMLRPC", oned.url)
    c = Client()
    assert c.session == oned.session
    assert c.hostpool_info().tag == "HOST_POOL"


def test_raw_mode_and_errors(oned):
    raw = oned.client(raw=True)
    assert raw.hostpool_info() == "<HOST_POOL></HOST_POOL>"
    with pytest.raises(OneCallError) as err:
        raw.host_info(42)
    assert str(err.value) == "Error getting host with HID = 42"
    with pytest.raises(OneFault) as fault:
        raw.call("one.nope")
    assert fault.value.code == -506
    bad = oned.client(secret="oneadmin:wrong")
    with pytest.raises(OneCallError, match="User not authenticated, HostInfo call aborted."):
        bad.host_info(0)
    assert "one.host.allocate" in raw.list_methods()


def test_transport_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = Client(session="a:b", endpoint=f"http://127.0.0.1:{port}/RPC2")
    with pytest.raises(OneTransportError, match="Connection refused"):
        c.hostpool_info()


def test_connection_reuse_across_many_calls(oned):
    c = oned.client()
    for i in range(70):  # crosses the server's 30-requests-per-connection limit
        assert c.host_allocate(f"h{i}", "im_dummy", "vmm_dummy", "tm_dummy") == i
    assert len(c.hostpool_info().findall("HOST")) == 70
