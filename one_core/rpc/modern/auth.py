"""Sessions of the modern dialect: ``user:plain-password`` or ``user:login-token``.

Today's clients send the plain password; 1.4 clients send ``sha1(password)``,
and that is what the user pool checks (and, in strict mode, stores salted and
scrypt-hashed, rate-limiting failures: :meth:`one_core.pools.user.UserPool.authenticate`).
So a plain-password session is turned into the 1.4 one (:func:`legacy_secret`)
and checked by the pool: there is one password check in oned, whatever the dialect.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from one_core.pools.user import User, sha1_hex
from one_core.rpc.modern import tokens

if TYPE_CHECKING:
    from one_core.daemon.core import Core

TOKEN_FORM = re.compile(r"[0-9a-f]{64}")
"""Every login token: 64 lower-case hex digits (only such secrets are looked up as tokens)."""


def legacy_secret(plain: str) -> str:
    """The secret a 1.4 client sends for the password ``plain`` (what the pool is given)."""
    return sha1_hex(plain)


def _token_user(core: Core, name: str, secret: str) -> User | None:
    user = core.users.by_name(name)
    if user is None or not user.enabled or tokens.owner(secret) != user.oid:
        return None
    return user


def authenticate(core: Core, session: str) -> User | None:
    """The enabled user the session belongs to, or None.

    The secret is the user's plain password or one of the user's live login tokens.
    """
    name, sep, secret = session.partition(":")
    if not sep or not secret:
        return None
    if TOKEN_FORM.fullmatch(secret):
        user = _token_user(core, name, secret)
        if user is not None:
            return user
    uid = core.writes.authenticate(f"{name}:{legacy_secret(secret)}")
    return core.users.get(uid) if uid >= 0 else None
