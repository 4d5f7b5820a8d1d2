"""HTTP and XML-RPC protocol behaviour of the request manager (spec xmlrpc-api §1, §11.4 S15/S19)."""

from __future__ import annotations

import hashlib
import socket
import xmlrpc.client
from pathlib import Path

import pytest

WIRE = Path(__file__).parents[1] / "data" / "one14" / "wire"
S = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()


@pytest.fixture(scope="module")
def oned(tmp_path_factory, oned_process_cls):
    """One daemon for this module: every test here leaves the state as it found it."""
    o = oned_process_cls(tmp_path_factory.mktemp("protocol")).start()
    yield o
    o.stop()


HOSTPOOL_CALL = (
    "<?xml version='1.0'?><methodCall><methodName>one.hostpool.info</methodName><params>"
    f"<param><value><string>{S}</string></value></param></params></methodCall>"
).encode()


def test_response_framing_is_xmlrpc_c(oned):
    assert oned.call("one.hostpool.info", S) == [True, "<HOST_POOL></HOST_POOL>"]
    status, body, headers = oned.post(HOSTPOOL_CALL)
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n'
        b"<param><value><array><data>\r\n<value><boolean>1</boolean></value>\r\n"
        b"<value><string>&lt;HOST_POOL&gt;&lt;/HOST_POOL&gt;</string></value>\r\n"
        b"</data></array></value></param>\r\n</params>\r\n</methodResponse>\r\n"
    )


def test_untyped_value_is_a_string_and_int_tag_is_int(oned):
    body = (
        "<methodCall><methodName>one.host.info</methodName><params>"
        f"<param><value>{S}</value></param><param><value><int>5</int></value></param>"
        "</params></methodCall>"
    ).encode()
    status, resp, _ = oned.post(body)
    assert b"Error getting host with HID = 5" in resp


def test_http_rules(oned):
    assert oned.post(HOSTPOOL_CALL, path="/other")[0] == 404
    assert oned.post(b"", method="GET")[0] == 405
    assert oned.post(HOSTPOOL_CALL, headers={"Content-Type": "application/json"})[0] == 400
    # text/xml with parameters is fine
    assert oned.post(HOSTPOOL_CALL, headers={"Content-Type": "text/xml; charset=utf-8"})[0] == 200


def test_unknown_method_fault(oned):
    assert oned.call("one.vm.nosuchmethod", S) == (
        "FAULT",
        -506,
        "Method 'one.vm.nosuchmethod' not defined",
    )
    # pre-1.4 names are not registered (S18)
    assert oned.call("one.hostinfo", S, 0)[:2] == ("FAULT", -506)


def test_param_faults(oned):
    assert oned.call("one.host.info", S) == ("FAULT", -501, "Not enough parameters")
    assert oned.call("one.host.info") == ("FAULT", -501, "Not enough parameters")
    assert oned.call("one.host.info", S, "zero") == (
        "FAULT",
        -501,
        "Parameter that is supposed to be integer is not",
    )
    assert oned.call("one.host.info", 7, 0) == (
        "FAULT",
        -501,
        "Parameter that is supposed to be a string is not",
    )
    assert oned.call("one.host.info", S, 1.0) == (
        "FAULT",
        -501,
        "Parameter that is supposed to be integer is not",
    )
    # type of an earlier parameter is reported before a missing later one
    assert oned.call("one.host.enable", S, "x") == (
        "FAULT",
        -501,
        "Parameter that is supposed to be integer is not",
    )
    assert oned.call("one.host.enable", S, 0) == ("FAULT", -501, "Not enough parameters")


def test_i8_is_not_an_int(oned):
    body = (
        "<methodCall><methodName>one.host.info</methodName><params>"
        f"<param><value><string>{S}</string></value></param><param><value><i8>0</i8></value></param>"
        "</params></methodCall>"
    ).encode()
    assert b"Parameter that is supposed to be integer is not" in oned.post(body)[1]


def test_extra_params_ignored(oned):
    assert oned.call("one.hostpool.info", S, 1, "x", True)[0] is True
    ok, hid = oned.call("one.host.allocate", S, "h", "im", "vmm", "tm", 0)
    assert ok is True
    assert oned.call("one.host.delete", S, hid, "extra") == [True]


def test_list_methods_order(oned):
    """1.4's methods come first, in the order of the 1.4 capture."""
    capture = (WIRE / "114_system_listMethods_introspection.response.xml").read_text()
    one14 = xmlrpc.client.loads(capture)[0][0]
    names = oned.call("system.listMethods")
    assert names[: len(one14)] == one14


def test_introspection(oned):
    assert oned.call("system.methodHelp", "one.userpool.info") == "Creates a new user"
    assert oned.call("system.methodSignature", "one.host.enable") == [
        ["array", "string", "int", "boolean"]
    ]
    assert oned.call("system.methodExist", "one.host.info") is True
    assert oned.call("system.shutdown", "x")[0] == "FAULT"
    assert oned.call("one.hostpool.info", S) == [True, "<HOST_POOL></HOST_POOL>"]
    res = oned.call(
        "system.multicall",
        [
            {"methodName": "one.hostpool.info", "params": [S]},
            {"methodName": "one.nope", "params": []},
        ],
    )
    assert res[0] == [[True, "<HOST_POOL></HOST_POOL>"]]
    assert res[1]["faultCode"] == -506


# ---------------------------------------------------------------------------
# hostile input: always a fault or an HTTP error, the daemon keeps serving, nothing changes
# ---------------------------------------------------------------------------


def _state(oned):
    return oned.call("one.hostpool.info", S), oned.call("one.userpool.info", S)


