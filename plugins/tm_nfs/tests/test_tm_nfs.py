"""The ``nfs`` transfer driver: everything local, paths under VM_DIR fixed to the var dir."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from one_tm_nfs import plugin

from one_core.context import DriverContext
from one_core.drivers import DriverSpec, LoadedDriver, load_drivers_from_specs
from one_core.errors import DriverError

VM_DIR = "/srv/cloud/one/var/"
"""VM_DIR as the hosts see it; it does not exist here, so every write must be fixed."""


@pytest.fixture
def nfs(tmp_path: Path) -> LoadedDriver:
    logged: list[str] = []
    drivers = load_drivers_from_specs(
        [DriverSpec(role="tm", name="tm_nfs", driver="nfs")],
        var_dir=str(tmp_path / "var") + "/",
        vm_dir=VM_DIR,
        vm_log_func=lambda vid, module, level, message: logged.append(message),
    )
    driver = drivers.get("tm", "tm_nfs")
    driver.ctx.state["logged"] = logged
    return driver


def rdir(vid: int = 5) -> str:
    return f"{VM_DIR}{vid}/images"


def local(tmp_path: Path, vid: int = 5) -> Path:
    return tmp_path / "var" / str(vid) / "images"


def image(path: Path, size: int = 5000) -> bytes:
    data = os.urandom(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def clone(nfs: LoadedDriver, src: str, name: str, size: str | None = None) -> None:
    """``tm_clone`` for VM 5 of ``src`` to ``node1:<rdir>/<name>``."""
    nfs.call("tm_clone", vid=5, src=src, dst=f"node1:{rdir()}/{name}", size=size)


# ---------------------------------------------------------------------------
# fix_paths
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vm_dir", "path", "expected"),
    [
        ("/srv/one/", "/srv/one/5/images", "/var/lib/one/5/images"),
        ("/srv/one", "/srv/one/5/images", "/var/lib/one/5/images"),
        ("/srv/one", "/srv/one", "/var/lib/one"),
        ("/srv/one", "/srv/oneX/5", "/srv/oneX/5"),  # not at a component boundary
        ("/srv/one", "/images/srv/one/x", "/images/srv/one/x"),  # not at the start
        ("/var/lib/one/", "/var/lib/one//5/images", "/var/lib/one//5/images"),  # default VM_DIR
        ("", "/a/b", "/a/b"),
    ],
)
def test_fix_path(vm_dir: str, path: str, expected: str) -> None:
    ctx = DriverContext(role="tm", name="nfs", var_dir="/var/lib/one/", vm_dir=vm_dir)
    assert plugin.fix_path(ctx, path) == expected


def test_local_dir_setting() -> None:
    ctx = DriverContext(
        role="tm",
        name="nfs",
        var_dir="/var/lib/one",
        vm_dir="/srv/one",
        config={"LOCAL_DIR": "/mnt/"},
    )
    assert plugin.fix_path(ctx, "/srv/one/5") == "/mnt/5"


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------


def test_clone_copies_under_the_local_mount(nfs: LoadedDriver, tmp_path: Path) -> None:
    data = image(tmp_path / "images" / "base.img")
    clone(nfs, f"front:{tmp_path}/images/base.img", "disk.0", size="10")
    dst = local(tmp_path) / "disk.0"
    assert dst.read_bytes() == data
    assert dst.stat().st_mode & 0o222 == 0o222
    assert dst.parent.stat().st_mode & 0o222 == 0o222  # chmod a+w on the directory


def test_clone_source_under_vm_dir_is_fixed_too(nfs: LoadedDriver, tmp_path: Path) -> None:
    data = image(tmp_path / "var" / "4" / "images" / "disk.0")
    clone(nfs, f"node9:{VM_DIR}4/images/disk.0", "disk.0")
    assert (local(tmp_path) / "disk.0").read_bytes() == data


def test_ln_is_a_symlink_to_the_unfixed_source(nfs: LoadedDriver, tmp_path: Path) -> None:
    nfs.call(
        "tm_ln", vid=5, src="front:/nfs/images/base.img", dst=f"node1:{rdir()}/disk.0", size=None
    )
    link = local(tmp_path) / "disk.0"
    assert link.is_symlink() and os.readlink(link) == "/nfs/images/base.img"
    nfs.call(
        "tm_ln", vid=5, src="front:/nfs/images/other.img", dst=f"node1:{rdir()}/disk.0", size=None
    )
    assert os.readlink(link) == "/nfs/images/other.img"  # repeated: replaced


def test_mkswap_and_mkimage(nfs: LoadedDriver, tmp_path: Path) -> None:
    nfs.call("tm_mkswap", vid=5, size="8", dst=f"node1:{rdir()}/disk.1")
    swap = local(tmp_path) / "disk.1"
    assert swap.stat().st_size == 8 * 1024 * 1024
    assert swap.read_bytes()[4086:4096] == b"SWAPSPACE2"
    nfs.call("tm_mkimage", vid=5, size="8", fstype="ext2", dst=f"node1:{rdir()}/disk.2")
    fs = local(tmp_path) / "disk.2"
    assert fs.read_bytes()[1080:1082] == b"\x53\xef"
    with pytest.raises(DriverError, match="invalid image size"):
        nfs.call("tm_mkswap", vid=5, size="8; touch x", dst=f"node1:{rdir()}/disk.3")


def test_mv_of_a_directory_is_a_no_op(nfs: LoadedDriver, tmp_path: Path) -> None:
    data = image(local(tmp_path) / "disk.0")
    # stop, resume and migrate move nothing on shared storage
    nfs.call("tm_mv", vid=5, src=f"node1:{rdir()}", dst=f"front:{tmp_path}/var/5")
    nfs.call("tm_mv", vid=5, src=f"node1:{rdir()}", dst=f"node2:{rdir()}")
    assert (local(tmp_path) / "disk.0").read_bytes() == data
    logged = nfs.ctx.state["logged"]
    assert "tm_mv: Will not move, is not saving image" in logged
    assert "tm_mv: Will not move, source and destination are equal" in logged


def test_mv_of_a_saved_disk_moves_it(nfs: LoadedDriver, tmp_path: Path) -> None:
    data = image(local(tmp_path) / "disk.0")
    saved = tmp_path / "var" / "5" / "disk.0"
    nfs.call("tm_mv", vid=5, src=f"node1:{rdir()}/disk.0", dst=f"front:{saved}")
    assert saved.read_bytes() == data
    assert not (local(tmp_path) / "disk.0").exists()
    nfs.call("tm_mv", vid=5, src=f"node1:{rdir()}/disk.0", dst=f"front:{saved}")  # repeated


def test_delete_is_idempotent(nfs: LoadedDriver, tmp_path: Path) -> None:
    image(local(tmp_path) / "disk.0")
    nfs.call("tm_delete", vid=5, path=f"node1:{rdir()}")
    assert not local(tmp_path).exists()
    nfs.call("tm_delete", vid=5, path=f"node1:{rdir()}")
    with pytest.raises(DriverError, match="refusing"):
        nfs.call("tm_delete", vid=5, path="node1:/")


def test_context_copies_the_iso(nfs: LoadedDriver, tmp_path: Path) -> None:
    data = image(tmp_path / "var" / "5" / "context.iso")
    nfs.call(
        "tm_context",
        vid=5,
        sources=[f"{tmp_path}/var/5/context.sh"],
        dst=f"node1:{rdir()}/disk.1",
        iso=f"{tmp_path}/var/5/context.iso",
    )
    assert (local(tmp_path) / "disk.1").read_bytes() == data


def test_context_without_iso_is_built_here(nfs: LoadedDriver, tmp_path: Path) -> None:
    sh = tmp_path / "var" / "5" / "context.sh"
    sh.parent.mkdir(parents=True)
    sh.write_text("A=1\n")
    nfs.call("tm_context", vid=5, sources=[str(sh)], dst=f"node1:{rdir()}/disk.1", iso="")
    data = (local(tmp_path) / "disk.1").read_bytes()
    assert data[32769:32774] == b"CD001"  # ISO9660 primary volume descriptor


def test_metacharacters_in_paths_stay_data(nfs: LoadedDriver, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    mark = f"pwned-{uuid.uuid4().hex[:8]}"
    name = f"a; touch {mark} $(touch {mark}b) `touch {mark}c`"
    data = image(tmp_path / "images" / name)
    clone(nfs, f"front:{tmp_path}/images/{name}", name)
    assert (local(tmp_path) / name).read_bytes() == data
    nfs.call("tm_ln", vid=5, src=f"front:/x/{name}", dst=f"node1:{rdir()}/l {name}", size=None)
    nfs.call("tm_delete", vid=5, path=f"node1:{rdir()}/{name}")
    for directory in (tmp_path, Path.home(), Path("/tmp")):
        assert not list(directory.glob(f"{mark}*"))


def test_entry_point_is_installed() -> None:
    from one_core.drivers import installed

    assert any(ep.name == "nfs" and ep.value == "one_tm_nfs.plugin" for ep in installed("tm"))
