"""The ``ssh`` transfer driver against a real sshd on loopback.

``front`` locations are handled locally, ``node1`` and ``node2`` go over
SSH (both reach the test sshd, each working in its own directory).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
import uuid
from pathlib import Path

import pytest
from one_driverkit.remote import LocalHost
from one_tm_ssh import ops, plugin

from one_core.context import DriverContext
from one_core.errors import DriverError

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def image(path: Path, size: int = 300_000) -> bytes:
    data = os.urandom(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def marker() -> str:
    return f"pwned-{uuid.uuid4().hex[:8]}"


def assert_not_created(name: str, *dirs: Path) -> None:
    for directory in {Path.home(), Path.cwd(), Path("/tmp"), *dirs}:
        assert not list(directory.glob(f"{name}*")), f"{name} created in {directory}"


def nasty_name(mark: str) -> str:
    """A file name that runs ``touch`` if it ever reaches a shell unquoted."""
    return f"img; touch {mark}a $(touch {mark}b) `touch {mark}c` ' \" *"


@pytest.fixture
def http_root(tmp_path: Path):
    """A static HTTP server on loopback serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------
# CLONE / LN
# ---------------------------------------------------------------------------


def test_clone_from_the_front_end(world) -> None:
    src = world.root / "front" / "base.img"
    data = image(src)
    dst = world.root / "n1" / "7" / "images" / "disk.0"
    world.call("tm_clone", src=f"front:{src}", dst=f"node1:{dst}", size=None)
    assert dst.read_bytes() == data
    assert dst.stat().st_mode & 0o222 == 0o222  # chmod a+w
    assert not list(dst.parent.glob("*.one-part"))
    assert any("Cloning front:" in m for _, m in world.vm_log)


@pytest.mark.parametrize(
    ("hook", "src", "dst", "size"),
    [
        # between two hosts, and LN is a copy
        ("tm_ln", "node2:{root}/n2/images/base.img", "node1:{root}/n1/7/images/disk.1", "512"),
        # on the same host
        ("tm_clone", "node1:{root}/n1/base.img", "node1:{root}/n1/7/images/disk.0", None),
        # to the front-end: local
        ("tm_clone", "{root}/front/a.img", "localhost:{root}/front/7/images/disk.0", None),
    ],
)
def test_copy_between_locations(world, hook: str, src: str, dst: str, size: str | None) -> None:
    src, dst = src.format(root=world.root), dst.format(root=world.root)
    src_path, dst_path = Path(src.rpartition(":")[2]), Path(dst.rpartition(":")[2])
    data = image(src_path)
    world.call(hook, src=src, dst=dst, size=size)
    assert dst_path.read_bytes() == data
    assert not dst_path.is_symlink()
    assert src_path.exists()


def test_shell_metacharacters_in_the_source_are_never_run(world) -> None:
    mark = marker()
    src = world.root / "front" / nasty_name(mark)
    data = image(src, 5000)
    remote_src = world.root / "n2" / nasty_name(mark)
    image(remote_src, 10)
    dst = world.root / "n1" / "7" / "images" / "disk.0"
    world.call("tm_clone", src=f"front:{src}", dst=f"node1:{dst}", size=f"1; touch {mark}d")
    assert dst.read_bytes() == data
    world.call("tm_clone", src=f"node2:{remote_src}", dst=f"node1:{dst}", size=None)
    nasty_dst = world.root / "n1" / "7" / nasty_name(mark)
    world.call("tm_clone", src=f"front:{src}", dst=f"node1:{nasty_dst}", size=None)
    assert nasty_dst.read_bytes() == data
    assert_not_created(mark, world.root, world.root / "n1" / "7")


def test_clone_of_a_url_downloads_on_the_host(world, http_root) -> None:
    root, url = http_root
    data = image(root / "base.img", 70_000)
    mark = marker()
    dst = world.root / "n1" / "7" / "images" / "disk.0"
    world.call("tm_clone", src=f"{url}/base.img?$(touch {mark})", dst=f"node1:{dst}", size=None)
    assert dst.read_bytes() == data
    assert_not_created(mark, world.root)


def test_failed_download_leaves_nothing(world, http_root) -> None:
    _, url = http_root
    dst = world.root / "n1" / "7" / "images" / "disk.0"
    with pytest.raises(DriverError):
        world.call("tm_clone", src=f"{url}/missing.img", dst=f"node1:{dst}", size=None)
    assert not list(dst.parent.iterdir())


