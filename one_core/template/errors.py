"""The error raised when a template (or oned.conf) cannot be parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.errors import OneError

if TYPE_CHECKING:
    from one_core.template.model import Template


class TemplateSyntaxError(OneError):
    """A template could not be parsed.

    ``str(exc)`` is exactly 1.4's message, e.g.
    ``syntax error, unexpected CBRACKET, expecting VARIABLE at line 2, columns 6:8``,
    or ``Error opening template file`` for an unreadable file.

    Attributes (all optional; ``None``/empty when the error is not a syntax error):

    * ``line``, ``first_column``, ``last_column`` -- 1.4's location: the line at the
      end of the offending token and cumulative byte offsets from the start of input;
    * ``unexpected`` -- the display name of the offending token (``$end``, ``EQUAL``...);
    * ``expected`` -- the display names of the tokens that were acceptable;
    * ``template`` -- the attributes parsed before the error (1.4 parsing is not
      transactional; callers normally discard them).
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        first_column: int | None = None,
        last_column: int | None = None,
        unexpected: str | None = None,
        expected: tuple[str, ...] = (),
        template: Template | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.first_column = first_column
        self.last_column = last_column
        self.unexpected = unexpected
        self.expected = expected
        self.template = template

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type, tuple[str], dict[str, object]]:
        # keyword-only arguments: keep the error picklable
        return (self.__class__, (self.message,), dict(self.__dict__))
