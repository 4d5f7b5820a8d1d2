"""The :class:`Template` object: an ordered multimap of single and vector attributes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from copy import deepcopy as _deepcopy
from os import PathLike
from sys import intern
from typing import TYPE_CHECKING

from one_core.cnum import stream_double, stream_int
from one_core.template import serialize
from one_core.template.errors import TemplateSyntaxError
from one_core.template.parser import parse_into

if TYPE_CHECKING:
    from lxml import etree

Value = str | dict[str, str]
"""A single value (``str``) or a vector (``dict`` with upper-case keys)."""


def _upper_name(name: str) -> str:
    """``name`` upper-cased, one string for every template holding it (the same dozen
    names in each of the thousands of cached VMs' templates)."""
    return intern(name.upper())


class Template:
    """An ordered multimap of template attributes (spec §1.4).

    Names are upper-cased.  In the default mode duplicates are kept in insertion
    order; in *replace mode* (host templates) adding an attribute replaces every
    earlier attribute of that name, in place.
    """

    __slots__ = ("_attrs", "replace_mode")

    def __init__(
        self,
        attributes: Iterable[tuple[str, Value]] | None = None,
        *,
        replace_mode: bool = False,
    ) -> None:
        self._attrs: list[tuple[str, Value]] = []
        self.replace_mode = replace_mode
        if attributes is not None:
            for name, value in attributes:
                self.add(name, value)

    # ------------------------------------------------------------------ parsing

    @classmethod
    def parse(cls, text: str, *, replace_mode: bool = False) -> Template:
        """Parse template text; raise :class:`TemplateSyntaxError` with 1.4's message.

        The text is parsed as given: callers that mimic ``one.vm.allocate`` append
        the ``"\\n"`` 1.4 appends.
        """
        template = cls(replace_mode=replace_mode)
        parse_into(template, text)
        return template

    @classmethod
    def parse_file(cls, path: str | PathLike[str], *, replace_mode: bool = False) -> Template:
        """Parse a template file (e.g. oned.conf); ``Error opening template file`` if unreadable."""
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError as exc:
            raise TemplateSyntaxError("Error opening template file") from exc
        return cls.parse(text, replace_mode=replace_mode)

    @classmethod
    def parse_monitoring(cls, text: str) -> Template:
        """An IM driver's ``A=1,B=2`` string as oned reads it.

        Every comma becomes a newline -- including commas inside quoted values --
        ``"\\n"`` is appended, and the result is parsed in replace mode.
        """
        return cls.parse(text.replace(",", "\n") + "\n", replace_mode=True)

    # ------------------------------------------------------------------ reading

    @property
    def attributes(self) -> list[tuple[str, Value]]:
        """``(NAME, value)`` pairs in insertion order (a new list; values are shared)."""
        return list(self._attrs)

    def __iter__(self) -> Iterator[tuple[str, Value]]:
        return iter(list(self._attrs))

    def __len__(self) -> int:
        return len(self._attrs)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        name = name.upper()
        return any(n == name for n, _ in self._attrs)

    def names(self) -> list[str]:
        """Distinct attribute names, in order of first appearance."""
        return list(dict.fromkeys(n for n, _ in self._attrs))

    def values(self, name: str) -> list[Value]:
        """Every value of ``name`` (singles and vectors), in order."""
        name = name.upper()
        return [v for n, v in self._attrs if n == name]

    def get(self, name: str, default: str = "") -> str:
        """The first attribute called ``name`` if it is single; else ``default``.

        As 1.4's ``Template::get(name, string&)``: when the first attribute of that
        name is a vector the result is ``default``, even if a later one is single.
        """
        name = name.upper()
        for n, v in self._attrs:
            if n == name:
                return v if isinstance(v, str) else default
        return default

    def get_int(self, name: str) -> int:
        """``get(name)`` read as 1.4 reads integers (:func:`one_core.cnum.stream_int`)."""
        return stream_int(self.get(name))

    def get_float(self, name: str) -> float:
        """``get(name)`` read as 1.4 reads floats (:func:`one_core.cnum.stream_double`)."""
        return stream_double(self.get(name))

    def vector(self, name: str) -> dict[str, str] | None:
        """The first vector attribute called ``name``, or ``None``."""
        name = name.upper()
        for n, v in self._attrs:
            if n == name and isinstance(v, dict):
                return v
        return None

    def vectors(self, name: str) -> list[dict[str, str]]:
        """Every vector attribute called ``name``, in order."""
        name = name.upper()
        return [v for n, v in self._attrs if n == name and isinstance(v, dict)]

    def single_values(self) -> dict[str, str]:
        """``{NAME: value}`` with the first value of each single attribute."""
        result: dict[str, str] = {}
        for n, v in self._attrs:
            if isinstance(v, str) and n not in result:
                result[n] = v
        return result

    # ------------------------------------------------------------------ writing

    def add(self, name: str, value: Value) -> None:
        """Add an attribute (a replace in replace mode).  Vectors are copied, keys upper-cased."""
        if not isinstance(value, str):
            value = {_upper_name(str(k)): str(v) for k, v in value.items()}
        self._add_parsed(name, value)

    def _add_parsed(self, name: str, value: Value) -> None:
        """Add an already-normalised attribute (the parser's fast path)."""
        if self.replace_mode:
            self._replace(_upper_name(name), value)
        else:
            self._attrs.append((_upper_name(name), value))

    def set(self, name: str, value: Value) -> None:
        """Replace every attribute called ``name`` by one with ``value``.

        The new attribute takes the place of the first one removed (or goes last).
        """
        if not isinstance(value, str):
            value = {_upper_name(str(k)): str(v) for k, v in value.items()}
        self._replace(_upper_name(name), value)

    def _replace(self, name: str, value: Value) -> None:
        attrs = self._attrs
        for i, item in enumerate(attrs):
            if item[0] == name:
                rest = [a for a in attrs[i + 1 :] if a[0] != name]
                self._attrs = attrs[:i] + [(name, value)] + rest
                return
        attrs.append((name, value))

    def remove(self, name: str) -> list[Value]:
        """Remove every attribute called ``name``; return the removed values."""
        name = name.upper()
        removed = [v for n, v in self._attrs if n == name]
        if removed:
            self._attrs = [(n, v) for n, v in self._attrs if n != name]
        return removed

    def merge(self, other: Template) -> None:
        """Add every attribute of ``other`` (so in replace mode, later values win)."""
        for name, value in other._attrs:
            self.add(name, value)

    def copy(self) -> Template:
        """A deep copy (vectors copied too)."""
        clone = Template(replace_mode=self.replace_mode)
        clone._attrs = [(n, v if isinstance(v, str) else dict(v)) for n, v in self._attrs]
        return clone

    def __deepcopy__(self, memo: dict[int, object]) -> Template:
        """``copy.deepcopy`` without its generic walk (the engine snapshots each VM's
        template before every driver call): strings are immutable, vectors of
        strings are copied with ``dict``; anything else still goes through deepcopy."""
        clone = Template(replace_mode=self.replace_mode)
        attrs = []
        for name, value in self._attrs:
            if type(value) is not str:
                if type(value) is dict and all(type(v) is str for v in value.values()):
                    value = dict(value)
                else:
                    value = _deepcopy(value, memo)
            attrs.append((name, value))
        clone._attrs = attrs
        return clone

    # ------------------------------------------------------------------ output

    def to_text(self) -> str:
        """Template text such that ``Template.parse(t.to_text()) == t``.

        See :func:`one_core.template.serialize.format_value` for the few values the
        1.4 syntax cannot express.
        """
        return serialize.to_text(self._attrs)

    def to_xml(self, root: str = "TEMPLATE") -> str:
        """The XML form of §1.5: sorted by name, sub-attributes by key, values escaped."""
        return serialize.to_xml(self._attrs, root)

    def to_element(self, root: str = "TEMPLATE") -> etree._Element:
        """The XML form as an lxml element (needs lxml: ``one-core[lxml]``)."""
        return serialize.to_element(self._attrs, root)

    def to_str(self) -> str:
        """1.4's oned.log dump form (``"\\n\\tNAME=value"``...)."""
        return serialize.to_str(self._attrs)

    # ------------------------------------------------------------------ comparison

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Template):
            return NotImplemented
        return self._attrs == other._attrs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        mode = ", replace_mode=True" if self.replace_mode else ""
        return f"Template({self._attrs!r}{mode})"