def test_clone_of_a_missing_source_fails_and_leaves_nothing(world) -> None:
    dst = world.root / "n1" / "7" / "images" / "disk.0"
    with pytest.raises(DriverError) as err:
        world.call("tm_clone", src=f"front:{world.root}/nope.img", dst=f"node1:{dst}", size=None)
    assert "nope.img" in str(err.value)
    assert not list(dst.parent.glob("*"))


# ---------------------------------------------------------------------------
# MKSWAP / MKIMAGE
# ---------------------------------------------------------------------------


def test_mkswap_makes_a_sparse_swap_file(world) -> None:
    dst = world.root / "n1" / "7" / "images" / "disk.1"
    world.call("tm_mkswap", size="64", dst=f"node1:{dst}")
    info = dst.stat()
    assert info.st_size == 64 * 1024 * 1024
    assert info.st_blocks * 512 < info.st_size // 4  # sparse
    with dst.open("rb") as fh:
        fh.seek(4096 - 10)
        assert fh.read(10) == b"SWAPSPACE2"
    assert info.st_mode & 0o222 == 0o222


def test_mkimage_makes_a_file_system(world) -> None:
    dst = world.root / "n1" / "7" / "images" / "disk.2"
    world.call("tm_mkimage", size="16", fstype="ext4", dst=f"node1:{dst}")
    assert dst.stat().st_size == 16 * 1024 * 1024
    with dst.open("rb") as fh:
        fh.seek(1080)
        assert fh.read(2) == b"\x53\xef"  # ext2/3/4 magic
    assert dst.stat().st_mode & 0o666 == 0o666


@pytest.mark.parametrize(
    "size", ["", "0", "-5", "1.5", "²", "+3", "1; touch {m}", "$(touch {m})", "1 2"]
)
def test_bad_sizes_are_refused_before_anything_runs(world, size: str) -> None:
    mark = marker()
    dst = world.root / "n1" / "7" / "images" / "disk.1"
    with pytest.raises(DriverError, match="invalid image size"):
        world.call("tm_mkswap", size=size.format(m=mark), dst=f"node1:{dst}")
    with pytest.raises(DriverError, match="invalid image size"):
        world.call("tm_mkimage", size=size.format(m=mark), fstype="ext4", dst=f"node1:{dst}")
    assert not dst.parent.exists()
    assert_not_created(mark, world.root)


@pytest.mark.parametrize("fstype", ["", "ext4 -E x", "-F", "ext4;touch x", "$(x)"])
def test_bad_fstypes_are_refused(world, fstype: str) -> None:
    dst = world.root / "n1" / "7" / "images" / "disk.1"
    with pytest.raises(DriverError, match="invalid file system type"):
        world.call("tm_mkimage", size="8", fstype=fstype, dst=f"node1:{dst}")
    assert not dst.parent.exists()


def test_mkfs_failure_carries_the_remote_stderr(world) -> None:
    dst = world.root / "n1" / "7" / "images" / "disk.1"
    with pytest.raises(DriverError) as err:
        world.call("tm_mkimage", size="8", fstype="nosuchfs", dst=f"node1:{dst}")
    assert err.value.exit_code not in (None, 0)
    assert err.value.stderr


# ---------------------------------------------------------------------------
# MV per phase
# ---------------------------------------------------------------------------


def _images(world, host_dir: str) -> tuple[Path, dict[str, bytes]]:
    rdir = world.root / host_dir / "7" / "images"
    files = {name: image(rdir / name, 20_000 + i) for i, name in enumerate(["disk.0", "disk.1"])}
    return rdir, files


