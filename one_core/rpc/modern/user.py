"""``one.user.*`` and ``one.userpool.info`` of the modern dialect (the 1.4 user pool)."""

from __future__ import annotations

from typing import Any

from one_core.pools.user import User
from one_core.rpc.modern import errors, tokens
from one_core.rpc.modern.api import Call, api, unsupported
from one_core.rpc.modern.auth import TOKEN_FORM, legacy_secret
from one_core.rpc.modern.documents import group_of, user_xml
from one_core.rpc.modern.errors import ApiError, not_supported


def _user(call: Call, uid: int) -> User:
    user = call.core.users.get(uid)
    if user is None:
        raise call.missing("user", uid)
    return user


@api("one.user.allocate", "A:sss", "Creates a new user", optional="sA")
def user_allocate(
    call: Call, name: str, password: str, driver: str = "core", groups: list[Any] | None = None
) -> int:
    call.authorize("CREATE", "USER", -1)
    if driver not in ("", "core"):
        raise not_supported(f"Authentication driver {driver!r}", errors.ALLOCATE)
    if groups:
        raise not_supported("Choosing groups", errors.ALLOCATE)
    if not name or ":" in name or any(c.isspace() for c in name):
        raise ApiError(errors.ALLOCATE, f"Invalid user name {name!r}.")
    if not password:
        raise ApiError(errors.ALLOCATE, "The password cannot be empty.")
    if call.core.users.by_name(name) is not None:
        raise ApiError(errors.ALLOCATE, f"NAME is already taken by USER {name}.")
    try:
        return call.core.writes.user_allocate(name, legacy_secret(password))
    except ValueError as exc:
        raise ApiError(errors.ALLOCATE, str(exc)) from None


@api("one.user.info", "A:si", "Returns user information", optional="b")
def user_info(call: Call, uid: int, decrypt: bool = False) -> str:
    user = _user(call, call.uid if uid == -1 else uid)
    call.authorize("USE", "USER", user.oid, user.oid)
    return user_xml(user, tokens.of_user(user.oid))


@api("one.user.delete", "A:si", "Deletes a user")
def user_delete(call: Call, uid: int) -> int:
    _user(call, uid)
    call.authorize("ADMIN", "USER", uid)
    if uid == 0:
        raise ApiError(errors.ACTION, "User oneadmin cannot be deleted.")
    tokens.revoke(uid)
    call.core.writes.user_delete(uid)
    return uid


@api("one.user.login", "A:sssi", "Generates or sets a login token", optional="i")
def user_login(call: Call, name: str, token: str, valid: int, egid: int = -1) -> str:
    """``valid``: seconds the token lives, ``-1`` forever, ``0`` revokes ``token`` (every
    token of the user when empty). Returns the token."""
    user = call.core.users.by_name(name)
    if user is None:
        raise ApiError(errors.NO_EXISTS, f"Error getting user {name!r}.")
    call.authorize("MANAGE", "USER", user.oid, user.oid)
    if valid < -1:
        raise ApiError(errors.XML_RPC_API, f"Wrong valid period {valid}.")
    if token and not TOKEN_FORM.fullmatch(token):
        raise ApiError(errors.XML_RPC_API, "A token must be 64 lower-case hex digits.")
    if egid not in (-1, group_of(user.oid)[0]):
        raise not_supported("Effective groups", errors.ACTION)
    if valid == 0:
        tokens.revoke(user.oid, token)
        return token
    return tokens.issue(user.oid, valid, egid, token).token


@api("one.userpool.info", "A:s", "Returns the user pool")
def userpool_info(call: Call) -> str:
    users = call.core.users.users() if call.is_admin else [call.user]
    return (
        "<USER_POOL>" + "".join(user_xml(u, tokens.of_user(u.oid)) for u in users) + "</USER_POOL>"
    )


unsupported(
    [
        f"one.user.{m}"
        for m in ("passwd", "update", "chauth", "quota", "chgrp", "addgroup", "delgroup", "enable")
    ],
    "This user operation",
    errors.ACTION,
)
unsupported(["one.userquota.info", "one.userquota.update"], "Quotas")
