"""Instance-type templates of the cloud servers (spec cloud-apis §1.5, §3.7, §5.7).

1.4 rendered Ruby ERB files. We render the ERB subset that VM templates
need, without evaluating code: ``<%= expression %>`` where the expression is
a variable look-up, plus ``<%# comments %>`` and ``-%>`` trimming.
Expressions (``[:k]``, ``['k']`` and ``["k"]`` are the same) are variable
look-ups with optional keys, e.g. ``erb_vm_info[:img_path]``,
``params['Name']`` or ``@config[:server]``; each server documents the
variables it passes.

Anything else (``<% if ... %>``, method calls) is refused with
:class:`TemplateError`. Values are inserted as they are, as ERB did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_TAG_RE = re.compile(r"<%(=|#)?(.*?)(-?)%>\n?", re.S)
_EXPR_RE = re.compile(r"""^(@?[A-Za-z_][A-Za-z0-9_]*)((?:\[\s*(?::\w+|'[^']*'|"[^"]*")\s*\])*)$""")
_KEY_RE = re.compile(r"""\[\s*(?::(\w+)|'([^']*)'|"([^"]*)")\s*\]""")


class TemplateError(Exception):
    """The template cannot be read or uses ERB this renderer does not support."""


def _lookup(variables: Mapping[str, Any], expr: str) -> str:
    match = _EXPR_RE.match(expr.strip())
    if match is None:
        raise TemplateError(f"Unsupported ERB expression: {expr.strip()}")
    name = match.group(1)
    if name not in variables:
        raise TemplateError(f"Unknown template variable: {name}")
    value: Any = variables[name]
    for key_match in _KEY_RE.finditer(match.group(2)):
        key = next(g for g in key_match.groups() if g is not None)
        if not isinstance(value, Mapping):
            return ""
        value = _get(value, key)
    return "" if value is None else str(value)


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    if key in mapping:
        return mapping[key]
    for k, v in mapping.items():  # Ruby symbols vs. config keys: case-insensitive
        if str(k).lower() == key.lower():
            return v
    return None


def render(text: str, variables: Mapping[str, Any]) -> str:
    """Render ERB ``text`` with ``variables``."""
    out: list[str] = []
    pos = 0
    for match in _TAG_RE.finditer(text):
        out.append(text[pos : match.start()])
        kind, body, trim = match.group(1), match.group(2), match.group(3)
        newline = match.group(0).endswith("\n")
        if kind == "=":
            out.append(_lookup(variables, body))
            if newline and not trim:
                out.append("\n")
        elif kind == "#":
            if newline and not trim:
                out.append("\n")
        else:
            raise TemplateError(f"Unsupported ERB code: <%{body}%>")
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def render_file(path: str | Path, variables: Mapping[str, Any]) -> str:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise TemplateError(f"Can not read template {path}: {exc.strerror or exc}") from None
    return render(text, variables)
