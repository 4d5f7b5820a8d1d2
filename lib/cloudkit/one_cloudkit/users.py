"""User look-up through oned for the cloud servers (spec cloud-apis §1.4).

As 1.4: ``one.userpool.info`` with the admin session (``USER:sha1hex(PASSWORD)``),
then the user whose NAME equals the given name exactly (econe: the access
key; OCCI: the HTTP Basic user). The pool is cached
for ``ttl`` seconds (§7 #42 allows a few seconds); an unknown name refreshes
it at once. Admin authentication failures are logged (1.4 was silent).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from one_core.client import Client, OneClientError, sha1_hex

log = logging.getLogger("one.cloud")


@dataclass(frozen=True)
class CloudUser:
    """An OpenNebula user as the cloud server sees it; ``password`` is the stored SHA-1 hex."""

    id: int
    name: str
    password: str

    @property
    def session(self) -> str:
        """The session string oned calls are made with: ``name:sha1hex``."""
        return f"{self.name}:{self.password}"


class UserDirectory:
    """Finds users by name with a short-lived cache of the user pool."""

    def __init__(self, endpoint: str, admin_user: str, admin_password: str, ttl: float = 2.0):
        self.endpoint = endpoint
        self.admin = Client(session=f"{admin_user}:{sha1_hex(admin_password)}", endpoint=endpoint)
        self.ttl = ttl
        self._users: dict[str, CloudUser] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            pool = self.admin.userpool_info()
        except OneClientError as exc:
            log.error("Can not get the user pool from oned (check USER/PASSWORD): %s", exc)
            self._users = {}
            self._loaded = time.monotonic()
            return
        users: dict[str, CloudUser] = {}
        for node in pool.findall("USER"):  # type: ignore[union-attr]
            name = node.findtext("NAME") or ""
            users.setdefault(
                name,
                CloudUser(
                    id=int(node.findtext("ID") or -1),
                    name=name,
                    password=node.findtext("PASSWORD") or "",
                ),
            )
        self._users = users
        self._loaded = time.monotonic()

    def get(self, name: str | None) -> CloudUser | None:
        """The user called ``name`` (case-sensitive), or None."""
        if not name:
            return None
        with self._lock:
            fresh = time.monotonic() - self._loaded < self.ttl
            user = self._users.get(name) if fresh else None
            if user is None:
                self._refresh()
                user = self._users.get(name)
            return user

    def client(self, user: CloudUser) -> Client:
        """An XML-RPC client acting as ``user``."""
        return Client(session=user.session, endpoint=self.endpoint)
