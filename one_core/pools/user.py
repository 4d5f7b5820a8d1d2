"""The user pool: users, SHA1 sessions, oneadmin bootstrap, USER / USER_POOL documents.

Behaviour: ``spec/templates-scheduler-vnets-cli.md`` §5 and ``spec/xmlrpc-api.md``
§2, §7, §9.7-9.8. Users live in memory (``known_users``), written through to
``user_pool``; :meth:`UserPool.authenticate` is a dict lookup and a string compare.

Strict mode (``API_SECURITY = "strict"``, docs/security.md): ``hash_passwords``
stores what the client sends (the SHA-1 of the password, so 1.4 sessions keep
working) salted and slow-hashed (scrypt, :func:`hash_secret`); rows still holding
a bare SHA-1 are rehashed at their first successful login. Verified sessions are
remembered (keyed by an HMAC of the session) so only the first call of a session
pays for scrypt. ``guard`` (a :class:`~one_core.rpc.security.LoginGuard`)
rate-limits failed logins. Hashed rows are verified in 1.4 mode too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pwd
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from one_core.db.models import UserRow
from one_core.pools import IdCounter, fast_insert, fast_update, pool_write, xml_text

log = logging.getLogger("one.ONE")


def sha1_hex(text: str | bytes) -> str:
    """40 lower-case hex digits of SHA-1 (1.4's ``sha1_digest``)."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return hashlib.sha1(data).hexdigest()


SCRYPT_PREFIX = "scrypt$"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` of ``secret``."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode("utf-8", "surrogateescape"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=32,
    )
    return f"{SCRYPT_PREFIX}{SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def is_hashed(stored: str) -> bool:
    return stored.startswith(SCRYPT_PREFIX)


def verify_secret(stored: str, secret: str) -> bool:
    """Whether ``secret`` matches ``stored`` (a scrypt hash, or 1.4's bare SHA-1)."""
    if not is_hashed(stored):
        return hmac.compare_digest(
            stored.encode("utf-8", "surrogateescape"), secret.encode("utf-8", "surrogateescape")
        )
    try:
        n, r, p, salt, digest = stored[len(SCRYPT_PREFIX) :].split("$")
        got = hashlib.scrypt(
            secret.encode("utf-8", "surrogateescape"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


class BootstrapError(Exception):
    """oneadmin could not be created from ONE_AUTH (the message is 1.4's log line)."""


@dataclass(slots=True)
class User:
    """One user."""

    oid: int
    name: str
    password: str
    enabled: bool = True

    def to_xml(self) -> str:
        """Body of ``one.user.info``: ``ENABLED`` is ``1``/``0``."""
        return (
            f"<USER><ID>{self.oid}</ID><NAME>{xml_text(self.name)}</NAME>"
            f"<PASSWORD>{xml_text(self.password)}</PASSWORD>"
            f"<ENABLED>{1 if self.enabled else 0}</ENABLED></USER>"
        )

    def to_pool_xml(self) -> str:
        """Entry of ``one.userpool.info``: ``ENABLED`` is ``True``/``Fase`` (sic, X6)."""
        return (
            f"<USER><ID>{self.oid}</ID><NAME>{xml_text(self.name)}</NAME>"
            f"<PASSWORD>{xml_text(self.password)}</PASSWORD>"
            f"<ENABLED>{'True' if self.enabled else 'Fase'}</ENABLED></USER>"
        )


def one_auth_path() -> str:
    """``$ONE_AUTH`` if set, else ``<home of the running uid>/.one/one_auth`` (§2.3)."""
    env = os.environ.get("ONE_AUTH")
    if env is not None:
        return env
    try:
        home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        raise BootstrapError("Could not get one_auth file location") from None
    return os.path.join(home, ".one", "one_auth")


def read_one_auth(path: str) -> tuple[str, str]:
    """First line of the credentials file split at the first ``:`` → ``(name, plain)``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        raise BootstrapError(f"Cloud not open file: {path}") from None
    if not data:
        raise BootstrapError(f"Error reading file: {path}")
    line = data.split(b"\n", 1)[0]
    if b":" not in line:
        raise BootstrapError("Wrong format must be <username>:<password>")
    name, _, plain = line.partition(b":")
    return name.decode("utf-8", "surrogateescape"), plain.decode("utf-8", "surrogateescape")


class UserPool:
    """All users, in memory and in ``user_pool``."""

    hash_passwords: bool = False
    """Strict mode: store passwords salted and scrypt-hashed."""
    guard: Any = None
    """Strict mode: a :class:`~one_core.rpc.security.LoginGuard`."""
    MAX_SESSIONS = 10_000

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._session_key = secrets.token_bytes(32)
        self._verified: dict[bytes, tuple[int, str]] = {}
        self._by_id: dict[int, User] = {}
        self._by_name: dict[str, User] = {}
        self._pool_xml: str | None = None
        for row in UserRow.select().order_by(UserRow.oid):
            u = User(row.oid, row.user_name, row.password, bool(row.enabled))
            self._by_id[u.oid] = u
            self._by_name[u.name] = u
        self._ids = IdCounter(max(self._by_id) if self._by_id else None)

    # -- bootstrap ---------------------------------------------------------

    def bootstrap(self, path: str | None = None) -> User | None:
        """Create uid 0 from the ONE_AUTH file when the pool is empty (§2.3).

        :returns: the new user, or None when the pool already had users.
        :raises BootstrapError: with 1.4's log message.
        """
        if self._by_id:
            return None
        name, plain = read_one_auth(path if path is not None else one_auth_path())
        uid = self.allocate(name, sha1_hex(plain))
        return self._by_id[uid]

    # -- queries -------------------------------------------------------------

    def authenticate(self, session: str) -> int:
        """The uid of an enabled user whose stored password matches the secret, else −1.

        Strict mode rehashes a bare SHA-1 row here, in the caller, by
        :meth:`store_rehash` (tools, tests); oned's API goes through
        :meth:`one_core.pools.writes.PoolWrites.authenticate`, which stores it on the
        dispatcher, the pools' one writer.
        """
        uid, rehash = self.verify(session)
        if rehash is not None:
            self.store_rehash(uid, *rehash)
        return uid

    def verify(self, session: str) -> tuple[int, tuple[str, str] | None]:
        """Check a session without writing anything: ``(uid or −1, rehash)``.

        ``rehash`` is ``(stored, new)`` when strict mode wants the row's bare SHA-1
        ``stored`` replaced by its salted hash ``new`` (:meth:`store_rehash`), else None.
        """
        name, sep, secret = session.partition(":")
        if not sep:
            return -1, None
        user = self._by_name.get(name)
        fast = self.guard is None and not self.hash_passwords
        if fast and user is not None and user.enabled and user.password == secret:
            return user.oid, None  # 1.4 mode, bare SHA-1: a string compare
        key = hmac.digest(self._session_key, session.encode("utf-8", "surrogateescape"), "sha256")
        seen = self._verified.get(key)
        if (
            seen is not None
            and user is not None
            and user.enabled
            and seen == (user.oid, user.password)
        ):
            return user.oid, None
        guard = self.guard
        if guard is not None and not guard.allow(name):
            return -1, None
        if user is None or not user.enabled or not verify_secret(user.password, secret):
            if guard is not None:
                guard.failed(name)
            return -1, None
        if guard is not None:
            guard.succeeded(name)
        if self.hash_passwords and not is_hashed(user.password):
            return user.oid, (user.password, hash_secret(secret))  # remembered once stored
        if len(self._verified) >= self.MAX_SESSIONS:
            self._verified.clear()
        self._verified[key] = (user.oid, user.password)
        return user.oid, None

    def store_rehash(self, uid: int, stored: str, new: str) -> bool:
        """Replace user ``uid``'s password ``stored`` by ``new`` (its salted hash); a
        password changed meanwhile is left alone. Whether it was replaced."""
        with pool_write(self._lock):
            user = self._by_id.get(uid)
            if user is None or user.password != stored:
                return False
            fast_update(UserRow, uid, {"password": new})
            user.password = new
            self._pool_xml = None
            return True

    def get(self, uid: int) -> User | None:
        return self._by_id.get(uid)

    def by_name(self, name: str) -> User | None:
        return self._by_name.get(name)

    def name_of(self, uid: int) -> str:
        """The user's name, ``""`` for a deleted user (decision X3)."""
        u = self._by_id.get(uid)
        return u.name if u is not None else ""

    def __len__(self) -> int:
        return len(self._by_id)

    def users(self) -> list[User]:
        """All users by ascending id."""
        return [self._by_id[k] for k in sorted(self._by_id)]

    def pool_xml(self) -> str:
        """Body of ``one.userpool.info``."""
        cached = self._pool_xml
        if cached is None:
            with self._lock:
                cached = (
                    "<USER_POOL>" + "".join(u.to_pool_xml() for u in self.users()) + "</USER_POOL>"
                )
                self._pool_xml = cached
        return cached

    # -- changes -------------------------------------------------------------

    def allocate(self, name: str, password: str, enabled: bool = True) -> int:
        """Insert a user; returns its uid. Raises ``ValueError`` for a known name."""
        with pool_write(self._lock):
            if name in self._by_name:
                raise ValueError("Existing user, cannot duplicate")
            uid = self._ids.take()
            if self.hash_passwords and not is_hashed(password):
                password = hash_secret(password)
            try:
                fast_insert(
                    UserRow,
                    {"oid": uid, "user_name": name, "password": password, "enabled": int(enabled)},
                )
            except Exception:
                self._ids.give_back(uid)
                raise
            u = User(uid, name, password, enabled)
            self._by_id[uid] = u
            self._by_name[name] = u
            self._pool_xml = None
            return uid

    def delete(self, uid: int) -> None:
        """Remove a user (its VMs and networks are not touched)."""
        with pool_write(self._lock):
            u = self._by_id[uid]
            UserRow.delete().where(UserRow.oid == uid).execute()
            del self._by_id[uid]
            self._by_name.pop(u.name, None)
            self._pool_xml = None
