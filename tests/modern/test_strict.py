"""The modern dialect under ``API_SECURITY = "strict"``: passwords stored salted and
scrypt-hashed, failed logins rate-limited — one password check for both dialects."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyone
import pytest

from one_core.testing.oned import ONEADMIN_PASSWORD, OnedProcess

from .helpers import connect


@pytest.fixture
def strict_oned(oned_factory: Callable[..., OnedProcess]) -> OnedProcess:
    return oned_factory(API_SECURITY='"strict"')


def test_plain_passwords_against_hashed_storage(strict_oned: OnedProcess) -> None:
    one = connect(strict_oned)
    uid = one.user.allocate("dora", "explorer", "core", [])
    assert one.user.info(uid).PASSWORD.startswith("scrypt$")
    assert connect(strict_oned, "dora:explorer").user.info(-1).NAME == "dora"
    legacy = "dora:" + hashlib.sha1(b"explorer").hexdigest()
    assert strict_oned.call("one.hostpool.info", legacy)[0] is True  # the 1.4 wire too
    token = one.user.login("oneadmin", "", 60, -1)
    assert connect(strict_oned, f"oneadmin:{token}").system.version() == "7.4.0"


def test_failed_logins_lock_out_on_both_dialects(strict_oned: OnedProcess) -> None:
    for _ in range(6):
        with pytest.raises(pyone.OneAuthenticationException):
            connect(strict_oned, "oneadmin:wrong").system.version()
    with pytest.raises(pyone.OneAuthenticationException):  # locked out, even the right one
        connect(strict_oned, f"oneadmin:{ONEADMIN_PASSWORD}").system.version()
