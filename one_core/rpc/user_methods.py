"""``one.user.*`` and ``one.userpool.info`` (``spec/xmlrpc-api.md`` §7)."""

from __future__ import annotations

from typing import Any

from one_core.rpc.registry import Request, method, ok


@method("one.user.allocate", "A:sss", "Creates a new user")
def user_allocate(rq: Request, username: str, password: str) -> list[Any]:
    if rq.authenticate() != 0:
        return rq.fail("User not authorized to add new users")
    if ":" in username:  # 1.4 created it, but the session "name:secret" could never match
        return rq.fail("User names cannot contain ':', cannot allocate user")
    users = rq.core.users
    if users.by_name(username) is not None:
        return rq.fail("Existing user, cannot duplicate")
    try:
        uid = rq.core.writes.user_allocate(username, password)
    except ValueError:
        return rq.fail("Existing user, cannot duplicate")
    except Exception:  # decision R3: DB failure is an error, not [true, -1]
        return rq.fail("Error allocating user")
    return ok(uid)


@method("one.user.info", "A:si", "Returns the Info of the user")
def user_info(rq: Request, uid: int) -> list[Any]:
    if rq.authenticate() != 0:
        return rq.fail("User not authorized to retrieve user information")
    user = rq.core.users.get(uid)
    if user is None:
        return rq.fail("Error getting user")
    return ok(user.to_xml())


@method("one.user.delete", "A:si", "Deletes a user account")
def user_delete(rq: Request, uid: int) -> list[Any]:
    if uid == 0:
        return rq.fail("User oneadmin cannot be deleted")
    if rq.authenticate() != 0:
        return rq.fail("User not authorized to delete users")
    users = rq.core.users
    if users.get(uid) is None:
        return rq.fail(f"Error retrieving user {uid}")
    try:
        rq.core.writes.user_delete(uid)
    except Exception:
        return rq.fail(f"Error deleting user {uid}")
    return ok()


@method("one.userpool.info", "A:s", "Creates a new user")  # sic (S17)
def userpool_info(rq: Request) -> list[Any]:
    rc = rq.authenticate()
    if rc != 0:
        return rq.fail(f"User not authorized to pull user pool info. Error code: {rc}")
    return ok(rq.core.users.pool_xml())
