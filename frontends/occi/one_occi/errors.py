"""HTTP errors of occi-server: a status and a plain-text message (spec cloud-apis §5.1)."""

from __future__ import annotations

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    501: "Not Implemented",
}


class OcciError(Exception):
    """Answer ``status`` with ``message`` as a text/plain body."""

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


def bad_request(message: str) -> OcciError:
    return OcciError(400, message)


def malformed(detail: str) -> OcciError:
    """§7 #44: an unparsable body or a wrong root element."""
    return OcciError(400, f"Malformed OCCI XML: {detail}")


def unauthorized() -> OcciError:
    """§5.2 plus §7 #40's ``WWW-Authenticate``."""
    return OcciError(401, "Invalid credentials", [("WWW-Authenticate", 'Basic realm="OpenNebula"')])


def forbidden(kind: str, rid: int | str) -> OcciError:
    """The guide's rule 3: a normal user acts on another user's entry resource."""
    return OcciError(403, f"User not authorized to perform operation upon {kind} [{rid}]")


def not_found(message: str = "Resource not found") -> OcciError:
    return OcciError(404, message)
