"""XML-RPC wire codec, byte-compatible with 1.4's xmlrpc-c server.

Requests are parsed safely: a body containing ``<!`` (the only way to start a
DTD, hence entity declarations or external references) goes through
:mod:`defusedxml` with DTDs forbidden; any other body cannot declare entities
and is parsed by plain expat (3× faster). Values keep their XML-RPC type so that the
method registry can check them the way xmlrpc-c did: ``<i4>``/``<int>`` →
:class:`int`, ``<boolean>`` → :class:`bool`, ``<string>`` or untyped → :class:`str`,
``<i8>`` → :class:`I8`, ``<double>`` → :class:`float`, ``<array>`` → :class:`list`,
``<struct>`` → :class:`dict`, ``<base64>`` → :class:`bytes`, ``<dateTime.iso8601>``
→ :class:`DateTime`, ``<nil/>`` → ``None``.

Responses are written exactly as xmlrpc-c 1.33 did (CRLF line ends, one value
per line inside arrays, ``<i4>`` for ints, ``<boolean>0|1</boolean>``).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\r\n'

FAULT_LIMIT = -509
"""xmlrpc-c's ``XMLRPC_LIMIT_EXCEEDED_ERROR``: body size or nesting depth over the limit."""
MAX_DEPTH = 64
"""Deepest nesting of arrays/structs accepted in a call (xmlrpc-c's default nesting limit)."""


class I8(int):
    """An ``<i8>`` value: an int that is *not* accepted where ``<i4>`` is expected."""


class DateTime(str):
    """A ``<dateTime.iso8601>`` value (kept as text)."""


class Escaped(str):
    """Text already escaped as :func:`escape` would: written into ``<string>`` as is
    (large documents rendered escaped, e.g. ``one.vmpool.info``'s)."""


class EscapedBytes:
    """UTF-8 text already escaped as :func:`escape` would, in parts: written into
    ``<string>`` as they are, without decoding or joining them first (``one.vmpool.info``'s
    document, in parts of stored entries: megabytes that are copied once, into the
    response)."""

    __slots__ = ("parts",)

    def __init__(self, *parts: bytes | memoryview):
        self.parts = parts

    def __bytes__(self) -> bytes:
        return b"".join(self.parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EscapedBytes) and bytes(self) == bytes(other)

    __hash__ = None  # type: ignore[assignment]


class RequestError(Exception):
    """The body is not a proper XML-RPC call (fault −503)."""


class LimitError(RequestError):
    """The call exceeds a limit (fault −509, :data:`FAULT_LIMIT`)."""


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------


def _text(el: Element) -> str:
    return el.text or ""


def _int(text: str, kind: str) -> int:
    t = text.strip()
    try:
        if not t or not (t.lstrip("+-").isdigit()):
            raise ValueError
        v = int(t)
    except ValueError as exc:
        raise RequestError(f"Invalid <{kind}> value: '{text}'") from exc
    if kind != "i8" and not -(2**31) <= v < 2**31:
        raise RequestError(f"<{kind}> value out of range: '{text}'")
    return v


