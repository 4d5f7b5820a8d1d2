"""Queue events behind a held dispatcher: what group-commit tests build batches with."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .conftest import Env


def block(env: Env, *, alone: bool = False) -> threading.Event:
    """Hold the dispatcher until the returned event is set (events queue up meanwhile).

    ``alone``: no event joins the blocker's batch, so the events queued meanwhile make
    the next batch, however long they take.
    """
    gate, entered = threading.Event(), threading.Event()
    dispatcher = env.engine.dispatcher

    def blocker() -> None:
        entered.set()
        gate.wait(30)
        if alone:
            dispatcher.batch_window = 0.0

    dispatcher.post(blocker)
    assert entered.wait(10)
    return gate


def caller_of(env: Env, fn: Callable[[], Any], errors: list[str]) -> Callable[[], None]:
    """A thread target calling ``fn`` on the dispatcher; its RuntimeError goes to ``errors``."""

    def call() -> None:
        try:
            env.engine.dispatcher.call(fn)
        except RuntimeError as exc:
            errors.append(str(exc))

    return call
