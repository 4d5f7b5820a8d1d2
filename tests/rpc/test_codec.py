"""The XML-RPC codec on its own (parsing, type tagging, byte-exact encoding)."""

from __future__ import annotations

from pathlib import Path

import pytest

from one_core.rpc.codec import (
    I8,
    Escaped,
    EscapedBytes,
    RequestError,
    encode_call,
    encode_fault,
    encode_response,
    parse_call,
    parse_response,
)

WIRE = Path(__file__).parents[1] / "data" / "one14" / "wire"
"""The wire captures recorded from the real 1.4 oned (shipped with the tests)."""


def test_roundtrip_call():
    body = encode_call("one.vm.migrate", ["s", 1, 2, True, "a<&>\r"])
    assert parse_call(body) == ("one.vm.migrate", ["s", 1, 2, True, "a<&>\r"])


def test_types_are_tagged():
    name, params = parse_call(
        b"<methodCall><methodName>m</methodName><params>"
        b"<param><value><i8>5</i8></value></param>"
        b"<param><value><double>1.5</double></value></param>"
        b"<param><value>untyped</value></param>"
        b"<param><value><boolean>0</boolean></value></param>"
        b"<param><value><array><data><value><int>1</int></value></data></array></value></param>"
        b"<param><value><struct><member><name>k</name><value>v</value></member></struct></value></param>"
        b"</params></methodCall>"
    )
    assert type(params[0]) is I8 and params[0] == 5
    assert params[1:] == [1.5, "untyped", False, [1], {"k": "v"}]


def test_response_bytes_match_xmlrpc_c():
    assert encode_response([True, 1]) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\r\n<methodResponse>\r\n<params>\r\n'
        b"<param><value><array><data>\r\n<value><boolean>1</boolean></value>\r\n"
        b"<value><i4>1</i4></value>\r\n</data></array></value></param>\r\n</params>\r\n"
        b"</methodResponse>\r\n"
    )
    assert (
        encode_fault(-501, "Not enough parameters")
        == (WIRE / "111_vm_info_missing_param.response.xml").read_bytes()
    )


def test_escaped_documents_go_out_as_is():
    """A document handed over already escaped (text or UTF-8 bytes) gives the bytes of
    the plain text escaped by the codec, also nested (``system.multicall``)."""
    doc = "<VM_POOL><VM><NAME>é&amp;\r</NAME></VM></VM_POOL>"
    wire = doc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    wire = wire.replace("\r", "&#x0d;")
    plain = encode_response([True, doc])
    assert encode_response([True, Escaped(wire)]) == plain
    data = wire.encode()
    assert encode_response([True, EscapedBytes(data)]) == plain
    assert encode_response([True, EscapedBytes(data[:9], memoryview(data[9:]), b"")]) == plain
    assert b"<string>&lt;VM_POOL&gt;&lt;VM&gt;&lt;NAME&gt;\xc3\xa9&amp;amp;&#x0d;" in plain
    nested = [[True, EscapedBytes(data[:9], data[9:])], [False, "x", 1]]
    assert encode_response(nested) == encode_response([[True, doc], [False, "x", 1]])


def test_parse_response():
    assert parse_response(encode_response([False, "x"])) == (True, [False, "x"])
    assert parse_response(encode_fault(-506, "m")) == (False, (-506, "m"))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<x/>",
        b"<methodCall/>",
        b'<!DOCTYPE a [<!ENTITY b "c">]><methodCall><methodName>&b;</methodName></methodCall>',
        b"<methodCall><methodName>m</methodName><params><param/></params></methodCall>",
        b"<methodCall><methodName>&undefined;</methodName></methodCall>",
        b'<?xml version="1.0"?>\n<!DOCTYPE m SYSTEM "http://x/y.dtd"><methodCall/>',
    ],
)
def test_bad_calls(body):
    with pytest.raises(RequestError, match="^Call XML not a proper XML-RPC call"):
        parse_call(body)


def test_comments_and_cdata_still_parse():
    body = (
        b"<methodCall><!-- c --><methodName>m</methodName><params><param><value>"
        b"<string><![CDATA[a<b]]></string></value></param></params></methodCall>"
    )
    assert parse_call(body) == ("m", ["a<b"])