def test_garbage_body(oned):
    before = _state(oned)
    status, body, _ = oned.post(b"<methodCall><methodName>one.vm.info</method")
    assert status == 200
    assert b"<i4>-503</i4>" in body
    assert b"Call XML not a proper XML-RPC call.  Call is not valid XML." in body
    for junk in (
        b"\x00\xff\xfe",
        b"not xml at all",
        b"<a><b></a>",
        b"<methodResponse/>",
        b"<methodCall><params/></methodCall>",
        b"<methodCall><methodName>one.host.info</methodName><params><param>"
        b"<value><i4>abc</i4></value></param></params></methodCall>",
        b"<methodCall><methodName>one.host.info</methodName><params><param>"
        b"<value><i4>99999999999</i4></value></param></params></methodCall>",
        b"<methodCall><methodName>one.host.info</methodName><params><param>"
        b"<value><boolean>2</boolean></value></param></params></methodCall>",
        b"<methodCall><methodName>one.host.info</methodName><params><param>"
        b"<value><bogus>1</bogus></value></param></params></methodCall>",
    ):
        status, body, _ = oned.post(junk)
        assert status == 200, junk
        assert b"<i4>-503</i4>" in body, (junk, body)
    assert _state(oned) == before


def test_entity_expansion_bomb(oned):
    before = _state(oned)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
            for i in range(1, 10)
        )
        + "]><methodCall><methodName>one.host.allocate</methodName><params>"
        f"<param><value><string>{S}</string></value></param>"
        "<param><value><string>&lol9;</string></value></param>"
        "<param><value><string>a</string></value></param><param><value><string>b</string></value></param>"
        "<param><value><string>c</string></value></param></params></methodCall>"
    ).encode()
    status, body, _ = oned.post(bomb)
    assert status == 200 and b"<i4>-503</i4>" in body
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<methodCall><methodName>&e;</methodName></methodCall>"
    )
    status, body, _ = oned.post(external)
    assert b"<i4>-503</i4>" in body and b"root:" not in body
    assert _state(oned) == before


def test_oversized_bodies_rejected(oned):
    before = _state(oned)
    big = (
        b"<methodCall><methodName>one.hostpool.info</methodName><params><param><value><string>"
        + b"A" * (600 * 1024)
        + b"</string></value></param></params></methodCall>"
    )
    status, body, _ = oned.post(big)
    # 1.4 answered HTTP 500; now a clear XML-RPC fault (xmlrpc-c's limit-exceeded code)
    assert status == 200 and b"<i4>-509</i4>" in body and b"exceeds the limit" in body
    # 50 MB: refused without the daemon buffering it
    with socket.create_connection(("127.0.0.1", oned.port), timeout=30) as s:
        s.sendall(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 52428800\r\n\r\n"
        )
        try:
            for _ in range(50):
                s.sendall(b"A" * (1024 * 1024))
        except OSError:
            pass  # the server may close early
        s.settimeout(10)
        reply = b""
        try:
            while chunk := s.recv(4096):
                reply += chunk
        except OSError:
            pass
    assert reply == b"" or b"<i4>-509</i4>" in reply
    assert _state(oned) == before


def test_missing_content_length(oned):
    with socket.create_connection(("127.0.0.1", oned.port), timeout=10) as s:
        s.sendall(b"POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\n\r\n")
        reply = s.recv(200)
    assert reply.split(b" ")[1] in (b"411", b"400")


def test_template_like_strings_are_stored_verbatim(oned):
    # host names are not parsed: syntax-error-looking text is just a name
    ok, hid = oned.call("one.host.allocate", S, 'A = [ "unterminated', "", "", "")
    assert ok is True
    assert 'A = [ "unterminated' in oned.call("one.host.info", S, hid)[1]
    assert oned.call("one.host.delete", S, hid) == [True]


@pytest.mark.parametrize("method", ["one.vm.allocate", "one.vn.allocate"])
def test_template_syntax_error_changes_nothing(oned, method):
    if method not in oned.call("system.listMethods"):
        pytest.skip(f"{method} not registered")
    pools = ("one.vmpool.info", "one.vnpool.info")
    before = [oned.call(p, S, -2) for p in pools]
    for bad in ("A = [ B = 1\n", "= 3\n", "X = [ ]\n", "A = [ B = 1 ]]\n", "A B C\n"):
        ok, *rest = oned.call(method, S, bad)
        assert ok is False, (method, bad, rest)
    assert [oned.call(p, S, -2) for p in pools] == before
    assert oned.call("one.hostpool.info", S)[0] is True  # still serving


def test_keepalive_connection_serves_many_requests(oned):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", oned.port, timeout=10)
    for _ in range(40):  # more than the 30 per connection: the client reconnects
        try:
            conn.request("POST", "/RPC2", HOSTPOOL_CALL, {"Content-Type": "text/xml"})
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            conn.request("POST", "/RPC2", HOSTPOOL_CALL, {"Content-Type": "text/xml"})
            resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
    conn.close()


def test_concurrent_clients_and_writers(oned):
    import threading

    from one_core.client import Client

    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        c = Client(session=S, endpoint=oned.url, raw=True)
        try:
            for i in range(25):
                hid = c.host_allocate(f"c{n}-{i}", "im", "vmm", "tm")
                assert f"<NAME>c{n}-{i}</NAME>" in c.host_info(hid)
                with lock:
                    results.append(hid)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            c.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == len(set(results)) == 200
    body = oned.call("one.hostpool.info", S)[1]
    assert body.count("<HOST>") == 200
    for hid in results:
        assert oned.call("one.host.delete", S, hid) == [True]