def decode_value(value: Element, depth: int = 0) -> Any:
    """Decode a ``<value>`` element (``depth``: arrays/structs it is nested in).

    :raises RequestError: also when arrays/structs nest deeper than :data:`MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise LimitError(f"Arrays and structs nested more than {MAX_DEPTH} levels deep")
    children = list(value)
    if not children:
        return _text(value)
    if len(children) != 1:
        raise RequestError("<value> element has more than one child")
    el = children[0]
    tag = el.tag
    if tag in ("i4", "int"):
        return _int(_text(el), tag)
    if tag == "i8":
        return I8(_int(_text(el), tag))
    if tag == "string":
        return _text(el)
    if tag == "boolean":
        t = _text(el).strip()
        if t not in ("0", "1"):
            raise RequestError(f"<boolean> value must be 0 or 1, not '{t}'")
        return t == "1"
    if tag == "double":
        try:
            return float(_text(el))
        except ValueError as exc:
            raise RequestError(f"Invalid <double> value: '{_text(el)}'") from exc
    if tag == "array":
        data = el.find("data")
        if data is None:
            raise RequestError("<array> without <data>")
        return [decode_value(v, depth + 1) for v in data if v.tag == "value"]
    if tag == "struct":
        out: dict[str, Any] = {}
        for member in el:
            name, val = member.find("name"), member.find("value")
            if name is None or val is None:
                raise RequestError("<member> needs <name> and <value>")
            out[_text(name)] = decode_value(val, depth + 1)
        return out
    if tag == "base64":
        try:
            return base64.b64decode(_text(el))
        except ValueError as exc:
            raise RequestError("Invalid <base64> value") from exc
    if tag == "dateTime.iso8601":
        return DateTime(_text(el))
    if tag in ("nil", "ex:nil"):
        return None
    raise RequestError(f"Unknown value type <{tag}>")


def safe_fromstring(body: bytes) -> Element:
    """Parse XML refusing DTDs (hence entity declarations and external entities)."""
    if b"<!" in body:  # a DTD (or comment/CDATA): the defusedxml parser refuses DTDs
        return DET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    return ET.fromstring(body)  # no "<!": no DTD, no entity declarations: plain expat is safe


def parse_call(body: bytes) -> tuple[str, list[Any]]:
    """Parse a ``<methodCall>``; returns ``(method name, params)``.

    :raises RequestError: with xmlrpc-c's −503 fault text.
    """
    try:
        root = safe_fromstring(body)
    except DefusedXmlException as exc:
        raise RequestError(
            f"Call XML not a proper XML-RPC call.  Call is not valid XML.  "
            f"Forbidden XML construct: {type(exc).__name__}"
        ) from None
    except (ParseError, ValueError) as exc:
        raise RequestError(
            f"Call XML not a proper XML-RPC call.  Call is not valid XML.  {exc}"
        ) from None
    if root.tag != "methodCall":
        raise RequestError(
            f"Call XML not a proper XML-RPC call.  XML-RPC call should be a <methodCall> "
            f"element.  Instead, it is a <{root.tag}> element."
        )
    name_el = root.find("methodName")
    if name_el is None:
        raise RequestError(
            "Call XML not a proper XML-RPC call.  <methodCall> has no <methodName> child"
        )
    params: list[Any] = []
    params_el = root.find("params")
    if params_el is not None:
        try:
            for param in params_el:
                if param.tag != "param":
                    raise RequestError(f"<params> contains a <{param.tag}> element")
                value = param.find("value")
                if value is None:
                    raise RequestError("<param> element does not contain a <value>")
                params.append(decode_value(value))
        except LimitError:
            raise
        except RequestError as exc:
            raise RequestError(f"Call XML not a proper XML-RPC call.  {exc}") from None
    return (name_el.text or "").strip(), params


# ---------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """XML-RPC string escaping as xmlrpc-c does it (``&``, ``<``, ``>``, CR)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#x0d;")
    return text


def encode_value(value: Any) -> str:
    """One ``<value>…</value>`` (no line ends except inside arrays/structs)."""
    if type(value) is Escaped:
        return f"<value><string>{value}</string></value>"
    if type(value) is EscapedBytes:  # nested (system.multicall): the slow way
        return f"<value><string>{bytes(value).decode()}</string></value>"
    if value is True:
        return "<value><boolean>1</boolean></value>"
    if value is False:
        return "<value><boolean>0</boolean></value>"
    if isinstance(value, I8):
        return f"<value><i8>{int(value)}</i8></value>"
    if isinstance(value, int):
        return f"<value><i4>{value}</i4></value>"
    if isinstance(value, str):
        return f"<value><string>{escape(value)}</string></value>"
    if isinstance(value, float):
        return f"<value><double>{value!r}</double></value>"
    if isinstance(value, (list, tuple)):
        inner = "".join(encode_value(v) + "\r\n" for v in value)
        return f"<value><array><data>\r\n{inner}</data></array></value>"
    if isinstance(value, dict):
        members = "".join(
            f"<member><name>{escape(str(k))}</name>\r\n{encode_value(v)}</member>\r\n"
            for k, v in value.items()
        )
        return f"<value><struct>\r\n{members}</struct></value>"
    if isinstance(value, bytes):
        return f"<value><base64>{base64.b64encode(value).decode()}</base64></value>"
    if value is None:
        return "<value><nil/></value>"
    raise TypeError(f"cannot encode {type(value).__name__} as XML-RPC")


