"""Hooks every driver may implement, whatever its role.

Both are optional. They run on oned's main thread, once, in load order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.hookspecs import hookspec

if TYPE_CHECKING:
    from one_core.context import DriverContext


@hookspec
def driver_start(ctx: DriverContext) -> None:
    """Prepare the driver before oned serves any request.

    Called once at oned start-up, after every driver has been loaded and
    validated and before recovery runs and the API port opens. Use it to
    check a configuration value, open a client, or warm a cache. Raising
    :class:`~one_core.errors.DriverError` aborts the start-up of oned with the
    message, as a 1.4 driver answering ``INIT FAILURE`` did.

    :param ctx: the driver's context (configuration, defaults, logger).
    """


@hookspec
def driver_stop(ctx: DriverContext) -> None:
    """Release what :func:`driver_start` acquired.

    Called once when oned stops (SIGTERM/SIGINT), after the API has stopped
    and in-flight driver calls have finished or timed out. Exceptions are
    logged and ignored.

    :param ctx: the driver's context.
    """
