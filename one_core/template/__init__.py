"""The 1.4 template language (VM and VNet templates, host monitoring, oned.conf).

Specified in ``spec/templates-scheduler-vnets-cli.md`` §1. Public API
(CONTRACT — other modules are written against it):

``Template``
    An ordered multimap of attributes. A value is either a ``str`` (single
    attribute) or a ``dict[str, str]`` (vector attribute; upper-case keys).

    * ``Template.parse(text, *, replace_mode=False) -> Template`` — raises
      :class:`TemplateSyntaxError` whose ``str()`` is 1.4's message,
      e.g. ``syntax error, unexpected CBRACKET, expecting VARIABLE at line 2, columns 6:8``.
    * ``Template.parse_file(path, *, replace_mode=False)`` — same, from a file
      (``Error opening template file`` when it cannot be opened).
    * ``Template.parse_monitoring(text)`` — an IM string ``A=1,B=2`` (every
      comma becomes a newline, ``\\n`` appended, replace mode).
    * ``t.attributes`` — list of ``(NAME, value)`` in insertion order.
    * ``t.get(name, default="") -> str`` — first *single* value of ``name``
      (case-insensitive); ``default`` when missing or a vector.
    * ``t.get_int(name) -> int`` / ``t.get_float(name) -> float`` — 1.4's
      stream-extraction reading (``"12abc"`` → 12, garbage → 0).
    * ``t.vector(name) -> dict | None``, ``t.vectors(name) -> list[dict]``,
      ``t.values(name) -> list[str | dict]``, ``name in t``, ``t.names()``.
    * ``t.add(name, value)`` (keeps duplicates unless replace mode),
      ``t.set(name, value)`` (replaces every attribute of that name),
      ``t.remove(name) -> list`` (the removed values), ``t.merge(other)``.
    * ``t.single_values() -> dict[str, str]`` — first value of each single attribute.
    * ``t.to_text()`` — template text such that ``Template.parse(t.to_text()) == t``.
    * ``t.to_xml(root="TEMPLATE") -> str`` — the XML form of §1.5
      (attributes sorted by name, sub-attributes by key), values escaped.
    * ``t.to_element(root="TEMPLATE")`` — the same as an lxml element.
    * ``t.to_str()`` — the oned.log dump form (``"\\n\\tNAME=value"``...).
    * ``t == other`` — same attributes in the same order.
"""

from one_core.template.errors import TemplateSyntaxError
from one_core.template.model import Template

__all__ = ["Template", "TemplateSyntaxError"]
