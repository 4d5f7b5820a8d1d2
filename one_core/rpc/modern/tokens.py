"""Login tokens of ``one.user.login``, stored in the ``login_token`` table.

A token is a random secret a user gets with ``one.user.login``; until it
expires ``user:token`` is a valid session of the modern dialect (never of the
1.4 one). ``expires`` is a Unix time, or ``-1`` for a token that never expires.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import peewee

from one_core import db
from one_core.db import register_models
from one_core.db.base import BaseModel

NEVER = -1


class TokenRow(BaseModel):
    """``login_token``: one row per issued token."""

    token = peewee.TextField(primary_key=True)
    uid = peewee.IntegerField(index=True)
    expires = peewee.BigIntegerField()
    egid = peewee.IntegerField(default=-1)

    class Meta:
        table_name = "login_token"


register_models(TokenRow)


@dataclass(frozen=True, slots=True)
class Token:
    """One live token."""

    token: str
    uid: int
    expires: int
    egid: int


def _live(now: int) -> peewee.Expression:
    return (TokenRow.expires == NEVER) | (TokenRow.expires > now)


def issue(uid: int, valid_secs: int, egid: int = -1, token: str = "") -> Token:
    """Store ``token`` (a new random one when empty) for ``uid``, valid ``valid_secs``
    seconds (``-1``: forever); replaces an earlier row with the same token."""
    value = token or secrets.token_hex(32)
    expires = NEVER if valid_secs == -1 else int(time.time()) + valid_secs
    with db.writer():
        TokenRow.delete().where(TokenRow.token == value).execute()
        TokenRow.insert(token=value, uid=uid, expires=expires, egid=egid).execute()
    return Token(value, uid, expires, egid)


def revoke(uid: int, token: str = "") -> int:
    """Delete ``uid``'s token ``token`` (every token of ``uid`` when empty); returns the count."""
    query = TokenRow.delete().where(TokenRow.uid == uid)
    if token:
        query = query.where(TokenRow.token == token)
    with db.writer():
        return int(query.execute())


def owner(token: str) -> int | None:
    """The uid a live token belongs to, or None."""
    row = (
        TokenRow.select(TokenRow.uid)
        .where((TokenRow.token == token) & _live(int(time.time())))
        .first()
    )
    return None if row is None else int(row.uid)


def of_user(uid: int) -> list[Token]:
    """``uid``'s live tokens, oldest expiry first (``LOGIN_TOKEN`` of the USER document)."""
    rows = (
        TokenRow.select()
        .where((TokenRow.uid == uid) & _live(int(time.time())))
        .order_by(TokenRow.expires)
    )
    return [Token(r.token, r.uid, r.expires, r.egid) for r in rows]
