"""``start``/``end`` of the modern pool calls, for pools kept in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def page(items: Sequence[T], oid: Callable[[T], int], start: int, end: int) -> list[T]:
    """``end >= -1``: the items with ``start <= id <= end`` (``-1``: no bound);
    ``end < -1``: ``-end`` items from offset ``start`` (items in id order)."""
    if end < -1:
        first = max(start, 0)
        return list(items[first : first - end])
    return [x for x in items if (start < 0 or oid(x) >= start) and (end < 0 or oid(x) <= end)]
