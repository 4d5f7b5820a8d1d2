"""Object pools (users, hosts, virtual networks, VMs) and their XML documents.

Each pool keeps its objects in memory (loaded from the DB at start-up, like
1.4's pool caches), writes through to the DB inside :func:`one_core.db.writer`,
and keeps a pre-rendered XML body per object so that info calls are string
joins. Helpers shared by the pool modules live here.
"""

from __future__ import annotations

import threading


def xml_text(value: object) -> str:
    """Escape text content for the 1.4 XML documents (decision X1: escape ``& < >``)."""
    s = str(value)
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    return s


def stream_int(value: object) -> int:
    """C++ ``istream >> int`` as 1.4 read share values: ``"187.5"`` → 187, garbage → 0."""
    s = str(value).lstrip()
    i = 0
    if s[:1] in ("+", "-"):
        i = 1
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i:
        return 0
    return int(s[:j])


class IdCounter:
    """1.4's pool counter: ``MAX(oid)+1`` at start, incremented in memory (decision S10).

    :meth:`take` reserves the next id; :meth:`give_back` returns it after a
    failed insert so that the next object reuses it.
    """

    def __init__(self, last: int | None):
        self._next = -1 if last is None else last
        self._next += 1
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            oid = self._next
            self._next += 1
            return oid

    def give_back(self, oid: int) -> None:
        with self._lock:
            if oid == self._next - 1:
                self._next = oid

    @property
    def next(self) -> int:
        return self._next
