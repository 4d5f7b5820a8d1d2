"""Error codes of the modern dialect and the exception its methods raise.

Modern oned answers every call with ``[ok, value, error_code]``; ``error_code``
is one of the bit values below (``include/Request.h`` of current OpenNebula).
pyone maps them onto its exceptions: 0x0100 ``OneAuthenticationException``,
0x0200 ``OneAuthorizationException``, 0x0400 ``OneNoExistsException``, 0x0800
``OneActionException``, 0x1000 ``OneApiException``, 0x2000 ``OneInternalException``.
"""

from __future__ import annotations

SUCCESS = 0x0000
AUTHENTICATION = 0x0100
AUTHORIZATION = 0x0200
NO_EXISTS = 0x0400
ACTION = 0x0800
XML_RPC_API = 0x1000
INTERNAL = 0x2000
ALLOCATE = 0x4000
LOCKED = 0x8000

UNSUPPORTED = "not supported by this server"
"""The tail of every message about something this server does not have."""


class ApiError(Exception):
    """A handled failure: the call answers ``[False, message, code]``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def not_supported(what: str, code: int = XML_RPC_API) -> ApiError:
    """``<what> is not supported by this server`` (0x1000 by default)."""
    return ApiError(code, f"{what} is {UNSUPPORTED}")
