"""Deadlines of driver calls: per-action timeouts and what to kill when one expires.

Used by the engine's executor (VMM/TM actions) and the information manager (IM
probes). ``on_expiry(callback)`` is how code running inside a timed call (the
driver kit's remote commands) registers the kill of its child process or SSH
channel; it is exported to drivers as ``one_core.api.on_expiry``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from one_core.errors import DriverError

log = logging.getLogger("one.engine")

ROLE_TIMEOUTS: dict[str, dict[str, float]] = {
    "vmm": {"": 600.0, "POLL": 60.0, "CANCEL": 120.0},
    "tm": {"": 3600.0},
    "im": {"": 120.0},
}
"""Seconds an action may take when its driver section sets no ``TIMEOUT_<ACTION>`` /
``TIMEOUT`` (``""``: any other action of the role). 1.4 had no timeouts."""


def action_timeout(role: str, section: Mapping[str, Any], action: str) -> float | None:
    """The timeout of ``action`` (``DEPLOY``, ``PROLOG``, ``MONITOR``...) for a driver of
    ``role`` configured by ``section``; ``None`` or ``0``: no limit."""
    action = action.upper()
    for key in (f"TIMEOUT_{action}", "TIMEOUT"):
        raw = str(section.get(key, "") or "").strip()
        if raw:
            try:
                value = float(raw)
            except ValueError:
                log.warning("%s = %r is not a number of seconds; ignored", key, raw)
                continue
            return value if value > 0 else None
    defaults = ROLE_TIMEOUTS.get(role, {})
    return defaults.get(action, defaults.get(""))


_current = threading.local()


def on_expiry(callback: Callable[[], Any]) -> None:
    """Register ``callback`` to run if the driver call running in this thread times out
    (e.g. ``proc.kill``). Outside a timed call it is ignored."""
    callbacks = getattr(_current, "callbacks", None)
    if callbacks is not None:
        callbacks.append(callback)


class TimedCall:
    """Run ``fn`` in a thread of its own and wait at most ``timeout`` seconds."""

    def __init__(self, fn: Callable[[], Any], timeout: float):
        self.fn = fn
        self.timeout = timeout
        self.callbacks: list[Callable[[], Any]] = []
        self.result: Any = None
        self.error: BaseException | None = None

    def _body(self) -> None:
        _current.callbacks = self.callbacks
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            _current.callbacks = None

    def run(self, what: str) -> Any:
        """The call's result; its exception; or DriverError on expiry."""
        thread = threading.Thread(target=self._body, name="one-driver-call", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            for callback in list(self.callbacks):
                try:
                    callback()
                except Exception:
                    log.exception("expiry callback of %s failed", what)
            raise DriverError(f"{what} timed out after {self.timeout:g} s")
        if self.error is not None:
            raise self.error
        return self.result
