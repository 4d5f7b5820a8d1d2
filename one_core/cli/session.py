"""The seam between the CLI tools and the shared client (:mod:`one_core.client`).

Credentials and endpoint are exactly 1.4's (spec §6.1): ``$ONE_AUTH`` or ``~/.one/one_auth``,
``user:password`` sent as ``user:sha1(password)``; ``$ONE_XMLRPC`` or
``http://localhost:2633/RPC2``. The tools use only :func:`make_client` and :meth:`Client.call`:
``call("vm.info", 3)`` returns element 1 of a successful answer, and any failure (``[false,
msg]``, a fault, a transport problem) raises :class:`CallError` whose message is what 1.4 prints
after ``Error: ``.
"""

from __future__ import annotations

from one_core import client as one_client

sha1_hex = one_client.sha1_hex


class AuthFileError(Exception):
    """The credentials file is missing or malformed; ``str()`` is 1.4's message."""


class CallError(Exception):
    """An RPC answered ``[false, msg]``, faulted, or could not be sent."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Client:
    """Calls ``one.<method>`` through :class:`one_core.client.Client`."""

    def __init__(self, shared: one_client.Client):
        self.shared = shared

    @property
    def session(self) -> str:
        return self.shared.session

    def call(self, method: str, *args: object) -> object:
        """Call ``one.<method>(session, *args)``; element 1 on success, else :class:`CallError`."""
        try:
            return self.shared.call("one." + method, *args)
        except one_client.OneClientError as exc:
            raise CallError(exc.message) from None
        except Exception as exc:  # malformed answers: the tools print one line, no traceback
            text = str(exc).strip().splitlines()
            raise CallError(text[0] if text else type(exc).__name__) from None


def make_client() -> Client:
    """A client with the session and endpoint of the environment (raises AuthFileError)."""
    try:
        return Client(one_client.Client())
    except one_client.OneAuthError as exc:
        raise AuthFileError(exc.message) from None
