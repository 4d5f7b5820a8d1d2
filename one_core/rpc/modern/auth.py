"""Sessions of the modern dialect: ``user:plain-password`` or ``user:login-token``.

Passwords are stored as 1.4 stores them (``sha1(password)``, hex). Today's
clients send the plain password, so this dialect hashes what it gets and
compares: :func:`password_matches` is the ONE place that knows how a stored
password is checked (swap it when the storage changes), :func:`hash_password`
the one place that makes what is stored.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from one_core.pools.user import User, sha1_hex
from one_core.rpc.modern import tokens

if TYPE_CHECKING:
    from one_core.daemon.core import Core


def hash_password(plain: str) -> str:
    """What the user pool stores for the password ``plain``."""
    return sha1_hex(plain)


def password_matches(stored: str, plain: str) -> bool:
    """Whether ``plain`` is the password whose stored form is ``stored`` (constant time)."""
    return hmac.compare_digest(stored.encode(), hash_password(plain).encode())


def authenticate(core: Core, session: str) -> User | None:
    """The enabled user the session belongs to, or None.

    The secret is the user's plain password or one of the user's live login tokens.
    """
    name, sep, secret = session.partition(":")
    if not sep or not secret:
        return None
    user = core.users.by_name(name)
    if user is None or not user.enabled:
        return None
    if password_matches(user.password, secret) or tokens.owner(secret) == user.oid:
        return user
    return None
