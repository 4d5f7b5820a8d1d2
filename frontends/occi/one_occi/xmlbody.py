"""Request XML in, response XML out (spec cloud-apis §5.3).

Requests are parsed with :mod:`defusedxml` with DTDs forbidden, so entity
bombs and external entities never expand: any DTD is a 400. Responses are
built from strings with every value XML-escaped (§7 #39), four-space
indentation as 1.4's ERB views, and no ``<?xml?>`` declaration.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as DET

from one_occi.errors import malformed

MAX_XML = 1024 * 1024
"""Largest XML body accepted (bytes)."""


def parse(body: bytes, roots: Iterable[str]) -> Element:
    """The root element of ``body``; 400 unless well-formed, DTD-free, with a root in ``roots``."""
    roots = tuple(roots)
    if not body.strip():
        raise malformed("the request body is empty")
    try:
        root = DET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise malformed("DTDs and entity declarations are not accepted") from None
    except Exception as exc:  # ParseError and friends
        raise malformed(str(exc) or type(exc).__name__) from None
    if root.tag not in roots:
        raise malformed(f"expected root element {' or '.join(roots)}, found {root.tag}")
    return root


def text(el: Element | None, path: str) -> str | None:
    """Stripped text of ``path`` below ``el``; None when missing or empty."""
    if el is None:
        return None
    value = el.findtext(path)
    if value is None:
        return None
    value = value.strip()
    return value or None


def esc(value: object) -> str:
    """XML-escape ``& < >`` and ``"`` (attribute-safe)."""
    return escape(str(value), {'"': "&quot;"})


def element(tag: str, value: object) -> str:
    return f"<{tag}>{esc(value)}</{tag}>"


def empty(tag: str, attrs: Iterable[tuple[str, object]]) -> str:
    inner = " ".join(f'{k}="{esc(v)}"' for k, v in attrs)
    return f"<{tag} {inner}/>" if inner else f"<{tag}/>"


def document(tag: str, lines: list[str]) -> bytes:
    """``<TAG>`` with ``lines`` indented by four spaces (nested lists by eight)."""
    out = [f"<{tag}>"]
    out += [f"    {line}" for line in lines]
    out.append(f"</{tag}>")
    return ("\n".join(out) + "\n").encode("utf-8")


def pool(tag: str, child: str, hrefs: list[str]) -> bytes:
    """A pool resource: ``<TAG><CHILD href="..."/>...</TAG>``."""
    return document(tag, [empty(child, [("href", h)]) for h in hrefs])
