"""EC2-style errors (spec cloud-apis §3.11, §7 #7, §8.3 item 4).

Every failure is answered with the XML document botocore parses into a
``ClientError`` and the 1.4 amazon-ec2 gem parses into an exception named by
``Code``, with 1.4's HTTP status and 1.4's message as ``Message``::

    <?xml version="1.0" encoding="UTF-8"?>
    <Response><Errors><Error><Code>AuthFailure</Code><Message>Invalid credentials</Message>
    </Error></Errors><RequestID>...</RequestID></Response>
"""

from __future__ import annotations

from xml.sax.saxutils import escape


class EC2Error(Exception):
    """An error answer: HTTP ``status``, EC2 ``code`` (``[A-Z][A-Za-z0-9.]*``), ``message``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def document(self, request_id: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{escape(self.code)}</Code>"
            f"<Message>{escape(self.message)}</Message></Error></Errors>"
            f"<RequestID>{escape(request_id)}</RequestID></Response>"
        ).encode()


def auth_failure(message: str = "Invalid credentials") -> EC2Error:
    """401 ``AuthFailure``: unknown user, bad signature (1.4's ``Invalid credentials``)."""
    return EC2Error(401, "AuthFailure", message)


def request_expired(message: str) -> EC2Error:
    """400 ``RequestExpired``: Timestamp/X-Amz-Date outside the window, or past ``Expires``."""
    return EC2Error(400, "RequestExpired", message)


def invalid_action(action: str | None) -> EC2Error:
    """400 ``InvalidAction`` (1.4 answered 200 with an empty body, §7 #6)."""
    if not action:
        return EC2Error(400, "MissingAction", "The request must contain the parameter Action")
    return EC2Error(400, "InvalidAction", f"The action {action} is not valid for this web service.")


def not_found() -> EC2Error:
    """404 for any path but ``/`` (1.4: Sinatra's not-found page)."""
    return EC2Error(404, "InvalidURI", "Not Found")


def method_not_allowed(method: str) -> EC2Error:
    return EC2Error(405, "UnsupportedHttpVerb", f"The HTTP verb {method} is not supported")


def bad_request(message: str, code: str = "InvalidParameterValue") -> EC2Error:
    return EC2Error(400, code, message)


def opennebula_error(message: str, status: int = 401) -> EC2Error:
    """An oned failure: 1.4 answered 401 with oned's message (§7 #8, kept)."""
    return EC2Error(status, "OpenNebulaError", message)
