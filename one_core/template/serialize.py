"""Writing templates out: template text, XML and 1.4's log dump form (spec §1.5)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree

Value = str | dict[str, str]

# ---------------------------------------------------------------------------
# template text
# ---------------------------------------------------------------------------

# Characters that end an unquoted value (lexer rule 10).
_DELIMITERS = re.compile(r"[=#\[\] \t\n,]")


def format_value(value: str) -> str:
    """``value`` written so that 1.4's lexer and ``unescape`` give it back exactly.

    Every ``"`` is written ``\\"`` (``unescape`` turns it back), which also means the
    text never starts with a quote, so rule 9 cannot compete with rule 10.  The value
    is then written bare when it has no delimiter (blank, newline, ``, = # [ ]``),
    quoted otherwise.

    Limits of the 1.4 syntax (nothing can express these; see
    docs/decisions/templates.md): an empty value is only possible for a single
    attribute (``NAME =`` + newline, written by :func:`format_attribute`), and a quoted
    value ending in a backslash only reads back when no ``"`` follows it in the text
    (which is always so for templates the parser produced).
    """
    escaped = value.replace('"', '\\"')
    if value and _DELIMITERS.search(value) is None:
        return escaped
    return '"' + escaped + '"'


def format_attribute(name: str, value: Value) -> str:
    """One attribute as template text, newline included."""
    if isinstance(value, str):
        if value == "":
            return f"{name} =\n"
        return f"{name} = {format_value(value)}\n"
    if not value:
        return f"{name} = [ ]\n"  # not valid 1.4 syntax: vectors cannot be empty
    pairs = ",\n".join(f"  {k} = {format_value(v)}" for k, v in value.items())
    return f"{name} = [\n{pairs} ]\n"


def to_text(attributes: Iterable[tuple[str, Value]]) -> str:
    """Template text for ``attributes``, in order (see :func:`format_value`)."""
    return "".join(format_attribute(name, value) for name, value in attributes)


# ---------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------

# Characters XML 1.0 does not allow at all (not even as references): replaced by U+FFFD.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_legal(text: str) -> str:
    """``text`` with the characters XML cannot carry replaced by U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def xml_escape(text: str) -> str:
    """Character data for XML: ``& < >`` escaped, CR kept as ``&#13;``, illegal chars replaced."""
    if _XML_SPECIAL.search(text) is None:
        return text
    text = xml_legal(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def sorted_attributes(attributes: Iterable[tuple[str, Value]]) -> list[tuple[str, Value]]:
    """1.4's iteration order: by name (byte order); duplicates keep insertion order."""
    return sorted(attributes, key=lambda item: item[0])


def to_xml(attributes: Iterable[tuple[str, Value]], root: str = "TEMPLATE") -> str:
    """``<ROOT><NAME>value</NAME><VEC><K>v</K>...</VEC>...</ROOT>`` (sorted, escaped)."""
    parts = [f"<{root}>"]
    for name, value in sorted_attributes(attributes):
        if isinstance(value, str):
            parts.append(f"<{name}>{xml_escape(value)}</{name}>")
        else:
            parts.append(f"<{name}>")
            for key in sorted(value):
                parts.append(f"<{key}>{xml_escape(value[key])}</{key}>")
            parts.append(f"</{name}>")
    parts.append(f"</{root}>")
    return "".join(parts)


def to_element(attributes: Iterable[tuple[str, Value]], root: str = "TEMPLATE") -> etree._Element:
    """The same document as :func:`to_xml`, as an lxml element.

    Raises ``ValueError`` (from lxml) for a name that is not a valid XML name
    (e.g. ``1``, which the template syntax allows). lxml is imported here only:
    the core parses XML with defusedxml and needs lxml for nothing else
    (it is the optional extra ``one-core[lxml]``).
    """
    from lxml import etree

    element = etree.Element(root)
    for name, value in sorted_attributes(attributes):
        child = etree.SubElement(element, name)
        if isinstance(value, str):
            child.text = xml_legal(value)
        else:
            for key in sorted(value):
                etree.SubElement(child, key).text = xml_legal(value[key])
    return element


# ---------------------------------------------------------------------------
# oned.log dump
# ---------------------------------------------------------------------------


def to_str(attributes: Iterable[tuple[str, Value]]) -> str:
    """1.4's ``Template::to_str``: ``"\\n\\tNAME=value"`` per attribute, vectors ``K=V,K=V``."""
    parts = []
    for name, value in sorted_attributes(attributes):
        if isinstance(value, str):
            parts.append(f"\n\t{name}={value}")
        else:
            parts.append(f"\n\t{name}=" + ",".join(f"{k}={value[k]}" for k in sorted(value)))
    return "".join(parts)
