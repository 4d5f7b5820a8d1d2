"""Errors of the modern dialect as pyone sees them: each code becomes its exception."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pyone
import pytest

from one_core.testing.oned import ONEADMIN_PASSWORD, OnedProcess

from .helpers import VM_TEMPLATE, connect


@pytest.fixture
def alice(one: Any, oned: OnedProcess) -> Any:
    """A second user with a VM of oneadmin's in the pool."""
    one.user.allocate("alice", "wonder", "core", [])
    one.vm.allocate(VM_TEMPLATE.format(name="admins"), False)
    return connect(oned, "alice:wonder")


def test_wrong_password_is_an_authentication_error(oned: OnedProcess) -> None:
    for session in ("oneadmin:wrong", "nobody:onepass", "oneadmin:", "oneadmin"):
        with pytest.raises(pyone.OneAuthenticationException, match="couldn't be authenticated"):
            connect(oned, session).vmpool.info(-2, -1, -1, -1)


def test_the_1_4_hashed_secret_is_not_a_session_here(oned: OnedProcess) -> None:
    hashed = hashlib.sha1(ONEADMIN_PASSWORD.encode()).hexdigest()
    with pytest.raises(pyone.OneAuthenticationException):
        connect(oned, f"oneadmin:{hashed}").system.version()
    assert oned.call("one.userpool.info", f"oneadmin:{hashed}")[0] is True  # 1.4 wire: yes


def test_another_users_vm_is_an_authorization_error(alice: Any) -> None:
    with pytest.raises(pyone.OneAuthorizationException, match=r"User \[1\] : Not authorized"):
        alice.vm.info(0)
    with pytest.raises(pyone.OneAuthorizationException):
        alice.vm.action("terminate", 0)
    with pytest.raises(pyone.OneAuthorizationException):
        alice.host.allocate("h", "im_dummy", "vmm_dummy", -1)
    with pytest.raises(pyone.OneAuthorizationException):
        alice.user.info(0)
    assert alice.user.info(-1).NAME == "alice"
    assert [u.NAME for u in alice.userpool.info().USER] == ["alice"]


def test_users_see_only_their_own_vms(one: Any, alice: Any) -> None:
    mine = alice.vm.allocate(VM_TEMPLATE.format(name="alices"))
    assert [v.ID for v in alice.vmpool.info(-2, -1, -1, -1).VM] == [mine]
    assert [v.ID for v in alice.vmpool.info(0, -1, -1, -1).VM] == []
    assert [v.ID for v in one.vmpool.info(1, -1, -1, -1).VM] == [mine]
    assert alice.vm.info(mine).UNAME == "alice"
    assert alice.vm.info(mine).GNAME == "users"
    assert alice.vm.action("terminate", mine) == mine


def test_missing_objects_are_no_exists_errors(one: Any) -> None:
    for call, args in (
        (one.vm.info, (42,)),
        (one.vm.action, ("terminate", 42)),
        (one.host.info, (42,)),
        (one.host.delete, (42,)),
        (one.vn.info, (42,)),
        (one.vn.delete, (42,)),
        (one.user.info, (42,)),
    ):
        with pytest.raises(pyone.OneNoExistsException, match=r"Error getting .* \[42\]"):
            call(*args)


def test_objects_this_server_lacks_are_a_clear_api_error(one: Any) -> None:
    with pytest.raises(pyone.OneApiException, match="Datastores are not supported by this server"):
        one.datastorepool.info()
    with pytest.raises(pyone.OneApiException, match="Images are not supported"):
        one.image.info(0)
    with pytest.raises(pyone.OneApiException, match="Groups are not supported"):
        one.group.allocate("devs")
    with pytest.raises(pyone.OneApiException, match="ACLs are not supported"):
        one.acl.info()
    with pytest.raises(pyone.OneActionException, match="not supported by this server"):
        one.vm.snapshotcreate(0, "snap")
    with pytest.raises(pyone.OneException, match="Method 'one.nothing.info' not defined"):
        one.nothing.info()  # not an OpenNebula family at all: xmlrpc-c's fault


