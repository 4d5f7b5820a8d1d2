"""one.user.* and one.userpool.info against a real oned (spec xmlrpc-api §7, §9.7-9.8)."""

from __future__ import annotations

import hashlib

ONEADMIN_SESSION = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()

ADMIN_PW = hashlib.sha1(b"onepass").hexdigest()


def sha1(s: str) -> str:
    return hashlib.sha1(s.encode()).hexdigest()


def test_bootstrap_user_is_uid0_with_sha1_password(oned):
    assert oned.call("one.user.info", ONEADMIN_SESSION, 0) == [
        True,
        f"<USER><ID>0</ID><NAME>oneadmin</NAME><PASSWORD>{ADMIN_PW}</PASSWORD>"
        "<ENABLED>1</ENABLED></USER>",
    ]


def test_userpool_info_initial_and_after_allocations(oned):
    assert oned.call("one.userpool.info", ONEADMIN_SESSION) == [
        True,
        f"<USER_POOL><USER><ID>0</ID><NAME>oneadmin</NAME><PASSWORD>{ADMIN_PW}</PASSWORD>"
        "<ENABLED>True</ENABLED></USER></USER_POOL>",
    ]
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", sha1("pass1")) == [True, 1]
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user2", sha1("pass2")) == [True, 2]
    ok, body = oned.call("one.userpool.info", ONEADMIN_SESSION)
    assert ok is True
    assert body == (
        f"<USER_POOL><USER><ID>0</ID><NAME>oneadmin</NAME><PASSWORD>{ADMIN_PW}</PASSWORD>"
        "<ENABLED>True</ENABLED></USER>"
        f"<USER><ID>1</ID><NAME>user1</NAME><PASSWORD>{sha1('pass1')}</PASSWORD>"
        "<ENABLED>True</ENABLED></USER>"
        f"<USER><ID>2</ID><NAME>user2</NAME><PASSWORD>{sha1('pass2')}</PASSWORD>"
        "<ENABLED>True</ENABLED></USER></USER_POOL>"
    )


def test_user_allocate_errors(oned):
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", sha1("pass1")) == [True, 1]
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", "x") == [
        False,
        "Existing user, cannot duplicate",
    ]
    user1 = "user1:" + sha1("pass1")
    assert oned.call("one.user.allocate", user1, "user3", "x") == [
        False,
        "User not authorized to add new users",
    ]
    assert oned.call("one.user.allocate", "oneadmin:wrong", "user3", "x") == [
        False,
        "User not authorized to add new users",
    ]
    assert oned.call("one.user.allocate", "nocolon", "user3", "x") == [
        False,
        "User not authorized to add new users",
    ]
    # the failed calls did not consume ids, and the name is case-sensitive
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "USER1", "x") == [True, 2]


def test_password_stored_verbatim_and_used_for_sessions(oned):
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "plain", "secret:with:colons") == [
        True,
        1,
    ]
    # authenticates with the verbatim secret (split at the first colon only)
    assert oned.call("one.hostpool.info", "plain:secret:with:colons")[0] is True
    assert oned.call("one.hostpool.info", "plain:" + sha1("secret:with:colons")) == [
        False,
        "User not authenticated, RequestManagerHostPoolInfo aborted.",
    ]


def test_empty_names_accepted_colon_names_refused(oned):
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "", "x") == [True, 1]
    # 1.4 created "a:b", which could never log in (the session splits at the first ':')
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "a:b", "x") == [
        False,
        "User names cannot contain ':', cannot allocate user",
    ]


def test_user_info_errors(oned):
    user1 = "user1:" + sha1("pass1")
    oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", sha1("pass1"))
    assert oned.call("one.user.info", ONEADMIN_SESSION, 99) == [False, "Error getting user"]
    # a user cannot read even their own record (A5)
    assert oned.call("one.user.info", user1, 1) == [
        False,
        "User not authorized to retrieve user information",
    ]
    assert oned.call("one.user.info", ONEADMIN_SESSION, 1) == [
        True,
        f"<USER><ID>1</ID><NAME>user1</NAME><PASSWORD>{sha1('pass1')}</PASSWORD>"
        "<ENABLED>1</ENABLED></USER>",
    ]


def test_user_delete(oned):
    oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", sha1("pass1"))
    oned.call("one.user.allocate", ONEADMIN_SESSION, "user2", sha1("pass2"))
    user1 = "user1:" + sha1("pass1")
    # uid 0 is refused before authentication
    assert oned.call("one.user.delete", "nobody:x", 0) == [False, "User oneadmin cannot be deleted"]
    assert oned.call("one.user.delete", ONEADMIN_SESSION, 0) == [
        False,
        "User oneadmin cannot be deleted",
    ]
    assert oned.call("one.user.delete", user1, 2) == [False, "User not authorized to delete users"]
    assert oned.call("one.user.delete", ONEADMIN_SESSION, 7) == [False, "Error retrieving user 7"]
    assert oned.call("one.user.delete", ONEADMIN_SESSION, 2) == [True]
    assert oned.call("one.user.delete", ONEADMIN_SESSION, 2) == [False, "Error retrieving user 2"]
    assert oned.call("one.user.info", ONEADMIN_SESSION, 2) == [False, "Error getting user"]
    # the deleted user can no longer authenticate, the name is free again
    assert oned.call("one.hostpool.info", "user2:" + sha1("pass2"))[0] is False
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user2", "y") == [True, 3]


def test_userpool_info_not_admin(oned):
    oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", sha1("pass1"))
    assert oned.call("one.userpool.info", "user1:" + sha1("pass1")) == [
        False,
        "User not authorized to pull user pool info. Error code: 1",
    ]
    assert oned.call("one.userpool.info", "oneadmin:bad") == [
        False,
        "User not authorized to pull user pool info. Error code: -1",
    ]
    assert oned.call("one.userpool.info", "") == [
        False,
        "User not authorized to pull user pool info. Error code: -1",
    ]


def test_ids_continue_after_restart_and_highest_deleted_id_is_reused(oned):
    oned.call("one.user.allocate", ONEADMIN_SESSION, "user1", "a")
    oned.call("one.user.allocate", ONEADMIN_SESSION, "user2", "b")
    assert oned.call("one.user.delete", ONEADMIN_SESSION, 2) == [True]
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user3", "c") == [True, 3]
    oned.call("one.user.delete", ONEADMIN_SESSION, 3)
    oned.restart()
    # S10: counter = MAX(oid)+1 at start-up
    assert oned.call("one.user.allocate", ONEADMIN_SESSION, "user4", "d") == [True, 2]


def test_errors_are_logged_as_rem(oned):
    oned.call("one.user.info", ONEADMIN_SESSION, 99)
    oned.stop()
    assert "[ReM][E]: Error getting user" in oned.log()


def test_client_user_calls(client):
    uid = client.user_allocate("helen", "pw")
    assert uid == 1
    doc = client.user_info(uid)
    assert doc.tag == "USER"
    assert doc.findtext("PASSWORD") == sha1("pw")
    pool = client.userpool_info()
    assert [u.findtext("NAME") for u in pool.findall("USER")] == ["oneadmin", "helen"]
    client.user_delete(uid)
    import pytest

    from one_core.client import OneCallError

    with pytest.raises(OneCallError, match="Error retrieving user 1"):
        client.user_delete(uid)
