"""Reading and printing the XML documents of oned (spec §6.9, xmlrpc-api §9).

* :func:`parse` turns an info body into an element (``CallError`` style message on failure).
* :func:`text` reads a child by a relative path (``HISTORY/HOSTNAME``), ``""`` when missing,
  like ``obj['history/hostname']`` of the Ruby OCA.
* :func:`pretty` prints an element as the 1.4 CLIs with Nokogiri did (``node.to_xml``): two
  spaces per level, text-only elements on one line, empty elements as ``<X/>``.
* :func:`template_str` prints a ``TEMPLATE`` as ``onevm show`` (indented vectors) or
  ``onevnet show`` (one-line vectors) do.
* :func:`to_data` converts an element for ``--json``.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring


class XmlError(Exception):
    """The body is not well-formed XML."""


def parse(body: str) -> Element:
    """Parse an XML document returned by an info method."""
    try:
        return fromstring(body)
    except Exception as exc:  # ParseError and defusedxml's refusals
        raise XmlError(f"Error parsing XML: {exc}") from None


def text(element: Element | None, path: str) -> str:
    """Text of the first element at ``path`` below ``element``; ``""`` if there is none."""
    if element is None:
        return ""
    found = element.find(path)
    if found is None or found.text is None:
        return ""
    return found.text


def _escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def pretty(element: Element, indent: int = 0) -> str:
    """Serialise ``element`` like libxml2's formatted output (no XML declaration, no final NL)."""
    pad = "  " * indent
    children = list(element)
    body = element.text or ""
    if not children:
        if body == "":
            return f"{pad}<{element.tag}/>"
        return f"{pad}<{element.tag}>{_escape(body)}</{element.tag}>"
    mixed = body.strip() != "" or any((c.tail or "").strip() for c in children)
    if mixed:
        return pad + _compact(element)
    inner = "\n".join(pretty(child, indent + 1) for child in children)
    return f"{pad}<{element.tag}>\n{inner}\n{pad}</{element.tag}>"


def _compact(element: Element) -> str:
    children = list(element)
    if not children and not element.text:
        return f"<{element.tag}/>"
    inner = _escape(element.text or "")
    for child in children:
        inner += _compact(child) + _escape(child.tail or "")
    return f"<{element.tag}>{inner}</{element.tag}>"


def template_str(template: Element | None, indented: bool = True) -> str:
    """Render the children of a ``TEMPLATE`` element as ``NAME=value`` lines.

    A vector is ``NAME=[\\n  K=v,\\n  K2=v2 ]`` when ``indented`` (onevm, onehost) and
    ``NAME=[ K=v, K2=v2 ]`` otherwise (onevnet). No trailing newline.
    """
    if template is None:
        return ""
    lines = []
    for child in template:
        subs = list(child)
        if subs:
            pairs = [f"{sub.tag}={sub.text or ''}" for sub in subs]
            if indented:
                lines.append(f"{child.tag}=[\n" + ",\n".join("  " + p for p in pairs) + " ]")
            else:
                lines.append(f"{child.tag}=[ " + ", ".join(pairs) + " ]")
        else:
            lines.append(f"{child.tag}={child.text or ''}")
    return "\n".join(lines)


def to_data(element: Element) -> object:
    """Convert an element to JSON-ready data: text leaves become strings, repeated tags lists."""
    children = list(element)
    if not children:
        return element.text or ""
    data: dict[str, object] = {}
    for child in children:
        value = to_data(child)
        if child.tag in data:
            previous = data[child.tag]
            if isinstance(previous, list) and getattr(previous, "_repeated", False):
                previous.append(value)
            else:
                data[child.tag] = _Repeated([previous, value])
        else:
            data[child.tag] = value
    return data


class _Repeated(list):
    """A list made from repeated sibling tags (distinguishes it from a scalar list value)."""

    _repeated = True
