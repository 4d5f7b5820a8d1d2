"""Strict mode's login guard: failed logins rate-limited per user and per source address.

``API_SECURITY = "strict"`` (docs/security.md) gives :class:`~one_core.pools.user.UserPool`
a :class:`LoginGuard`. After ``free`` failed logins for a user name or from a source
address, further attempts for it are refused unchecked until a back-off has passed
(1 s, doubling with every failure, at most ``cap``); a success clears both. A
lock-out is logged once, naming the user and the address.

The source address of the call being served is kept per thread by the RPC app
(:func:`set_client`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("one.ReM")

_client = threading.local()


def set_client(address: str | None) -> None:
    """The source address of the call this thread is serving (None: not a network call)."""
    _client.address = address


def current_client() -> str:
    """The source address of the call this thread serves, ``"-"`` when unknown."""
    return getattr(_client, "address", None) or "-"


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0


class LoginGuard:
    """Failed-login counters with exponential back-off, per user name and per address."""

    def __init__(
        self,
        free: int = 5,
        base: float = 1.0,
        cap: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ):
        self.free = free
        self.base = base
        self.cap = cap
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._fails: dict[tuple[str, str], _Failures] = {}

    def _keys(self, name: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", name), ("addr", current_client())

    def allow(self, name: str) -> bool:
        """Whether a login attempt for ``name`` from the current address may be checked."""
        now = self.clock()
        with self._lock:
            return all(
                (f := self._fails.get(key)) is None or now >= f.until for key in self._keys(name)
            )

    def failed(self, name: str) -> None:
        """A failed login: count it; start or lengthen the back-off."""
        now = self.clock()
        address = current_client()
        with self._lock:
            if len(self._fails) >= self.max_entries:
                self._fails.clear()  # bounded memory; counting starts again
            locked_now = False
            for key in self._keys(name):
                f = self._fails.setdefault(key, _Failures())
                f.count += 1
                if f.count > self.free:
                    f.until = now + min(self.base * 2 ** (f.count - self.free - 1), self.cap)
                    locked_now = locked_now or f.count == self.free + 1
            counts = [self._fails[k].count for k in self._keys(name)]
        if locked_now:
            log.error(
                "Failed logins: user %r from %s (%d for the user, %d from the address); "
                "further attempts are refused with back-off",
                name,
                address,
                *counts,
            )

    def succeeded(self, name: str) -> None:
        with self._lock:
            for key in self._keys(name):
                self._fails.pop(key, None)


def strict(core: object) -> bool:
    """Whether oned runs with ``API_SECURITY = "strict"``."""
    return bool(getattr(getattr(core, "cfg", None), "strict", False))


class RepeatFilter(logging.Filter):
    """Strict mode: an error line identical to one logged less than ``window`` seconds
    ago is dropped (a password guesser must not flood oned.log); the next time it is
    logged it says how many were dropped."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        text = record.getMessage()
        now = self.clock()
        with self._lock:
            last, dropped = self._seen.get(text, (-self.window, 0))
            if now - last < self.window:
                self._seen[text] = (last, dropped + 1)
                return False
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[text] = (now, 0)
        if dropped:
            record.msg, record.args = f"{text} (and {dropped} more like it)", None
        return True
