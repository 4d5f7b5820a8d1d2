"""The table engine of the 1.4 tools (``ShowTable``, spec §6.4).

A :class:`Table` is an ordered list of :class:`Column` (definition order, used by
``--list-columns``) and a default column list. :meth:`Table.render` applies ``-l``, ``-f`` and
``-o`` exactly as 1.4 did:

* cells are ``"%-W.Ws"``/``"%W.Ws"``: padded *and truncated* to W, joined by one space;
* a ``-l`` key that is not a column is dropped from the header but leaves an empty field (an
  extra space) in the rows;
* ``-f col=re``: unanchored, case-insensitive regex on the untruncated value, all must match;
* ``-o``: string comparison; a plain key sorts **descending**, ``-key`` ascending (the help text
  says the opposite: 1.4 quirk, kept); an unknown key stops the comparison.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

BOLD = "\x1b[1m"
UNDERLINE = "\x1b[4m"
RESET = "\x1b[0m"
CLEAR = "\x1b[2J\x1b[H"


class FilterError(Exception):
    """A ``-f`` argument 1.4 would have crashed on; ``str()`` is the message to print."""


@dataclass(frozen=True)
class Column:
    """One column: key (``-l``/``-o``/``-f`` name), title, width, alignment, value function."""

    key: str
    title: str
    size: int
    desc: str
    value: Callable[[Element], object]
    left: bool = False

    def cell(self, value: object) -> str:
        text = "" if value is None else str(value)
        text = text[: self.size]
        return text.ljust(self.size) if self.left else text.rjust(self.size)


class Table:
    """A table definition (one per tool listing)."""

    def __init__(self, columns: Sequence[Column], default: Sequence[str]):
        self.columns = {c.key: c for c in columns}
        self.default = list(default)

    def list_columns(self) -> str:
        """The ``--list-columns`` text (no final newline)."""
        return "\n".join(f"{c.key:>9} ({c.size:2d}) => {c.desc}" for c in self.columns.values())

    def header(self, keys: Sequence[str]) -> str:
        """The header line with its ANSI escapes (no final newline)."""
        titles = [self.columns[k].cell(self.columns[k].title) for k in keys if k in self.columns]
        return BOLD + UNDERLINE + " ".join(titles) + RESET

    def rows(
        self,
        items: Sequence[Element],
        keys: Sequence[str],
        filters: Sequence[tuple[str, str | None, str]] | None = None,
        order: Sequence[str] | None = None,
    ) -> list[str]:
        """Formatted data lines for ``items`` after filtering and sorting."""
        data = [
            [None if k not in self.columns else _to_s(self.columns[k].value(item)) for k in keys]
            for item in items
        ]
        if filters:
            data = _filter(data, keys, filters)
        if order:
            data = sorted(data, key=functools.cmp_to_key(_comparator(keys, order)))
        return [
            " ".join(
                self.columns[k].cell(v) if k in self.columns else ""
                for k, v in zip(keys, row, strict=True)
            )
            for row in data
        ]

    def render(
        self,
        items: Sequence[Element],
        keys: Sequence[str] | None = None,
        filters: Sequence[tuple[str, str | None, str]] | None = None,
        order: Sequence[str] | None = None,
    ) -> str:
        """1.4's output: header line, then ``puts`` of the rows (an empty table: one empty line)."""
        keys = list(keys) if keys else self.default
        lines = self.rows(items, keys, filters, order)
        return self.header(keys) + "\n" + "\n".join(lines) + "\n"


def _to_s(value: object) -> str:
    return "" if value is None else str(value)


def _filter(
    data: list[list[str | None]],
    keys: Sequence[str],
    filters: Sequence[tuple[str, str | None, str]],
) -> list[list[str | None]]:
    for key, pattern, original in filters:
        lowered = key.lower()
        if lowered not in keys:
            continue
        if pattern is None:
            raise FilterError(f"invalid argument: -f {original}")
        try:
            regex = re.compile(pattern.lower())
        except re.error:
            raise FilterError(f"invalid argument: -f {original}") from None
        pos = keys.index(lowered)
        data = [
            row for row in data if (cell := row[pos]) is not None and regex.search(cell.lower())
        ]
    return data


def _comparator(keys: Sequence[str], order: Sequence[str]) -> Callable[[list, list], int]:
    def compare(a: list, b: list) -> int:
        for item in order:
            ascending = item.startswith("-")
            name = re.sub(r"^-", "", item)
            if name not in keys:
                break
            pos = keys.index(name)
            left, right = a[pos] or "", b[pos] or ""
            result = (right > left) - (right < left)
            if result != 0:
                return -result if ascending else result
        return 0

    return compare
