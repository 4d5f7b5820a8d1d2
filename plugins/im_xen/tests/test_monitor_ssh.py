"""``im_monitor`` over a real sshd; ``xl``/``xm``/``xentop`` are stand-ins printing the fixtures.

The host script (``uname``, ``/proc/cpuinfo``) runs for real on the loopback host.
"""

from __future__ import annotations

import json
import os
import pathlib
import stat
import sys

import pytest
from one_driverkit.remote import HostSettings, RemotePool

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.errors import DriverError

FIXTURES = pathlib.Path(__file__).parent / "fixtures"

STAND_IN = r"""
import json, os, sys
here = os.path.dirname(os.path.abspath(sys.argv[0]))
with open(os.path.join(here, "calls.jsonl"), "a") as fh:
    fh.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\n")
with open(os.path.join(here, os.path.basename(sys.argv[0]) + ".out")) as fh:
    out = fh.read()
if out.startswith("FAIL"):
    sys.stderr.write(out[4:])
    sys.exit(1)
sys.stdout.write(out)
"""


@pytest.fixture
def host(tmp_path: pathlib.Path) -> pathlib.Path:
    """A directory with stand-in xl, xm and xentop printing ``<name>.out``."""
    directory = tmp_path / "hostbin"
    directory.mkdir()
    for name in ("xl", "xm", "xentop"):
        script = directory / name
        script.write_text(f"#!{sys.executable} -IS\n{STAND_IN}")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (directory / "xl.out").write_text((FIXTURES / "xl-info-xen4.11.txt").read_text())
    (directory / "xm.out").write_text((FIXTURES / "xm-info-xen4.0.txt").read_text())
    (directory / "xentop.out").write_text((FIXTURES / "xentop-b-i2-xen4.11.txt").read_text())
    return directory


def driver(pool: RemotePool, host: pathlib.Path, **section: str):
    tool = section.get("XEN_TOOL", "xl")
    config = {
        "XEN_TOOL": tool,
        "XEN_PATH": str(host / tool),
        "XENTOP_PATH": str(host / "xentop"),
        "SUDO": "",
        "POLL_DELAY": "0.5",
        **section,
    }
    drivers = load_drivers_from_specs(
        [DriverSpec(role="im", name="im_xen", driver="xen", section=config)],
        remote_factory=pool,
    )
    return drivers.get("im", "im_xen")


def calls(host: pathlib.Path) -> list[list[str]]:
    path = host / "calls.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_monitor_xl_host(pool, host) -> None:
    result = driver(pool, host).call("im_monitor", hid=1, host="node1")
    assert result["HYPERVISOR"] == "xen"
    assert result["ARCH"] == os.uname().machine
    assert result["HOSTNAME"] == os.uname().nodename
    assert result["TOTALCPU"] == 800
    assert result["CPUSPEED"] == 3392
    assert result["TOTALMEMORY"] == 32657 * 1024
    assert result["FREEMEMORY"] == 23011 * 1024
    assert result["USEDMEMORY"] == (32657 - 23011) * 1024
    assert result["USEDCPU"] == 41
    assert result["FREECPU"] == 759
    assert (result["NETTX"], result["NETRX"]) == (828, 4458)
    with open("/proc/cpuinfo") as fh:
        has_model = any(line.startswith("model name") for line in fh)
    assert ("MODELNAME" in result) == has_model
    assert calls(host) == [["xl", "info"], ["xentop", "-b", "-i", "2", "-d", "0.5"]]


def test_monitor_xm_host(pool, host) -> None:
    result = driver(pool, host, XEN_TOOL="xm").call("im_monitor", hid=1, host="node1")
    assert (result["TOTALCPU"], result["FREEMEMORY"]) == (400, 6015 * 1024)
    assert calls(host)[0] == ["xm", "info"]


def test_a_failing_probe_contributes_nothing(pool, host) -> None:
    (host / "xentop.out").write_text("FAILxentop: cannot open /proc/xen\n")
    result = driver(pool, host).call("im_monitor", hid=1, host="node1")
    assert "USEDCPU" not in result and "FREECPU" not in result
    assert result["TOTALCPU"] == 800


def test_nothing_reported_is_an_error(host) -> None:
    """No probe answers (the host refuses connections): 1.4's message, with each cause."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    unreachable = RemotePool(
        port=port, connect_timeout=2, hosts={"node1": HostSettings(hostname="127.0.0.1")}
    )
    try:
        with pytest.raises(DriverError, match=r"^Could not monitor host node1\. host: ") as info:
            driver(unreachable, host).call("im_monitor", hid=1, host="node1")
        assert "xl info: " in str(info.value) and "xentop: " in str(info.value)
    finally:
        unreachable.close()


def test_sudo_is_used_when_configured(pool, host) -> None:
    sudo = host / "sudo"
    sudo.write_text(
        f"#!{sys.executable} -IS\nimport os, sys\n"
        f"open({str(host / 'sudo.log')!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "os.execv(sys.argv[1], sys.argv[1:])\n"
    )
    sudo.chmod(0o755)
    driver(pool, host, SUDO=str(sudo)).call("im_monitor", hid=1, host="node1")
    assert (host / "sudo.log").read_text().splitlines() == [
        f"{host / 'xl'} info",
        f"{host / 'xentop'} -b -i 2 -d 0.5",
    ]
