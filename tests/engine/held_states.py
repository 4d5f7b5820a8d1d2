"""Put a VM into a transitional LCM state and keep it there.

Each setup returns ``(vid, gates)``: the gates hold the VM's driver queue, so the
VM stays in the state until they are opened. Used by the delete (§1.7) and the
start-up recovery tests, which must reach the same states the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from .conftest import Env, Gate

Setup = Callable[[Env], tuple[int, list[Gate]]]
Op = Callable[[Env, int], object]


def action(name: str) -> Op:
    return lambda env, vid: env.engine.action(name, vid)


def migrate(live: bool) -> Op:
    """Migrate to node2."""
    return lambda env, vid: env.engine.migrate(vid, env.node2, live)


def held(op: Op) -> Setup:
    """A running VM on which ``op`` is requested; its first driver call is held."""

    def setup(env: Env) -> tuple[int, list[Gate]]:
        vid = env.running_vm()
        gate = env.gate(vid)
        op(env, vid)
        return vid, [gate]

    return setup


def two_step(op: Op, state: str) -> Setup:
    """A running VM on which ``op`` is requested, held in ``state`` after its first step."""

    def setup(env: Env) -> tuple[int, list[Gate]]:
        vid = env.running_vm()
        first = env.gate(vid)
        op(env, vid)
        second = env.gate(vid)
        first.open()
        env.wait_state(vid, "ACTIVE", state)
        env.reset_commands()
        return vid, [second]

    return setup


def into_prolog(env: Env) -> tuple[int, list[Gate]]:
    vid = env.allocate()
    gate = env.gate(vid)
    env.engine.deploy(vid, env.node1)
    return vid, [gate]


def into_boot(env: Env) -> tuple[int, list[Gate]]:
    vid = env.allocate()
    first = env.gate(vid)
    env.engine.deploy(vid, env.node1)
    second = env.gate(vid)
    first.open()
    env.wait_state(vid, "ACTIVE", "BOOT")
    env.reset_commands()
    return vid, [second]


def into_prolog_resume(env: Env) -> tuple[int, list[Gate]]:
    """Stopped, resumed and deployed again on node2; the PROLOG_RESUME transfer is held."""
    vid = env.running_vm()
    env.act("stop", vid)
    env.engine.action("resume", vid)
    gate = env.gate(vid)
    env.engine.deploy(vid, env.node2)
    env.reset_commands()
    return vid, [gate]


HELD: dict[str, Setup] = {
    "PROLOG": into_prolog,
    "BOOT": into_boot,
    "SHUTDOWN": held(action("shutdown")),
    "CANCEL": held(action("cancel")),
    "SAVE_STOP": held(action("stop")),
    "SAVE_SUSPEND": held(action("suspend")),
    "SAVE_MIGRATE": held(migrate(False)),
    "MIGRATE": held(migrate(True)),
    "PROLOG_MIGRATE": two_step(migrate(False), "PROLOG_MIGRATE"),
    "PROLOG_RESUME": into_prolog_resume,
    "EPILOG": two_step(action("shutdown"), "EPILOG"),
    "EPILOG_STOP": two_step(action("stop"), "EPILOG_STOP"),
}
"""How each transitional LCM state is reached and held."""