_RESPONSE_HEAD = HEAD + "<methodResponse>\r\n<params>\r\n<param>"
_RESPONSE_TAIL = "</param>\r\n</params>\r\n</methodResponse>\r\n"


def encode_response_parts(value: Any) -> list[bytes | memoryview]:
    """A ``<methodResponse>`` carrying ``value``, in parts to be sent one after the other.

    An answer array holding :class:`EscapedBytes` (``[True, document]``) is assembled
    from the document's own parts, never decoded nor joined (a large listing is never
    one buffer: :mod:`one_core.rpc.httpd` writes the parts); any other answer is one part.
    """
    if type(value) is list and any(type(v) is EscapedBytes for v in value):
        chunks: list[bytes | memoryview] = [(_RESPONSE_HEAD + "<value><array><data>\r\n").encode()]
        for v in value:
            if type(v) is EscapedBytes:
                chunks += (b"<value><string>", *v.parts, b"</string></value>\r\n")
            else:
                chunks.append((encode_value(v) + "\r\n").encode())
        chunks.append(("</data></array></value>" + _RESPONSE_TAIL).encode())
        return chunks
    return [(_RESPONSE_HEAD + encode_value(value) + _RESPONSE_TAIL).encode("utf-8")]


def encode_response(value: Any) -> bytes:
    """A ``<methodResponse>`` carrying ``value`` (:func:`encode_response_parts`, joined)."""
    parts = encode_response_parts(value)
    return parts[0] if len(parts) == 1 and type(parts[0]) is bytes else b"".join(parts)


def encode_fault(code: int, message: str) -> bytes:
    """A ``<methodResponse><fault>`` as xmlrpc-c writes it."""
    return (
        HEAD
        + "<methodResponse>\r\n<fault>\r\n<value><struct>\r\n"
        + "<member><name>faultCode</name>\r\n"
        + f"<value><i4>{code}</i4></value></member>\r\n"
        + "<member><name>faultString</name>\r\n"
        + f"<value><string>{escape(message)}</string></value></member>\r\n"
        + "</struct></value>\r\n</fault>\r\n</methodResponse>\r\n"
    ).encode("utf-8")


def encode_call(method: str, params: list[Any] | tuple[Any, ...]) -> bytes:
    """A ``<methodCall>`` (used by :mod:`one_core.client`)."""
    body = "".join(f"<param>{encode_value(p)}</param>\r\n" for p in params)
    return (
        f'<?xml version="1.0"?>\r\n<methodCall>\r\n<methodName>{escape(method)}</methodName>'
        f"\r\n<params>\r\n{body}</params>\r\n</methodCall>\r\n"
    ).encode()


def parse_response(body: bytes) -> tuple[bool, Any]:
    """Parse a ``<methodResponse>``: ``(True, value)`` or ``(False, (code, string))``."""
    root = safe_fromstring(body)
    if root.tag != "methodResponse":
        raise RequestError(f"not a methodResponse: <{root.tag}>")
    fault = root.find("fault")
    if fault is not None:
        value = fault.find("value")
        f = decode_value(value) if value is not None else {}
        return False, (int(f.get("faultCode", 0)), str(f.get("faultString", "")))
    value = root.find("params/param/value")
    if value is None:
        raise RequestError("methodResponse without a value")
    return True, decode_value(value)
