"""Errors the engine's public calls raise; the message is 1.4's RPC text."""

from __future__ import annotations

from one_core.errors import OneError


class EngineError(OneError):
    """A request was refused; ``message`` is what the RPC answers."""

    def __init__(self, message: str, code: int = -1):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


NO_VM = "Virtual machine does not exist"
WRONG_STATE = "Wrong state to perform action"
UNKNOWN_ACTION = "Unknown action"


class ActionError(EngineError):
    """``one.vm.action`` result codes: −1 no VM, −2 wrong state, −3 unknown action."""

    MESSAGES = {-1: NO_VM, -2: WRONG_STATE, -3: UNKNOWN_ACTION}

    def __init__(self, code: int, message: str | None = None):
        super().__init__(message or self.MESSAGES.get(code, WRONG_STATE), code)


class CapabilityError(EngineError):
    """The VM's driver cannot do what was asked (``driver ec2 cannot save``)."""
