"""Exceptions shared by the core and the drivers."""

from __future__ import annotations


class OneError(Exception):
    """Base class of every error raised on purpose by OpenNebula-py."""


class MessageError(OneError):
    """A :class:`OneError` made of one message: ``message`` is the text to show, its ``str()``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DriverError(MessageError):
    """A driver action failed.

    The message is what 1.4 would have sent as the FAILURE text of the driver
    reply: the core writes it to the VM log (``vm.log``) and drives the state
    machine to the failure transition of the action.

    ``stderr`` carries the remote command's standard error when the failure
    came from a command run on a host (SSH drivers), so operators see the
    real cause.
    """

    def __init__(self, message: str, *, stderr: str = "", exit_code: int | None = None):
        super().__init__(message)
        self.stderr = stderr
        self.exit_code = exit_code


class DriverLoadError(OneError):
    """A driver named in oned.conf cannot be found, imported or validated."""


class ConfigError(OneError):
    """oned.conf (or a driver defaults file) is malformed."""


class DatabaseFailure(OneError):
    """An event could not be committed because the database failed (the cause is
    chained); nothing of it happened. Callers waiting on the event get this, and
    an API call answers it as a refusal (``[false, "database error, nothing changed: ..."]``)."""
