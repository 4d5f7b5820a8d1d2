"""oned's one SSH pool behind ``ctx.remote(host)`` (``one_core.remote_access``).

Drivers loaded together share one pool: the same host with the same SSH
settings is one connection; a driver section's ``SSH_*`` keys apply to that
driver's connections; stopping the drivers closes the pool. Against a real sshd.
"""

from __future__ import annotations

import pytest

from one_core.api import DriverError
from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.remote_access import SharedRemote


def test_drivers_share_one_pool_with_their_own_ssh_keys(sshd, tmp_path) -> None:
    good = {"SSH_USER": sshd.user, "SSH_PORT": str(sshd.port), "SSH_KEY": sshd.key_filename}
    bad = {**good, "SSH_PORT": "1"}
    drivers = load_drivers_from_specs(
        [
            DriverSpec("hm", "a", "exec", good),
            DriverSpec("hm", "b", "exec", good),
            DriverSpec("hm", "c", "exec", bad),
        ],
        var_dir=str(tmp_path),
    )
    a, b, c = (drivers.get("hm", name).ctx for name in "abc")
    assert drivers.remote is not None and not drivers.remote.started  # nothing imported yet
    handle = a.remote("127.0.0.1")
    assert b.remote("127.0.0.1") is handle  # same settings: one connection
    assert c.remote("127.0.0.1") is not handle
    assert handle.run(["printf", "%s", "a b"]).stdout == "a b"
    with pytest.raises(DriverError, match="cannot connect"):
        c.remote("127.0.0.1").run(["true"])
    assert handle.connection.is_connected
    drivers.stop()
    assert not drivers.remote.started
    assert not handle.connection.is_connected


def test_a_remote_factory_given_by_the_caller_is_used_as_is(sshd, tmp_path) -> None:
    pool = sshd.remote_pool()
    drivers = load_drivers_from_specs(
        [DriverSpec("hm", "a", "exec", {"SSH_PORT": "1"})],
        var_dir=str(tmp_path),
        remote_factory=pool,
    )
    assert drivers.remote is None
    assert drivers.get("hm", "a").ctx.remote("127.0.0.1").run(["echo", "hi"]).stdout == "hi\n"
    pool.close()


def test_bad_ssh_port_is_a_driver_error() -> None:
    remote = SharedRemote().factory({"SSH_PORT": "twenty-two"})
    with pytest.raises(DriverError, match="SSH_PORT"):
        remote("node1")