def test_actions_without_a_1_4_life_cycle_and_wrong_states(one: Any) -> None:
    vid = one.vm.allocate(VM_TEMPLATE.format(name="v"), False)
    with pytest.raises(pyone.OneActionException, match='Action "reboot" is not supported'):
        one.vm.action("reboot", vid)
    with pytest.raises(pyone.OneActionException, match='Unknown action "explode"'):
        one.vm.action("explode", vid)
    with pytest.raises(pyone.OneActionException, match="Wrong state"):
        one.vm.action("poweroff", vid)  # PENDING
    with pytest.raises(pyone.OneActionException, match="Changing CPU"):
        one.vm.update(vid, "CPU = 4", 1)
    assert one.vm.info(vid).TEMPLATE["CPU"] == "1"


def test_bad_allocations_change_nothing(one: Any) -> None:
    with pytest.raises(pyone.OneException, match="Error parsing VM template"):
        one.vm.allocate("NAME = [", False)
    with pytest.raises(pyone.OneException, match="not supported by this server"):
        one.vn.allocate('NAME = "v6"\nAR = [ TYPE = "IP6", SIZE = 4 ]', -1)
    with pytest.raises(pyone.OneException, match="1 to 4096 addresses"):
        one.vn.allocate('NAME = "big"\nAR = [ TYPE = "IP4", IP = "10.0.0.1", SIZE = 5000 ]', -1)
    with pytest.raises(pyone.OneException, match="NAME is already taken"):
        one.vn.allocate('NAME = "a"\nTYPE = FIXED\nLEASES = [ IP = "10.0.0.1" ]', -1)
        one.vn.allocate('NAME = "a"\nTYPE = FIXED\nLEASES = [ IP = "10.0.0.2" ]', -1)
    assert [n.NAME for n in one.vnpool.info(-2, -1, -1).VNET] == ["a"]
    assert one.vmpool.info(-2, -1, -1, -2).VM == []


def test_login_tokens(one: Any, oned: OnedProcess) -> None:
    token = one.user.login("oneadmin", "", 60, -1)
    assert len(token) == 64
    assert connect(oned, f"oneadmin:{token}").system.version() == "7.4.0"
    assert [t.TOKEN for t in one.user.info(0).LOGIN_TOKEN] == [token]
    assert oned.call("one.userpool.info", f"oneadmin:{token}")[0] is False  # not a 1.4 session
    assert one.user.login("oneadmin", token, 0, -1) == token  # valid 0: revoke
    with pytest.raises(pyone.OneAuthenticationException):
        connect(oned, f"oneadmin:{token}").system.version()
    short = one.user.login("oneadmin", "", 1, -1)
    assert connect(oned, f"oneadmin:{short}").system.version() == "7.4.0"
    time.sleep(2.1)
    with pytest.raises(pyone.OneAuthenticationException):
        connect(oned, f"oneadmin:{short}").system.version()
    forever = one.user.login("oneadmin", "", -1, -1)
    assert one.user.info(0).LOGIN_TOKEN[0].EXPIRATION_TIME == -1
    assert connect(oned, f"oneadmin:{forever}").system.version() == "7.4.0"


def test_users_made_here_log_in_on_both_wires(one: Any, oned: OnedProcess) -> None:
    uid = one.user.allocate("bob", "secret", "core", [])
    assert one.user.info(uid).ENABLED == 1
    assert uid == connect(oned, "bob:secret").user.info(-1).ID
    hashed = hashlib.sha1(b"secret").hexdigest()
    assert oned.call("one.vmpool.info", f"bob:{hashed}", -1)[0] is True
    with pytest.raises(pyone.OneException, match="NAME is already taken"):
        one.user.allocate("bob", "other", "core", [])
    with pytest.raises(pyone.OneException, match="not supported"):
        one.user.allocate("carol", "x", "ldap", [])
    assert one.user.delete(uid) == uid
    with pytest.raises(pyone.OneAuthenticationException):
        connect(oned, "bob:secret").user.info(-1)
