"""Talking to oned: logins (tokens) and the calls the pages make, over XML-RPC.

The dashboard uses oned's modern dialect (``/RPC2/modern``, docs/modern-api.md):
it logs in with the user's password once, gets a login token
(``one.user.login``) and keeps only ``user:token`` in the session, so the
password is never stored; every later call is made with that session, so oned
decides what the user may see and do (the API's permissions are the
dashboard's). Documents come back parsed (:mod:`one_web.documents`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from xml.etree.ElementTree import Element

from one_core.api import Client, OneClientError, OneTransportError, safe_fromstring

__all__ = ["OneClientError", "OneTransportError", "Oned", "Session"]


class Session:
    """Calls made as one logged-in user (``user:token``)."""

    def __init__(self, client: Client):
        self.client = client

    def call(self, method: str, *params: Any) -> Any:
        """``method`` with the session first; the value, or :class:`OneClientError`."""
        return self.client.call(method, *params)

    def doc(self, method: str, *params: Any) -> Element:
        """A call answering an XML document, parsed."""
        return safe_fromstring(str(self.call(method, *params)).encode("utf-8"))


class Oned:
    """oned at ``endpoint``; :meth:`session` reuses one client (and its connections) per login."""

    def __init__(self, endpoint: str, timeout: float = 30.0, max_clients: int = 256):
        self.endpoint = endpoint
        self.timeout = timeout
        self.max_clients = max_clients
        self._clients: OrderedDict[str, Client] = OrderedDict()
        self._lock = threading.Lock()

    def _client(self, session: str) -> Client:
        return Client(session=session, endpoint=self.endpoint, timeout=self.timeout)

    def login(self, user: str, password: str, seconds: int) -> tuple[str, int]:
        """Check ``user``'s password and get a login token valid ``seconds``; ``(token, uid)``.

        :raises OneClientError: wrong user or password (oned's message), oned unreachable.
        """
        client = self._client(f"{user}:{password}")
        try:
            token = str(client.call("one.user.login", user, "", seconds, -1))
            me = safe_fromstring(str(client.call("one.user.info", -1)).encode())
            uid = int(me.findtext("ID") or -1)
        finally:
            client.close()
        return token, uid

    def logout(self, user: str, token: str) -> None:
        """Revoke the login token (``valid = 0``); forget its client."""
        session = f"{user}:{token}"
        try:
            self.session(user, token).call("one.user.login", user, token, 0, -1)
        finally:
            with self._lock:
                client = self._clients.pop(session, None)
            if client is not None:
                client.close()

    def session(self, user: str, token: str) -> Session:
        """The calls of ``user`` logged in with ``token``."""
        key = f"{user}:{token}"
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._client(key)
                while len(self._clients) > self.max_clients:
                    self._clients.popitem(last=False)[1].close()
            else:
                self._clients.move_to_end(key)
        return Session(client)
