"""Creating an object from template text typed in a form: parse it first, then allocate it."""

from __future__ import annotations

from typing import Any

from one_core.api import Template, TemplateSyntaxError
from one_web.oned import OneClientError
from one_web.views.common import Ctx


def syntax_error(text: str) -> dict[str, Any] | None:
    """The parser's error for ``text`` (as oned parses it) with its line, or None."""
    try:
        Template.parse(text + "\n")
    except TemplateSyntaxError as exc:
        line = exc.line
        if line is not None:  # an error at the end of input points past the last line
            line = max(1, min(line, len(text.split("\n"))))
        return {"message": exc.message, "line": line}
    return None


def allocate_from_form(ctx: Ctx, method: str, *args: Any) -> tuple[str, Any, dict[str, Any] | None]:
    """Allocate the form's ``template`` text with ``method(text, *args)``.

    ``(text, new id, None)``, or ``(text, None, error)`` when the text does not parse
    (the error has its line) or oned refuses it (no line); nothing is sent for bad syntax.
    """
    text = ctx.form.get("template", "").replace("\r\n", "\n")
    error = syntax_error(text)
    if error is None:
        try:
            return text, ctx.api.call(method, text, *args), None
        except OneClientError as exc:
            error = {"message": exc.message, "line": None}
    return text, None, error


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """``text``'s lines with their numbers from 1 (the form shows them next to an error)."""
    return list(enumerate(text.split("\n"), start=1))
