"""Driver call tracing: every hook call with its arguments, result and duration.

Switched on by ``DRIVER_TRACE = "yes"`` in oned.conf or the environment
variable ``ONE_TRACE_DRIVERS=1`` (like datasette's ``DATASETTE_TRACE_PLUGINS``).
Lines go to oned.log at INFO level, module ``TRACE``::

    [TRACE][I]: vmm:dummy vmm_deploy(vid=3, host='node1', ...) -> 'one-3' in 0.4 ms
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import pluggy

from one_core.context import DriverContext

log = logging.getLogger("one.trace")


def enabled(settings: Mapping[str, str]) -> bool:
    value = os.environ.get("ONE_TRACE_DRIVERS") or settings.get("DRIVER_TRACE", "")
    return str(value).strip().lower() in {"1", "yes", "true", "on"}


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def setup(pm: pluggy.PluginManager, ctx: DriverContext, settings: Mapping[str, str]) -> None:
    """Install call monitoring on ``pm`` when tracing is enabled."""
    if not enabled(settings):
        return
    starts = threading.local()
    label = f"{ctx.role}:{ctx.name}"

    def before(hook_name: str, hook_impls: Any, kwargs: Mapping[str, Any]) -> None:
        starts.__dict__.setdefault("stack", []).append(time.perf_counter())

    def after(outcome: Any, hook_name: str, hook_impls: Any, kwargs: Mapping[str, Any]) -> None:
        started = starts.stack.pop() if getattr(starts, "stack", None) else time.perf_counter()
        elapsed = (time.perf_counter() - started) * 1000
        args = ", ".join(f"{k}={_short(v, 40)}" for k, v in kwargs.items() if k != "ctx")
        if outcome.exception is not None:
            result = f"raised {type(outcome.exception).__name__}: {outcome.exception}"
        else:
            result = f"-> {_short(outcome.get_result())}"
        log.info("%s %s(%s) %s in %.1f ms", label, hook_name, args, result, elapsed)

    pm.add_hookcall_monitoring(before, after)
