"""``im_monitor`` over a real sshd: real figures of this machine, probe upload and re-upload."""

from __future__ import annotations

import dataclasses
import os
import platform
import socket
from pathlib import Path

import pytest
from one_driverkit.remote import RemotePool
from one_im_kvm import plugin, probes

from one_core.context import DriverContext
from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs
from one_core.errors import DriverError


@pytest.fixture
def make_driver(pool: RemotePool, tmp_path: Path):
    """A fresh ``kvm`` IM driver (empty state) whose probes go to ``tmp_path/probes``."""

    def make(**section: str) -> LoadedDriver:
        config = {"REMOTE_DIR": str(tmp_path / "probes"), "CPU_SAMPLE": "0.2", **section}
        drivers = load_drivers_from_specs(
            [DriverSpec(role="im", name="im_kvm", driver="kvm", section=config)],
            remote_factory=pool,
        )
        return drivers.get("im", "im_kvm")

    return make


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories probes were uploaded to, in order."""
    seen: list[str] = []
    real = plugin.upload

    def counting(handle, directory, bundle) -> None:
        seen.append(directory)
        real(handle, directory, bundle)

    monkeypatch.setattr(plugin, "upload", counting)
    return seen


def meminfo(name: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def interface_bytes(name: str) -> tuple[int, int]:
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        iface, _, rest = line.partition(":")
        if iface.strip() == name:
            fields = rest.split()
            return int(fields[0]), int(fields[8])
    raise KeyError(name)


def model_name() -> str | None:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip().replace('"', "")
    return None


# ---------------------------------------------------------------------------
# what the host reports
# ---------------------------------------------------------------------------


def test_reports_the_real_figures_of_this_machine(make_driver) -> None:
    driver = make_driver(NETIF="lo")
    rx_before, tx_before = interface_bytes("lo")
    info = driver.call("im_monitor", hid=1, host="node1")
    total = os.sysconf("SC_NPROCESSORS_ONLN") * 100
    assert info["HYPERVISOR"] == "kvm"
    assert info["TOTALCPU"] == total
    assert 0 <= info["FREECPU"] <= total
    assert abs(info["FREECPU"] + info["USEDCPU"] - total) < 0.11
    assert info["TOTALMEMORY"] == meminfo("MemTotal")
    assert info["FREEMEMORY"] + info["USEDMEMORY"] == info["TOTALMEMORY"]
    assert 0 < info["FREEMEMORY"] <= info["TOTALMEMORY"]
    assert info["ARCH"] == platform.machine()
    assert info["HOSTNAME"] == os.uname().nodename
    if model_name():
        assert info["MODELNAME"] == model_name()
    assert isinstance(info["CPUSPEED"], int) and info["CPUSPEED"] >= 0
    # loopback counters only grow, and the SSH traffic itself went through lo
    assert info["NETRX"] > rx_before and info["NETTX"] > tx_before
    rx_after, _ = interface_bytes("lo")
    assert info["NETRX"] <= rx_after


def test_network_defaults_to_every_interface_but_lo(make_driver) -> None:
    names = [
        line.partition(":")[0].strip()
        for line in Path("/proc/net/dev").read_text().splitlines()[2:]
    ]
    before = sum(interface_bytes(n)[0] for n in names if n != "lo")
    info = make_driver().call("im_monitor", hid=1, host="node1")
    after = sum(interface_bytes(n)[0] for n in names if n != "lo")
    assert before <= info["NETRX"] <= after


# ---------------------------------------------------------------------------
# probe upload
# ---------------------------------------------------------------------------


def test_probes_are_uploaded_once_and_kept(make_driver, uploads, tmp_path: Path) -> None:
    remote = tmp_path / "probes"
    bundle = probes.bundle()
    driver = make_driver()
    driver.call("im_monitor", hid=1, host="node1")
    assert uploads == [str(remote)]
    assert (remote / ".checksum").read_text().strip() == bundle.checksum
    for name, content in bundle.scripts.items():
        assert (remote / name).read_bytes() == content
        assert os.access(remote / name, os.X_OK)
    driver.call("im_monitor", hid=1, host="node1")
    make_driver().call("im_monitor", hid=1, host="node1")  # new process, same bundle there
    assert len(uploads) == 1


def test_changed_checksum_uploads_again(make_driver, uploads, tmp_path, monkeypatch) -> None:
    remote = tmp_path / "probes"
    make_driver().call("im_monitor", hid=1, host="node1")
    (remote / ".checksum").write_text("stale\n")
    make_driver().call("im_monitor", hid=1, host="node1")
    assert len(uploads) == 2
    # a new version of the probes (package upgrade) is uploaded by the running driver too
    driver = make_driver()
    driver.call("im_monitor", hid=1, host="node1")
    real = probes.bundle()
    scripts = dict(real.scripts, **{"name.sh": real.scripts["name.sh"] + b'echo "EXTRA=1"\n'})
    monkeypatch.setattr(
        probes, "bundle", lambda: dataclasses.replace(real, scripts=scripts, checksum="v2")
    )
    info = driver.call("im_monitor", hid=1, host="node1")
    assert info["EXTRA"] == 1
    assert len(uploads) == 3
    assert (remote / ".checksum").read_text().strip() == "v2"


def test_missing_probe_is_uploaded_again(make_driver, uploads, tmp_path: Path) -> None:
    driver = make_driver()
    driver.call("im_monitor", hid=1, host="node1")
    (tmp_path / "probes" / "kvm.sh").unlink()  # e.g. /var/tmp cleaned on the host
    info = driver.call("im_monitor", hid=1, host="node1")
    assert info["HYPERVISOR"] == "kvm"
    assert len(uploads) == 2


# ---------------------------------------------------------------------------
# failures
# ---------------------------------------------------------------------------


FAILING = b"#!/bin/sh\necho 'probe exploded' >&2\nexit 3\n"


def test_a_failing_probe_contributes_nothing(make_driver, tmp_path: Path) -> None:
    driver = make_driver()
    driver.call("im_monitor", hid=1, host="node1")
    (tmp_path / "probes" / "cpu.sh").write_bytes(FAILING)
    info = driver.call("im_monitor", hid=1, host="node1")
    assert "MODELNAME" not in info
    assert info["TOTALCPU"] > 0


def test_no_answer_at_all_is_a_driver_error_with_the_remote_stderr(make_driver, tmp_path) -> None:
    driver = make_driver()
    driver.call("im_monitor", hid=1, host="node1")
    for name in probes.PROBES:
        (tmp_path / "probes" / name).write_bytes(FAILING)
    with pytest.raises(DriverError) as err:
        driver.call("im_monitor", hid=1, host="node1")
    assert str(err.value).startswith("Could not monitor host node1.")
    assert "probe exploded" in err.value.stderr


def test_unusable_remote_dir_is_a_driver_error(make_driver) -> None:
    driver = make_driver(REMOTE_DIR="/dev/null/probes")
    with pytest.raises(DriverError) as err:
        driver.call("im_monitor", hid=1, host="node1")
    assert "Not a directory" in err.value.stderr


def test_unreachable_host(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {"SSH_PORT": str(port)}
    pool = RemotePool.from_config(config)
    ctx = DriverContext(role="im", name="im_kvm", config=config, remote_factory=pool)
    with pytest.raises(DriverError, match="cannot connect"):
        plugin.im_monitor(ctx, hid=1, host="127.0.0.1")
    pool.close()