def _contents(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_stop_then_resume_moves_the_images_dir_through_the_front_end(world) -> None:
    rdir, files = _images(world, "n1")
    local = world.dir("var/7")  # VAR<vid> exists on the front-end
    # stop: MV node:<rdir> front:VAR<vid>  ->  VAR<vid>/images
    world.call("tm_mv", src=f"node1:{rdir}", dst=f"front:{local}")
    assert _contents(local / "images") == files
    assert not rdir.exists()
    # resume: MV front:VAR<vid>/images node:<rdir>
    world.call("tm_mv", src=f"front:{local}/images", dst=f"node1:{rdir}")
    assert _contents(rdir) == files
    assert not (local / "images").exists()
    assert not list(rdir.parent.glob(".one-mv.*"))


def test_repeated_moves_succeed_without_nesting(world) -> None:
    rdir, files = _images(world, "n1")
    local = world.dir("var/7")
    world.call("tm_mv", src=f"node1:{rdir}", dst=f"front:{local}")
    world.call("tm_mv", src=f"node1:{rdir}", dst=f"front:{local}")  # recovery repeats it
    assert _contents(local / "images") == files
    # a resume onto a stale images dir replaces it instead of nesting images/images
    rdir.mkdir(parents=True)
    (rdir / "stale").write_text("old")
    world.call("tm_mv", src=f"front:{local}/images", dst=f"node1:{rdir}")
    assert _contents(rdir) == files
    world.call("tm_mv", src=f"front:{local}/images", dst=f"node1:{rdir}")
    assert _contents(rdir) == files


def test_cold_migration_relays_host_to_host_and_keeps_images_sparse(world) -> None:
    rdir, files = _images(world, "n1")
    world.call("tm_mkswap", size="16", dst=f"node1:{rdir}/disk.2")
    target = world.root / "n2" / "7" / "images"
    world.call("tm_mv", src=f"node1:{rdir}", dst=f"node2:{target}")
    assert not rdir.exists()
    moved = _contents(target)
    assert {k: moved[k] for k in files} == files
    swap = (target / "disk.2").stat()
    assert swap.st_size == 16 * 1024 * 1024
    assert swap.st_blocks * 512 < swap.st_size // 4


def test_saved_disk_moves_to_the_front_end(world) -> None:
    rdir, files = _images(world, "n1")
    saved = world.root / "var" / "7" / "disk.0"
    world.call("tm_mv", src=f"node1:{rdir}/disk.0", dst=f"front:{saved}")
    assert saved.read_bytes() == files["disk.0"]
    assert not (rdir / "disk.0").exists()
    assert (rdir / "disk.1").exists()


def test_move_on_one_host_and_equal_paths(world) -> None:
    rdir, files = _images(world, "n1")
    other = world.root / "n1" / "elsewhere" / "images"
    world.call("tm_mv", src=f"node1:{rdir}", dst=f"node1:{other}")
    assert _contents(other) == files and not rdir.exists()
    world.call("tm_mv", src=f"node1:{other}", dst=f"node1:{other}/")
    assert _contents(other) == files
    assert any("source and destination are equal" in m for _, m in world.vm_log)


def test_move_of_a_missing_source_fails(world) -> None:
    with pytest.raises(DriverError, match="no such file"):
        world.call("tm_mv", src=f"node1:{world.root}/none", dst=f"node2:{world.root}/n2/x")


def test_move_with_metacharacters_in_paths(world) -> None:
    mark = marker()
    src = world.root / "n1" / nasty_name(mark) / "images"
    data = image(src / "disk.0", 1000)
    dst = world.root / "n2" / nasty_name(mark) / "images"
    world.call("tm_mv", src=f"node1:{src}", dst=f"node2:{dst}")
    assert (dst / "disk.0").read_bytes() == data
    assert_not_created(mark, world.root, world.root / "n1", world.root / "n2")


# ---------------------------------------------------------------------------
# DELETE / CONTEXT
# ---------------------------------------------------------------------------


def test_delete_is_recursive_and_idempotent(world) -> None:
    rdir, _ = _images(world, "n1")
    world.call("tm_delete", path=f"node1:{rdir}")
    assert not rdir.exists()
    world.call("tm_delete", path=f"node1:{rdir}")  # already gone: fine
    with pytest.raises(DriverError, match="refusing"):
        world.call("tm_delete", path="node1:/")
    with pytest.raises(DriverError, match="refusing"):
        world.call("tm_delete", path="node1:relative/path")


def test_context_copies_the_iso(world) -> None:
    iso = world.root / "var" / "7" / "context.iso"
    data = image(iso, 4096)
    dst = world.root / "n1" / "7" / "images" / "disk.3"
    sources = [str(world.root / "var" / "7" / "context.sh")]
    world.call("tm_context", sources=sources, dst=f"node1:{dst}", iso=str(iso))
    assert dst.read_bytes() == data
    with pytest.raises(DriverError, match="no such file"):
        world.call("tm_context", sources=sources, dst=f"node1:{dst}", iso="")


def test_context_without_an_iso_builds_one_from_the_sources(world) -> None:
    import pycdlib

    folder = world.dir("var/7")
    (folder / "context.sh").write_text('HOSTNAME="vm7"\n')
    (folder / "init.sh").write_text("echo hi\n")
    dst = world.root / "n1" / "7" / "images" / "disk.1"
    sources = [str(folder / "context.sh"), f"front:{folder}/init.sh"]
    world.call("tm_context", sources=sources, dst=f"node1:{dst}", iso="")
    iso = pycdlib.PyCdlib()
    iso.open(str(dst))
    try:
        names = {
            child.rock_ridge.name() for child in iso.list_children(rr_path="/") if child.rock_ridge
        }
    finally:
        iso.close()
    assert {"context.sh", "init.sh"} <= {n.decode() if isinstance(n, bytes) else n for n in names}
    # URL entries of FILES are downloaded into the image (the core no longer builds it)
    with pytest.raises(DriverError, match="could not download http://x.invalid/y"):
        world.call("tm_context", sources=["http://x.invalid/y"], dst=f"node1:{dst}", iso="")


# ---------------------------------------------------------------------------
# connections and configuration
# ---------------------------------------------------------------------------


def test_the_shared_pool_uses_the_section_keys(sshd, tmp_path: Path) -> None:
    from one_core.drivers import DriverSpec, load_drivers_from_specs

    section = {"SSH_USER": sshd.user, "SSH_PORT": str(sshd.port), "SSH_KEY": sshd.key_filename}
    drivers = load_drivers_from_specs([DriverSpec("tm", "tm_ssh", "ssh", section)])
    src = tmp_path / "a.img"
    data = image(src, 100)
    dst = tmp_path / "node" / "disk.0"
    drivers.get("tm", "tm_ssh").call(
        "tm_clone", vid=1, src=f"localhost:{src}", dst=f"127.0.0.1:{dst}", size=None
    )
    assert dst.read_bytes() == data
    assert drivers.remote is not None and drivers.remote.started
    drivers.stop()
    assert not drivers.remote.started


def test_unreachable_host_is_a_driver_error(tmp_path: Path) -> None:
    import socket

    from one_driverkit.remote import RemotePool

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {"SSH_PORT": str(port), "SSH_TIMEOUT": "2"}
    ctx = DriverContext(
        role="tm", name="tm_ssh", config=config, remote_factory=RemotePool.from_config(config)
    )
    with pytest.raises(DriverError, match="cannot connect"):
        plugin.tm_delete(ctx, vid=1, path=f"127.0.0.1:{tmp_path}/x")


def test_front_end_names() -> None:
    ctx = DriverContext(role="tm", name="ssh", front="oned1", config={"front_aliases": "a, b"})
    assert plugin.front_names(ctx) == {"oned1", "localhost", "a", "b"}
    assert plugin.endpoint_key(ctx, "") == plugin.FRONT
    assert plugin.endpoint_key(ctx, "b") == plugin.FRONT
    assert plugin.endpoint_key(ctx, "node1") == "node1"


def test_move_target_rules(tmp_path: Path) -> None:
    host = LocalHost()
    (tmp_path / "var" / "7").mkdir(parents=True)
    (tmp_path / "n" / "images").mkdir(parents=True)
    target = ops.move_target(host, "/x/7/images", str(tmp_path / "var" / "7"))
    assert target == f"{tmp_path}/var/7/images"  # into an existing directory (scp -r)
    same = ops.move_target(host, "/x/images", str(tmp_path / "n" / "images"))
    assert same == f"{tmp_path}/n/images"  # same name: replaced, never nested
    assert ops.move_target(host, "/x/disk.0", str(tmp_path / "new")) == f"{tmp_path}/new"


def test_entry_point_is_installed() -> None:
    from one_core.drivers import installed

    assert any(ep.name == "ssh" and ep.value == "one_tm_ssh.plugin" for ep in installed("tm"))


def test_local_host_run_reports_failures() -> None:
    host = LocalHost("front")
    assert host.run(["printf", "%s", "a b"]).stdout == "a b"
    with pytest.raises(DriverError) as err:
        host.run(["sh", "-c", "echo boom >&2; exit 3"])
    assert err.value.exit_code == 3 and "boom" in err.value.stderr
    with pytest.raises(DriverError, match="cannot run"):
        host.run(["/no/such/program"])
