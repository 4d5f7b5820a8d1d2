"""Which calls a follower answers, and the answer to the others."""

from __future__ import annotations

NOT_LEADER = "not the leader"
"""The start of the refusal a follower gives to a write call (clients retry elsewhere)."""

_READ_TAILS = frozenset(
    {"info", "infoextended", "monitoring", "version", "config", "listMethods", "methodExist"}
)
_READ_SYSTEM = frozenset(
    {
        "system.listMethods",
        "system.methodExist",
        "system.methodHelp",
        "system.methodSignature",
        "system.capabilities",
        "system.getCapabilities",
    }
)


def is_read_call(name: str) -> bool:
    """``one.vm.info``, ``one.vmpool.info``, ``system.listMethods``...: answered from the
    database by any node. Everything else (allocate, actions, ``system.multicall``,
    ``system.shutdown``) changes state and goes to the leader."""
    if name.startswith("system."):
        return name in _READ_SYSTEM
    return name.rsplit(".", 1)[-1] in _READ_TAILS


def refusal(leader: str | None, endpoint: str | None) -> str:
    """``not the leader: <node> at <endpoint>`` (or ``... : no leader elected yet``)."""
    if not leader:
        return f"{NOT_LEADER}: no leader elected yet"
    return f"{NOT_LEADER}: {leader} at {endpoint}"
