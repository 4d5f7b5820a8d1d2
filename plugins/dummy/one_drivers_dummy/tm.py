"""``dummy`` transfer driver: moves nothing, records every command.

Each call appends ``COMMAND arg...`` to ``ctx.state["commands"]`` (as
``(vid, line)``) and to ``$VAR/<vid>/transfer.log``, so tests can check the
exact commands a phase issued. Failures and delays are injectable (see
:mod:`one_drivers_dummy.control`).
"""

from __future__ import annotations

import os
import threading

from one_core.api import DriverContext, hookimpl, write_local
from one_drivers_dummy.control import act

_lock = threading.Lock()


def record(ctx: DriverContext, vid: int, command: str, *args: str | None) -> None:
    line = " ".join([command, *(a for a in args if a)])
    act(ctx, command.lower(), vid)
    with _lock:
        ctx.state.setdefault("commands", []).append((vid, line))
        path = os.path.join(ctx.var_dir, str(vid), "transfer.log")
        write_local(path, line + "\n", append=True)


@hookimpl
def tm_clone(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    record(ctx, vid, "CLONE", src, dst, size)


@hookimpl
def tm_ln(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    record(ctx, vid, "LN", src, dst, size)


@hookimpl
def tm_mkswap(ctx: DriverContext, vid: int, size: str, dst: str) -> None:
    record(ctx, vid, "MKSWAP", size, dst)


@hookimpl
def tm_mkimage(ctx: DriverContext, vid: int, size: str, fstype: str, dst: str) -> None:
    record(ctx, vid, "MKIMAGE", size, fstype, dst)


@hookimpl
def tm_mv(ctx: DriverContext, vid: int, src: str, dst: str) -> None:
    record(ctx, vid, "MV", src, dst)


@hookimpl
def tm_delete(ctx: DriverContext, vid: int, path: str) -> None:
    record(ctx, vid, "DELETE", path)


@hookimpl
def tm_context(ctx: DriverContext, vid: int, sources: list[str], dst: str, iso: str) -> None:
    record(ctx, vid, "CONTEXT", *sources, dst)
